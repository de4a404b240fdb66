"""iCalendar (RFC 5545): invitations attached to booking e-mails, the single-booking download,
and the feeds that calendar applications read at a secret address.

Every booking has one stable UID, so that an invitation, its update, its cancellation, a
download and a feed all describe the same event; its SEQUENCE is the number of changes logged
since creation (BookingTransition rows minus the first), so that it grows at each
confirmation, move or cancellation and a calendar always keeps the newest version. Times are
written in UTC.

What an event says about a person is the minimum:
- for the person themselves: where and when, the reference, how to reach the place; never the
  service (a teleconsultation's speciality is health data) nor the notes;
- in a resource's feed, read by its agents: the person's name (who comes) and phone number (to
  warn them of a delay or a closure), the service and the reference; never the e-mail, the
  postal address or the notes. A feed travels to third-party calendar services (Google,
  Microsoft, Apple): what is not needed to receive the person stays in the application.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from email.utils import parseaddr
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log
from cybercantal.core.notifications.sms import phone_display

from .errors import BookingForbidden, BookingRuleError
from .hooks import hide_from
from .models import Booking, CalendarFeedToken, Resource, WaitingListEntry
from .perms import TERRITORY_STAFF_ROLES, is_resource_agent

PERSON = "person"
AGENT = "agent"

# A feed shows what is coming and the recent past (to check yesterday's appointment).
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 400
FEED_MAX_EVENTS = 5000
# Calendar applications poll often: last_used_at is a hint, written at most this often.
LAST_USED_PRECISION = dt.timedelta(minutes=15)
TOKEN_PREFIX_LENGTH = 8
NAME_MAX_LENGTH = 100


def site_url() -> str:
    """The public address of the platform, for links in messages and calendars (no request
    is at hand in a background task): settings.CYBERCANTAL_SITE_URL."""
    return settings.CYBERCANTAL_SITE_URL.rstrip("/")


def absolute_url(path: str) -> str:
    return site_url() + path


def page_url(name: str) -> str:
    """The absolute address of a page of the site (its home page if the page is missing)."""
    try:
        return absolute_url(reverse(name))
    except NoReverseMatch:
        return site_url() + "/"


def booking_uid(booking: Booking) -> str:
    host = urlsplit(site_url()).hostname or "cybercantal.invalid"
    return f"reservation-{booking.pk}@{host}"


def booking_sequence(booking: Booking) -> int:
    """How many times the booking changed since it was created (RFC 5545 SEQUENCE). Reads the
    `transition_count` annotation when the queryset has it (feeds), else counts."""
    count = getattr(booking, "transition_count", None)
    if count is None:
        count = booking.transitions.count()
    return max(count - 1, 0)


def place_location(place) -> str:
    """ "Espace France Services, 2 rue du Collège, 15100 Saint-Flour": name, address, commune."""
    if place is None:
        return ""
    street = ", ".join(p for p in (place.address, place.address_complement) if p)
    commune = " ".join(p for p in (place.postal_code, place.commune.name) if p)
    return ", ".join(p for p in (place.name, street, commune) if p)


def _status(booking: Booking) -> str:
    if booking.status == Booking.Status.CANCELLED:
        return "CANCELLED"
    if booking.status == Booking.Status.PENDING:
        return "TENTATIVE"
    return "CONFIRMED"


def _person_phone(booking: Booking) -> str:
    phone = booking.person_phone or (getattr(booking.user, "phone", "") if booking.user else "")
    return phone_display(phone) if phone else ""


def _event(
    booking: Booking, *, audience: str, now: dt.datetime, held: bool = False
) -> icalendar.Event:
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    place = booking.place
    event = icalendar.Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("last-modified", booking.updated_at.astimezone(dt.UTC))
    event.add("dtstart", booking.start.astimezone(dt.UTC))
    event.add("dtend", booking.end.astimezone(dt.UTC))
    event.add("sequence", booking_sequence(booking))
    event.add("status", _status(booking))
    event.add("class", "PRIVATE")
    location = booking.location or place_location(place)
    if location:
        event.add("location", location)
    lines = [_("Référence : %(ref)s") % {"ref": booking.reference}]
    if audience == AGENT:
        summary = booking.display_name
        if booking.service_id is not None:
            summary = f"{summary} — {booking.service.label}"
        if held:
            summary = _("%(summary)s (retenu pour la liste d'attente)") % {"summary": summary}
        elif booking.status == Booking.Status.PENDING:
            summary = _("%(summary)s (à valider)") % {"summary": summary}
        phone = _person_phone(booking)
        if phone:
            lines.insert(0, _("Téléphone : %(phone)s") % {"phone": phone})
        if booking.participants > 1:
            lines.append(_("Nombre de places : %(count)d") % {"count": booking.participants})
        channel = str(Booking.Channel(booking.channel).label)
        lines.append(_("Prise %(channel)s") % {"channel": channel[:1].lower() + channel[1:]})
    else:
        summary = (
            _("Rendez-vous — %(place)s") % {"place": place.name}
            if place is not None
            else _("Rendez-vous %(platform)s") % {"platform": platform}
        )
        if place is not None and place.phone:
            lines.append(
                _("En cas d'empêchement, prévenez le lieu : %(phone)s")
                % {"phone": phone_display(place.phone)}
            )
        lines.append(
            _("Pour annuler ou déplacer ce rendez-vous : %(url)s")
            % {"url": page_url("booking:my_bookings")}
        )
    event.add("summary", summary)
    event.add("description", "\n".join(lines))
    return event


def _calendar(method: str | None = None, name: str = "") -> icalendar.Calendar:
    branding = settings.CYBERCANTAL_BRANDING
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{branding['department_name']}//{branding['platform_name']}//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def booking_invitation(
    booking: Booking,
    *,
    method: str,
    attendee_email: str = "",
    attendee_name: str = "",
    now: dt.datetime | None = None,
) -> bytes:
    """The .ics attached to a booking e-mail: METHOD:REQUEST for a new or moved booking,
    METHOD:CANCEL for a cancelled one (STATUS:CANCELLED, same UID, higher SEQUENCE)."""
    now = now or timezone.now()
    calendar = _calendar(method)
    event = _event(booking, audience=PERSON, now=now)
    if method in ("REQUEST", "CANCEL"):
        # iTIP (RFC 5546) wants an organizer and the attendee: the platform invites the person.
        platform = settings.CYBERCANTAL_BRANDING["platform_name"]
        organizer = icalendar.vCalAddress(f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
        organizer.params["cn"] = platform
        event.add("organizer", organizer)
        if attendee_email:
            attendee = icalendar.vCalAddress(f"mailto:{attendee_email}")
            if attendee_name:
                attendee.params["cn"] = attendee_name
            attendee.params["role"] = "REQ-PARTICIPANT"
            attendee.params["partstat"] = "ACCEPTED"
            attendee.params["rsvp"] = "FALSE"
            event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()


def booking_ics(booking: Booking, *, audience: str = PERSON, now: dt.datetime | None = None):
    """One booking as a .ics to download ("add to my calendar"): METHOD:PUBLISH."""
    calendar = _calendar("PUBLISH")
    calendar.add_component(_event(booking, audience=audience, now=now or timezone.now()))
    return calendar.to_ical()


def feed_ics(
    bookings: Iterable[Booking],
    *,
    name: str,
    audience: str,
    held_ids: frozenset[int] = frozenset(),
    now: dt.datetime | None = None,
) -> bytes:
    now = now or timezone.now()
    calendar = _calendar(name=name)
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"value": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for booking in bookings:
        calendar.add_component(
            _event(booking, audience=audience, now=now, held=booking.pk in held_ids)
        )
    return calendar.to_ical()


# --- Feed addresses ---------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def calendar_feed_create(
    *, actor, resource: Resource | None = None, name: str = ""
) -> tuple[CalendarFeedToken, str]:
    """A new secret feed address for the actor: their own bookings, or those of `resource`
    when the actor is one of its agents (BookingForbidden otherwise). Returns the feed and its
    secret token, shown once and never stored (only its SHA-256 is)."""
    if not _is_authenticated(actor) or not actor.is_active:
        raise BookingForbidden(_("Connectez-vous pour créer un agenda en ligne."))
    if resource is not None and not is_resource_agent(actor, resource):
        raise BookingForbidden(
            _("Seul un agent de « %(name)s » peut en publier l'agenda.") % {"name": resource.name}
        )
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX_LENGTH:
        raise BookingRuleError(
            _("Le nom de l'agenda doit faire %(max)d caractères au plus.")
            % {"max": NAME_MAX_LENGTH}
        )
    name = name or (resource.name if resource is not None else _("Mes rendez-vous"))
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeedToken.objects.create(
            owner=actor,
            resource=resource,
            name=name,
            token_prefix=raw[:TOKEN_PREFIX_LENGTH],
            token_hash=hash_token(raw),
        )
        audit_log(
            actor=actor,
            action="booking.calendar_feed_create",
            target=feed,
            data={"resource": resource.pk if resource else None, "prefix": feed.token_prefix},
        )
    return feed, raw


def calendar_feed_revoke(*, actor, feed: CalendarFeedToken) -> CalendarFeedToken:
    """Revoke a feed: its address answers 404 from now on. Its owner may, and so may staff of
    the Département; anyone else gets BookingForbidden. Revoking twice changes nothing."""
    if not _is_authenticated(actor):
        raise BookingForbidden(_("Connectez-vous pour gérer vos agendas en ligne."))
    with transaction.atomic():
        feed = CalendarFeedToken.objects.select_for_update().get(pk=feed.pk)
        if feed.owner_id != actor.pk and not actor.has_role(*TERRITORY_STAFF_ROLES):
            raise BookingForbidden(_("Vous ne pouvez révoquer que vos propres agendas."))
        if feed.revoked_at is None:
            feed.revoked_at = timezone.now()
            feed.save(update_fields=["revoked_at"])
            audit_log(
                actor=actor,
                action="booking.calendar_feed_revoke",
                target=feed,
                data={"prefix": feed.token_prefix},
            )
    return feed


def calendar_feed_list(*, actor) -> QuerySet[CalendarFeedToken]:
    """The actor's own feeds, revoked ones included, newest first."""
    if not _is_authenticated(actor):
        return CalendarFeedToken.objects.none()
    return CalendarFeedToken.objects.filter(owner=actor).select_related("resource")


