"""Weekly opening periods of a place: merged, and written in the OpenStreetMap opening_hours
syntax that Place.opening_hours keeps (also the format of the national schema of digital
mediation places). Weekday 0 is Monday, as in OpeningPeriod."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import NamedTuple

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


class Period(NamedTuple):
    weekday: int
    opens: time
    closes: time


def merge_periods(periods: Iterable[tuple[int, time, time]]) -> list[Period]:
    """One period per stretch of time: overlapping or touching periods of a weekday merge
    (two volunteers 9:00–12:00 and 11:00–14:00 keep the place open 9:00–14:00)."""
    merged: list[Period] = []
    for weekday, opens, closes in sorted(periods):
        last = merged[-1] if merged else None
        if last and last.weekday == weekday and opens <= last.closes:
            merged[-1] = Period(weekday, last.opens, max(last.closes, closes))
        else:
            merged.append(Period(weekday, opens, closes))
    return merged


def osm_from_periods(periods: Iterable[tuple[int, time, time]]) -> str:
    """ "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00": consecutive weekdays with the same
    intervals share a rule; "" when closed all week."""
    by_day: dict[int, tuple[tuple[time, time], ...]] = {}
    for period in merge_periods(periods):
        by_day[period.weekday] = (*by_day.get(period.weekday, ()), (period.opens, period.closes))
    rules: list[tuple[list[int], tuple[tuple[time, time], ...]]] = []
    for weekday in sorted(by_day):
        intervals = by_day[weekday]
        if rules and rules[-1][1] == intervals and rules[-1][0][-1] == weekday - 1:
            rules[-1][0].append(weekday)
        else:
            rules.append(([weekday], intervals))
    return "; ".join(f"{_days(days)} {_intervals(intervals)}" for days, intervals in rules)


def _days(days: list[int]) -> str:
    first, last = OSM_DAYS[days[0]], OSM_DAYS[days[-1]]
    if len(days) == 1:
        return first
    return f"{first},{last}" if len(days) == 2 else f"{first}-{last}"


def _intervals(intervals: tuple[tuple[time, time], ...]) -> str:
    return ",".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in intervals)
