"""Reads of a manager's day at their tiers-lieu: the places they manage, who is expected today,
who has arrived, how many desks are free, and the members they may look up (people with a pass
usable there or a booking there — never the platform's whole list of accounts).

Every function taking `actor` returns only what that actor may see; a place the actor does not
manage reads as absent (None), so that views answer 404 without saying whether it exists."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from cybercantal.booking.models import Booking, Resource
from cybercantal.booking.selectors import booking_list

from ..models import CheckIn, Pass, TiersLieu
from ..perms import managed_tiers_lieux_filter
from .passes import local_day_bounds

SEARCH_LIMIT = 20
DESK_KINDS = (Resource.Kind.DESK_POOL, Resource.Kind.DESK)


def managed_places(*, actor) -> QuerySet[TiersLieu]:
    """The tiers-lieux `actor` manages (every place for the Département's staff), by name."""
    return (
        TiersLieu.objects.filter(managed_tiers_lieux_filter(actor))
        .select_related("place__commune", "place__organisation")
        .order_by("place__name", "pk")
    )


def managed_place_get(*, actor, pk) -> TiersLieu | None:
    """The tiers-lieu `pk` if `actor` manages it, else None."""
    return managed_places(actor=actor).filter(pk=pk).first()


def _members_filter(tiers_lieu: TiersLieu, *, today: dt.date) -> Q:
    sold_or_for_here = Q(coworking_passes__sold_at=tiers_lieu) | Q(
        coworking_passes__offer__tiers_lieu=tiers_lieu
    )
    network_pass_now = Q(
        coworking_passes__offer__tiers_lieu__isnull=True,
        coworking_passes__status=Pass.Status.ACTIVE,
        coworking_passes__valid_until__gte=today,
    )
    booked_here = Q(bookings__place_id=tiers_lieu.place_id)
    return sold_or_for_here | network_pass_now | booked_here


def place_members(*, tiers_lieu: TiersLieu, today: dt.date | None = None) -> QuerySet:
    """Active accounts with a pass sold at or for this place, a network pass still valid, or a
    booking at this place. (Not scoped to an actor: callers check the actor manages the place.)"""
    today = today or timezone.localdate()
    ids = (
        get_user_model()
        .objects.filter(_members_filter(tiers_lieu, today=today))
        .values("pk")
        .distinct()
    )
    return get_user_model().objects.filter(pk__in=ids, is_active=True, erased_at__isnull=True)


def is_member_of_place(*, member, tiers_lieu: TiersLieu) -> bool:
    return place_members(tiers_lieu=tiers_lieu).filter(pk=member.pk).exists()


def member_search(*, actor, tiers_lieu: TiersLieu, query: str) -> list:
    """Members of the place (see place_members) whose name or e-mail contains every word of
    `query`; at most SEARCH_LIMIT, by name. Nothing for fewer than 2 characters, or when
    `actor` does not manage the place."""
    words = (query or "").split()
    if len("".join(words)) < 2 or managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return []
    members = place_members(tiers_lieu=tiers_lieu)
    for word in words[:5]:
        members = members.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(username__icontains=word)
        )
    return list(members.order_by("last_name", "first_name", "pk")[:SEARCH_LIMIT])


def place_member_get(*, actor, tiers_lieu: TiersLieu, member_id) -> object | None:
    """A member of the place by id, if `actor` manages the place; else None."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return None
    try:
        member_id = int(member_id)
    except (TypeError, ValueError):
        return None
    return place_members(tiers_lieu=tiers_lieu).filter(pk=member_id).first()


def check_in_by_client_uuid(client_uuid: uuid.UUID) -> CheckIn | None:
    """The check-in already recorded with this tablet identifier, if any."""
    return CheckIn.objects.filter(client_uuid=client_uuid).first()


@dataclass
class TodayOverview:
    day: dt.date
    bookings: list[Booking] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    desk_capacity: int = 0
    desks_taken: int = 0

    @property
    def desks_free(self) -> int:
        return max(0, self.desk_capacity - self.desks_taken)


def today_overview(*, actor, tiers_lieu: TiersLieu, now: dt.datetime | None = None):
    """Today at the place, as `actor` sees it: the bookings there (as booking.selectors shows
    them to the actor), each with `checked_in` set; the arrivals recorded; and the desks free
    now — the place's desk capacity (or its desk spaces' capacity when it has some) less the
    people there: arrived today, or holding a desk booking running now."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return TodayOverview(day=day)
    start, end = local_day_bounds(day)
    check_ins = list(
        CheckIn.objects.filter(tiers_lieu=tiers_lieu, day=day)
        .select_related("member", "pass_used__offer", "booking")
        .order_by("at", "pk")
    )
    arrived = {c.member_id for c in check_ins}
    bookings = list(booking_list(actor=actor, place=tiers_lieu.place, start=start, end=end))
    for booking in bookings:
        booking.checked_in = booking.user_id in arrived
        booking.can_mark_no_show = (
            booking.status == Booking.Status.CONFIRMED
            and now >= booking.start
            and not booking.checked_in
        )
    desk_resources = Resource.objects.filter(
        place_id=tiers_lieu.place_id, kind__in=DESK_KINDS, is_active=True
    )
    capacity = sum(r.capacity for r in desk_resources) or tiers_lieu.desk_capacity
    at_desks_now = {
        b.user_id or f"b{b.pk}"
        for b in bookings
        if b.start <= now < b.end
        and b.status in (Booking.Status.CONFIRMED, Booking.Status.ATTENDED)
        and any(a.resource.kind in DESK_KINDS for a in b.allocations.all())
    }
    return TodayOverview(
        day=day,
        bookings=bookings,
        check_ins=check_ins,
        desk_capacity=capacity,
        desks_taken=len(arrived | at_desks_now),
    )
