"""Waiting lists: people waiting for a slot of a resource, or of a service near them, within a
window; when a slot frees, the first in line is offered it for a limited time, then the next.

How the hold works. An offer holds its slot with a real booking in status *pending* for the
person (`WaitingListEntry.hold_booking`), written with the engine's own guarantees: the
resource row is locked, the slot is re-checked under the lock, an allocation takes the
capacity (and on PostgreSQL the exclusion constraint forbids any overlap). So while an offer is
pending, the slot is offered to nobody else — not to the next in line, not in the public
search, not to an agent — with no special case anywhere in the engine, and the agents see it in
their calendar ("retenu pour la liste d'attente"). A check instead ("is this slot promised?")
would have to be added to every availability computation and would not protect the slot from
concurrent bookings.

- Accepting (the link in the SMS or e-mail) releases the hold and books the slot through
  `booking_create` in one transaction: every booking rule applies to the person as if they had
  booked it themselves, and if one refuses, nothing changes (the hold stays until it expires).
- Declining releases the hold and offers the slot to the next in line; the person stays in line.
- When the hold expires (periodic job, every minute), it is released, the entry is marked
  expired and the slot is offered to the next in line.
- A freed slot is offered when a booking is cancelled (booking_event) and when a closure is
  lifted (deleted: signal below). Only slots that the availability engine itself offers to the
  public are offered (notice, horizon, opening hours, capacity), so an offer can be accepted.

The hold's own changes send no booking message: the person is told by the offer itself. An
agent who confirms a hold books it for the person (the entry becomes accepted); an agent who
cancels it withdraws the offer (the person goes back to waiting, the slot to the public).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log
from cybercantal.core.geo import great_circle_km
from cybercantal.core.notifications import Recipient
from cybercantal.core.notifications.sms import normalize_phone
from cybercantal.territory.models import Place

from . import availability as av
from . import ical
from .errors import BookingForbidden, BookingRuleError
from .hooks import check_booking_guards
from .models import (
    Allocation,
    Booking,
    BookingTransition,
    Closure,
    Resource,
    Service,
    WaitingListEntry,
)
from .perms import TERRITORY_STAFF_ROLES, is_member_of_resource_organisation, is_resource_agent
from .services import REFERENCE_ALPHABET, PersonDetails, booking_create

logger = logging.getLogger(__name__)

Status = WaitingListEntry.Status
# An offer leaves the person at least this long to answer, or is not made.
MIN_HOLD = dt.timedelta(minutes=5)
MAX_WINDOW_DAYS = 366
# Entries examined for one freed slot: the first ones in line are the ones that matter.
MAX_CANDIDATES = 100
TOKEN_MIN_LENGTH, TOKEN_MAX_LENGTH = 20, 64


def hold_duration() -> dt.timedelta:
    """How long an offer is held: settings.BOOKING_WAITLIST_HOLD_MINUTES (30 by default)."""
    return dt.timedelta(minutes=settings.BOOKING_WAITLIST_HOLD_MINUTES)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _recipient(entry: WaitingListEntry) -> Recipient:
    if entry.user_id is not None:
        return Recipient.from_user(entry.user)
    return Recipient(name=entry.person_name, phone=entry.person_phone, email=entry.person_email)


def _reachable_quickly(recipient: Recipient) -> bool:
    """An offer lasts minutes: it goes by SMS (a mobile number) or e-mail, never by post."""
    if recipient.email:
        return True
    try:
        normalize_phone(recipient.phone, mobile=True)
    except ValueError:
        return False
    return True


# --- Joining and leaving ------------------------------------------------------------------------


def _clean_person(person: PersonDetails) -> PersonDetails:
    name = " ".join((person.name or "").split())
    if not name or len(name) > 200:
        raise BookingRuleError(_("Indiquez le nom de la personne (200 caractères au plus)."))
    try:
        # A booking for someone without an account needs a phone number, and so does this.
        phone = normalize_phone(person.phone or "")
    except ValueError as exc:
        raise BookingRuleError(str(exc)) from exc
    email = (person.email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise BookingRuleError(_("L'adresse électronique n'est pas valide.")) from exc
    return PersonDetails(name=name, phone=phone, email=email)


def _may_act_for_others(actor, *, resource: Resource | None, service: Service | None) -> bool:
    if not _is_authenticated(actor):
        return False
    if resource is not None:
        return is_resource_agent(actor, resource)
    if actor.has_role(*TERRITORY_STAFF_ROLES):
        return True
    org_ids = actor.memberships.filter(is_active=True).values("organisation_id")
    return Resource.objects.filter(services=service, organisation_id__in=org_ids).exists()


def waitlist_join(
    *,
    actor,
    window_start: dt.datetime,
    window_end: dt.datetime,
    resource: Resource | None = None,
    service: Service | None = None,
    place: Place | None = None,
    commune=None,
    radius_km: int = 20,
    duration: dt.timedelta | None = None,
    for_user=None,
    person: PersonDetails | None = None,
    now: dt.datetime | None = None,
) -> WaitingListEntry:
    """Put someone on the waiting list of a resource, or of a service (anywhere, at a place,
    or within `radius_km` of a commune), for a slot of `duration` within the window.

    For an account holder (`for_user`, by default the actor) or a person without an account
    (`person`: a name and a mobile phone or an e-mail, since an offer lasts minutes). Only an
    agent may put someone else on the list. Raises BookingRuleError (422) or BookingForbidden
    (403) with a French message."""
    now = now or timezone.now()
    if resource is None and service is None:
        raise BookingRuleError(_("Choisissez une ressource ou une prestation."))
    if (
        resource is not None
        and service is not None
        and not resource.services.filter(pk=service.pk).exists()
    ):
        raise BookingRuleError(_("Cette prestation n'est pas proposée par la ressource choisie."))
    if resource is not None:
        # A resource another app books only through its own flow (a teleconsultation's
        # practitioner) has no waiting list of its own either.
        check_booking_guards([resource], actor=actor)
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise BookingRuleError(_("Les dates doivent indiquer leur fuseau horaire."))
    window_start = max(window_start, now)
    if window_end <= window_start:
        raise BookingRuleError(_("La période souhaitée doit finir après son début, et à venir."))
    if window_end - window_start > dt.timedelta(days=MAX_WINDOW_DAYS):
        raise BookingRuleError(
            _("La période souhaitée ne peut dépasser %(days)d jours.") % {"days": MAX_WINDOW_DAYS}
        )
    if duration is None:
        duration = (
            av.default_duration(resource)
            if resource is not None
            else dt.timedelta(minutes=service.default_duration_minutes)
        )
    if resource is not None:
        error = av.duration_error(resource, duration)
        if error:
            raise BookingRuleError(error)
    minutes = int(duration.total_seconds() // 60)
    if minutes < 5 or duration > window_end - window_start:
        raise BookingRuleError(_("La durée doit tenir dans la période souhaitée."))
    if not 1 <= radius_km <= 200:
        raise BookingRuleError(_("Le rayon doit être compris entre 1 et 200 km."))

    if person is not None:
        person = _clean_person(person)
    elif for_user is None and _is_authenticated(actor):
        for_user = actor
    if for_user is None and person is None:
        raise BookingRuleError(
            _("Indiquez pour qui est l'inscription : un nom et un numéro de téléphone mobile.")
        )
    on_behalf = person is not None or for_user != actor
    if (
        on_behalf
        and _is_authenticated(actor)
        and not _may_act_for_others(actor, resource=resource, service=service)
    ):
        raise BookingForbidden(_("Seul un agent peut inscrire une autre personne."))
    if resource is not None:
        policy = resource.bookable_by
        if policy == Resource.BookableBy.AGENTS:
            raise BookingForbidden(
                _("« %(name)s » ne se réserve qu'auprès d'un agent.") % {"name": resource.name}
            )
        if policy != Resource.BookableBy.ANYONE and for_user is None:
            raise BookingForbidden(
                _("« %(name)s » se réserve avec un compte : connectez-vous.")
                % {"name": resource.name}
            )
        if policy == Resource.BookableBy.MEMBERS and not is_member_of_resource_organisation(
            for_user, resource
        ):
            raise BookingForbidden(
                _("« %(name)s » est réservé aux membres de %(org)s.")
                % {"name": resource.name, "org": resource.organisation}
            )

    entry = WaitingListEntry(
        resource=resource,
        service=service,
        place=place,
        commune=commune if place is None else None,
        radius_km=radius_km,
        window_start=window_start,
        window_end=window_end,
        duration_minutes=minutes,
        user=for_user,
        person_name=person.name if person else "",
        person_phone=person.phone if person else "",
        person_email=person.email if person else "",
        created_by=actor if _is_authenticated(actor) else None,
    )
    if not _reachable_quickly(_recipient(entry)):
        raise BookingRuleError(
            _(
                "Pour vous prévenir à temps quand une place se libère, il nous faut un numéro "
                "de téléphone mobile ou une adresse électronique."
            )
        )
    with transaction.atomic():
        same_person = Q(user=for_user) if for_user is not None else Q(person_phone=person.phone)
        duplicate = WaitingListEntry.objects.filter(
            same_person,
            Q(resource=resource) if resource is not None else Q(resource__isnull=True),
            service=service,
            status__in=(Status.WAITING, Status.OFFERED),
            window_start__lt=window_end,
            window_end__gt=window_start,
        )
        if duplicate.exists():
            raise BookingRuleError(
                _("Cette personne est déjà sur la liste d'attente pour cette période.")
            )
        entry.save()
        audit_log(
            actor=actor,
            action="booking.waitlist_join",
            target=entry,
            data={"resource": resource.pk if resource else None, "service": entry.service_id},
        )
    return entry


def waitlist_leave(*, actor, entry: WaitingListEntry) -> WaitingListEntry:
    """Take someone off the list (they, or an agent of the resource). A pending offer is
    withdrawn and its slot offered to the next in line."""
    if not _is_authenticated(actor):
        raise BookingForbidden(_("Connectez-vous pour gérer vos inscriptions."))
    with transaction.atomic():
        entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
        own = entry.user_id == actor.pk
        agent = (
            _may_act_for_others(actor, resource=entry.resource, service=entry.service)
            if entry.resource_id is None
            else is_resource_agent(actor, entry.resource)
        )
        if not own and not agent:
            raise BookingForbidden(_("Vous ne pouvez pas modifier cette inscription."))
        if entry.status not in (Status.WAITING, Status.OFFERED):
            return entry
        freed = _end_offer(entry, status=Status.CANCELLED, reason=_("Retrait de la liste"))
        audit_log(actor=actor, action="booking.waitlist_leave", target=entry)
    _offer_after_commit(freed, exclude=[entry.pk])
    return entry


def waitlist_list(*, actor) -> QuerySet[WaitingListEntry]:
    """The entries the actor may see: their own, and those for resources (or services) of the
    organisations they belong to; all of them for staff of the Département."""
    if not _is_authenticated(actor):
        return WaitingListEntry.objects.none()
    entries = WaitingListEntry.objects.all()
    if not actor.has_role(*TERRITORY_STAFF_ROLES):
        org_ids = actor.memberships.filter(is_active=True).values("organisation_id")
        entries = entries.filter(
            Q(user=actor)
            | Q(resource__organisation_id__in=org_ids)
            | Q(
                resource__isnull=True,
                service__in=Service.objects.filter(resources__organisation_id__in=org_ids),
            )
        )
    return (
        entries.distinct()
        .select_related("resource", "service", "place", "commune", "user")
        .order_by("created_at", "pk")
    )


# --- Offering a freed slot -----------------------------------------------------------------------


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def _may_book(entry: WaitingListEntry, resource: Resource) -> bool:
    policy = resource.bookable_by
    if policy == Resource.BookableBy.ANYONE:
        return True
    if policy == Resource.BookableBy.ACCOUNT_HOLDERS:
        return entry.user_id is not None
    if policy == Resource.BookableBy.MEMBERS:
        return entry.user_id is not None and is_member_of_resource_organisation(
            entry.user, resource
        )
    return False


class _PlaceCache(dict):
    def near(self, entry: WaitingListEntry, place_id: int | None) -> bool:
        if entry.place_id is not None:
            return place_id == entry.place_id
        if entry.commune_id is None:
            return True
        if place_id is None:
            return False
        if place_id not in self:
            self[place_id] = Place.objects.filter(pk=place_id).first()
        place = self[place_id]
        commune = entry.commune
        return place is not None and (
            great_circle_km(commune.latitude, commune.longitude, place.latitude, place.longitude)
            <= entry.radius_km
        )


def _candidates(
    resource: Resource, start: dt.datetime, end: dt.datetime, exclude: Iterable[int]
) -> list[WaitingListEntry]:
    service_ids = list(resource.services.values_list("pk", flat=True))
    return list(
        WaitingListEntry.objects.filter(
            status=Status.WAITING, window_start__lt=end, window_end__gt=start
        )
        .filter(Q(resource=resource) | Q(resource__isnull=True, service_id__in=service_ids))
        .exclude(pk__in=list(exclude))
        .select_related("user", "service", "commune")
        .order_by("created_at", "pk")[:MAX_CANDIDATES]
    )


def _slot_for(
    entry: WaitingListEntry,
    resource: Resource,
    data: av.AvailabilityData,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    places: _PlaceCache,
) -> tuple[av.Slot, dt.datetime] | None:
    """The first slot of the freed interval that suits the entry, with its hold's end: the
    hold ends early enough for the person to book within the resource's minimum notice."""
    duration = dt.timedelta(minutes=entry.duration_minutes)
    if av.duration_error(resource, duration) or not _may_book(entry, resource):
        return None
    low, high = max(start, entry.window_start), min(end, entry.window_end)
    if high - low < duration:
        return None
    slots = av.resource_slots(
        resource,
        data,
        start=low,
        end=high - duration + dt.timedelta(seconds=1),
        duration=duration,
        now=now,
    )
    notice = dt.timedelta(minutes=resource.min_notice_minutes)
    for slot in slots:
        if not places.near(entry, slot.place_id):
            continue
        if entry.offered_resource_id == resource.pk and entry.offered_start == slot.start:
            continue  # the slot they declined (or that an agent withdrew) last time

        hold_until = min(now + hold_duration(), slot.start - notice)
        if hold_until - now >= MIN_HOLD:
            return slot, hold_until
    return None


