"""The figures of the tiers-lieux (for the Département's staff and the places' managers), the
operators' monthly settlement statements and the funders' statements, with their CSV.

Each page shows what its selector returns for the logged-in person (selectors/figures.py,
selectors/settlement.py): the scope and the refusals are theirs, a refusal becomes a 403 with
its French message. A wrong year or month in the address never fails: the page shows the
current one and says so. Charts are server-side SVG (core/charts.py), each followed by a
table of the same numbers; the home communes' map is core's map.js, with the same list as a
table."""

from __future__ import annotations

import datetime as dt
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cybercantal.booking.perms import MEMBER_ONLY_ROLES
from cybercantal.core.charts import bar_chart_svg, number_text
from cybercantal.territory.models import Organisation

from ..errors import CoworkingForbidden
from ..exports import census_csv, clearing_csv, figures_csv, funder_statement_csv, statement_csv
from ..invoicing.amounts import format_cents
from ..models import TiersLieu
from ..perms import managed_tiers_lieux_filter
from ..selectors.figures import Figures, Period, PlaceFigures, coworking_figures
from ..selectors.settlement import (
    funder_statement,
    is_territory_staff,
    settlement_clearing,
    settlement_statement,
)

MIN_YEAR, MAX_YEAR = 2000, 2100
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


# --- Reading the address ----------------------------------------------------------------------


def _year(request: HttpRequest) -> int:
    """?annee=YYYY, or the current year (with a message when the address gave a wrong one)."""
    current = timezone.localdate().year
    raw = request.GET.get("annee", "").strip()
    if not raw:
        return current
    if raw.isdigit() and MIN_YEAR <= int(raw) <= MAX_YEAR:
        return int(raw)
    messages.warning(
        request,
        _("L'année « %(value)s » n'est pas valable : voici les chiffres de %(year)s.")
        % {"value": raw[:20], "year": current},
    )
    return current


def _month(request: HttpRequest) -> dt.date:
    """?mois=YYYY-MM (first day), or the current month (with a message when wrong)."""
    today = timezone.localdate().replace(day=1)
    raw = request.GET.get("mois", "").strip()
    if not raw:
        return today
    match = MONTH_RE.match(raw)
    if match:
        year, month = int(match[1]), int(match[2])
        if MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12:
            return dt.date(year, month, 1)
    messages.warning(
        request,
        _("Le mois « %(value)s » n'est pas valable (attendu : AAAA-MM) : voici %(month)s.")
        % {"value": raw[:20], "month": month_text(today)},
    )
    return today


def _int_param(request: HttpRequest, name: str, label: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    messages.warning(
        request, _("%(what)s demandé n'est pas valable : il est ignoré.") % {"what": label}
    )
    return None


def month_text(month: dt.date) -> str:
    """ "mars 2027"."""
    return formats.date_format(month, "F Y")


def _forbidden(exc: CoworkingForbidden) -> PermissionDenied:
    return PermissionDenied(exc.message)


def _nav(request: HttpRequest) -> dict:
    """Which of the three pages the navigation between them offers this person."""
    sees_figures = _sees_figures(request)
    return {
        "nav_figures": sees_figures,
        "nav_funders": is_territory_staff(request.user) or bool(_funders(request.user)),
    }


def _csv_response(text: str, filename: str) -> HttpResponse:
    # A BOM, so that spreadsheets read the accents right (as the invoices' CSV).
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Figures ----------------------------------------------------------------------------------

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


def _visible_places(actor) -> list[TiersLieu]:
    return list(
        TiersLieu.objects.filter(managed_tiers_lieux_filter(actor))
        .select_related("place")
        .order_by("place__name")
    )


def _percent(rate: float | None) -> str:
    return "—" if rate is None else _("%(value)s %%") % {"value": number_text(rate * 100)}


def _place_row(figures: PlaceFigures) -> dict:
    year = figures.year
    return {
        "id": figures.tiers_lieu_id,
        "name": figures.name,
        "capacity": figures.capacity,
        "seat_days": number_text(year.seat_days),
        "active_members": number_text(year.active_members),
        "newcomers": number_text(year.active_newcomers),
        "occupancy": _percent(year.occupancy_rate),
        "contracted": _percent(year.contracted_rate),
        "avoided_km": number_text(round(year.avoided_km)),
        "co2_kg": number_text(round(year.co2_kg)),
    }


def _chart(
    months: list[Period], *, key: str, title: str, unit: str, value, shown
) -> dict[str, object]:
    values = [(str(MONTH_ABBREVIATIONS[m.start.month - 1]), value(m)) for m in months]
    return {
        "id": key,
        "title": title,
        "unit": unit,
        # Our own markup, every outside text escaped by bar_chart_svg.
        "svg": mark_safe(bar_chart_svg(values, title=title, unit=unit, chart_id=key)),  # noqa: S308
        "rows": [(month_text(m.start), shown(m)) for m in months],
    }


def _charts(scope: PlaceFigures, year: int) -> list[dict]:
    months = scope.months
    return [
        _chart(
            months,
            key="graphique-journees",
            title=_("Journées-poste par mois en %(year)s") % {"year": year},
            unit=_("journées-poste"),
            value=lambda m: m.seat_days,
            shown=lambda m: number_text(m.seat_days),
        ),
        _chart(
            months,
            key="graphique-actifs",
            title=_("Travailleurs actifs par mois en %(year)s") % {"year": year},
            unit=_("personnes"),
            value=lambda m: m.active_members,
            shown=lambda m: number_text(m.active_members),
        ),
        _chart(
            months,
            key="graphique-occupation",
            title=_("Taux d'occupation des postes par mois en %(year)s") % {"year": year},
            unit="%",
            value=lambda m: round((m.occupancy_rate or 0) * 100, 1),
            shown=lambda m: _percent(m.occupancy_rate),
        ),
    ]


def _home_communes_map(figures: Figures) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.longitude, c.latitude]},
                "properties": {
                    "id": c.insee_code,
                    "name": c.name,
                    # map.js shows the "kinds" labels in the marker's name and its popup.
                    "kinds": [
                        {
                            "code": "members",
                            "label": ngettext(
                                "%(count)d personne active",
                                "%(count)d personnes actives",
                                c.members,
                            )
                            % {"count": c.members},
                        }
                    ],
                    "color": None,
                },
            }
            for c in figures.home_communes
            if c.latitude is not None and c.longitude is not None
        ],
    }


