"""Every write of collective workshops (ateliers).

A session's seats are a booking.Resource of kind workshop, made bookable exactly at the
session's hours by an AvailabilityRule valid that day only (as tour stops do). Registrations
are bookings of that resource, one participant each, made by booking_create: the capacity is
the engine's guarantee (locks, PostgreSQL constraint), the confirmation and the reminder go by
SMS (or e-mail, or a letter for an account holder who prefers it) through booking's
notifications, and a freed seat is offered to the waiting list by booking/waitlist.py.

Attendance is taken on the spot: each registrant is marked present or absent (booking's
attended / no-show transitions), people who came without registering are added as walk-ins.
A mark may be corrected (present ↔ absent) or undone until the session is closed (booking's
booking_attendance_correct); closing records the collective activity report once, from the
marks of that moment, and freezes them: the session's row is locked by both, so a correction
and the closing never cross.
Every refusal is a French message (BookingRuleError 422, BookingForbidden 403) and writes
nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking import services as booking_services
from cybercantal.booking import waitlist as booking_waitlist
from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError
from cybercantal.booking.models import AvailabilityRule, Booking, Resource, WaitingListEntry
from cybercantal.booking.services import PersonDetails
from cybercantal.core.audit import audit_log
from cybercantal.core.notifications.sms import normalize_phone

from ..activity_vocabulary import THEMES
from ..models import Activity, Beneficiary, WorkshopSession, WorkshopWalkIn
from ..structures import is_mediator_of
from .activities import activity_record

MAX_CAPACITY = 200
MIN_MINUTES, MAX_MINUTES = 15, 600  # an activity report lasts 10 hours at most
# Registrations stay open until the session starts; the public may cancel until then too.
CANCELLATION_DEADLINE_HOURS = 2
REMINDER_HOURS = 24
# Attendance may be taken a little before the start (people arrive early).
ATTENDANCE_OPENS_BEFORE = dt.timedelta(minutes=30)


def _check_mediator(actor, organisation) -> None:
    if not is_mediator_of(actor, organisation):
        raise BookingForbidden(_("Seuls les médiateurs de cette structure gèrent ses ateliers."))


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _minutes(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _check_session_fields(*, title, theme, level, start, end, capacity, now) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise BookingRuleError(_("Indiquez le titre de l'atelier."))
    if len(title) > 200:
        raise BookingRuleError(_("Le titre est trop long (200 caractères au plus)."))
    if theme not in THEMES:
        raise BookingRuleError(
            _("Thématique inconnue : %(value)s.") % {"value": str(theme or "")[:40]}
        )
    if level not in Activity.Level.values:
        raise BookingRuleError(_("Niveau inconnu : choisissez débutant, intermédiaire ou avancé."))
    if start.tzinfo is None or end.tzinfo is None:
        raise BookingRuleError(_("Les dates doivent indiquer leur fuseau horaire."))
    if end <= start:
        raise BookingRuleError(_("La fin de la séance doit être après son début."))
    if start <= now:
        raise BookingRuleError(_("Cette date est passée : choisissez une date à venir."))
    if _local(start).date() != _local(end).date():
        raise BookingRuleError(_("Une séance commence et finit le même jour."))
    if not MIN_MINUTES <= _minutes(start, end) <= MAX_MINUTES:
        raise BookingRuleError(_("Une séance dure de 15 minutes à 10 heures."))
    if capacity is None or int(capacity) < 1:
        raise BookingRuleError(_("Un atelier accueille au moins une personne."))
    if int(capacity) > MAX_CAPACITY:
        raise BookingRuleError(
            _("Un atelier accueille %(max)d personnes au plus.") % {"max": MAX_CAPACITY}
        )
    return title


def _open_for_the_session(resource: Resource, *, place, start, end) -> None:
    """The rule that makes the resource bookable at the session's hours, that day only."""
    local_start, local_end = _local(start), _local(end)
    AvailabilityRule.objects.create(  # bumps the resource's rules_version (rules_cache)
        resource=resource,
        weekday=local_start.weekday(),
        start_time=local_start.time(),
        end_time=local_end.time(),
        valid_from=local_start.date(),
        valid_until=local_start.date(),
        place=place,
    )


