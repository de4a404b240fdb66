"""The coverage of the territory by digital mediation, for the Département's staff: communes
without help within N km (map and sortable list), the effect of proposed tour stops computed on
the spot (GET ?ajout=<INSEE code>, nothing is written), the best communes for the next stops,
and the list as CSV.

Mounted under /mediation/ by mediation/urls.py (`*coverage.urlpatterns`)."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.perms import TERRITORY_STAFF_ROLES
from cybercantal.core.geo import ROAD_FACTOR
from cybercantal.territory.age_structure import AgeDataError, commune_ages_load
from cybercantal.territory.models import Commune

from ..selectors import coverage as selectors
from ..selectors.coverage import Coverage, HelpKind, HelpPoint

MAX_PROPOSED = 10
SUGGESTIONS = 5
SORTS = {
    "priorite": lambda c: (-c.priority, -c.population, c.name),
    "population": lambda c: (-c.population, c.name),
    "distance": lambda c: (-(c.distance_km if c.distance_km is not None else 1e9), c.name),
    "nom": lambda c: (c.name, c.insee_code),
}
SORT_LABELS = {
    "priorite": gettext_lazy("Priorité"),
    "population": gettext_lazy("Population"),
    "distance": gettext_lazy("Aide la plus proche"),
    "nom": gettext_lazy("Commune"),
}
COLORS = {
    "uncovered": "#b3261e",
    HelpKind.PLACE: "#1d4f91",
    HelpKind.STOP: "#0b6e4f",
    HelpKind.PROPOSED: "#6a1b9a",
}


class CoverageForm(forms.Form):
    rayon = forms.IntegerField(
        label=gettext_lazy("Distance maximale par la route (km)"),
        min_value=selectors.MIN_RADIUS_KM,
        max_value=selectors.MAX_RADIUS_KM,
        required=False,
        help_text=gettext_lazy("De 5 à 50 km."),
        error_messages={
            "invalid": gettext_lazy("La distance est un nombre entier de kilomètres, de 5 à 50."),
            "min_value": gettext_lazy("La distance va de 5 à 50 km."),
            "max_value": gettext_lazy("La distance va de 5 à 50 km."),
        },
    )
    tri = forms.ChoiceField(choices=[(k, k) for k in SORTS], required=False)

    def __init__(self, data):
        super().__init__(data)
        self.proposed_codes: list[str] = []
        self._data_ajout = data.getlist("ajout") if hasattr(data, "getlist") else []

    def clean(self):
        cleaned = super().clean()
        codes = []
        for raw in self._data_ajout:
            code = raw.strip().upper()
            if not code:
                continue
            if len(code) != 5 or not code.isalnum():
                raise forms.ValidationError(
                    _("Code de commune illisible : %(code)s.") % {"code": raw[:10]}
                )
            if code not in codes:
                codes.append(code)
        if len(codes) > MAX_PROPOSED:
            raise forms.ValidationError(
                _("Au plus %(count)d étapes envisagées à la fois.") % {"count": MAX_PROPOSED}
            )
        self.proposed_codes = codes
        return cleaned


AGES_MAX_BYTES = 60 * 1024 * 1024  # INSEE's national file is about 40 Mo


class AgesUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fichier CSV de l'INSEE"),
        help_text=gettext_lazy(
            "Base « Évolution et structure de la population » (colonnes CODGEO, PAA_POP et "
            "PAA_POP75P), nationale ou limitée au département ; 60 Mo au plus."
        ),
        error_messages={"required": gettext_lazy("Choisissez le fichier à charger.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > AGES_MAX_BYTES:
            raise forms.ValidationError(_("Le fichier dépasse 60 Mo."))
        return upload


def _require_staff(request: HttpRequest) -> None:
    if not request.user.has_role(*TERRITORY_STAFF_ROLES):
        raise PermissionDenied(_("Cette page est réservée aux agents du Département."))


def _query(radius: int, codes: list[str], sort: str = "") -> str:
    """The page's address for this radius, these proposed stops and this order."""
    params: list[tuple[str, str]] = [("rayon", str(radius))]
    params += [("ajout", code) for code in codes]
    if sort and sort != "priorite":
        params.append(("tri", sort))
    return "?" + urlencode(params)


