"""Pages of mediation places: the open-data exports in the national schema (public) and the
import of a file of that schema (staff of the Département)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ..exports import rows_to_csv, rows_to_json, schema_rows
from ..perms import can_import_places
from ..selectors.places import mediation_place_list
from ..services.places import MAX_FILE_BYTES, mediation_places_import
from ..standard import SCHEMA_VERSION

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
