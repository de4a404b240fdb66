"""The booking engine is no side door to teleconsultations (booking.hooks: change guards and
visibility filters, registered by telehealth).

A real network: two care homes of the SAME organisation (site A and site B, each with its
coordinator and nurse) and two doctors of the SAME hospital organisation. A teleconsultation
at site A with doctor 1 must not show, with the patient's name, to doctor 2, to site B's
coordinator or nurse (all agents of the same organisations: the hospital employs its doctors and
the group its coordinators and nurses, memberships telehealth does not give, see
test_no_organisation_rights.py) in the engine's lists, its API,
its agenda or its calendar feeds; and nobody may cancel, move or mark its booking through the
engine, not even its participants: the Téléconsultation space does it, keeping the consultation
and its booking in step. Other bookings of the same organisations are untouched."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cybercantal.accounts.models import Membership, Role
from cybercantal.accounts.tokens import api_token_create
from cybercantal.booking import ical
from cybercantal.booking.errors import BookingForbidden
from cybercantal.booking.models import (
    Booking,
    BookingTransition,
    Closure,
    Resource,
    WaitingListEntry,
)
from cybercantal.booking.selectors import booking_get, booking_list, calendar, my_bookings
from cybercantal.booking.services import (
    PersonDetails,
    booking_attendance_correct,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_mark_attended,
    booking_mark_no_show,
    booking_reschedule,
    bookings_cancel_day,
)
from cybercantal.booking.waitlist import waitlist_join
from cybercantal.telehealth.models import Consultation
from cybercantal.telehealth.services.consultations import consultation_cancel
from cybercantal.telehealth.services.network import practitioner_create
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

REFUSED = "espace Téléconsultation"
PATIENT = "Mme Jeanne Martin"


def who(consultation) -> str:
    """How the engine names the booking's person (the patient's name or reference)."""
    return Booking.objects.get(pk=consultation.booking_id).person_name


def hospital_doctor(hospital, specialty):
    practitioner = practitioner_create(
        actor=staff_user(),
        user=UserFactory(),
        kind="specialiste",
        rpps=str(next(factories._rpps)),
        specialties=[specialty],
        organisation=hospital,
    )
    open_hours(practitioner.resource)
    return practitioner


@pytest.fixture
def net():
    derm = make_specialty()
    group = OrganisationFactory(name="Groupe EHPAD du Cantal", kind=Organisation.Kind.CARE_HOME)
    hospital = OrganisationFactory(name="Centre hospitalier d'Aurillac", kind="hospital")
    coord_a, coord_b = UserFactory(), UserFactory()
    site_a = make_site(place=PlaceFactory(organisation=group), coordinators=[coord_a])
    site_b = make_site(place=PlaceFactory(organisation=group), coordinators=[coord_b])
    net = SimpleNamespace(
        derm=derm,
        group=group,
        hospital=hospital,
        site_a=site_a,
        site_b=site_b,
        coord_a=coord_a,
        coord_b=coord_b,
        doc1=hospital_doctor(hospital, derm),
        doc2=hospital_doctor(hospital, derm),
        nurse_a=make_assistant(sites=[site_a]),
        nurse_b=make_assistant(sites=[site_b]),
        patient=make_patient(site_a, name=PATIENT),
    )
    # The premise: every colleague below is an agent of the consultation's resources, through
    # a membership their employer gave (telehealth gives none).
    for practitioner in (net.doc1, net.doc2):
        Membership.objects.create(
            user=practitioner.user, organisation=hospital, role=Role.PRACTITIONER
        )
    for user in (coord_a, coord_b, net.nurse_a.user, net.nurse_b.user):
        Membership.objects.create(user=user, organisation=group, role=Role.ASSISTING_PROFESSIONAL)
    assert net.doc1.resource.organisation == net.doc2.resource.organisation == hospital
    assert site_a.resource.organisation == site_b.resource.organisation == group
    return net


def book(net, *, start=None, now=None) -> Consultation:
    values = {"start": start or next_monday()}
    if now is not None:
        values["now"] = now
    return make_consultation(
        site=net.site_a,
        practitioner=net.doc1,
        specialty=net.derm,
        patient=net.patient,
        assistant=net.nurse_a,
        actor=net.nurse_a.user,
        **values,
    )


def book_past(net) -> Consultation:
    start = past_start()
    return book(net, start=start, now=start - dt.timedelta(days=1))


def colleagues(net) -> list:
    """Agents of the consultation's resources who are not in it: the other doctor of the
    hospital, the coordinator and the nurse of the group's other care home."""
    return [net.doc2.user, net.coord_b, net.nurse_b.user]


