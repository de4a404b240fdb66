"""A place's spaces (coworking.services.spaces): created with their kind's booking policy and
service and the place's hours, bookable at once and shown on the public network page; changed,
made unbookable and bookable again, deleted only when never booked."""

import datetime as dt

import pytest
from django.utils import timezone

from cybercantal.booking.errors import BookingRuleError
from cybercantal.booking.models import AvailabilityRule, Resource, Service
from cybercantal.booking.services import booking_create
from cybercantal.core.models import AuditLog
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.selectors.network import network_with_availability
from cybercantal.coworking.services.spaces import (
    space_create,
    space_deactivate,
    space_delete,
    space_reactivate,
    space_update,
)
from cybercantal.territory.models import OpeningPeriod
from tests.accounts.factories import UserFactory
from tests.booking.factories import ServiceFactory, department_agent

from ._network_helpers import local, tomorrow
from .factories import TiersLieuFactory, desk_pool, manager_of

pytestmark = pytest.mark.django_db

Kind = Resource.Kind


@pytest.fixture
def place():
    tiers_lieu = TiersLieuFactory()
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(place=tiers_lieu.place, weekday=d, opens=dt.time(9), closes=dt.time(18))
        for d in range(7)
    )
    return tiers_lieu


@pytest.fixture
def manager(place):
    return manager_of(place)


def create(actor, tiers_lieu, **fields):
    return space_create(
        actor=actor,
        tiers_lieu=tiers_lieu,
        **(
            {
                "name": "Open space",
                "kind": Kind.DESK_POOL,
                "capacity": 6,
                "observes_public_holidays": False,
            }
            | fields
        ),
    )


def refusal(exc_type, call, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    return info.value.message


# --- Creating ---------------------------------------------------------------------------------


def test_a_desk_pool_gets_its_policy_its_service_and_the_places_hours(place, manager):
    space = create(manager, place)
    assert space.place == place.place and space.organisation == place.place.organisation
    assert (space.slot_minutes, space.min_duration_minutes, space.max_duration_minutes) == (
        30,
        240,
        540,
    )
    assert space.capacity == 6 and space.is_active
    assert [s.code for s in space.services.all()] == ["coworking_desk_day"]
    rules = AvailabilityRule.objects.filter(resource=space)
    assert sorted(r.weekday for r in rules) == list(range(7))
    assert all(r.valid_from == timezone.localdate() for r in rules)
    assert {(r.start_time, r.end_time) for r in rules} == {(dt.time(9), dt.time(18))}
    assert AuditLog.objects.get(action="coworking.space_create").actor == manager


def test_a_room_is_booked_by_the_hour_and_an_office_by_the_day(place, manager):
    room = create(manager, place, name="Salle", kind=Kind.ROOM, capacity=1)
    assert (room.min_duration_minutes, room.max_duration_minutes) == (60, 480)
    assert [s.code for s in room.services.all()] == ["meeting_room_hour"]
    office = create(manager, place, name="Bureau 2", kind=Kind.OFFICE, capacity=1)
    assert (office.min_duration_minutes, office.max_duration_minutes) == (240, 540)
    assert [s.code for s in office.services.all()] == ["coworking_office_day"]


def test_an_existing_service_is_reused_by_its_code(place, manager):
    existing = ServiceFactory(code="coworking_desk_day", label="Poste (démo)")
    space = create(manager, place)
    assert list(space.services.all()) == [existing]
    assert Service.objects.filter(code="coworking_desk_day").count() == 1


def test_policy_fields_given_override_the_defaults(place, manager):
    space = create(manager, place, min_duration_minutes=120, horizon_days=30)
    assert space.min_duration_minutes == 120 and space.horizon_days == 30
    assert space.max_duration_minutes == 540


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": Kind.ROOM, "capacity": 8}, "sa capacité est 1"),
        ({"kind": Kind.DESK_POOL, "capacity": 0}, "de 1 à 500 postes"),
        ({"kind": Kind.CABIN}, "Choisissez le type d'espace"),
        ({"min_duration_minutes": 250}, "multiples du pas des créneaux"),
        ({"min_duration_minutes": 600}, "La durée maximale va de la durée minimale"),
        ({"max_duration_minutes": 2 * 24 * 60}, "24 heures"),
        ({"slot_minutes": 2}, "Le pas des créneaux va de 5 à 240"),
        ({"horizon_days": 0}, "On réserve de 1"),
        ({"bookable_by": "everybody"}, "qui peut réserver"),
        ({"name": " "}, "Donnez un nom"),
    ],
)
def test_inconsistent_spaces_are_refused_in_french(place, manager, fields, words):
    message = refusal(CoworkingRuleError, create, manager, place, **fields)
    assert words in message
    assert not Resource.objects.exists()


