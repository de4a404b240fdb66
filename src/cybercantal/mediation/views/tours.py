"""Pages of itinerant tours: the agents' tours and their stops (add, move, cancel), and the
public's next stops near a commune, each with links to book its free slots.

Mounted under /mediation/ by mediation/urls.py (`*tours.urlpatterns`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking import selectors as booking_selectors
from cybercantal.booking.errors import BookingError
from cybercantal.booking.models import Booking, Resource
from cybercantal.booking.perms import TERRITORY_STAFF_ROLES, agent_organisation_ids
from cybercantal.booking.views._common import _iso, day_text, time_text
from cybercantal.territory.models import Place

from ..forms_tours import (
    StopCancelForm,
    StopForm,
    StopMoveForm,
    TourForm,
)
from ..models import Tour, TourStop
from ..selectors import tours as selectors
from ..services import tours as services
from ._nav import mediation_nav, report_url, reported_booking_ids
from ._nearby import nearby_search

SLOTS_PER_STOP = 4  # links shown per stop; the booking page offers the others


def _works_somewhere(user) -> bool:
    return user.has_role(*TERRITORY_STAFF_ROLES) or agent_organisation_ids(user).exists()


def _require_agent(request: HttpRequest) -> None:
    if not _works_somewhere(request.user):
        raise PermissionDenied(_("Cette page est réservée aux agents des structures."))


def _mediators(user) -> QuerySet[Resource]:
    resources = Resource.objects.filter(kind=Resource.Kind.PERSON, is_active=True)
    if not user.has_role(*TERRITORY_STAFF_ROLES):
        resources = resources.filter(organisation_id__in=agent_organisation_ids(user))
    return resources.select_related("organisation").order_by("name")


def _stop_places() -> QuerySet[Place]:
    return (
        Place.objects.filter(is_public=True)
        .select_related("commune")
        .defer("commune__outline")
        .order_by("commune__name", "name")
    )


def _tour_or_404(request: HttpRequest, tour_id: int) -> Tour:
    tour = selectors.tour_get(actor=request.user, tour_id=tour_id)
    if tour is None:
        raise Http404(_("Cette tournée n'existe pas ou ne vous concerne pas."))
    return tour


def _stop_or_404(request: HttpRequest, tour: Tour, stop_id: int) -> TourStop:
    stop = selectors.tour_stop_get(actor=request.user, tour=tour, stop_id=stop_id)
    if stop is None:
        raise Http404(_("Cette étape n'existe pas."))
    return stop


@login_required
@require_http_methods(["GET", "POST"])
def tour_list(request: HttpRequest) -> HttpResponse:
    """The tours of the agent's organisations, and a form to start one."""
    _require_agent(request)
    form = TourForm(request.POST or None, mediators=_mediators(request.user))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            mediator = form.cleaned_data["mediator"]
            try:
                tour = services.tour_create(
                    actor=request.user,
                    organisation=mediator.organisation,
                    mediator=mediator,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("La tournée « %(name)s » est créée.") % {"name": tour})
                return redirect("mediation:tour_detail", tour_id=tour.pk)
        status = 400
    tours = list(selectors.tour_list(actor=request.user))
    upcoming = defaultdict(list)
    for stop in selectors.organisation_stops_upcoming(actor=request.user)[:200]:
        upcoming[stop.tour_id].append(stop)
    rows = [(tour, upcoming.get(tour.pk, [])[:3]) for tour in tours]
    return render(
        request,
        "mediation/tours/list.html",
        {"rows": rows, "form": form, "mediation_nav": mediation_nav(request)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tour_detail(request: HttpRequest, tour_id: int) -> HttpResponse:
    """A tour's stops from today, and a form to add one."""
    tour = _tour_or_404(request, tour_id)
    form = StopForm(request.POST or None, places=_stop_places())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                stop = services.tour_stop_add(
                    actor=request.user,
                    tour=tour,
                    place=data["place"],
                    day=data["day"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Étape ajoutée : %(place)s, %(day)s. Elle est réservable dès maintenant.")
                    % {"place": stop.place.name, "day": day_text(stop.day)},
                )
                return redirect("mediation:tour_detail", tour_id=tour.pk)
        status = 400
    stops = [_decorate(stop) for stop in selectors.tour_stops_upcoming(tour=tour)]
    nav = mediation_nav(request)
    _add_appointments(tour, stops, report_links=nav)
    return render(
        request,
        "mediation/tours/detail.html",
        {"tour": tour, "stops": stops, "form": form, "mediation_nav": nav},
        status=status,
    )


def _add_appointments(tour: Tour, stops: list[TourStop], *, report_links: bool) -> None:
    """Each stop's appointments (`stop.appointments`: the mediator's active bookings at its
    place that day), with the link to the activity report's quick entry (`report_url`) for
    those of today or before not reported yet, when the user mediates (report_links)."""
    for stop in stops:
        stop.appointments = []
    if not stops:
        return
    tz = timezone.get_current_timezone()
    by_key = {(stop.place_id, stop.day): stop for stop in stops}
    first, last = min(stop.day for stop in stops), max(stop.day for stop in stops)
    bookings = list(
        Booking.objects.filter(
            allocations__resource=tour.mediator,
            place_id__in={stop.place_id for stop in stops},
            start__gte=dt.datetime.combine(first, dt.time(), tz),
            start__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz),
            status__in=Booking.ACTIVE_STATUSES,
        )
        .distinct()
        .order_by("start", "pk")
    )
    reported = reported_booking_ids(bookings)
    today = timezone.localdate()
    for booking in bookings:
        day = timezone.localtime(booking.start).date()
        stop = by_key.get((booking.place_id, day))
        if stop is None:
            continue
        booking.time_label = _time(timezone.localtime(booking.start).time())
        booking.report_url = (
            report_url(booking)
            if report_links and day <= today and booking.pk not in reported
            else ""
        )
        stop.appointments.append(booking)


def _decorate(stop: TourStop) -> TourStop:
    stop.day_label = day_text(stop.day, capitalize=True)
    stop.hours_label = _("%(start)s – %(end)s") % {
        "start": _time(stop.start_time),
        "end": _time(stop.end_time),
    }
    return stop


def _time(value: dt.time) -> str:
    """ "9 h 30", "14 h" (kept on one line), as booking's time_text."""
    text = f"{value.hour} h {value.minute:02d}" if value.minute else f"{value.hour} h"
    return text.replace(" ", "\u00a0")


@login_required
@require_http_methods(["GET", "POST"])
def stop_move(request: HttpRequest, tour_id: int, stop_id: int) -> HttpResponse:
    tour = _tour_or_404(request, tour_id)
    stop = _stop_or_404(request, tour, stop_id)
    initial = {"day": stop.day, "start_time": stop.start_time, "end_time": stop.end_time}
    form = StopMoveForm(request.POST or None, initial=initial, places=_stop_places())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = services.tour_stop_move(
                    actor=request.user,
                    stop=stop,
                    day=data["day"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    place=data.get("place"),
                    reason=data["reason"],
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "Étape déplacée au %(day)s, %(place)s. Les personnes inscrites sont "
                        "prévenues."
                    )
                    % {"day": day_text(new.day), "place": new.place.name},
                )
                return redirect("mediation:tour_detail", tour_id=tour.pk)
        status = 400
    return render(
        request,
        "mediation/tours/stop_move.html",
        {
            "tour": tour,
            "stop": _decorate(stop),
            "form": form,
            "mediation_nav": mediation_nav(request),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def stop_cancel(request: HttpRequest, tour_id: int, stop_id: int) -> HttpResponse:
    tour = _tour_or_404(request, tour_id)
    stop = _stop_or_404(request, tour, stop_id)
    form = StopCancelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.tour_stop_cancel(
                    actor=request.user, stop=stop, reason=form.cleaned_data["reason"]
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Étape annulée. Les personnes inscrites sont prévenues."),
                )
                return redirect("mediation:tour_detail", tour_id=tour.pk)
        status = 400
    return render(
        request,
        "mediation/tours/stop_cancel.html",
        {
            "tour": tour,
            "stop": _decorate(stop),
            "form": form,
            "mediation_nav": mediation_nav(request),
        },
        status=status,
    )


def _confirm_url(*, resource: Resource, start, end, service_code: str) -> str:
    params = {"ressource": resource.pk, "debut": _iso(start), "fin": _iso(end)}
    if service_code:
        params["prestation"] = service_code
    return f"{reverse('booking:confirm')}?{urlencode(params)}"


def _free_slots(found: list[selectors.StopNear]) -> dict[int, list]:
    """The first free slots of each stop: one availability read per mediator over the days
    shown (not one per stop), then each slot given to the stop at its place and day."""
    by_mediator: dict[int, list[TourStop]] = defaultdict(list)
    for item in found:
        by_mediator[item.stop.tour.mediator_id].append(item.stop)
    tz = timezone.get_current_timezone()
    result: dict[int, list] = defaultdict(list)
    for stops in by_mediator.values():
        mediator = stops[0].tour.mediator
        first, last = min(s.day for s in stops), max(s.day for s in stops)
        keyed = {(s.place_id, s.day): s for s in stops}
        service = mediator.services.order_by("label").first()
        for slot in booking_selectors.availability(
            resource=mediator,
            start=dt.datetime.combine(first, dt.time(), tzinfo=tz),
            end=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz),
        ):
            stop = keyed.get((slot.place_id, timezone.localtime(slot.start).date()))
            if stop is None or len(result[stop.pk]) >= SLOTS_PER_STOP:
                continue
            result[stop.pk].append(
                {
                    "label": time_text(slot.start),
                    "url": _confirm_url(
                        resource=mediator,
                        start=slot.start,
                        end=slot.end,
                        service_code=service.code if service else "",
                    ),
                }
            )
    return result


@require_safe
def public_stops(request: HttpRequest) -> HttpResponse:
    """ "Prochaines étapes": the next stops of the tours near a commune, by date then
    distance, with the first free slots of each to book."""
    context = nearby_search(request)
    commune, radius = context["commune"], context["radius"]
    if commune is not None:
        found = selectors.public_stops_near(commune=commune, radius_km=radius)
        slots = _free_slots(found)
        context["stops"] = [
            {
                "stop": _decorate(item.stop),
                "distance_km": item.distance_km,
                "road_km": item.road_km,
                "slots": slots.get(item.stop.pk, []),
            }
            for item in found
        ]
    return render(request, "mediation/tours/public.html", context)


urlpatterns = [
    path("tournees/", tour_list, name="tour_list"),
    path("tournees/prochaines-etapes/", public_stops, name="tour_stops_public"),
    path("tournees/<int:tour_id>/", tour_detail, name="tour_detail"),
    path("tournees/<int:tour_id>/etapes/<int:stop_id>/deplacer/", stop_move, name="tour_stop_move"),
    path(
        "tournees/<int:tour_id>/etapes/<int:stop_id>/annuler/",
        stop_cancel,
        name="tour_stop_cancel",
    ),
]