def insiders(net) -> list:
    """Who sees the consultation (perms.consultations_for): its doctor, its nurse, its site's
    coordinator, staff."""
    return [net.doc1.user, net.nurse_a.user, net.coord_a, staff_user()]


def snapshot(consultation: Consultation) -> tuple:
    consultation.refresh_from_db()
    booking = Booking.objects.get(pk=consultation.booking_id)
    return (
        consultation.status,
        consultation.scheduled_start,
        consultation.closed_at,
        booking.status,
        booking.start,
        booking.end,
        booking.allocations.filter(is_active=True).count(),
        BookingTransition.objects.filter(booking=booking).count(),
    )


def bearer(user) -> dict:
    _token, raw = api_token_create(actor=user, name="test")
    return {"Authorization": f"Bearer {raw}"}


def feed_text(feed) -> str:
    """The feed as text, its long lines unfolded (RFC 5545 folds them at 75 octets)."""
    return ical.calendar_feed_render(feed).decode().replace("\r\n ", "")


def plain_booking(resource: Resource, start: dt.datetime) -> Booking:
    """A booking that is no teleconsultation, made by an agent of the resource."""
    return booking_create(
        actor=staff_user(),
        resources=[resource],
        start=start,
        end=start + dt.timedelta(minutes=30),
        person=PersonDetails(name="M. Paul Durand", phone="0612345678"),
        channel=Booking.Channel.PHONE,
    )


# --- Reads ---------------------------------------------------------------------------------


def test_colleagues_do_not_see_the_teleconsultation_in_the_engine(net):
    consultation = book(net)
    day = consultation.scheduled_start
    for user in colleagues(net):
        assert consultation.booking_id not in booking_list(actor=user).values_list("pk", flat=True)
        assert booking_get(actor=user, booking_id=consultation.booking_id) is None
        for resource in (net.doc1.resource, net.site_a.resource):
            assert consultation.booking not in calendar(
                actor=user,
                start=day - dt.timedelta(hours=12),
                end=day + dt.timedelta(hours=12),
                resource=resource,
            )
    for user in insiders(net):
        assert booking_get(actor=user, booking_id=consultation.booking_id) is not None
        assert consultation.booking_id in booking_list(actor=user).values_list("pk", flat=True)


def test_being_the_bookings_holder_shows_nothing_more(net):
    # Even were the colleague the booking's own `user`, consultations_for decides.
    consultation = book(net)
    Booking.objects.filter(pk=consultation.booking_id).update(user=net.doc2.user)
    assert booking_get(actor=net.doc2.user, booking_id=consultation.booking_id) is None
    assert not my_bookings(actor=net.doc2.user).exists()
    assert booking_get(actor=net.doc1.user, booking_id=consultation.booking_id) is not None


