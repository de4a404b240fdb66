"""Home visits and the route of the day: the ordering is the shortest round trip (checked
against brute force over every permutation for up to 7 stops), half-days keep their order,
the heuristic for long days is a 2-opt local optimum, distances and times add up, and the
route is refused outside the mediator's structure."""

import datetime as dt
import itertools
import math
import random
from zoneinfo import ZoneInfo

import pytest

from cybercantal.booking import ical
from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.booking.notifications import booking_texts
from cybercantal.booking.services import PersonDetails
from cybercantal.core.geo import road_km
from cybercantal.mediation.models import HomeVisit
from cybercantal.mediation.services import routes
from cybercantal.mediation.services.routes import (
    DRIVING_SPEED_KMH,
    day_route,
    distance_matrix,
    home_visit_book,
    order_stops,
    route_length,
)
from tests.booking.factories import ResourceFactory, agent_of
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)  # Monday 1 March 2027, 08:00
TUESDAY = dt.date(2027, 3, 2)

# Hand-built communes of the Cantal (approximate town-hall coordinates).
MURAT = (45.1106, 2.8686)
COMMUNES = {
    "Allanche": (45.2292, 2.9339),
    "Neussargues": (45.1333, 2.9800),
    "Dienne": (45.1667, 2.8000),
    "Albepierre": (45.0833, 2.8500),
    "Laveissière": (45.1167, 2.8167),
    "Chalinargues": (45.1667, 2.9500),
    "Virargues": (45.1239, 2.9103),
}


def brute_force(dist, groups):
    """The shortest length over every order keeping the groups' sequence."""
    best = math.inf
    for parts in itertools.product(*(itertools.permutations(g) for g in groups if g)):
        order = [node for part in parts for node in part]
        best = min(best, route_length(dist, order))
    return best


def optimal_orders(dist, groups):
    shortest = brute_force(dist, groups)
    return {
        tuple(node for part in parts for node in part)
        for parts in itertools.product(*(itertools.permutations(g) for g in groups if g))
        if route_length(dist, [n for part in parts for n in part]) <= shortest + 1e-9
    }


def test_distances_are_road_estimates():
    dist = distance_matrix([MURAT, COMMUNES["Allanche"]])
    assert dist[0][0] == 0
    assert dist[0][1] == dist[1][0] == pytest.approx(road_km(*MURAT, *COMMUNES["Allanche"]))
    assert 18 < dist[0][1] < 22  # ~13.6 km as the crow flies, × 1.4


@pytest.mark.parametrize("count", range(1, 8))
def test_the_hand_built_day_is_ordered_optimally(count):
    points = [MURAT, *list(COMMUNES.values())[:count]]
    dist = distance_matrix(points)
    groups = [list(range(1, count + 1))]
    order = order_stops(dist, groups)
    assert sorted(order) == groups[0]
    assert route_length(dist, order) == pytest.approx(brute_force(dist, groups))
    assert tuple(order) in optimal_orders(dist, groups)


def test_the_known_best_loop_of_the_hand_built_communes():
    """Around Murat the loop goes one way round: Virargues, Neussargues, Chalinargues,
    Allanche, Dienne, Laveissière, Albepierre (or the reverse)."""
    names = list(COMMUNES)
    dist = distance_matrix([MURAT, *COMMUNES.values()])
    order = [names[i - 1] for i in order_stops(dist, [list(range(1, 8))])]
    loop = ["Virargues", "Neussargues", "Chalinargues", "Allanche", "Dienne", "Laveissière",
            "Albepierre"]  # fmt: skip
    assert order in (loop, loop[::-1])


@pytest.mark.parametrize("seed", range(12))
def test_random_days_with_half_days_match_brute_force(seed):
    rng = random.Random(seed)
    count = rng.randint(2, 7)
    points = [MURAT] + [(45.0 + rng.random() * 0.3, 2.7 + rng.random() * 0.4) for _ in range(count)]
    dist = distance_matrix(points)
    nodes = list(range(1, count + 1))
    split = rng.randint(0, count)
    groups = [nodes[:split], nodes[split:]]
    order = order_stops(dist, groups)
    assert set(order[:split]) == set(groups[0])  # the morning's visits come first
    assert route_length(dist, order) == pytest.approx(brute_force(dist, groups))


