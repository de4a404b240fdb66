"""Pages of the techno-economic model, under /telesante/:

- modele-economique/: the sites whose model the person may see (and the network for staff);
- sites/<pk>/modele-economique/?annee=YYYY: a site's dashboard (its coordinators and staff),
  with export.csv and rapport.pdf; reseau/modele-economique/ the same for the network (staff);
- sites/<pk>/couts/ and reseau/couts/: the cost ledger (add, edit, delete);
- reseau/transports/: the dated transport tariffs (staff).

The figures are what selectors/economics.py returns for the logged-in person (aggregates, no
patient). A site the person may not see is a 404; a site they work at without coordinating it,
or the network for someone who is not staff, a 403 with its French message; a year that is not
one, a 400. Charts are server-side SVG (core/charts.py), each followed by a table of the same
numbers."""

from __future__ import annotations

import csv
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.errors import BookingError, BookingForbidden
from cybercantal.core.charts import bar_chart_svg

from ..forms_economics import CostEntryForm, TransportTariffForm
from ..models import CostEntry, Site, TransportTariff
from ..perms import is_telehealth_staff, sites_for
from ..report_pdf import (
    break_even_sentence,
    break_even_status,
    decimal_text,
    economics_report_pdf,
    euros,
    key_figures,
    method_note,
    month_headers,
    month_label,
    month_row,
    scope_name,
)
from ..selectors import economics as selectors
from ..services import costs as services
from ..services.costs import transport_period_label

MIN_YEAR, MAX_YEAR = selectors.MIN_YEAR, 2100
YEARS_OFFERED = 6


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
        % {"value": raw[:20], "min": MIN_YEAR, "max": timezone.localdate().year}
    )


def _bad_request(request: HttpRequest, message: str, back: str) -> HttpResponse:
    return render(
        request,
        "telehealth/economics/bad_request.html",
        {"message": message, "back": back},
        status=400,
    )


def _site_or_404(request: HttpRequest, pk: int) -> Site:
    """The site if the person may see its model; 404 when they have nothing to do with it (its
    existence stays private), 403 when they work there without coordinating it."""
    site = Site.objects.select_related("place__commune").filter(pk=pk).first()
    if site is None:
        raise Http404(_("Ce site n'existe pas."))
    if not selectors.may_see_site_economics(request.user, site):
        if sites_for(request.user).filter(pk=site.pk).exists():
            raise PermissionDenied(
                _(
                    "Le modèle économique et les coûts d'un site sont réservés à ses coordinateurs "
                    "et à l'équipe télémédecine du Département."
                )
            )
        raise Http404(_("Ce site n'existe pas."))
    return site


def _require_staff(request: HttpRequest, message: str) -> None:
    if not is_telehealth_staff(request.user):
        raise PermissionDenied(message)


# --- the entry page -----------------------------------------------------------------------------


@login_required
@require_safe
def economics_home(request: HttpRequest) -> HttpResponse:
    sites = list(selectors.economics_sites(actor=request.user))
    is_staff = is_telehealth_staff(request.user)
    if not sites and not is_staff:
        raise PermissionDenied(
            _(
                "Le modèle économique est réservé aux coordinateurs de site et à l'équipe "
                "télémédecine du Département."
            )
        )
    return render(
        request,
        "telehealth/economics/home.html",
        {"sites": sites, "is_staff": is_staff},
    )


# --- dashboards ---------------------------------------------------------------------------------


def _chart(key: str, title: str, unit: str, pairs: list[tuple[str, float]]) -> dict:
    # Our own markup, every outside text escaped by bar_chart_svg.
    svg = bar_chart_svg(pairs, title=title, unit=unit, chart_id=key)
    return {"id": key, "title": title, "unit": unit, "svg": mark_safe(svg)}  # noqa: S308


