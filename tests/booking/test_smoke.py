import datetime as dt

import pytest

from cybercantal.booking import selectors, services
from cybercantal.booking.errors import BookingConflict, BookingRuleError
from cybercantal.booking.models import Booking
from tests.accounts.factories import UserFactory

from .conftest import NOW, PARIS, at
from .factories import ResourceFactory

pytestmark = pytest.mark.django_db


def hhmm(slots):
    return [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]


def test_availability_and_booking_round_trip():
    room = ResourceFactory()
    slots = selectors.availability(
        resource=room, start=at("2027-03-01", "00:00"), end=at("2027-03-02", "00:00"), now=NOW
    )
    assert hhmm(slots)[:3] == ["09:00", "09:30", "10:00"]
    assert len(slots) == 12  # 6 in the morning, 6 in the afternoon

    person = UserFactory()
    booking = services.booking_create(
        actor=person,
        resources=[room],
        start=at("2027-03-01", "09:30"),
        end=at("2027-03-01", "10:30"),
        now=NOW,
    )
    assert booking.status == Booking.Status.CONFIRMED
    slots = selectors.availability(
        resource=room, start=at("2027-03-01", "00:00"), end=at("2027-03-01", "12:00"), now=NOW
    )
    assert hhmm(slots) == ["09:00", "10:30", "11:00", "11:30"]

    with pytest.raises(BookingConflict):
        services.booking_create(
            actor=UserFactory(),
            resources=[room],
            start=at("2027-03-01", "10:00"),
            end=at("2027-03-01", "10:30"),
            now=NOW,
        )
    with pytest.raises(BookingRuleError):
        services.booking_create(
            actor=UserFactory(),
            resources=[room],
            start=at("2027-03-01", "12:30"),
            end=at("2027-03-01", "13:00"),
            now=NOW,
        )

    services.booking_cancel(actor=person, booking=booking, now=NOW - dt.timedelta(days=2))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert (
        len(
            selectors.availability(
                resource=room,
                start=at("2027-03-01", "00:00"),
                end=at("2027-03-01", "12:00"),
                now=NOW,
            )
        )
        == 6
    )
