"""The public booking flow: choose a service, then a commune and a distance, then one of the
next free slots; confirm it in one click when signed in, or with a name and a mobile number
confirmed by a 6-digit SMS code; a confirmation page to keep."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.core.geo import ROAD_FACTOR
from cybercantal.core.notifications.sms import phone_display
from cybercantal.territory.models import Commune, Place
from cybercantal.territory.selectors import commune_get, place_get

from .. import phone_confirmation, selectors, services
from ..errors import BookingConflict, BookingError
from ..forms import (
    DEFAULT_RADIUS_KM,
    RADIUS_CHOICES_KM,
    CodeVerifyForm,
    PersonForm,
    SlotForm,
    SlotSearchForm,
)
from ..models import Booking, Resource, Service
from ._common import (
    SlotChoice,
    _agent_resources,
    _deadline,
    _decorate,
    _iso,
    _local,
    _place_phone,
    _resolve_commune,
    _service_by_code,
    _url,
    day_text,
    duration_text,
    time_text,
    when_text,
)

PENDING_KEY = "booking_pending"  # the slot, the person, the hashed SMS code (phone_confirmation)

SEARCH_WINDOW = dt.timedelta(days=92)  # about three months per page of slots
SLOTS_PER_PAGE = 30
ALTERNATIVES = 6  # next slots offered when the chosen one was just taken


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


# --- Public flow: 1. the service --------------------------------------------------------------


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    """ "Prendre rendez-vous": what for."""
    return render(request, "booking/start.html", {"services": list(selectors.service_list())})


# --- Public flow: 2. near my commune, the next free slots -------------------------------------


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
        "verified": phone_confirmation.verified_contact(request),
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
    phone_confirmation.remember_booking(request, booking)
    return redirect("booking:booking_done", reference=booking.reference)


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
        phone_confirmation.forget_verified_contact(request)
        return redirect(slot.confirm_url)
    if request.user.is_authenticated:
        return _book(request, slot, person=None)
    verified = phone_confirmation.verified_contact(request)
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
        exceeded = phone_confirmation.send_code(
            request,
            key=PENDING_KEY,
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            query=slot.query,
        )
    except ValueError as exc:
        form.add_error("phone", str(exc))
        return _render_confirm(request, slot, person_form=form, status=400)
    if exceeded:
        return phone_confirmation.too_many_response(request, exceeded)
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
        return phone_confirmation.resend_code(
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
    refused = phone_confirmation.check_code(
        request, key=PENDING_KEY, pending=pending, form=form, context=context
    )
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
    if booking is None and phone_confirmation.is_remembered_booking(request, reference):
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
