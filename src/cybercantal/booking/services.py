"""Every write of the booking engine.

Each service is one transaction: it checks permission, checks the booking rules (422), locks
the resources it touches and re-checks their availability under the lock (409 if taken), writes
the booking, its allocations and its transition log, an audit row, and schedules notifications
after commit. A change of an existing booking (cancel, move, confirm, mark, correct) first asks
the change guards (hooks.booking_change_guards), under the booking's lock, before any write.
On PostgreSQL the resource rows are locked with SELECT … FOR UPDATE (in id order, so two
bookings of the same resources never deadlock) and an exclusion constraint forbids any overlap
on exclusive resources; on SQLite every write transaction begins IMMEDIATE, which serialises
writers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.core.audit import audit_log
from cybercantal.core.notifications.sms import normalize_phone

from . import availability as av
from .errors import BookingConflict, BookingForbidden, BookingRuleError
from .hooks import (
    check_booking_change_guards,
    check_booking_guards,
    is_authorised_by_module,
    notify_status,
)
from .models import (
    Allocation,
    AvailabilityRule,
    Booking,
    BookingTransition,
    Closure,
    Resource,
    Service,
)
from .perms import is_member_of_resource_organisation, is_place_agent, is_resource_agent

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


@dataclass(frozen=True)
class PersonDetails:
    """Someone booking without an account (or booked for by an agent): a name and a phone."""

    name: str
    phone: str
    email: str = ""


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _transition(
    booking: Booking, to_status: str, *, actor, reason: str = "", allowed=Booking.TRANSITIONS
) -> None:
    from_status = booking.status
    if from_status and to_status not in allowed.get(from_status, ()):
        raise BookingRuleError(
            _("Une réservation « %(from)s » ne peut pas passer à « %(to)s ».")
            % {"from": Booking.Status(from_status).label, "to": Booking.Status(to_status).label}
        )
    booking.status = to_status
    BookingTransition.objects.create(
        booking=booking,
        from_status=from_status or "",
        to_status=to_status,
        actor=actor if _is_authenticated(actor) else None,
        reason=reason[:300],
    )
    notify_status(booking, from_status=from_status or "", to_status=to_status, actor=actor)


def _clean_person(person: PersonDetails, *, phone_optional: bool = False) -> PersonDetails:
    """`phone_optional`: an agent books for someone who has no phone (a care-home resident,
    an elderly person followed by letter); the public always leaves a number."""
    name = " ".join((person.name or "").split())
    if not name:
        raise BookingRuleError(_("Indiquez le nom de la personne."))
    if len(name) > 200:
        raise BookingRuleError(_("Le nom est trop long (200 caractères au plus)."))
    phone = ""
    if (person.phone or "").strip() or not phone_optional:
        try:
            phone = normalize_phone(person.phone or "")
        except ValueError as exc:
            raise BookingRuleError(str(exc)) from exc
    email = (person.email or "").strip()
    if email:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError as exc:
            raise BookingRuleError(_("L'adresse électronique n'est pas valide.")) from exc
    return PersonDetails(name=name, phone=phone, email=email)


def _agent_of(actor, resources: Sequence[Resource]) -> frozenset[int]:
    """The resources (ids) the actor is an agent of. An agent is not bound by a resource's
    minimum notice, horizon, per-person limit or cancellation deadline: those protect the
    resource from the public, not from the people who run it. A module's authoriser
    (hooks.booking_authorisers) may vouch for the actor on all of them during its own flow."""
    if not _is_authenticated(actor):
        return frozenset()
    if is_authorised_by_module(resources, actor=actor):
        return frozenset(r.pk for r in resources)
    return frozenset(r.pk for r in resources if is_resource_agent(actor, r))


def _runs_resource(actor, resource: Resource) -> bool:
    """An agent of the resource, or vouched for on it by a module's authoriser."""
    return _is_authenticated(actor) and (
        is_resource_agent(actor, resource) or is_authorised_by_module([resource], actor=actor)
    )


