"""Reads of workshop sessions: a mediator's sessions (their structures' only), one session
with its registrants and walk-ins, and the public's upcoming sessions near a commune with the
seats left — computed with one query for all the sessions shown, never one per session."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from cybercantal.booking.models import Allocation, Booking
from cybercantal.core.geo import bounding_box, great_circle_km

from ..models import WorkshopSession
from ..structures import mediator_organisation_ids

PUBLIC_LIMIT = 50


def workshop_list(*, actor) -> QuerySet[WorkshopSession]:
    """The sessions of the structures where the actor is a mediator."""
    return WorkshopSession.objects.filter(
        organisation_id__in=mediator_organisation_ids(actor)
    ).select_related("place__commune", "organisation", "activity")


def workshop_get(*, actor, session_id) -> WorkshopSession | None:
    try:
        return workshop_list(actor=actor).filter(pk=int(session_id)).first()
    except (TypeError, ValueError):
        return None


def workshop_registrations(session: WorkshopSession) -> QuerySet[Booking]:
    """The session's registrations (cancelled ones aside), in the order they came. For a
    session already read through workshop_get (scoped)."""
    return (
        Booking.objects.filter(
            allocations__resource_id=session.resource_id,
            start=session.start,
            end=session.end,
            status__in=Booking.ACTIVE_STATUSES,
        )
        .select_related("user")
        .distinct()
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class PublicSession:
    session: WorkshopSession
    distance_km: float
    seats_left: int


def _seats_taken(sessions: list[WorkshopSession]) -> Counter:
    """Seats held per session id, in one query: the active allocations of their resources."""
    if not sessions:
        return Counter()
    by_key = {(s.resource_id, s.start, s.end): s.pk for s in sessions}
    rows = Allocation.objects.filter(
        resource_id__in={s.resource_id for s in sessions},
        is_active=True,
        booking__start__gte=min(s.start for s in sessions),
        booking__start__lte=max(s.start for s in sessions),
    ).values_list("resource_id", "booking__start", "booking__end", "units")
    taken: Counter = Counter()
    for resource_id, start, end, units in rows:
        session_id = by_key.get((resource_id, start, end))
        if session_id is not None:
            taken[session_id] += units
    return taken


def workshops_public_near(
    *,
    commune,
    radius_km: int,
    now: dt.datetime | None = None,
    with_full: bool = True,
    limit: int = PUBLIC_LIMIT,
) -> list[PublicSession]:
    """Upcoming sessions (not started, not closed) within `radius_km` (straight line) of the
    commune, soonest first, with the seats left; full ones too unless `with_full` is False
    (their page offers the waiting list)."""
    now = now or timezone.now()
    box = bounding_box(commune.latitude, commune.longitude, radius_km)
    candidates = list(
        WorkshopSession.objects.filter(
            start__gt=now,
            closed_at__isnull=True,
            resource__is_active=True,
            place__latitude__gte=box.min_lat,
            place__latitude__lte=box.max_lat,
            place__longitude__gte=box.min_lon,
            place__longitude__lte=box.max_lon,
        )
        .select_related("place__commune", "organisation")
        .order_by("start", "pk")
    )
    near = []
    for session in candidates:
        km = great_circle_km(
            commune.latitude, commune.longitude, session.place.latitude, session.place.longitude
        )
        if km <= radius_km:
            near.append((session, km))
    taken = _seats_taken([s for s, _km in near])
    result = []
    for session, km in near:
        left = max(0, session.capacity - taken[session.pk])
        if left or with_full:
            result.append(PublicSession(session=session, distance_km=round(km, 1), seats_left=left))
        if len(result) >= limit:
            break
    return result


def workshop_public_get(*, session_id, now: dt.datetime | None = None) -> PublicSession | None:
    """An upcoming session, for its public registration page."""
    now = now or timezone.now()
    try:
        session = (
            WorkshopSession.objects.filter(
                pk=int(session_id), start__gt=now, closed_at__isnull=True, resource__is_active=True
            )
            .select_related("place__commune", "organisation")
            .first()
        )
    except (TypeError, ValueError):
        return None
    if session is None:
        return None
    left = max(0, session.capacity - _seats_taken([session])[session.pk])
    return PublicSession(session=session, distance_km=0.0, seats_left=left)