def test_the_heuristic_improves_nearest_neighbour_into_a_2opt_optimum():
    rng = random.Random(7)
    points = [MURAT] + [(44.9 + rng.random() * 0.5, 2.5 + rng.random() * 0.7) for _ in range(25)]
    dist = distance_matrix(points)
    groups = [list(range(1, 14)), list(range(14, 26))]
    order = order_stops(dist, groups, exact_limit=0)  # force the heuristic
    nearest = routes._nearest_neighbour(dist, groups)
    assert sorted(order) == list(range(1, 26))
    assert set(order[:13]) == set(groups[0])
    assert route_length(dist, order) < route_length(dist, nearest)
    # No reversal of a segment inside a half-day shortens it any more.
    tour = [0, *order, 0]
    for i in range(1, len(tour) - 2):
        for j in range(i + 1, len(tour) - 1):
            if (tour[i] <= 13) != (tour[j] <= 13):
                continue
            a, b, c, d = tour[i - 1], tour[i], tour[j], tour[j + 1]
            assert dist[a][c] + dist[b][d] >= dist[a][b] + dist[c][d] - 1e-6


def test_the_heuristic_finds_the_optimum_where_nearest_neighbour_does_not():
    # On a line: NN from 0 goes to the nearest side first and must come back across.
    points = [(45.0, 2.60), (45.0, 2.62), (45.0, 2.57), (45.0, 2.70), (45.0, 2.50)]
    dist = distance_matrix(points)
    groups = [[1, 2, 3, 4]]
    nearest = routes._nearest_neighbour(dist, groups)
    assert route_length(dist, nearest) > brute_force(dist, groups) + 1
    heuristic = order_stops(dist, groups, exact_limit=0)
    assert route_length(dist, heuristic) == pytest.approx(brute_force(dist, groups))


# --- Home visits and the day's route through the services ---------------------------------------


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))


class World:
    def __init__(self):
        self.structure = OrganisationFactory(name="France Services de Murat")
        murat = CommuneFactory(name="Murat", latitude=MURAT[0], longitude=MURAT[1])
        self.base = PlaceFactory(commune=murat, name="France Services", organisation=self.structure)
        self.mediator = ResourceFactory(
            kind="person",
            name="Claire, médiatrice",
            place=self.base,
            organisation=self.structure,
            min_notice_minutes=0,
            slot_minutes=15,
        )
        self.agent = agent_of(self.mediator)
        self.communes = {
            name: CommuneFactory(name=name, latitude=lat, longitude=lon)
            for name, (lat, lon) in COMMUNES.items()
        }

    def visit(self, name, window, *, phone="06 39 98 00 01", day=TUESDAY, minutes=45):
        return home_visit_book(
            actor=self.agent,
            mediator=self.mediator,
            day=day,
            window=window,
            address=f"2 rue du Four, {name}",
            commune=self.communes[name],
            person=PersonDetails(f"Habitant de {name}", phone),
            duration_minutes=minutes,
            now=NOW,
        )


@pytest.fixture
def world(db):
    return World()


def test_a_home_visit_books_the_mediator_inside_the_half_day(world):
    visit = world.visit("Dienne", "apres_midi")
    booking = visit.booking
    assert booking.allocations.get().resource == world.mediator
    assert dt.time(14) <= booking.start.astimezone(PARIS).time()
    assert booking.end.astimezone(PARIS).time() <= dt.time(17)
    assert booking.channel == Booking.Channel.PHONE
    assert (visit.latitude, visit.longitude) == COMMUNES["Dienne"]
    assert "2 rue du Four, Dienne" in booking.notes


def test_the_persons_messages_and_calendar_give_their_home_not_the_base(world):
    booking = world.visit("Allanche", "matin").booking
    texts = booking_texts(booking, "created", now=NOW)
    assert "2 rue du Four, Allanche" in texts.sms
    assert "France Services" not in texts.sms
    assert "Où : 2 rue du Four, Allanche, Allanche" in texts.email
    calendar = ical.booking_ics(booking, now=NOW)
    calendar = calendar.decode() if isinstance(calendar, bytes) else str(calendar)
    assert "LOCATION:2 rue du Four\\, Allanche\\, Allanche" in calendar.replace("\r\n ", "")