def _check_who_may_book(
    *, actor, resources: Sequence[Resource], for_user, person
) -> frozenset[int]:
    """Raise BookingForbidden unless the actor may book these resources for that person.
    Returns the resources the actor is an agent of. An agent of one of the resources may book
    for someone else (the nurse of the cabin books the practitioner too); each resource's
    policy is checked on its own."""
    agent_of = _agent_of(actor, resources)
    if for_user is not None and for_user != actor and not agent_of:
        raise BookingForbidden(_("Seul un agent peut réserver pour une autre personne."))
    for resource in resources:
        policy = resource.bookable_by
        acting_as_agent = resource.pk in agent_of
        if policy == Resource.BookableBy.AGENTS and not acting_as_agent:
            raise BookingForbidden(
                _("« %(name)s » ne se réserve qu'auprès d'un agent.") % {"name": resource.name}
            )
        if policy == Resource.BookableBy.ACCOUNT_HOLDERS and for_user is None:
            raise BookingForbidden(
                _("« %(name)s » se réserve avec un compte : connectez-vous.")
                % {"name": resource.name}
            )
        if (
            policy == Resource.BookableBy.MEMBERS
            and not acting_as_agent
            and not is_member_of_resource_organisation(for_user, resource)
        ):
            raise BookingForbidden(
                _("« %(name)s » est réservé aux membres de %(org)s.")
                % {"name": resource.name, "org": resource.organisation}
            )
    return agent_of


def _check_per_person_limit(*, resources, for_user, person, now, agent_of) -> None:
    for resource in resources:
        limit = resource.max_future_bookings_per_person
        if not limit or resource.pk in agent_of:
            continue
        future = Booking.objects.filter(
            allocations__resource=resource,
            status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
            end__gt=now,
        )
        future = (
            future.filter(user=for_user)
            if for_user is not None
            else future.filter(person_phone=person.phone)
        )
        if future.count() >= limit:
            raise BookingRuleError(
                _(
                    "Vous avez déjà %(count)d réservation(s) à venir pour « %(name)s » : c'est le "
                    "maximum. Annulez-en une pour en prendre une autre."
                )
                % {"count": limit, "name": resource.name}
            )


def _units(resource: Resource, participants: int) -> int:
    return 1 if resource.is_exclusive else participants


def _slot_offered(resource, data, *, start, end, participants, now, as_agent) -> av.Slot | None:
    slots = av.resource_slots(
        resource,
        data,
        start=start,
        end=start + dt.timedelta(seconds=1),
        duration=end - start,
        units=_units(resource, participants),
        now=now,
        enforce_notice=not as_agent,
    )
    return next((s for s in slots if s.start == start), None)


def _check_rules(resources, *, start, end, participants, now, agent_of) -> av.AvailabilityData:
    """422 for what no availability could fix: duration, opening hours, notice, horizon,
    before any lock is taken. Returns the rules read, for _check_free, which checks closures
    and bookings under the lock."""
    if start <= now:
        raise BookingRuleError(_("Ce créneau est déjà passé."))
    if participants < 1:
        raise BookingRuleError(_("Le nombre de places doit être d'au moins 1."))
    for resource in resources:
        if not resource.is_active:
            raise BookingRuleError(
                _("« %(name)s » n'est pas réservable en ce moment.") % {"name": resource.name}
            )
        error = av.duration_error(resource, end - start)
        if error:
            raise BookingRuleError(error)
        if participants > resource.capacity:
            raise BookingRuleError(
                _("« %(name)s » accueille %(capacity)d personne(s) au plus.")
                % {"name": resource.name, "capacity": resource.capacity}
            )
        if resource.pk not in agent_of:
            if start < now + dt.timedelta(minutes=resource.min_notice_minutes):
                raise BookingRuleError(
                    _("Il faut réserver au moins %(minutes)d minutes à l'avance.")
                    % {"minutes": resource.min_notice_minutes}
                )
            if start > now + dt.timedelta(days=resource.horizon_days):
                raise BookingRuleError(
                    _("On ne peut pas réserver plus de %(days)d jours à l'avance.")
                    % {"days": resource.horizon_days}
                )
    # Opening hours, holidays and slot alignment, ignoring closures and existing bookings.
    data = av.AvailabilityData.rules_only(
        av.load_rules(resources, (start - dt.timedelta(days=1)).date(), end.date())
    )
    for resource in resources:
        _refuse_if_closed(
            resource,
            data,
            start=start,
            end=end,
            participants=participants,
            now=now,
            as_agent=resource.pk in agent_of,
        )
    return data


def _refuse_if_closed(resource, data, *, start, end, participants, now, as_agent) -> None:
    """422, with the reason, when the slot is not open: hours, holiday, closure, alignment,
    notice (existing bookings aside)."""
    opening_only = dataclasses.replace(data, allocations={})
    offered = _slot_offered(
        resource,
        opening_only,
        start=start,
        end=end,
        participants=participants,
        now=now,
        as_agent=as_agent,
    )
    if offered is None:
        raise BookingRuleError(
            _why_closed(resource, data, start=start, end=end, participants=participants, now=now)
        )


