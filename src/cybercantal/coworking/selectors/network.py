"""Reads of the network's public pages, the API and the member pages: the tiers-lieux the
visitor may see, their spaces, offers, and how many seats are free on a day; a member's ledger.

Live availability is computed with the booking engine in a fixed number of queries whatever
the number of places: every space of every place is loaded at once
(booking.availability.load_availability_data: rules, then closures and allocations in one
statement), then for each space and day, in memory, the seats free for the whole of the day's
opening hours: capacity minus the peak of the bookings during them. A space with no opening
that day is closed ("fermé")."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cybercantal.booking import availability as av
from cybercantal.booking.models import Resource
from cybercantal.booking.selectors import resource_list
from cybercantal.core.geo import great_circle_km, road_km
from cybercantal.territory.models import Commune, Place
from cybercantal.territory.selectors import place_visibility_filter

from ..models import CreditMovement, Offer, Pass, TiersLieu

# What a tiers-lieu rents out: its spaces. People (a mediator hosted there), cabins and
# equipment are booked through their own pages.
SPACE_KINDS = (
    Resource.Kind.DESK_POOL,
    Resource.Kind.DESK,
    Resource.Kind.OFFICE,
    Resource.Kind.ROOM,
)
DESK_KINDS = (Resource.Kind.DESK_POOL, Resource.Kind.DESK)


@dataclass(frozen=True)
class DayFree:
    """Seats of one space free on one day. `is_open` false: closed all day (`free` is None).
    `free` counts seats free for the whole of the day's opening hours (or, today, of what is
    left of them); `is_over`: today, the opening hours are past."""

    day: dt.date
    is_open: bool
    free: int | None
    capacity: int
    is_over: bool = False


@dataclass
class PlaceAvailability:
    """The desks of a place on a day: the sum over its desk pools (None when all closed)."""

    day: dt.date
    is_open: bool
    free: int | None
    capacity: int
    is_over: bool = False


@dataclass
class NetworkEntry:
    tiers_lieu: TiersLieu
    distance_km: float | None = None
    road_km: float | None = None
    days: list[PlaceAvailability] | None = None


def tiers_lieu_list(*, actor) -> QuerySet[TiersLieu]:
    """The network's tiers-lieux at places the actor may see, with their place, commune,
    operator and opening periods; by commune, then name."""
    return (
        TiersLieu.objects.filter(
            is_in_network=True,
            place_id__in=Place.objects.filter(place_visibility_filter(actor)).values("pk"),
        )
        .select_related("place__commune", "place__organisation")
        # A commune's outline is a large polygon: never needed here, costly to decode.
        .defer("place__commune__outline")
        .prefetch_related("place__opening_periods")
        .order_by("place__commune__name", "place__name")
    )


def tiers_lieu_get(*, actor, tiers_lieu_id: int) -> TiersLieu | None:
    return tiers_lieu_list(actor=actor).filter(pk=tiers_lieu_id).first()


def network_entries(
    *, actor, near: Commune | None = None, radius_km: float | None = None
) -> list[NetworkEntry]:
    """The tiers-lieux, all of them or those within `radius_km` of `near` (great-circle, with
    the road estimate of core.geo), nearest first."""
    entries = [NetworkEntry(t) for t in tiers_lieu_list(actor=actor)]
    if near is None:
        return entries
    kept = []
    for entry in entries:
        place = entry.tiers_lieu.place
        distance = great_circle_km(near.latitude, near.longitude, place.latitude, place.longitude)
        if radius_km is None or distance <= radius_km:
            entry.distance_km = round(distance, 1)
            entry.road_km = round(
                road_km(near.latitude, near.longitude, place.latitude, place.longitude), 1
            )
            kept.append(entry)
    kept.sort(key=lambda e: (e.distance_km, e.tiers_lieu.place.name))
    return kept


def space_list(*, actor, places: Iterable[Place], kinds: Sequence[str] = SPACE_KINDS) -> list:
    """The active spaces (booking resources) at these places that the actor may see, one
    query, by name."""
    return list(
        resource_list(actor=actor)
        .filter(place_id__in=[p.pk for p in places], kind__in=kinds)
        .select_related(None)
        .order_by("name")
    )


def offer_list(*, tiers_lieu: TiersLieu) -> QuerySet[Offer]:
    """What is on sale at this place: its own offers, then the network's (valid everywhere)."""
    return (
        Offer.objects.filter(Q(tiers_lieu=tiers_lieu) | Q(tiers_lieu__isnull=True), is_active=True)
        .select_related("funder", "operator")
        .order_by(F("tiers_lieu_id").asc(nulls_last=True), "price_cents", "label")
    )


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def peak_usage(
    allocations: Iterable[tuple[dt.datetime, dt.datetime, int]],
    start: dt.datetime,
    end: dt.datetime,
) -> int:
    """The most seats in use at any instant of [start, end): the usage is highest at the
    window's start or at the start of an allocation inside it."""
    inside = [(s, e, u) for s, e, u in allocations if s < end and e > start]
    instants = {start} | {s for s, _, _ in inside if s > start}
    return max((sum(u for s, e, u in inside if s <= t < e) for t in instants), default=0)


