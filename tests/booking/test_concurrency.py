"""Concurrency on PostgreSQL: many connections fight for the same slot at the same instant.

Each call runs in its own thread with its own database connection (tests.concurrency), all
released together by a barrier, so the requests really race in the database. Run whenever
DATABASE_URL points at PostgreSQL; deselected on SQLite, which serialises writers and so
proves nothing about races (tests/conftest.py)."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Count

from cybercantal.booking import services
from cybercantal.booking.errors import BookingConflict, BookingRuleError
from cybercantal.booking.models import Allocation, Booking
from cybercantal.booking.services import PersonDetails
from tests.concurrency import run_concurrently

from .conftest import NOW, at
from .factories import ResourceFactory, agent_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = "2027-03-02"
RACERS = 50
ALL_DAY = [(d, "00:00", "23:59") for d in range(7)]


def person(i: int) -> PersonDetails:
    return PersonDetails(name=f"Personne {i}", phone=f"06 12 34 {i // 100:02d} {i % 100:02d}")


def book(resources, i, start="10:00", end="10:30", **kwargs):
    return services.booking_create(
        actor=None,
        resources=resources,
        start=at(DAY, start),
        end=at(DAY, end),
        person=person(i),
        now=NOW,
        **kwargs,
    )


def split(outcomes):
    successes = [o for o in outcomes if isinstance(o, Booking)]
    failures = [o for o in outcomes if not isinstance(o, Booking)]
    return successes, failures


def max_usage(resource) -> int:
    """The largest number of seats held at any instant, from the allocation rows."""
    rows = Allocation.objects.filter(resource=resource, is_active=True).values_list(
        "blocked_start", "blocked_end", "units"
    )
    events = sorted([(s, u) for s, _, u in rows] + [(e, -u) for _, e, u in rows])
    usage = peak = 0
    for _, delta in events:
        usage += delta
        peak = max(peak, usage)
    return peak


def assert_clear_conflicts(failures):
    for failure in failures:
        assert isinstance(failure, BookingConflict), repr(failure)
        assert "n'est plus disponible" in failure.message


@pytest.mark.parametrize("capacity", [1, 5])
def test_fifty_bookings_of_one_slot_succeed_exactly_capacity_times(capacity):
    resource = ResourceFactory(capacity=capacity, kind="room" if capacity == 1 else "desk_pool")
    outcomes = run_concurrently(lambda i: book([resource], i), RACERS)
    successes, failures = split(outcomes)
    assert len(successes) == capacity
    assert len(failures) == RACERS - capacity
    assert_clear_conflicts(failures)
    assert Booking.objects.count() == capacity
    assert max_usage(resource) == capacity


def test_overlapping_but_different_slots_race_too():
    # Starts every 30 minutes, each one hour long: neighbours overlap, so at most every other
    # one can win on an exclusive resource.
    room = ResourceFactory(hours=ALL_DAY)
    starts = [at(DAY, "08:00") + dt.timedelta(minutes=30 * (i % 8)) for i in range(RACERS)]

    def attempt(i):
        return services.booking_create(
            actor=None,
            resources=[room],
            start=starts[i],
            end=starts[i] + dt.timedelta(hours=1),
            person=person(i),
            now=NOW,
        )

    successes, failures = split(run_concurrently(attempt, RACERS))
    assert 1 <= len(successes) <= 4
    assert_clear_conflicts(failures)
    assert max_usage(room) == 1


def test_seats_race_on_a_workshop():
    # Capacity 10; people come alone, in pairs or in threes: never more than 10 seats.
    workshop = ResourceFactory(capacity=10, kind="workshop")
    outcomes = run_concurrently(lambda i: book([workshop], i, participants=i % 3 + 1), RACERS)
    successes, failures = split(outcomes)
    assert successes
    assert_clear_conflicts(failures)
    seats = sum(b.participants for b in successes)
    assert seats == max_usage(workshop) <= 10
    # Once full, no one is refused while a seat that they fit in is left.
    assert seats >= 10 - 2


def test_a_multi_resource_booking_races_single_resource_bookings():
    cabin = ResourceFactory(kind="cabin")
    practitioner = ResourceFactory(kind="person")
    wanted = {0: [cabin, practitioner], 1: [cabin], 2: [practitioner]}
    outcomes = run_concurrently(lambda i: book(wanted[i % 3], i), RACERS)
    successes, failures = split(outcomes)
    assert_clear_conflicts(failures)
    assert max_usage(cabin) == max_usage(practitioner) == 1
    # All or nothing: every booking holds each resource it asked for.
    for booking in successes:
        assert booking.allocations.count() in (1, 2)
    counts = Booking.objects.annotate(n=Count("allocations")).values_list("n", flat=True)
    assert sorted(counts) in ([2], [1, 1])
    assert Allocation.objects.count() == 2


def test_two_resources_named_in_either_order_never_deadlock():
    first, second = ResourceFactory(capacity=50), ResourceFactory(capacity=50)
    orders = {0: [first, second], 1: [second, first]}
    outcomes = run_concurrently(lambda i: book(orders[i % 2], i), RACERS)
    successes, failures = split(outcomes)
    assert failures == []
    assert len(successes) == RACERS


@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_reschedules_into_the_same_slot(capacity):
    resource = ResourceFactory(capacity=capacity, hours=ALL_DAY)
    agent = agent_of(resource)
    # 50 bookings at distinct times (08:00-20:00 from Tuesday on), then all moved to Thursday
    # 10:00 at once.
    starts = [
        at(DAY, "08:00") + dt.timedelta(days=i // 24, minutes=30 * (i % 24)) for i in range(RACERS)
    ]
    bookings = [
        services.booking_create(
            actor=agent,
            resources=[resource],
            start=starts[i],
            end=starts[i] + dt.timedelta(minutes=30),
            person=person(i),
            now=NOW,
        )
        for i in range(RACERS)
    ]
    target = at("2027-03-04", "10:00")

    def move(i):
        return services.booking_reschedule(
            actor=agent,
            booking=bookings[i],
            start=target,
            end=target + dt.timedelta(minutes=30),
            now=NOW,
        )

    successes, failures = split(run_concurrently(move, RACERS))
    assert len(successes) == capacity
    assert_clear_conflicts(failures)
    assert Booking.objects.filter(start=target).count() == capacity
    # The others kept their slot, and their allocation is still active.
    for booking in bookings:
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
    assert Allocation.objects.filter(is_active=True).count() == RACERS
    assert max_usage(resource) <= capacity


def test_the_per_person_limit_holds_under_concurrency():
    room = ResourceFactory(max_future_bookings_per_person=2, hours=ALL_DAY)
    starts = [at(DAY, "08:00") + dt.timedelta(minutes=30 * i) for i in range(20)]

    def attempt(i):
        return services.booking_create(
            actor=None,
            resources=[room],
            start=starts[i],
            end=starts[i] + dt.timedelta(minutes=30),
            person=person(7),  # always the same person
            now=NOW,
        )

    successes, failures = split(run_concurrently(attempt, 20))
    assert len(successes) == 2
    assert all("maximum" in f.message for f in failures)


def test_cancel_and_book_race_without_overbooking():
    room = ResourceFactory()
    agent = agent_of(room)
    taken = book([room], 0)

    def attempt(i):
        if i == 0:
            return services.booking_cancel(actor=agent, booking=taken, now=NOW)
        return book([room], i)

    outcomes = run_concurrently(attempt, 20)
    assert all(isinstance(o, Booking | BookingConflict) for o in outcomes), outcomes
    assert max_usage(room) <= 1


@pytest.mark.parametrize("by", ["resource", "place"])
def test_no_booking_slips_into_a_day_being_cancelled(by):
    """Snow: the agent cancels the day while 30 people book it. Every booking either was made
    first and is cancelled, or is refused: none stays on the closed day."""
    pool = ResourceFactory(capacity=40, kind="desk_pool", hours=ALL_DAY)
    agent = agent_of(pool)
    target = {"resource": pool} if by == "resource" else {"place": pool.place}

    def attempt(i):
        if i == 0:
            return services.bookings_cancel_day(
                actor=agent, day=dt.date.fromisoformat(DAY), reason="Neige", now=NOW, **target
            )
        return book([pool], i, start=f"{8 + i % 8:02d}:00", end=f"{8 + i % 8:02d}:30")

    outcomes = run_concurrently(attempt, 31)
    assert isinstance(outcomes[0], list), outcomes[0]
    for outcome in outcomes[1:]:
        assert isinstance(outcome, Booking | BookingRuleError), repr(outcome)
    left = Booking.objects.filter(status__in=["pending", "confirmed"], start__date=DAY)
    assert not left.exists()
    cancelled = {b.pk for b in outcomes[0]}
    assert cancelled == {o.pk for o in outcomes[1:] if isinstance(o, Booking)}


# --- the database's own guarantee -------------------------------------------------------------


def direct_allocation(booking, resource, start, end, **kwargs):
    return Allocation.objects.create(
        booking=booking,
        resource=resource,
        blocked_start=at(DAY, start),
        blocked_end=at(DAY, end),
        **kwargs,
    )


def test_the_exclusion_constraint_rejects_an_overlapping_exclusive_allocation():
    room = ResourceFactory()
    booking = book([room], 0)  # holds 10:00-10:30
    other = book([ResourceFactory()], 1)
    with (
        pytest.raises(IntegrityError, match="booking_allocation_exclusive_no_overlap"),
        transaction.atomic(),
    ):
        direct_allocation(other, room, "10:15", "10:45")
    # Touching is not overlapping; an inactive or shared (non-exclusive) allocation is free to.
    direct_allocation(other, room, "10:30", "11:00")
    third = book([ResourceFactory()], 2)
    direct_allocation(third, room, "10:00", "10:30", is_active=False)
    fourth = book([ResourceFactory()], 3)
    direct_allocation(fourth, room, "10:00", "10:30", is_exclusive=False)
    # Reactivating the cancelled one now overlaps: refused too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.filter(booking=third).update(is_active=True)
    assert booking.allocations.get().is_active