def _why_closed(resource, data, *, start, end, participants, now) -> str:
    """Why a slot that fits the duration rules is not open, in the words a person at the desk
    needs: a public holiday, a closure (with its reason), or outside the opening hours."""
    tz = timezone.get_current_timezone()
    if resource.observes_public_holidays and any(
        moment.astimezone(tz).date() in av.public_holidays(moment.astimezone(tz).year)
        for moment in (start, end - dt.timedelta(microseconds=1))
    ):
        return _("Le %(day)s est un jour férié : « %(name)s » est fermé.") % {
            "day": start.astimezone(tz).strftime("%d/%m/%Y"),
            "name": resource.name,
        }
    without_closures = dataclasses.replace(
        data, closures_global=[], closures_by_resource={}, closures_by_place={}
    )
    slot = _slot_offered(
        resource,
        without_closures,
        start=start,
        end=end,
        participants=participants,
        now=now,
        as_agent=True,
    )
    if slot is not None:
        closure = (
            Closure.objects.filter(start__lt=end, end__gt=start)
            .filter(
                Q(resource=resource)
                | Q(place_id=slot.place_id, place__isnull=False)
                | Q(resource__isnull=True, place__isnull=True)
            )
            .order_by("start")
            .first()
        )
        reason = closure.reason if closure is not None and closure.reason else _("fermeture")
        return _("« %(name)s » est fermé à ce moment-là (%(reason)s).") % {
            "name": resource.name,
            "reason": reason,
        }
    return _(
        "« %(name)s » n'est pas ouvert à ce créneau : choisissez un horaire d'ouverture et une "
        "heure de début proposée."
    ) % {"name": resource.name}


