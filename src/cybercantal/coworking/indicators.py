"""Indicators of the tiers-lieux network for the observatory.

core.registries has no indicators registry yet, so nothing is registered: the observatory (or
a registry added to core later) calls `coworking_indicators(actor=, year=)`, a plain function
built on the figures selector, scoped like it."""

from __future__ import annotations

from dataclasses import dataclass

from .selectors.figures import coworking_figures


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    value: float | int | None
    unit: str = ""


def coworking_indicators(*, actor, year: int) -> list[Indicator]:
    """The year's headline figures of the places `actor` sees."""
    year_figures = coworking_figures(actor=actor, year=year).network.year
    return [
        Indicator(
            "coworking.seat_days", "Journées de travail en tiers-lieu", year_figures.seat_days
        ),
        Indicator("coworking.active_members", "Travailleurs actifs", year_figures.active_members),
        Indicator("coworking.newcomers", "Dont nouveaux arrivants", year_figures.active_newcomers),
        Indicator(
            "coworking.occupancy",
            "Taux d'occupation des postes",
            year_figures.occupancy_rate,
            "ratio",
        ),
        Indicator("coworking.co2_avoided", "CO₂ évité", round(year_figures.co2_kg), "kg"),
    ]
