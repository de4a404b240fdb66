"""The network's indicators for the observatory: registered through core's registry, computed
on the whole network whoever asks, small counts of people left unpublished."""

import datetime as dt

import pytest

from cybercantal.core.registries import indicator_providers
from cybercantal.coworking.indicators import PUBLISH_MIN_PEOPLE
from cybercantal.coworking.selectors.figures import coworking_figures
from tests.accounts.factories import UserFactory
from tests.booking.factories import department_agent

from .factories import TiersLieuFactory, desk_pool
from .test_figures import dataset, member, visit  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def values(year):
    return {i.key: i.value for i in indicator_providers.get("coworking").compute(year=year)}


def test_registered_for_the_observatory():
    provider = indicator_providers.get("coworking")
    assert provider is not None
    assert str(provider.label) == "Réseau des tiers-lieux"


@pytest.mark.usefixtures("dataset")
def test_network_totals_with_few_people_unpublished():
    got = values(2027)
    assert got["coworking.seat_days"] == 7
    # 3 workers, 1 newcomer: fewer than PUBLISH_MIN_PEOPLE, not published.
    assert got["coworking.active_members"] is None
    assert got["coworking.newcomers"] is None
    # The same totals as the figures pages show the Département's staff.
    year = coworking_figures(actor=department_agent(), year=2027).network.year
    assert year.booked_seat_hours == pytest.approx(22)
    assert got["coworking.occupancy"] == round(year.occupancy_rate * 100, 1)
    assert got["coworking.co2_avoided"] == round(year.co2_kg) > 0


def test_people_counts_published_from_the_threshold():
    place = TiersLieuFactory()
    desk_pool(place)
    home = None
    for n in range(PUBLISH_MIN_PEOPLE):
        worker = member(home, commute_km=10, previous="69" if n < 2 else "15")
        visit(place, worker, dt.date(2027, 5, 3))
    got = values(2027)
    assert got["coworking.active_members"] == PUBLISH_MIN_PEOPLE
    assert got["coworking.newcomers"] is None  # 2 newcomers only
    assert got["coworking.seat_days"] == PUBLISH_MIN_PEOPLE


def test_places_outside_the_network_are_not_counted():
    inside, outside = TiersLieuFactory(), TiersLieuFactory(is_in_network=False)
    worker = UserFactory()
    visit(inside, worker, dt.date(2027, 5, 3))
    visit(outside, worker, dt.date(2027, 5, 4))
    assert values(2027)["coworking.seat_days"] == 1
