"""Reads of the managers' offers and spaces pages, scoped to the actor: a place's offers (on
sale or withdrawn) with the number of passes sold, the network's offers (the Département's
staff only), a place's spaces with their hours of the day. A place or an object outside the
actor's scope reads as absent (none, None), so that views answer 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from cybercantal.booking import availability as av
from cybercantal.booking.models import Resource
from cybercantal.territory.models import Organisation

from ..models import Offer, TiersLieu
from ..perms import is_network_staff
from ..services.hours import place_spaces
from .today import managed_place_get


def _with_sales(offers: QuerySet[Offer]) -> QuerySet[Offer]:
    return offers.select_related("funder", "operator").annotate(passes_sold=Count("passes"))


def place_offers(*, actor, tiers_lieu: TiersLieu) -> QuerySet[Offer]:
    """The place's own offers, on sale first then withdrawn, by price, each with
    `passes_sold`; none if `actor` does not manage the place."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return Offer.objects.none()
    return _with_sales(Offer.objects.filter(tiers_lieu=tiers_lieu)).order_by(
        "-is_active", "price_cents", "label", "pk"
    )


def place_offer_get(*, actor, tiers_lieu: TiersLieu, offer_id) -> Offer | None:
    try:
        return place_offers(actor=actor, tiers_lieu=tiers_lieu).filter(pk=int(offer_id)).first()
    except (TypeError, ValueError):
        return None


def network_offers(*, actor, active_only: bool = False) -> QuerySet[Offer]:
    """The offers valid in the whole network, each with `passes_sold`: all of them for the
    Département's staff; for anyone else, those on sale when `active_only` (what a place's
    manager sells too), none otherwise."""
    offers = Offer.objects.filter(tiers_lieu__isnull=True)
    if active_only:
        offers = offers.filter(is_active=True)
    elif not is_network_staff(actor):
        return Offer.objects.none()
    return _with_sales(offers).order_by("-is_active", "price_cents", "label", "pk")


def network_offer_get(*, actor, offer_id) -> Offer | None:
    try:
        return network_offers(actor=actor).filter(pk=int(offer_id)).first()
    except (TypeError, ValueError):
        return None


def funder_choices() -> QuerySet[Organisation]:
    """Who may fund an offer: any organisation of the territory, by name."""
    return Organisation.objects.order_by("name", "pk")


# --- Spaces -----------------------------------------------------------------------------------


@dataclass
class SpaceRow:
    space: Resource
    hours: list[tuple[dt.datetime, dt.datetime]]
    has_bookings: bool


def manager_spaces(*, actor, tiers_lieu: TiersLieu) -> QuerySet[Resource]:
    """The place's spaces, bookable or not, bookable first then by name; none if `actor` does
    not manage the place."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return Resource.objects.none()
    return place_spaces(tiers_lieu).order_by("-is_active", "name", "pk")


def manager_space_get(*, actor, tiers_lieu: TiersLieu, space_id) -> Resource | None:
    try:
        return manager_spaces(actor=actor, tiers_lieu=tiers_lieu).filter(pk=int(space_id)).first()
    except (TypeError, ValueError):
        return None


def space_rows(*, actor, tiers_lieu: TiersLieu, day: dt.date | None = None) -> list[SpaceRow]:
    """The place's spaces, each with its opening intervals on `day` (today by default: rules,
    holidays and closures) and whether it was ever booked. Three queries whatever the number
    of spaces (spaces; rules; closures and allocations), plus the bookings check."""
    spaces = list(
        manager_spaces(actor=actor, tiers_lieu=tiers_lieu).annotate(
            allocation_count=Count("allocations")
        )
    )
    if not spaces:
        return []
    day = day or timezone.localdate()
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    data = av.load_availability_data(spaces, start, end)
    return [
        SpaceRow(
            space=space,
            hours=[
                (timezone.localtime(i.start), timezone.localtime(i.end))
                for i in av.open_intervals(space, data, start, end)
            ],
            has_bookings=bool(space.allocation_count),
        )
        for space in spaces
    ]
