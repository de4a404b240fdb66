"""Free slots of resources, computed from the database in a fixed number of queries.

Three bulk queries whatever the number of resources or days (rules, closures, active
allocations), then interval arithmetic in memory (booking.intervals). Used by the availability
selector, the nearest-slot search and the booking services, which re-check a requested slot
with the very same computation under a lock."""

from __future__ import annotations

import datetime as dt
import functools
import heapq
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import intervals as iv
from .availability_sql import closures_and_allocations
from .models import AvailabilityRule, Resource, parse_weeks_of_month


@dataclass(frozen=True, order=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    resource_id: int
    place_id: int | None


@functools.lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[dt.date]:
    """French public holidays of a year (metropolitan France; a département with local ones,
    e.g. Alsace-Moselle, sets CYBERCANTAL_HOLIDAYS_SUBDIVISION)."""
    subdivision = settings.CYBERCANTAL_HOLIDAYS_SUBDIVISION
    return frozenset(holidays.France(years=year, subdiv=subdivision).keys())


def _holidays_between(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> frozenset[dt.date]:
    days: set[dt.date] = set()
    for year in range(start.astimezone(tz).year, end.astimezone(tz).year + 1):
        days |= public_holidays(year)
    return frozenset(days)


@dataclass
class AvailabilityData:
    """What the three bulk queries returned, grouped per resource."""

    rules: dict[int, list[iv.RuleSpec]]
    closures_global: list[tuple[dt.datetime, dt.datetime]]
    closures_by_resource: dict[int, list[tuple[dt.datetime, dt.datetime]]]
    closures_by_place: dict[int, list[tuple[dt.datetime, dt.datetime]]]
    allocations: dict[int, list[tuple[dt.datetime, dt.datetime, int]]]

    @classmethod
    def rules_only(cls, rules: dict[int, list[iv.RuleSpec]]) -> AvailabilityData:
        """Opening hours alone: no closure, no booking."""
        return cls(rules, [], {}, {}, {})


def load_rules(
    resources: Sequence[Resource],
    since: dt.date,
    until: dt.date | None = None,
) -> dict[int, list[iv.RuleSpec]]:
    """The weekly rules of the resources valid at some point between the two days (a day of
    margin each side: local and UTC dates differ), one query of plain tuples (building model
    instances cost more than all the slot arithmetic). A rule naming no place is at the
    resource's usual place."""
    default_place = {r.pk: r.place_id for r in resources}
    rules: dict[int, list[iv.RuleSpec]] = defaultdict(list)
    valid = Q(valid_until__isnull=True) | Q(valid_until__gte=since - dt.timedelta(days=1))
    if until is not None:
        valid &= Q(valid_from__isnull=True) | Q(valid_from__lte=until + dt.timedelta(days=1))
    rows = (
        AvailabilityRule.objects.filter(resource_id__in=list(default_place))
        .filter(valid)
        .order_by()
        .values_list(
            "resource_id",
            "weekday",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
            "weeks_of_month",
            "place_id",
        )
    )
    for resource_id, weekday, opens, closes, valid_from, valid_until, weeks, place_id in rows:
        rules[resource_id].append(
            iv.RuleSpec(
                weekday,
                opens,
                closes,
                valid_from,
                valid_until,
                _weeks(weeks),
                place_id or default_place[resource_id],
            )
        )
    return rules


@functools.lru_cache(maxsize=256)
def _weeks(value: str) -> frozenset[int]:
    return parse_weeks_of_month(value)


def load_availability_data(
    resources: Sequence[Resource],
    start: dt.datetime,
    end: dt.datetime,
    *,
    exclude_booking_id: int | None = None,
    rules: dict[int, list[iv.RuleSpec]] | None = None,
) -> AvailabilityData:
    """Rules (unless given: the search keeps them in memory, the services read them before
    taking a lock), then closures and active allocations of the resources around
    [start, end) in one statement (booking.availability_sql)."""
    ids = [r.pk for r in resources]
    if rules is None:
        rules = load_rules(resources, start.date(), end.date())
    place_ids = {r.place_id for r in resources if r.place_id}
    place_ids.update(
        spec.place_id for resource_id in ids for spec in rules.get(resource_id, ()) if spec.place_id
    )
    # Allocations that can touch a slot of the window: a slot's blocked interval extends by at
    # most the buffers and the longest duration beyond the window.
    margin = dt.timedelta(
        minutes=max(
            (
                r.buffer_before_minutes + r.buffer_after_minutes + r.max_duration_minutes
                for r in resources
            ),
            default=0,
        )
    )
    closure_rows, allocation_rows = closures_and_allocations(
        resource_ids=ids,
        place_ids=sorted(place_ids),
        start=start,
        end=end,
        allocations_start=start - margin,
        allocations_end=end + margin,
        exclude_booking_id=exclude_booking_id,
    )
    closures_global: list = []
    closures_by_resource: dict[int, list] = defaultdict(list)
    closures_by_place: dict[int, list] = defaultdict(list)
    for closure in closure_rows:
        span = (closure.start, closure.end)
        if closure.resource_id:
            closures_by_resource[closure.resource_id].append(span)
        elif closure.place_id:
            closures_by_place[closure.place_id].append(span)
        else:
            closures_global.append(span)
    allocations: dict[int, list] = defaultdict(list)
    for allocation in allocation_rows:
        allocations[allocation.resource_id].append(
            (allocation.blocked_start, allocation.blocked_end, allocation.units)
        )
    return AvailabilityData(
        rules, closures_global, closures_by_resource, closures_by_place, allocations
    )


def open_intervals(
    resource: Resource, data: AvailabilityData, start: dt.datetime, end: dt.datetime
) -> list[iv.Interval]:
    """When and where the resource is open in [start, end): rules, minus public holidays (unless
    it opts out), minus closures of the resource, of the place of each interval, and global."""
    tz = ZoneInfo(settings.TIME_ZONE)
    closed_days = (
        _holidays_between(start, end, tz) if resource.observes_public_holidays else frozenset()
    )
    opening = iv.opening_intervals(
        data.rules.get(resource.pk, []), start=start, end=end, tz=tz, closed_days=closed_days
    )
    common_cuts = data.closures_global + data.closures_by_resource.get(resource.pk, [])
    result: list[iv.Interval] = []
    for interval in opening:
        cuts = common_cuts + data.closures_by_place.get(interval.place_id, [])
        result.extend(iv.subtract([interval], cuts))
    return result


def resource_slots(resource: Resource, data: AvailabilityData, **options) -> list[Slot]:
    """Free slots of one resource starting in [start, end), of `duration`, for `units` seats,
    honouring capacity, buffers, minimum notice and horizon (options: those of
    iter_resource_slots). None for an inactive resource, a duration it does not allow or more
    seats than it has: every slot returned can be booked."""
    return list(iter_resource_slots(resource, data, **options))


def iter_resource_slots(
    resource: Resource,
    data: AvailabilityData,
    *,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta,
    units: int = 1,
    now: dt.datetime,
    enforce_notice: bool = True,
) -> Iterator[Slot]:
    """resource_slots, one slot at a time in order of start: the search stops computing a
    resource's slots once it has enough of them."""
    if not resource.is_active or not 1 <= units <= resource.capacity:
        return
    if not duration_allowed(resource, duration):
        return
    earliest = max(
        start, now + dt.timedelta(minutes=resource.min_notice_minutes) if enforce_notice else start
    )
    latest = min(end, now + dt.timedelta(days=resource.horizon_days)) if enforce_notice else end
    if earliest >= end or latest < earliest:
        return
    # Slots are aligned on the opening time, so the opening intervals are computed from the
    # local midnight before the window (not clipped at its start), and a duration beyond its
    # end so that they contain the whole of the last slots.
    tz = ZoneInfo(settings.TIME_ZONE)
    day_start = dt.datetime.combine(start.astimezone(tz).date(), dt.time(), tzinfo=tz)
    opening = open_intervals(resource, data, day_start, end + duration)
    saturated = iv.saturated_intervals(
        data.allocations.get(resource.pk, []), capacity=resource.capacity, units=units
    )
    forbidden = iv.forbidden_starts(
        saturated,
        duration=duration,
        buffer_before=dt.timedelta(minutes=resource.buffer_before_minutes),
        buffer_after=dt.timedelta(minutes=resource.buffer_after_minutes),
    )
    step = dt.timedelta(minutes=resource.slot_minutes)

    def starts_in(interval: iv.Interval) -> Iterator[tuple[dt.datetime, int | None]]:
        for slot_start in iv.slot_starts(
            interval,
            duration=duration,
            step=step,
            forbidden=forbidden,
            earliest=earliest,
            latest=latest,
        ):
            yield slot_start, interval.place_id

    for group in iv.overlapping_groups(opening):
        # Two rules of one resource at two places at once (a data mistake, but possible):
        # their slots are merged, so that they still come in order of start.
        starts = heapq.merge(*map(starts_in, group)) if len(group) > 1 else starts_in(group[0])
        for slot_start, place_id in starts:
            if slot_start >= end:
                break
            # Computed in UTC (see booking.intervals), shown in local time.
            yield Slot(
                slot_start.astimezone(tz),
                (slot_start + duration).astimezone(tz),
                resource.pk,
                place_id,
            )


def default_duration(resource: Resource) -> dt.timedelta:
    return dt.timedelta(minutes=resource.min_duration_minutes)


def duration_allowed(resource: Resource, duration: dt.timedelta) -> bool:
    minutes = duration.total_seconds() / 60
    return (
        resource.min_duration_minutes <= minutes <= resource.max_duration_minutes
        and not minutes % resource.slot_minutes
    )


def duration_error(resource: Resource, duration: dt.timedelta) -> str | None:
    """Why a duration is not allowed for this resource, in French; None when it is."""
    from django.utils.translation import gettext as _

    if duration_allowed(resource, duration):
        return None
    minutes = duration.total_seconds() / 60
    if minutes < resource.min_duration_minutes or minutes > resource.max_duration_minutes:
        return _("La durée doit être comprise entre %(min)d et %(max)d minutes.") % {
            "min": resource.min_duration_minutes,
            "max": resource.max_duration_minutes,
        }
    if minutes % resource.slot_minutes:
        return _("La durée doit être un multiple de %(step)d minutes.") % {
            "step": resource.slot_minutes
        }
    return None


def now() -> dt.datetime:
    return timezone.now()