def workshop_create(
    *,
    actor,
    organisation,
    title: str,
    theme: str,
    level: str,
    place,
    start: dt.datetime,
    end: dt.datetime,
    capacity: int | None = None,
    description: str = "",
    resource: Resource | None = None,
    now: dt.datetime | None = None,
) -> WorkshopSession:
    """A new workshop session of `organisation` (the actor must be one of its mediators).

    Its seats are `resource` (a workshop resource of the structure: `capacity` is then its
    capacity) or a workshop resource created for it. Refused: a past date, a session over
    several days, an unknown theme or level, no seat, or a resource already used then."""
    now = now or timezone.now()
    _check_mediator(actor, organisation)
    if resource is not None:
        if resource.kind != Resource.Kind.WORKSHOP or resource.organisation_id != organisation.pk:
            raise BookingRuleError(_("Choisissez un atelier de votre structure."))
        if capacity is None:
            capacity = resource.capacity
        elif int(capacity) != resource.capacity:
            raise BookingRuleError(
                _("Cet atelier compte %(count)d places : c'est sa capacité.")
                % {"count": resource.capacity}
            )
    title = _check_session_fields(
        title=title, theme=theme, level=level, start=start, end=end, capacity=capacity, now=now
    )
    if place is None:
        raise BookingRuleError(_("Indiquez le lieu de l'atelier."))
    minutes = _minutes(start, end)
    with transaction.atomic():
        if resource is None:
            resource = Resource.objects.create(
                name=title,
                kind=Resource.Kind.WORKSHOP,
                description=(description or "").strip(),
                place=place,
                organisation=organisation,
                capacity=int(capacity),
                slot_minutes=5,
                min_duration_minutes=minutes,
                max_duration_minutes=minutes,
                min_notice_minutes=0,
                horizon_days=max(90, (start - now).days + 2),
                cancellation_deadline_hours=CANCELLATION_DEADLINE_HOURS,
                bookable_by=Resource.BookableBy.ANYONE,
                observes_public_holidays=False,  # the session is dated on purpose
                reminder_hours_before=REMINDER_HOURS,
            )
        else:
            resource = Resource.objects.select_for_update().get(pk=resource.pk)
            if WorkshopSession.objects.filter(
                resource=resource, start__lt=end, end__gt=start
            ).exists():
                raise BookingRuleError(_("Cet atelier a déjà une séance à ces heures-là."))
            if not resource.min_duration_minutes <= minutes <= resource.max_duration_minutes:
                raise BookingRuleError(
                    _("Une séance de cet atelier dure de %(min)d à %(max)d minutes.")
                    % {
                        "min": resource.min_duration_minutes,
                        "max": resource.max_duration_minutes,
                    }
                )
        _open_for_the_session(resource, place=place, start=start, end=end)
        session = WorkshopSession.objects.create(
            organisation=organisation,
            resource=resource,
            title=title,
            description=(description or "").strip(),
            theme=theme,
            level=level,
            place=place,
            start=start,
            end=end,
            capacity=int(capacity),
            created_by=actor,
        )
        audit_log(actor=actor, action="mediation.workshop_create", target=session)
    return session


# --- Registration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """The outcome of a registration: a seat (`booking`), or a place on the waiting list
    (`waiting`) when the session is full."""

    booking: Booking | None = None
    waiting: WaitingListEntry | None = None

    @property
    def is_waiting(self) -> bool:
        return self.booking is None and self.waiting is not None


def session_bookings(session: WorkshopSession):
    """The bookings of the session's seats (any status): bookings of its resource at its hours."""
    return Booking.objects.filter(
        allocations__resource_id=session.resource_id, start=session.start, end=session.end
    ).distinct()


def seats_taken(session: WorkshopSession) -> int:
    """Seats held: registrations (marked or not) and the waiting list's pending offers."""
    return session_bookings(session).filter(status__in=Booking.ACTIVE_STATUSES).count()


def _check_open(session: WorkshopSession, now: dt.datetime) -> None:
    if session.closed_at is not None or session.start <= now:
        raise BookingRuleError(_("Cette séance est passée : les inscriptions sont closes."))


def _already_registered(session: WorkshopSession, *, for_user, person) -> bool:
    active = session_bookings(session).filter(
        status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED)
    )
    if for_user is not None:
        return active.filter(user=for_user).exists()
    try:
        phone = normalize_phone(person.phone or "")
    except ValueError:
        return False  # booking_create refuses the number with its own message
    return active.filter(person_phone=phone).exists()


