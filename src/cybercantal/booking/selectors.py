"""Reads of the booking engine, scoped to the actor."""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from cybercantal.core.geo import bounding_box, great_circle_km, road_km
from cybercantal.territory.models import Commune, Place
from cybercantal.territory.selectors import place_visibility_filter

from . import availability as av
from . import intervals as iv
from . import rules_cache
from .hooks import hide_from
from .models import AvailabilityRule, Booking, Resource, Service
from .perms import TERRITORY_STAFF_ROLES, agent_organisation_ids, bookable_resources_filter


def service_list() -> QuerySet[Service]:
    return Service.objects.order_by("label")


def resource_list(
    *,
    actor=None,
    place: Place | None = None,
    kind: str | None = None,
    service: Service | None = None,
) -> QuerySet[Resource]:
    """Active resources at places the actor may see."""
    resources = (
        Resource.objects.filter(is_active=True)
        .filter(
            Q(place__isnull=True)
            | Q(place__in=Place.objects.filter(place_visibility_filter(actor)))
        )
        .select_related("place__commune", "organisation")
    )
    if place is not None:
        resources = resources.filter(place=place)
    if kind:
        resources = resources.filter(kind=kind)
    if service is not None:
        resources = resources.filter(services=service)
    return resources.order_by("name")


def resource_get(*, actor, resource_id: int) -> Resource | None:
    return resource_list(actor=actor).filter(pk=resource_id).first()


def availability(
    *,
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta | None = None,
    units: int = 1,
    now: dt.datetime | None = None,
) -> list[av.Slot]:
    """Free slots of one resource starting in [start, end): capacity, rules, closures, public
    holidays, buffers, notice, horizon and existing bookings all honoured. Two queries (the
    rules come from memory: booking.rules_cache; slots before now are never offered)."""
    now = now or timezone.now()
    duration = duration or av.default_duration(resource)
    data = av.load_availability_data(
        [resource],
        _local_midnight(start),
        end + duration,
        rules=rules_cache.rules_for([resource]),
    )
    return av.resource_slots(
        resource, data, start=start, end=end, duration=duration, units=units, now=now
    )


def _local_midnight(moment: dt.datetime) -> dt.datetime:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(moment.astimezone(tz).date(), dt.time(), tzinfo=tz)


@dataclass(frozen=True)
class SlotOffer:
    slot: av.Slot
    resource: Resource
    place: Place
    distance_km: float
    road_km: float


class _RankedSlot:
    """An offer in the search's heap, ordered worst first: later, then farther, then by name
    (heapq keeps the smallest on top, so the comparison is reversed)."""

    __slots__ = ("key", "resource", "slot")

    def __init__(self, slot: av.Slot, km: float, resource: Resource) -> None:
        self.slot, self.resource = slot, resource
        self.key = (slot.start, km, resource.name, resource.pk)

    def __lt__(self, other: _RankedSlot) -> bool:
        return self.key > other.key

    def offer(self, places: dict[int, Place], distances: dict) -> SlotOffer:
        place_id = self.slot.place_id
        return SlotOffer(self.slot, self.resource, places[place_id], *distances[place_id])


def slots_search(
    *,
    service: Service,
    commune: Commune,
    radius_km: float,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta | None = None,
    limit: int = 10,
    actor=None,
    now: dt.datetime | None = None,
) -> list[SlotOffer]:
    """The next free slots for a service within radius_km of a commune, ordered by start time
    then distance, each with its distance (great-circle and estimated road, core.geo). Only
    resources the actor may book (Resource.bookable_by) are searched.

    A fixed number of queries whatever the number of resources: places within the radius
    (bounding box, then exact distance), resources delivering the service there or with a rule
    there, their rules unless in memory (booking.rules_cache), closures and bookings in one
    statement per piece of the window, the places of the offers. The window is searched in
    growing pieces so that the common case — free slots soon — does not compute months of
    slots, and each resource's slots only while they can still be among the best `limit`."""
    if limit < 1:
        return []
    now = now or timezone.now()
    start = max(start, now)
    box = bounding_box(commune.latitude, commune.longitude, radius_km)
    # Coordinates only: the places of the ten offers are fetched at the end, not the hundred
    # places around.
    distances: dict[int, tuple[float, float]] = {}
    for pk, latitude, longitude in (
        Place.objects.filter(place_visibility_filter(actor))
        .filter(
            latitude__gte=box.min_lat,
            latitude__lte=box.max_lat,
            longitude__gte=box.min_lon,
            longitude__lte=box.max_lon,
        )
        .distinct()
        .order_by()
        .values_list("pk", "latitude", "longitude")
    ):
        km = great_circle_km(commune.latitude, commune.longitude, latitude, longitude)
        if km <= radius_km:
            road = road_km(commune.latitude, commune.longitude, latitude, longitude)
            distances[pk] = (round(km, 1), round(road, 1))
    if not distances:
        return []
    itinerant_ids = AvailabilityRule.objects.filter(place_id__in=distances).values("resource_id")
    # Subqueries rather than a join on services: no DISTINCT over every column to plan.
    delivering = Resource.services.through.objects.filter(service=service).values("resource_id")
    resources = list(
        Resource.objects.filter(is_active=True, pk__in=delivering)
        .filter(bookable_resources_filter(actor))
        .filter(Q(place_id__in=distances) | Q(pk__in=itinerant_ids))
        .order_by()
    )
    if not resources:
        return []
    durations = {r.pk: duration or _usual_duration(r, service) for r in resources}
    longest = max(durations.values())
    rules = rules_cache.rules_for(resources)
    # The best `limit` offers so far, as a heap whose top is the worst of them: once it is
    # full, a resource's slots are computed only up to the start of that worst offer.
    best: list[_RankedSlot] = []
    piece_start = start
    # Growing pieces: to the end of the 2nd, then the 9th day on which some rule opens, then
    # the whole window. An evening or week-end search finds the next working days in the first
    # piece instead of computing a week of slots (measured in bench/README.md).
    day_ends = _ends_of_open_days(rules, _local_midnight(start), end, counts=(2, 9))
    for piece_end in [*(min(e, end) for e in day_ends), end]:
        if piece_end <= piece_start:
            continue
        data = av.load_availability_data(
            resources, _local_midnight(piece_start), piece_end + longest, rules=rules
        )
        for resource in resources:
            for slot in av.iter_resource_slots(
                resource,
                data,
                start=piece_start,
                end=piece_end,
                duration=durations[resource.pk],
                now=now,
            ):
                if slot.place_id not in distances:
                    continue
                offer = _RankedSlot(slot, distances[slot.place_id][0], resource)
                if len(best) < limit:
                    heapq.heappush(best, offer)
                elif offer.key < best[0].key:
                    heapq.heapreplace(best, offer)
                elif slot.start > best[0].slot.start:
                    break  # this resource's next slots are later still
        if len(best) >= limit:
            break
        piece_start = piece_end
    found = sorted(best, key=lambda ranked: ranked.key)
    places = Place.objects.select_related("commune").defer("commune__outline")
    places = places.in_bulk({ranked.slot.place_id for ranked in found})
    return [ranked.offer(places, distances) for ranked in found]


