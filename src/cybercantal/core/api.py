"""Core endpoints of the API: the indicators every module registers for the observatory
(core.registries.indicator_providers). Core knows no module: it reads the registry."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from .registries import collect_indicators

router = Router(tags=["Observatoire"])

# Figures of a year move slowly (check-ins of the day): computed at most every 10 minutes.
CACHE_SECONDS = 600


class IndicatorFilters(Schema):
    annee: int | None = Field(
        None, ge=2000, le=2100, description="Année (l'année en cours par défaut)."
    )


class IndicatorOut(Schema):
    cle: str
    libelle: str
    valeur: float | int | None = Field(
        description="Vide quand la valeur n'est pas connue ou trop faible pour être publiée "
        "sans identifier des personnes."
    )
    unite: str
    methode: str


class ModuleIndicatorsOut(Schema):
    module: str
    libelle: str
    indicateurs: list[IndicatorOut]


class IndicatorsOut(Schema):
    annee: int
    modules: list[ModuleIndicatorsOut]


def indicators_of_year(year: int) -> dict:
    key = f"core:indicators:{year}"
    answer = cache.get(key)
    if answer is None:
        answer = {
            "annee": year,
            "modules": [
                {
                    "module": entry.provider.key,
                    "libelle": str(entry.provider.label),
                    "indicateurs": [
                        {
                            "cle": i.key,
                            "libelle": str(i.label),
                            "valeur": i.value,
                            "unite": str(i.unit),
                            "methode": str(i.description),
                        }
                        for i in entry.indicators
                    ],
                }
                for entry in collect_indicators(year=year)
            ],
        }
        cache.set(key, answer, CACHE_SECONDS)
    return answer


@router.get(
    "/indicateurs",
    response=IndicatorsOut,
    summary="Indicateurs du territoire",
    description="Les chiffres de l'année que chaque module publie pour l'observatoire "
    "(journées en tiers-lieux, personnes accompagnées…), agrégés sur tout le territoire. "
    "Accès libre, sans authentification ; recalculés au plus toutes les 10 minutes.",
    openapi_extra={"security": [{}]},
)
def indicators(request: HttpRequest, filters: Query[IndicatorFilters]):
    return indicators_of_year(filters.annee or timezone.localdate().year)