def space_free_days(
    spaces: Sequence[Resource], days: Sequence[dt.date], *, now: dt.datetime | None = None
) -> dict[tuple[int, dt.date], DayFree]:
    """For each space and day, the seats free for the whole of its opening hours that day.
    Two queries whatever the number of spaces and days (rules; closures and allocations)."""
    if not spaces or not days:
        return {}
    now = now or timezone.now()
    window_start, _ = _day_bounds(min(days))
    _, window_end = _day_bounds(max(days))
    data = av.load_availability_data(spaces, window_start, window_end)
    result = {}
    for space in spaces:
        allocations = data.allocations.get(space.pk, [])
        for day in days:
            day_start, day_end = _day_bounds(day)
            opening = av.open_intervals(space, data, day_start, day_end)
            if not opening:
                result[space.pk, day] = DayFree(day, False, None, space.capacity)
                continue
            # Today, what is over no longer counts: a morning booking leaves the afternoon.
            left = [i for i in opening if i.end > now]
            if not left:
                result[space.pk, day] = DayFree(day, True, 0, space.capacity, is_over=True)
                continue
            peak = max(peak_usage(allocations, max(i.start, now), i.end) for i in left)
            result[space.pk, day] = DayFree(
                day, True, max(0, space.capacity - peak), space.capacity
            )
    return result


def place_free_days(
    spaces: Sequence[Resource], free: dict[tuple[int, dt.date], DayFree], days: Sequence[dt.date]
) -> dict[int, list[PlaceAvailability]]:
    """Per place id, the free desks of its desk pools on each day (summed)."""
    by_place: dict[int, list[Resource]] = defaultdict(list)
    for space in spaces:
        if space.kind in DESK_KINDS:
            by_place[space.place_id].append(space)
    result = {}
    for place_id, pools in by_place.items():
        result[place_id] = []
        for day in days:
            opened = [free[p.pk, day] for p in pools if free[p.pk, day].is_open]
            current = [f for f in opened if not f.is_over]
            result[place_id].append(
                PlaceAvailability(
                    day=day,
                    is_open=bool(opened),
                    free=sum(f.free for f in current) if opened else None,
                    capacity=sum(p.capacity for p in pools),
                    is_over=bool(opened) and not current,
                )
            )
    return result


def network_with_availability(
    *,
    actor,
    days: Sequence[dt.date],
    near: Commune | None = None,
    radius_km: float | None = None,
    now: dt.datetime | None = None,
) -> list[NetworkEntry]:
    """network_entries, each with its free desks on `days`. Five queries at most whatever the
    number of places (tiers-lieux, opening periods, desk pools, rules, closures and
    allocations), plus what reading the actor's roles costs."""
    entries = network_entries(actor=actor, near=near, radius_km=radius_km)
    pools = space_list(actor=actor, places=[e.tiers_lieu.place for e in entries], kinds=DESK_KINDS)
    per_place = place_free_days(pools, space_free_days(pools, days, now=now), days)
    for entry in entries:
        entry.days = per_place.get(entry.tiers_lieu.place_id)
    return entries