def _figures_request(request: HttpRequest) -> tuple[int, TiersLieu | None, list[TiersLieu]]:
    """The year, the place asked for (None: every place the actor sees) and those places;
    PermissionDenied for someone who manages no place or asks for another's."""
    places = _visible_places(request.user)
    if not places:
        raise PermissionDenied(
            _("Les chiffres du réseau sont réservés aux gestionnaires et au Département.")
        )
    year = _year(request)
    place_id = _int_param(request, "lieu", _("Le lieu"))
    chosen = None
    if place_id is not None:
        chosen = next((p for p in places if p.pk == place_id), None)
        if chosen is None:
            raise PermissionDenied(
                _("Seuls les gestionnaires de ce tiers-lieu et le Département voient ses chiffres.")
            )
    return year, chosen, places


@never_cache
@login_required
@require_safe
def figures(request: HttpRequest) -> HttpResponse:
    year, chosen, places = _figures_request(request)
    try:
        result = coworking_figures(actor=request.user, year=year, tiers_lieu=chosen)
    except CoworkingForbidden as exc:
        raise _forbidden(exc) from exc
    scope = result.places[0] if chosen else result.network
    total = scope.year
    current = timezone.localdate().year
    return render(
        request,
        "coworking/figures/figures.html",
        {
            **_nav(request),
            "year": year,
            "years": sorted({year, *range(current - 6, current + 1)}, reverse=True),
            "chosen": chosen,
            "places": places,
            "scope_name": chosen.place.name if chosen else _("l'ensemble de vos tiers-lieux"),
            "is_staff": is_territory_staff(request.user),
            "key_figures": [
                (_("journées-poste"), number_text(total.seat_days)),
                (_("travailleurs actifs différents"), number_text(total.active_members)),
                (_("nouveaux arrivants dans le Cantal"), number_text(total.active_newcomers)),
                (_("taux d'occupation des postes"), _percent(total.occupancy_rate)),
                (_("km de trajets évités"), number_text(round(total.avoided_km))),
                (_("kg de CO₂ évités"), number_text(round(total.co2_kg))),
            ],
            "without_commute": total.check_ins_without_commute,
            "charts": _charts(scope, year),
            "place_rows": [_place_row(p) for p in result.places],
            "network_row": _place_row(result.network) if len(result.places) > 1 else None,
            "home_communes": result.home_communes,
            "map_data": _home_communes_map(result),
        },
    )


@never_cache
@login_required
@require_safe
def figures_export(request: HttpRequest) -> HttpResponse:
    year, chosen, _places = _figures_request(request)
    try:
        result = coworking_figures(actor=request.user, year=year, tiers_lieu=chosen)
    except CoworkingForbidden as exc:
        raise _forbidden(exc) from exc
    suffix = f"-lieu-{chosen.pk}" if chosen else ""
    return _csv_response(figures_csv(result), f"chiffres-tiers-lieux-{year}{suffix}.csv")


