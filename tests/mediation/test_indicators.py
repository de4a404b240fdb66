"""Indicators of digital mediation for the observatory (mediation/indicators.py): people helped,
accompaniments, workshop sessions, coverage; small counts left unpublished."""

import datetime as dt

import pytest

from cybercantal.core.registries import collect_indicators, indicator_providers
from cybercantal.mediation.indicators import mediation_indicators
from cybercantal.mediation.models import Activity, Beneficiary
from tests.accounts.factories import UserFactory
from tests.mediation._places_helpers import MediationPlaceFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

YEAR = 2026


def values(year=YEAR):
    return {i.key: i.value for i in mediation_indicators(year=year)}


@pytest.fixture
def records():
    organisation = OrganisationFactory()
    mediator = UserFactory()
    named = Beneficiary.objects.create(organisation=organisation, first_name="Jeanne")
    anonymous = Beneficiary.objects.create(organisation=organisation, is_anonymous=True)
    duplicate = Beneficiary.objects.create(
        organisation=organisation, first_name="Jeanne", merged_into=named
    )

    def activity(kind, day, people=(), count=1):
        made = Activity.objects.create(
            organisation=organisation,
            mediator=mediator,
            kind=kind,
            day=day,
            duration_minutes=30,
            place_type=Activity.PlaceType.REMOTE,
            themes=["demarches"],
            title="Atelier" if kind == Activity.Kind.COLLECTIVE else "",
            participants_count=count,
        )
        made.beneficiaries.set(people)
        return made

    individual = Activity.Kind.INDIVIDUAL
    day = dt.date(YEAR, 3, 2)
    activity(individual, day, [named])
    activity(individual, day, [duplicate])  # the same person, merged
    activity(individual, day)  # someone not recorded
    activity(individual, day, [anonymous])
    activity(individual, dt.date(YEAR, 12, 31), [anonymous])
    activity(Activity.Kind.COLLECTIVE, day, [named, anonymous], count=6)  # 4 unnamed
    activity(individual, dt.date(YEAR - 1, 12, 31), [named])  # another year
    activity(individual, dt.date(YEAR + 1, 1, 1))  # another year


def test_counts_of_the_year(records):
    figures = values()
    # Jeanne (merged record included) and the anonymous person, plus 1 + 4 unnamed.
    assert figures["mediation.people_helped"] == 7
    assert figures["mediation.accompaniments"] == 5
    assert figures["mediation.workshop_sessions"] is None  # 1 session: not published


def test_small_counts_are_not_published(records):
    figures = values(YEAR - 1)
    assert figures["mediation.people_helped"] is None
    assert figures["mediation.accompaniments"] is None
    assert figures["mediation.workshop_sessions"] is None


def test_coverage_indicators():
    centre = CommuneFactory(insee_code="99101", latitude=45.0, population=1000)
    CommuneFactory(insee_code="99102", latitude=46.0, population=250)
    MediationPlaceFactory(place=PlaceFactory(commune=centre))
    figures = values()
    assert figures["mediation.communes_covered"] == 50.0
    assert figures["mediation.population_not_covered"] == 250


def test_no_communes_no_coverage_figure():
    figures = values()
    assert figures["mediation.communes_covered"] is None
    assert figures["mediation.population_not_covered"] is None


def test_registered_for_the_observatory(records):
    assert "mediation" in indicator_providers
    [answer] = [a for a in collect_indicators(year=YEAR) if a.provider.key == "mediation"]
    assert {i.key for i in answer.indicators} >= {
        "mediation.people_helped",
        "mediation.communes_covered",
    }
