"""The booking pages.

- Public: choose a service, then a commune and a distance, then one of the next free slots;
  confirm it in one click when signed in, or with a name and a mobile number confirmed by a
  6-digit SMS code; a confirmation page to keep.
- "Mes réservations": upcoming bookings, cancel (with a confirmation step) and reschedule; the
  person's waiting-list entries (leave); "Mon agenda sur mon téléphone" (calendar feeds).
- Waiting list: when no slot suits, join for a service near a commune for 2, 4 or 8 weeks, in
  one step when signed in, else confirmed by the same SMS code as a booking.
- Agents: a day or week agenda of a place or a person, actions on each booking, booking for
  someone on the phone or at the desk (or putting them on the waiting list), cancelling a whole
  day, publishing a resource's calendar feed.

Everything works without JavaScript (GET forms for searches, POST forms for writes); htmx only
refreshes the free slots of the agent's booking form in place. Reads go through
booking.selectors (scoped to the visitor), writes through booking.services; their refusals
(BookingRuleError, BookingConflict, BookingForbidden) are shown as French messages on the page,
never as an error page."""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.accounts.ratelimit import RateLimitExceeded, rate_limit_hit, rate_limit_refund
from cybercantal.accounts.selectors import users_matching_contact
from cybercantal.core.geo import ROAD_FACTOR
from cybercantal.core.http import client_ip
from cybercantal.core.notifications import Recipient, notification_send
from cybercantal.core.notifications.sms import normalize_phone, phone_display
from cybercantal.core.text import normalize_search
from cybercantal.territory.models import Commune, Place
from cybercantal.territory.selectors import commune_get, commune_search, place_get

from . import availability as av
from . import ical, selectors, services, waitlist
from .errors import BookingConflict, BookingError, BookingForbidden
from .forms import (
    DEFAULT_RADIUS_KM,
    DEFAULT_WAITLIST_WEEKS,
    RADIUS_CHOICES_KM,
    WAITLIST_WEEKS,
    AgendaForm,
    AgentBookingForm,
    AgentCancelForm,
    AgentWaitlistForm,
    CalendarFeedForm,
    CancelDayForm,
    CodeVerifyForm,
    PersonForm,
    ResourceFeedForm,
    SlotForm,
    SlotSearchForm,
    WaitlistForm,
    WaitlistPersonForm,
)
from .models import Booking, CalendarFeedToken, Resource, Service, WaitingListEntry
from .perms import TERRITORY_STAFF_ROLES, agent_organisation_ids

# Session keys of the booking without an account.
PENDING_KEY = "booking_pending"  # the slot, the person, the hashed SMS code
VERIFIED_KEY = "booking_verified_contact"  # a phone confirmed by a code, for a short while
RECENT_KEY = "booking_recent"  # references booked from this browser (confirmation page)
VERIFIED_SECONDS = 30 * 60
RECENT_MAX = 10
CODE_SALT = "cybercantal.booking.phone-code"

SEARCH_WINDOW = dt.timedelta(days=92)  # about three months per page of slots
SLOTS_PER_PAGE = 30
ALTERNATIVES = 6  # next slots offered when the chosen one was just taken
RESCHEDULE_WINDOW = dt.timedelta(days=14)
RESCHEDULE_SLOTS = 40
AGENT_SLOTS_WINDOW = dt.timedelta(days=14)
AGENT_SLOTS = 16


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


def _slot_url(*, resource_id: int, start, end, service=None, commune=None, radius=None) -> str:
    return _url(
        "booking:confirm",
        {
            "ressource": resource_id,
            "prestation": service.code if service else "",
            "debut": _iso(start),
            "fin": _iso(end),
            "insee": commune.insee_code if commune else "",
            "rayon": radius or "",
        },
    )


def _remember_recent(request: HttpRequest, booking: Booking) -> None:
    recent = [r for r in request.session.get(RECENT_KEY, []) if r != booking.reference]
    request.session[RECENT_KEY] = ([booking.reference, *recent])[:RECENT_MAX]


def _too_many(request: HttpRequest, exceeded: RateLimitExceeded) -> HttpResponse:
    minutes = max(1, math.ceil(exceeded.retry_after_seconds / 60))
    retry_at = _local(timezone.now() + dt.timedelta(seconds=exceeded.retry_after_seconds))
    response = render(
        request,
        "booking/rate_limited.html",
        {"minutes": minutes, "retry_time": time_text(retry_at)},
        status=429,
    )
    response["Retry-After"] = str(exceeded.retry_after_seconds)
    return response


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


# --- Public flow: 1. the service --------------------------------------------------------------


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    """ "Prendre rendez-vous": what for."""
    return render(request, "booking/start.html", {"services": list(selectors.service_list())})


# --- Public flow: 2. near my commune, the next free slots -------------------------------------


@dataclass
class SlotChoice:
    start: dt.datetime
    time_label: str
    when_label: str
    url: str


@dataclass
class PlaceGroup:
    place: Place
    resource: Resource
    distance_km: float
    road_km: float
    in_commune: bool
    slots: list[SlotChoice] = field(default_factory=list)


@dataclass
class DayGroup:
    day: dt.date
    label: str
    places: list[PlaceGroup] = field(default_factory=list)


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


def _group_offers(offers, *, service, commune, radius) -> list[DayGroup]:
    days: dict[dt.date, DayGroup] = {}
    groups: dict[tuple[dt.date, int, int], PlaceGroup] = {}
    for offer in offers:
        day = _local(offer.slot.start).date()
        day_group = days.get(day)
        if day_group is None:
            day_group = days[day] = DayGroup(day, day_text(day, capitalize=True))
        key = (day, offer.place.pk, offer.resource.pk)
        group = groups.get(key)
        if group is None:
            group = groups[key] = PlaceGroup(
                place=offer.place,
                resource=offer.resource,
                distance_km=offer.distance_km,
                road_km=offer.road_km,
                in_commune=offer.place.commune_id == commune.pk,
            )
            day_group.places.append(group)
        group.slots.append(
            SlotChoice(
                start=offer.slot.start,
                time_label=time_text(offer.slot.start),
                when_label=when_text(offer.slot.start),
                url=_slot_url(
                    resource_id=offer.resource.pk,
                    start=offer.slot.start,
                    end=offer.slot.end,
                    service=service,
                    commune=commune,
                    radius=radius,
                ),
            )
        )
    result = sorted(days.values(), key=lambda d: d.day)
    for day_group in result:
        day_group.places.sort(key=lambda g: (g.distance_km, g.slots[0].start, g.place.name))
    return result


def _search_page(*, service, commune, radius, window_start, now, actor):
    """One page of slots and where the next page starts. Offers come ordered by start: when the
    page is full, those sharing the start time of the first one left out move to the next page
    too, so that paging never skips a slot."""
    window_end = window_start + SEARCH_WINDOW
    offers = selectors.slots_search(
        service=service,
        commune=commune,
        radius_km=radius,
        start=window_start,
        end=window_end,
        limit=SLOTS_PER_PAGE + 1,
        actor=actor,
        now=now,
    )
    if len(offers) > SLOTS_PER_PAGE:
        next_start = offers[SLOTS_PER_PAGE].slot.start
        shown = [o for o in offers[:SLOTS_PER_PAGE] if o.slot.start < next_start]
        if not shown:  # a whole page at one minute: move on past it
            shown = offers[:SLOTS_PER_PAGE]
            next_start += dt.timedelta(minutes=1)
        return shown, next_start, True
    return offers, max(window_end, now), False


