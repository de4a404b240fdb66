"""The nearest-slot search against a search too simple to be wrong (hypothesis).

slots_search takes shortcuts for speed: rules kept in memory, the window searched in growing
pieces, each resource's slots computed only while they can still enter the best `limit`.
The reference below takes none: every slot `availability` gives each resource over the whole
window, kept when its place is within the radius, sorted by (start, distance, name), cut at
`limit`. Both must give the same offers, for random resources, hours, itinerant rules,
bookings, search moments and limits."""

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybercantal.booking import availability as av
from cybercantal.booking import rules_cache, selectors, services
from cybercantal.booking.errors import BookingConflict, BookingRuleError
from cybercantal.booking.models import AvailabilityRule, Resource
from cybercantal.booking.services import PersonDetails
from cybercantal.core.geo import great_circle_km
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from .conftest import NOW
from .factories import ResourceFactory, ServiceFactory

pytestmark = pytest.mark.django_db

KM_PER_DEGREE = 111.2
RADIUS_KM = 40
WINDOW = dt.timedelta(days=14)

hours = st.tuples(
    st.integers(min_value=0, max_value=6),  # weekday
    st.integers(min_value=7, max_value=15),  # opening hour
    st.integers(min_value=1, max_value=5),  # hours open
)
resource_specs = st.fixed_dictionaries(
    {
        "km": st.integers(min_value=0, max_value=60),
        "capacity": st.integers(min_value=1, max_value=2),
        "slot_minutes": st.sampled_from([15, 30, 60]),
        "notice_minutes": st.sampled_from([0, 120, 24 * 60]),
        "hours": st.lists(hours, min_size=0, max_size=4),
        # A stop elsewhere, 2 hours: (weekday, hour, km of that place). It may overlap the
        # usual hours (a data mistake the search must still get right).
        "tour": st.none() | st.tuples(st.integers(0, 6), st.integers(7, 17), st.integers(0, 60)),
        "bookings": st.lists(st.integers(min_value=0, max_value=200), max_size=6),
    }
)


class Rollback(Exception):
    pass


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(resource_specs, min_size=1, max_size=6),
    limit=st.integers(min_value=1, max_value=15),
    minutes_after_now=st.integers(min_value=0, max_value=7 * 24 * 60),
)
def test_the_search_finds_exactly_the_best_slots(specs, limit, minutes_after_now):
    try:
        with transaction.atomic():
            rules_cache.clear()  # the rolled-back resources of the last example had these keys
            check_one_search(specs, limit, NOW + dt.timedelta(minutes=minutes_after_now))
            raise Rollback
    except Rollback:
        pass


def check_one_search(specs, limit, now):
    home = CommuneFactory(latitude=45.0, longitude=2.5)
    service = ServiceFactory(code="aide", default_duration_minutes=60)
    organisation = OrganisationFactory()
    for number, spec in enumerate(specs):
        resource = ResourceFactory(
            name=f"R{number}",
            place=place_at(spec["km"]),
            organisation=organisation,
            capacity=spec["capacity"],
            slot_minutes=spec["slot_minutes"],
            min_notice_minutes=spec["notice_minutes"],
            horizon_days=10,
            services=[service],
            hours=[(day, f"{h:02d}:00", f"{h + n:02d}:00") for day, h, n in spec["hours"]],
        )
        if spec["tour"]:
            weekday, hour, km = spec["tour"]
            AvailabilityRule.objects.create(
                resource=resource,
                weekday=weekday,
                start_time=dt.time(hour),
                end_time=dt.time(hour + 2),
                place=place_at(km),
            )
        book_some_slots(resource, spec["bookings"], now)

    found = selectors.slots_search(
        service=service,
        commune=home,
        radius_km=RADIUS_KM,
        start=now,
        end=now + WINDOW,
        limit=limit,
        now=now,
    )
    assert [describe(o.slot, o.distance_km) for o in found] == reference(home, limit, now)


def place_at(km_north: float):
    commune = CommuneFactory(latitude=45.0 + km_north / KM_PER_DEGREE, longitude=2.5)
    return PlaceFactory(commune=commune)


def book_some_slots(resource, picks, now):
    """Book the picked free slots (indexes into the week's slots), as an agent would."""
    slots = selectors.availability(
        resource=resource, start=now, end=now + dt.timedelta(days=7), now=now
    )
    for pick in picks:
        if not slots:
            return
        slot = slots[pick % len(slots)]
        # Taken by an earlier pick: fine, the search must see the rest.
        with contextlib.suppress(BookingConflict, BookingRuleError):
            services.booking_create(
                actor=None,
                resources=[resource],
                start=slot.start,
                end=slot.end,
                person=PersonDetails(name="Réservé", phone="06 39 98 00 01"),
                now=now,
            )


def reference(home, limit, now):
    offers = []
    for resource in Resource.objects.all():
        slots = av.resource_slots(
            resource,
            av.load_availability_data([resource], now - dt.timedelta(days=1), now + WINDOW * 2),
            start=now,
            end=now + WINDOW,
            duration=dt.timedelta(minutes=60),
            now=now,
        )
        # The search stops reading a resource's slots at the first too late: they come in order.
        assert [s.start for s in slots] == sorted(s.start for s in slots)
        for slot in slots:
            place = resource_place(slot.place_id)
            km = great_circle_km(home.latitude, home.longitude, place.latitude, place.longitude)
            if km <= RADIUS_KM:
                offers.append((slot.start, round(km, 1), resource.name, slot))
    offers.sort(key=lambda o: o[:3])
    return [describe(slot, km) for _, km, _, slot in offers[:limit]]


def resource_place(place_id):
    from cybercantal.territory.models import Place

    return Place.objects.get(pk=place_id)


def describe(slot, km):
    return (slot.start.isoformat(), slot.resource_id, slot.place_id, km)