def test_a_full_half_day_is_refused_in_french(world):
    for name in ("Dienne", "Allanche", "Albepierre", "Virargues"):
        world.visit(name, "matin")  # 4 × 45 min fill 9h–12h
    with pytest.raises(BookingRuleError, match="plus de temps libre pour une visite le matin"):
        world.visit("Neussargues", "matin")
    assert HomeVisit.objects.count() == 4


def test_home_visits_are_refused_without_address_or_outside_the_structure(world):
    with pytest.raises(BookingRuleError, match="Indiquez l'adresse"):
        home_visit_book(
            actor=world.agent,
            mediator=world.mediator,
            day=TUESDAY,
            window="matin",
            address=" ",
            commune=world.communes["Dienne"],
            person=PersonDetails("X", "06 39 98 00 01"),
            now=NOW,
        )
    stranger = agent_of(ResourceFactory(kind="person"))
    with pytest.raises(BookingForbidden):
        home_visit_book(
            actor=stranger,
            mediator=world.mediator,
            day=TUESDAY,
            window="matin",
            address="1 rue",
            commune=world.communes["Dienne"],
            person=PersonDetails("X", "06 39 98 00 01"),
            now=NOW,
        )
    assert not HomeVisit.objects.exists()


@pytest.mark.django_db
def test_the_day_route_orders_each_half_day_and_adds_up(world):
    morning = ["Allanche", "Albepierre", "Chalinargues"]
    afternoon = ["Dienne", "Virargues", "Neussargues"]
    for name in morning:
        world.visit(name, "matin")
    for name in afternoon:
        world.visit(name, "apres_midi")
    world.visit("Laveissière", "matin", day=TUESDAY + dt.timedelta(days=1))  # another day
    cancelled = world.visit("Laveissière", "matin")
    from cybercantal.booking.services import booking_cancel

    booking_cancel(actor=world.agent, booking=cancelled.booking, reason="Reporté", now=NOW)

    route = day_route(actor=world.agent, mediator=world.mediator, day=TUESDAY)
    names = [s.visit.commune.name for s in route.stops]
    assert set(names[:3]) == set(morning) and set(names[3:]) == set(afternoon)

    points = [MURAT] + [COMMUNES[n] for n in names]
    dist = distance_matrix(points)
    groups = [[1, 2, 3], [4, 5, 6]]
    assert route.total_km == pytest.approx(brute_force(dist, groups), abs=0.06)
    legs = sum(s.km_from_previous for s in route.stops) + route.km_back
    assert legs == pytest.approx(route.total_km, abs=0.3)
    back = math.ceil(dist[6][0] / DRIVING_SPEED_KMH * 60)
    assert route.drive_minutes == sum(s.drive_minutes for s in route.stops) + back
    assert route.drive_minutes >= route.total_km / DRIVING_SPEED_KMH * 60
    assert route.stops[0].drive_minutes == math.ceil(dist[0][1] / DRIVING_SPEED_KMH * 60)
    # Times: the first visit at 9h, each later one after the previous visit and the drive.
    assert route.stops[0].arrival.astimezone(PARIS).time() == dt.time(9)
    assert route.stops[3].arrival.astimezone(PARIS).time() == dt.time(14)
    second = route.stops[1]
    assert second.arrival == route.stops[0].arrival + dt.timedelta(
        minutes=45 + second.drive_minutes
    )
    assert not any(s.late for s in route.stops)


def test_the_route_is_the_mediators_and_their_structures_only(world):
    world.visit("Dienne", "matin")
    stranger = agent_of(ResourceFactory(kind="person"))
    with pytest.raises(BookingForbidden):
        day_route(actor=stranger, mediator=world.mediator, day=TUESDAY)
    assert len(day_route(actor=world.agent, mediator=world.mediator, day=TUESDAY).stops) == 1
