"""Pages of mediation places: the open-data exports in the national schema (public), the
import of a file of that schema (staff of the Département), and the description of a place by
its structure's mediators or the Département's staff (/mediation/lieux/ and
/mediation/lieux/<place id>/description/)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.accounts.models import Membership, Role
from cybercantal.territory.models import Place

from ..exports import rows_to_csv, rows_to_json, schema_rows
from ..forms_places import PlaceDescriptionForm
from ..models import MediationPlace
from ..perms import can_describe_place, can_import_places, is_territory_staff
from ..selectors.places import mediation_place_list
from ..services.places import (
    DESCRIPTION_FIELDS,
    MAX_FILE_BYTES,
    mediation_place_describe,
    mediation_places_import,
)
from ..standard import SCHEMA_VERSION
from ..structures import mediator_organisation_ids
from ._nav import mediation_nav

EXPORT_NAME = "lieux-mediation-numerique"


def _vary_on_cookie(response: HttpResponse) -> HttpResponse:
    # What an agent sees (non-public places of their structure) is not what the public sees.
    response["Vary"] = "Cookie"
    return response


@require_safe
def places_export_csv(request: HttpRequest) -> HttpResponse:
    rows = schema_rows(mediation_place_list(actor=request.user))
    response = HttpResponse(rows_to_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{EXPORT_NAME}.csv"'
    return _vary_on_cookie(response)


@require_safe
def places_export_json(request: HttpRequest) -> HttpResponse:
    rows = schema_rows(mediation_place_list(actor=request.user))
    response = HttpResponse(rows_to_json(rows), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{EXPORT_NAME}.json"'
    return _vary_on_cookie(response)


class PlacesImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fichier CSV du schéma national"),
        help_text=gettext_lazy(
            "CSV encodé en UTF-8, séparé par des virgules, avec les colonnes du schéma des "
            "lieux de médiation numérique (5 Mo au plus)."
        ),
        error_messages={
            "required": gettext_lazy("Choisissez un fichier CSV."),
            "empty": gettext_lazy("Le fichier est vide."),
            "invalid": gettext_lazy("Aucun fichier n'a été envoyé : choisissez-en un."),
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("Fichier trop volumineux (5 Mo au plus)."))
        return upload


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def places_import(request: HttpRequest) -> HttpResponse:
    if not can_import_places(request.user):
        raise PermissionDenied(_("Seuls les agents du Département peuvent importer des lieux."))
    report = None
    status = 200
    if request.method == "POST":
        form = PlacesImportForm(request.POST, request.FILES)
        if form.is_valid():
            report = mediation_places_import(actor=request.user, csv_file=form.cleaned_data["file"])
            status = 200 if report.applied else 400
        else:
            status = 400
    else:
        form = PlacesImportForm()
    return render(
        request,
        "mediation/places_import.html",
        {"form": form, "report": report, "schema_version": SCHEMA_VERSION},
        status=status,
    )


REFUSAL = gettext_lazy(
    "Cette page est réservée aux médiateurs numériques des structures et aux agents du Département."
)


def _describable_places(user):
    """The places whose description the user may write: those of their structures for a
    mediator; for the Département's staff, every place already described or run by a
    structure that has mediators. PermissionDenied for anyone else."""
    organisation_ids = mediator_organisation_ids(user)
    if is_territory_staff(user):
        mediated = Membership.objects.filter(
            organisation=OuterRef("organisation"), role=Role.MEDIATOR, is_active=True
        )
        return Place.objects.filter(
            Q(organisation_id__in=organisation_ids) | Q(mediation__isnull=False) | Exists(mediated)
        )
    if not organisation_ids:
        raise PermissionDenied(REFUSAL)
    return Place.objects.filter(organisation_id__in=organisation_ids)


def description_state(mediation: MediationPlace | None) -> str:
    if mediation is None or not mediation.services or not mediation.pivot:
        return _("À compléter")
    return _("Complète")


@never_cache
@login_required
@require_safe
def place_description_list(request: HttpRequest) -> HttpResponse:
    places = (
        _describable_places(request.user)
        .select_related("commune", "organisation", "mediation")
        .order_by("organisation__name", "commune__name", "name", "pk")
    )
    rows = []
    for place in places:
        mediation = getattr(place, "mediation", None)
        state = description_state(mediation)
        rows.append({"place": place, "state": state, "complete": state == _("Complète")})
    return render(
        request,
        "mediation/places/list.html",
        {"rows": rows, "mediation_nav": mediation_nav(request)},
    )


def _initial(place: Place, mediation: MediationPlace | None) -> dict:
    if mediation is None:
        siret = getattr(place.organisation, "siret", "") or ""
        return {
            "pivot": siret,
            "itinerance": MediationPlace.Itinerance.FIXED,
            "presentation_resume": (place.description or "")[:280],
        }
    return {name: getattr(mediation, name) for name in DESCRIPTION_FIELDS}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def place_description(request: HttpRequest, place_id: int) -> HttpResponse:
    # Anyone who may describe no place at all is refused (403) before the place is looked
    # up; a mediator does not learn whether another structure's place exists (404).
    if not is_territory_staff(request.user) and not mediator_organisation_ids(request.user):
        raise PermissionDenied(REFUSAL)
    place = Place.objects.select_related("commune", "organisation").filter(pk=place_id).first()
    if place is None or not can_describe_place(request.user, place):
        raise Http404(_("Aucun lieu de votre structure ne porte ce numéro."))
    mediation = MediationPlace.objects.filter(place=place).first()
    status = 200
    if request.method == "POST":
        form = PlaceDescriptionForm(request.POST)
        if form.is_valid():
            try:
                mediation_place_describe(actor=request.user, place=place, **form.cleaned_data)
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
            else:
                messages.success(
                    request,
                    _("La description de « %(name)s » est enregistrée.") % {"name": place.name},
                )
                return redirect(reverse("mediation:place_description_list"))
        status = 400
    else:
        form = PlaceDescriptionForm(initial=_initial(place, mediation))
    return render(
        request,
        "mediation/places/description.html",
        {
            "form": form,
            "place": place,
            "mediation": mediation,
            "state": description_state(mediation),
            "mediation_nav": mediation_nav(request),
        },
        status=status,
    )