def waitlist_offer_freed_slot(
    *,
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    exclude_entry_ids: Iterable[int] = (),
) -> list[WaitingListEntry]:
    """Offer what is free of `resource` within [start, end) to the waiting list: to each
    matching entry in line (oldest first), the first slot that suits it, held for
    BOOKING_WAITLIST_HOLD_MINUTES; and so on while free slots remain (a long freed interval, a
    seat of a workshop). Returns the entries that got an offer. Each offer is its own
    transaction; a slot taken meanwhile is simply not offered."""
    now = now or timezone.now()
    start = max(start, now)
    if end <= start or not resource.is_active:
        return []
    offered: list[WaitingListEntry] = []
    excluded = set(exclude_entry_ids)
    places = _PlaceCache()
    data = None
    for entry in _candidates(resource, start, end, excluded):
        if data is None:
            data = av.load_availability_data([resource], start - dt.timedelta(days=1), end)
        found = _slot_for(entry, resource, data, start=start, end=end, now=now, places=places)
        if found is None:
            continue
        slot, hold_until = found
        if _hold(entry, resource, slot, hold_until=hold_until, now=now):
            offered.append(entry)
            data = None  # the slot is taken now: reload before the next entry
    return offered


class _Unreachable(Exception):
    pass


def _hold(
    entry: WaitingListEntry,
    resource: Resource,
    slot: av.Slot,
    *,
    hold_until: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Hold `slot` for `entry` with a pending booking and send the offer, in one transaction.
    False if the entry is no longer waiting or the slot was taken meanwhile."""
    raw = secrets.token_urlsafe(18)
    try:
        with transaction.atomic():
            entry = (
                WaitingListEntry.objects.select_for_update(of=("self",))
                .select_related("user", "service")
                .filter(pk=entry.pk, status=Status.WAITING)
                .first()
            )
            if entry is None:
                return False
            # The engine's lock: whoever books this resource now waits for us, then sees the
            # allocation below. The slot is re-checked under it.
            locked = Resource.objects.select_for_update().get(pk=resource.pk)
            data = av.load_availability_data([locked], slot.start - dt.timedelta(days=1), slot.end)
            still_free = av.resource_slots(
                locked,
                data,
                start=slot.start,
                end=slot.start + dt.timedelta(seconds=1),
                duration=slot.end - slot.start,
                now=now,
                enforce_notice=False,
            )
            if not any(s.start == slot.start for s in still_free):
                return False
            try:  # a hold is a booking: the same guards as booking_create
                check_booking_guards([locked], actor=None)
            except BookingForbidden:
                return False
            booking = Booking.objects.create(
                reference=_new_reference(),
                start=slot.start,
                end=slot.end,
                status=Booking.Status.PENDING,
                service=entry.service,
                place_id=slot.place_id or locked.place_id,
                user=entry.user,
                person_name=entry.person_name,
                person_phone=entry.person_phone,
                person_email=entry.person_email,
                channel=Booking.Channel.WEB,
            )
            BookingTransition.objects.create(
                booking=booking,
                from_status="",
                to_status=Booking.Status.PENDING,
                reason=_("Créneau retenu pour la liste d'attente jusqu'à %(time)s")
                % {"time": timezone.localtime(hold_until).strftime("%d/%m/%Y %H:%M")},
            )
            Allocation.objects.create(
                booking=booking,
                resource=locked,
                blocked_start=slot.start - dt.timedelta(minutes=locked.buffer_before_minutes),
                blocked_end=slot.end + dt.timedelta(minutes=locked.buffer_after_minutes),
                units=1,
                is_exclusive=locked.is_exclusive,
            )
            entry.status = Status.OFFERED
            entry.offered_resource = locked
            entry.offered_start, entry.offered_end = slot.start, slot.end
            entry.hold_booking = booking
            entry.hold_expires_at = hold_until
            entry.offer_token_hash = _hash(raw)
            entry.offers_count += 1
            entry.save()
            audit_log(
                actor=None,
                action="booking.waitlist_offer",
                target=entry,
                data={
                    "booking": booking.pk,
                    "resource": locked.pk,
                    "start": slot.start.isoformat(),
                    "hold_until": hold_until.isoformat(),
                },
            )
            if not _send_offer(entry, booking, raw, now=now):
                raise _Unreachable
    except _Unreachable:
        logger.warning("Waiting list entry %s: no way to send an offer", entry.pk)
        return False
    except IntegrityError:
        # PostgreSQL's exclusion constraint: someone booked the slot at the same instant.
        return False
    return True


def waitlist_offer_path(raw: str) -> str:
    return reverse("booking:waitlist_offer", kwargs={"token": raw})


def _send_offer(entry: WaitingListEntry, booking: Booking, raw: str, *, now) -> int:
    from .notifications import day_text, fit_sms, hour_text, send_to_person

    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    url = ical.absolute_url(waitlist_offer_path(raw))
    place = booking.place
    until = hour_text(entry.hold_expires_at)
    if timezone.localtime(entry.hold_expires_at).date() != timezone.localtime(now).date():
        until = f"{day_text(entry.hold_expires_at, year=False)} {until}"
    lines = [
        _("Bonjour %(name)s,") % {"name": entry.display_name},
        "",
        _("Bonne nouvelle : une place s'est libérée. Nous vous la gardons jusqu'à %(until)s.")
        % {"until": until},
        "",
        _("Quand : %(day)s, de %(start)s à %(end)s")
        % {
            "day": day_text(booking.start),
            "start": hour_text(booking.start),
            "end": hour_text(booking.end),
        },
    ]
    if place is not None:
        lines.append(_("Où : %(where)s") % {"where": ical.place_location(place)})
    if entry.service_id is not None:
        lines.append(_("Prestation : %(label)s") % {"label": entry.service.label})
    lines += [
        "",
        _("Pour la prendre, ouvrez ce lien et confirmez : %(url)s") % {"url": url},
        _(
            "Si elle ne vous convient pas, dites-le depuis le même lien : vous restez sur la "
            "liste d'attente. Sans réponse à %(until)s, elle sera proposée à la personne suivante."
        )
        % {"until": until},
        "",
        platform,
    ]
    day, hour = day_text(booking.start, year=False), hour_text(booking.start)
    wheres = (
        [f"{place.name}, {place.commune.name}", place.name[:40], place.commune.name]
        if place is not None
        else [""]
    )
    sms = fit_sms(
        [
            _(
                "%(p)s : une place s'est libérée le %(day)s à %(hour)s, %(where)s. "
                "Pour la prendre avant %(until)s : %(url)s"
            )
            % {"p": platform, "day": day, "hour": hour, "where": w, "until": until, "url": url}
            for w in wheres
        ]
    )
    return send_to_person(
        recipient=_recipient(entry),
        has_account=entry.user_id is not None,
        subject=_("Une place s'est libérée : répondez avant %(until)s") % {"until": until},
        email="\n".join(lines) + "\n",
        sms=sms,
        letter=None,
        key=f"waitlist-offer:{entry.pk}:{entry.offers_count}",
        sensitive=True,  # the link books the slot: blanked once delivered
    )


# --- Ending an offer ----------------------------------------------------------------------------


def _release_hold(booking: Booking | None, *, reason: str) -> bool:
    """Cancel a hold that is still pending; True if it was."""
    if booking is None:
        return False
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != Booking.Status.PENDING:
        return False
    BookingTransition.objects.create(
        booking=booking,
        from_status=booking.status,
        to_status=Booking.Status.CANCELLED,
        reason=reason[:300],
    )
    booking.status = Booking.Status.CANCELLED
    booking.save(update_fields=["status", "updated_at"])
    booking.allocations.update(is_active=False)
    return True


_Freed = tuple[int, dt.datetime, dt.datetime] | None


def _end_offer(entry: WaitingListEntry, *, status: str, reason: str) -> _Freed:
    """Close the entry's pending offer (if any) and set its status; returns the freed slot."""
    freed: _Freed = None
    if entry.status == Status.OFFERED and _release_hold(entry.hold_booking, reason=reason):
        freed = (entry.offered_resource_id, entry.offered_start, entry.offered_end)
    entry.status = status
    if status != Status.EXPIRED:
        # Back in line or off the list: the link dies. An expired link still opens a page
        # that says so.
        entry.offer_token_hash = ""
    entry.hold_expires_at = None
    entry.save()
    return freed


def _offer_after_commit(freed: _Freed, *, exclude: list[int]) -> None:
    if freed is None or freed[0] is None:
        return
    resource_id, start, end = freed

    def offer() -> None:
        try:
            resource = Resource.objects.filter(pk=resource_id).first()
            if resource is not None:
                waitlist_offer_freed_slot(
                    resource=resource, start=start, end=end, exclude_entry_ids=exclude
                )
        except Exception:
            logger.exception("Waiting list: slot of resource %s not offered", resource_id)

    transaction.on_commit(offer)


def waitlist_offer_get(raw: str) -> WaitingListEntry | None:
    """The entry holding an offer for this secret link (any status: the page explains an
    expired or accepted offer), or None for an unknown link."""
    if not isinstance(raw, str) or not TOKEN_MIN_LENGTH <= len(raw) <= TOKEN_MAX_LENGTH:
        return None
    digest = _hash(raw)
    entry = (
        WaitingListEntry.objects.select_related(
            "offered_resource", "hold_booking__place__commune", "service", "user"
        )
        .filter(offer_token_hash=digest)
        .first()
    )
    if entry is None or not hmac.compare_digest(entry.offer_token_hash, digest):
        return None
    return entry


def _locked_offer(raw: str, now: dt.datetime) -> WaitingListEntry:
    entry = waitlist_offer_get(raw)
    if entry is None:
        raise BookingRuleError(_("Ce lien n'est plus valable : la proposition est terminée."))
    entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != Status.OFFERED or entry.hold_booking_id is None:
        raise BookingRuleError(_("Ce lien n'est plus valable : la proposition est terminée."))
    if entry.hold_expires_at <= now:
        raise BookingRuleError(
            _("Le délai pour répondre est passé : la place a été proposée à quelqu'un d'autre.")
        )
    return entry


def waitlist_accept(*, token: str, now: dt.datetime | None = None) -> Booking:
    """Book the offered slot for the entry's person. The secret link proves who answers (it
    went to their phone or mailbox), as a login link would. In one transaction: the hold is
    released and the slot booked through `booking_create`, with every booking rule; if one
    refuses, nothing changes and its error (BookingError, in French) is raised."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = _locked_offer(token, now)
        _release_hold(entry.hold_booking, reason=_("Place acceptée par la personne"))
        resource = entry.offered_resource
        service = entry.service
        if service is not None and not resource.services.filter(pk=service.pk).exists():
            service = None
        booking = booking_create(
            actor=entry.user,
            resources=[resource],
            start=entry.offered_start,
            end=entry.offered_end,
            service=service,
            for_user=entry.user,
            person=(
                None
                if entry.user_id is not None
                else PersonDetails(
                    name=entry.person_name, phone=entry.person_phone, email=entry.person_email
                )
            ),
            channel=Booking.Channel.WEB,
            now=now,
        )
        entry.status = Status.ACCEPTED
        entry.booking = booking
        entry.hold_expires_at = None
        entry.save()
        audit_log(
            actor=entry.user,
            action="booking.waitlist_accept",
            target=entry,
            data={"booking": booking.pk},
        )
    return booking


def waitlist_decline(
    *, token: str, leave: bool = False, now: dt.datetime | None = None
) -> WaitingListEntry:
    """The person does not want this slot: it goes to the next in line, and they stay in line
    for another one — or, with `leave`, they leave the list (the offer's link is the way out
    for someone without an account)."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = _locked_offer(token, now)
        if leave:
            freed = _end_offer(
                entry, status=Status.CANCELLED, reason=_("Retrait de la liste par la personne")
            )
        else:
            freed = _end_offer(
                entry, status=Status.WAITING, reason=_("Place refusée par la personne")
            )
        action = "booking.waitlist_leave" if leave else "booking.waitlist_decline"
        audit_log(actor=entry.user, action=action, target=entry)
    _offer_after_commit(freed, exclude=[entry.pk])
    return entry


def waitlist_expire_holds(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Periodic (every minute): end the offers whose hold has expired — the entry is marked
    expired, the slot offered to the next in line. Returns how many offers ended. Safe when
    run twice at once: each entry is re-read under its lock."""
    now = now or timezone.now()
    ids = list(
        WaitingListEntry.objects.filter(status=Status.OFFERED, hold_expires_at__lte=now)
        .order_by("hold_expires_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ended = 0
    for pk in ids:
        try:
            with transaction.atomic():
                entry = (
                    WaitingListEntry.objects.select_for_update()
                    .filter(pk=pk, status=Status.OFFERED, hold_expires_at__lte=now)
                    .first()
                )
                if entry is None:
                    continue
                hold = entry.hold_booking
                if hold is not None and hold.status not in (
                    Booking.Status.PENDING,
                    Booking.Status.CANCELLED,
                ):
                    # An agent confirmed the hold: the person has their booking.
                    entry.status, entry.booking, entry.hold_expires_at = Status.ACCEPTED, hold, None
                    entry.save()
                    continue
                freed = _end_offer(
                    entry, status=Status.EXPIRED, reason=_("Pas de réponse dans le délai")
                )
                audit_log(actor=None, action="booking.waitlist_expire", target=entry)
                _offer_after_commit(freed, exclude=[entry.pk])
                ended += 1
        except Exception:
            logger.exception("Waiting list entry %s: the expired offer could not be ended", pk)
    return ended


# --- Reacting to the engine ---------------------------------------------------------------------


def waitlist_booking_event(*, booking_id: int, event: str) -> bool:
    """Called by booking_event before any message. True when the booking is a waiting-list
    hold, whose events are the waiting list's business (no booking message is sent):
    - confirmed by an agent: the person has the slot (entry accepted; the confirmation is
      then sent as for any booking, hence False);
    - cancelled by an agent: the offer is withdrawn, the person goes back to waiting, the slot
      back to the public."""
    entry = (
        WaitingListEntry.objects.filter(hold_booking_id=booking_id, status=Status.OFFERED)
        .select_related("hold_booking")
        .first()
    )
    if entry is None:
        return False
    with transaction.atomic():
        entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != Status.OFFERED:
            return False
        hold = Booking.objects.get(pk=booking_id)
        if event == "confirmed" or hold.status == Booking.Status.CONFIRMED:
            entry.status, entry.booking, entry.hold_expires_at = Status.ACCEPTED, hold, None
            entry.save()
            return False
        if hold.status == Booking.Status.CANCELLED:
            entry.status = Status.WAITING
            entry.offer_token_hash, entry.hold_expires_at = "", None
            entry.save()
            audit_log(actor=None, action="booking.waitlist_withdrawn", target=entry)
        elif event == "rescheduled":
            entry.offered_start, entry.offered_end = hold.start, hold.end
            entry.save()
    return True


def waitlist_booking_cancelled(
    *, booking_id: int, now: dt.datetime | None = None
) -> list[WaitingListEntry]:
    """A booking was cancelled: offer its slot, on each of its resources, to the waiting list."""
    now = now or timezone.now()
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or booking.status != Booking.Status.CANCELLED or booking.end <= now:
        return []
    offered = []
    for allocation in booking.allocations.select_related("resource"):
        offered += waitlist_offer_freed_slot(
            resource=allocation.resource, start=booking.start, end=booking.end, now=now
        )
    return offered


def waitlist_closure_lifted(
    *,
    start: dt.datetime,
    end: dt.datetime,
    resource_id: int | None = None,
    place_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[WaitingListEntry]:
    """A closure was lifted: offer what it had closed to the waiting lists of the resources
    it covered (one resource, those of a place, or every resource) that have someone waiting."""
    now = now or timezone.now()
    if end <= now:
        return []
    waiting = WaitingListEntry.objects.filter(
        status=Status.WAITING, window_start__lt=end, window_end__gt=start
    )
    resources = Resource.objects.filter(is_active=True).filter(
        Q(pk__in=waiting.filter(resource__isnull=False).values("resource_id"))
        | Q(services__in=waiting.filter(resource__isnull=True).values("service_id"))
    )
    if resource_id is not None:
        resources = resources.filter(pk=resource_id)
    elif place_id is not None:
        resources = resources.filter(
            Q(place_id=place_id) | Q(availability_rules__place_id=place_id)
        )
    offered = []
    for resource in resources.distinct().order_by("pk"):
        offered += waitlist_offer_freed_slot(resource=resource, start=start, end=end, now=now)
    return offered


@receiver(post_delete, sender=Closure, dispatch_uid="booking.waitlist.closure_lifted")
def _closure_deleted(sender, instance: Closure, **kwargs) -> None:
    # Closures are edited in the admin as well as by services: the signal catches both.
    window = {
        "start": instance.start,
        "end": instance.end,
        "resource_id": instance.resource_id,
        "place_id": instance.place_id,
    }

    def offer() -> None:
        try:
            waitlist_closure_lifted(**window)
        except Exception:
            logger.exception("Waiting list: the lifted closure's slots were not offered")

    transaction.on_commit(offer)


# --- Personal data ------------------------------------------------------------------------------

# Entries whose window ended this long ago are deleted (retention): they hold a name and a
# phone number for nothing.
RETENTION = dt.timedelta(days=30)


def waitlist_purge(*, now: dt.datetime | None = None) -> int:
    """Periodic (daily): delete the entries whose window ended more than RETENTION ago, and
    return how many. An entry with a pending offer is left to its expiry."""
    now = now or timezone.now()
    deleted, _by_model = (
        WaitingListEntry.objects.filter(window_end__lt=now - RETENTION)
        .exclude(status=Status.OFFERED)
        .delete()
    )
    return deleted


def waitlist_held_booking_ids() -> QuerySet:
    """Ids of the pending bookings that only hold a slot offered from a waiting list: the UI
    and the API may show them as such ("place proposée", not "en attente de validation")."""
    return WaitingListEntry.objects.filter(
        status=Status.OFFERED, hold_booking__isnull=False
    ).values_list("hold_booking_id", flat=True)


def waitlist_personal_data_export(user) -> list[dict]:
    """What the waiting lists hold about an account (accounts.personal_data provider)."""
    return [
        {
            "inscrit_le": entry.created_at.isoformat(),
            "ressource": str(entry.resource) if entry.resource_id else "",
            "prestation": str(entry.service) if entry.service_id else "",
            "du": entry.window_start.isoformat(),
            "au": entry.window_end.isoformat(),
            "duree_minutes": entry.duration_minutes,
            "etat": entry.get_status_display(),
        }
        for entry in WaitingListEntry.objects.filter(user=user).select_related(
            "resource", "service"
        )
    ]


def waitlist_personal_data_erase(user) -> None:
    """Erasure: withdraw the account's pending offers (their slots go back to the public) and
    delete its entries. Runs inside the erasure's transaction."""
    for entry in WaitingListEntry.objects.select_for_update().filter(
        user=user, status=Status.OFFERED
    ):
        _release_hold(entry.hold_booking, reason=_("Effacement des données de la personne"))
    WaitingListEntry.objects.filter(user=user).delete()
