"""Interval arithmetic (booking.intervals): pure functions, no database."""

import datetime as dt
import itertools

from cybercantal.booking import intervals as iv

from .conftest import PARIS, at

UTC = dt.UTC


def rule(weekday, opens, closes, *, weeks=(), place_id=None, valid_from=None, valid_until=None):
    return iv.RuleSpec(
        weekday,
        dt.time.fromisoformat(opens),
        dt.time.fromisoformat(closes),
        valid_from,
        valid_until,
        frozenset(weeks),
        place_id,
    )


def local(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")


def spans(intervals):
    return [(local(i.start), local(i.end)) for i in intervals]


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


# --- opening_intervals ------------------------------------------------------------------------


def test_opening_hours_keep_local_time_across_spring_forward():
    # Sunday 28 March 2027 at 2:00 clocks go forward: Paris moves from UTC+1 to UTC+2.
    rules = [rule(day, "09:00", "12:00") for day in range(7)]
    opening = iv.opening_intervals(
        rules, start=at("2027-03-27", "00:00"), end=at("2027-03-30", "00:00"), tz=PARIS
    )
    assert spans(opening) == [
        ("2027-03-27 09:00", "2027-03-27 12:00"),
        ("2027-03-28 09:00", "2027-03-28 12:00"),
        ("2027-03-29 09:00", "2027-03-29 12:00"),
    ]
    assert [i.start.astimezone(UTC).hour for i in opening] == [8, 7, 7]
    assert all(i.end - i.start == dt.timedelta(hours=3) for i in opening)


def test_opening_hours_keep_local_time_across_fall_back():
    # Sunday 31 October 2027 at 3:00 clocks go back: UTC+2 to UTC+1.
    rules = [rule(day, "14:00", "17:00") for day in range(7)]
    opening = iv.opening_intervals(
        rules, start=at("2027-10-30", "00:00"), end=at("2027-11-01", "00:00"), tz=PARIS
    )
    assert spans(opening) == [
        ("2027-10-30 14:00", "2027-10-30 17:00"),
        ("2027-10-31 14:00", "2027-10-31 17:00"),
    ]
    assert [i.start.astimezone(UTC).hour for i in opening] == [12, 13]


def test_a_night_opening_lasts_its_real_length_on_the_days_clocks_change():
    # 00:00-06:00 local is 5 real hours on the spring-forward night, 7 on the fall-back one.
    sunday = [rule(6, "00:00", "06:00")]
    spring = iv.opening_intervals(
        sunday, start=at("2027-03-28", "00:00"), end=at("2027-03-29", "00:00"), tz=PARIS
    )
    autumn = iv.opening_intervals(
        sunday, start=at("2027-10-31", "00:00"), end=at("2027-11-01", "00:00"), tz=PARIS
    )
    assert [i.end.astimezone(UTC) - i.start.astimezone(UTC) for i in spring] == [
        dt.timedelta(hours=5)
    ]
    assert [i.end.astimezone(UTC) - i.start.astimezone(UTC) for i in autumn] == [
        dt.timedelta(hours=7)
    ]


def test_hourly_slots_through_the_night_clocks_change_are_real_distinct_hours():
    sunday = [rule(6, "00:00", "06:00")]
    for day, expected_count in (("2027-03-28", 5), ("2027-10-31", 7)):
        (opening,) = iv.opening_intervals(
            sunday, start=at(day, "00:00"), end=at(day, "23:00"), tz=PARIS
        )
        starts = iv.slot_starts(
            opening,
            duration=minutes(60),
            step=minutes(60),
            forbidden=[],
            earliest=opening.start,
            latest=opening.end,
        )
        utc = [s.astimezone(UTC) for s in starts]
        assert len(utc) == len(set(utc)) == expected_count, day
        assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(utc))
        assert utc[-1] + dt.timedelta(hours=1) == opening.end.astimezone(UTC)


def test_opening_is_clipped_to_the_window_and_skips_closed_days():
    rules = [rule(day, "09:00", "17:00") for day in range(5)]
    opening = iv.opening_intervals(
        rules,
        start=at("2027-03-01", "10:30"),
        end=at("2027-03-03", "12:00"),
        tz=PARIS,
        closed_days=frozenset({dt.date(2027, 3, 2)}),
    )
    assert spans(opening) == [
        ("2027-03-01 10:30", "2027-03-01 17:00"),
        ("2027-03-03 09:00", "2027-03-03 12:00"),
    ]


def test_validity_dates_are_inclusive():
    rules = [
        rule(
            1,
            "09:00",
            "12:00",
            valid_from=dt.date(2027, 3, 9),
            valid_until=dt.date(2027, 3, 16),
        )
    ]
    opening = iv.opening_intervals(
        rules, start=at("2027-03-01", "00:00"), end=at("2027-03-31", "00:00"), tz=PARIS
    )
    assert [local(i.start)[:10] for i in opening] == ["2027-03-09", "2027-03-16"]


