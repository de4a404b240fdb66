"""The activity dashboard of digital mediation (/mediation/tableau-de-bord/), for a mediator
(?vue=moi: their own reports), a structure (?vue=structure&structure=<id>: every report of a
structure they mediate for) or the territory (?vue=territoire: the Département's staff), for a
calendar year (?annee=YYYY), with the CSV of the monthly figures and of the themes.

The figures are what selectors/dashboard.py returns for the logged-in person: a refusal becomes
a 403 with its French message, a year that is not one a 400. Charts are server-side SVG
(core/charts.py), each followed by a table of the same numbers; the map draws the communes
with a circle sized by the people helped (mediation/js/people_map.js), with the same list as a
table."""

from __future__ import annotations

import csv
import datetime as dt
import math

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cybercantal.booking.errors import BookingForbidden
from cybercantal.core.charts import bar_chart_svg, number_text
from cybercantal.territory.models import Organisation

from ..perms import is_territory_staff
from ..selectors.dashboard import Dashboard, activity_dashboard, dashboard_structures
from ._nav import mediation_nav

MIN_YEAR, MAX_YEAR = 2000, 2100
# ?vue= (French, in the address) → the selector's scope.
VIEWS = {"moi": "mine", "structure": "structure", "territoire": "territory"}
MONTH_ABBREVIATIONS = (
    gettext_lazy("janv."),
    gettext_lazy("févr."),
    gettext_lazy("mars"),
    gettext_lazy("avr."),
    gettext_lazy("mai"),
    gettext_lazy("juin"),
    gettext_lazy("juil."),
    gettext_lazy("août"),
    gettext_lazy("sept."),
    gettext_lazy("oct."),
    gettext_lazy("nov."),
    gettext_lazy("déc."),
)


class _BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("annee", "").strip()
    if not raw:
        return timezone.localdate().year
    if raw.isdigit() and MIN_YEAR <= int(raw) <= MAX_YEAR:
        return int(raw)
    raise _BadRequest(
        _("« %(value)s » n'est pas une année : indiquez une année de %(min)s à %(max)s.")
        % {"value": raw[:20], "min": MIN_YEAR, "max": MAX_YEAR}
    )


def _request(request: HttpRequest) -> tuple[int, str, Organisation | None, list[Organisation]]:
    """The year, the scope, the structure (structure scope) and the structures the actor
    mediates for; _BadRequest or PermissionDenied with a French message."""
    year = _year(request)
    structures = dashboard_structures(actor=request.user)
    staff = is_territory_staff(request.user)
    raw_view = request.GET.get("vue", "").strip()
    if not raw_view:
        raw_view = "structure" if structures else ("territoire" if staff else "moi")
    if raw_view not in VIEWS:
        raise _BadRequest(_("Vue inconnue : choisissez « moi », « structure » ou « territoire »."))
    scope = VIEWS[raw_view]
    organisation = None
    if scope == "structure":
        raw = request.GET.get("structure", "").strip()
        if raw and not raw.isdigit():
            raise _BadRequest(_("La structure demandée n'est pas valable."))
        if raw:
            organisation = next((s for s in structures if s.pk == int(raw)), None)
            if organisation is None:
                raise PermissionDenied(
                    _("Seuls les médiateurs de cette structure voient son tableau de bord.")
                )
        elif structures:
            organisation = structures[0]
    return year, scope, organisation, structures


def _dashboard(request: HttpRequest) -> tuple[Dashboard, list[Organisation]]:
    year, scope, organisation, structures = _request(request)
    try:
        result = activity_dashboard(
            actor=request.user, year=year, scope=scope, organisation=organisation
        )
    except BookingForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    return result, structures


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "mediation/dashboard/bad_request.html", {"message": message}, status=400)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else _("%(value)s %%") % {"value": number_text(rate * 100)}