# --- Booking a desk: the periods of each day --------------------------------------------------

# A booking up to 4 h 30 costs a half-day (services.credits.HALF_DAY_MAX).
HALF_DAY = dt.timedelta(hours=4, minutes=30)
FULL_DAY, MORNING, AFTERNOON = "journee", "matin", "apres-midi"


@dataclass(frozen=True)
class Period:
    """A bookable period of a day at a space: the whole day, the morning or the afternoon,
    with the seats free for all of it."""

    key: str
    start: dt.datetime
    end: dt.datetime
    free: int


@dataclass
class CalendarDay:
    day: dt.date
    is_open: bool
    periods: list[Period]

    @property
    def free(self) -> int:
        return max((p.free for p in self.periods), default=0)


def _grid(moment: dt.datetime, anchor: dt.datetime, step: dt.timedelta, *, up: bool):
    """`moment` moved onto the slot grid (anchor + k × step), up or down."""
    steps, rest = divmod(moment - anchor, step)
    return anchor + (steps + (1 if up and rest else 0)) * step


def _candidate_periods(
    space: Resource, opening: list
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    step = dt.timedelta(minutes=space.slot_minutes)
    longest = dt.timedelta(minutes=space.max_duration_minutes)
    half = min(_grid(HALF_DAY, dt.timedelta(0), step, up=False), longest)
    first, last = opening[0], opening[-1]
    anchor_first, anchor_last = first.anchor or first.start, last.anchor or last.start
    start = _grid(first.start, anchor_first, step, up=True)
    if len(opening) == 1 and first.end - start <= half:
        # Open for half a day or less: one period, named by when it starts.
        key = MORNING if timezone.localtime(start).hour < 12 else AFTERNOON
        return [(key, start, _grid(first.end, start, step, up=False))]
    periods = []
    if len(opening) == 1:
        periods.append(
            (FULL_DAY, start, _grid(min(first.end, start + longest), start, step, up=False))
        )
    periods.append((MORNING, start, _grid(min(first.end, start + half), start, step, up=False)))
    afternoon = _grid(max(last.start, last.end - half), anchor_last, step, up=True)
    periods.append((AFTERNOON, afternoon, _grid(last.end, afternoon, step, up=False)))
    return periods


def space_calendar(
    space: Resource, days: Sequence[dt.date], *, now: dt.datetime | None = None
) -> list[CalendarDay]:
    """Each day's bookable periods at `space` (whole day when its opening hours are in one
    piece, morning, afternoon), those the booking engine would accept (duration, notice,
    horizon), each with its free seats. Two queries for all the days."""
    now = now or timezone.now()
    window_start, _ = _day_bounds(min(days))
    _, window_end = _day_bounds(max(days))
    data = av.load_availability_data([space], window_start, window_end)
    allocations = data.allocations.get(space.pk, [])
    earliest = now + dt.timedelta(minutes=space.min_notice_minutes)
    latest = now + dt.timedelta(days=space.horizon_days)
    calendar = []
    for day in days:
        day_start, day_end = _day_bounds(day)
        opening = av.open_intervals(space, data, day_start, day_end)
        periods = []
        for key, start, end in _candidate_periods(space, opening) if opening else []:
            if end <= start or not av.duration_allowed(space, end - start):
                continue
            if not earliest <= start <= latest:
                continue
            free = max(0, space.capacity - peak_usage(allocations, start, end))
            periods.append(Period(key, timezone.localtime(start), timezone.localtime(end), free))
        calendar.append(CalendarDay(day, bool(opening), periods))
    return calendar


# --- Members ----------------------------------------------------------------------------------


def pass_ledger(*, actor, passes: Sequence[Pass]) -> dict[int, list[CreditMovement]]:
    """The ledger of each of these passes, oldest first, for the member themself only (the
    passes come from selectors.member_passes, already scoped): one query."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {}
    ids = [p.pk for p in passes if p.member_id == actor.pk]
    ledger: dict[int, list[CreditMovement]] = defaultdict(list)
    for movement in CreditMovement.objects.filter(pass_account_id__in=ids).order_by("at", "id"):
        ledger[movement.pass_account_id].append(movement)
    return ledger