def _help_label(point: HelpPoint | None) -> str:
    if point is None:
        return _("aucune")
    if point.kind == HelpKind.PROPOSED:
        return _("étape envisagée à %(commune)s") % {"commune": point.commune_name}
    if point.kind == HelpKind.STOP:
        return _("%(place)s (%(commune)s), étape de tournée") % {
            "place": point.name,
            "commune": point.commune_name,
        }
    return _("%(place)s (%(commune)s)") % {"place": point.name, "commune": point.commune_name}


def _map_data(result: Coverage) -> dict:
    """Uncovered communes and helps as GeoJSON points (core/js/map.js draws the markers; the
    commune outlines come from the territory's cached communes.geojson)."""
    features = []

    def point(lat, lon, name, label, color, key):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "name": name,
                    "kinds": [{"code": key, "label": label}],
                    "color": color,
                },
            }
        )

    for row in result.uncovered:
        label = ngettext(
            "non couverte, %(count)s habitant", "non couverte, %(count)s habitants", row.population
        ) % {"count": number_format(row.population, force_grouping=True)}
        point(row.latitude, row.longitude, row.name, label, COLORS["uncovered"], "uncovered")
    kind_labels = {
        HelpKind.PLACE: _("lieu de médiation"),
        HelpKind.STOP: _("étape de tournée"),
        HelpKind.PROPOSED: _("étape envisagée"),
    }
    for help_point in [*result.helps, *result.proposed]:
        name = help_point.name or help_point.commune_name
        point(
            help_point.latitude,
            help_point.longitude,
            name,
            kind_labels[help_point.kind],
            COLORS[help_point.kind],
            help_point.kind,
        )
    return {"type": "FeatureCollection", "features": features}


def _compute(request: HttpRequest):
    """The form, the coverage and the proposed stops; (form, None, ...) when the form is
    invalid."""
    form = CoverageForm(request.GET)
    if not form.is_valid():
        return form, None, [], []
    radius = form.cleaned_data.get("rayon") or selectors.DEFAULT_RADIUS_KM
    proposed = selectors.communes_by_code(form.proposed_codes)
    unknown = [code for code in form.proposed_codes if code not in proposed]
    if unknown:
        form.add_error(None, _("Commune inconnue : %(code)s.") % {"code": ", ".join(unknown)})
        return form, None, [], []
    proposed = [proposed[code] for code in form.proposed_codes]
    result = selectors.coverage(
        radius_km=radius,
        extra_points=[(c.latitude, c.longitude, c.name) for c in proposed],
    )
    # Each proposed stop on its own, against today's coverage: what it adds by itself.
    alone = [
        (c, selectors.stop_gain(result, insee_code=c.insee_code, baseline=True)) for c in proposed
    ]
    return form, result, proposed, alone


