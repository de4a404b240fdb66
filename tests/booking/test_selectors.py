"""Reads of the booking engine (booking.selectors): nearest-slot search and scoped lists."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cybercantal.booking import selectors, services
from cybercantal.booking.models import AvailabilityRule
from cybercantal.core.geo import ROAD_FACTOR
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from .conftest import NOW, PARIS, at
from .factories import ResourceFactory, ServiceFactory, agent_of, department_agent

pytestmark = pytest.mark.django_db

DAY = "2027-03-02"  # a Tuesday
KM_PER_DEGREE_OF_LATITUDE = 111.2


@pytest.fixture
def home():
    return CommuneFactory(latitude=45.0, longitude=2.5)


def place_at(km_north: float, **kwargs):
    commune = CommuneFactory(latitude=45.0 + km_north / KM_PER_DEGREE_OF_LATITUDE, longitude=2.5)
    return PlaceFactory(commune=commune, **kwargs)


@pytest.fixture
def help_desk():
    return ServiceFactory(code="aide-demarches", default_duration_minutes=30)


def search(
    service, commune, *, radius_km=40, limit=10, actor=None, days=1, duration=None, start=None
):
    return selectors.slots_search(
        service=service,
        commune=commune,
        radius_km=radius_km,
        start=start or at(DAY, "00:00"),
        end=at(DAY, "00:00") + dt.timedelta(days=days),
        duration=duration,
        limit=limit,
        actor=actor,
        now=NOW,
    )


def summary(offers):
    return [
        (o.slot.start.astimezone(PARIS).strftime("%d %H:%M"), o.resource.name, o.distance_km)
        for o in offers
    ]


def test_ranked_by_time_then_distance(home, help_desk):
    near, middle, far = place_at(2), place_at(10), place_at(30)
    ResourceFactory(name="Loin", place=far, services=[help_desk], hours=[(1, "08:30", "12:00")])
    ResourceFactory(name="Milieu", place=middle, services=[help_desk])
    ResourceFactory(name="Près", place=near, services=[help_desk])
    offers = search(help_desk, home, limit=5)
    assert [(t, name) for t, name, _ in summary(offers)] == [
        ("02 08:30", "Loin"),
        ("02 09:00", "Près"),
        ("02 09:00", "Milieu"),
        ("02 09:00", "Loin"),
        ("02 09:30", "Près"),
    ]
    by_name = {o.resource.name: o for o in offers}
    assert by_name["Près"].distance_km == pytest.approx(2, abs=0.1)
    assert by_name["Loin"].distance_km == pytest.approx(30, abs=0.1)
    assert by_name["Loin"].road_km == pytest.approx(30 * ROAD_FACTOR, abs=0.2)
    assert by_name["Près"].place == near


def test_radius_and_service(home, help_desk):
    ResourceFactory(name="Trop loin", place=place_at(45), services=[help_desk])
    ResourceFactory(name="Autre prestation", place=place_at(1), services=[ServiceFactory()])
    ResourceFactory(name="Sans prestation", place=place_at(1))
    ResourceFactory(name="Dedans", place=place_at(39), services=[help_desk])
    ResourceFactory(name="Inactive", place=place_at(1), services=[help_desk], is_active=False)
    assert {o.resource.name for o in search(help_desk, home, limit=50)} == {"Dedans"}
    assert {o.resource.name for o in search(help_desk, home, radius_km=50, limit=50)} == {
        "Dedans",
        "Trop loin",
    }
    assert search(help_desk, home, radius_km=0.5) == []


def test_an_itinerant_mediator_counts_where_the_rule_places_them(home, help_desk):
    based_far = place_at(80)
    village = place_at(12)
    mediator = ResourceFactory(
        name="Médiatrice itinérante",
        place=based_far,
        kind="person",
        services=[help_desk],
        hours=[(0, "09:00", "12:00"), (3, "09:00", "12:00")],  # at her base
    )
    AvailabilityRule.objects.create(
        resource=mediator, weekday=1, start_time=dt.time(14), end_time=dt.time(16), place=village
    )
    offers = search(help_desk, home, days=7, limit=50)
    assert {o.slot.start.astimezone(PARIS).date() for o in offers} == {dt.date(2027, 3, 2)}
    assert {o.place for o in offers} == {village}
    assert offers[0].distance_km == pytest.approx(12, abs=0.1)
    assert [o.slot.place_id for o in offers] == [village.pk] * 4


def test_non_public_places_are_hidden_from_the_public(home, help_desk):
    ehpad_org = OrganisationFactory()
    ehpad = place_at(3, is_public=False, organisation=ehpad_org)
    ResourceFactory(name="Cabine EHPAD", place=ehpad, services=[help_desk])
    assert search(help_desk, home) == []
    assert search(help_desk, home, actor=AnonymousUser()) == []
    assert search(help_desk, home, actor=UserFactory()) == []
    nurse = MembershipFactory(organisation=ehpad_org, role="assisting_professional").user
    assert search(help_desk, home, actor=nurse)
    assert search(help_desk, home, actor=department_agent())


def test_booked_slots_are_not_offered_and_the_search_looks_further(home, help_desk):
    room = ResourceFactory(place=place_at(1), services=[help_desk], hours=[(1, "09:00", "10:00")])
    for start in ("09:00", "09:30"):
        services.booking_create(
            actor=UserFactory(),
            resources=[room],
            start=at(DAY, start),
            end=at(DAY, start) + dt.timedelta(minutes=30),
            now=NOW,
        )
    offers = search(help_desk, home, days=21, limit=3)
    assert [o.slot.start.astimezone(PARIS).strftime("%d %H:%M") for o in offers] == [
        "09 09:00",
        "09 09:30",
        "16 09:00",
    ]


def test_the_window_never_starts_in_the_past(home, help_desk):
    ResourceFactory(place=place_at(1), services=[help_desk], hours=[(0, "07:00", "09:00")])
    offers = search(help_desk, home, start=at("2027-02-22", "00:00"))
    assert offers and offers[0].slot.start >= NOW


def test_the_services_usual_duration_and_explicit_durations(home, help_desk):
    help_desk.default_duration_minutes = 60
    help_desk.save()
    short_only = ResourceFactory(
        name="Court", place=place_at(1), services=[help_desk], max_duration_minutes=30
    )
    usual = ResourceFactory(name="Habituel", place=place_at(2), services=[help_desk])
    offers = search(help_desk, home, limit=100)
    lengths = {(o.resource.name, o.slot.end - o.slot.start) for o in offers}
    assert lengths == {
        ("Court", dt.timedelta(minutes=30)),
        ("Habituel", dt.timedelta(minutes=60)),
    }
    # 45 minutes: neither allows it (slots of 30 minutes) — nothing a booking would refuse.
    assert search(help_desk, home, duration=dt.timedelta(minutes=45)) == []
    assert {o.resource for o in search(help_desk, home, duration=dt.timedelta(hours=2))} == {usual}
    assert short_only.pk


def test_every_offer_can_be_booked(home, help_desk):
    for km in (1, 5, 9):
        ResourceFactory(place=place_at(km), services=[help_desk], capacity=km % 3 + 1)
    for offer in search(help_desk, home, limit=15):
        booking = services.booking_create(
            actor=UserFactory(),
            resources=[offer.resource],
            start=offer.slot.start,
            end=offer.slot.end,
            service=help_desk,
            now=NOW,
        )
        assert booking.place == offer.place


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_a_fixed_number_of_queries_whatever_the_number_of_resources(
    home, help_desk, django_assert_max_num_queries
):
    def add_resources(n):
        for i in range(n):
            resource = ResourceFactory(place=place_at(i % 30 + 1), services=[help_desk])
            AvailabilityRule.objects.create(
                resource=resource,
                weekday=2,
                start_time=dt.time(18),
                end_time=dt.time(19),
                place=place_at(i % 20 + 1),
            )

    add_resources(3)
    # No free slot at all in the window is the worst case: every piece (1, 7, all days) runs.
    full = {"days": 30, "limit": 10_000}
    small = count_queries(lambda: search(help_desk, home, **full))
    add_resources(40)
    with django_assert_max_num_queries(small):
        offers = search(help_desk, home, **full)
    assert len(offers) > 40
    assert small <= 12


# --- scoped lists -----------------------------------------------------------------------------


@pytest.fixture
def world():
    room = ResourceFactory(name="Salle")
    other = ResourceFactory(name="Ailleurs")
    holder, neighbour = UserFactory(), UserFactory()

    def make(resource, user, start):
        return services.booking_create(
            actor=user,
            resources=[resource],
            start=at(DAY, start),
            end=at(DAY, start) + dt.timedelta(minutes=30),
            now=NOW,
        )

    return {
        "room": room,
        "other": other,
        "holder": holder,
        "neighbour": neighbour,
        "mine": make(room, holder, "09:00"),
        "theirs": make(room, neighbour, "10:00"),
        "elsewhere": make(other, neighbour, "11:00"),
    }


def visible(actor, **kwargs):
    return {b.pk for b in selectors.booking_list(actor=actor, **kwargs)}


def test_the_holder_sees_their_own_only(world):
    assert visible(world["holder"]) == {world["mine"].pk}
    assert selectors.booking_get(actor=world["holder"], booking_id=world["theirs"].pk) is None
    assert selectors.booking_get(actor=world["holder"], booking_id=world["mine"].pk)


def test_an_agent_sees_the_bookings_of_their_organisations_resources(world):
    agent = agent_of(world["room"])
    assert visible(agent) == {world["mine"].pk, world["theirs"].pk}
    assert selectors.booking_get(actor=agent, booking_id=world["elsewhere"].pk) is None


def test_others_see_nothing(world):
    assert visible(UserFactory()) == set()
    assert visible(AnonymousUser()) == set()
    assert visible(None) == set()
    member = MembershipFactory(organisation=world["room"].organisation, role="parent").user
    assert visible(member) == set()
    assert selectors.booking_get(actor=member, booking_id=world["mine"].pk) is None


def test_department_agents_see_everything(world):
    staff = department_agent()
    assert visible(staff) == {world["mine"].pk, world["theirs"].pk, world["elsewhere"].pk}
    assert visible(staff, resource=world["other"]) == {world["elsewhere"].pk}
    assert visible(staff, place=world["room"].place) == {world["mine"].pk, world["theirs"].pk}


def test_cancelled_bookings_are_listed_on_request(world):
    services.booking_cancel(actor=world["holder"], booking=world["mine"], now=NOW)
    assert visible(world["holder"]) == set()
    assert visible(world["holder"], include_cancelled=True) == {world["mine"].pk}
    assert selectors.booking_get(actor=world["holder"], booking_id=world["mine"].pk)
    assert list(selectors.my_bookings(actor=world["holder"], now=NOW)) == []


def test_my_bookings_are_upcoming_and_mine(world):
    assert [b.pk for b in selectors.my_bookings(actor=world["neighbour"], now=NOW)] == [
        world["theirs"].pk,
        world["elsewhere"].pk,
    ]
    assert list(selectors.my_bookings(actor=world["neighbour"], now=at(DAY, "12:00"))) == []
    assert list(selectors.my_bookings(actor=AnonymousUser(), now=NOW)) == []


def test_calendar_of_a_place_for_its_agent(world):
    agent = agent_of(world["room"])
    day = {"start": at(DAY, "00:00"), "end": at("2027-03-03", "00:00")}
    assert [b.pk for b in selectors.calendar(actor=agent, place=world["room"].place, **day)] == [
        world["mine"].pk,
        world["theirs"].pk,
    ]
    assert selectors.calendar(actor=agent, place=world["other"].place, **day) == []
    assert selectors.calendar(actor=UserFactory(), place=world["room"].place, **day) == []


def test_resource_list_hides_non_public_places_and_inactive_resources(help_desk):
    org = OrganisationFactory()
    hidden = ResourceFactory(name="Cabine", place=PlaceFactory(is_public=False, organisation=org))
    shown = ResourceFactory(name="Salle", services=[help_desk], kind="room")
    ResourceFactory(name="Fermée", is_active=False)
    assert list(selectors.resource_list(actor=None)) == [shown]
    assert set(selectors.resource_list(actor=department_agent())) == {hidden, shown}
    member = MembershipFactory(organisation=org, role="mediator").user
    assert selectors.resource_get(actor=member, resource_id=hidden.pk) == hidden
    assert selectors.resource_get(actor=None, resource_id=hidden.pk) is None
    assert list(selectors.resource_list(service=help_desk)) == [shown]
    assert list(selectors.resource_list(kind="cabin")) == []


def test_slots_search_offers_only_what_the_searcher_may_book(cantal):
    from cybercantal.booking.models import Resource
    from cybercantal.territory.selectors import commune_get
    from tests.territory.factories import PlaceFactory

    from .factories import ResourceFactory, ServiceFactory, department_agent

    service = ServiceFactory()
    aurillac = commune_get("15014")
    place = PlaceFactory(commune=aurillac)
    open_to_all = ResourceFactory(place=place, services=[service], name="Pour tous")
    ResourceFactory(
        place=place, services=[service], name="Agents", bookable_by=Resource.BookableBy.AGENTS
    )
    ResourceFactory(
        place=place,
        services=[service],
        name="Comptes",
        bookable_by=Resource.BookableBy.ACCOUNT_HOLDERS,
    )

    def names(actor):
        offers = selectors.slots_search(
            service=service,
            commune=aurillac,
            radius_km=10,
            start=NOW,
            end=NOW + dt.timedelta(days=2),
            limit=100,
            actor=actor,
            now=NOW,
        )
        return {offer.resource.name for offer in offers}

    assert names(None) == {open_to_all.name}
    assert names(UserFactory()) == {"Pour tous", "Comptes"}
    assert names(department_agent()) == {"Pour tous", "Comptes", "Agents"}
