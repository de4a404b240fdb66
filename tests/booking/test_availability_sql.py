"""The one-statement read of closures and allocations (booking.availability_sql) returns
exactly what the equivalent ORM queries return, on SQLite and on PostgreSQL."""

import itertools

import pytest
from django.db.models import Q

from cybercantal.booking.availability_sql import closures_and_allocations
from cybercantal.booking.models import Allocation, Closure

from .conftest import NOW, at
from .factories import ClosureFactory, ResourceFactory
from .test_concurrency import book

pytestmark = pytest.mark.django_db

DAY = "2027-03-02"


@pytest.fixture
def world():
    rooms = [
        ResourceFactory(capacity=3, kind="desk_pool", hours=[(1, "08:00", "20:00")])
        for _ in range(3)
    ]
    bookings = [
        book([rooms[i % 3]], i, start=f"{9 + i:02d}:00", end=f"{9 + i:02d}:30") for i in range(6)
    ]
    Allocation.objects.filter(booking=bookings[1]).update(is_active=False)  # a cancelled one
    # Closures of a resource, of a place, of everything; before, inside, after the window.
    for hour, target in itertools.product(
        (6, 10, 13, 22), ({"resource": rooms[0]}, {"place": rooms[1].place}, {})
    ):
        ClosureFactory(start=at(DAY, f"{hour:02d}:00"), end=at(DAY, f"{hour + 1:02d}:30"), **target)
    return rooms, bookings


def orm(resource_ids, place_ids, start, end, exclude=None):
    closures = Closure.objects.filter(start__lt=end, end__gt=start).filter(
        Q(resource_id__in=resource_ids)
        | Q(place_id__in=place_ids)
        | Q(resource__isnull=True, place__isnull=True)
    )
    allocations = Allocation.objects.filter(
        resource_id__in=resource_ids, is_active=True, blocked_start__lt=end, blocked_end__gt=start
    )
    if exclude is not None:
        allocations = allocations.exclude(booking_id=exclude)
    return (
        sorted(closures.values_list("resource_id", "place_id", "start", "end"), key=str),
        sorted(
            allocations.values_list("resource_id", "blocked_start", "blocked_end", "units"), key=str
        ),
    )


def raw(resource_ids, place_ids, start, end, exclude=None):
    closures, allocations = closures_and_allocations(
        resource_ids=resource_ids,
        place_ids=place_ids,
        start=start,
        end=end,
        allocations_start=start,
        allocations_end=end,
        exclude_booking_id=exclude,
    )
    return (
        sorted(((c.resource_id, c.place_id, c.start, c.end) for c in closures), key=str),
        sorted(
            ((a.resource_id, a.blocked_start, a.blocked_end, a.units) for a in allocations), key=str
        ),
    )


@pytest.mark.parametrize(
    "window", [("00:00", "23:59"), ("09:30", "11:00"), ("10:15", "10:45"), ("23:00", "23:30")]
)
def test_the_statement_agrees_with_the_orm(world, window):
    rooms, bookings = world
    start, end = at(DAY, window[0]), at(DAY, window[1])
    cases = [
        ([r.pk for r in rooms], [r.place_id for r in rooms], None),
        ([rooms[0].pk], [], None),
        ([], [rooms[1].place_id], None),
        ([], [], None),  # global closures only
        ([r.pk for r in rooms], [], bookings[0].pk),
    ]
    for resource_ids, place_ids, exclude in cases:
        expected = orm(resource_ids, place_ids, start, end, exclude)
        assert raw(resource_ids, place_ids, start, end, exclude) == expected
    whole_day = raw(
        [r.pk for r in rooms], [r.place_id for r in rooms], *map(at, [DAY] * 2, ["00:00", "23:59"])
    )
    assert len(whole_day[0]) == 12 and len(whole_day[1]) == 5  # the test sees something
    assert all(c[2].tzinfo is not None for c in whole_day[0])  # aware, as the ORM's
    assert whole_day[1][0][1] > NOW
