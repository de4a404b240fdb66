"""Who reaches what when one organisation runs several sites, the person who booked a
consultation, and the edges of booking and closing a session (perms.py, services/
consultations.py, services/sessions.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Consultation
from cybercantal.telehealth.perms import (
    consultations_for,
    may_book_at,
    may_cancel_consultation,
    may_see_consultation,
)
from cybercantal.telehealth.retention import ANONYMISED_NAME
from cybercantal.telehealth.services.consultations import consultation_book, consultation_cancel
from cybercantal.telehealth.services.sessions import consultation_close
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_assistant,
    make_patient,
    make_site,
    next_monday,
)
from tests.telehealth.test_sessions import (
    book,
    book_past,
    build_network,
    complete_checklist,
    connectivity,
)
from tests.territory.factories import PlaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def net():
    return build_network()


@pytest.fixture
def sister(net):
    """A second care home of the same organisation, with its own coordinator and nurse."""
    coordinator = UserFactory()
    site = make_site(
        coordinators=[coordinator],
        place=PlaceFactory(organisation=net.site.place.organisation),
    )
    nurse = make_assistant(sites=[site])
    return {"site": site, "coordinator": coordinator, "nurse": nurse, "patient": make_patient(site)}


def test_the_team_of_one_site_does_not_reach_a_sister_site_of_the_same_organisation(net, sister):
    consultation = book(net)
    for outsider in (sister["coordinator"], sister["nurse"].user):
        assert not may_book_at(outsider, net.site)
        assert not may_see_consultation(outsider, consultation)
        assert not may_cancel_consultation(outsider, consultation)
        assert not consultations_for(outsider).filter(pk=consultation.pk).exists()
        with pytest.raises(BookingForbidden):
            consultation_cancel(actor=outsider, consultation=consultation)
        with pytest.raises(BookingForbidden):
            consultation_book(
                actor=outsider,
                site=net.site,
                practitioner=net.doctor,
                specialty=net.derm,
                patient=net.patient,
                assistant=net.nurse,
                start=next_monday(weeks=2),
            )
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.PLANNED
    # Each team still books at its own site.
    assert may_book_at(sister["coordinator"], sister["site"])
    assert may_book_at(net.coordinator, net.site)


def test_the_sister_sites_patient_list_and_pages_stay_closed(net, sister):
    consultation = book(net)
    client = Client()
    client.force_login(sister["coordinator"])
    detail = client.get(reverse("telehealth:consultation_detail", args=[consultation.pk]))
    assert detail.status_code == 404
    listing = client.get(reverse("telehealth:consultations"))
    assert net.patient.display_name not in listing.content.decode()


def test_the_person_who_booked_sees_and_cancels_what_they_booked(net):
    """A nurse of the site books for a colleague: she is not a participant, yet she must find
    what she booked (the booking page sends her to it)."""
    colleague = make_assistant(sites=[net.site])
    consultation = book(net, assistant=colleague, actor=net.nurse.user)
    assert consultation.requested_by == net.nurse.user
    assert may_see_consultation(net.nurse.user, consultation)
    assert consultations_for(net.nurse.user).filter(pk=consultation.pk).exists()
    client = Client()
    client.force_login(net.nurse.user)
    response = client.get(reverse("telehealth:consultation_detail", args=[consultation.pk]))
    assert response.status_code == 200
    consultation_cancel(actor=net.nurse.user, consultation=consultation)
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED


def test_the_booking_engine_holds_the_patients_reference_not_the_name(net):
    consultation = book(net)
    assert consultation.booking.person_name == net.patient.reference
    assert net.patient.display_name not in consultation.booking.person_name


def test_an_anonymised_patient_is_not_booked_again(net):
    type(net.patient).objects.filter(pk=net.patient.pk).update(display_name=ANONYMISED_NAME)
    net.patient.refresh_from_db()
    with pytest.raises(BookingRuleError, match="anonymisé"):
        book(net)
    assert not Consultation.objects.exists()


def test_a_slot_beyond_a_year_is_refused_by_the_service(net):
    with pytest.raises(BookingRuleError, match="au plus un an à l'avance"):
        book(net, start=timezone.now() + dt.timedelta(days=400))
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:00+14:00", "0001-01-01T00:00:00-12:00", "2100-01-01T10:00:00+01:00"],
)
def test_a_crafted_slot_at_the_edge_of_the_calendar_is_a_french_refusal(net, moment):
    client = Client()
    client.force_login(net.nurse.user)
    response = client.post(
        reverse("telehealth:consultation_book"),
        {
            "action": "book",
            "site": net.site.pk,
            "specialty": net.derm.pk,
            "patient": net.patient.pk,
            "slot": f"{net.doctor.pk}|{moment}",
            "transport_avoided": "vsl",
        },
    )
    assert response.status_code == 400
    assert not Consultation.objects.exists()


def test_the_consultation_list_and_api_list_are_audited(net):
    consultation = book(net)
    client = Client()
    client.force_login(net.coordinator)
    assert client.get(reverse("telehealth:consultations")).status_code == 200
    row = AuditLog.objects.get(action="telehealth.consultation_list", data__page="liste")
    assert row.data["consultations"] == [consultation.pk]
    assert client.get("/api/v1/telesante/consultations").status_code == 200
    assert AuditLog.objects.filter(action="telehealth.consultation_list", data__page="api").exists()
    # No patient name in what the audit keeps.
    for row in AuditLog.objects.filter(action="telehealth.consultation_list"):
        assert net.patient.display_name not in str(row.data)


@pytest.mark.parametrize(
    ("tested", "refused", "allowed"),
    [
        ("audio", "video", "audio"),
        ("telephone", "audio", "telephone"),
    ],
)
def test_a_session_is_not_closed_through_a_better_channel_than_its_test_allowed(
    net, tested, refused, allowed
):
    consultation = book_past(net)
    connectivity(net.site, recommendation=tested)
    complete = complete_checklist(net, consultation)
    # complete_checklist records a video test of its own: keep the test under scrutiny.
    latest = net.site.connectivity_tests.order_by("measured_at").first()
    Consultation.objects.filter(pk=complete.pk).update(connectivity_test=latest)
    consultation.refresh_from_db()
    assert consultation.connectivity_test.recommendation == tested
    with pytest.raises(BookingRuleError, match="recommandait"):
        consultation_close(
            actor=net.nurse.user,
            consultation=consultation,
            status=Consultation.Status.DONE,
            channel=refused,
        )
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.PLANNED
    consultation_close(
        actor=net.nurse.user,
        consultation=consultation,
        status=Consultation.Status.DONE,
        channel=allowed,
    )
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.DONE


def test_whoever_booked_loses_the_consultation_once_off_the_site(net):
    consultation = book(net, actor=net.coordinator)
    assert may_see_consultation(net.coordinator, consultation)
    net.site.coordinators.remove(net.coordinator)
    assert not may_see_consultation(net.coordinator, consultation)
    assert not may_cancel_consultation(net.coordinator, consultation)
    assert not consultations_for(net.coordinator).filter(pk=consultation.pk).exists()


def test_the_home_and_booking_pages_audit_the_names_they_show(net):
    consultation = book(net)
    client = Client()
    client.force_login(net.nurse.user)
    assert client.get(reverse("telehealth:home")).status_code == 200
    home = AuditLog.objects.get(action="telehealth.consultation_list", data__page="accueil")
    assert home.data["consultations"] == [consultation.pk]
    response = client.get(
        reverse("telehealth:consultation_book"),
        {"site": net.site.pk, "specialty": net.derm.pk},
    )
    assert response.status_code == 200
    assert net.patient.display_name in response.content.decode()
    shown = AuditLog.objects.get(action="telehealth.patient_view", data__page="reserver")
    assert shown.data["references"] == [net.patient.reference]
    assert net.patient.display_name not in str(shown.data)


def test_the_new_teleexpertise_page_audits_the_patients_it_lists():
    from tests.telehealth.test_expertise import doctors as make_doctors

    doctors = make_doctors.__wrapped__()
    client = Client()
    client.force_login(doctors["requester"].user)
    response = client.get(reverse("telehealth:expertise_new"))
    assert response.status_code == 200
    assert doctors["patient"].display_name in response.content.decode()
    shown = AuditLog.objects.get(action="telehealth.patient_view", data__page="teleexpertise")
    assert shown.data["references"] == [doctors["patient"].reference]


def test_the_sites_team_may_enable_two_factor_without_a_role(net):
    """Telehealth gives no membership (its rights come from the site), yet its people see
    patients' names: two-factor authentication is offered to them, not to a resident."""
    from cybercantal.accounts.perms import can_enable_two_factor

    for person in (net.nurse.user, net.coordinator, net.doctor.user):
        assert not person.memberships.exists()
        assert can_enable_two_factor(person)
    assert not can_enable_two_factor(UserFactory())


def test_a_site_or_practitioner_with_planned_sessions_is_not_taken_out_of_service(net):
    from cybercantal.telehealth.services.network import practitioner_update, site_update
    from tests.telehealth.factories import staff_user

    consultation = book(net)
    staff = staff_user()
    with pytest.raises(BookingRuleError, match="1 téléconsultation est encore prévue sur ce site"):
        site_update(actor=staff, site=net.site, kind=net.site.kind, is_active=False)
    with pytest.raises(BookingRuleError, match="prévue pour ce médecin"):
        practitioner_update(
            actor=staff,
            practitioner=net.doctor,
            kind=net.doctor.kind,
            specialties=[net.derm],
            is_active=False,
        )
    net.site.refresh_from_db()
    net.doctor.refresh_from_db()
    assert net.site.is_active and net.doctor.is_active
    consultation_cancel(actor=net.coordinator, consultation=consultation)
    site_update(actor=staff, site=net.site, kind=net.site.kind, is_active=False)
    net.site.refresh_from_db()
    assert not net.site.is_active and net.site.closed_on == timezone.localdate()
