"""Mediation places for the tests of exports and imports (factories of tests/territory)."""

from __future__ import annotations

from pathlib import Path

import factory
from django.conf import settings

from cybercantal.mediation.models import MediationPlace
from tests.territory.factories import CommuneFactory, PlaceFactory

STANDARD_DIR = Path(settings.BASE_DIR) / "data" / "standards" / "mediation"
SCHEMA_PATH = STANDARD_DIR / "mediation-places-schema-v1.0.2.json"
EXAMPLE_CSV = STANDARD_DIR / "mediation-places-example-valid.csv"


class MediationPlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediationPlace

    place = factory.SubFactory(PlaceFactory)
    pivot = "21150014500019"  # valid check keys (SIREN and SIRET): pivot_error accepts it
    services = factory.LazyFunction(lambda: ["Aide aux démarches administratives"])


def reims():
    """The commune of the national example file, absent from the test database."""
    return CommuneFactory(
        insee_code="51454",
        name="Reims",
        postal_codes="51100",
        department_code="51",
        latitude=49.25,
        longitude=4.03,
    )


def example_bytes() -> bytes:
    return EXAMPLE_CSV.read_bytes()
