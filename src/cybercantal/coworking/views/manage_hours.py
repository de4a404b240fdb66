"""Hours and closures of a place, for its managers: the weekly opening hours (by hand, or
following the volunteers' shifts), the shifts themselves, and closures for some days (snow,
holidays) that cancel the bookings of those days."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cybercantal.booking.errors import BookingError
from cybercantal.territory.models import OpeningPeriod
from cybercantal.territory.opening_hours import osm_from_periods

from ..forms_hours import (
    ClosureForm,
    HoursSourceForm,
    ShiftEndForm,
    ShiftForm,
    WeeklyHoursForm,
)
from ..models import TiersLieu, VolunteerShift
from ..selectors.hours import (
    place_closure_get,
    place_closures,
    place_shift_get,
    place_shifts,
)
from ..services.closures import place_closure_add, place_closure_delete
from ..services.hours import place_hours_set, shifts_stretches
from ..services.shifts import place_hours_source_set, shift_add, shift_delete, shift_end
from .manage_common import managed_place, submit
from .network import day_text, time_text

# --- Words ------------------------------------------------------------------------------------


def week_rows(periods) -> list[dict]:
    """Seven rows, Monday first: the day's name and its periods in words ("9 h – 12 h")."""
    rows = [{"name": str(day.label).capitalize(), "periods": []} for day in OpeningPeriod.Weekday]
    for weekday, opens, closes in sorted(periods):
        rows[weekday]["periods"].append(
            _("de %(opens)s à %(closes)s")
            % {"opens": time_text(opens), "closes": time_text(closes)}
        )
    return rows


def _current_periods(tiers_lieu: TiersLieu) -> list[tuple[int, dt.time, dt.time]]:
    return list(
        OpeningPeriod.objects.filter(place_id=tiers_lieu.place_id)
        .order_by("weekday", "opens")
        .values_list("weekday", "opens", "closes")
    )


def _url(name: str, tiers_lieu: TiersLieu, *args) -> str:
    return reverse(f"coworking:{name}", args=[tiers_lieu.pk, *args])