def workshop_register(
    *,
    actor,
    session: WorkshopSession,
    person: PersonDetails | None = None,
    for_user=None,
    channel: str = Booking.Channel.WEB,
    waitlist: bool = True,
    now: dt.datetime | None = None,
) -> Registration:
    """Register one participant: an account holder (`for_user`, by default the actor), or a
    person without an account (`person`: a name and a phone; the public page confirms the
    phone by an SMS code first; an agent of the structure registers from a phone call).

    When the session is full, the person is put on its waiting list (`waitlist`, a mobile
    number or an e-mail being needed to offer a freed seat in time); without `waitlist`,
    BookingConflict (409). A second registration of the same person is refused."""
    now = now or timezone.now()
    _check_open(session, now)
    holder = for_user if for_user is not None else (None if person is not None else actor)
    if holder is not None and not getattr(holder, "is_authenticated", False):
        holder = None
    if holder is None and person is None:
        raise BookingRuleError(_("Indiquez le nom et le numéro de téléphone de la personne."))
    if _already_registered(session, for_user=holder, person=person):
        raise BookingRuleError(_("Cette personne est déjà inscrite à cet atelier."))
    try:
        booking = booking_services.booking_create(
            actor=actor,
            resources=[session.resource],
            start=session.start,
            end=session.end,
            for_user=holder if person is None else None,
            person=person,
            channel=channel,
            participants=1,
            now=now,
        )
    except BookingConflict:
        if not waitlist:
            raise
        entry = booking_waitlist.waitlist_join(
            actor=actor,
            resource=session.resource,
            window_start=session.start,
            window_end=session.end,
            duration=session.end - session.start,
            for_user=holder if person is None else None,
            person=person,
            now=now,
        )
        audit_log(actor=actor, action="mediation.workshop_waitlist", target=session)
        return Registration(waiting=entry)
    audit_log(
        actor=actor,
        action="mediation.workshop_register",
        target=session,
        data={"booking": booking.pk},
    )
    return Registration(booking=booking)


# --- Attendance, on the spot ---------------------------------------------------------------------


def _check_attendance_open(session: WorkshopSession, now: dt.datetime) -> None:
    if session.closed_at is not None:
        raise BookingRuleError(
            _(
                "Cet atelier est clôturé : son compte rendu est enregistré, l'appel ne peut "
                "plus être modifié."
            )
        )
    if now < session.start - ATTENDANCE_OPENS_BEFORE:
        raise BookingRuleError(_("L'appel se fait au moment de l'atelier, pas avant."))


def _lock_open_session(session: WorkshopSession, now: dt.datetime) -> WorkshopSession:
    """The session's row, locked until the end of the transaction, once checked still open
    (workshop_close takes the same lock)."""
    session = WorkshopSession.objects.select_for_update().get(pk=session.pk)
    _check_attendance_open(session, now)
    return session


def _set_attendance(
    *, actor, session: WorkshopSession, booking: Booking, wanted: str, now
) -> Booking:
    now = now or timezone.now()
    _check_mediator(actor, session.organisation)
    with transaction.atomic():
        session = _lock_open_session(session, now)
        if not session_bookings(session).filter(pk=booking.pk).exists():
            raise BookingRuleError(_("Cette personne n'est pas inscrite à cet atelier."))
        booking.refresh_from_db()
        before = booking.status
        if before == wanted:
            return booking
        # The engine refuses a mark before the start; attendance opens a little earlier.
        mark_at = max(now, session.start)
        if before == Booking.Status.CONFIRMED:
            mark = (
                booking_services.booking_mark_attended
                if wanted == Booking.Status.ATTENDED
                else booking_services.booking_mark_no_show
            )
            return mark(actor=actor, booking=booking, now=mark_at)
        if before not in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW):
            raise BookingRuleError(
                _("%(name)s ne peut pas être noté(e) : son inscription est « %(status)s ».")
                % {"name": booking.display_name, "status": booking.get_status_display()}
            )
        booking = booking_services.booking_attendance_correct(
            actor=actor, booking=booking, to_status=wanted, now=mark_at
        )
        audit_log(
            actor=actor,
            action="mediation.workshop_attendance_correct",
            target=session,
            data={"booking": booking.pk, "from": before, "to": wanted},
        )
    return booking


def workshop_attendance_mark(
    *, actor, session: WorkshopSession, booking: Booking, present: bool, now=None
) -> Booking:
    """Mark a registrant present or absent (booking's attended / no-show), or correct their
    mark the other way (booking_attendance_correct), until the session is closed. Marking
    the same twice changes nothing. Refused: another structure (403), before the attendance
    opens, after the closing, someone not registered to this session."""
    wanted = Booking.Status.ATTENDED if present else Booking.Status.NO_SHOW
    return _set_attendance(actor=actor, session=session, booking=booking, wanted=wanted, now=now)


