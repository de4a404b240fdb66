"""CSV exports of the network's figures, settlement statements, funders' statements and the
return to the national census of tiers-lieux.

Like the invoices' CSV (invoicing/exports.py): semicolon-separated, decimal comma, dates as
YYYY-MM-DD, as French spreadsheets read them; the caller may prepend a BOM. Every function
takes what a selector returned (already scoped to the actor) or calls the selector with the
actor, so an export never shows more than the page it comes from. Column names are stable
snake_case French identifiers: others' spreadsheets and scripts read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _

from .invoicing.amounts import plain_amount
from .models import TiersLieu
from .perms import managed_tiers_lieux_filter
from .selectors.figures import Figures, PlaceFigures, coworking_figures, users_by_type
from .selectors.settlement import Clearing, FunderStatement, Statement


def _write(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _number(value: float | None, places: int = 1) -> str:
    if value is None:
        return ""
    return f"{value:.{places}f}".replace(".", ",")


# --- figures -------------------------------------------------------------------------------

FIGURES_HEADER = [
    "lieu",
    "mois",
    "journees_poste",
    "heures_poste_reservees",
    "heures_poste_ouvertes",
    "taux_occupation",
    "postes_contractualises",
    "capacite",
    "taux_contractualisation",
    "actifs_uniques",
    "evolution_actifs",
    "nouveaux_arrivants",
    "km_evites",
    "co2_evite_kg",
    "arrivees_sans_trajet_connu",
]


def _figures_rows(figures: PlaceFigures) -> Iterable[list]:
    for month, change in zip(figures.months, figures.trend(), strict=True):
        yield [
            figures.name,
            month.start.strftime("%Y-%m"),
            month.seat_days,
            _number(month.booked_seat_hours),
            _number(month.open_seat_hours),
            _number(month.occupancy_rate, 3),
            _number(month.contracted_seats, 2),
            month.capacity,
            _number(month.contracted_rate, 3),
            month.active_members,
            "" if change is None else change,
            month.active_newcomers,
            _number(month.avoided_km),
            _number(month.co2_kg),
            month.check_ins_without_commute,
        ]


def figures_csv(figures: Figures) -> str:
    """One row per place and month, then the network's (places the actor sees)."""
    rows: list[list] = []
    for place in [*figures.places, figures.network]:
        rows.extend(_figures_rows(place))
    return _write(FIGURES_HEADER, rows)


# --- settlement ----------------------------------------------------------------------------

STATEMENT_HEADER = [
    "sens",
    "date",
    "lieu",
    "exploitant_accueillant",
    "exploitant_vendeur",
    "pass",
    "origine",
    "demi_journees",
    "base",
    "montant",
]


def statement_csv(statement: Statement) -> str:
    """The lines an operator earned ("du") and owes ("doit"), then one total row per sense
    and the net."""
    names = statement.names
    rows: list[list] = []
    for sense, lines in (("du", statement.earned_lines), ("doit", statement.owed_lines)):
        for line in lines:
            rows.append(
                [
                    sense,
                    line.day.isoformat(),
                    line.place_name,
                    names.get(line.host_id, line.host_id),
                    names.get(line.payer_id, line.payer_id),
                    line.pass_id,
                    line.kind,
                    line.half_days,
                    line.basis or _("aucune règle"),
                    plain_amount(line.amount_cents),
                ]
            )
    blank = [""] * 8
    rows.append(["total_du", *blank, plain_amount(statement.earned_cents)])
    rows.append(["total_doit", *blank, plain_amount(statement.owed_cents)])
    rows.append(["solde", *blank, plain_amount(statement.net_cents)])
    return _write(STATEMENT_HEADER, rows)


CLEARING_HEADER = ["exploitant", "encaisse", "conserve", "reverse", "a_recevoir", "solde"]


def clearing_csv(clearing: Clearing) -> str:
    rows = [
        [
            row.operator_name,
            plain_amount(row.collected_cents),
            plain_amount(row.kept_cents),
            plain_amount(row.paid_out_cents),
            plain_amount(row.earned_cents),
            plain_amount(row.net_cents),
        ]
        for row in clearing.rows
    ]
    return _write(CLEARING_HEADER, rows)


FUNDER_HEADER = [
    "pass",
    "offre",
    "vendu_a",
    "valable_du",
    "valable_au",
    "etat",
    "prix",
    "facture_au_financeur",
    "jours_de_presence_du_mois",
]