@require_safe
def slots(request: HttpRequest) -> HttpResponse:
    form = SlotSearchForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    service = _service_by_code(data.get("prestation"))
    if service is None:
        if "prestation" in form.errors or request.GET.get("prestation"):
            messages.warning(
                request, _("Cette prestation n'existe pas ou plus : choisissez-en une ci-dessous.")
            )
        return redirect("booking:start")

    radius = data.get("rayon") or DEFAULT_RADIUS_KM
    text = data.get("commune") or ""
    commune, candidates = _resolve_commune(text, data.get("insee") or "")
    user = request.user
    if (
        commune is None
        and "commune" not in request.GET
        and "insee" not in request.GET
        and user.is_authenticated
        and getattr(user, "home_commune_id", None)
    ):
        commune = user.home_commune  # a first visit: start from the person's own commune

    now = timezone.now()
    context = {
        "service": service,
        "form": form,
        "commune_text": commune.name if commune else text,
        "commune": commune,
        "candidates": candidates,
        "searched": bool(text) or commune is not None,
        "radius": radius,
        "radius_choices": RADIUS_CHOICES_KM,
        "larger_radii": [km for km in RADIUS_CHOICES_KM if km > radius],
        "road_factor": ROAD_FACTOR,
        "step": 2,
    }
    if commune is not None:
        window_start = max(data.get("apres") or now, now)
        shown, next_start, has_more = _search_page(
            service=service,
            commune=commune,
            radius=radius,
            window_start=window_start,
            now=now,
            actor=user,
        )
        base = {"prestation": service.code, "insee": commune.insee_code, "rayon": radius}
        context.update(
            {
                "days": _group_offers(shown, service=service, commune=commune, radius=radius),
                "slot_count": len(shown),
                "has_more": has_more,
                "is_later_page": window_start > now + dt.timedelta(minutes=1),
                "window_start_label": when_text(window_start),
                "window_end_label": day_text(window_start + SEARCH_WINDOW),
                "later_url": _url("booking:slots", {**base, "apres": _iso(next_start)}),
                "later_label": when_text(next_start),
                "first_url": _url("booking:slots", base),
                "waitlist_url": _url("booking:waitlist_join", base),
                "radius_urls": [
                    (km, _url("booking:slots", {**base, "rayon": km}))
                    for km in RADIUS_CHOICES_KM
                    if km > radius
                ],
            }
        )
    return render(request, "booking/slots.html", context)


# --- Public flow: 3. confirm ------------------------------------------------------------------


@dataclass
class SlotRequest:
    """The slot a confirmation page is about, read from its link."""

    resource: Resource
    service: Service | None
    start: dt.datetime
    end: dt.datetime
    place: Place | None
    commune: Commune | None
    radius: int | None
    query: str
    is_free: bool

    @property
    def confirm_url(self) -> str:
        return f"{reverse('booking:confirm')}?{self.query}"

    @property
    def back_url(self) -> str:
        if self.service is None:
            return reverse("booking:start")
        params = {"prestation": self.service.code}
        if self.commune is not None:
            params.update({"insee": self.commune.insee_code, "rayon": self.radius or ""})
        return _url("booking:slots", params)


def _slot_request(request: HttpRequest, query: QueryDict) -> SlotRequest | HttpResponse:
    """The slot of a confirmation link, or the page explaining why the link does not work."""
    form = SlotForm(query)
    if not form.is_valid():
        errors = [e for errors in form.errors.values() for e in errors]
        return render(request, "booking/slot_invalid.html", {"errors": errors}, status=400)
    data = form.cleaned_data
    resource = selectors.resource_get(actor=request.user, resource_id=data["ressource"])
    service = _service_by_code(data.get("prestation"))
    if resource is None or (data.get("prestation") and service is None):
        return render(
            request,
            "booking/slot_invalid.html",
            {"errors": [_("Ce lieu de rendez-vous n'existe plus ou n'est pas réservable.")]},
            status=404,
        )
    start, end = data["debut"], data["fin"]
    offered = next(
        (
            slot
            for slot in selectors.availability(
                resource=resource,
                start=start,
                end=start + dt.timedelta(seconds=1),
                duration=end - start,
            )
            if slot.start == start
        ),
        None,
    )
    place_id = offered.place_id if offered else resource.place_id
    place = place_get(actor=request.user, place_id=place_id) if place_id else None
    return SlotRequest(
        resource=resource,
        service=service,
        start=start,
        end=end,
        place=place,
        commune=commune_get(data["insee"]) if data.get("insee") else None,
        radius=data.get("rayon"),
        query=query.urlencode(),
        is_free=offered is not None,
    )


def _alternatives(slot: SlotRequest) -> list[SlotChoice]:
    """The next free slots of the same resource, offered when the chosen one is taken."""
    now = timezone.now()
    duration = slot.end - slot.start
    found = selectors.availability(
        resource=slot.resource,
        start=max(now, slot.start - dt.timedelta(hours=2)),
        end=max(now, slot.start) + dt.timedelta(days=21),
        duration=duration,
    )[:ALTERNATIVES]
    return [
        SlotChoice(
            start=s.start,
            time_label=time_text(s.start),
            when_label=when_text(s.start),
            url=_slot_url(
                resource_id=slot.resource.pk,
                start=s.start,
                end=s.end,
                service=slot.service,
                commune=slot.commune,
                radius=slot.radius,
            ),
        )
        for s in found
    ]


def _verified_contact(request: HttpRequest) -> dict | None:
    contact = request.session.get(VERIFIED_KEY)
    if contact and contact.get("until", 0) > time.time():
        return contact
    request.session.pop(VERIFIED_KEY, None)
    return None


def _access_notice(request: HttpRequest, slot: SlotRequest) -> str:
    """Why this visitor cannot book this resource online, if that is known in advance (the
    service checks again)."""
    resource, user = slot.resource, request.user
    agent = user.is_authenticated and _agent_resources(user).filter(pk=resource.pk).exists()
    if agent:
        return ""
    if resource.bookable_by == Resource.BookableBy.AGENTS:
        return "agents"
    if not user.is_authenticated and resource.bookable_by in (
        Resource.BookableBy.ACCOUNT_HOLDERS,
        Resource.BookableBy.MEMBERS,
    ):
        return "login"
    return ""


