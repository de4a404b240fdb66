"""A mediator's activity reports (/mediation/comptes-rendus/): the quick entry, prefilled
from an appointment (?rdv=<booking id>), and the structure's list with its CSV export."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.errors import BookingError
from cybercantal.booking.selectors import booking_get
from cybercantal.territory.models import Commune, Organisation, Place

from ..activity_vocabulary import THEMES
from ..forms_activities import ActivityForm
from ..selectors.activities import activity_list, beneficiary_list
from ..services.activities import activity_record_quick
from ..structures import mediator_organisation_ids

LIST_LIMIT = 200


def _organisation(request: HttpRequest) -> Organisation:
    """The mediator's structure (the first one when they belong to several)."""
    ids = mediator_organisation_ids(request.user)
    if not ids:
        raise PermissionDenied(_("Cette page est réservée aux médiateurs numériques."))
    return Organisation.objects.get(pk=ids[0])


def _commune(raw: str) -> Commune | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    return (
        Commune.objects.filter(Q(insee_code=raw.upper()) | Q(name__iexact=raw))
        .order_by("insee_code")
        .first()
    )


def _prefill(request: HttpRequest, organisation) -> tuple[dict, object]:
    """Initial values from the appointment `?rdv=`, if the mediator may see it."""
    booking = None
    raw = request.GET.get("rdv") or request.POST.get("rdv")
    if raw and raw.isdigit():
        booking = booking_get(actor=request.user, booking_id=int(raw))
    if booking is None:
        return {}, None
    minutes = int((booking.end - booking.start).total_seconds() // 60)
    initial = {
        "day": booking.start.date(),
        "duration_minutes": min((15, 30, 45, 60, 90, 120, 180), key=lambda m: abs(m - minutes)),
    }
    if booking.place_id:
        initial |= {"place_type": "lieu", "place": booking.place_id}
    return initial, booking


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    initial, booking = _prefill(request, organisation)
    form = ActivityForm(
        request.POST or None,
        initial=initial,
        # The structure's places, and the appointment's (a tour stop's town hall, say).
        places=Place.objects.filter(
            Q(organisation=organisation) | Q(pk=booking.place_id if booking else None)
        ).order_by("name"),
        beneficiaries=beneficiary_list(actor=request.user).order_by("first_name", "pk"),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            commune = _commune(data["commune"])
            if data["commune"] and commune is None:
                form.add_error("commune", _("Commune inconnue : vérifiez le nom ou le code."))
            else:
                new_person = None
                if not data["beneficiary"] and (data["new_first_name"] or data["new_anonymous"]):
                    new_person = {
                        "consent": data["new_consent"],
                        "is_anonymous": data["new_anonymous"],
                        "first_name": data["new_first_name"],
                        "phone": data["new_phone"],
                        "has_no_phone": not data["new_phone"],
                        "age_band": data["new_age_band"] or "inconnu",
                        "commune": commune,
                    }
                try:
                    activity_record_quick(
                        actor=request.user,
                        organisation=organisation,
                        new_person=new_person,
                        kind=data["kind"],
                        day=data["day"],
                        duration_minutes=data["duration_minutes"],
                        place_type=data["place_type"],
                        place=data["place"],
                        commune=commune,
                        themes=data["themes"],
                        equipment=data["equipment"],
                        autonomy=data["autonomy"],
                        redirected_to=data["redirected_to"],
                        booking=booking,
                        title=data["title"],
                        level=data["level"],
                        participants_count=data["participants_count"] or 1,
                        beneficiaries=[data["beneficiary"]] if data["beneficiary"] else [],
                    )
                except BookingError as exc:
                    form.add_error(None, exc.message)
                    status = exc.status_code
                else:
                    messages.success(request, _("Compte rendu enregistré."))
                    return redirect(reverse("mediation:activities"))
    return render(
        request,
        "mediation/activities/new.html",
        {"form": form, "organisation": organisation, "booking": booking},
        status=status,
    )


@never_cache
@login_required
@require_safe
def activities(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    rows = list(
        activity_list(actor=request.user)
        .select_related("commune", "place", "mediator")
        .prefetch_related("beneficiaries")[:LIST_LIMIT]
    )
    for row in rows:
        row.theme_labels = [THEMES.get(code, code) for code in row.themes]
    return render(
        request,
        "mediation/activities/list.html",
        {"organisation": organisation, "rows": rows},
    )


@never_cache
@login_required
@require_safe
def activities_csv(request: HttpRequest) -> HttpResponse:
    _organisation(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="comptes-rendus.csv"'
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            "date", "type", "duree_minutes", "lieu_type", "commune_insee", "thematiques",
            "materiel", "autonomie", "orientation", "atelier", "niveau", "participants",
        ]
    )  # fmt: skip
    for activity in activity_list(actor=request.user).select_related("commune").iterator():
        writer.writerow(
            [
                activity.day.isoformat(),
                activity.kind,
                activity.duration_minutes,
                activity.place_type,
                activity.commune.insee_code if activity.commune else "",
                "|".join(activity.themes),
                "|".join(activity.equipment),
                activity.autonomy,
                activity.redirected_to,
                activity.title,
                activity.level,
                activity.participants_count,
            ]
        )
    return response


urlpatterns = [
    path("comptes-rendus/", activities, name="activities"),
    path("comptes-rendus/nouveau/", activity_new, name="activity_new"),
    path("comptes-rendus/export.csv", activities_csv, name="activities_csv"),
]
