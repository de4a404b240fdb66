"""What several booking pages share: words for dates and durations, links, the words the
templates show for a booking or a waiting-list entry, free slots grouped by day, the commune a
visitor means, and the resources an agent manages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cybercantal.accounts.selectors import users_matching_contact
from cybercantal.core.notifications.sms import normalize_phone
from cybercantal.core.text import normalize_search
from cybercantal.territory.models import Commune, Place
from cybercantal.territory.selectors import commune_get, commune_search

from .. import selectors
from ..models import Booking, Resource, Service, WaitingListEntry
from ..perms import TERRITORY_STAFF_ROLES, agent_organisation_ids

RECENT_MAX = 10  # references (or waiting-list entries) remembered per browser

# --- Words for dates and durations ------------------------------------------------------------


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def time_text(moment: dt.datetime) -> str:
    """ "9 h 30", "14 h" (kept on one line)."""
    local = _local(moment)
    if local.minute:
        text = _("%(hour)d h %(minute)02d") % {"hour": local.hour, "minute": local.minute}
    else:
        text = _("%(hour)d h") % {"hour": local.hour}
    return text.replace(" ", "\u00a0")


def day_text(day: dt.date | dt.datetime, *, capitalize: bool = False) -> str:
    """ "mardi 2 mars", "lundi 1er mars", with the year when it is not this year's."""
    if isinstance(day, dt.datetime):
        day = _local(day).date()
    text = _("%(weekday)s %(day)s %(month)s") % {
        "weekday": formats.date_format(day, "l"),
        "day": _("1er") if day.day == 1 else str(day.day),
        "month": formats.date_format(day, "F"),
    }
    if day.year != timezone.localdate().year:
        text = f"{text} {day.year}"
    return text[:1].upper() + text[1:] if capitalize else text


def when_text(moment: dt.datetime) -> str:
    """ "mardi 2 mars à 9 h 30"."""
    return _("%(day)s à %(time)s") % {"day": day_text(moment), "time": time_text(moment)}


def duration_text(duration: dt.timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    if minutes < 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours, rest = divmod(minutes, 60)
    if rest:
        return (_("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}).replace(
            " ", "\u00a0"
        )
    return (_("%(hours)d h") % {"hours": hours}).replace(" ", "\u00a0")


def parse_moment(raw: str | None) -> dt.datetime | None:
    """An ISO date-time from a link or a form ("2027-03-02T09:30:00+01:00"); one without an
    offset is read in the platform's time zone. None when unreadable."""
    try:
        moment = parse_datetime((raw or "").strip())
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)


# --- Small helpers ----------------------------------------------------------------------------


def _service_by_code(code: str | None) -> Service | None:
    return selectors.service_list().filter(code=code).first() if code else None


def _place_phone(place: Place | None) -> str:
    if place is None:
        return ""
    return place.phone or (place.organisation.phone if place.organisation_id else "")


def _booking_phone(booking: Booking) -> str:
    return booking.user.phone if booking.user_id else booking.person_phone


def _url(name: str, params: dict | None = None, **kwargs) -> str:
    url = reverse(name, kwargs=kwargs or None)
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


def _iso(moment: dt.datetime) -> str:
    return _local(moment).isoformat()


# --- Words the templates show for a booking or a waiting-list entry ------------------------------


def _deadline(booking: Booking) -> dt.datetime:
    """Until when the holder may cancel or move the booking online (the strictest resource)."""
    hours = max(
        (a.resource.cancellation_deadline_hours for a in booking.allocations.all()), default=0
    )
    return booking.start - dt.timedelta(hours=hours)


def _decorate(booking: Booking) -> Booking:
    """Words the templates show for a booking."""
    booking.when_label = when_text(booking.start)
    booking.day_label = day_text(booking.start, capitalize=True)
    booking.time_label = time_text(booking.start)
    booking.end_label = time_text(booking.end)
    booking.duration_label = duration_text(booking.end - booking.start)
    booking.phone_number = _booking_phone(booking)
    booking.place_phone = _place_phone(booking.place)
    booking.resource_names = ", ".join(a.resource.name for a in booking.allocations.all())
    return booking


def _decorate_entry(entry: WaitingListEntry) -> WaitingListEntry:
    """Words the templates show for a waiting-list entry."""
    entry.what_label = (
        entry.service.label
        if entry.service_id
        else (entry.resource.name if entry.resource_id else "")
    )
    if entry.resource_id and entry.service_id:
        entry.what_label = f"{entry.service.label} — {entry.resource.name}"
    if entry.place_id:
        entry.where_label = entry.place.name
    elif entry.commune_id:
        entry.where_label = _("à moins de %(km)d km de %(commune)s") % {
            "km": entry.radius_km,
            "commune": entry.commune.name,
        }
    else:
        entry.where_label = ""
    entry.until_label = day_text(entry.window_end)
    entry.since_label = day_text(entry.created_at) if entry.created_at else ""
    entry.hold_label = when_text(entry.hold_expires_at) if entry.hold_expires_at else ""
    entry.offer_label = when_text(entry.offered_start) if entry.offered_start else ""
    return entry


# --- Slots, communes ---------------------------------------------------------------------------


@dataclass
class SlotChoice:
    start: dt.datetime
    time_label: str
    when_label: str
    url: str


@dataclass
class SlotDay:
    """Free slots of one day, for one resource (rescheduling, the agent's form)."""

    day: dt.date
    label: str
    slots: list[SlotChoice] = field(default_factory=list)


def _slot_days(starts, url_for) -> list[SlotDay]:
    days: dict[dt.date, SlotDay] = {}
    for moment in starts:
        day = _local(moment).date()
        group = days.setdefault(day, SlotDay(day, day_text(day, capitalize=True)))
        group.slots.append(
            SlotChoice(
                start=moment,
                time_label=time_text(moment),
                when_label=when_text(moment),
                url=url_for(moment),
            )
        )
    return sorted(days.values(), key=lambda d: d.day)


def _resolve_commune(text: str, insee: str) -> tuple[Commune | None, list[Commune]]:
    """The commune meant, or the candidates to choose from."""
    if insee:
        commune = commune_get(insee)
        if commune is not None:
            return commune, []
    if not text:
        return None, []
    matches = commune_search(text, limit=20)
    if len(matches) == 1:
        return matches[0], []
    needle = normalize_search(text)
    exact = [c for c in matches if c.search_name == needle]
    if len(exact) == 1:
        return exact[0], []
    return None, matches


# --- Agents -------------------------------------------------------------------------------------


def _agent_resources(user):
    """The resources whose bookings this person manages (booking.perms.is_resource_agent, as
    one query): every resource for staff of the Département, else those of the organisations
    they work for (perms.agent_organisation_ids: not as a resident, parent or pupil)."""
    if not getattr(user, "is_authenticated", False):
        return Resource.objects.none()
    resources = selectors.resource_list(actor=user)
    if not user.has_role(*TERRITORY_STAFF_ROLES):
        resources = resources.filter(organisation_id__in=agent_organisation_ids(user))
    return resources


def _require_agent(request: HttpRequest) -> list[Resource]:
    resources = list(_agent_resources(request.user))
    if not resources:
        raise PermissionDenied(
            _("Cette page est réservée aux personnes qui gèrent des rendez-vous d'un lieu.")
        )
    return resources


def _account_for_phone(raw: str) -> tuple[str, object | None]:
    """The number in E.164 ("" if unreadable) and the active account using it, if any."""
    try:
        phone = normalize_phone(raw) if raw else ""
    except ValueError:
        return "", None
    account = users_matching_contact(phone=phone).filter(is_active=True).first() if phone else None
    return phone, account