def test_rules_of_a_day_at_the_same_place_merge_and_at_different_places_do_not():
    rules = [
        rule(0, "09:00", "12:00", place_id=1),
        rule(0, "12:00", "13:00", place_id=1),
        rule(0, "14:00", "17:00", place_id=2),
    ]
    opening = iv.opening_intervals(
        rules, start=at("2027-03-01", "00:00"), end=at("2027-03-02", "00:00"), tz=PARIS
    )
    assert [(local(i.start)[11:], local(i.end)[11:], i.place_id) for i in opening] == [
        ("09:00", "13:00", 1),
        ("14:00", "17:00", 2),
    ]


# --- weeks of the month -----------------------------------------------------------------------


def test_first_and_third_tuesday():
    rules = [rule(1, "09:00", "12:00", weeks={1, 3})]
    opening = iv.opening_intervals(
        rules, start=at("2027-03-01", "00:00"), end=at("2027-05-01", "00:00"), tz=PARIS
    )
    # Tuesdays of March 2027: 2, 9, 16, 23, 30; of April: 6, 13, 20, 27.
    assert [local(i.start)[:10] for i in opening] == [
        "2027-03-02",
        "2027-03-16",
        "2027-04-06",
        "2027-04-20",
    ]


def test_last_tuesday_and_fifth_tuesday():
    last = iv.opening_intervals(
        [rule(1, "09:00", "12:00", weeks={-1})],
        start=at("2027-03-01", "00:00"),
        end=at("2027-05-01", "00:00"),
        tz=PARIS,
    )
    assert [local(i.start)[:10] for i in last] == ["2027-03-30", "2027-04-27"]
    fifth = iv.opening_intervals(
        [rule(1, "09:00", "12:00", weeks={5})],
        start=at("2027-03-01", "00:00"),
        end=at("2027-05-01", "00:00"),
        tz=PARIS,
    )
    assert [local(i.start)[:10] for i in fifth] == ["2027-03-30"]


def test_week_of_month_matches():
    assert iv.week_of_month_matches(dt.date(2027, 3, 2), frozenset())
    assert iv.week_of_month_matches(dt.date(2027, 3, 7), frozenset({1}))
    assert not iv.week_of_month_matches(dt.date(2027, 3, 8), frozenset({1}))
    assert iv.week_of_month_matches(dt.date(2027, 3, 8), frozenset({2}))
    assert iv.week_of_month_matches(dt.date(2027, 2, 22), frozenset({-1}))  # 22..28 Feb
    assert not iv.week_of_month_matches(dt.date(2027, 2, 21), frozenset({-1}))


# --- subtract ---------------------------------------------------------------------------------


def test_subtract_cuts_holes_and_keeps_the_place():
    opening = [
        iv.Interval(at("2027-03-01", "09:00"), at("2027-03-01", "12:00"), 7),
        iv.Interval(at("2027-03-01", "14:00"), at("2027-03-01", "17:00"), 8),
    ]
    cuts = [
        (at("2027-03-01", "15:00"), at("2027-03-01", "20:00")),
        (at("2027-03-01", "10:00"), at("2027-03-01", "10:30")),
        (at("2027-03-01", "11:00"), at("2027-03-01", "11:15")),
        (at("2027-03-01", "06:00"), at("2027-03-01", "09:00")),  # touches only
    ]
    result = iv.subtract(opening, cuts)
    assert [(local(i.start)[11:], local(i.end)[11:], i.place_id) for i in result] == [
        ("09:00", "10:00", 7),
        ("10:30", "11:00", 7),
        ("11:15", "12:00", 7),
        ("14:00", "15:00", 8),
    ]


def test_subtract_everything_and_nothing():
    opening = [iv.Interval(at("2027-03-01", "09:00"), at("2027-03-01", "12:00"), None)]
    assert iv.subtract(opening, []) == opening
    assert iv.subtract(opening, [(at("2027-03-01", "00:00"), at("2027-03-02", "00:00"))]) == []


def test_subtract_keeps_the_slot_grid_of_the_opening():
    # A closure ending at 10:45 must not shift the slots of the rest of the morning.
    opening = [iv.Interval(at("2027-03-01", "09:00"), at("2027-03-01", "12:00"), None)]
    (_before, after) = iv.subtract(
        opening, [(at("2027-03-01", "10:00"), at("2027-03-01", "10:45"))]
    )
    starts = iv.slot_starts(
        after,
        duration=minutes(30),
        step=minutes(30),
        forbidden=[],
        earliest=after.start,
        latest=after.end,
    )
    assert [local(s)[11:] for s in starts] == ["11:00", "11:30"]


# --- saturated_intervals ----------------------------------------------------------------------


def alloc(start, end, units=1):
    return (at("2027-03-01", start), at("2027-03-01", end), units)


def hours(pairs):
    return [(local(a)[11:], local(b)[11:]) for a, b in pairs]


def test_exclusive_resource_is_saturated_wherever_it_is_held():
    allocations = [alloc("09:00", "10:00"), alloc("10:00", "11:00"), alloc("14:00", "15:00")]
    saturated = iv.saturated_intervals(allocations, capacity=1, units=1)
    # Back-to-back allocations give adjacent (or merged) intervals, never a gap at 10:00.
    covered = hours(saturated)
    assert covered in (
        [("09:00", "11:00"), ("14:00", "15:00")],
        [("09:00", "10:00"), ("10:00", "11:00"), ("14:00", "15:00")],
    )


