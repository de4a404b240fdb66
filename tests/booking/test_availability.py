"""Free slots of a resource (selectors.availability): capacity, buffers, notice, horizon,
holidays, closures, itinerant rules, validity dates, alignment."""

import datetime as dt

import pytest

from cybercantal.booking import selectors, services
from cybercantal.booking.models import AvailabilityRule
from tests.accounts.factories import UserFactory
from tests.territory.factories import PlaceFactory

from .conftest import NOW, PARIS, at
from .factories import ClosureFactory, ResourceFactory

pytestmark = pytest.mark.django_db


def hhmm(slots):
    return [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]


def days(slots):
    return sorted({s.start.astimezone(PARIS).date().isoformat() for s in slots})


def free(resource, day, *, end_day=None, duration=None, units=1, now=NOW, start_time="00:00"):
    end_day = end_day or (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    return selectors.availability(
        resource=resource,
        start=at(day, start_time),
        end=at(end_day, "00:00"),
        duration=duration,
        units=units,
        now=now,
    )


def book(resource, day, start, end, *, participants=1):
    return services.booking_create(
        actor=UserFactory(),
        resources=[resource],
        start=at(day, start),
        end=at(day, end),
        participants=participants,
        now=NOW,
    )


MORNING = [(0, "09:00", "12:00")]  # Monday morning only


def test_exclusive_resource_once_booked_is_not_offered():
    room = ResourceFactory(hours=MORNING)
    book(room, "2027-03-01", "10:00", "11:00")
    assert hhmm(free(room, "2027-03-01")) == ["09:00", "09:30", "11:00", "11:30"]


def test_desk_pool_of_three_offers_until_the_third_booking():
    pool = ResourceFactory(hours=MORNING, capacity=3, kind="desk_pool")
    book(pool, "2027-03-01", "09:00", "12:00")
    book(pool, "2027-03-01", "09:00", "12:00")
    assert "09:00" in hhmm(free(pool, "2027-03-01"))
    assert free(pool, "2027-03-01", units=2) == []  # two seats do not fit any more
    book(pool, "2027-03-01", "09:00", "12:00")
    assert free(pool, "2027-03-01") == []


def test_capacity_counts_overlapping_bookings_only_where_they_overlap():
    pool = ResourceFactory(hours=MORNING, capacity=2, kind="desk_pool")
    book(pool, "2027-03-01", "09:00", "10:30")
    book(pool, "2027-03-01", "10:00", "11:00")
    # Full from 10:00 to 10:30 only.
    assert hhmm(free(pool, "2027-03-01")) == ["09:00", "09:30", "10:30", "11:00", "11:30"]


def test_more_seats_than_capacity_are_never_offered():
    pool = ResourceFactory(hours=MORNING, capacity=3, kind="desk_pool")
    assert free(pool, "2027-03-01", units=4) == []
    book(pool, "2027-03-01", "09:00", "09:30")
    assert free(pool, "2027-03-01", units=4) == []


def test_buffers_before_and_after_keep_room_between_bookings():
    mediator = ResourceFactory(
        hours=MORNING, kind="person", buffer_before_minutes=15, buffer_after_minutes=15
    )
    book(mediator, "2027-03-01", "10:00", "10:30")  # blocks 09:45-10:45
    # A new slot blocks [s - 15, s + 30 + 15): it must end (plus 15) by 09:45, or start
    # (minus 15) at 10:45 or later.
    assert hhmm(free(mediator, "2027-03-01")) == ["09:00", "11:00", "11:30"]


def test_buffer_after_only():
    cabin = ResourceFactory(hours=MORNING, kind="cabin", buffer_after_minutes=30)
    book(cabin, "2027-03-01", "10:00", "10:30")  # blocks 10:00-11:00
    assert hhmm(free(cabin, "2027-03-01")) == ["09:00", "11:00", "11:30"]


def test_minimum_notice_rounds_up_to_the_grid():
    # Now is Monday 08:00. 90 minutes' notice: nothing before 09:30.
    room = ResourceFactory(hours=MORNING, min_notice_minutes=90)
    assert hhmm(free(room, "2027-03-01"))[0] == "09:30"
    room = ResourceFactory(hours=MORNING, min_notice_minutes=75)
    assert hhmm(free(room, "2027-03-01"))[0] == "09:30"
    room = ResourceFactory(hours=MORNING, min_notice_minutes=60 * 24)
    assert free(room, "2027-03-01") == []


def test_horizon():
    # Open every weekday morning; bookable up to 7 days ahead: Monday 8 March 08:00.
    room = ResourceFactory(hours=[(d, "09:00", "12:00") for d in range(5)], horizon_days=7)
    slots = free(room, "2027-03-01", end_day="2027-03-20")
    assert days(slots)[-1] == "2027-03-05"
    room.horizon_days = 8
    room.save()
    slots = free(room, "2027-03-01", end_day="2027-03-20")
    assert days(slots)[-1] == "2027-03-08"
    assert hhmm([s for s in slots if s.start.date() == dt.date(2027, 3, 8)])[-1] == "11:30"


@pytest.mark.parametrize("day", ["2027-05-01", "2027-05-08"])
def test_public_holidays_close_unless_the_resource_opts_out(day):
    # 1 and 8 May 2027 are Saturdays.
    saturday = [(5, "09:00", "12:00")]
    closed = ResourceFactory(hours=saturday)
    assert free(closed, day) == []
    assert free(closed, "2027-05-15") != []
    always_open = ResourceFactory(hours=saturday, observes_public_holidays=False)
    assert len(free(always_open, day)) == 6


def test_easter_monday_after_the_clocks_change():
    room = ResourceFactory()
    assert free(room, "2027-03-29") == []  # Easter Monday
    # Tuesday 30 March, first day of summer time: 09:00 local is 07:00 UTC.
    slots = free(room, "2027-03-30")
    assert hhmm(slots)[0] == "09:00"
    assert slots[0].start.astimezone(dt.UTC).hour == 7
    assert all(s.end - s.start == dt.timedelta(minutes=30) for s in slots)


def test_closure_of_the_resource_of_its_place_and_of_everything():
    place = PlaceFactory()
    room = ResourceFactory(place=place, hours=MORNING)
    neighbour = ResourceFactory(place=place, hours=MORNING)
    elsewhere = ResourceFactory(hours=MORNING)

    ClosureFactory(resource=room, start=at("2027-03-01", "09:00"), end=at("2027-03-01", "10:00"))
    assert hhmm(free(room, "2027-03-01")) == ["10:00", "10:30", "11:00", "11:30"]
    assert len(free(neighbour, "2027-03-01")) == 6

    ClosureFactory(place=place, start=at("2027-03-08", "00:00"), end=at("2027-03-09", "00:00"))
    assert free(room, "2027-03-08") == free(neighbour, "2027-03-08") == []
    assert len(free(elsewhere, "2027-03-08")) == 6

    ClosureFactory(start=at("2027-03-15", "11:00"), end=at("2027-03-15", "18:00"))
    for resource in (room, neighbour, elsewhere):
        assert hhmm(free(resource, "2027-03-15")) == ["09:00", "09:30", "10:00", "10:30"]


def test_slots_after_a_closure_stay_on_the_grid():
    room = ResourceFactory(hours=MORNING)
    ClosureFactory(resource=room, start=at("2027-03-01", "09:40"), end=at("2027-03-01", "10:45"))
    assert hhmm(free(room, "2027-03-01")) == ["09:00", "11:00", "11:30"]


def test_itinerant_mediator_is_at_a_different_place_each_day():
    home, village_b, village_c = PlaceFactory(), PlaceFactory(), PlaceFactory()
    mediator = ResourceFactory(place=home, kind="person", hours=[])
    rules = [
        (0, None, ""),  # Mondays at home (the resource's usual place)
        (1, village_b, "1,3"),  # 1st and 3rd Tuesdays in village B
        (3, village_c, ""),  # Thursdays in village C
    ]
    for weekday, place, weeks in rules:
        AvailabilityRule.objects.create(
            resource=mediator,
            weekday=weekday,
            start_time=dt.time(9),
            end_time=dt.time(12),
            place=place,
            weeks_of_month=weeks,
        )
    slots = free(mediator, "2027-03-01", end_day="2027-03-20")
    by_day = {}
    for slot in slots:
        by_day.setdefault(slot.start.date().isoformat(), set()).add(slot.place_id)
    assert by_day == {
        "2027-03-01": {home.pk},
        "2027-03-02": {village_b.pk},
        "2027-03-04": {village_c.pk},
        "2027-03-08": {home.pk},
        "2027-03-11": {village_c.pk},
        "2027-03-15": {home.pk},
        "2027-03-16": {village_b.pk},
        "2027-03-18": {village_c.pk},
    }

    # Snow in village C on 11 March closes the mediator's Thursday there, nothing else.
    ClosureFactory(place=village_c, start=at("2027-03-11", "00:00"), end=at("2027-03-12", "00:00"))
    assert free(mediator, "2027-03-11") == []
    assert len(free(mediator, "2027-03-18")) == 6


def test_validity_dates_of_rules():
    room = ResourceFactory(hours=[])
    AvailabilityRule.objects.create(
        resource=room,
        weekday=2,
        start_time=dt.time(9),
        end_time=dt.time(12),
        valid_from=dt.date(2027, 3, 10),
        valid_until=dt.date(2027, 3, 17),
    )
    AvailabilityRule.objects.create(
        resource=room,
        weekday=2,
        start_time=dt.time(14),
        end_time=dt.time(15),
        valid_from=dt.date(2027, 3, 24),
    )
    slots = free(room, "2027-03-01", end_day="2027-04-01")
    assert days(slots) == ["2027-03-10", "2027-03-17", "2027-03-24", "2027-03-31"]
    assert hhmm([s for s in slots if s.start.date() == dt.date(2027, 3, 24)]) == [
        "14:00",
        "14:30",
    ]


def test_a_window_starting_mid_morning_keeps_slots_aligned_on_opening():
    room = ResourceFactory(hours=[(0, "09:15", "12:00")], slot_minutes=30)
    slots = free(room, "2027-03-01", start_time="10:05")
    assert hhmm(slots) == ["10:15", "10:45", "11:15"]


def test_longer_durations_fit_inside_the_opening():
    room = ResourceFactory(hours=MORNING)
    assert hhmm(free(room, "2027-03-01", duration=dt.timedelta(hours=2))) == [
        "09:00",
        "09:30",
        "10:00",
    ]


def test_durations_the_resource_does_not_allow_are_not_offered():
    # Slots of 30 minutes, 30 to 240 minutes long: booking 45 or 300 minutes is refused, so
    # availability must not offer them.
    room = ResourceFactory(hours=[(0, "08:00", "18:00")])
    assert free(room, "2027-03-01", duration=dt.timedelta(minutes=45)) == []
    assert free(room, "2027-03-01", duration=dt.timedelta(minutes=15)) == []
    assert free(room, "2027-03-01", duration=dt.timedelta(minutes=300)) == []


def test_an_inactive_resource_offers_nothing():
    room = ResourceFactory(hours=MORNING, is_active=False)
    assert free(room, "2027-03-01") == []


def test_slots_end_after_their_start_and_start_in_the_window():
    room = ResourceFactory()
    slots = selectors.availability(
        resource=room, start=at("2027-03-01", "10:00"), end=at("2027-03-01", "15:00"), now=NOW
    )
    assert hhmm(slots) == ["10:00", "10:30", "11:00", "11:30", "14:00", "14:30"]


def test_availability_takes_three_queries(django_assert_max_num_queries):
    room = ResourceFactory()
    with django_assert_max_num_queries(3):
        free(room, "2027-03-01", end_day="2027-04-01")


def test_slots_and_bookings_through_the_night_clocks_go_forward():
    # Sunday 28 March 2027: 02:00 local does not exist; 00:00-06:00 is five real hours.
    kit = ResourceFactory(
        hours=[(6, "00:00", "06:00")],
        kind="equipment",
        slot_minutes=60,
        min_duration_minutes=60,
        observes_public_holidays=False,
    )
    slots = free(kit, "2027-03-28")
    assert hhmm(slots) == ["00:00", "01:00", "03:00", "04:00", "05:00"]
    # (Subtract in UTC: Python subtracts two datetimes of the same zone on the wall clock.)
    assert all(
        s.end.astimezone(dt.UTC) - s.start.astimezone(dt.UTC) == dt.timedelta(hours=1)
        for s in slots
    )
    # 01:00 to 03:00 on the wall clock is one hour: allowed, and it holds that hour only.
    booking = services.booking_create(
        actor=UserFactory(),
        resources=[kit],
        start=at("2027-03-28", "01:00"),
        end=at("2027-03-28", "03:00"),
        now=NOW,
    )
    assert booking.end.astimezone(dt.UTC) - booking.start.astimezone(dt.UTC) == dt.timedelta(
        hours=1
    )
    assert hhmm(free(kit, "2027-03-28")) == ["00:00", "03:00", "04:00", "05:00"]


def test_a_rule_for_the_last_tuesday_of_the_month():
    room = ResourceFactory(hours=[])
    AvailabilityRule.objects.create(
        resource=room, weekday=1, start_time=dt.time(9), end_time=dt.time(10), weeks_of_month="-1"
    )
    assert days(free(room, "2027-03-01", end_day="2027-05-01")) == ["2027-03-30", "2027-04-27"]


@pytest.mark.parametrize(
    ("value", "weeks"),
    [("1,3", {1, 3}), (" -1 ", {-1}), ("", set()), ("a,2", {2}), ("9", set())],
)
def test_weeks_of_month_are_parsed_leniently(value, weeks):
    from cybercantal.booking.models import parse_weeks_of_month

    assert parse_weeks_of_month(value) == weeks


@pytest.mark.parametrize("value", ["a", "0", "6", "1;3", "-2"])
def test_weeks_of_month_input_is_validated_in_french(value):
    from django.core.exceptions import ValidationError

    from cybercantal.booking.models import validate_weeks_of_month

    with pytest.raises(ValidationError, match="semaine du mois"):
        validate_weeks_of_month(value)