def workshop_attendance_unmark(
    *, actor, session: WorkshopSession, booking: Booking, now=None
) -> Booking:
    """Undo a registrant's mark (back to confirmed: to be marked again before closing), until
    the session is closed; nothing happens to someone not marked. Same refusals as
    workshop_attendance_mark."""
    return _set_attendance(
        actor=actor, session=session, booking=booking, wanted=Booking.Status.CONFIRMED, now=now
    )


def workshop_walk_in_add(
    *,
    actor,
    session: WorkshopSession,
    name: str,
    phone: str = "",
    beneficiary: Beneficiary | None = None,
    now=None,
) -> WorkshopWalkIn:
    """Someone who came without registering: counted present."""
    now = now or timezone.now()
    _check_mediator(actor, session.organisation)
    _check_attendance_open(session, now)
    name = " ".join((name or "").split())
    if beneficiary is not None:
        if beneficiary.organisation_id != session.organisation_id or beneficiary.merged_into_id:
            raise BookingRuleError(_("Cette personne n'est pas suivie par votre structure."))
        name = name or str(beneficiary)
    if not name:
        raise BookingRuleError(_("Indiquez le nom de la personne."))
    if len(name) > 200:
        raise BookingRuleError(_("Le nom est trop long (200 caractères au plus)."))
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValueError as exc:
            raise BookingRuleError(str(exc)) from exc
    with transaction.atomic():
        session = _lock_open_session(session, now)
        walk_in = WorkshopWalkIn.objects.create(
            session=session,
            person_name=name,
            person_phone=phone,
            beneficiary=beneficiary,
            created_by=actor,
        )
        audit_log(actor=actor, action="mediation.workshop_walk_in", target=session)
    return walk_in


def _present_beneficiaries(session: WorkshopSession, present: list[Booking]) -> list[Beneficiary]:
    """The structure's records of the people present: walk-ins chosen from them, and
    registrants whose phone number is a record's."""
    phones = {b.person_phone or (b.user.phone if b.user_id else "") for b in present}
    phones |= {w.person_phone for w in session.walk_ins.all()}
    phones.discard("")
    chosen = {w.beneficiary_id for w in session.walk_ins.all() if w.beneficiary_id}
    return list(
        Beneficiary.objects.filter(
            Q(pk__in=chosen) | Q(phone__in=phones, is_anonymous=False),
            organisation=session.organisation,
            merged_into=None,
        ).order_by("pk")
    )


def workshop_close(*, actor, session: WorkshopSession, now=None) -> WorkshopSession:
    """End the session: record its collective activity report (title, level, theme, the
    number present — registrants marked present plus walk-ins — and the structure's records
    of those people), once. Refused before the start, while a registrant is not marked, and a
    second time. A session where nobody came is closed without a report."""
    now = now or timezone.now()
    _check_mediator(actor, session.organisation)
    if now < session.start:
        raise BookingRuleError(
            _("L'atelier n'a pas encore commencé : vous le clôturerez à la fin.")
        )
    with transaction.atomic():
        session = WorkshopSession.objects.select_for_update().get(pk=session.pk)
        if session.closed_at is not None:
            raise BookingRuleError(
                _("Cet atelier est déjà clôturé : son compte rendu est enregistré.")
            )
        bookings = list(session_bookings(session).select_related("user"))
        unmarked = [b for b in bookings if b.status == Booking.Status.CONFIRMED]
        if unmarked:
            raise BookingRuleError(
                _(
                    "Faites l'appel de toutes les personnes inscrites avant de clôturer "
                    "(reste : %(names)s)."
                )
                % {"names": ", ".join(b.display_name for b in unmarked)}
            )
        present = [b for b in bookings if b.status == Booking.Status.ATTENDED]
        count = len(present) + session.walk_ins.count()
        activity = None
        if count:
            activity = activity_record(
                actor=actor,
                organisation=session.organisation,
                kind=Activity.Kind.COLLECTIVE,
                day=_local(session.start).date(),
                duration_minutes=min(MAX_MINUTES, _minutes(session.start, session.end)),
                place_type=Activity.PlaceType.MEDIATION_PLACE,
                place=session.place,
                themes=[session.theme],
                title=session.title,
                level=session.level,
                participants_count=count,
                beneficiaries=_present_beneficiaries(session, present),
            )
        session.activity = activity
        session.closed_at = now
        session.save(update_fields=["activity", "closed_at", "updated_at"])
        audit_log(
            actor=actor,
            action="mediation.workshop_close",
            target=session,
            data={"present": count},
        )
    return session