def _float(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _dashboard_context(request: HttpRequest, report: selectors.EconomicsReport) -> dict:
    year = report.year
    short = [formats.date_format(m.month, "M") for m in report.months]
    charts = [
        _chart(
            "graphique-teleconsultations",
            _("Téléconsultations réalisées par mois en %(year)s") % {"year": year},
            _("téléconsultations"),
            [(label, m.consultations) for label, m in zip(short, report.months, strict=True)],
        ),
        _chart(
            "graphique-transport",
            _("Transport évité par mois en %(year)s") % {"year": year},
            "€",
            [
                (label, _float(m.transport_avoided))
                for label, m in zip(short, report.months, strict=True)
            ],
        ),
        _chart(
            "graphique-cout-net",
            _(
                "Coût net par mois en %(year)s (un mois où les subventions dépassent les coûts "
                "compte zéro)"
            )
            % {"year": year},
            "€",
            [(label, _float(m.net_cost)) for label, m in zip(short, report.months, strict=True)],
        ),
    ]
    current = timezone.localdate().year
    if report.site is None:
        base = reverse("telehealth:economics_network")
        csv_url = reverse("telehealth:economics_network_csv")
        pdf_url = reverse("telehealth:economics_network_pdf")
        costs_url = reverse("telehealth:costs_network")
    else:
        base = reverse("telehealth:economics_site", args=[report.site.pk])
        csv_url = reverse("telehealth:economics_site_csv", args=[report.site.pk])
        pdf_url = reverse("telehealth:economics_site_pdf", args=[report.site.pk])
        costs_url = reverse("telehealth:costs_site", args=[report.site.pk])
    acts_rows = [
        {
            "month": month_label(m.month),
            "acts": [decimal_text(m.acts.get(code, 0)) for code in report.act_codes],
            "revenue": [euros(m.revenue.get(role, Decimal(0))) for role, _l in report.roles],
        }
        for m in report.months
    ]
    return {
        "report": report,
        "year": year,
        "years": sorted({year, *range(current - YEARS_OFFERED + 1, current + 1)}, reverse=True),
        "scope_name": scope_name(report),
        "key_figures": key_figures(report),
        "break_even_sentence": break_even_sentence(report.break_even),
        "charts": charts,
        "month_headers": month_headers(),
        "month_rows": [month_row(m, month_label(m.month)) for m in report.months],
        "total_row": month_row(report.total, _("Total")),
        "acts_rows": acts_rows,
        "acts_total": {
            "acts": [decimal_text(report.total.acts.get(c, 0)) for c in report.act_codes],
            "revenue": [euros(report.total.revenue.get(r, Decimal(0))) for r, _l in report.roles],
        },
        "site_rows": [
            {
                "row": row,
                "consultations": decimal_text(row.total.consultations),
                "net_cost": euros(row.total.net_cost),
                "cost_per_act": euros(row.total.cost_per_act),
                "km": decimal_text(row.total.km_avoided),
                "avoided": euros(row.total.transport_avoided),
                "volume": decimal_text(row.break_even.volume_needed),
                "status": break_even_status(row.break_even),
                "url": reverse("telehealth:economics_site", args=[row.site_id]) + f"?annee={year}",
            }
            for row in report.sites
        ],
        "tariff_rows": [
            {
                "mode": t.get_mode_display(),
                "flat_fee": euros(t.flat_fee),
                "per_km": f"{decimal_text(t.per_km, 3)}\u00a0€",
                "period": transport_period_label(t),
                "source": t.source,
            }
            for t in report.tariffs
        ],
        "method_note": method_note(),
        "is_staff": is_telehealth_staff(request.user),
        "base_url": base,
        "csv_url": f"{csv_url}?annee={year}",
        "pdf_url": f"{pdf_url}?annee={year}",
        "costs_url": costs_url,
        "last_day": report.last_day,
    }


def _site_report(request: HttpRequest, pk: int) -> selectors.EconomicsReport:
    site = _site_or_404(request, pk)
    year = _year(request)
    try:
        return selectors.site_economics(actor=request.user, site=site, year=year)
    except BookingForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except BookingError as exc:
        raise _BadRequest(exc.message) from exc


def _network_report(request: HttpRequest) -> selectors.EconomicsReport:
    _require_staff(
        request,
        _("Le modèle économique du réseau est réservé à l'équipe télémédecine du Département."),
    )
    year = _year(request)
    try:
        return selectors.network_economics(actor=request.user, year=year)
    except BookingForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except BookingError as exc:
        raise _BadRequest(exc.message) from exc


def _report_page(request: HttpRequest, report_of, back: str, respond) -> HttpResponse:
    """Build the report with report_of() and answer with respond(report); a report that cannot
    be built (an impossible year…) sends back to `back` with the reason (400)."""
    try:
        report = report_of()
    except _BadRequest as exc:
        return _bad_request(request, exc.message, back)
    return respond(report)


def _dashboard(request: HttpRequest, report_of, back: str) -> HttpResponse:
    return _report_page(
        request,
        report_of,
        back,
        lambda report: render(
            request, "telehealth/economics/dashboard.html", _dashboard_context(request, report)
        ),
    )


@never_cache
@login_required
@require_safe
def economics_site(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("telehealth:economics_site", args=[pk])
    return _dashboard(request, lambda: _site_report(request, pk), back)


@never_cache
@login_required
@require_safe
def economics_network(request: HttpRequest) -> HttpResponse:
    back = reverse("telehealth:economics_network")
    return _dashboard(request, lambda: _network_report(request), back)


CSV_HEADER = [
    "mois",
    "teleconsultations_realisees",
    "dont_incident",
    "actes_codes",
    "couts_propres_eur",
    "part_couts_reseau_eur",
    "subventions_eur",
    "cout_net_eur",
    "cout_par_teleconsultation_eur",
    "km_evites",
    "transport_evite_eur",
    "teleconsultations_sans_tarif",
    "heures_epargnees",
]


def _plain(value: Decimal | None, places: int = 2) -> str:
    """A number for spreadsheets: decimal comma, no thousands separator."""
    if value is None:
        return ""
    return f"{value.quantize(Decimal(1).scaleb(-places)):.{places}f}".replace(".", ",")


def _csv(report: selectors.EconomicsReport) -> tuple[list[str], list[list[str]]]:
    codes, roles = report.act_codes, [code for code, _label in report.roles]
    header = [
        *CSV_HEADER,
        *[f"actes_{code}" for code in codes],
        *[f"recettes_{role}_eur" for role in roles],
    ]
    rows = []
    for figures, label in [
        *[(m, m.month.strftime("%Y-%m")) for m in report.months],
        (report.total, str(report.year)),
    ]:
        rows.append(
            [
                label,
                str(figures.consultations),
                str(figures.incidents),
                str(figures.acts_total),
                _plain(figures.own_costs),
                _plain(figures.network_costs),
                _plain(figures.grants),
                _plain(figures.net_cost),
                _plain(figures.cost_per_act),
                _plain(figures.km_avoided, 1),
                _plain(figures.transport_avoided),
                str(figures.unpriced),
                _plain(figures.hours_saved, 1),
                *[str(figures.acts.get(code, 0)) for code in codes],
                *[_plain(figures.revenue.get(role, Decimal(0))) for role in roles],
            ]
        )
    return header, rows


def _csv_response(report: selectors.EconomicsReport, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that spreadsheets read the accents right
    writer = csv.writer(response, delimiter=";", lineterminator="\r\n")
    header, rows = _csv(report)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _pdf_response(report: selectors.EconomicsReport, filename: str) -> HttpResponse:
    pdf = economics_report_pdf(report, generated_on=timezone.localdate())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _site_export(request: HttpRequest, pk: int, respond, extension: str) -> HttpResponse:
    return _report_page(
        request,
        lambda: _site_report(request, pk),
        reverse("telehealth:economics_site", args=[pk]),
        lambda report: respond(report, f"modele-economique-{report.year}-site-{pk}.{extension}"),
    )


def _network_export(request: HttpRequest, respond, extension: str) -> HttpResponse:
    return _report_page(
        request,
        lambda: _network_report(request),
        reverse("telehealth:economics_network"),
        lambda report: respond(report, f"modele-economique-{report.year}-reseau.{extension}"),
    )


@never_cache
@login_required
@require_safe
def economics_site_csv(request: HttpRequest, pk: int) -> HttpResponse:
    return _site_export(request, pk, _csv_response, "csv")


@never_cache
@login_required
@require_safe
def economics_network_csv(request: HttpRequest) -> HttpResponse:
    return _network_export(request, _csv_response, "csv")


@never_cache
@login_required
@require_safe
def economics_site_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _site_export(request, pk, _pdf_response, "pdf")


@never_cache
@login_required
@require_safe
def economics_network_pdf(request: HttpRequest) -> HttpResponse:
    return _network_export(request, _pdf_response, "pdf")


# --- the cost ledger ------------------------------------------------------------------------------


def _ledger_site(request: HttpRequest, pk: int | None) -> Site | None:
    if pk is None:
        _require_staff(
            request,
            _("Les coûts du réseau sont tenus par l'équipe télémédecine du Département."),
        )
        return None
    return _site_or_404(request, pk)


def _ledger_url(site: Site | None) -> str:
    if site is None:
        return reverse("telehealth:costs_network")
    return reverse("telehealth:costs_site", args=[site.pk])


def _entry_urls(site: Site | None, entry: CostEntry) -> dict:
    if site is None:
        return {
            "edit": reverse("telehealth:cost_network_edit", args=[entry.pk]),
            "delete": reverse("telehealth:cost_network_delete", args=[entry.pk]),
        }
    return {
        "edit": reverse("telehealth:cost_site_edit", args=[site.pk, entry.pk]),
        "delete": reverse("telehealth:cost_site_delete", args=[site.pk, entry.pk]),
    }


def _service_values(form: CostEntryForm) -> dict:
    data = form.cleaned_data
    return {
        "category": data["category"],
        "label": data["label"],
        "funder": data["funder"],
        "amount": data["amount"],
        "recurrence": data["recurrence"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "depreciation_months": data["depreciation_months"],
    }


def _refusal(form, exc: BookingError) -> None:
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, exc.message)


def _ledger_context(request: HttpRequest, site: Site | None, form: CostEntryForm) -> dict:
    try:
        rows = selectors.cost_ledger(actor=request.user, site=site)
    except BookingForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    return {
        "site": site,
        "form": form,
        "rows": [
            {
                "row": row,
                "monthly": euros(row.monthly),
                "amount": euros(row.entry.amount),
                "first": month_label(row.first_month),
                "last": month_label(row.last_month) if row.last_month else None,
                "urls": _entry_urls(site, row.entry),
            }
            for row in rows
        ],
        "ledger_url": _ledger_url(site),
        "dashboard_url": (
            reverse("telehealth:economics_network")
            if site is None
            else reverse("telehealth:economics_site", args=[site.pk])
        ),
        "in_service": (
            Site.objects.filter(is_active=True)
            .filter(Q(opened_on__isnull=True) | Q(opened_on__lte=timezone.localdate()))
            .count()
            if site is None
            else None
        ),
    }


def _costs(request: HttpRequest, pk: int | None) -> HttpResponse:
    site = _ledger_site(request, pk)
    form = CostEntryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = services.cost_record(actor=request.user, site=site, **_service_values(form))
            except BookingForbidden as exc:
                raise PermissionDenied(exc.message) from exc
            except BookingError as exc:
                _refusal(form, exc)
            else:
                messages.success(
                    request, _("« %(label)s » est enregistré.") % {"label": entry.label}
                )
                return redirect(_ledger_url(site))
        status = 400
    return render(
        request,
        "telehealth/economics/costs.html",
        _ledger_context(request, site, form),
        status=status,
    )


def _entry_or_404(request: HttpRequest, site: Site | None, cost_pk: int) -> CostEntry:
    entry = selectors.cost_entry_get(actor=request.user, site=site, entry_id=cost_pk)
    if entry is None:
        raise Http404(_("Cette ligne de coût n'existe pas."))
    return entry


def _cost_edit(request: HttpRequest, pk: int | None, cost_pk: int) -> HttpResponse:
    site = _ledger_site(request, pk)
    entry = _entry_or_404(request, site, cost_pk)
    form = CostEntryForm(request.POST or None, initial=CostEntryForm.initial_from(entry))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.cost_update(actor=request.user, entry=entry, **_service_values(form))
            except BookingForbidden as exc:
                raise PermissionDenied(exc.message) from exc
            except BookingError as exc:
                _refusal(form, exc)
            else:
                messages.success(request, _("La ligne de coût est modifiée."))
                return redirect(_ledger_url(site))
        status = 400
    return render(
        request,
        "telehealth/economics/cost_edit.html",
        {"site": site, "entry": entry, "form": form, "ledger_url": _ledger_url(site)},
        status=status,
    )


def _cost_delete(request: HttpRequest, pk: int | None, cost_pk: int) -> HttpResponse:
    site = _ledger_site(request, pk)
    entry = _entry_or_404(request, site, cost_pk)
    if request.method == "POST":
        try:
            services.cost_delete(actor=request.user, entry=entry)
        except BookingForbidden as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, _("« %(label)s » est supprimé.") % {"label": entry.label})
        return redirect(_ledger_url(site))
    return render(
        request,
        "telehealth/economics/cost_delete.html",
        {
            "site": site,
            "entry": entry,
            "amount": euros(entry.amount),
            "ledger_url": _ledger_url(site),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def costs_site(request: HttpRequest, pk: int) -> HttpResponse:
    return _costs(request, pk)


@login_required
@require_http_methods(["GET", "POST"])
def costs_network(request: HttpRequest) -> HttpResponse:
    return _costs(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def cost_site_edit(request: HttpRequest, pk: int, cost_pk: int) -> HttpResponse:
    return _cost_edit(request, pk, cost_pk)


@login_required
@require_http_methods(["GET", "POST"])
def cost_network_edit(request: HttpRequest, cost_pk: int) -> HttpResponse:
    return _cost_edit(request, None, cost_pk)


@login_required
@require_http_methods(["GET", "POST"])
def cost_site_delete(request: HttpRequest, pk: int, cost_pk: int) -> HttpResponse:
    return _cost_delete(request, pk, cost_pk)


@login_required
@require_http_methods(["GET", "POST"])
def cost_network_delete(request: HttpRequest, cost_pk: int) -> HttpResponse:
    return _cost_delete(request, None, cost_pk)


# --- transport tariffs ----------------------------------------------------------------------------


def _tariff_values(form: TransportTariffForm) -> dict:
    data = form.cleaned_data
    return {
        "mode": data["mode"],
        "flat_fee": data["flat_fee"],
        "per_km": data["per_km"],
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
        "source": data["source"],
    }


def _tariff_rows(request: HttpRequest) -> list[dict]:
    try:
        tariffs = selectors.transport_tariffs(actor=request.user)
    except BookingForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    return [
        {
            "tariff": t,
            "flat_fee": euros(t.flat_fee),
            "per_km": f"{decimal_text(t.per_km, 3)}\u00a0€",
            "period": transport_period_label(t),
            "edit_url": reverse("telehealth:transport_tariff_edit", args=[t.pk]),
        }
        for t in tariffs
    ]


@login_required
@require_http_methods(["GET", "POST"])
def transport_tariffs(request: HttpRequest) -> HttpResponse:
    rows = _tariff_rows(request)  # refuses non-staff first
    form = TransportTariffForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tariff = services.transport_tariff_save(actor=request.user, **_tariff_values(form))
            except BookingForbidden as exc:
                raise PermissionDenied(exc.message) from exc
            except BookingError as exc:
                _refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("Le tarif « %(mode)s » %(period)s est enregistré.")
                    % {"mode": tariff.get_mode_display(), "period": transport_period_label(tariff)},
                )
                return redirect("telehealth:transport_tariffs")
        status = 400
    return render(
        request,
        "telehealth/economics/transports.html",
        {"rows": rows, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def transport_tariff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_staff(
        request,
        _("Les tarifs de transport sont modifiés par l'équipe télémédecine du Département."),
    )
    tariff = TransportTariff.objects.filter(pk=pk).first()
    if tariff is None:
        raise Http404(_("Ce tarif n'existe pas."))
    form = TransportTariffForm(
        request.POST or None, initial=TransportTariffForm.initial_from(tariff)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.transport_tariff_save(
                    actor=request.user, tariff=tariff, **_tariff_values(form)
                )
            except BookingForbidden as exc:
                raise PermissionDenied(exc.message) from exc
            except BookingError as exc:
                _refusal(form, exc)
            else:
                messages.success(request, _("Le tarif de transport est modifié."))
                return redirect("telehealth:transport_tariffs")
        status = 400
    return render(
        request,
        "telehealth/economics/transport_edit.html",
        {"tariff": tariff, "form": form},
        status=status,
    )


urlpatterns = [
    path("modele-economique/", economics_home, name="economics"),
    path("sites/<int:pk>/modele-economique/", economics_site, name="economics_site"),
    path(
        "sites/<int:pk>/modele-economique/export.csv",
        economics_site_csv,
        name="economics_site_csv",
    ),
    path(
        "sites/<int:pk>/modele-economique/rapport.pdf",
        economics_site_pdf,
        name="economics_site_pdf",
    ),
    path("reseau/modele-economique/", economics_network, name="economics_network"),
    path(
        "reseau/modele-economique/export.csv",
        economics_network_csv,
        name="economics_network_csv",
    ),
    path(
        "reseau/modele-economique/rapport.pdf",
        economics_network_pdf,
        name="economics_network_pdf",
    ),
    path("sites/<int:pk>/couts/", costs_site, name="costs_site"),
    path("sites/<int:pk>/couts/<int:cost_pk>/modifier/", cost_site_edit, name="cost_site_edit"),
    path(
        "sites/<int:pk>/couts/<int:cost_pk>/supprimer/",
        cost_site_delete,
        name="cost_site_delete",
    ),
    path("reseau/couts/", costs_network, name="costs_network"),
    path("reseau/couts/<int:cost_pk>/modifier/", cost_network_edit, name="cost_network_edit"),
    path("reseau/couts/<int:cost_pk>/supprimer/", cost_network_delete, name="cost_network_delete"),
    path("reseau/transports/", transport_tariffs, name="transport_tariffs"),
    path(
        "reseau/transports/<int:pk>/modifier/",
        transport_tariff_edit,
        name="transport_tariff_edit",
    ),
]