def _chart(key: str, title: str, unit: str, values: list[float]) -> dict:
    pairs = [(str(MONTH_ABBREVIATIONS[i]), v) for i, v in enumerate(values)]
    # Our own markup, every outside text escaped by bar_chart_svg.
    svg = bar_chart_svg(pairs, title=title, unit=unit, chart_id=key)
    return {"id": key, "title": title, "unit": unit, "svg": mark_safe(svg)}  # noqa: S308


def _scope_name(result: Dashboard, user) -> str:
    if result.scope == "territory":
        return _("toutes les structures du territoire")
    if result.scope == "structure":
        return result.organisation.name if result.organisation else ""
    return _("mes accompagnements (%(name)s)") % {"name": user.get_full_name() or user}


def _map_data(result: Dashboard) -> dict:
    biggest = max([c.people for c in result.communes] or [1])
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.longitude, c.latitude]},
                "properties": {
                    "name": c.name,
                    "people": c.people,
                    # The circle's area follows the number: radius from 4 to 28 pixels.
                    "radius": round(4 + 24 * math.sqrt(c.people / biggest), 1),
                    "label": _("%(name)s : %(count)s personne(s) accompagnée(s)")
                    % {"name": c.name, "count": number_text(c.people)},
                },
            }
            for c in result.communes
            if c.latitude is not None and c.longitude is not None
        ],
    }


def _month_rows(result: Dashboard) -> list[dict]:
    return [
        {
            "month": formats.date_format(m.month, "F Y"),
            "accompaniments": number_text(m.accompaniments),
            "workshops": number_text(m.workshops),
            "participants": number_text(m.participants),
            "hours": number_text(m.hours),
            "skills": number_text(result.skills_months[i]),
            "procedures": number_text(result.procedures_months[i]),
        }
        for i, m in enumerate(result.months)
    ]


def _theme_groups(result: Dashboard) -> list[dict]:
    groups = []
    for code, label, months in (
        ("skills", _("Accompagnement au numérique"), result.skills_months),
        ("procedures", _("Aide aux démarches en ligne"), result.procedures_months),
    ):
        rows = [t for t in result.themes if t.group == code]
        rows.sort(key=lambda t: (-t.total, t.label))
        groups.append({"label": label, "rows": rows, "months": months, "total": sum(months)})
    return groups


@never_cache
@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        result, structures = _dashboard(request)
    except _BadRequest as exc:
        return _bad_request(request, exc.message)
    year, total, people = result.year, result.total, result.people
    current = timezone.localdate().year
    gained = result.autonomy_gained
    charts = [
        _chart(
            "graphique-accompagnements",
            _("Accompagnements individuels par mois en %(year)s") % {"year": year},
            _("accompagnements"),
            [m.accompaniments for m in result.months],
        ),
        _chart(
            "graphique-ateliers",
            _("Séances d'atelier par mois en %(year)s") % {"year": year},
            _("séances"),
            [m.workshops for m in result.months],
        ),
        _chart(
            "graphique-participants",
            _("Participants par mois en %(year)s") % {"year": year},
            _("participants"),
            [m.participants for m in result.months],
        ),
        _chart(
            "graphique-heures",
            _("Heures d'accompagnement par mois en %(year)s") % {"year": year},
            _("heures"),
            [m.hours for m in result.months],
        ),
    ]
    theme_charts = [
        _chart(
            "graphique-numerique",
            _("Accompagnement au numérique par mois en %(year)s") % {"year": year},
            _("comptes rendus"),
            result.skills_months,
        ),
        _chart(
            "graphique-demarches",
            _("Aide aux démarches en ligne par mois en %(year)s") % {"year": year},
            _("comptes rendus"),
            result.procedures_months,
        ),
    ]
    autonomy_pairs = [(label, n) for _code, label, n in result.autonomy]
    autonomy_svg = bar_chart_svg(
        autonomy_pairs,
        title=_("Autonomie notée lors des accompagnements en %(year)s") % {"year": year},
        unit=_("accompagnements"),
        chart_id="graphique-autonomie",
    )
    query = {"annee": year, "vue": {v: k for k, v in VIEWS.items()}[result.scope]}
    if result.organisation is not None:
        query["structure"] = result.organisation.pk
    return render(
        request,
        "mediation/dashboard/dashboard.html",
        {
            "result": result,
            "year": year,
            "years": sorted({year, *range(current - 5, current + 1)}, reverse=True),
            "view": query["vue"],
            "structures": structures,
            "is_staff": is_territory_staff(request.user),
            "mediation_nav": mediation_nav(request),
            "scope_name": _scope_name(result, request.user),
            "query": "&".join(f"{k}={v}" for k, v in query.items()),
            "key_figures": [
                (_("accompagnements individuels"), number_text(total.accompaniments)),
                (_("séances d'atelier"), number_text(total.workshops)),
                (_("participations"), number_text(total.participants)),
                (_("heures d'accompagnement"), number_text(total.hours)),
                (_("personnes accompagnées"), number_text(people.total)),
                (_("ont gagné en autonomie"), _percent(gained.rate)),
            ],
            "charts": charts,
            "month_rows": _month_rows(result),
            "total_row": {
                "accompaniments": number_text(total.accompaniments),
                "workshops": number_text(total.workshops),
                "participants": number_text(total.participants),
                "hours": number_text(total.hours),
                "skills": number_text(sum(result.skills_months)),
                "procedures": number_text(sum(result.procedures_months)),
            },
            "theme_charts": theme_charts,
            "theme_groups": _theme_groups(result),
            "month_labels": [str(m) for m in MONTH_ABBREVIATIONS],
            "autonomy_svg": mark_safe(autonomy_svg),  # noqa: S308 (escaped by bar_chart_svg)
            "autonomy_rate": _percent(gained.rate),
            "map_data": _map_data(result),
        },
    )


