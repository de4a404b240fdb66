"""Weekly opening periods merged and written in the OpenStreetMap opening_hours syntax."""

from datetime import time

from cybercantal.territory.opening_hours import Period, merge_periods, osm_from_periods


def t(value: str) -> time:
    return time.fromisoformat(value)


def test_overlapping_and_touching_periods_of_a_day_merge():
    periods = [
        (0, t("11:00"), t("14:00")),
        (0, t("09:00"), t("12:00")),
        (0, t("14:00"), t("16:00")),  # touches the one before
        (0, t("17:00"), t("19:00")),
    ]
    assert merge_periods(periods) == [
        Period(0, t("09:00"), t("16:00")),
        Period(0, t("17:00"), t("19:00")),
    ]


def test_a_period_inside_another_does_not_shorten_it():
    assert merge_periods([(2, t("08:00"), t("18:00")), (2, t("09:00"), t("10:00"))]) == [
        Period(2, t("08:00"), t("18:00"))
    ]


def test_periods_of_different_days_never_merge():
    # Monday ends at 23:00, Tuesday opens at 08:00: two days, two periods, in weekday order.
    periods = [(1, t("08:00"), t("12:00")), (0, t("20:00"), t("23:00"))]
    assert merge_periods(periods) == [
        Period(0, t("20:00"), t("23:00")),
        Period(1, t("08:00"), t("12:00")),
    ]


def test_osm_groups_consecutive_days_with_the_same_hours():
    week = [(d, t("09:00"), t("12:00")) for d in range(5)] + [
        (d, t("14:00"), t("17:00")) for d in range(5)
    ]
    week.append((5, t("09:00"), t("12:00")))
    assert osm_from_periods(week) == "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00"


def test_osm_two_days_and_days_apart():
    same = (t("09:00"), t("12:00"))
    assert osm_from_periods([(0, *same), (1, *same)]) == "Mo,Tu 09:00-12:00"
    # Monday and Wednesday share their hours but not a run of days: two rules.
    assert osm_from_periods([(0, *same), (2, *same)]) == "Mo 09:00-12:00; We 09:00-12:00"
    assert osm_from_periods([(6, t("10:00"), t("12:30"))]) == "Su 10:00-12:30"


def test_osm_merges_before_writing_and_is_empty_when_closed():
    assert osm_from_periods([(3, t("09:00"), t("11:00")), (3, t("10:00"), t("12:00"))]) == (
        "Th 09:00-12:00"
    )
    assert osm_from_periods([]) == ""
