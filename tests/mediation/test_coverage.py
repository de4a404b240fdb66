"""Coverage of the territory (mediation.selectors.coverage): a hand-built territory whose
distances are known, so that each commune's coverage is exact; what proposed stops change; the
suggested communes."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cybercantal.booking.models import Resource
from cybercantal.core.geo import ROAD_FACTOR, road_km
from cybercantal.mediation.models import MediationPlace, Tour, TourStop
from cybercantal.mediation.selectors import coverage as selectors
from tests.booking.factories import ResourceFactory
from tests.mediation._places_helpers import MediationPlaceFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

KM_PER_DEGREE = 111.19508
LON = 2.5
BASE_LAT = 45.0


def lat_at_road_km(km: float, base: float = BASE_LAT) -> float:
    """The latitude of a point `km` by road (estimate) north of (base, LON)."""
    return base + km / ROAD_FACTOR / KM_PER_DEGREE


class Territory:
    """Communes on one meridian, 0.5° (≈ 55 km straight, more by road) apart unless said:

    - Centre (1,000 inh.) has a fixed public mediation place;
    - Proche (400 inh.) is 10 km by road north of it: covered at 15 km, not at 5 km;
    - Annulée (300 inh.): its only stop is cancelled; Passée (200 inh.): its stop is past;
    - Étape (150 inh.): a planned stop in 10 days; Lointaine (120 inh.): a stop in 120 days;
    - Voisine (80 inh.) is 8 km by road from Annulée;
    - Privée (60 inh.): a fixed mediation place that is not public.
    """

    def __init__(self, today: dt.date):
        self.today = today

        def commune(name, lat, population, code):
            return CommuneFactory(
                insee_code=code, name=name, latitude=lat, longitude=LON, population=population
            )

        self.centre = commune("Centre", BASE_LAT, 1000, "99001")
        self.near = commune("Proche", lat_at_road_km(10), 400, "99002")
        self.cancelled = commune("Annulée", 45.5, 300, "99003")
        self.past = commune("Passée", 46.0, 200, "99004")
        self.stop = commune("Étape", 46.5, 150, "99005")
        self.later = commune("Lointaine", 47.0, 120, "99006")
        self.neighbour = commune("Voisine", lat_at_road_km(8, 45.5), 80, "99007")
        self.private = commune("Privée", 44.5, 60, "99008")
        fixed = PlaceFactory(name="France Services", commune=self.centre)
        MediationPlaceFactory(place=fixed)
        MediationPlaceFactory(place=PlaceFactory(commune=self.private, is_public=False))
        MediationPlaceFactory(
            place=PlaceFactory(commune=self.later),
            itinerance=MediationPlace.Itinerance.ITINERANT,
        )
        organisation = OrganisationFactory()
        mediator = ResourceFactory(
            kind=Resource.Kind.PERSON, organisation=organisation, place=fixed, hours=[]
        )
        self.tour = Tour.objects.create(
            name="Tournée", organisation=organisation, mediator=mediator
        )

        def add_stop(commune, days, status=TourStop.Status.PLANNED):
            return TourStop.objects.create(
                tour=self.tour,
                place=PlaceFactory(name=f"Mairie de {commune.name}", commune=commune),
                day=today + dt.timedelta(days=days),
                start_time=dt.time(9),
                end_time=dt.time(12),
                status=status,
            )

        add_stop(self.cancelled, 5, TourStop.Status.CANCELLED)
        add_stop(self.past, -3)
        add_stop(self.stop, 10)
        add_stop(self.later, 120)


@pytest.fixture
def territory():
    return Territory(timezone.localdate())


def by_name(result):
    return {c.name: c for c in result.communes}


def test_exact_coverage_at_15_km(territory):
    result = selectors.coverage(radius_km=15, today=territory.today)
    rows = by_name(result)
    assert {name for name, row in rows.items() if row.covered} == {"Centre", "Proche", "Étape"}
    assert rows["Proche"].distance_km == pytest.approx(10, abs=0.05)
    assert rows["Proche"].distance_km == pytest.approx(
        road_km(BASE_LAT, LON, territory.near.latitude, LON), abs=0.05
    )
    assert rows["Proche"].nearest.name == "France Services"
    assert rows["Centre"].distance_km == 0
    assert rows["Étape"].nearest.kind == selectors.HelpKind.STOP
    assert rows["Étape"].nearest.visits == 1
    assert result.covered_count == 3
    assert result.uncovered_people == 300 + 200 + 120 + 80 + 60
    assert [c.name for c in result.uncovered][:2] == ["Annulée", "Passée"]  # by priority
    assert rows["Annulée"].share_75 is None  # not in the reference data: unknown
    assert rows["Annulée"].priority == 300


def test_radius_5_leaves_the_commune_at_10_km_uncovered(territory):
    rows = by_name(selectors.coverage(radius_km=5, today=territory.today))
    assert rows["Centre"].covered
    assert not rows["Proche"].covered
    assert rows["Proche"].distance_km == pytest.approx(10, abs=0.05)


def test_cancelled_past_later_and_private_helps_do_not_cover(territory):
    result = selectors.coverage(radius_km=50, today=territory.today)
    names = {p.name for p in result.helps}
    assert names == {"France Services", "Mairie de Étape"}
    rows = by_name(result)
    for name in ("Annulée", "Passée", "Lointaine", "Privée", "Voisine"):
        assert not rows[name].covered, name
    # The stop 120 days ahead counts when the window reaches it.
    wider = by_name(selectors.coverage(radius_km=15, today=territory.today, upcoming_days=150))
    assert wider["Lointaine"].covered


def test_a_proposed_stop_covers_more_without_writing(territory):
    stops = TourStop.objects.count()
    result = selectors.coverage(
        radius_km=15,
        today=territory.today,
        extra_points=[(territory.cancelled.latitude, LON, "Annulée")],
    )
    assert TourStop.objects.count() == stops
    rows = by_name(result)
    assert rows["Annulée"].newly_covered and rows["Voisine"].newly_covered
    assert not rows["Annulée"].covered_before
    assert rows["Voisine"].proposed_km == pytest.approx(8, abs=0.05)
    assert result.newly_covered_people == 300 + 80
    assert result.uncovered_people == 200 + 120 + 60


def test_stop_gain_and_best_candidates(territory):
    result = selectors.coverage(radius_km=15, today=territory.today)
    gain = selectors.stop_gain(result, insee_code="99007")
    assert gain.people == 380
    assert [c.name for c in gain.communes] == ["Annulée", "Voisine"]
    assert selectors.stop_gain(result, insee_code="00000") is None
    suggestions = selectors.best_candidates(result, k=3)
    # Annulée and Voisine cover each other (380 people); ties go to the first by name.
    assert [s.commune.name for s in suggestions] == ["Annulée", "Passée", "Lointaine"]
    assert [s.people for s in suggestions] == [380, 200, 120]
    assert [s.cumulative_people for s in suggestions] == [380, 580, 700]


def test_few_queries(territory, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        result = selectors.coverage(radius_km=15, today=territory.today, extra_points=[(45, 2)])
        selectors.best_candidates(result, k=5)


def test_share_of_older_people_raises_the_priority_when_known(territory):
    # Lointaine (120 inh.) with 90 % aged 75+ weighs 228 and passes Passée (200, share unknown).
    territory.later.share_75_plus = 0.9
    territory.later.save()
    result = selectors.coverage(radius_km=15, today=territory.today)
    rows = by_name(result)
    assert rows["Lointaine"].share_75 == 0.9
    assert rows["Lointaine"].priority == pytest.approx(228)
    assert rows["Passée"].share_75 is None
    assert [c.name for c in result.uncovered][:3] == ["Annulée", "Lointaine", "Passée"]


def test_database_refuses_a_share_above_one(territory):
    territory.later.share_75_plus = 1.5
    with pytest.raises(IntegrityError), transaction.atomic():
        territory.later.save()