@never_cache
@login_required
@require_safe
def census_export(request: HttpRequest) -> HttpResponse:
    year, _chosen, _places = _figures_request(request)
    try:
        text = census_csv(actor=request.user, year=year)
    except CoworkingForbidden as exc:
        raise _forbidden(exc) from exc
    return _csv_response(text, f"recensement-tiers-lieux-{year}.csv")


# --- Settlement between operators -------------------------------------------------------------


def _operators(actor) -> list[Organisation]:
    """The operators whose statements `actor` may read: every operator of a tiers-lieu for the
    Département's staff, those they manage for a manager."""
    managed = TiersLieu.objects.filter(managed_tiers_lieux_filter(actor))
    operators = Organisation.objects.filter(places__tiers_lieu__in=managed)
    return list(operators.distinct().order_by("name"))


def _settlement_request(request: HttpRequest):
    """(month, operator or None for the network's clearing, operators to choose from)."""
    operators = _operators(request.user)
    staff = is_territory_staff(request.user)
    if not operators and not staff:
        raise PermissionDenied(
            _("Les reversements sont réservés aux gestionnaires des tiers-lieux et au Département.")
        )
    month = _month(request)
    operator_id = _int_param(request, "structure", _("L'exploitant"))
    operator = None
    if operator_id is not None:
        operator = next((o for o in operators if o.pk == operator_id), None)
        if operator is None:
            raise PermissionDenied(
                _(
                    "Seuls les gestionnaires de cet exploitant ou le Département voient "
                    "ses reversements."
                )
            )
    elif not staff:
        operator = operators[0]
    return month, operator, operators


def _month_links(month: dt.date) -> dict:
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    return {
        "month_value": month.strftime("%Y-%m"),
        "previous_value": previous.strftime("%Y-%m"),
        "previous_label": month_text(previous),
        "next_value": following.strftime("%Y-%m"),
        "next_label": month_text(following),
    }


def _statement_lines(lines, names) -> list[dict]:
    return [
        {
            "day": line.day,
            "place": line.place_name,
            "host": names.get(line.host_id, line.host_id),
            "payer": names.get(line.payer_id, line.payer_id),
            "kind": _("arrivée") if line.kind == "check_in" else _("réservation sans arrivée"),
            "half_days": line.half_days,
            "basis": line.basis or _("aucune règle"),
            "amount": format_cents(line.amount_cents),
        }
        for line in lines
    ]


@never_cache
@login_required
@require_safe
def settlement(request: HttpRequest) -> HttpResponse:
    month, operator, operators = _settlement_request(request)
    context = {
        **_nav(request),
        "month": month,
        "month_label": month_text(month),
        "operator": operator,
        "operators": operators,
        "is_staff": is_territory_staff(request.user),
        **_month_links(month),
    }
    try:
        if operator is None:
            clearing = settlement_clearing(actor=request.user, month=month)
            context["clearing_rows"] = [
                {
                    "name": row.operator_name,
                    "collected": format_cents(row.collected_cents),
                    "kept": format_cents(row.kept_cents),
                    "paid_out": format_cents(row.paid_out_cents),
                    "earned": format_cents(row.earned_cents),
                    "net": format_cents(row.net_cents),
                }
                for row in clearing.rows
            ]
            context["clearing_total_net"] = format_cents(clearing.total_net_cents)
            context["clearing_total_collected"] = format_cents(clearing.total_collected_cents)
        else:
            statement = settlement_statement(actor=request.user, operator=operator, month=month)
            context.update(
                {
                    "earned_lines": _statement_lines(statement.earned_lines, statement.names),
                    "owed_lines": _statement_lines(statement.owed_lines, statement.names),
                    "earned": format_cents(statement.earned_cents),
                    "owed": format_cents(statement.owed_cents),
                    "net": format_cents(statement.net_cents),
                    "net_cents": statement.net_cents,
                    "counterparts": [
                        (name, format_cents(to_us), format_cents(we_owe))
                        for name, to_us, we_owe in statement.by_counterpart()
                    ],
                }
            )
    except CoworkingForbidden as exc:
        raise _forbidden(exc) from exc
    return render(request, "coworking/figures/settlement.html", context)


@never_cache
@login_required
@require_safe
def settlement_export(request: HttpRequest) -> HttpResponse:
    month, operator, _operators_list = _settlement_request(request)
    stamp = month.strftime("%Y-%m")
    try:
        if operator is None:
            text = clearing_csv(settlement_clearing(actor=request.user, month=month))
            return _csv_response(text, f"compensation-reseau-{stamp}.csv")
        statement = settlement_statement(actor=request.user, operator=operator, month=month)
    except CoworkingForbidden as exc:
        raise _forbidden(exc) from exc
    return _csv_response(statement_csv(statement), f"reversements-{operator.pk}-{stamp}.csv")