def funder_statement_csv(statement: FunderStatement) -> str:
    rows = [
        [
            p.pass_id,
            p.offer,
            p.sold_at,
            p.valid_from.isoformat(),
            p.valid_until.isoformat(),
            p.status,
            plain_amount(p.price_cents),
            plain_amount(p.invoiced_cents),
            p.days_checked_in,
        ]
        for p in statement.passes
    ]
    rows.append(
        [
            "total",
            "",
            "",
            "",
            "",
            "",
            plain_amount(statement.price_cents),
            plain_amount(statement.invoiced_cents),
            statement.days_checked_in,
        ]
    )
    return _write(FUNDER_HEADER, rows)


# --- census --------------------------------------------------------------------------------
# The columns and why: docs/coworking-figures.md, "Recensement".
CENSUS_HEADER = [
    "nom",
    "adresse",
    "code_postal",
    "commune",
    "code_insee",
    "latitude",
    "longitude",
    "porteur",
    "siret_porteur",
    "forme_juridique",
    "typologie",
    "implantation",
    "services_publics_accueillis",
    "surface_m2",
    "postes_de_travail",
    "horaires_ouverture",
    "connexion",
    "debit_descendant_mbits",
    "wifi_public",
    "accessibilite",
    "salle_visio",
    "impression",
    "cuisine",
    "stationnement",
    "transports_en_commun",
    "annee",
    "usagers_uniques",
    "nouveaux_arrivants",
    "usagers_abonnes",
    "usagers_occasionnels",
    "usagers_pass_reseau",
    "usagers_journee_decouverte",
    "usagers_tarif_reduit",
    "usagers_finances",
    "usagers_sur_reservation",
    "journees_poste",
    "taux_occupation",
]


def _yes_no(value: bool) -> str:
    return "oui" if value else "non"


def _usage(figures: PlaceFigures, users: dict[str, set[int]], year: int) -> list:
    total = figures.year
    return [
        year,
        total.active_members,
        total.active_newcomers,
        *(
            len(users.get(kind, ()))
            for kind in (
                "subscribers",
                "occasional",
                "network_pass",
                "discovery",
                "reduced",
                "funded",
                "booking_only",
            )
        ),
        total.seat_days,
        _number(total.occupancy_rate, 3),
    ]


def census_csv(*, actor, year: int) -> str:
    """One row per place the actor sees, then one for the network (those places together):
    description from TiersLieu and its Place, users and use of `year` from the figures."""
    figures = coworking_figures(actor=actor, year=year)
    users = users_by_type(actor=actor, year=year)
    places = {
        t.pk: t
        for t in TiersLieu.objects.filter(managed_tiers_lieux_filter(actor)).select_related(
            "place__commune", "place__organisation"
        )
    }
    rows = []
    for place_figures in figures.places:
        tiers_lieu = places[place_figures.tiers_lieu_id]
        place, operator = tiers_lieu.place, tiers_lieu.place.organisation
        rows.append(
            [
                place.name,
                place.address,
                place.postal_code,
                place.commune.name,
                place.commune.insee_code,
                f"{place.latitude:.6f}",
                f"{place.longitude:.6f}",
                operator.name if operator else "",
                operator.siret if operator else "",
                tiers_lieu.get_legal_form_display(),
                tiers_lieu.get_typology_display(),
                tiers_lieu.get_setting_display(),
                tiers_lieu.public_services_hosted,
                tiers_lieu.surface_m2 or "",
                tiers_lieu.desk_capacity,
                place.opening_hours,
                place.get_connectivity_display(),
                place.download_mbps or "",
                _yes_no(place.has_public_wifi),
                place.get_accessibility_display(),
                _yes_no(tiers_lieu.has_visio_room),
                _yes_no(tiers_lieu.has_printing),
                _yes_no(tiers_lieu.has_kitchen),
                _yes_no(tiers_lieu.has_parking),
                tiers_lieu.public_transport,
                *_usage(place_figures, users.get(tiers_lieu.pk, {}), year),
            ]
        )
    network = [
        _("Réseau (%(count)s lieux)") % {"count": len(figures.places)},
        *[""] * 12,
        sum(t.surface_m2 or 0 for t in places.values()),
        sum(t.desk_capacity for t in places.values()),
        *[""] * 10,
        *_usage(figures.network, users.get(None, {}), year),
    ]
    rows.append(network)
    return _write(CENSUS_HEADER, rows)
