import datetime as dt

import pytest
from django.utils import timezone

from cybercantal.accounts.services import personal_data_export
from cybercantal.booking import services
from cybercantal.booking.models import Allocation, Booking
from cybercantal.booking.personal_data import bookings_personal_data_erase
from tests.accounts.factories import UserFactory

from .factories import ResourceFactory

pytestmark = pytest.mark.django_db


def _next_monday_at(hour: int) -> dt.datetime:
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    return timezone.make_aware(dt.datetime.combine(monday, dt.time(hour)))


def test_a_person_s_bookings_are_in_their_export_and_not_in_others():
    room = ResourceFactory()
    person, other = UserFactory(), UserFactory()
    start = _next_monday_at(9)
    booking = services.booking_create(
        actor=person, resources=[room], start=start, end=start + dt.timedelta(minutes=30)
    )
    exported = personal_data_export(actor=person, user=person)
    assert booking.reference in str(exported)
    assert booking.reference not in str(personal_data_export(actor=other, user=other))


def test_erasure_cancels_upcoming_bookings_and_frees_their_slots():
    room = ResourceFactory()
    person = UserFactory()
    start = _next_monday_at(9)
    booking = services.booking_create(
        actor=person,
        resources=[room],
        start=start,
        end=start + dt.timedelta(minutes=30),
        notes="Vient avec sa fille",
    )
    bookings_personal_data_erase(person)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.notes == ""
    assert not Allocation.objects.filter(booking=booking, is_active=True).exists()
    assert booking.transitions.last().to_status == Booking.Status.CANCELLED
