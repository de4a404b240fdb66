"""What the managers' pages about hours read: a place's shifts and its closures, already
narrowed to one tiers-lieu (the views find the tiers-lieu in the actor's scope first)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cybercantal.booking.models import Closure

from ..models import TiersLieu, VolunteerShift
from ..models.network import OfficeRental
from ..perms import is_place_manager
from ..services.hours import place_spaces


def place_shifts(*, actor, tiers_lieu: TiersLieu, today: dt.date | None = None):
    """The shifts of the place that are not over (today or later), by weekday and time; none
    for someone who does not manage it."""
    if not is_place_manager(actor, tiers_lieu):
        return VolunteerShift.objects.none()
    today = today or timezone.localdate()
    return (
        VolunteerShift.objects.filter(tiers_lieu=tiers_lieu)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("volunteer")
        .order_by("weekday", "start_time", "volunteer_name", "pk")
    )


def place_shift_get(*, actor, tiers_lieu: TiersLieu, shift_id: int) -> VolunteerShift | None:
    if not is_place_manager(actor, tiers_lieu):
        return None
    return VolunteerShift.objects.filter(tiers_lieu=tiers_lieu, pk=shift_id).first()


def _closures_filter(tiers_lieu: TiersLieu) -> Q:
    return Q(place_id=tiers_lieu.place_id) | Q(
        resource_id__in=place_spaces(tiers_lieu).values("pk")
    )


def place_closures(
    *, actor, tiers_lieu: TiersLieu, now: dt.datetime | None = None
) -> QuerySet[Closure]:
    """Closures of the place, or of one of its spaces, that are not over, soonest first; each
    with `is_office_rental`: the closure of a rented office (ended from the offices page, not
    reopened from the closures page)."""
    if not is_place_manager(actor, tiers_lieu):
        return Closure.objects.none()
    now = now or timezone.now()
    return (
        Closure.objects.filter(_closures_filter(tiers_lieu), end__gt=now)
        .annotate(is_office_rental=Exists(OfficeRental.objects.filter(closure_id=OuterRef("pk"))))
        .select_related("resource")
        .order_by("start", "pk")
    )


def place_closure_get(*, actor, tiers_lieu: TiersLieu, closure_id: int) -> Closure | None:
    """A closure of the place or of one of its spaces (over or not); None otherwise."""
    if not is_place_manager(actor, tiers_lieu):
        return None
    return Closure.objects.filter(_closures_filter(tiers_lieu), pk=closure_id).first()
