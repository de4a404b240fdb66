"""Telehealth gives no rights over the organisation running a site or employing a doctor.

A care-home group runs a teleconsultation site (with its coordinator and nurse) and has other
resources (a meeting room booked by families); a hospital employs the site's doctor and has
its own rooms. Being on the site's team, or on the network as a doctor, must not make anyone an
agent of those other resources in the booking engine: they neither see nor change their
bookings (names and phones). Yet the team still books, cancels and closes teleconsultations,
because telehealth vouches for them inside its own flow only (booking.hooks.booking_authorisers,
telehealth.booking_guard.vouch_inside_flow). Migration 0007 takes back the memberships that the
previous versions gave."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from cybercantal.accounts.models import Membership, Role
from cybercantal.accounts.tokens import api_token_create
from cybercantal.booking.errors import BookingForbidden
from cybercantal.booking.hooks import is_authorised_by_module
from cybercantal.booking.models import Booking
from cybercantal.booking.perms import is_place_agent, is_resource_agent
from cybercantal.booking.selectors import booking_get, booking_list
from cybercantal.booking.services import (
    PersonDetails,
    booking_cancel,
    booking_create,
    booking_mark_no_show,
    bookings_cancel_day,
)
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.booking_guard import telehealth_booking_flow, vouch_inside_flow
from cybercantal.telehealth.models import Consultation
from cybercantal.telehealth.services.consultations import consultation_cancel
from cybercantal.telehealth.services.network import assistant_update, practitioner_create
from cybercantal.telehealth.services.sessions import consultation_close
from cybercantal.territory.models import Organisation
from tests.accounts.factories import UserFactory
from tests.booking.factories import ResourceFactory
from tests.telehealth import factories
from tests.telehealth.factories import (
    make_assistant,
    make_consultation,
    make_patient,
    make_site,
    make_specialty,
    next_monday,
    open_hours,
    staff_user,
)
from tests.telehealth.test_sessions import past_start
from tests.territory.factories import OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "cybercantal.telehealth.migrations.0007_drop_organisation_memberships"
)


@pytest.fixture
def net():
    derm = make_specialty()
    group = OrganisationFactory(name="Groupe EHPAD du Cantal", kind=Organisation.Kind.CARE_HOME)
    hospital = OrganisationFactory(name="Centre hospitalier d'Aurillac", kind="hospital")
    coordinator = UserFactory()
    site = make_site(place=PlaceFactory(organisation=group), coordinators=[coordinator])
    doctor = practitioner_create(
        actor=staff_user(),
        user=UserFactory(),
        kind="specialiste",
        rpps=str(next(factories._rpps)),
        specialties=[derm],
        organisation=hospital,
    )
    open_hours(doctor.resource)
    return SimpleNamespace(
        derm=derm,
        group=group,
        hospital=hospital,
        site=site,
        coordinator=coordinator,
        doctor=doctor,
        nurse=make_assistant(sites=[site]),
        patient=make_patient(site),
        # The organisations' other resources: a room of the care home, a room of the hospital.
        group_room=ResourceFactory(organisation=group, place=site.place, name="Salle des familles"),
        hospital_room=ResourceFactory(organisation=hospital, name="Salle de staff"),
    )


def team(net) -> dict:
    """Each telehealth person with the organisation telehealth used to make them agents of."""
    return {
        "coordinator": (net.coordinator, net.group_room),
        "nurse": (net.nurse.user, net.group_room),
        "doctor": (net.doctor.user, net.hospital_room),
    }


def plain_booking(resource, start=None) -> Booking:
    """A booking that is no teleconsultation (a family visiting, a staff meeting)."""
    start = start or next_monday(at=dt.time(14, 0))
    return booking_create(
        actor=staff_user(),
        resources=[resource],
        start=start,
        end=start + dt.timedelta(minutes=30),
        person=PersonDetails(name="M. Paul Durand", phone="0612345678"),
        channel=Booking.Channel.PHONE,
    )


def book(net, *, actor=None, start=None, now=None) -> Consultation:
    values = {"start": start or next_monday()}
    if now is not None:
        values["now"] = now
    return make_consultation(
        site=net.site,
        practitioner=net.doctor,
        specialty=net.derm,
        patient=net.patient,
        assistant=net.nurse,
        actor=actor or net.nurse.user,
        **values,
    )


def bearer(user) -> dict:
    _token, raw = api_token_create(actor=user, name="test")
    return {"Authorization": f"Bearer {raw}"}


# --- No rights over the organisation's other resources -------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "nurse", "doctor"])
def test_they_hold_no_membership_and_are_no_agents_of_the_organisation(net, who):
    user, room = team(net)[who]
    assert not Membership.objects.filter(user=user).exists()
    assert not is_resource_agent(user, room)
    assert not is_place_agent(user, net.site.place)


@pytest.mark.parametrize("who", ["coordinator", "nurse", "doctor"])
def test_they_neither_see_nor_cancel_the_organisations_other_bookings(net, who):
    user, room = team(net)[who]
    booking = plain_booking(room)
    assert not booking_list(actor=user).filter(pk=booking.pk).exists()
    assert booking_get(actor=user, booking_id=booking.pk) is None
    with pytest.raises(BookingForbidden, match="Vous ne pouvez pas modifier cette réservation"):
        booking_cancel(actor=user, booking=booking, reason="Par erreur")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("who", ["coordinator", "nurse", "doctor"])
def test_nor_through_the_bookings_api(net, who):
    user, room = team(net)[who]
    booking = plain_booking(room)
    client, headers = Client(), bearer(user)
    listed = client.get("/api/v1/bookings", headers=headers)
    assert listed.status_code == 200
    assert booking.pk not in [b["id"] for b in listed.json()["items"]]
    assert "Durand" not in listed.content.decode()
    assert client.get(f"/api/v1/bookings/{booking.pk}", headers=headers).status_code == 404
    cancel = client.post(
        f"/api/v1/bookings/{booking.pk}/cancel",
        json.dumps({}),
        content_type="application/json",
        headers=headers,
    )
    assert cancel.status_code in (403, 404)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_coordinator_cannot_cancel_a_day_at_the_sites_place(net):
    booking = plain_booking(net.group_room)
    with pytest.raises(BookingForbidden):
        bookings_cancel_day(
            actor=net.coordinator,
            day=timezone.localdate(booking.start),
            reason="Neige",
            place=net.site.place,
        )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_a_nurse_moved_to_another_site_keeps_nothing_of_the_first_organisation(net):
    booking = plain_booking(net.group_room)
    elsewhere = make_site()
    assistant_update(actor=staff_user(), assistant=net.nurse, kind="infirmier", sites=[elsewhere])
    assert not Membership.objects.filter(user=net.nurse.user).exists()
    assert not booking_list(actor=net.nurse.user).filter(pk=booking.pk).exists()
    assert not is_resource_agent(net.nurse.user, elsewhere.resource)


# --- Through telehealth, the team still works ----------------------------------------------------


def test_the_nurse_books_and_the_coordinator_cancels_through_telehealth(net):
    consultation = book(net, actor=net.nurse.user)
    booking = Booking.objects.get(pk=consultation.booking_id)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.allocations.count() == 3  # the site's cart, the doctor, the nurse
    consultation_cancel(actor=net.coordinator, consultation=consultation, reason="Transfert")
    consultation.refresh_from_db()
    booking.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED
    assert booking.status == Booking.Status.CANCELLED


def test_the_coordinator_books_and_the_doctor_cancels_through_telehealth(net):
    consultation = book(net, actor=net.coordinator)
    consultation_cancel(actor=net.doctor.user, consultation=consultation)
    assert Booking.objects.get(pk=consultation.booking_id).status == Booking.Status.CANCELLED


@pytest.mark.parametrize("who", ["coordinator", "nurse", "doctor"])
def test_each_of_them_closes_a_session_through_telehealth(net, who):
    start = past_start()
    consultation = book(net, start=start, now=start - dt.timedelta(days=1))
    user, _room = team(net)[who]
    consultation_close(actor=user, consultation=consultation, status="non_tenue")
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.NOT_HELD
    assert Booking.objects.get(pk=consultation.booking_id).status == Booking.Status.NO_SHOW


# --- The engine's authoriser: inside telehealth's flow, on telehealth's resources only ----------


def test_outside_the_flow_the_same_engine_call_is_refused(net):
    start = past_start()
    consultation = book(net, start=start, now=start - dt.timedelta(days=1))
    booking = Booking.objects.get(pk=consultation.booking_id)
    for user in (net.nurse.user, net.coordinator, net.doctor.user):
        with pytest.raises(BookingForbidden, match="Seul un agent du lieu"):
            booking_mark_no_show(actor=user, booking=booking)
        with pytest.raises(BookingForbidden, match="Vous ne pouvez pas modifier"):
            booking_cancel(actor=user, booking=booking)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_inside_the_flow_a_plain_booking_of_the_organisation_stays_refused(net):
    booking = plain_booking(net.group_room)
    with telehealth_booking_flow(), pytest.raises(BookingForbidden):
        booking_cancel(actor=net.coordinator, booking=booking)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_authoriser_vouches_inside_the_flow_for_telehealths_resources_only(net):
    resources = [net.site.resource, net.doctor.resource, net.nurse.resource]
    user = net.nurse.user
    assert not vouch_inside_flow(resources, actor=user)
    assert not is_authorised_by_module(resources, actor=user)
    with telehealth_booking_flow():
        assert vouch_inside_flow(resources, actor=user)
        assert is_authorised_by_module(resources, actor=user)
        assert not is_authorised_by_module([*resources, net.group_room], actor=user)
        assert not is_authorised_by_module([net.hospital_room], actor=user)
        assert not is_authorised_by_module([], actor=user)
    assert not is_authorised_by_module(resources, actor=user)


# --- Migration 0007: the memberships telehealth gave are taken back, the others stay ------------


def _membership(user, organisation, role, *, before=None) -> Membership:
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    if before is not None:  # given before the telehealth record existed: not telehealth's
        Membership.objects.filter(pk=membership.pk).update(
            created_at=before.created_at - dt.timedelta(days=30)
        )
    return membership


def test_the_migration_drops_telehealths_memberships_and_keeps_the_others(net):
    assisting, practitioner = Role.ASSISTING_PROFESSIONAL, Role.PRACTITIONER
    # What the previous versions of services/network.py gave.
    dropped = [
        _membership(net.coordinator, net.group, assisting),
        _membership(net.nurse.user, net.group, assisting),
        _membership(net.doctor.user, net.hospital, practitioner),
    ]
    # A nurse moved away: the first site's organisation, never taken back by assistant_update.
    moved = make_assistant(sites=[net.site])
    dropped.append(_membership(moved.user, net.group, assisting))
    assistant_update(actor=staff_user(), assistant=moved, kind="infirmier", sites=[make_site()])
    # Given for other reasons: before the site or the record existed, another role, another
    # organisation.
    employee = UserFactory()
    kept = [
        _membership(employee, net.group, assisting, before=net.site),
        _membership(net.coordinator, net.group, Role.MEDIATOR),
        _membership(net.coordinator, OrganisationFactory(), assisting),
        _membership(net.doctor.user, OrganisationFactory(kind="hospital"), practitioner),
        _membership(net.nurse.user, net.hospital, assisting),
    ]
    net.site.coordinators.add(employee)
    doctor_before = UserFactory()
    kept.append(_membership(doctor_before, net.hospital, practitioner))
    Membership.objects.filter(pk=kept[-1].pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    practitioner_create(
        actor=staff_user(),
        user=doctor_before,
        kind="generaliste",
        rpps=str(next(factories._rpps)),
        specialties=[net.derm],
        organisation=net.hospital,
    )

    migration.drop_organisation_memberships(apps, None)

    remaining = set(Membership.objects.values_list("pk", flat=True))
    assert remaining.isdisjoint(m.pk for m in dropped)
    assert {m.pk for m in kept} <= remaining
    row = AuditLog.objects.get(action="telehealth.memberships_dropped")
    assert sorted(m[0] for m in row.data["memberships"]) == sorted(m.pk for m in dropped)
    # Run again (a second database, a re-applied migration): nothing more, no new row.
    migration.drop_organisation_memberships(apps, None)
    assert set(Membership.objects.values_list("pk", flat=True)) == remaining
    assert AuditLog.objects.filter(action="telehealth.memberships_dropped").count() == 1
