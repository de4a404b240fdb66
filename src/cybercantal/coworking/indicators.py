"""Indicators of the tiers-lieux network for the observatory, registered in
core.registries.indicator_providers (CoworkingConfig.ready): the network's totals for a year,
as open data. Counts of people under PUBLISH_MIN_PEOPLE are not published (None): with a
handful of workers, "2 newcomers" may name them."""

from __future__ import annotations

from django.utils.translation import gettext as _

from cybercantal.core.registries import Indicator

from .selectors.figures import network_public_figures

PUBLISH_MIN_PEOPLE = 5


def _people(count: int) -> int | None:
    return count if count >= PUBLISH_MIN_PEOPLE else None


def coworking_indicators(*, year: int) -> list[Indicator]:
    """The year's headline figures of the whole network (docs/coworking-figures.md)."""
    figures = network_public_figures(year=year).year
    occupancy = figures.occupancy_rate
    return [
        Indicator(
            "coworking.seat_days",
            _("Journées de travail en tiers-lieu"),
            figures.seat_days,
            _("journées"),
            _("Une arrivée enregistrée d'une personne, un jour, dans un lieu du réseau."),
        ),
        Indicator(
            "coworking.active_members",
            _("Travailleurs accueillis"),
            _people(figures.active_members),
            _("personnes"),
            _("Personnes venues au moins une fois dans l'année (« actifs accueillis »)."),
        ),
        Indicator(
            "coworking.newcomers",
            _("Dont nouveaux arrivants"),
            _people(figures.active_newcomers),
            _("personnes"),
            _("Personnes qui habitaient hors du département lors de leur inscription."),
        ),
        Indicator(
            "coworking.occupancy",
            _("Taux d'occupation des postes"),
            None if occupancy is None else round(occupancy * 100, 1),
            "%",
            _("Heures-postes réservées rapportées aux heures-postes ouvertes."),
        ),
        Indicator(
            "coworking.co2_avoided",
            _("CO₂ évité"),
            round(figures.co2_kg),
            "kg CO₂e",
            _(
                "Trajets domicile-travail évités, moins le trajet jusqu'au tiers-lieu, "
                "multipliés par le facteur d'émission du mode de transport habituel."
            ),
        ),
    ]