# --- Opening hours ----------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_hours(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    periods = _current_periods(tiers_lieu)
    if tiers_lieu.hours_from_shifts and request.method == "POST":
        messages.error(request, _("Les horaires de ce lieu suivent les permanences."))
        return redirect(_url("manage_shifts", tiers_lieu))
    form = WeeklyHoursForm(request.POST or None, periods=periods)

    def save(data: dict) -> str:
        place_hours_set(
            actor=request.user,
            tiers_lieu=tiers_lieu,
            periods=data["periods"],
            from_day=data["from_day"],
        )
        if not data["periods"]:
            return _(
                "Horaires enregistrés : le lieu est fermé toute la semaine à partir du %(day)s."
            ) % {"day": day_text(data["from_day"])}
        return _("Horaires enregistrés ; ils s'appliquent à partir du %(day)s.") % {
            "day": day_text(data["from_day"])
        }

    done, status = submit(request, form, save, then=_url("manage_hours", tiers_lieu))
    if done:
        return done
    return render(
        request,
        "coworking/manage/hours.html",
        {
            "tiers_lieu": tiers_lieu,
            "form": form,
            "week": week_rows(periods),
            "osm": tiers_lieu.place.opening_hours,
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def manage_hours_source(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch the public hours between "set by hand" and "following the shifts"."""
    tiers_lieu = managed_place(request, pk)
    form = HoursSourceForm(request.POST)
    form.is_valid()  # a checkbox: always valid, unticked is False
    from_shifts = form.cleaned_data.get("from_shifts", False)
    back_to_shifts = request.POST.get("retour") == "permanences"
    try:
        place_hours_source_set(actor=request.user, tiers_lieu=tiers_lieu, from_shifts=from_shifts)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Les horaires publics suivent désormais les permanences ; ils sont publiés.")
            if from_shifts
            else _("Les horaires ne suivent plus les permanences : vous pouvez les changer ici."),
        )
    return redirect(_url("manage_shifts" if back_to_shifts else "manage_hours", tiers_lieu))


# --- Volunteers' shifts -----------------------------------------------------------------------


def _organisation_members(tiers_lieu: TiersLieu):
    return (
        get_user_model()
        .objects.filter(
            memberships__organisation_id=tiers_lieu.place.organisation_id,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def _shift_when(shift: VolunteerShift) -> str:
    return _("%(day)s de %(start)s à %(end)s") % {
        "day": shift.get_weekday_display(),
        "start": time_text(shift.start_time),
        "end": time_text(shift.end_time),
    }


def _validity_text(shift: VolunteerShift) -> str:
    start = formats.date_format(shift.valid_from, "SHORT_DATE_FORMAT")
    if shift.valid_until is None:
        return _("depuis le %(start)s, sans date de fin") % {"start": start}
    return _("du %(start)s au %(end)s") % {
        "start": start,
        "end": formats.date_format(shift.valid_until, "SHORT_DATE_FORMAT"),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_shifts(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    members = _organisation_members(tiers_lieu)
    form = ShiftForm(request.POST or None, members=members)

    def add(data: dict) -> str:
        shift = shift_add(
            actor=request.user,
            tiers_lieu=tiers_lieu,
            volunteer_name=data["volunteer_name"],
            volunteer=data["volunteer"],
            weekday=data["weekday"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
        )
        text = _("Permanence de %(name)s ajoutée : %(when)s.") % {
            "name": shift.volunteer_name,
            "when": _shift_when(shift),
        }
        if tiers_lieu.hours_from_shifts:
            text += " " + _("Les horaires publics sont mis à jour.")
        return text

    done, status = submit(request, form, add, then=_url("manage_shifts", tiers_lieu))
    if done:
        return done
    today = timezone.localdate()
    shifts = list(place_shifts(actor=request.user, tiers_lieu=tiers_lieu, today=today))
    days = []
    for day in OpeningPeriod.Weekday:
        of_day = [s for s in shifts if s.weekday == day.value]
        days.append({"name": str(day.label).capitalize(), "shifts": of_day})
    for shift in shifts:
        shift.when = _shift_when(shift)
        shift.validity = _validity_text(shift)
        shift.has_begun = shift.valid_from <= today
    stretches = shifts_stretches(tiers_lieu, today)
    later = [
        {
            "caption_id": f"legende-a-venir-{index}",
            "first_day": day_text(s.first_day),
            "osm": osm_from_periods(s.periods),
            "week": week_rows(s.periods),
        }
        for index, s in enumerate(stretches[1:], start=1)
    ]
    return render(
        request,
        "coworking/manage/shifts.html",
        {
            "tiers_lieu": tiers_lieu,
            "form": form,
            "has_members": members.exists(),
            "days": days,
            "has_shifts": bool(shifts),
            "derived_week": week_rows(stretches[0].periods),
            "derived_osm": osm_from_periods(stretches[0].periods),
            "later": later,
        },
        status=status,
    )


def _shift_or_404(request: HttpRequest, tiers_lieu: TiersLieu, shift_id: int) -> VolunteerShift:
    shift = place_shift_get(actor=request.user, tiers_lieu=tiers_lieu, shift_id=shift_id)
    if shift is None:
        raise Http404(_("Cette permanence n'existe pas, ou elle n'est pas celle de ce lieu."))
    return shift


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_shift_end(request: HttpRequest, pk: int, shift_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    shift = _shift_or_404(request, tiers_lieu, shift_id)
    form = ShiftEndForm(request.POST or None)
    name, when = shift.volunteer_name, _shift_when(shift)

    def end(data: dict) -> str:
        kept = shift_end(
            actor=request.user, tiers_lieu=tiers_lieu, shift=shift, last_day=data["last_day"]
        )
        if kept is None:
            return _(
                "La permanence de %(name)s (%(when)s) est supprimée : elle n'avait pas commencé."
            ) % {"name": name, "when": when}
        return _("La permanence de %(name)s (%(when)s) s'arrête après le %(day)s.") % {
            "name": name,
            "when": when,
            "day": day_text(data["last_day"]),
        }

    done, status = submit(request, form, end, then=_url("manage_shifts", tiers_lieu))
    if done:
        return done
    return render(
        request,
        "coworking/manage/shift_end.html",
        {
            "tiers_lieu": tiers_lieu,
            "shift": shift,
            "when": when,
            "validity": _validity_text(shift),
            "form": form,
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def manage_shift_delete(request: HttpRequest, pk: int, shift_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    shift = _shift_or_404(request, tiers_lieu, shift_id)
    name, when = shift.volunteer_name, _shift_when(shift)
    try:
        shift_delete(actor=request.user, tiers_lieu=tiers_lieu, shift=shift)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("La permanence de %(name)s (%(when)s) est supprimée.") % {"name": name, "when": when},
        )
    return redirect(_url("manage_shifts", tiers_lieu))


# --- Closures ---------------------------------------------------------------------------------


def _closure_rows(closures, now: dt.datetime) -> list[dict]:
    rows = []
    for closure in closures:
        start = timezone.localtime(closure.start)
        # A closure ends at midnight after its last day.
        last = timezone.localtime(closure.end - dt.timedelta(microseconds=1))
        if start.date() == last.date():
            when = day_text(start.date())
        else:
            when = _("du %(first)s au %(last)s") % {
                "first": day_text(start.date()),
                "last": day_text(last.date()),
            }
        rows.append(
            {
                "closure": closure,
                "when": when,
                "what": closure.resource.name if closure.resource_id else _("tout le lieu"),
                "under_way": closure.start <= now,
            }
        )
    return rows


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_closures(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    form = ClosureForm(request.POST or None)

    def close(data: dict) -> str:
        _closure, cancelled = place_closure_add(
            actor=request.user,
            tiers_lieu=tiers_lieu,
            first_day=data["first_day"],
            last_day=data["last_day"],
            reason=data["reason"],
        )
        if data["first_day"] == data["last_day"]:
            when = day_text(data["first_day"])
        else:
            when = _("du %(first)s au %(last)s") % {
                "first": day_text(data["first_day"]),
                "last": day_text(data["last_day"]),
            }
        closed = _("Fermeture enregistrée : %(when)s.") % {"when": when}
        if not cancelled:
            return closed + " " + _("Aucune réservation n'était prévue.")
        return (
            closed
            + " "
            + ngettext(
                "%(count)d réservation annulée ; la personne est prévenue, avec d'autres "
                "créneaux proposés.",
                "%(count)d réservations annulées ; les personnes sont prévenues, avec d'autres "
                "créneaux proposés.",
                len(cancelled),
            )
            % {"count": len(cancelled)}
        )

    done, status = submit(request, form, close, then=_url("manage_closures", tiers_lieu))
    if done:
        return done
    now = timezone.now()
    closures = place_closures(actor=request.user, tiers_lieu=tiers_lieu, now=now)
    return render(
        request,
        "coworking/manage/closures.html",
        {
            "tiers_lieu": tiers_lieu,
            "form": form,
            "closures": _closure_rows(closures, now),
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def manage_closure_delete(request: HttpRequest, pk: int, closure_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    closure = place_closure_get(actor=request.user, tiers_lieu=tiers_lieu, closure_id=closure_id)
    if closure is None:
        raise Http404(_("Cette fermeture n'existe pas, ou elle n'est pas celle de ce lieu."))
    try:
        place_closure_delete(actor=request.user, tiers_lieu=tiers_lieu, closure=closure)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Le lieu est rouvert pour ces jours : ils sont de nouveau réservables. Les "
                "réservations déjà annulées le restent."
            ),
        )
    return redirect(_url("manage_closures", tiers_lieu))


urlpatterns = [
    path("gestion/<int:pk>/horaires/", manage_hours, name="manage_hours"),
    path("gestion/<int:pk>/horaires/source/", manage_hours_source, name="manage_hours_source"),
    path("gestion/<int:pk>/permanences/", manage_shifts, name="manage_shifts"),
    path(
        "gestion/<int:pk>/permanences/<int:shift_id>/fin/",
        manage_shift_end,
        name="manage_shift_end",
    ),
    path(
        "gestion/<int:pk>/permanences/<int:shift_id>/supprimer/",
        manage_shift_delete,
        name="manage_shift_delete",
    ),
    path("gestion/<int:pk>/fermetures/", manage_closures, name="manage_closures"),
    path(
        "gestion/<int:pk>/fermetures/<int:closure_id>/rouvrir/",
        manage_closure_delete,
        name="manage_closure_delete",
    ),
]