# --- Funders ------------------------------------------------------------------------------------


def _funders(actor) -> list[Organisation]:
    """Organisations that pay for passes or offers, that `actor` may read the statement of:
    all of them for the Département's staff, their own for a funder's agents."""
    funders = Organisation.objects.filter(
        Q(funded_coworking_passes__isnull=False) | Q(funded_coworking_offers__isnull=False)
    )
    if not is_territory_staff(actor):
        agent_of = actor.memberships.filter(is_active=True).exclude(role__in=MEMBER_ONLY_ROLES)
        funders = funders.filter(pk__in=agent_of.values("organisation_id"))
    return list(funders.distinct().order_by("name"))


def _funder_request(request: HttpRequest):
    funders = _funders(request.user)
    staff = is_territory_staff(request.user)
    if not funders and not staff:
        raise PermissionDenied(
            _("Les relevés des financeurs sont réservés au Département et aux financeurs.")
        )
    month = _month(request)
    funder_id = _int_param(request, "financeur", _("Le financeur"))
    funder = None
    if funder_id is not None:
        funder = next((f for f in funders if f.pk == funder_id), None)
        if funder is None:
            if staff:
                raise Http404(_("Cet organisme ne finance aucun passe."))
            raise PermissionDenied(_("Seuls le Département et ce financeur voient ce relevé."))
    elif not staff or len(funders) == 1:
        funder = funders[0] if funders else None
    return month, funder, funders


@never_cache
@login_required
@require_safe
def funder(request: HttpRequest) -> HttpResponse:
    month, chosen, funders = _funder_request(request)
    context = {
        **_nav(request),
        "month": month,
        "month_label": month_text(month),
        "funder": chosen,
        "funders": funders,
        **_month_links(month),
    }
    if chosen is not None:
        try:
            statement = funder_statement(actor=request.user, funder=chosen, month=month)
        except CoworkingForbidden as exc:
            raise _forbidden(exc) from exc
        context.update(
            {
                "passes": [
                    {
                        "id": p.pass_id,
                        "offer": p.offer,
                        "sold_at": p.sold_at,
                        "valid_from": p.valid_from,
                        "valid_until": p.valid_until,
                        "status": p.status,
                        "price": format_cents(p.price_cents),
                        "invoiced": format_cents(p.invoiced_cents),
                        "days": p.days_checked_in,
                    }
                    for p in statement.passes
                ],
                "total_price": format_cents(statement.price_cents),
                "total_invoiced": format_cents(statement.invoiced_cents),
                "total_days": statement.days_checked_in,
            }
        )
    return render(request, "coworking/figures/funder.html", context)


@never_cache
@login_required
@require_safe
def funder_export(request: HttpRequest) -> HttpResponse:
    month, chosen, _funders_list = _funder_request(request)
    if chosen is None:
        raise Http404(_("Choisissez un financeur."))
    try:
        statement = funder_statement(actor=request.user, funder=chosen, month=month)
    except CoworkingForbidden as exc:
        raise _forbidden(exc) from exc
    stamp = month.strftime("%Y-%m")
    return _csv_response(funder_statement_csv(statement), f"financeur-{chosen.pk}-{stamp}.csv")


# --- Home page entry ----------------------------------------------------------------------------


def _sees_figures(request) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    return is_territory_staff(user) or (
        TiersLieu.objects.filter(managed_tiers_lieux_filter(user)).exists()
    )


def register_figures_entries() -> None:
    """The figures' card on the home page (core.registries), for the Département's staff and
    the places' managers; registered from CoworkingConfig.ready()."""
    from cybercantal.core.registries import DashboardCard, dashboard_cards

    dashboard_cards.register(
        DashboardCard(
            key="coworking.figures",
            title=gettext_lazy("Chiffres des tiers-lieux"),
            description=gettext_lazy(
                "Fréquentation, occupation des postes, trajets évités, reversements entre "
                "exploitants et exports pour le recensement."
            ),
            url_name="coworking:figures",
            order=32,
            is_visible=_sees_figures,
        )
    )


urlpatterns = [
    path("chiffres/", figures, name="figures"),
    path("chiffres/export.csv", figures_export, name="figures_csv"),
    path("chiffres/recensement.csv", census_export, name="census_csv"),
    path("chiffres/reversements/", settlement, name="settlement"),
    path("chiffres/reversements/export.csv", settlement_export, name="settlement_csv"),
    path("chiffres/financeurs/", funder, name="funder_statement"),
    path("chiffres/financeurs/export.csv", funder_export, name="funder_statement_csv"),
]