def _render_confirm(
    request: HttpRequest,
    slot: SlotRequest,
    *,
    person_form: PersonForm | None = None,
    error: str = "",
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    taken = conflict or not slot.is_free
    context = {
        "slot": slot,
        "service": slot.service,
        "when_label": when_text(slot.start),
        "day_label": day_text(slot.start),
        "time_label": time_text(slot.start),
        "duration_label": duration_text(slot.end - slot.start),
        "place_phone": _place_phone(slot.place),
        "verified": _verified_contact(request),
        "person_form": person_form or PersonForm(),
        "error": error,
        "taken": taken,
        "alternatives": _alternatives(slot) if taken else [],
        "access": _access_notice(request, slot),
        "login_url": _url("accounts:login", {"next": slot.confirm_url}),
        "step": 3,
    }
    return render(request, "booking/confirm.html", context, status=status)


def _book(
    request: HttpRequest, slot: SlotRequest, *, person: services.PersonDetails | None
) -> HttpResponse:
    """Create the booking; on a refusal, the confirmation page again with the reason."""
    try:
        booking = services.booking_create(
            actor=request.user,
            resources=[slot.resource],
            start=slot.start,
            end=slot.end,
            service=slot.service,
            person=person,
            channel=Booking.Channel.WEB,
        )
    except BookingConflict as exc:
        slot.is_free = False
        return _render_confirm(request, slot, error=exc.message, conflict=True, status=409)
    except BookingError as exc:
        return _render_confirm(request, slot, error=exc.message, status=exc.status_code)
    _remember_recent(request, booking)
    return redirect("booking:booking_done", reference=booking.reference)


def _code_hash(*, nonce: str, phone: str, code: str) -> str:
    return salted_hmac(CODE_SALT, f"{nonce}:{phone}:{code}").hexdigest()


def _send_code(
    request: HttpRequest,
    *,
    name: str,
    phone: str,
    email: str,
    query: str,
    key: str = PENDING_KEY,
    purpose: str = "booking",
):
    """Text a new 6-digit code to the phone and keep its hash in the session under `key`
    (the code itself is never stored), with `query`: what the code will confirm (the slot's
    link for a booking, the request for the waiting list). Returns the rate-limit refusal, or
    None once sent. Raises ValueError (French) when the number cannot receive SMS.

    Each code sent and each code tried counts against the number and the address
    (accounts.ratelimit, the counters of the login by SMS code): a paid SMS must not be
    triggered at will, and 10^6 codes must not be tried."""
    ip = client_ip(request)
    if exceeded := rate_limit_hit(identifier=phone, ip=ip, action="booking_code_request"):
        return exceeded
    code = f"{secrets.randbelow(10**6):06d}"
    nonce = secrets.token_hex(8)
    minutes = settings.ONE_TIME_CODE_MINUTES
    try:
        _notify_code(
            name=name, phone=phone, code=code, nonce=nonce, minutes=minutes, purpose=purpose
        )
    except ValueError:
        rate_limit_refund(identifier=phone, ip=ip)  # nothing was sent
        raise
    request.session[key] = {
        "name": name,
        "phone": phone,
        "email": email,
        "query": query,
        "nonce": nonce,
        "hash": _code_hash(nonce=nonce, phone=phone, code=code),
        "expires": time.time() + minutes * 60,
        "attempts": 0,
    }
    return None


CODE_MESSAGES = {
    "booking": gettext_lazy(
        "%(platform)s : votre code pour confirmer votre rendez-vous est %(code)s. "
        "Il est valable %(minutes)s minutes. Ne le donnez à personne."
    ),
    "waitlist": gettext_lazy(
        "%(platform)s : votre code pour confirmer votre inscription sur la liste d'attente "
        "est %(code)s. Il est valable %(minutes)s minutes. Ne le donnez à personne."
    ),
}


def _notify_code(
    *, name: str, phone: str, code: str, nonce: str, minutes: int, purpose: str = "booking"
) -> None:
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    notification_send(
        recipient=Recipient(name=name, phone=phone),
        subject=_("Votre code de confirmation"),
        body=str(CODE_MESSAGES[purpose]) % {"platform": platform, "code": code, "minutes": minutes},
        key=f"booking-code:{nonce}",  # no personal data: the key is audited
        channels=["sms"],
        sensitive=True,
    )


def _resend_code(
    request: HttpRequest, *, key: str, pending: dict, purpose: str, back_url: str, code_url: str
) -> HttpResponse:
    """ "Recevoir un nouveau code": the same request, a new code."""
    try:
        exceeded = _send_code(
            request,
            name=pending["name"],
            phone=pending["phone"],
            email=pending["email"],
            query=pending["query"],
            key=key,
            purpose=purpose,
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(back_url)
    if exceeded:
        return _too_many(request, exceeded)
    messages.info(request, _("Un nouveau code vient de vous être envoyé par SMS."))
    return redirect(code_url)


def _check_code(
    request: HttpRequest, *, key: str, pending: dict, form: CodeVerifyForm, context: dict
) -> HttpResponse | None:
    """Check the code typed in the (valid) form against the session's request under `key`.
    None when it is right: the request leaves the session and the phone counts as confirmed
    for a while (VERIFIED_KEY). Otherwise the code page again, with the reason."""
    phone, ip = pending["phone"], client_ip(request)
    if exceeded := rate_limit_hit(identifier=phone, ip=ip, action="booking_code_check"):
        return _too_many(request, exceeded)
    if not pending.get("hash"):
        form.add_error("code", _("Trop d'essais avec ce code : demandez un nouveau code."))
        context["ask_new_code"] = True
        return render(request, "booking/code.html", context, status=400)
    if time.time() > pending["expires"]:
        form.add_error("code", _("Ce code a expiré : demandez un nouveau code ci-dessous."))
        context["ask_new_code"] = True
        return render(request, "booking/code.html", context, status=400)
    expected = _code_hash(nonce=pending["nonce"], phone=phone, code=form.cleaned_data["code"])
    if not hmac.compare_digest(expected, pending["hash"]):
        pending["attempts"] += 1
        left = settings.ONE_TIME_CODE_MAX_ATTEMPTS - pending["attempts"]
        if left <= 0:
            pending["hash"] = ""
            form.add_error("code", _("Trop d'essais avec ce code : demandez un nouveau code."))
            context["ask_new_code"] = True
        else:
            form.add_error(
                "code",
                ngettext(
                    "Ce code ne convient pas. Vérifiez-le : il vous reste %(count)d essai.",
                    "Ce code ne convient pas. Vérifiez-le : il vous reste %(count)d essais.",
                    left,
                )
                % {"count": left},
            )
        request.session[key] = pending
        return render(request, "booking/code.html", context, status=400)

    request.session.pop(key, None)
    rate_limit_refund(identifier=phone, ip=ip)  # a right code does not count
    request.session[VERIFIED_KEY] = {
        "name": pending["name"],
        "phone": phone,
        "email": pending["email"],
        "until": time.time() + VERIFIED_SECONDS,
    }
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """The chosen slot: one click for a signed-in person (or a phone confirmed a moment ago),
    else a name and a mobile number, confirmed by an SMS code."""
    slot = _slot_request(request, request.GET)
    if isinstance(slot, HttpResponse):
        return slot
    if request.method == "GET":
        return _render_confirm(request, slot)

    action = request.POST.get("action", "")
    if action == "autre-personne":
        request.session.pop(VERIFIED_KEY, None)
        return redirect(slot.confirm_url)
    if request.user.is_authenticated:
        return _book(request, slot, person=None)
    verified = _verified_contact(request)
    if verified and action == "confirmer":
        return _book(
            request,
            slot,
            person=services.PersonDetails(
                name=verified["name"], phone=verified["phone"], email=verified["email"]
            ),
        )

    form = PersonForm(request.POST)
    if not form.is_valid():
        return _render_confirm(request, slot, person_form=form, status=400)
    data = form.cleaned_data
    try:
        exceeded = _send_code(
            request, name=data["name"], phone=data["phone"], email=data["email"], query=slot.query
        )
    except ValueError as exc:
        form.add_error("phone", str(exc))
        return _render_confirm(request, slot, person_form=form, status=400)
    if exceeded:
        return _too_many(request, exceeded)
    return redirect("booking:confirm_code")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_code(request: HttpRequest) -> HttpResponse:
    """The SMS code. A few tries per code (settings.ONE_TIME_CODE_MAX_ATTEMPTS), valid a few
    minutes (settings.ONE_TIME_CODE_MINUTES); codes and tries are also rate-limited per number
    and per address, with the same counters as the login by SMS code."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        messages.info(
            request,
            _("Votre demande a expiré ou est déjà confirmée : choisissez à nouveau votre créneau."),
        )
        return redirect("booking:start")
    slot = _slot_request(request, QueryDict(pending["query"]))
    if isinstance(slot, HttpResponse):
        request.session.pop(PENDING_KEY, None)
        return slot
    form = CodeVerifyForm(request.POST or None)
    context = {
        "slot": slot,
        "when_label": when_text(slot.start),
        "phone_label": phone_display(pending["phone"]),
        "minutes": settings.ONE_TIME_CODE_MINUTES,
        "form": form,
        "step": 3,
        "code_url": reverse("booking:confirm_code"),
        "back_url": slot.confirm_url,
    }

    if request.method == "POST" and request.POST.get("action") == "renvoyer":
        return _resend_code(
            request,
            key=PENDING_KEY,
            pending=pending,
            purpose="booking",
            back_url=slot.confirm_url,
            code_url=reverse("booking:confirm_code"),
        )
    if request.method == "GET":
        return render(request, "booking/code.html", context)
    if not form.is_valid():
        return render(request, "booking/code.html", context, status=400)
    refused = _check_code(request, key=PENDING_KEY, pending=pending, form=form, context=context)
    if refused is not None:
        return refused
    return _book(
        request,
        slot,
        person=services.PersonDetails(
            name=pending["name"], phone=pending["phone"], email=pending["email"]
        ),
    )


# --- Public flow: 4. the confirmation page ----------------------------------------------------


def _booking_for_visitor(request: HttpRequest, reference: str) -> Booking | None:
    """A booking the visitor may see: theirs or one they manage (selectors), or one booked from
    this browser a moment ago without an account (its reference is kept in the session)."""
    booking = (
        selectors.booking_list(actor=request.user, include_cancelled=True)
        .filter(reference=reference)
        .first()
    )
    if booking is None and reference in request.session.get(RECENT_KEY, []):
        # The session proves that this browser made the booking: no selector answers for
        # someone without an account (see the report: booking_get_for_session).
        booking = (
            Booking.objects.select_related("place__commune", "place__organisation", "service")
            .prefetch_related("allocations__resource")
            .filter(reference=reference)
            .first()
        )
    return booking


@never_cache
@require_safe
def booking_done(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking_for_visitor(request, reference)
    if booking is None:
        raise Http404(_("Cette réservation n'existe pas, ou vous ne pouvez pas la voir."))
    _decorate(booking)
    user = request.user
    is_holder = user.is_authenticated and booking.user_id == user.pk
    for_someone_else = (
        user.is_authenticated and booking.created_by_id == user.pk and booking.user_id != user.pk
    )
    reminder_hours = max(
        (a.resource.reminder_hours_before for a in booking.allocations.all()), default=0
    )
    return render(
        request,
        "booking/done.html",
        {
            "booking": booking,
            "is_holder": is_holder,
            "for_someone_else": for_someone_else,
            "reminder_hours": reminder_hours,
            "deadline_label": when_text(_deadline(booking)),
            "step": 4,
        },
    )


# --- My bookings --------------------------------------------------------------------------------


def _my_booking(request: HttpRequest, booking_id: int) -> Booking:
    booking = (
        selectors.my_bookings(actor=request.user)
        .prefetch_related("allocations__resource")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise Http404(_("Cette réservation n'existe pas, est passée ou a été annulée."))
    return _decorate(booking)


@never_cache
@login_required
@require_safe
def my_bookings(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    bookings = [
        _decorate(b)
        for b in selectors.my_bookings(actor=request.user, now=now).prefetch_related(
            "allocations__resource"
        )
    ]
    for booking in bookings:
        deadline = _deadline(booking)
        booking.can_change_online = now <= deadline and booking.status in (
            Booking.Status.PENDING,
            Booking.Status.CONFIRMED,
        )
        booking.deadline_label = when_text(deadline)
    entries = [
        _decorate_entry(e)
        for e in waitlist.waitlist_list(actor=request.user).filter(
            user=request.user, status__in=ACTIVE_ENTRY_STATUSES
        )
    ]
    return render(
        request,
        "booking/my_bookings.html",
        {
            "bookings": bookings,
            "entries": entries,
            "feeds": _active_feeds(request.user, resources=False),
            "feed_form": CalendarFeedForm(),
            "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _my_booking(request, booking_id)
    deadline = _deadline(booking)
    context = {
        "booking": booking,
        "deadline_label": when_text(deadline),
        "too_late": timezone.now() > deadline,
        "error": "",
    }
    if request.method == "POST":
        try:
            services.booking_cancel(
                actor=request.user, booking=booking, reason=_("Annulée par la personne")
            )
        except BookingError as exc:
            context["error"] = exc.message
            return render(
                request, "booking/my_booking_cancel.html", context, status=exc.status_code
            )
        messages.success(
            request,
            _("Votre rendez-vous du %(when)s est annulé.") % {"when": booking.when_label},
        )
        return redirect("booking:my_bookings")
    return render(request, "booking/my_booking_cancel.html", context)


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


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_booking_reschedule(request: HttpRequest, booking_id: int) -> HttpResponse:
    """Another free slot of the same resource(s), same duration: pick one (a link), confirm
    (POST). The old slot is released only if the new one is taken (booking_reschedule)."""
    booking = _my_booking(request, booking_id)
    now = timezone.now()
    resources = [a.resource for a in booking.allocations.all()]
    duration = booking.end - booking.start
    deadline = _deadline(booking)
    base = reverse("booking:my_booking_reschedule", args=[booking.pk])
    context = {
        "booking": booking,
        "deadline_label": when_text(deadline),
        "too_late": now > deadline,
        "error": "",
        "first_url": base,
    }
    status = 200
    raw = request.POST.get("debut") or request.GET.get("debut")
    chosen = parse_moment(raw) if raw else None
    if raw and chosen is None:
        context["error"] = _("Ce créneau n'est pas lisible : choisissez-en un dans la liste.")
        status = 400

    if request.method == "POST" and chosen is not None:
        try:
            services.booking_reschedule(
                actor=request.user, booking=booking, start=chosen, end=chosen + duration
            )
        except BookingError as exc:
            context["error"] = exc.message
            status = exc.status_code
            chosen = None
        else:
            messages.success(
                request,
                _("Votre rendez-vous est déplacé au %(when)s.") % {"when": when_text(chosen)},
            )
            return redirect("booking:my_bookings")

    if chosen is not None:
        # Second step: "move it there?"
        context.update({"chosen": _iso(chosen), "chosen_label": when_text(chosen)})
        return render(request, "booking/my_booking_reschedule.html", context, status=status)

    # First step: the free starts common to every resource of the booking.
    window_start = max(parse_moment(request.GET.get("apres")) or now, now)
    window_end = window_start + RESCHEDULE_WINDOW
    common: set[dt.datetime] | None = None
    for resource in resources:
        found = {
            s.start
            for s in selectors.availability(
                resource=resource, start=window_start, end=window_end, duration=duration
            )
        }
        common = found if common is None else common & found
    starts = sorted(common or ())[:RESCHEDULE_SLOTS]
    later = starts[-1] + dt.timedelta(minutes=1) if len(starts) >= RESCHEDULE_SLOTS else window_end
    context.update(
        {
            "days": _slot_days(starts, lambda m: f"{base}?{urlencode({'debut': _iso(m)})}"),
            "later_url": f"{base}?{urlencode({'apres': _iso(later)})}",
            "later_label": when_text(later),
            "is_later_page": window_start > now + dt.timedelta(minutes=1),
        }
    )
    return render(request, "booking/my_booking_reschedule.html", context, status=status)


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


@dataclass
class Targets:
    """What an agent may look at: their places and their resources."""

    resources: list[Resource]
    places: list[Place]

    @classmethod
    def of(cls, resources: list[Resource]) -> Targets:
        places = {r.place.pk: r.place for r in resources if r.place_id}
        return cls(resources, sorted(places.values(), key=lambda p: (p.name, p.pk)))

    def choices(self) -> list:
        return [
            (
                _("Lieux"),
                [(f"lieu-{p.pk}", f"{p.name} ({p.commune.name})") for p in self.places],
            ),
            (
                _("Personnes et ressources"),
                [(f"ressource-{r.pk}", _resource_choice_label(r)) for r in self.resources],
            ),
        ]

    def resolve(self, value: str) -> tuple[Place | None, Resource | None]:
        kind, _sep, raw = (value or "").partition("-")
        if raw.isdigit():
            pk = int(raw)
            if kind == "lieu":
                return next((p for p in self.places if p.pk == pk), None), None
            if kind == "ressource":
                return None, next((r for r in self.resources if r.pk == pk), None)
        return None, None

    def default(self) -> str:
        if self.places:
            return f"lieu-{self.places[0].pk}"
        return f"ressource-{self.resources[0].pk}"


def _resource_choice_label(resource: Resource) -> str:
    if resource.place_id:
        return f"{resource.name} — {resource.place.name}"
    return resource.name


def _safe_back(request: HttpRequest) -> str | None:
    value = request.POST.get("retour") or request.GET.get("retour")
    if (
        value
        and value.startswith(reverse("booking:agenda"))
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
    ):
        return value
    return None


@dataclass
class AgendaDay:
    day: dt.date
    label: str
    is_today: bool
    bookings: list[Booking] = field(default_factory=list)


@never_cache
@login_required
@require_safe
def agenda(request: HttpRequest) -> HttpResponse:
    """A day or a week of bookings at a place, or of one resource (a person, a room)."""
    targets = Targets.of(_require_agent(request))
    form = AgendaForm(request.GET, targets=targets.choices())
    form.is_valid()
    data = form.cleaned_data
    target = data.get("cible") or targets.default()
    place, resource = targets.resolve(target)
    if place is None and resource is None:
        target = targets.default()
        place, resource = targets.resolve(target)
    view = data.get("vue") or AgendaForm.VIEW_DAY
    today = timezone.localdate()
    day = data.get("date") or today
    if view == AgendaForm.VIEW_WEEK:
        first = day - dt.timedelta(days=day.weekday())
        days = [first + dt.timedelta(days=i) for i in range(7)]
        step = dt.timedelta(days=7)
    else:
        days = [day]
        step = dt.timedelta(days=1)
    start, _end = _day_bounds(days[0])
    _start, end = _day_bounds(days[-1])

    now = timezone.now()
    managed = {r.pk for r in targets.resources}
    by_day = {d: AgendaDay(d, day_text(d, capitalize=True), d == today) for d in days}
    for booking in selectors.calendar(
        actor=request.user, start=start, end=end, place=place, resource=resource
    ):
        _decorate(booking)
        # As booking.services decides: an agent of any of the booking's resources.
        manages = any(a.resource_id in managed for a in booking.allocations.all())
        active = booking.status in (Booking.Status.PENDING, Booking.Status.CONFIRMED)
        booking.can_confirm = manages and booking.status == Booking.Status.PENDING
        booking.can_mark = (
            manages and booking.status == Booking.Status.CONFIRMED and now >= (booking.start)
        )
        booking.can_cancel = manages and active
        # An itinerant person's booking may take place away from the place being viewed.
        booking.where = (
            booking.place.name
            if booking.place_id and (place is None or booking.place_id != place.pk)
            else ""
        )
        local_day = _local(booking.start).date()
        by_day.get(local_day, by_day[days[0]]).bookings.append(booking)

    params = {"cible": target, "vue": view}
    here = _url("booking:agenda", {**params, "date": day.isoformat()})
    if place is not None:
        target_label = f"{place.name} ({place.commune.name})"
    else:
        target_label = _resource_choice_label(resource)
    total = sum(len(d.bookings) for d in by_day.values())
    return render(
        request,
        "booking/agenda.html",
        {
            "form": form,
            "target": target,
            "target_label": target_label,
            "place": place,
            "resource": resource,
            "view": view,
            "is_week": view == AgendaForm.VIEW_WEEK,
            "day": day,
            "days": list(by_day.values()),
            "total": total,
            "period_label": (
                _("semaine du %(day)s") % {"day": day_text(days[0])}
                if view == AgendaForm.VIEW_WEEK
                else day_text(day)
            ),
            "previous_url": _url("booking:agenda", {**params, "date": (day - step).isoformat()}),
            "next_url": _url("booking:agenda", {**params, "date": (day + step).isoformat()}),
            "today_url": _url("booking:agenda", params),
            "other_view_url": _url(
                "booking:agenda",
                {
                    "cible": target,
                    "vue": AgendaForm.VIEW_DAY
                    if view == AgendaForm.VIEW_WEEK
                    else AgendaForm.VIEW_WEEK,
                    "date": day.isoformat(),
                },
            ),
            "here": here,
            "book_url": _url(
                "booking:agent_book",
                {"ressource": resource.pk if resource else "", "date": day.isoformat()},
            ),
            "cancel_day_url": _url(
                "booking:cancel_day", {"cible": target, "date": day.isoformat()}
            ),
            "feeds": _active_feeds(request.user, resources=True),
            "feed_form": ResourceFeedForm(
                initial={"resource": resource.pk if resource else targets.resources[0].pk},
                resources=_agent_resources(request.user),
            ),
        },
    )


AGENT_ACTIONS = {
    "valider": (services.booking_confirm, gettext_lazy("Le rendez-vous de %(name)s est validé.")),
    "venue": (
        services.booking_mark_attended,
        gettext_lazy("%(name)s est noté(e) comme venu(e)."),
    ),
    "absente": (
        services.booking_mark_no_show,
        gettext_lazy("%(name)s est noté(e) comme absent(e)."),
    ),
}


def _agent_booking(request: HttpRequest, booking_id: int) -> Booking:
    booking = selectors.booking_get(actor=request.user, booking_id=booking_id)
    if booking is None:
        raise Http404(_("Cette réservation n'existe pas, ou vous ne pouvez pas la voir."))
    return booking


def _agenda_url_for(booking: Booking) -> str:
    return _url("booking:agenda", {"date": _local(booking.start).date().isoformat()})


@never_cache
@login_required
@require_POST
def agenda_booking_action(request: HttpRequest, booking_id: int, action: str) -> HttpResponse:
    _require_agent(request)
    if action not in AGENT_ACTIONS:
        raise Http404
    booking = _agent_booking(request, booking_id)
    service, success = AGENT_ACTIONS[action]
    try:
        service(actor=request.user, booking=booking)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success % {"name": booking.display_name})
    return redirect(_safe_back(request) or _agenda_url_for(booking))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agenda_booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    _require_agent(request)
    booking = _decorate(_agent_booking(request, booking_id))
    back = _safe_back(request) or _agenda_url_for(booking)
    form = AgentCancelForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            services.booking_cancel(
                actor=request.user,
                booking=booking,
                reason=form.cleaned_data["reason"] or _("Annulée par le lieu"),
            )
        except BookingError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(
                request,
                _("Le rendez-vous de %(name)s du %(when)s est annulé ; la personne est prévenue.")
                % {"name": booking.display_name, "when": booking.when_label},
            )
            return redirect(back)
    return render(
        request,
        "booking/agenda_cancel.html",
        {"booking": booking, "form": form, "back": back, "error": error},
        status=status,
    )


def _usual_duration(resource: Resource, service: Service | None) -> dt.timedelta:
    """As slots_search offers: the service's usual duration when the resource allows it, else
    the resource's shortest."""
    if service is not None:
        usual = dt.timedelta(minutes=service.default_duration_minutes)
        if av.duration_allowed(resource, usual):
            return usual
    return av.default_duration(resource)


def _agent_slot_days(
    resource: Resource | None, day: dt.date | None, service: Service | None = None
) -> list[SlotDay]:
    """The next free slots of a resource from a day (or from now), grouped by day."""
    if resource is None:
        return []
    now = timezone.now()
    start = max(now, _day_bounds(day)[0]) if day else now
    found = selectors.availability(
        resource=resource,
        start=start,
        end=start + AGENT_SLOTS_WINDOW,
        duration=_usual_duration(resource, service),
    )
    return _slot_days([s.start for s in found[:AGENT_SLOTS]], _iso)


def _agent_service_choice(services_qs, raw) -> Service | None:
    return services_qs.filter(pk=int(raw)).first() if raw and str(raw).isdigit() else None


def _agent_resource_choice(resources, raw) -> Resource | None:
    if raw and str(raw).isdigit():
        return next((r for r in resources if r.pk == int(raw)), None)
    return None


def _account_for_phone(raw: str) -> tuple[str, object | None]:
    """The number in E.164 ("" if unreadable) and the active account using it, if any."""
    try:
        phone = normalize_phone(raw) if raw else ""
    except ValueError:
        return "", None
    account = users_matching_contact(phone=phone).filter(is_active=True).first() if phone else None
    return phone, account


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agent_book(request: HttpRequest) -> HttpResponse:
    """Book for someone from a phone call or at the desk, on one page: the person (their
    account is found from their phone number), the resource, one of the next free slots.

    The buttons "Chercher ce numéro" and "Voir les créneaux" only refresh the page (without
    JavaScript); "Réserver" books."""
    resources = _require_agent(request)
    resource_qs = _agent_resources(request.user)
    service_qs = selectors.service_list().filter(resources__in=resource_qs).distinct()
    booking_now = request.method == "POST" and request.POST.get("action") == "reserver"

    if booking_now:
        data = request.POST
        form = AgentBookingForm(data, resources=resource_qs, services=service_qs)
    elif request.method == "POST":
        # A refresh: the values typed so far, without "this field is required" errors.
        data = request.POST
        form = AgentBookingForm(initial=data.dict(), resources=resource_qs, services=service_qs)
    else:
        data = request.GET
        form = AgentBookingForm(
            initial={
                "resource": data.get("ressource") or resources[0].pk,
                "day": data.get("date") or "",
                "channel": Booking.Channel.PHONE,
            },
            resources=resource_qs,
            services=service_qs,
        )
    # Enhancement (htmx): the free slots follow the resource and the date in place.
    for name in ("resource", "service", "day"):
        form.fields[name].widget.attrs.update(
            {
                "hx-get": reverse("booking:agent_book_slots"),
                "hx-trigger": "change",
                "hx-target": "#creneaux-libres",
                "hx-include": "#id_resource, #id_service, #id_day",
            }
        )
    resource = _agent_resource_choice(resources, data.get("resource") or form.initial["resource"])
    day = parse_day(data.get("day") or data.get("date"))
    service = _agent_service_choice(service_qs, data.get("service"))
    phone_raw = (data.get("phone") or "").strip()
    phone, account = _account_for_phone(phone_raw)

    error, status = "", 200
    if booking_now:
        status = 400
        if form.is_valid():
            cleaned = form.cleaned_data
            resource = cleaned["resource"]
            if account is None and not cleaned["name"]:
                form.add_error(
                    "name", _("Aucun compte n'a ce numéro : indiquez le nom de la personne.")
                )
            else:
                start = cleaned["slot"]
                person = None
                if account is None:
                    person = services.PersonDetails(
                        name=cleaned["name"], phone=cleaned["phone"], email=cleaned["email"]
                    )
                try:
                    booking = services.booking_create(
                        actor=request.user,
                        resources=[resource],
                        start=start,
                        end=start + _usual_duration(resource, cleaned["service"]),
                        service=cleaned["service"],
                        for_user=account,
                        person=person,
                        channel=cleaned["channel"],
                        notes=cleaned["notes"],
                    )
                except BookingError as exc:
                    error, status = exc.message, exc.status_code
                else:
                    return redirect("booking:booking_done", reference=booking.reference)

    return render(
        request,
        "booking/agent_book.html",
        {
            "form": form,
            "account": account,
            "phone_searched": bool(phone_raw),
            "phone_unreadable": bool(phone_raw) and not phone,
            "resource": resource,
            "slot_days": _agent_slot_days(resource, day, service),
            "chosen_slot": data.get("slot", ""),
            "error": error,
        },
        status=status,
    )


@never_cache
@login_required
@require_safe
def agent_book_slots(request: HttpRequest) -> HttpResponse:
    """htmx fragment: the free slots of the agent's booking form for another resource or day."""
    resources = _require_agent(request)
    resource = _agent_resource_choice(resources, request.GET.get("resource"))
    service = _agent_service_choice(selectors.service_list(), request.GET.get("service"))
    slot_days = _agent_slot_days(resource, parse_day(request.GET.get("day")), service)
    return render(
        request,
        "booking/includes/agent_slots.html",
        {
            "resource": resource,
            "slot_days": slot_days,
            "slot_count": sum(len(d.slots) for d in slot_days),
            "chosen_slot": "",
            "oob": True,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def cancel_day(request: HttpRequest) -> HttpResponse:
    """Cancel every booking of a place or a resource on a day (snow, illness), in two steps: the
    list of what will be cancelled, then the confirmation."""
    targets = Targets.of(_require_agent(request))
    choices = targets.choices()
    if request.method == "GET":
        form = CancelDayForm(
            initial={
                "cible": request.GET.get("cible") or targets.default(),
                "day": request.GET.get("date") or timezone.localdate().isoformat(),
            },
            targets=choices,
        )
        return render(request, "booking/cancel_day.html", {"form": form})

    form = CancelDayForm(request.POST, targets=choices)
    if not form.is_valid():
        return render(request, "booking/cancel_day.html", {"form": form}, status=400)
    data = form.cleaned_data
    place, resource = targets.resolve(data["cible"])
    day = data["day"]
    start, end = _day_bounds(day)
    now = timezone.now()
    # What bookings_cancel_day will cancel: not yet started, pending or confirmed, of the
    # resource, or taking place at the place (not an itinerant's tour elsewhere).
    bookings = [
        _decorate(b)
        for b in selectors.calendar(
            actor=request.user, start=start, end=end, place=place, resource=resource
        )
        if b.status in (Booking.Status.PENDING, Booking.Status.CONFIRMED)
        and b.start >= max(start, now)
        and (place is None or b.place_id == place.pk)
    ]
    target_label = (
        f"{place.name} ({place.commune.name})" if place else _resource_choice_label(resource)
    )
    context = {
        "form": form,
        "bookings": bookings,
        "target_label": target_label,
        "day_label": day_text(day),
        "preview": True,
    }
    if request.POST.get("action") != "confirmer" or not bookings:
        return render(request, "booking/cancel_day.html", context)
    try:
        cancelled = services.bookings_cancel_day(
            actor=request.user, day=day, reason=data["reason"], resource=resource, place=place
        )
    except BookingError as exc:
        context["error"] = exc.message
        return render(request, "booking/cancel_day.html", context, status=exc.status_code)
    messages.success(
        request,
        ngettext(
            "%(count)d rendez-vous annulé le %(day)s. La personne est prévenue, avec les "
            "prochains créneaux libres.",
            "%(count)d rendez-vous annulés le %(day)s. Les personnes sont prévenues, avec les "
            "prochains créneaux libres.",
            len(cancelled),
        )
        % {"count": len(cancelled), "day": day_text(day)},
    )
    return redirect(_url("booking:agenda", {"cible": data["cible"], "date": day.isoformat()}))


# --- Waiting list -------------------------------------------------------------------------------

WAITLIST_PENDING_KEY = "booking_waitlist_pending"  # the request, the person, the hashed code
WAITLIST_RECENT_KEY = "booking_waitlist_recent"  # entries made from this browser (their page)
ACTIVE_ENTRY_STATUSES = (WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED)


@dataclass
class WaitlistRequest:
    """What someone asks the waiting list for: a service near a commune, for a few weeks."""

    service: Service
    commune: Commune
    radius: int
    weeks: int

    @property
    def params(self) -> dict:
        return {
            "prestation": self.service.code,
            "insee": self.commune.insee_code,
            "commune": self.commune.name,
            "rayon": self.radius,
            "semaines": self.weeks,
        }

    @property
    def query(self) -> str:
        return urlencode(self.params)

    @property
    def page_url(self) -> str:
        return _url("booking:waitlist_join", self.params)

    def window(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        return now, now + dt.timedelta(weeks=self.weeks)

    def summary(self, now: dt.datetime) -> str:
        return _("%(service)s, à moins de %(km)d km de %(commune)s, jusqu'au %(day)s") % {
            "service": self.service.label,
            "km": self.radius,
            "commune": self.commune.name,
            "day": day_text(self.window(now)[1]),
        }


def _waitlist_request(form: WaitlistForm) -> WaitlistRequest | None:
    """The request of a bound form, or None with the errors added to the form (an unknown
    service, a commune not found or ambiguous: its candidates in form.candidates)."""
    form.candidates = []
    form.is_valid()
    data = form.cleaned_data
    service = _service_by_code(data.get("prestation"))
    if service is None and "prestation" in data:
        form.add_error(None, _("Cette prestation n'existe pas ou plus."))
    commune = None
    if "commune" in data:
        text, insee = data["commune"].strip(), data.get("insee") or ""
        commune = commune_get(insee) if insee else None
        if commune is None or normalize_search(commune.name) != normalize_search(text):
            commune, form.candidates = _resolve_commune(text, "")
        if commune is None and form.candidates:
            form.add_error(
                "commune",
                _("Plusieurs communes correspondent à « %(q)s » : choisissez-la ci-dessous.")
                % {"q": text},
            )
        elif commune is None:
            form.add_error(
                "commune",
                _(
                    "Aucune commune ne correspond à « %(q)s ». Vérifiez l'orthographe, ou "
                    "essayez le code postal."
                )
                % {"q": text},
            )
    if form.errors or service is None or commune is None:
        return None
    return WaitlistRequest(service, commune, data["rayon"], data["semaines"])


def _remember_entry(request: HttpRequest, entry: WaitingListEntry) -> None:
    recent = [pk for pk in request.session.get(WAITLIST_RECENT_KEY, []) if pk != entry.pk]
    request.session[WAITLIST_RECENT_KEY] = [entry.pk, *recent][:RECENT_MAX]


def _is_mobile(phone: str) -> bool:
    try:
        normalize_phone(phone or "", mobile=True)
    except ValueError:
        return False
    return True


def _offer_channels(entry: WaitingListEntry) -> list[str]:
    """How an offer will reach the person, in words (as waitlist._send_offer sends it: for an
    account, the preferred channel between SMS and e-mail; else SMS, and e-mail if given)."""
    if entry.user_id is not None:
        recipient = Recipient.from_user(entry.user)
    else:
        recipient = Recipient(
            name=entry.person_name, phone=entry.person_phone, email=entry.person_email
        )
    sms = (
        _("par SMS au %(phone)s") % {"phone": phone_display(recipient.phone)}
        if _is_mobile(recipient.phone)
        else ""
    )
    email = _("par courriel à %(email)s") % {"email": recipient.email} if recipient.email else ""
    if entry.user_id is not None:
        order = [sms, email] if recipient.prefers_sms else [email, sms]
        return [next(channel for channel in order if channel)] if any(order) else []
    return [channel for channel in (sms, email) if channel]


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


def _join(
    request: HttpRequest,
    wreq: WaitlistRequest,
    *,
    person: services.PersonDetails | None,
) -> WaitingListEntry:
    now = timezone.now()
    window_start, window_end = wreq.window(now)
    return waitlist.waitlist_join(
        actor=request.user,
        service=wreq.service,
        commune=wreq.commune,
        radius_km=wreq.radius,
        window_start=window_start,
        window_end=window_end,
        person=person,
        now=now,
    )


def _render_waitlist_join(
    request: HttpRequest,
    form: WaitlistForm,
    *,
    service: Service,
    wreq: WaitlistRequest | None = None,
    person_form: WaitlistPersonForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "service": service,
        "wreq": wreq,
        "candidates": [
            (c, _url("booking:waitlist_join", {**_waitlist_params(form), "insee": c.insee_code}))
            for c in getattr(form, "candidates", [])
        ],
        "person_form": person_form or WaitlistPersonForm(),
        "verified": _verified_contact(request),
        "error": error,
        "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
        "login_url": _url(
            "accounts:login",
            {"next": _url("booking:waitlist_join", _waitlist_params(form))},
        ),
        "back_url": _url("booking:slots", _waitlist_params(form, with_weeks=False)),
    }
    return render(request, "booking/waitlist_join.html", context, status=status)


def _waitlist_params(form: WaitlistForm, *, with_weeks: bool = True) -> dict:
    source = form.data if form.is_bound else form.initial
    params = {"prestation": source.get("prestation", ""), "rayon": source.get("rayon", "")}
    if source.get("insee"):
        params["insee"] = source.get("insee")
    if with_weeks:
        params["semaines"] = source.get("semaines", "")
    return params


def _waitlist_done_redirect(request: HttpRequest, entry: WaitingListEntry) -> HttpResponse:
    _remember_entry(request, entry)
    return redirect("booking:waitlist_done", entry_id=entry.pk)


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_join(request: HttpRequest) -> HttpResponse:
    """ "Aucun créneau ne convient ?": join the waiting list of a service near a commune for
    the next 2, 4 or 8 weeks. In one step when signed in (or with a phone confirmed a moment
    ago), else with a name and a mobile number confirmed by the booking's SMS code."""
    if request.method == "GET":
        service = _service_by_code(request.GET.get("prestation"))
        if service is None:
            messages.warning(
                request, _("Choisissez d'abord ce pour quoi vous voulez un rendez-vous.")
            )
            return redirect("booking:start")
        commune = commune_get(request.GET.get("insee") or "")
        user = request.user
        if commune is None and user.is_authenticated and getattr(user, "home_commune_id", None):
            commune = user.home_commune
        initial = {
            "prestation": service.code,
            "insee": commune.insee_code if commune else "",
            "commune": commune.name if commune else request.GET.get("commune", "")[:100],
            "rayon": request.GET.get("rayon") or str(DEFAULT_RADIUS_KM),
            "semaines": request.GET.get("semaines") or str(DEFAULT_WAITLIST_WEEKS),
        }
        if initial["rayon"] not in {str(km) for km in RADIUS_CHOICES_KM}:
            initial["rayon"] = str(DEFAULT_RADIUS_KM)
        if initial["semaines"] not in {str(w) for w in WAITLIST_WEEKS}:
            initial["semaines"] = str(DEFAULT_WAITLIST_WEEKS)
        return _render_waitlist_join(request, WaitlistForm(initial=initial), service=service)

    form = WaitlistForm(request.POST)
    service = _service_by_code(request.POST.get("prestation"))
    if service is None:
        messages.warning(request, _("Cette prestation n'existe pas ou plus : choisissez-en une."))
        return redirect("booking:start")
    action = request.POST.get("action", "")
    if action == "autre-personne":
        request.session.pop(VERIFIED_KEY, None)
        return redirect(_url("booking:waitlist_join", _waitlist_params(form)))
    wreq = _waitlist_request(form)
    if wreq is None:
        return _render_waitlist_join(
            request, form, service=service, person_form=WaitlistPersonForm(request.POST), status=400
        )

    person = None
    if not request.user.is_authenticated:
        verified = _verified_contact(request)
        if verified and action == "inscrire":
            person = services.PersonDetails(
                name=verified["name"], phone=verified["phone"], email=verified["email"]
            )
        else:
            person_form = WaitlistPersonForm(request.POST)
            if not person_form.is_valid():
                return _render_waitlist_join(
                    request, form, service=service, person_form=person_form, status=400
                )
            data = person_form.cleaned_data
            try:
                exceeded = _send_code(
                    request,
                    name=data["name"],
                    phone=data["phone"],
                    email=data["email"],
                    query=wreq.query,
                    key=WAITLIST_PENDING_KEY,
                    purpose="waitlist",
                )
            except ValueError as exc:
                person_form.add_error("phone", str(exc))
                return _render_waitlist_join(
                    request, form, service=service, person_form=person_form, status=400
                )
            if exceeded:
                return _too_many(request, exceeded)
            return redirect("booking:waitlist_code")
    try:
        entry = _join(request, wreq, person=person)
    except BookingError as exc:
        return _render_waitlist_join(
            request, form, service=service, error=exc.message, status=exc.status_code
        )
    return _waitlist_done_redirect(request, entry)


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_code(request: HttpRequest) -> HttpResponse:
    """The SMS code of a waiting-list request without an account: the booking's code, with
    the same limits (views._send_code, views._check_code)."""
    pending = request.session.get(WAITLIST_PENDING_KEY)
    if not pending:
        messages.info(
            request,
            _("Votre demande a expiré ou est déjà confirmée : recommencez votre inscription."),
        )
        return redirect("booking:start")
    form_request = WaitlistForm(QueryDict(pending["query"]))
    wreq = _waitlist_request(form_request)
    if wreq is None:
        request.session.pop(WAITLIST_PENDING_KEY, None)
        messages.warning(request, _("Cette demande n'est plus valable : recommencez-la."))
        return redirect("booking:start")
    code_url = reverse("booking:waitlist_code")
    form = CodeVerifyForm(request.POST or None)
    context = {
        "purpose": "waitlist",
        "summary": wreq.summary(timezone.now()),
        "phone_label": phone_display(pending["phone"]),
        "minutes": settings.ONE_TIME_CODE_MINUTES,
        "form": form,
        "code_url": code_url,
        "back_url": wreq.page_url,
    }
    if request.method == "POST" and request.POST.get("action") == "renvoyer":
        return _resend_code(
            request,
            key=WAITLIST_PENDING_KEY,
            pending=pending,
            purpose="waitlist",
            back_url=wreq.page_url,
            code_url=code_url,
        )
    if request.method == "GET":
        return render(request, "booking/code.html", context)
    if not form.is_valid():
        return render(request, "booking/code.html", context, status=400)
    refused = _check_code(
        request, key=WAITLIST_PENDING_KEY, pending=pending, form=form, context=context
    )
    if refused is not None:
        return refused
    person = services.PersonDetails(
        name=pending["name"], phone=pending["phone"], email=pending["email"]
    )
    try:
        entry = _join(request, wreq, person=person)
    except BookingError as exc:
        return _render_waitlist_join(
            request,
            WaitlistForm(initial=wreq.params),
            service=wreq.service,
            error=exc.message,
            status=exc.status_code,
        )
    return _waitlist_done_redirect(request, entry)


@never_cache
@require_safe
def waitlist_done(request: HttpRequest, entry_id: int) -> HttpResponse:
    """The confirmation of an inscription: for the person (their account, or this browser),
    or for the agent who made it."""
    entry = (
        WaitingListEntry.objects.select_related(
            "service", "resource__place", "place", "commune", "user"
        )
        .filter(pk=entry_id)
        .first()
    )
    user = request.user
    allowed = entry is not None and (
        entry.pk in request.session.get(WAITLIST_RECENT_KEY, [])
        or (user.is_authenticated and user.pk in (entry.user_id, entry.created_by_id))
    )
    if not allowed:
        raise Http404(_("Cette inscription n'existe pas, ou vous ne pouvez pas la voir."))
    _decorate_entry(entry)
    return render(
        request,
        "booking/waitlist_done.html",
        {
            "entry": entry,
            "channels": _offer_channels(entry),
            "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
            "is_holder": user.is_authenticated and entry.user_id == user.pk,
            "for_someone_else": user.is_authenticated
            and entry.created_by_id == user.pk
            and entry.user_id != user.pk,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_waitlist_leave(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Leave the waiting list (a confirmation step, then waitlist_leave): one's own entries
    only; anyone else's answers 404."""
    entry = (
        waitlist.waitlist_list(actor=request.user)
        .filter(pk=entry_id, user=request.user, status__in=ACTIVE_ENTRY_STATUSES)
        .first()
    )
    if entry is None:
        raise Http404(_("Cette inscription n'existe pas ou est terminée."))
    _decorate_entry(entry)
    context = {"entry": entry, "error": ""}
    if request.method == "POST":
        try:
            waitlist.waitlist_leave(actor=request.user, entry=entry)
        except BookingError as exc:
            context["error"] = exc.message
            return render(
                request, "booking/my_waitlist_leave.html", context, status=exc.status_code
            )
        messages.success(
            request,
            _("Vous n'êtes plus sur la liste d'attente : %(what)s.") % {"what": entry.what_label},
        )
        return redirect("booking:my_bookings")
    return render(request, "booking/my_waitlist_leave.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agent_waitlist(request: HttpRequest) -> HttpResponse:
    """An agent puts someone on the waiting list of a resource they manage, when no free slot
    suits the person on the phone. Reached from the booking form ("Rien ne convient ?"), whose
    values it takes over."""
    resources = _require_agent(request)
    resource_qs = _agent_resources(request.user)
    service_qs = selectors.service_list().filter(resources__in=resource_qs).distinct()
    joining = request.method == "POST" and request.POST.get("action") == "inscrire"
    if joining:
        form = AgentWaitlistForm(request.POST, resources=resource_qs, services=service_qs)
    else:
        source = request.POST if request.method == "POST" else request.GET
        form = AgentWaitlistForm(
            initial={
                "phone": source.get("phone", ""),
                "name": source.get("name", ""),
                "email": source.get("email", ""),
                "resource": source.get("resource") or source.get("ressource") or resources[0].pk,
                "service": source.get("service", ""),
                "day": source.get("day") or source.get("date") or "",
                "semaines": str(DEFAULT_WAITLIST_WEEKS),
            },
            resources=resource_qs,
            services=service_qs,
        )
    phone_raw = ((request.POST if joining else form.initial).get("phone") or "").strip()
    phone, account = _account_for_phone(phone_raw)
    error, status = "", 200
    if joining:
        status = 400
        if form.is_valid():
            cleaned = form.cleaned_data
            if account is None and not cleaned["name"]:
                form.add_error(
                    "name", _("Aucun compte n'a ce numéro : indiquez le nom de la personne.")
                )
            else:
                now = timezone.now()
                window_start = max(now, _day_bounds(cleaned["day"])[0]) if cleaned["day"] else now
                person = None
                if account is None:
                    person = services.PersonDetails(
                        name=cleaned["name"], phone=cleaned["phone"], email=cleaned["email"]
                    )
                try:
                    entry = waitlist.waitlist_join(
                        actor=request.user,
                        resource=cleaned["resource"],
                        service=cleaned["service"],
                        window_start=window_start,
                        window_end=window_start + dt.timedelta(weeks=cleaned["semaines"]),
                        for_user=account,
                        person=person,
                        now=now,
                    )
                except BookingError as exc:
                    error, status = exc.message, exc.status_code
                else:
                    return redirect("booking:waitlist_done", entry_id=entry.pk)
    return render(
        request,
        "booking/agent_waitlist.html",
        {
            "form": form,
            "account": account,
            "phone_searched": bool(phone_raw),
            "phone_unreadable": bool(phone_raw) and not phone,
            "error": error,
            "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
        },
        status=status,
    )


# --- Calendar feeds ("Mon agenda sur mon téléphone", a resource's agenda) ----------------------


def _decorate_feed(feed: CalendarFeedToken) -> CalendarFeedToken:
    feed.created_label = when_text(feed.created_at)
    feed.last_used_label = when_text(feed.last_used_at) if feed.last_used_at else ""
    return feed


def _active_feeds(user, *, resources: bool) -> list[CalendarFeedToken]:
    feeds = ical.calendar_feed_list(actor=user).filter(
        revoked_at__isnull=True, resource__isnull=not resources
    )
    return [_decorate_feed(f) for f in feeds]


def _render_feed_created(request: HttpRequest, feed: CalendarFeedToken, raw: str) -> HttpResponse:
    """The new feed's secret address, shown this once (never stored, never in a redirect)."""
    url = ical.absolute_url(ical.calendar_feed_path(raw))
    webcal = "webcal://" + url.split("://", 1)[-1]
    response = render(
        request,
        "booking/feed_created.html",
        {
            "feed": _decorate_feed(feed),
            "feed_url": url,
            "webcal_url": webcal,
            "back_url": (
                _url("booking:agenda", {"cible": f"ressource-{feed.resource_id}"})
                if feed.resource_id
                else reverse("booking:my_bookings") + "#agenda-telephone"
            ),
        },
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_feed_create(request: HttpRequest) -> HttpResponse:
    """A new personal feed: the person's own bookings, for their phone's calendar. A GET (back
    from the login page) leads to the form on "Mes réservations"."""
    if request.method == "GET":
        return redirect(reverse("booking:my_bookings") + "#agenda-telephone")
    form = CalendarFeedForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("name", []):
            messages.error(request, error)
        return redirect(reverse("booking:my_bookings") + "#agenda-telephone")
    try:
        feed, raw = ical.calendar_feed_create(actor=request.user, name=form.cleaned_data["name"])
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("booking:my_bookings") + "#agenda-telephone")
    return _render_feed_created(request, feed, raw)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agenda_feed_create(request: HttpRequest) -> HttpResponse:
    """A new feed of a resource the agent manages (403 for anyone else). A GET leads to the
    form on the agenda page."""
    resources = _require_agent(request)
    if request.method == "GET":
        return redirect(reverse("booking:agenda") + "#titre-agendas-en-ligne")
    raw_id = request.POST.get("resource", "")
    if raw_id.isdigit() and not any(r.pk == int(raw_id) for r in resources):
        raise PermissionDenied(_("Vous ne gérez pas cette ressource."))
    form = ResourceFeedForm(request.POST, resources=_agent_resources(request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("booking:agenda")
    try:
        feed, raw = ical.calendar_feed_create(
            actor=request.user,
            resource=form.cleaned_data["resource"],
            name=form.cleaned_data["name"],
        )
    except BookingForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect("booking:agenda")
    return _render_feed_created(request, feed, raw)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Revoke one of one's feeds, personal or of a resource (a confirmation step first);
    anyone else's answers 404."""
    feed = (
        ical.calendar_feed_list(actor=request.user)
        .filter(pk=feed_id, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        raise Http404(_("Cet agenda en ligne n'existe pas ou est déjà révoqué."))
    _decorate_feed(feed)
    back = (
        _url("booking:agenda", {"cible": f"ressource-{feed.resource_id}"})
        if feed.resource_id
        else reverse("booking:my_bookings") + "#agenda-telephone"
    )
    if request.method == "POST":
        try:
            ical.calendar_feed_revoke(actor=request.user, feed=feed)
        except BookingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("L'agenda « %(name)s » est révoqué : son adresse ne fonctionne plus.")
                % {"name": feed.name},
            )
        return redirect(back)
    return render(request, "booking/feed_revoke.html", {"feed": feed, "back": back})


# --- Home page entries (core.registries), registered from BookingConfig.ready() --------------


def _is_signed_in(request) -> bool:
    return request.user.is_authenticated


def _is_agent(request) -> bool:
    return _agent_resources(request.user).exists()


def register_home_entries() -> None:
    """The booking cards of the home page: booking for everyone, "my bookings" for signed-in
    people, the agenda for agents."""
    from cybercantal.core.registries import DashboardCard, NavLink, dashboard_cards, main_nav_links

    main_nav_links.register(
        NavLink(
            key="booking.start",
            label=gettext_lazy("Prendre rendez-vous"),
            url_name="booking:start",
            order=10,
        )
    )
    main_nav_links.register(
        NavLink(
            key="booking.agenda",
            label=gettext_lazy("Agenda"),
            url_name="booking:agenda",
            order=20,
            is_visible=_is_agent,
        )
    )

    dashboard_cards.register(
        DashboardCard(
            key="booking.start",
            title=gettext_lazy("Prendre rendez-vous"),
            description=gettext_lazy(
                "Un rendez-vous près de chez vous : aide au numérique, démarches, "
                "téléconsultation, bureau ou salle. Sans compte, avec votre téléphone portable."
            ),
            url_name="booking:start",
            order=10,
        )
    )
    dashboard_cards.register(
        DashboardCard(
            key="booking.mine",
            title=gettext_lazy("Mes réservations"),
            description=gettext_lazy("Voir, déplacer ou annuler vos rendez-vous à venir."),
            url_name="booking:my_bookings",
            order=11,
            is_visible=_is_signed_in,
        )
    )
    dashboard_cards.register(
        DashboardCard(
            key="booking.agenda",
            title=gettext_lazy("Agenda des rendez-vous"),
            description=gettext_lazy(
                "Les rendez-vous de vos lieux, réserver pour une personne au téléphone, "
                "annuler une journée."
            ),
            url_name="booking:agenda",
            order=12,
            is_visible=_is_agent,
        )
    )