def _ends_of_open_days(
    rules: dict[int, list], day_start: dt.datetime, end: dt.datetime, *, counts: tuple[int, ...]
) -> list[dt.datetime]:
    """The local midnights ending the counts[i]-th day, from day_start, on which at least one
    of the rules opens (public holidays and closures aside: a cheap bound, from memory)."""
    openings: dict[int, set] = {}
    for specs in rules.values():
        for spec in specs:
            openings.setdefault(spec.weekday, set()).add(
                (spec.valid_from, spec.valid_until, spec.weeks)
            )
    ends: list[dt.datetime] = []
    wanted = iter(counts)
    target = next(wanted, None)
    day, open_days = day_start.date(), 0
    while target is not None and _at_midnight(day, day_start) < end:
        if any(
            (not valid_from or valid_from <= day)
            and (not valid_until or day <= valid_until)
            and iv.week_of_month_matches(day, weeks)
            for valid_from, valid_until, weeks in openings.get(day.weekday(), ())
        ):
            open_days += 1
            if open_days == target:
                ends.append(_at_midnight(day + dt.timedelta(days=1), day_start))
                target = next(wanted, None)
        day += dt.timedelta(days=1)
    return ends


def _at_midnight(day: dt.date, like: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=like.tzinfo)


def _usual_duration(resource: Resource, service: Service) -> dt.timedelta:
    """The service's usual duration when the resource allows it, else the resource's shortest.
    (An explicit duration the resource does not allow gives no slots: see resource_slots.)"""
    usual = dt.timedelta(minutes=service.default_duration_minutes)
    return usual if av.duration_allowed(resource, usual) else av.default_duration(resource)


def booking_list(
    *,
    actor,
    place: Place | None = None,
    resource: Resource | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    include_cancelled: bool = False,
) -> QuerySet[Booking]:
    """Bookings the actor may see: their own, and those on resources of organisations they
    work for (all of them for staff of the Département). Belonging to an organisation as a
    resident, parent or pupil shows nothing more than one's own (perms.MEMBER_ONLY_ROLES).
    Less what a module hides from the actor (hooks.booking_visibility_filters: a
    teleconsultation from the hospital's other doctors), staff and the booking's holder
    included."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Booking.objects.none()
    bookings = Booking.objects.all()
    if not actor.has_role(*TERRITORY_STAFF_ROLES):
        org_ids = agent_organisation_ids(actor)
        bookings = bookings.filter(
            Q(user=actor) | Q(allocations__resource__organisation_id__in=org_ids)
        )
    if place is not None:
        # Where the booking happens: an itinerant mediator based here but on tour elsewhere
        # that day shows under the village they visit.
        bookings = bookings.filter(place=place)
    if resource is not None:
        bookings = bookings.filter(allocations__resource=resource)
    if start is not None:
        bookings = bookings.filter(end__gt=start)
    if end is not None:
        bookings = bookings.filter(start__lt=end)
    if not include_cancelled:
        bookings = bookings.exclude(status=Booking.Status.CANCELLED)
    bookings = hide_from(bookings, actor)
    return (
        bookings.distinct()
        .select_related("place__commune", "service", "user")
        .prefetch_related("allocations__resource")
        .order_by("start")
    )


def booking_get(*, actor, booking_id: int) -> Booking | None:
    return booking_list(actor=actor, include_cancelled=True).filter(pk=booking_id).first()


def my_bookings(*, actor, now: dt.datetime | None = None) -> QuerySet[Booking]:
    now = now or timezone.now()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Booking.objects.none()
    return (
        hide_from(Booking.objects.filter(user=actor, end__gt=now), actor)
        .exclude(status=Booking.Status.CANCELLED)
        .select_related("place__commune", "service")
        .order_by("start")
    )


def calendar(
    *,
    actor,
    start: dt.datetime,
    end: dt.datetime,
    place: Place | None = None,
    resource: Resource | None = None,
) -> list[Booking]:
    """The agent's day or week view of a place or a resource (a person)."""
    return list(booking_list(actor=actor, place=place, resource=resource, start=start, end=end))
