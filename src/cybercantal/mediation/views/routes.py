"""The route of the day (/mediation/tournee-du-jour/?jour=AAAA-MM-JJ&mediateur=<id>): a
mediator's home visits in driving order from their usual place and back, with addresses,
phone numbers, estimated kilometres and times, a form to book a home visit on a half-day, and
a printable letter per person (for people without e-mail: the mediator hands it over or posts
it). The mediator and the agents of their structure only: another mediator answers 404.

Mounted under /mediation/ by mediation/urls.py (`*routes.urlpatterns`)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cybercantal.booking.errors import BookingError
from cybercantal.booking.notifications import day_text, hour_text
from cybercantal.booking.services import PersonDetails
from cybercantal.booking.views._common import _resolve_commune
from cybercantal.core.notifications.sms import phone_display

from ..forms_workshops import HomeVisitForm
from ..selectors.routes import route_mediator_get, route_mediators
from ..services import routes as services
from ._nav import mediation_nav, report_url, reported_booking_ids


def _day(raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _mediator(request: HttpRequest, raw: str | None):
    if raw:
        mediator = route_mediator_get(actor=request.user, resource_id=raw)
        if mediator is None:
            raise Http404(_("Ce médiateur n'existe pas ou ne vous concerne pas."))
        return mediator
    mediators = route_mediators(actor=request.user)
    own = mediators.filter(person=request.user).first()
    mediator = own or mediators.first()
    if mediator is None:
        raise PermissionDenied(_("Cette page est réservée aux médiateurs et à leur structure."))
    return mediator


def _letter(stop, *, mediator, base) -> dict:
    """The printable confirmation of a visit, for someone without e-mail."""
    booking, visit = stop.booking, stop.visit
    phone = phone_display(base.phone) if base.phone else ""
    return {
        "name": booking.display_name,
        "address": visit.address,
        "commune": visit.commune,
        "lines": [
            _("%(mediator)s, médiateur numérique, viendra chez vous le %(day)s, %(window)s.")
            % {
                "mediator": mediator.name,
                "day": day_text(booking.start),
                "window": visit.get_window_display().lower(),
            },
            _("Adresse de la visite : %(address)s, %(commune)s.")
            % {"address": visit.address, "commune": visit.commune.name},
            _("Durée prévue : environ %(minutes)d minutes. Préparez vos papiers et vos codes.")
            % {"minutes": int((booking.end - booking.start).total_seconds() // 60)},
            _("Référence : %(ref)s.") % {"ref": booking.reference},
            (
                _("En cas d'empêchement, appelez %(place)s au %(phone)s.")
                % {"place": base.name, "phone": phone}
                if phone
                else _("En cas d'empêchement, prévenez %(place)s.") % {"place": base.name}
            ),
        ],
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def day_route(request: HttpRequest) -> HttpResponse:
    day = _day(request.GET.get("jour"))
    mediator = _mediator(request, request.GET.get("mediateur"))
    form = HomeVisitForm(request.POST or None, initial={"day": day})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            commune, _candidates = _resolve_commune(data["commune"], "")
            if commune is None:
                form.add_error(
                    "commune",
                    _(
                        "Nous ne trouvons pas cette commune, ou il y en a "
                        "plusieurs de ce nom : précisez-la."
                    ),
                )
            else:
                try:
                    visit = services.home_visit_book(
                        actor=request.user,
                        mediator=mediator,
                        day=data["day"],
                        window=data["window"],
                        address=data["address"],
                        commune=commune,
                        person=PersonDetails(data["name"], data["phone"]),
                        duration_minutes=data["duration_minutes"],
                    )
                except BookingError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        _("Visite à domicile réservée : %(day)s, %(window)s, à partir de %(hour)s.")
                        % {
                            "day": day_text(visit.booking.start),
                            "window": visit.get_window_display().lower(),
                            "hour": hour_text(visit.booking.start),
                        },
                    )
                    return redirect(
                        f"{request.path}?jour={data['day'].isoformat()}&mediateur={mediator.pk}"
                    )
        status = 400
    try:
        route = services.day_route(actor=request.user, mediator=mediator, day=day)
        error = ""
    except BookingError as exc:
        route, error = None, exc.message
    letters = []
    nav = mediation_nav(request)
    if route is not None:
        reported = reported_booking_ids(stop.booking for stop in route.stops)
        today = timezone.localdate()
        for stop in route.stops:
            stop.report_url = (
                report_url(stop.booking)
                if nav and day <= today and stop.booking.pk not in reported
                else ""
            )
            stop.phone_label = (
                phone_display(stop.booking.person_phone) if stop.booking.person_phone else ""
            )
            stop.arrival_label = hour_text(stop.arrival)
            if not stop.booking.person_email and not (
                stop.booking.user_id and stop.booking.user.email
            ):
                letters.append(_letter(stop, mediator=mediator, base=route.base))
    return render(
        request,
        "mediation/routes/day.html",
        {
            "day": day,
            "day_label": day_text(
                dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())
            ),
            "previous_day": (day - dt.timedelta(days=1)).isoformat(),
            "next_day": (day + dt.timedelta(days=1)).isoformat(),
            "mediator": mediator,
            "mediators": list(route_mediators(actor=request.user)),
            "route": route,
            "error": error,
            "letters": letters,
            "form": form,
            "department": settings.CYBERCANTAL_BRANDING.get("department_name", ""),
            "mediation_nav": nav,
        },
        status=status,
    )


urlpatterns = [
    path("tournee-du-jour/", day_route, name="day_route"),
]