def _lock(resources: Sequence[Resource]) -> list[Resource]:
    ids = sorted({r.pk for r in resources})
    locked = list(Resource.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(locked) != len(ids):
        raise BookingRuleError(_("Une des ressources demandées n'existe plus."))
    return locked


def _check_free(
    resources, opening, *, start, end, participants, now, agent_of, exclude_booking_id=None
) -> int | None:
    """Under the lock: 409 if any resource is taken. Allocations and closures are read again
    here (bookings_cancel_day closes a day under the same lock); the weekly rules are those
    _check_rules read in `opening`. Returns where the booking happens: the place of a thing
    booked (room, cabin, desk) rather than of a person, who may be remote (the practitioner of
    a teleconsultation) or itinerant."""
    data = av.load_availability_data(
        resources,
        start - dt.timedelta(days=1),
        end,
        exclude_booking_id=exclude_booking_id,
        rules=opening.rules,
    )
    places: list[tuple[bool, int]] = []
    for resource in resources:
        slot = _slot_offered(
            resource,
            data,
            start=start,
            end=end,
            participants=participants,
            now=now,
            as_agent=resource.pk in agent_of,
        )
        if slot is None:
            # Closed since _check_rules looked (a day cancelled this very moment)?
            _refuse_if_closed(
                resource,
                data,
                start=start,
                end=end,
                participants=participants,
                now=now,
                as_agent=resource.pk in agent_of,
            )
            raise BookingConflict(
                _(
                    "Ce créneau n'est plus disponible pour « %(name)s » : il vient d'être réservé. "
                    "Choisissez-en un autre."
                )
                % {"name": resource.name}
            )
        if slot.place_id:
            places.append((resource.kind == Resource.Kind.PERSON, slot.place_id))
    # Things first, then people; among equals, the order of the resources (sort is stable).
    return min(places, key=lambda p: p[0])[1] if places else None


def _allocate(booking: Booking, resources, *, participants: int) -> None:
    Allocation.objects.bulk_create(
        [
            Allocation(
                booking=booking,
                resource=resource,
                blocked_start=booking.start - dt.timedelta(minutes=resource.buffer_before_minutes),
                blocked_end=booking.end + dt.timedelta(minutes=resource.buffer_after_minutes),
                units=_units(resource, participants),
                is_exclusive=resource.is_exclusive,
            )
            for resource in resources
        ]
    )


def booking_create(
    *,
    actor,
    resources: Sequence[Resource],
    start: dt.datetime,
    end: dt.datetime,
    service: Service | None = None,
    for_user=None,
    person: PersonDetails | None = None,
    channel: str = Booking.Channel.WEB,
    participants: int = 1,
    notes: str = "",
    location: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """Book `resources` together over [start, end), for an account holder (`for_user`, by
    default the actor) or for a person without an account (`person`). `location`: the address
    when it does not happen at the resources' place (a home visit).

    Guarantees: all resources or none; never more than a resource's capacity at any instant,
    whatever the concurrency; BookingRuleError (422) when a rule forbids the request,
    BookingConflict (409) when the slot is taken, BookingForbidden (403) when the actor may not.
    The booking is confirmed at once, or pending when a resource requires approval."""
    now = now or timezone.now()
    resources = list({r.pk: r for r in resources}.values())
    if not resources:
        raise BookingRuleError(_("Choisissez au moins une ressource."))
    if start.tzinfo is None or end.tzinfo is None:
        raise BookingRuleError(_("Les dates doivent indiquer leur fuseau horaire."))
    if end <= start:
        raise BookingRuleError(_("La fin doit être après le début."))
    # Durations and buffers are real time: compute in UTC (see booking.intervals).
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if person is not None:
        person = _clean_person(person, phone_optional=bool(_agent_of(actor, resources)))
    elif for_user is None and _is_authenticated(actor):
        for_user = actor
    if for_user is None and person is None:
        raise BookingRuleError(
            _("Indiquez pour qui est la réservation : un nom et un numéro de téléphone.")
        )
    if service is not None and any(
        not r.services.filter(pk=service.pk).exists() for r in resources
    ):
        raise BookingRuleError(_("Cette prestation n'est pas proposée par la ressource choisie."))

    agent_of = _check_who_may_book(
        actor=actor, resources=resources, for_user=for_user, person=person
    )
    check_booking_guards(resources, actor=actor)
    opening = _check_rules(
        resources, start=start, end=end, participants=participants, now=now, agent_of=agent_of
    )
    try:
        with transaction.atomic():
            locked = _lock(resources)
            _check_per_person_limit(
                resources=locked, for_user=for_user, person=person, now=now, agent_of=agent_of
            )
            place_id = _check_free(
                locked,
                opening,
                start=start,
                end=end,
                participants=participants,
                now=now,
                agent_of=agent_of,
            )
            booking = Booking(
                reference=_new_reference(),
                start=start,
                end=end,
                service=service,
                place_id=place_id or locked[0].place_id,
                user=for_user,
                person_name=person.name if person else "",
                person_phone=person.phone if person else "",
                person_email=person.email if person else "",
                channel=channel,
                created_by=actor if _is_authenticated(actor) else None,
                notes=notes[:2000],
                location=" ".join(location.split())[:300],
                participants=participants,
                status="",
            )
            target = (
                Booking.Status.PENDING
                if any(r.approval_required for r in locked)
                else Booking.Status.CONFIRMED
            )
            booking.status = target
            booking.save()
            BookingTransition.objects.create(
                booking=booking,
                from_status="",
                to_status=target,
                actor=actor if _is_authenticated(actor) else None,
                reason=_("Réservation créée (%(channel)s)")
                % {"channel": Booking.Channel(channel).label},
            )
            _allocate(booking, locked, participants=participants)
            notify_status(booking, from_status="", to_status=target, actor=actor)
            audit_log(
                actor=actor,
                action="booking.create",
                target=booking,
                data={"resources": [r.pk for r in locked], "channel": channel},
            )
            _after_commit(booking, "created")
    except IntegrityError as exc:
        # PostgreSQL's exclusion constraint: the last line of defence against an overlap.
        raise BookingConflict(
            _("Ce créneau n'est plus disponible : il vient d'être réservé. Choisissez-en un autre.")
        ) from exc
    return booking


def _may_manage(actor, booking: Booking) -> bool:
    """An agent of any of the booking's resources (perms.can_manage_booking): the nurse who
    runs the cabin may cancel or mark a teleconsultation as well as the practitioner; or
    someone a module's authoriser vouches for on its resources, during that module's flow."""
    if not _is_authenticated(actor):
        return False
    resources = [a.resource for a in booking.allocations.select_related("resource")]
    return any(is_resource_agent(actor, r) for r in resources) or is_authorised_by_module(
        resources, actor=actor
    )


def _check_holder_or_agent(actor, booking: Booking) -> bool:
    """Returns True for an agent, False for the booking's holder; raises otherwise."""
    if _may_manage(actor, booking):
        return True
    if _is_authenticated(actor) and booking.user_id == actor.pk:
        return False
    raise BookingForbidden(_("Vous ne pouvez pas modifier cette réservation."))


def _check_deadline(booking: Booking, *, now, verb: str) -> None:
    hours = max(
        (
            a.resource.cancellation_deadline_hours
            for a in booking.allocations.select_related("resource")
        ),
        default=0,
    )
    if now > booking.start - dt.timedelta(hours=hours):
        raise BookingRuleError(
            _(
                "Il est trop tard pour %(verb)s en ligne : c'est possible jusqu'à %(hours)d heures "
                "avant. Appelez le lieu."
            )
            % {"verb": verb, "hours": hours}
        )


def booking_cancel(
    *, actor, booking: Booking, reason: str = "", now=None, notify: bool = True
) -> Booking:
    """Cancel a booking and free its resources. The holder may cancel until the resources'
    cancellation deadline; agents at any time."""
    now = now or timezone.now()
    as_agent = _check_holder_or_agent(actor, booking)
    return _cancel(
        actor=actor,
        booking=booking,
        reason=reason,
        now=now,
        as_agent=as_agent,
        event="cancelled" if notify else None,
    )


def _cancel(
    *,
    actor,
    booking: Booking,
    reason: str,
    now,
    as_agent: bool,
    event,
    extra: str = "",
    extra_sms: str = "",
) -> Booking:
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        check_booking_change_guards(booking, actor=actor, action="cancel")
        if booking.status == Booking.Status.CANCELLED:
            return booking
        if not as_agent:
            _check_deadline(booking, now=now, verb=_("annuler"))
        _transition(booking, Booking.Status.CANCELLED, actor=actor, reason=reason)
        booking.save(update_fields=["status", "updated_at"])
        booking.allocations.update(is_active=False)
        audit_log(actor=actor, action="booking.cancel", target=booking, data={"reason": reason})
        if event:
            _after_commit(booking, event, extra=extra, extra_sms=extra_sms)
    return booking


def booking_reschedule(
    *, actor, booking: Booking, start: dt.datetime, end: dt.datetime, now=None
) -> Booking:
    """Move a booking to another interval on the same resources. Atomic: the old slot is
    released only if the new one is taken (one transaction; the new slot may overlap the old)."""
    now = now or timezone.now()
    as_agent = _check_holder_or_agent(actor, booking)
    if start.tzinfo is None or end.tzinfo is None:
        raise BookingRuleError(_("Les dates doivent indiquer leur fuseau horaire."))
    if end <= start:
        raise BookingRuleError(_("La fin doit être après le début."))
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    _check_reschedulable(booking)
    if not as_agent:
        _check_deadline(booking, now=now, verb=_("déplacer ce rendez-vous"))
    resources = [a.resource for a in booking.allocations.select_related("resource")]
    agent_of = _agent_of(actor, resources) if as_agent else frozenset()
    opening = _check_rules(
        resources,
        start=start,
        end=end,
        participants=booking.participants,
        now=now,
        agent_of=agent_of,
    )
    old = (booking.start, booking.end)
    try:
        with transaction.atomic():
            locked = _lock(resources)
            booking = Booking.objects.select_for_update().get(pk=booking.pk)
            check_booking_change_guards(booking, actor=actor, action="reschedule")
            # It may have been cancelled (or marked) since the caller read it.
            _check_reschedulable(booking)
            place_id = _check_free(
                locked,
                opening,
                start=start,
                end=end,
                participants=booking.participants,
                now=now,
                agent_of=agent_of,
                exclude_booking_id=booking.pk,
            )
            booking.start, booking.end = start, end
            booking.place_id = place_id or booking.place_id
            booking.reminder_sent_at = None
            booking.save(update_fields=["start", "end", "place", "reminder_sent_at", "updated_at"])
            by_id = {r.pk: r for r in locked}
            for allocation in booking.allocations.all():
                resource = by_id[allocation.resource_id]
                allocation.blocked_start = start - dt.timedelta(
                    minutes=resource.buffer_before_minutes
                )
                allocation.blocked_end = end + dt.timedelta(minutes=resource.buffer_after_minutes)
                allocation.save(update_fields=["blocked_start", "blocked_end"])
            BookingTransition.objects.create(
                booking=booking,
                from_status=booking.status,
                to_status=booking.status,
                actor=actor if _is_authenticated(actor) else None,
                reason=_("Déplacée du %(old)s")
                % {"old": timezone.localtime(old[0]).strftime("%d/%m/%Y %H:%M")},
            )
            audit_log(
                actor=actor,
                action="booking.reschedule",
                target=booking,
                data={
                    "from": [old[0].isoformat(), old[1].isoformat()],
                    "to": [start.isoformat(), end.isoformat()],
                },
            )
            _after_commit(booking, "rescheduled")
    except IntegrityError as exc:
        raise BookingConflict(
            _("Ce créneau n'est plus disponible. Choisissez-en un autre.")
        ) from exc
    return booking


def _check_reschedulable(booking: Booking) -> None:
    if booking.status not in (Booking.Status.PENDING, Booking.Status.CONFIRMED):
        raise BookingRuleError(_("Seule une réservation à venir peut être déplacée."))


# The hooks.CHANGE_ACTIONS name of each agent transition.
_CHANGE_ACTIONS = {
    Booking.Status.CONFIRMED: "confirm",
    Booking.Status.ATTENDED: "attended",
    Booking.Status.NO_SHOW: "no_show",
}


def _agent_transition(
    *, actor, booking: Booking, to_status: str, reason: str, now, after_start: bool
) -> Booking:
    if not _may_manage(actor, booking):
        raise BookingForbidden(_("Seul un agent du lieu peut faire cela."))
    now = now or timezone.now()
    if after_start and now < booking.start:
        raise BookingRuleError(_("Le rendez-vous n'a pas encore commencé."))
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        check_booking_change_guards(booking, actor=actor, action=_CHANGE_ACTIONS[to_status])
        _transition(booking, to_status, actor=actor, reason=reason)
        booking.save(update_fields=["status", "updated_at"])
        audit_log(actor=actor, action=f"booking.{to_status}", target=booking)
        if to_status == Booking.Status.CONFIRMED:
            _after_commit(booking, "confirmed")
    return booking


def booking_confirm(*, actor, booking: Booking, now=None) -> Booking:
    """An agent approves a pending booking."""
    return _agent_transition(
        actor=actor,
        booking=booking,
        to_status=Booking.Status.CONFIRMED,
        reason=_("Validée"),
        now=now,
        after_start=False,
    )


def booking_mark_attended(*, actor, booking: Booking, now=None) -> Booking:
    return _agent_transition(
        actor=actor,
        booking=booking,
        to_status=Booking.Status.ATTENDED,
        reason=_("Personne venue"),
        now=now,
        after_start=True,
    )


def booking_mark_no_show(*, actor, booking: Booking, now=None) -> Booking:
    return _agent_transition(
        actor=actor,
        booking=booking,
        to_status=Booking.Status.NO_SHOW,
        reason=_("Personne absente"),
        now=now,
        after_start=True,
    )


# Corrections of an attendance mark. Kept apart from Booking.TRANSITIONS, where attended and
# no-show stay final: only booking_attendance_correct may leave them, never a confirmation or a
# cancellation (which would free the seat of someone who came).
ATTENDANCE_CORRECTIONS = {
    Booking.Status.ATTENDED: {Booking.Status.NO_SHOW, Booking.Status.CONFIRMED},
    Booking.Status.NO_SHOW: {Booking.Status.ATTENDED, Booking.Status.CONFIRMED},
}
ATTENDANCE_CORRECTION_REASONS = {
    Booking.Status.ATTENDED: gettext_lazy("Correction de l'appel : personne venue"),
    Booking.Status.NO_SHOW: gettext_lazy("Correction de l'appel : personne absente"),
    Booking.Status.CONFIRMED: gettext_lazy("Correction de l'appel : marque annulée"),
}


def booking_attendance_correct(
    *, actor, booking: Booking, to_status: str, reason: str = "", now=None
) -> Booking:
    """An agent of the booking's resources corrects an attendance mark: attended ↔ no-show, or
    back to confirmed (the mark undone, to be taken again). Correcting to the current status
    changes nothing.

    Recorded as any status change: a transition (with `reason`, or what was corrected), the
    status listeners, an audit row `booking.attendance_correct` with both statuses; the person
    is not told. Until when a mark may be corrected is the caller's rule (a workshop: until it
    is closed). Refused with a French message, nothing changed: not an agent (403), before the
    start, a booking that is not marked (pending, confirmed, cancelled), a target that is not
    attended, no-show or confirmed (422)."""
    if not _may_manage(actor, booking):
        raise BookingForbidden(_("Seul un agent du lieu peut corriger l'appel."))
    if to_status not in ATTENDANCE_CORRECTION_REASONS:
        raise BookingRuleError(
            _("Une correction de l'appel note la personne venue, absente, ou pas encore notée.")
        )
    now = now or timezone.now()
    if now < booking.start:
        raise BookingRuleError(_("Le rendez-vous n'a pas encore commencé."))
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        check_booking_change_guards(booking, actor=actor, action="attendance_correct")
        from_status = booking.status
        if from_status == to_status:
            return booking
        if from_status not in ATTENDANCE_CORRECTIONS:
            raise BookingRuleError(
                _(
                    "Seule une présence ou une absence déjà notée se corrige : cette réservation "
                    "est « %(status)s »."
                )
                % {"status": booking.get_status_display()}
            )
        _transition(
            booking,
            to_status,
            actor=actor,
            reason=(reason or "").strip() or str(ATTENDANCE_CORRECTION_REASONS[to_status]),
            allowed=ATTENDANCE_CORRECTIONS,
        )
        booking.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="booking.attendance_correct",
            target=booking,
            data={"from": from_status, "to": to_status},
        )
    return booking


def bookings_cancel_day(
    *, actor, day: dt.date, reason: str, resource: Resource | None = None, place=None, now=None
) -> list[Booking]:
    """Cancel every upcoming booking (not yet started, pending or confirmed) of a resource, or
    of everything happening at a place, on a local day (snow, illness). Bookings that take
    place elsewhere — an itinerant mediator based there but on tour that day — are left alone.
    Agents only: of the resource; of the place's organisation or of each booking's resources.
    Each person is notified, with the next free slots nearby, and the rest of the day is
    closed (a Closure) so that nobody books it again. When a change guard refuses one of the
    bookings (a teleconsultation, cancelled from its own space), nothing is cancelled."""
    _closure, cancelled = _cancel_days(
        actor=actor,
        first_day=day,
        last_day=day,
        reason=reason,
        resource=resource,
        place=place,
        now=now,
        audit_action="booking.cancel_day",
        audit_data={"day": day.isoformat()},
    )
    return cancelled


def bookings_cancel_range(
    *,
    actor,
    first_day: dt.date,
    last_day: dt.date,
    reason: str,
    resource: Resource | None = None,
    place=None,
    now=None,
) -> tuple[Closure, list[Booking]]:
    """bookings_cancel_day over the local days from `first_day` to `last_day` included
    (holidays, works): one Closure for the whole range (from now if it has begun), every
    upcoming booking of those days cancelled and its person notified, in one transaction."""
    return _cancel_days(
        actor=actor,
        first_day=first_day,
        last_day=last_day,
        reason=reason,
        resource=resource,
        place=place,
        now=now,
        audit_action="booking.cancel_range",
        audit_data={"from": first_day.isoformat(), "until": last_day.isoformat()},
    )


def _cancel_days(
    *,
    actor,
    first_day: dt.date,
    last_day: dt.date,
    reason: str,
    resource: Resource | None,
    place,
    now,
    audit_action: str,
    audit_data: dict,
) -> tuple[Closure, list[Booking]]:
    now = now or timezone.now()
    if (resource is None) == (place is None):
        raise BookingRuleError(_("Indiquez une ressource ou un lieu, pas les deux."))
    if resource is not None:
        runs_it = _runs_resource(actor, resource)
    else:
        runs_it = is_place_agent(actor, place)
    if not runs_it and not (
        place is not None
        and _is_authenticated(actor)
        and any(is_resource_agent(actor, r) for r in place.resources.all())
    ):
        raise BookingForbidden(_("Seul un agent peut annuler une journée de rendez-vous."))
    if not reason.strip():
        raise BookingRuleError(
            _("Indiquez le motif de l'annulation : il est envoyé aux personnes.")
        )
    if last_day < first_day:
        raise BookingRuleError(_("Le dernier jour doit être le premier ou le suivre."))
    tz = timezone.get_current_timezone()
    range_start = dt.datetime.combine(first_day, dt.time(), tzinfo=tz)
    range_end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    if range_end <= now:
        raise BookingRuleError(_("Ces jours sont passés : il n'y a plus rien à annuler."))
    cancelled = []
    with transaction.atomic():
        # The lock booking_create takes, then the closure: a booking made at the same moment
        # either committed before (and is cancelled below) or sees the closure.
        _lock_day_resources(resource=resource, place=place)
        # The days are closed, so that their slots are not offered again (public search,
        # waiting list) while the reason (snow, illness) holds.
        closure = Closure.objects.create(
            resource=resource,
            place=place if resource is None else None,
            start=max(range_start, now),
            end=range_end,
            reason=reason[:200],
        )
        bookings = Booking.objects.filter(
            start__gte=max(range_start, now),
            start__lt=range_end,
            status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
        )
        bookings = (
            bookings.filter(allocations__resource=resource)
            if resource is not None
            else bookings.filter(place=place)
        )
        bookings = list(bookings.distinct().prefetch_related("allocations__resource"))
        for booking in bookings:
            if not runs_it and not _may_manage(actor, booking):
                raise BookingForbidden(
                    _("Seul un agent du lieu ou des ressources concernées peut annuler la journée.")
                )
        for booking in bookings:
            cancelled.append(
                _cancel(
                    actor=actor,
                    booking=booking,
                    reason=reason,
                    now=now,
                    as_agent=True,
                    event="cancelled_day",
                )
            )
        audit_log(
            actor=actor,
            action=audit_action,
            target=resource if resource is not None else place,
            data={**audit_data, "count": len(cancelled), "reason": reason},
        )
    return closure, cancelled


def bookings_cancel_window(
    *,
    actor,
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    place=None,
    extra: str = "",
    extra_sms: str = "",
    now=None,
) -> list[Booking]:
    """Cancel the upcoming bookings (pending or confirmed, not yet started) of a resource that
    start in [start, end), at `place` only when given: one visit of an itinerant mediator, say,
    rather than their whole day. Agents of the resource only. Each person is told as for a
    cancelled day (the reason, the next free slots nearby), with `extra` added to the e-mail
    and letter and `extra_sms` to the SMS when it fits. No closure is made: the caller removes
    what made the window bookable (a stop's rule), so that the resource stays bookable
    elsewhere that day. Can run inside the caller's transaction."""
    now = now or timezone.now()
    if not _runs_resource(actor, resource):
        raise BookingForbidden(_("Seul un agent peut annuler ces rendez-vous."))
    if not reason.strip():
        raise BookingRuleError(
            _("Indiquez le motif de l'annulation : il est envoyé aux personnes.")
        )
    if end <= start:
        raise BookingRuleError(_("La fin doit être après le début."))
    with transaction.atomic():
        _lock_day_resources(resource=resource, place=None)
        bookings = Booking.objects.filter(
            allocations__resource=resource,
            start__gte=max(start, now),
            start__lt=end,
            status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
        )
        if place is not None:
            bookings = bookings.filter(place=place)
        cancelled = [
            _cancel(
                actor=actor,
                booking=booking,
                reason=reason,
                now=now,
                as_agent=True,
                event="cancelled_day",
                extra=extra,
                extra_sms=extra_sms,
            )
            for booking in bookings.distinct().order_by("start", "pk")
        ]
        audit_log(
            actor=actor,
            action="booking.cancel_window",
            target=resource,
            data={
                "from": start.isoformat(),
                "until": end.isoformat(),
                "place": place.pk if place is not None else None,
                "count": len(cancelled),
                "reason": reason,
            },
        )
    return cancelled


def _lock_day_resources(*, resource: Resource | None, place) -> None:
    """Lock the resource, or every resource that can be at the place (based there, or with a
    rule there: an itinerant mediator's stop)."""
    if resource is not None:
        ids = [resource.pk]
    else:
        ids = Resource.objects.filter(
            Q(place=place)
            | Q(pk__in=AvailabilityRule.objects.filter(place=place).values("resource"))
        ).values_list("pk", flat=True)
    list(Resource.objects.select_for_update().filter(pk__in=list(ids)).order_by("pk"))


def _after_commit(booking: Booking, event: str, *, extra: str = "", extra_sms: str = "") -> None:
    """Tell the person (and anyone waiting) once the transaction has committed, through a
    background task. robust: the booking is committed by then, and a queue failure must not
    turn it into an error page. `extra` and `extra_sms`: what the caller adds to the message
    (a moved tour stop's new date)."""
    from .tasks import booking_event_task

    texts = {k: v for k, v in {"extra": extra, "extra_sms": extra_sms}.items() if v}
    transaction.on_commit(
        partial(booking_event_task.enqueue, booking_id=booking.pk, event=event, **texts),
        robust=True,
    )
