"""Interval arithmetic behind availability. Pure functions on aware datetimes, no database.

Half-open intervals [start, end). Everything here is linear or n·log n in the number of
intervals, so that one request can compute the free slots of hundreds of resources.

Arithmetic is done in UTC. Python adds a timedelta to an aware datetime on the wall clock and
compares two datetimes of the same zone by their wall time, so in local time "01:30 + 1 h"
lands on 02:30, an hour that does not exist on the night clocks go forward. Local time is used
only to place the weekly rules on each day; everything returned here is in UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
# "Always" for saturated intervals: far enough from datetime.min/max that widening them by
# durations and buffers (forbidden_starts) cannot overflow.
FAR_PAST = dt.datetime(10, 1, 1, tzinfo=UTC)
FAR_FUTURE = dt.datetime(9990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Interval:
    start: dt.datetime
    end: dt.datetime
    place_id: int | None = None
    # Where the slot grid starts: the opening time of the rule, even once the interval has been
    # clipped to a window or cut by a closure, so that slots stay "at opening, then every N
    # minutes" (None: the interval's own start).
    anchor: dt.datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What an availability rule says, detached from the ORM."""

    weekday: int
    start_time: dt.time
    end_time: dt.time
    valid_from: dt.date | None
    valid_until: dt.date | None
    weeks: frozenset[int]  # 1..5, -1 for the last occurrence in the month; empty = every week
    place_id: int | None


def week_of_month_matches(day: dt.date, weeks: frozenset[int]) -> bool:
    if not weeks:
        return True
    occurrence = (day.day - 1) // 7 + 1
    if occurrence in weeks:
        return True
    if -1 in weeks:
        next_week = day + dt.timedelta(days=7)
        return next_week.month != day.month
    return False