def test_only_a_manager_of_the_place_creates_a_space(place):
    for actor in (manager_of(TiersLieuFactory()), UserFactory(), None):
        message = refusal(CoworkingForbidden, create, actor, place)
        assert "gestionnaire du tiers-lieu" in message
    assert not Resource.objects.exists()
    assert create(department_agent(), place).place == place.place


# --- Bookable at once, and on the public pages ------------------------------------------------


def test_a_new_desk_pool_shows_on_the_network_page_and_can_be_booked(place, manager):
    day = tomorrow()
    before = network_with_availability(actor=None, days=[day])
    assert [e.days for e in before if e.tiers_lieu == place] == [None]
    space = create(manager, place, capacity=5)
    entry = next(
        e for e in network_with_availability(actor=None, days=[day]) if e.tiers_lieu == place
    )
    assert entry.days[0].is_open and (entry.days[0].free, entry.days[0].capacity) == (5, 5)
    booking_create(
        actor=UserFactory(), resources=[space], start=local(day, "09:00"), end=local(day, "13:00")
    )
    entry = next(
        e for e in network_with_availability(actor=None, days=[day]) if e.tiers_lieu == place
    )
    assert entry.days[0].free == 4


def test_an_unbookable_space_leaves_the_network_page_and_refuses_bookings(place, manager):
    day = tomorrow()
    space = create(manager, place)
    space_deactivate(actor=manager, tiers_lieu=place, space=space)
    space.refresh_from_db()
    assert not space.is_active
    entry = next(
        e for e in network_with_availability(actor=None, days=[day]) if e.tiers_lieu == place
    )
    assert entry.days is None
    with pytest.raises(BookingRuleError):
        booking_create(
            actor=UserFactory(),
            resources=[space],
            start=local(day, "09:00"),
            end=local(day, "13:00"),
        )
    space_reactivate(actor=manager, tiers_lieu=place, space=space)
    space.refresh_from_db()
    assert space.is_active
    assert [a.action for a in AuditLog.objects.filter(action__startswith="coworking.space_r")] == [
        "coworking.space_reactivate"
    ]


# --- Changing ---------------------------------------------------------------------------------


def test_a_manager_changes_a_space(place, manager):
    space = create(manager, place)
    space_update(actor=manager, tiers_lieu=place, space=space, name="Grand open space", capacity=10)
    space.refresh_from_db()
    assert (space.name, space.capacity) == ("Grand open space", 10)
    audit = AuditLog.objects.get(action="coworking.space_update")
    assert audit.data["before"]["capacity"] == 6 and audit.data["after"]["capacity"] == 10


def test_the_capacity_never_drops_below_the_bookings_to_come(place, manager):
    day = tomorrow()
    space = create(manager, place, capacity=3)
    for _ in range(2):
        booking_create(
            actor=UserFactory(),
            resources=[space],
            start=local(day, "09:00"),
            end=local(day, "13:00"),
        )
    message = refusal(
        CoworkingRuleError, space_update, actor=manager, tiers_lieu=place, space=space, capacity=1
    )
    assert "occupent déjà 2 places" in message
    space.refresh_from_db()
    assert space.capacity == 3
    space_update(actor=manager, tiers_lieu=place, space=space, capacity=2)
    space.refresh_from_db()
    assert space.capacity == 2


def test_a_new_kind_brings_its_service(place, manager):
    space = create(manager, place, kind=Kind.DESK, capacity=1)
    space_update(actor=manager, tiers_lieu=place, space=space, kind=Kind.OFFICE)
    assert [s.code for s in space.services.all()] == ["coworking_office_day"]


def test_another_places_space_is_out_of_reach(place, manager):
    other = TiersLieuFactory()
    theirs = desk_pool(other)
    message = refusal(
        CoworkingRuleError, space_update, actor=manager, tiers_lieu=place, space=theirs, capacity=1
    )
    assert "pas dans ce lieu" in message
    refusal(CoworkingForbidden, space_deactivate, actor=manager, tiers_lieu=other, space=theirs)
    theirs.refresh_from_db()
    assert theirs.capacity == 8 and theirs.is_active


# --- Deleting ---------------------------------------------------------------------------------


def test_a_space_never_booked_may_be_deleted(place, manager):
    space = create(manager, place)
    space_delete(actor=manager, tiers_lieu=place, space=space)
    assert not Resource.objects.filter(pk=space.pk).exists()
    assert not AvailabilityRule.objects.filter(resource_id=space.pk).exists()


def test_a_space_with_bookings_is_never_deleted(place, manager):
    day = tomorrow()
    space = create(manager, place)
    booking = booking_create(
        actor=UserFactory(), resources=[space], start=local(day, "09:00"), end=local(day, "13:00")
    )
    message = refusal(
        CoworkingRuleError, space_delete, actor=manager, tiers_lieu=place, space=space
    )
    assert "rendez-le non réservable" in message
    assert Resource.objects.filter(pk=space.pk).exists()
    booking.refresh_from_db()
    assert booking.is_active
