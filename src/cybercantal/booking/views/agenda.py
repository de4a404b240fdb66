"""The agents' pages: a day or week agenda of a place or a person, actions on each booking,
booking for someone on the phone or at the desk, cancelling a whole day. Putting someone on
the waiting list: waitlist.agent_waitlist; a resource's calendar feed: calendar_feeds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.territory.models import Place

from .. import availability as av
from .. import selectors, services
from ..errors import BookingError
from ..forms import (
    AgendaForm,
    AgentBookingForm,
    AgentCancelForm,
    CancelDayForm,
    ResourceFeedForm,
)
from ..models import Booking, Resource, Service
from ._common import (
    SlotDay,
    _account_for_phone,
    _agent_resources,
    _day_bounds,
    _decorate,
    _iso,
    _local,
    _require_agent,
    _slot_days,
    _url,
    day_text,
    parse_day,
)
from .calendar_feeds import _active_feeds

AGENT_SLOTS_WINDOW = dt.timedelta(days=14)
AGENT_SLOTS = 16


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
