"""Booking a teleconsultation: one booking for the practitioner, the site's cart and the nurse;
the specialty's protocol checked; refusals in French that change nothing; the engine refuses to
book telehealth resources outside this flow."""

import datetime as dt

import pytest

from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError
from cybercantal.booking.models import Allocation, Booking
from cybercantal.booking.services import PersonDetails, booking_create
from cybercantal.telehealth.models import Consultation
from cybercantal.telehealth.perms import consultations_for, may_see_consultation
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_assistant,
    make_consultation,
    make_patient,
    make_practitioner,
    make_site,
    make_specialty,
    next_monday,
    staff_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    derm = make_specialty()
    site = make_site()
    return {
        "derm": derm,
        "site": site,
        "doctor": make_practitioner(specialties=[derm]),
        "nurse": make_assistant(sites=[site]),
        "patient": make_patient(site),
    }


def book(network, **overrides):
    from cybercantal.telehealth.services.consultations import consultation_book

    values = {
        "actor": network["nurse"].user,
        "site": network["site"],
        "practitioner": network["doctor"],
        "specialty": network["derm"],
        "patient": network["patient"],
        "assistant": network["nurse"],
        "start": next_monday(),
    }
    return consultation_book(**(values | overrides))


def test_one_booking_holds_the_doctor_the_cart_and_the_nurse(network):
    consultation = book(network)
    booking = consultation.booking
    held = set(Allocation.objects.filter(booking=booking).values_list("resource_id", flat=True))
    assert held == {
        network["site"].resource_id,
        network["doctor"].resource_id,
        network["nurse"].resource_id,
    }
    assert booking.place_id == network["site"].place_id
    assert booking.end - booking.start == dt.timedelta(minutes=30)
    assert consultation.video_room.startswith("cc-") and len(consultation.video_room) > 20
    assert network["patient"].display_name not in consultation.video_room


def test_the_doctor_cannot_be_in_two_sites_at_once(network):
    book(network)
    other_site = make_site()
    other_nurse = make_assistant(sites=[other_site])
    with pytest.raises(BookingConflict):
        book(
            network,
            site=other_site,
            assistant=other_nurse,
            actor=other_nurse.user,
            patient=make_patient(other_site),
        )
    assert Consultation.objects.count() == 1


def test_missing_device_is_refused_in_french(network):
    network["site"].equipment.filter(kind="dermatoscope").update(in_service=False)
    with pytest.raises(BookingRuleError, match="Il manque ou est en panne : Dermatoscope"):
        book(network)
    assert not Booking.objects.exists()


def test_the_nurse_the_specialty_needs_must_be_there(network):
    with pytest.raises(BookingRuleError, match="infirmier"):
        book(network, assistant=None)
    assert not Booking.objects.exists()


def test_practitioner_outside_hours_is_refused(network):
    with pytest.raises(BookingRuleError):
        book(network, start=next_monday(at=dt.time(20, 0)))
    assert not Booking.objects.exists()


def test_strangers_cannot_book_at_the_site(network):
    with pytest.raises(BookingForbidden):
        book(network, actor=UserFactory())
    assert not Booking.objects.exists()


def test_the_engine_refuses_telehealth_resources_outside_the_flow(network):
    with pytest.raises(BookingForbidden, match="espace Téléconsultation"):
        booking_create(
            actor=network["nurse"].user,
            resources=[network["doctor"].resource],
            start=next_monday(),
            end=next_monday() + dt.timedelta(minutes=30),
            person=PersonDetails(name="Quelqu'un", phone="0612345678"),
        )
    assert not Booking.objects.exists()


def test_only_participants_coordinators_and_staff_see_a_consultation():
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    consultation = make_consultation(site=site)
    allowed = [
        consultation.practitioner.user,
        consultation.assistant.user,
        coordinator,
        staff_user(),
    ]
    for user in allowed:
        assert may_see_consultation(user, consultation)
        assert consultations_for(user).filter(pk=consultation.pk).exists()
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    for user in (UserFactory(), other_coordinator, make_practitioner().user):
        assert not may_see_consultation(user, consultation)
        assert not consultations_for(user).exists()
