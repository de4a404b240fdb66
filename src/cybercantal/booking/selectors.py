"""Reads of the booking engine, scoped to the actor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from cybercantal.core.geo import bounding_box, great_circle_km, road_km
from cybercantal.territory.models import Commune, Place
from cybercantal.territory.selectors import place_visibility_filter

from . import availability as av
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
    holidays, buffers, notice, horizon and existing bookings all honoured. Three queries."""
    now = now or timezone.now()
    duration = duration or av.default_duration(resource)
    data = av.load_availability_data([resource], _local_midnight(start), end + duration)
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

    A fixed number of queries whatever the number of resources: places within the radius (one
    query, bounding box then exact distance), resources delivering the service there or with a
    rule there (one or two), then the three bulk availability queries per window. The window is
    searched in growing pieces (2, 9, then all days) so that the common case — free slots soon —
    does not compute months of slots."""
    now = now or timezone.now()
    start = max(start, now)
    box = bounding_box(commune.latitude, commune.longitude, radius_km)
    nearby = {
        place.pk: place
        for place in Place.objects.filter(place_visibility_filter(actor))
        .filter(
            latitude__gte=box.min_lat,
            latitude__lte=box.max_lat,
            longitude__gte=box.min_lon,
            longitude__lte=box.max_lon,
        )
        .select_related("commune")
        .defer("commune__outline")  # a commune's outline is heavy JSON, not needed here
        .distinct()
        if great_circle_km(commune.latitude, commune.longitude, place.latitude, place.longitude)
        <= radius_km
    }
    if not nearby:
        return []
    itinerant_ids = AvailabilityRule.objects.filter(place_id__in=nearby).values("resource_id")
    resources = list(
        Resource.objects.filter(is_active=True, services=service)
        .filter(bookable_resources_filter(actor))
        .filter(Q(place_id__in=nearby) | Q(pk__in=itinerant_ids))
        .distinct()
    )
    if not resources:
        return []
    distances = {
        pk: (
            round(great_circle_km(commune.latitude, commune.longitude, p.latitude, p.longitude), 1),
            round(road_km(commune.latitude, commune.longitude, p.latitude, p.longitude), 1),
        )
        for pk, p in nearby.items()
    }
    by_id = {r.pk: r for r in resources}
    durations = {r.pk: duration or _usual_duration(r, service) for r in resources}
    longest = max(durations.values())
    offers: list[SlotOffer] = []
    piece_start = start
    # 2 then 9 days: an evening or weekend search finds the next working days in the first
    # piece instead of computing a whole week of slots (measured in bench/README.md).
    for days in (2, 9, None):
        piece_end = (
            end if days is None else min(end, _local_midnight(start) + dt.timedelta(days=days))
        )
        if piece_end <= piece_start:
            continue
        data = av.load_availability_data(
            resources, _local_midnight(piece_start), piece_end + longest
        )
        for resource in resources:
            for slot in av.resource_slots(
                resource,
                data,
                start=piece_start,
                end=piece_end,
                duration=durations[resource.pk],
                now=now,
            ):
                if slot.place_id in nearby:
                    km, road = distances[slot.place_id]
                    offers.append(
                        SlotOffer(slot, by_id[slot.resource_id], nearby[slot.place_id], km, road)
                    )
        if len(offers) >= limit:
            break
        piece_start = piece_end
    offers.sort(key=lambda o: (o.slot.start, o.distance_km, o.resource.name))
    return offers[:limit]


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
    resident, parent or pupil shows nothing more than one's own (perms.MEMBER_ONLY_ROLES)."""
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
        Booking.objects.filter(user=actor, end__gt=now)
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