def test_capacity_n_saturates_only_where_usage_reaches_it():
    allocations = [alloc("09:00", "12:00"), alloc("10:00", "11:00"), alloc("10:30", "11:30")]
    assert hours(iv.saturated_intervals(allocations, capacity=3, units=1)) == [("10:30", "11:00")]
    assert hours(iv.saturated_intervals(allocations, capacity=3, units=2)) == [("10:00", "11:30")]
    assert hours(iv.saturated_intervals(allocations, capacity=3, units=3)) == [("09:00", "12:00")]


def test_units_count_as_seats():
    allocations = [alloc("09:00", "10:00", 2), alloc("09:30", "10:30", 1)]
    assert hours(iv.saturated_intervals(allocations, capacity=3, units=1)) == [("09:30", "10:00")]


def test_more_units_than_capacity_saturate_everything():
    assert iv.saturated_intervals([], capacity=2, units=3) != []
    saturated = iv.saturated_intervals([alloc("09:00", "10:00")], capacity=2, units=3)
    moment = at("2027-03-01", "15:00")
    assert any(lo <= moment < hi for lo, hi in saturated)


def test_nothing_saturated_without_allocations():
    assert iv.saturated_intervals([], capacity=1, units=1) == []


# --- forbidden_starts and slot_starts ---------------------------------------------------------


def test_forbidden_starts_widen_by_duration_and_buffers_and_merge():
    saturated = [
        (at("2027-03-01", "10:00"), at("2027-03-01", "11:00")),
        (at("2027-03-01", "11:30"), at("2027-03-01", "12:00")),
    ]
    forbidden = iv.forbidden_starts(
        saturated, duration=minutes(30), buffer_before=minutes(10), buffer_after=minutes(5)
    )
    # (10:00 - 30 - 5, 11:00 + 10) and (11:30 - 35, 12:00 + 10) overlap: merged.
    assert hours(forbidden) == [("09:25", "12:10")]


def test_forbidden_ranges_that_only_touch_stay_apart():
    saturated = [
        (at("2027-03-01", "10:00"), at("2027-03-01", "10:30")),
        (at("2027-03-01", "11:00"), at("2027-03-01", "11:30")),
    ]
    forbidden = iv.forbidden_starts(
        saturated, duration=minutes(30), buffer_before=minutes(0), buffer_after=minutes(0)
    )
    assert hours(forbidden) == [("09:30", "10:30"), ("10:30", "11:30")]


def morning(**kwargs):
    opening = iv.Interval(at("2027-03-01", "09:00"), at("2027-03-01", "12:00"), None)
    options = {
        "duration": minutes(30),
        "step": minutes(30),
        "forbidden": [],
        "earliest": at("2027-03-01", "00:00"),
        "latest": at("2027-03-02", "00:00"),
    }
    options.update(kwargs)
    return [local(s)[11:] for s in iv.slot_starts(opening, **options)]


def test_slots_are_aligned_on_the_opening_and_fit_in_it():
    assert morning() == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert morning(duration=minutes(60)) == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert morning(step=minutes(45), duration=minutes(45)) == ["09:00", "09:45", "10:30", "11:15"]


def test_earliest_rounds_up_to_the_grid_and_latest_is_inclusive():
    assert morning(earliest=at("2027-03-01", "09:10")) == [
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]
    assert morning(earliest=at("2027-03-01", "10:00"), latest=at("2027-03-01", "11:00")) == [
        "10:00",
        "10:30",
        "11:00",
    ]


def test_a_slot_may_start_exactly_on_a_forbidden_bound():
    # Someone holds 10:00-10:30: a 30-minute slot may end at 10:00 or start at 10:30.
    forbidden = iv.forbidden_starts(
        [(at("2027-03-01", "10:00"), at("2027-03-01", "10:30"))],
        duration=minutes(30),
        buffer_before=minutes(0),
        buffer_after=minutes(0),
    )
    assert morning(forbidden=forbidden) == ["09:00", "09:30", "10:30", "11:00", "11:30"]


def test_after_a_forbidden_range_slots_come_back_on_the_grid():
    # Held 10:00-10:20 plus a 15-minute buffer after (so 10:00-10:35 blocked).
    forbidden = iv.forbidden_starts(
        [(at("2027-03-01", "10:00"), at("2027-03-01", "10:35"))],
        duration=minutes(30),
        buffer_before=minutes(0),
        buffer_after=minutes(15),
    )
    # Starts in (09:15, 10:35) are forbidden; next on the grid is 11:00.
    assert morning(forbidden=forbidden) == ["09:00", "11:00", "11:30"]


def test_slot_starts_with_utc_forbidden_ranges_and_local_opening():
    # The database returns UTC datetimes; openings are in local time: they must compare.
    forbidden = [(at("2027-03-01", "09:30").astimezone(UTC), at("2027-03-01", "11:00"))]
    assert morning(forbidden=forbidden) == ["09:00", "09:30", "11:00", "11:30"]