def _csv_response(filename: str) -> tuple[HttpResponse, csv.writer]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that spreadsheets read the accents right
    return response, csv.writer(response, delimiter=";", lineterminator="\r\n")


def _suffix(result: Dashboard) -> str:
    if result.scope == "structure" and result.organisation is not None:
        return f"structure-{result.organisation.pk}"
    return {"mine": "moi", "territory": "territoire"}.get(result.scope, result.scope)


@never_cache
@login_required
@require_safe
def dashboard_months_csv(request: HttpRequest) -> HttpResponse:
    try:
        result, _structures = _dashboard(request)
    except _BadRequest as exc:
        return _bad_request(request, exc.message)
    response, writer = _csv_response(f"mediation-mois-{result.year}-{_suffix(result)}.csv")
    writer.writerow(
        [
            "mois", "accompagnements_individuels", "seances_atelier", "participants", "heures",
            "comptes_rendus_numerique", "comptes_rendus_demarches",
        ]
    )  # fmt: skip
    for i, month in enumerate(result.months):
        writer.writerow(
            [
                month.month.strftime("%Y-%m"),
                month.accompaniments,
                month.workshops,
                month.participants,
                f"{month.minutes / 60:.2f}",
                result.skills_months[i],
                result.procedures_months[i],
            ]
        )
    return response


@never_cache
@login_required
@require_safe
def dashboard_themes_csv(request: HttpRequest) -> HttpResponse:
    try:
        result, _structures = _dashboard(request)
    except _BadRequest as exc:
        return _bad_request(request, exc.message)
    response, writer = _csv_response(f"mediation-thematiques-{result.year}-{_suffix(result)}.csv")
    months = [dt.date(result.year, m, 1).strftime("%Y-%m") for m in range(1, 13)]
    writer.writerow(["groupe", "thematique", "libelle", *months, "total"])
    for theme in result.themes:
        group = "numerique" if theme.group == "skills" else "demarches"
        writer.writerow([group, theme.code, theme.label, *theme.months, theme.total])
    return response


urlpatterns = [
    path("tableau-de-bord/", dashboard, name="dashboard"),
    path("tableau-de-bord/mois.csv", dashboard_months_csv, name="dashboard_months_csv"),
    path("tableau-de-bord/thematiques.csv", dashboard_themes_csv, name="dashboard_themes_csv"),
]
