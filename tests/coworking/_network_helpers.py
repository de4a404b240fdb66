"""What the network, member and API tests share: a tiers-lieu with a desk pool open every day
from 9:00 to 18:00 (public holidays too), so that "today" and "tomorrow" are open whatever
day the tests run; passes valid from today."""

import datetime as dt

from django.utils import timezone

from cybercantal.booking.services import booking_create
from tests.accounts.factories import UserFactory

from .factories import OfferFactory, PassFactory, TiersLieuFactory, desk_pool

EVERY_DAY = [(d, "09:00", "18:00") for d in range(7)]


def open_place(**kwargs):
    place = TiersLieuFactory(**kwargs)
    pool = desk_pool(
        place, hours=EVERY_DAY, observes_public_holidays=False, max_future_bookings_per_person=0
    )
    return place, pool


def local(day: dt.date, time: str) -> dt.datetime:
    hour, minute = map(int, time.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def occupy(pool, day: dt.date, start: str, end: str, count: int = 1) -> None:
    """`count` bookings of one seat each, by other people."""
    for _ in range(count):
        user = UserFactory()
        booking_create(actor=user, resources=[pool], start=local(day, start), end=local(day, end))


def member_pass(member, place, **offer):
    offer = OfferFactory(tiers_lieu=place, **({"half_days": 4, "label": "Carnet"} | offer))
    return PassFactory(member=member, offer=offer, valid_from=timezone.localdate())