def opening_intervals(
    rules: Sequence[RuleSpec],
    *,
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
    closed_days: frozenset[dt.date] = frozenset(),
) -> list[Interval]:
    """The opening intervals that the weekly rules give between start and end, clipped to it,
    sorted, days in `closed_days` (public holidays) left out. Local times are converted per
    day, so opening hours stay right across daylight-saving changes; the intervals are
    returned in UTC."""
    if start >= end or not rules:
        return []
    by_weekday: dict[int, list[RuleSpec]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    result: list[Interval] = []
    day = start.astimezone(tz).date()
    last_day = end.astimezone(tz).date()
    while day <= last_day:
        if day not in closed_days:
            for rule in by_weekday.get(day.weekday(), ()):
                if rule.valid_from and day < rule.valid_from:
                    continue
                if rule.valid_until and day > rule.valid_until:
                    continue
                if not week_of_month_matches(day, rule.weeks):
                    continue
                opens = dt.datetime.combine(day, rule.start_time, tzinfo=tz).astimezone(UTC)
                closes = dt.datetime.combine(day, rule.end_time, tzinfo=tz).astimezone(UTC)
                clipped_opens = max(opens, start).astimezone(UTC)
                clipped_closes = min(closes, end).astimezone(UTC)
                if clipped_opens < clipped_closes:
                    result.append(Interval(clipped_opens, clipped_closes, rule.place_id, opens))
        day += dt.timedelta(days=1)
    result.sort()
    return _merge_same_place(result)


def _merge_same_place(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in intervals:
        if merged and merged[-1].place_id == interval.place_id and interval.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(
                last.start, max(last.end, interval.end), last.place_id, _anchor(last)
            )
        else:
            merged.append(interval)
    return merged


def overlapping_groups(intervals: Sequence[Interval]) -> Iterator[list[Interval]]:
    """Sorted intervals in runs that overlap one another (each run alone, almost always)."""
    group: list[Interval] = []
    group_end: dt.datetime | None = None
    for interval in intervals:
        if group and interval.start >= group_end:
            yield group
            group = []
        group_end = interval.end if not group else max(group_end, interval.end)
        group.append(interval)
    if group:
        yield group


def _anchor(interval: Interval) -> dt.datetime:
    return interval.anchor or interval.start


def subtract(
    intervals: Sequence[Interval], removed: Iterable[tuple[dt.datetime, dt.datetime]]
) -> list[Interval]:
    """`intervals` minus the union of `removed` (both sorted or not); keeps each place and
    each slot grid (a closure ending at 10:45 does not move the next slots to 10:45)."""
    cuts = sorted((lo.astimezone(UTC), hi.astimezone(UTC)) for lo, hi in removed)
    if not cuts:
        return list(intervals)
    result: list[Interval] = []
    for interval in intervals:
        pieces = [interval]
        for cut_start, cut_end in cuts:
            if cut_start >= interval.end:
                break
            if cut_end <= interval.start:
                continue
            next_pieces = []
            for piece in pieces:
                if cut_end <= piece.start or cut_start >= piece.end:
                    next_pieces.append(piece)
                    continue
                if piece.start < cut_start:
                    next_pieces.append(
                        Interval(piece.start, cut_start, piece.place_id, _anchor(piece))
                    )
                if cut_end < piece.end:
                    next_pieces.append(Interval(cut_end, piece.end, piece.place_id, _anchor(piece)))
            pieces = next_pieces
        result.extend(pieces)
    return result


def saturated_intervals(
    allocations: Iterable[tuple[dt.datetime, dt.datetime, int]], *, capacity: int, units: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Where adding `units` to the existing allocations (blocked start, end, units) would exceed
    `capacity`: the intervals where usage > capacity - units. A sweep over the change points."""
    threshold = capacity - units
    if threshold < 0:
        # More seats than the resource has: nowhere fits, whatever the allocations (the sweep
        # below only sees the instants where usage changes, never the empty stretches).
        return [(FAR_PAST, FAR_FUTURE)]
    events: list[tuple[dt.datetime, int]] = []
    for start, end, used in allocations:
        events.append((start, used))
        events.append((end, -used))
    if not events:
        return []
    events.sort(key=lambda e: (e[0], e[1]))  # ends (negative) before starts at the same instant
    result: list[tuple[dt.datetime, dt.datetime]] = []
    usage = 0
    saturated_since: dt.datetime | None = None
    for instant, delta in events:
        usage += delta
        if usage > threshold and saturated_since is None:
            saturated_since = instant
        elif usage <= threshold and saturated_since is not None:
            if instant > saturated_since:
                result.append((saturated_since, instant))
            saturated_since = None
    return result


def slot_starts(
    opening: Interval,
    *,
    duration: dt.timedelta,
    step: dt.timedelta,
    forbidden: Sequence[tuple[dt.datetime, dt.datetime]],
    earliest: dt.datetime,
    latest: dt.datetime,
) -> list[dt.datetime]:
    """Slot starts s in an opening interval, on its grid (the rule's opening time, then every
    `step`), such that [s, s + duration) fits in the opening, earliest <= s <= latest, and s
    lies in no `forbidden` open range (start, end) — sorted and non-overlapping. In UTC."""
    anchor = _anchor(opening).astimezone(UTC)
    opening_start, opening_end = opening.start.astimezone(UTC), opening.end.astimezone(UTC)
    latest = latest.astimezone(UTC)

    def on_grid_from(moment: dt.datetime) -> dt.datetime:
        # The first grid point at or after `moment` (ceiling division on timedeltas).
        return anchor + -(-(moment - anchor) // step) * step

    starts: list[dt.datetime] = []
    s = on_grid_from(max(opening_start, earliest.astimezone(UTC)))
    i = 0
    while s + duration <= opening_end and s <= latest:
        while i < len(forbidden) and forbidden[i][1] <= s:
            i += 1
        if i < len(forbidden) and forbidden[i][0] < s:
            # Inside a forbidden range: jump to its end, back on the grid.
            s = on_grid_from(forbidden[i][1].astimezone(UTC))
            continue
        starts.append(s)
        s += step
    return starts


def forbidden_starts(
    saturated: Sequence[tuple[dt.datetime, dt.datetime]],
    *,
    duration: dt.timedelta,
    buffer_before: dt.timedelta,
    buffer_after: dt.timedelta,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Open ranges of slot starts s whose blocked interval [s - before, s + duration + after)
    would meet a saturated interval f: f.start - duration - after < s < f.end + before.
    Returned merged and sorted; an s equal to a bound is allowed."""
    ranges = sorted(
        (f_start - duration - buffer_after, f_end + buffer_before) for f_start, f_end in saturated
    )
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for lo, hi in ranges:
        if merged and lo < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