def test_the_bookings_api_hides_it_from_colleagues(net):
    consultation = book(net)
    client = Client()
    url = f"/api/v1/bookings/{consultation.booking_id}"
    for user in colleagues(net):
        headers = bearer(user)
        listed = client.get("/api/v1/bookings", headers=headers)
        assert listed.status_code == 200
        assert consultation.booking_id not in [b["id"] for b in listed.json()["items"]]
        assert who(consultation) not in listed.content.decode()
        assert client.get(url, headers=headers).status_code == 404
        for action, body in (
            ("cancel", {}),
            ("reschedule", {"start": "2099-01-05T10:00", "end": "2099-01-05T10:30"}),
        ):
            response = client.post(
                f"{url}/{action}",
                json.dumps(body),
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code == 404
    mine = client.get("/api/v1/bookings", headers=bearer(net.doc1.user))
    assert consultation.booking_id in [b["id"] for b in mine.json()["items"]]


def test_the_bookings_api_refuses_to_change_it_even_for_its_doctor(net):
    consultation = book(net)
    before = snapshot(consultation)
    later = consultation.scheduled_start + dt.timedelta(hours=1)
    url = f"/api/v1/bookings/{consultation.booking_id}"
    for action, body in (
        ("cancel", {}),
        (
            "reschedule",
            {"start": later.isoformat(), "end": (later + dt.timedelta(minutes=30)).isoformat()},
        ),
    ):
        response = Client().post(
            f"{url}/{action}",
            json.dumps(body),
            content_type="application/json",
            headers=bearer(net.doc1.user),
        )
        assert response.status_code == 403
        assert REFUSED in response.json()["detail"]
    assert snapshot(consultation) == before


def test_calendar_feeds_and_ics_downloads_hide_it_from_colleagues(net, client):
    consultation = book(net)
    reference = consultation.booking.reference
    for user, resource in (
        (net.doc2.user, net.doc1.resource),
        (net.coord_b, net.site_a.resource),
        (net.nurse_b.user, net.site_a.resource),
    ):
        feed, _raw = ical.calendar_feed_create(actor=user, resource=resource)
        body = feed_text(feed)
        assert reference not in body and who(consultation) not in body
        client.force_login(user)
        download = reverse("booking:booking_ics", args=[consultation.booking_id])
        assert client.get(download).status_code == 404
    feed, _raw = ical.calendar_feed_create(actor=net.doc1.user, resource=net.doc1.resource)
    body = feed_text(feed)
    assert reference in body and who(consultation) in body
    client.force_login(net.doc1.user)
    assert (
        client.get(reverse("booking:booking_ics", args=[consultation.booking_id])).status_code
        == 200
    )


def test_the_agenda_page_hides_it_from_colleagues(net, client):
    consultation = book(net)
    query = {
        "cible": f"ressource-{net.doc1.resource.pk}",
        "date": timezone.localdate(consultation.scheduled_start).isoformat(),
    }
    client.force_login(net.doc2.user)
    page = client.get(reverse("booking:agenda"), query)
    assert page.status_code == 200
    assert who(consultation) not in page.content.decode()
    client.force_login(net.doc1.user)
    assert who(consultation) in client.get(reverse("booking:agenda"), query).content.decode()


# --- Changes through the engine ------------------------------------------------------------


def test_nobody_cancels_or_moves_it_through_the_engine(net):
    consultation = book(net)
    before = snapshot(consultation)
    later = consultation.scheduled_start + dt.timedelta(hours=1)
    for user in [*colleagues(net), *insiders(net)]:
        with pytest.raises(BookingForbidden, match=REFUSED):
            booking_cancel(actor=user, booking=consultation.booking, reason="Par le lieu")
        with pytest.raises(BookingForbidden, match=REFUSED):
            booking_reschedule(
                actor=user,
                booking=consultation.booking,
                start=later,
                end=later + dt.timedelta(minutes=30),
            )
        with pytest.raises(BookingForbidden, match=REFUSED):
            booking_confirm(actor=user, booking=consultation.booking)
    assert snapshot(consultation) == before


def test_nobody_marks_it_through_the_engine(net):
    consultation = book_past(net)
    before = snapshot(consultation)
    for user in [*colleagues(net), net.doc1.user, net.nurse_a.user, net.coord_a]:
        for mark in (booking_mark_attended, booking_mark_no_show):
            with pytest.raises(BookingForbidden, match=REFUSED):
                mark(actor=user, booking=consultation.booking)
    assert snapshot(consultation) == before


def test_nobody_corrects_its_attendance_through_the_engine(net):
    consultation = book_past(net)
    consultation_close(actor=net.nurse_a.user, consultation=consultation, status="non_tenue")
    before = snapshot(consultation)
    assert before[0] == Consultation.Status.NOT_HELD and before[3] == Booking.Status.NO_SHOW
    for user in (net.doc2.user, net.doc1.user, net.coord_a):
        with pytest.raises(BookingForbidden, match=REFUSED):
            booking_attendance_correct(
                actor=user, booking=consultation.booking, to_status=Booking.Status.ATTENDED
            )
    assert snapshot(consultation) == before


def test_cancelling_the_doctors_day_refuses_and_cancels_nothing(net):
    consultation = book(net)
    other = plain_booking(
        ResourceFactory(organisation=net.hospital, name="Salle de staff"),
        consultation.scheduled_start,
    )
    before = snapshot(consultation)
    closures = Closure.objects.count()
    with pytest.raises(BookingForbidden, match=REFUSED):
        bookings_cancel_day(
            actor=net.doc1.user,
            day=timezone.localdate(consultation.scheduled_start),
            reason="Malade",
            resource=net.doc1.resource,
        )
    assert snapshot(consultation) == before
    assert Closure.objects.count() == closures
    other.refresh_from_db()
    assert other.status == Booking.Status.CONFIRMED


# --- Through telehealth, it works ----------------------------------------------------------


def test_the_coordinator_cancels_through_telehealth(net):
    consultation = book(net)
    consultation_cancel(actor=net.coord_a, consultation=consultation, reason="Transfert")
    consultation.refresh_from_db()
    consultation.booking.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED
    assert consultation.booking.status == Booking.Status.CANCELLED
    assert not consultation.booking.allocations.filter(is_active=True).exists()


def test_the_doctor_cancels_through_telehealth(net):
    consultation = book(net)
    consultation_cancel(actor=net.doc1.user, consultation=consultation)
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED
    assert Booking.objects.get(pk=consultation.booking_id).status == Booking.Status.CANCELLED


def test_a_colleague_cannot_cancel_through_telehealth_either(net):
    consultation = book(net)
    before = snapshot(consultation)
    with pytest.raises(BookingForbidden):
        consultation_cancel(actor=net.doc2.user, consultation=consultation)
    assert snapshot(consultation) == before


def test_the_nurse_closes_through_telehealth(net):
    consultation = book_past(net)
    consultation_close(actor=net.nurse_a.user, consultation=consultation, status="non_tenue")
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.NOT_HELD
    assert Booking.objects.get(pk=consultation.booking_id).status == Booking.Status.NO_SHOW


# --- Other bookings of the same organisations: unchanged -----------------------------------


@pytest.mark.parametrize("owner", ["hospital", "group"])
def test_other_bookings_of_the_same_organisations_are_unaffected(net, owner):
    book(net)  # a teleconsultation alongside
    resource = ResourceFactory(organisation=getattr(net, owner), name="Salle de réunion")
    start = next_monday(at=dt.time(14, 0))
    booking = plain_booking(resource, start)
    colleague = net.doc2.user if owner == "hospital" else net.coord_b
    assert booking_get(actor=colleague, booking_id=booking.pk) is not None
    assert booking in calendar(
        actor=colleague,
        start=start - dt.timedelta(hours=1),
        end=start + dt.timedelta(hours=1),
        resource=resource,
    )
    feed, _raw = ical.calendar_feed_create(actor=colleague, resource=resource)
    assert booking.reference in feed_text(feed)
    later = start + dt.timedelta(hours=1)
    booking_reschedule(
        actor=colleague, booking=booking, start=later, end=later + dt.timedelta(minutes=30)
    )
    booking.refresh_from_db()
    assert booking.start == later
    booking_cancel(actor=colleague, booking=booking)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_a_practitioners_agenda_has_no_waiting_list_of_its_own(net):
    """The waiting list's holds are bookings: the engine's creation guard applies to them."""
    start = next_monday()
    with pytest.raises(BookingForbidden, match="espace Téléconsultation"):
        waitlist_join(
            actor=net.doc2.user,
            resource=net.doc1.resource,
            window_start=start,
            window_end=start + dt.timedelta(hours=4),
            person=PersonDetails(name="M. Paul Durand", phone="0612345678"),
        )
    assert not WaitingListEntry.objects.exists()
    # An ordinary resource of the same hospital keeps its waiting list.
    room = ResourceFactory(organisation=net.hospital, name="Salle de staff")
    entry = waitlist_join(
        actor=net.doc2.user,
        resource=room,
        window_start=start,
        window_end=start + dt.timedelta(hours=4),
        duration=dt.timedelta(minutes=30),
        person=PersonDetails(name="M. Paul Durand", phone="0612345678"),
    )
    assert entry.pk is not None