def calendar_feed_path(raw: str) -> str:
    return reverse("booking:feed_ics", kwargs={"token": raw})


def calendar_feed_authenticate(
    raw: str, *, now: dt.datetime | None = None
) -> CalendarFeedToken | None:
    """The feed of an unrevoked token whose owner is still an active account, and, for a
    resource feed, still one of its agents; None otherwise (the view answers 404). The right
    to read is checked at every read: a feed dies with its owner's role."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return None
    digest = hash_token(raw)
    feed = (
        CalendarFeedToken.objects.select_related("owner", "resource")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    owner = feed.owner
    if not owner.is_active or getattr(owner, "erased_at", None) is not None:
        return None
    if feed.resource is not None and not is_resource_agent(owner, feed.resource):
        return None
    now = now or timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at >= LAST_USED_PRECISION:
        CalendarFeedToken.objects.filter(pk=feed.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
    return feed


def _held_booking_ids() -> QuerySet:
    """Pending bookings that only hold a slot offered to someone on a waiting list."""
    return WaitingListEntry.objects.filter(
        status=WaitingListEntry.Status.OFFERED, hold_booking__isnull=False
    ).values("hold_booking_id")


def calendar_feed_bookings(
    feed: CalendarFeedToken, *, now: dt.datetime | None = None
) -> QuerySet[Booking]:
    """What a feed shows: the bookings of the last 30 days and to come, not cancelled; the
    owner's own (a slot merely offered from a waiting list is not theirs yet), or all those of
    the resource; less what a module hides from the owner (hooks.booking_visibility_filters)."""
    now = now or timezone.now()
    bookings = Booking.objects.exclude(status=Booking.Status.CANCELLED).filter(
        end__gte=now - dt.timedelta(days=FEED_PAST_DAYS),
        start__lt=now + dt.timedelta(days=FEED_FUTURE_DAYS),
    )
    if feed.resource_id is None:
        bookings = bookings.filter(user_id=feed.owner_id).exclude(pk__in=_held_booking_ids())
    else:
        bookings = bookings.filter(allocations__resource_id=feed.resource_id)
    return (
        hide_from(bookings, feed.owner)
        .annotate(transition_count=Count("transitions", distinct=True))
        .select_related("place__commune", "service", "user")
        .order_by("start", "pk")
    )


def calendar_feed_render(feed: CalendarFeedToken, *, now: dt.datetime | None = None) -> bytes:
    now = now or timezone.now()
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    bookings = list(calendar_feed_bookings(feed, now=now)[:FEED_MAX_EVENTS])
    held = frozenset()
    if feed.resource_id is not None:
        held = frozenset(
            _held_booking_ids()
            .filter(hold_booking_id__in=[b.pk for b in bookings if b.status == "pending"])
            .values_list("hold_booking_id", flat=True)
        )
    return feed_ics(
        bookings,
        name=f"{platform} — {feed.name}",
        audience=AGENT if feed.resource_id else PERSON,
        held_ids=held,
        now=now,
    )


def calendar_feeds_personal_data_export(user) -> list[dict]:
    """The account's calendar feeds (accounts.personal_data provider): never the secret."""
    return [
        {
            "nom": feed.name,
            "debut_du_jeton": feed.token_prefix,
            "ressource": str(feed.resource) if feed.resource_id else "",
            "cree_le": feed.created_at.isoformat(),
            "revoque_le": feed.revoked_at.isoformat() if feed.revoked_at else None,
            "derniere_lecture": feed.last_used_at.isoformat() if feed.last_used_at else None,
        }
        for feed in CalendarFeedToken.objects.filter(owner=user).select_related("resource")
    ]


def calendar_feeds_personal_data_erase(user) -> None:
    """Erasure: the account's feeds stop answering and are deleted."""
    CalendarFeedToken.objects.filter(owner=user).delete()
