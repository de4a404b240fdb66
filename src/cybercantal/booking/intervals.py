"""Interval arithmetic behind availability. Pure functions on aware datetimes, no database.

Half-open intervals [start, end). Everything here is linear or n·log n in the number of
intervals, so that one request can compute the free slots of hundreds of resources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Interval:
    start: dt.datetime
    end: dt.datetime
    place_id: int | None = None


@dataclass(frozen=True)
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
    day, so opening hours stay right across daylight-saving changes."""
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
                opens = dt.datetime.combine(day, rule.start_time, tzinfo=tz)
                closes = dt.datetime.combine(day, rule.end_time, tzinfo=tz)
                opens, closes = max(opens, start), min(closes, end)
                if opens < closes:
                    result.append(Interval(opens, closes, rule.place_id))
        day += dt.timedelta(days=1)
    result.sort()
    return _merge_same_place(result)


def _merge_same_place(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in intervals:
        if merged and merged[-1].place_id == interval.place_id and interval.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, interval.end), last.place_id)
        else:
            merged.append(interval)
    return merged


def subtract(
    intervals: Sequence[Interval], removed: Iterable[tuple[dt.datetime, dt.datetime]]
) -> list[Interval]:
    """`intervals` minus the union of `removed` (both sorted or not); keeps each place."""
    cuts = sorted(removed)
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
                    next_pieces.append(Interval(piece.start, cut_start, piece.place_id))
                if cut_end < piece.end:
                    next_pieces.append(Interval(cut_end, piece.end, piece.place_id))
            pieces = next_pieces
        result.extend(pieces)
    return result


def saturated_intervals(
    allocations: Iterable[tuple[dt.datetime, dt.datetime, int]], *, capacity: int, units: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Where adding `units` to the existing allocations (blocked start, end, units) would exceed
    `capacity`: the intervals where usage > capacity - units. A sweep over the change points."""
    threshold = capacity - units
    events: list[tuple[dt.datetime, int]] = []
    for start, end, used in allocations:
        events.append((start, used))
        events.append((end, -used))
    if not events:
        return (
            []
            if threshold >= 0
            else [(dt.datetime.min.replace(tzinfo=dt.UTC), dt.datetime.max.replace(tzinfo=dt.UTC))]
        )
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
    """Slot starts s in an opening interval, aligned on its start every `step`, such that
    [s, s + duration) fits in the opening, earliest <= s <= latest, and s lies in no
    `forbidden` open range (start, end) — sorted and non-overlapping."""
    starts: list[dt.datetime] = []
    s = opening.start
    if earliest > s:
        steps = -(-(earliest - s) // step)  # ceiling division on timedeltas
        s = s + steps * step
    i = 0
    while s + duration <= opening.end and s <= latest:
        while i < len(forbidden) and forbidden[i][1] <= s:
            i += 1
        if i < len(forbidden) and forbidden[i][0] < s:
            # Inside a forbidden range: jump to its end, re-aligned on the step.
            steps = -(-(forbidden[i][1] - opening.start) // step)
            s = opening.start + steps * step
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