@login_required
@require_safe
def coverage_page(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form, result, proposed, alone = _compute(request)
    context = {
        "form": form,
        "road_factor": number_format(ROAD_FACTOR, 1),
        "radius_choices": [5, 10, 15, 20, 25, 30, 40, 50],
        "default_radius": selectors.DEFAULT_RADIUS_KM,
        "upcoming_days": selectors.DEFAULT_UPCOMING_DAYS,
        "colors": COLORS,
    }
    if result is None:
        return render(request, "mediation/coverage/page.html", context, status=400)
    radius = int(result.radius_km)
    codes = [c.insee_code for c in proposed]
    sort = form.cleaned_data.get("tri") or "priorite"
    uncovered = sorted((c for c in result.communes if not c.covered), key=SORTS[sort])
    suggestions = selectors.best_candidates(result, k=SUGGESTIONS)
    context |= {
        "result": result,
        "radius": radius,
        "sort": sort,
        "uncovered": [
            {
                "row": row,
                "help": _help_label(row.best_help),
                "add_url": _query(radius, sort=sort, codes=[*codes, row.insee_code]),
            }
            for row in uncovered
        ],
        "sort_links": [
            {
                "key": key,
                "label": label,
                "url": _query(radius, codes, key),
                "current": key == sort,
            }
            for key, label in SORT_LABELS.items()
        ],
        "proposed": [
            {
                "commune": commune,
                "gain": gain,
                "remove_url": _query(
                    radius, sort=sort, codes=[c for c in codes if c != commune.insee_code]
                ),
            }
            for commune, gain in alone
        ],
        "proposed_codes": codes,
        "suggestions": [
            {
                "suggestion": s,
                "add_url": _query(radius, sort=sort, codes=[*codes, s.commune.insee_code]),
            }
            for s in suggestions
        ],
        "all_suggestions_url": _query(
            radius, sort=sort, codes=[*codes, *(s.commune.insee_code for s in suggestions)]
        )
        if suggestions
        else "",
        "communes": sorted(result.communes, key=lambda c: c.name),
        "map_data": _map_data(result),
        "csv_url": reverse("mediation:coverage_csv") + _query(radius, codes),
        "reset_url": _query(radius, [], sort),
        "ages_known": sum(1 for c in result.communes if c.share_75 is not None),
    }
    return render(request, "mediation/coverage/page.html", context)


@login_required
@require_safe
def coverage_csv(request: HttpRequest) -> HttpResponse:
    """Every commune with its nearest help and distance, covered or not, by priority."""
    _require_staff(request)
    form, result, _proposed, _alone = _compute(request)
    if result is None:
        errors = " ".join(str(e) for e in form.errors.get("__all__", []))
        errors = errors or " ".join(str(e) for e in form.errors.get("rayon", []))
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    radius = int(result.radius_km)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="couverture-{radius}km.csv"'
    response.write("\ufeff")  # lets spreadsheet software read the accents
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            "code_insee",
            "commune",
            "population",
            "part_75_ans_et_plus",
            "priorite",
            f"couverte_{radius}km",
            "couverte_sans_etapes_envisagees",
            "aide_la_plus_proche",
            "distance_route_km",
        ]
    )
    rows = sorted(result.communes, key=lambda c: (c.covered, -c.priority, c.name))
    for row in rows:
        share = "" if row.share_75 is None else f"{row.share_75:.3f}".replace(".", ",")
        distance = row.best_km
        writer.writerow(
            [
                row.insee_code,
                row.name,
                row.population,
                share,
                f"{row.priority:.0f}",
                "oui" if row.covered else "non",
                "oui" if row.covered_before else "non",
                _help_label(row.best_help),
                "" if distance is None else f"{distance:.1f}".replace(".", ","),
            ]
        )
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def coverage_ages_upload(request: HttpRequest) -> HttpResponse:
    """Load the share of people aged 75 or more, which weights the priority of communes."""
    _require_staff(request)
    posted = request.method == "POST"
    form = AgesUploadForm(request.POST, request.FILES) if posted else AgesUploadForm()
    if posted and form.is_valid():
        try:
            report = commune_ages_load(raw=form.cleaned_data["file"].read(), actor=request.user)
        except AgeDataError as error:
            form.add_error("file", str(error))
        else:
            year = _(" (recensement %(year)s)") % {"year": report.year} if report.year else ""
            messages.success(
                request,
                ngettext(
                    "Part des 75 ans et plus%(year)s chargée : %(count)d commune mise à jour.",
                    "Part des 75 ans et plus%(year)s chargée : %(count)d communes mises à jour.",
                    report.updated,
                )
                % {"year": year, "count": report.updated},
            )
            if report.missing:
                messages.warning(
                    request,
                    _("%(count)d communes manquaient dans le fichier : leur part reste inconnue.")
                    % {"count": len(report.missing)},
                )
            return redirect("mediation:coverage")
    known = Commune.objects.filter(share_75_plus__isnull=False)
    context = {
        "form": form,
        "known": known.count(),
        "total": Commune.objects.count(),
        "year": known.order_by("-age_data_year").values_list("age_data_year", flat=True).first(),
    }
    status = 400 if form.errors else 200
    return render(request, "mediation/coverage/ages_upload.html", context, status=status)


urlpatterns = [
    path("couverture/", coverage_page, name="coverage"),
    path("couverture/ages/", coverage_ages_upload, name="coverage_ages"),
    path("couverture/export.csv", coverage_csv, name="coverage_csv"),
]
