"""Reads of itinerant tours, scoped to the actor: the tours and stops an organisation's agents
run, and the public's upcoming stops near a commune.

Distances are great-circle from the commune's reference point to the stop's place, with the
estimated road distance beside them (core.geo: straight line times ROAD_FACTOR; a ranking, never
a route)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from cybercantal.booking.perms import TERRITORY_STAFF_ROLES, agent_organisation_ids
from cybercantal.core.geo import bounding_box, great_circle_km, road_km
from cybercantal.territory.models import Commune

from ..models import Tour, TourStop

NEARBY_STOPS = 3  # next stops a cancelled or moved stop's message names
NEARBY_RADIUS_KM = 30


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def tour_list(*, actor) -> QuerySet[Tour]:
    """The tours of the organisations the actor works for (every tour for staff of the
    Département); nothing for anyone else."""
    if not _is_authenticated(actor):
        return Tour.objects.none()
    tours = Tour.objects.select_related("organisation", "mediator")
    if not actor.has_role(*TERRITORY_STAFF_ROLES):
        tours = tours.filter(organisation_id__in=agent_organisation_ids(actor))
    return tours.order_by("name", "pk")


def tour_get(*, actor, tour_id: int) -> Tour | None:
    return tour_list(actor=actor).filter(pk=tour_id).first()


def tour_stop_get(*, actor, tour: Tour, stop_id: int) -> TourStop | None:
    """A stop of a tour the caller already got through tour_get (hence may see)."""
    return (
        TourStop.objects.filter(tour=tour, pk=stop_id)
        .select_related("tour__mediator", "tour__organisation", "place__commune", "moved_to")
        .first()
    )


def _upcoming(stops: QuerySet[TourStop], today: dt.date | None) -> QuerySet[TourStop]:
    today = today or timezone.localdate()
    return (
        stops.filter(day__gte=today)
        .select_related("tour__mediator", "place__commune", "moved_to__place__commune")
        .order_by("day", "start_time", "pk")
    )


def tour_stops_upcoming(
    *, tour: Tour, today: dt.date | None = None, include_changed: bool = True
) -> QuerySet[TourStop]:
    """The stops of a tour from today on, by date; planned ones only unless include_changed
    (the tour's page shows the moved and cancelled ones too, crossed out)."""
    stops = TourStop.objects.filter(tour=tour)
    if not include_changed:
        stops = stops.filter(status=TourStop.Status.PLANNED)
    return _upcoming(stops, today)


def organisation_stops_upcoming(*, actor, today: dt.date | None = None) -> QuerySet[TourStop]:
    """The planned stops, from today on, of every tour the actor's organisations run."""
    return _upcoming(
        TourStop.objects.filter(tour__in=tour_list(actor=actor), status=TourStop.Status.PLANNED),
        today,
    )


@dataclass(frozen=True)
class StopNear:
    stop: TourStop
    distance_km: float
    road_km: float


def _public_planned() -> QuerySet[TourStop]:
    return TourStop.objects.filter(
        status=TourStop.Status.PLANNED,
        tour__is_active=True,
        tour__mediator__is_active=True,
        place__is_public=True,
    )


def _near(
    stops: QuerySet[TourStop], *, latitude: float, longitude: float, radius_km: float
) -> list[StopNear]:
    """The stops within radius_km of a point (bounding box in the database, then the exact
    distance), ranked by date, time, then distance."""
    box = bounding_box(latitude, longitude, radius_km)
    stops = stops.filter(
        place__latitude__gte=box.min_lat,
        place__latitude__lte=box.max_lat,
        place__longitude__gte=box.min_lon,
        place__longitude__lte=box.max_lon,
    ).select_related("tour__mediator", "tour__organisation", "place__commune")
    found = []
    for stop in stops.defer("place__commune__outline"):
        km = great_circle_km(latitude, longitude, stop.place.latitude, stop.place.longitude)
        if km <= radius_km:
            road = road_km(latitude, longitude, stop.place.latitude, stop.place.longitude)
            found.append(StopNear(stop, round(km, 1), round(road, 1)))
    found.sort(key=lambda s: (s.stop.day, s.stop.start_time, s.distance_km, s.stop.pk))
    return found


def public_stops_near(
    *,
    commune: Commune,
    radius_km: float,
    today: dt.date | None = None,
    days: int = 92,
    limit: int = 50,
) -> list[StopNear]:
    """The public's view: planned stops of active tours at public places, from today for
    `days` days, within radius_km of a commune, by date then distance."""
    today = today or timezone.localdate()
    stops = _public_planned().filter(day__gte=today, day__lt=today + dt.timedelta(days=days))
    return _near(
        stops, latitude=commune.latitude, longitude=commune.longitude, radius_km=radius_km
    )[:limit]


def next_stops_near(
    stop: TourStop,
    *,
    limit: int = NEARBY_STOPS,
    radius_km: float = NEARBY_RADIUS_KM,
    exclude: tuple[int, ...] = (),
) -> list[StopNear]:
    """The next planned stops of the same tour after `stop` (later that day, or on a later
    day) within radius_km of its commune, by date: what a cancelled stop's message offers."""
    later = Q(day__gt=stop.day) | Q(day=stop.day, start_time__gt=stop.start_time)
    stops = (
        _public_planned()
        .filter(tour_id=stop.tour_id)
        .filter(later)
        .exclude(pk__in=(stop.pk, *exclude))
    )
    commune = stop.place.commune
    return _near(
        stops, latitude=commune.latitude, longitude=commune.longitude, radius_km=radius_km
    )[:limit]
