"""The patient register and the anonymisation on request (right to erasure), the way people
reach them: the coordinators of a site see its patients and the telehealth staff all of them;
anyone else is refused (403 on the register, 404 on a patient of a site they have nothing to
do with). Anonymising removes the name from the patient and from their bookings, keeps the
reference and birth year, is refused while a consultation is planned or a téléexpertise is
open, and every audit row holds the reference, never the name."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.utils import timezone
from django.utils.html import escape

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Consultation, ExpertiseRequest, Patient
from cybercantal.telehealth.retention import ANONYMISED_NAME
from cybercantal.telehealth.services.consultations import consultation_cancel
from cybercantal.telehealth.services.patients import patient_anonymise
from cybercantal.telehealth.services.sessions import consultation_close
from tests.accounts.factories import UserFactory
from tests.concurrency import run_concurrently
from tests.telehealth.factories import (
    make_assistant,
    make_patient,
    make_practitioner,
    make_site,
    make_specialty,
    staff_user,
)
from tests.telehealth.test_sessions import book, book_past, complete_checklist

pytestmark = pytest.mark.django_db

LIST = "/telesante/patients/"
# Distinctive names: a random user name never contains them, so finding one in the audit log
# can only mean a patient's name leaked there.
NAME = "Mme Zélie Quintrandou"
OTHER_NAME = "M. Anselme Vermenouze"


def erase_url(patient) -> str:
    return f"/telesante/patients/{patient.pk}/anonymiser/"


@pytest.fixture
def net():
    coordinator = UserFactory()
    derm = make_specialty()
    site = make_site(coordinators=[coordinator])
    other_coordinator = UserFactory()
    other_site = make_site(coordinators=[other_coordinator])
    return SimpleNamespace(
        coordinator=coordinator,
        derm=derm,
        site=site,
        doctor=make_practitioner(specialties=[derm]),
        nurse=make_assistant(sites=[site]),
        patient=make_patient(site, name=NAME, birth_year=1937),
        other_coordinator=other_coordinator,
        other_site=other_site,
        other_patient=make_patient(other_site, name=OTHER_NAME, birth_year=1950),
    )


def held(net, **kwargs) -> Consultation:
    """A past consultation of the site, closed as done."""
    consultation = book_past(net, **kwargs)
    complete_checklist(net, consultation)
    return consultation_close(
        actor=net.doctor.user,
        consultation=consultation,
        status=Consultation.Status.DONE,
        channel=Consultation.Channel.VIDEO,
    )


def text(response) -> str:
    return response.content.decode()


def snapshot(patient: Patient) -> tuple:
    patient.refresh_from_db()
    names = list(
        Booking.objects.filter(teleconsultation__patient=patient).values_list(
            "person_name", flat=True
        )
    )
    return patient.display_name, patient.birth_year, patient.updated_at, names


def erasures() -> int:
    return AuditLog.objects.filter(action="telehealth.patient_anonymise").count()


def assert_no_name_in_audit(*names: str) -> None:
    """No audit row holds any word of these names (first name, surname), whatever the case."""
    words = [word.casefold() for name in names for word in name.split()[1:]]
    rows = list(AuditLog.objects.all())
    assert rows
    for row in rows:
        written = json.dumps(row.data, ensure_ascii=False) + row.target_repr + row.actor_repr
        for word in words:
            assert word not in written.casefold(), (row.action, written)


# --- The register -------------------------------------------------------------------------


def test_a_coordinator_sees_the_patients_of_their_site_with_count_and_last_activity(client, net):
    latest = held(net)
    held(net, days_back=20)
    consultation_close(
        actor=net.nurse.user,
        consultation=book_past(net, days_back=30),
        status=Consultation.Status.NOT_HELD,
    )
    cancelled = book(net)
    consultation_cancel(actor=net.coordinator, consultation=cancelled)
    client.force_login(net.coordinator)
    response = client.get(LIST)
    assert response.status_code == 200
    page = text(response)
    assert net.patient.reference in page and NAME in page and "1937" in page
    assert escape(net.site.place.name) in page
    # Two held; neither the one not held nor the cancelled one count. The latest one held is
    # the last activity.
    row = page[page.index(net.patient.reference) :].split("</tr>")[0]
    assert "<td>2</td>" in row
    assert timezone.localtime(latest.scheduled_start).strftime("%d/%m/%Y") in row
    assert erase_url(net.patient) in row
    # Another site's patient stays out of sight.
    assert OTHER_NAME not in page and net.other_patient.reference not in page
    row = AuditLog.objects.get(action="telehealth.patient_view")
    assert row.actor == net.coordinator
    assert row.data == {"page": "liste", "references": [net.patient.reference]}


def test_staff_see_every_site_and_filter_by_site(client, net):
    client.force_login(staff_user())
    page = text(client.get(LIST))
    assert NAME in page and OTHER_NAME in page
    response = client.get(LIST, {"site": net.other_site.pk})
    assert response.status_code == 200
    assert OTHER_NAME in text(response) and NAME not in text(response)


def test_search_by_part_of_the_name_or_the_whole_reference(client, net):
    make_patient(net.site, name="M. Basile Couderc", birth_year=1944)
    client.force_login(net.coordinator)
    page = text(client.get(LIST, {"q": "  quintRAND "}))
    assert NAME in page and "Basile" not in page
    page = text(client.get(LIST, {"q": net.patient.reference.lower()}))
    assert NAME in page and "Basile" not in page
    page = text(client.get(LIST, {"q": net.other_patient.reference}))
    assert OTHER_NAME not in page and "Aucun patient" in page
    # The search text may be a name: the audit row keeps only the references shown.
    assert_no_name_in_audit(NAME, OTHER_NAME, "M. Basile Couderc", "search: quintRAND")


def test_the_register_refuses_bad_input_without_error(client, net):
    client.force_login(net.coordinator)
    response = client.get(LIST, {"site": net.other_site.pk, "page": "zz", "q": "x" * 500})
    assert response.status_code == 400
    assert "Choisissez un site de la liste." in text(response)
    assert OTHER_NAME not in text(response)


def test_the_register_is_refused_to_people_who_coordinate_no_site(client, net):
    response = client.get(LIST)
    assert response.status_code == 302 and "next=" in response["Location"]
    for user in (UserFactory(), net.nurse.user, net.doctor.user):
        client.force_login(user)
        response = client.get(LIST)
        assert response.status_code == 403
        assert NAME not in text(response)
    assert not AuditLog.objects.filter(action="telehealth.patient_view").exists()


# --- Anonymising: who may ---------------------------------------------------------------


def test_the_page_says_what_will_happen_and_is_audited(client, net):
    client.force_login(net.coordinator)
    response = client.get(erase_url(net.patient))
    assert response.status_code == 200
    page = text(response)
    assert NAME in page and net.patient.reference in page
    assert "Son nom est effacé partout" in page
    assert "année de naissance" in page and "plafonds annuels" in page
    assert "Cela ne peut pas être annulé" in page
    assert 'type="checkbox" name="confirm"' in page
    row = AuditLog.objects.get(action="telehealth.patient_view")
    assert row.target_id == str(net.patient.pk) and row.target_repr == net.patient.reference
    assert row.data == {"page": "anonymiser"}


def test_the_coordinator_anonymises_their_patient_name_goes_everywhere(client, net):
    past = held(net)
    other_past = book_past(
        net,
        days_back=20,
        patient=net.other_patient,
        site=net.other_site,
        assistant=None,
        actor=staff_user(),
    )
    before = net.patient.reference, net.patient.birth_year, net.patient.site_id
    client.force_login(net.coordinator)
    response = client.post(erase_url(net.patient), {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q={net.patient.reference}"
    patient = Patient.objects.get(pk=net.patient.pk)
    assert patient.display_name == ANONYMISED_NAME
    assert (patient.reference, patient.birth_year, patient.site_id) == before
    booking = Booking.objects.get(pk=past.booking_id)
    assert (booking.person_name, booking.person_phone, booking.person_email) == (
        ANONYMISED_NAME,
        "",
        "",
    )
    # Nobody else's name changes.
    assert Patient.objects.get(pk=net.other_patient.pk).display_name == OTHER_NAME
    # (The booking engine holds the reference of a teleconsultation's patient, not the name.)
    assert Booking.objects.get(pk=other_past.booking_id).person_name == (
        net.other_patient.reference
    )
    row = AuditLog.objects.get(action="telehealth.patient_anonymise")
    assert row.actor == net.coordinator
    assert row.target_id == str(patient.pk) and row.target_repr == patient.reference
    assert row.data == {"reference": patient.reference}
    page = text(client.get(response["Location"]))
    assert "anonymisé" in page and NAME not in page
    assert_no_name_in_audit(NAME, OTHER_NAME)


def test_staff_anonymise_any_patient(client, net):
    client.force_login(staff_user())
    assert client.get(erase_url(net.other_patient)).status_code == 200
    response = client.post(erase_url(net.other_patient), {"confirm": "on"})
    assert response.status_code == 302
    assert Patient.objects.get(pk=net.other_patient.pk).display_name == ANONYMISED_NAME


def test_without_the_confirmation_box_nothing_changes(client, net):
    before = snapshot(net.patient)
    client.force_login(net.coordinator)
    response = client.post(erase_url(net.patient), {})
    assert response.status_code == 400
    assert escape("Cochez la case pour confirmer l'anonymisation.") in text(response)
    assert snapshot(net.patient) == before and erasures() == 0


def test_people_outside_the_site_get_a_404_its_team_a_403(client, net):
    before = snapshot(net.patient)
    url = erase_url(net.patient)
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302 and "next=" in response["Location"]
    for user, status in (
        (net.other_coordinator, 404),
        (net.doctor.user, 404),
        (UserFactory(), 404),
        (net.nurse.user, 403),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status
        response = client.post(url, {"confirm": "on"})
        assert response.status_code == status
        assert NAME not in text(response)
    assert snapshot(net.patient) == before and erasures() == 0
    client.force_login(net.coordinator)
    assert client.get("/telesante/patients/999999/anonymiser/").status_code == 404
    assert client.get(f"/telesante/patients/{10**30}/anonymiser/").status_code == 404


def test_the_service_refuses_a_coordinator_of_another_site(net):
    with pytest.raises(BookingForbidden):
        patient_anonymise(actor=net.other_coordinator, patient=net.patient)
    with pytest.raises(BookingForbidden):
        patient_anonymise(actor=None, patient=net.patient)
    assert Patient.objects.get(pk=net.patient.pk).display_name == NAME and erasures() == 0


# --- Anonymising: when it must wait ------------------------------------------------------


def test_a_planned_consultation_must_be_cancelled_first(client, net):
    planned = book(net)
    day = timezone.localtime(planned.scheduled_start).strftime("%d/%m/%Y")
    before = snapshot(net.patient)
    client.force_login(net.coordinator)
    page = text(client.get(erase_url(net.patient)))
    assert f"une téléconsultation est prévue le {day}" in page
    assert f"/telesante/consultations/{planned.pk}/annuler/" in page
    assert 'name="confirm"' not in page
    response = client.post(erase_url(net.patient), {"confirm": "on"})
    assert response.status_code == 400
    assert f"téléconsultation prévue le {day}" in text(response)
    assert escape("annulez-la d'abord") in text(response)
    assert snapshot(net.patient) == before and erasures() == 0
    # Once cancelled, the erasure goes through, the cancelled booking included.
    consultation_cancel(actor=net.coordinator, consultation=planned)
    assert client.post(erase_url(net.patient), {"confirm": "on"}).status_code == 302
    planned.booking.refresh_from_db()
    assert planned.booking.person_name == ANONYMISED_NAME


def test_a_past_consultation_left_open_must_be_closed_first(client, net):
    forgotten = book_past(net)
    day = timezone.localtime(forgotten.scheduled_start).strftime("%d/%m/%Y")
    before = snapshot(net.patient)
    client.force_login(net.coordinator)
    page = text(client.get(erase_url(net.patient)))
    assert f"la téléconsultation du {day} à" in page and "n'a pas été clôturée" in page
    assert f'href="/telesante/consultations/{forgotten.pk}/"' in page
    response = client.post(erase_url(net.patient), {"confirm": "on"})
    assert response.status_code == 400 and "clôturez-la ou annulez-la" in text(response)
    assert snapshot(net.patient) == before and erasures() == 0


def test_an_open_teleexpertise_must_be_answered_or_withdrawn_first(client, net):
    expert = make_practitioner(specialties=[net.derm])
    request = ExpertiseRequest.objects.create(
        requester=net.doctor,
        expert=expert,
        specialty=net.derm,
        patient=net.patient,
        question="Lésion ?",
    )
    before = snapshot(net.patient)
    client.force_login(net.coordinator)
    assert "attend encore sa réponse" in text(client.get(erase_url(net.patient)))
    response = client.post(erase_url(net.patient), {"confirm": "on"})
    assert response.status_code == 400 and "attend encore sa réponse" in text(response)
    assert snapshot(net.patient) == before and erasures() == 0
    ExpertiseRequest.objects.filter(pk=request.pk).update(
        status=ExpertiseRequest.Status.ANSWERED, answered_at=timezone.now()
    )
    assert client.post(erase_url(net.patient), {"confirm": "on"}).status_code == 302


def test_an_anonymised_patient_is_left_as_it_is(client, net):
    patient_anonymise(actor=net.coordinator, patient=net.patient)
    before = snapshot(net.patient)
    with pytest.raises(BookingRuleError):
        patient_anonymise(actor=net.coordinator, patient=net.patient)
    client.force_login(net.coordinator)
    page = text(client.get(erase_url(net.patient)))
    assert "déjà anonymisé" in page and 'name="confirm"' not in page
    response = client.post(erase_url(net.patient), {"confirm": "on"})
    assert response.status_code == 400
    assert escape("Ce patient est déjà anonymisé : rien n'a été changé.") in text(response)
    assert snapshot(net.patient) == before and erasures() == 1
    assert "Déjà anonymisé" in text(client.get(LIST))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_anonymise_once(net):
    """Six clicks at the same instant: the patient's row lock lets one through; the others
    find the patient already anonymised and write nothing."""
    outcomes = run_concurrently(
        lambda _i: patient_anonymise(actor=net.coordinator, patient=net.patient), 6
    )
    successes = [o for o in outcomes if isinstance(o, Patient)]
    failures = [o for o in outcomes if not isinstance(o, Patient)]
    assert len(successes) == 1 and successes[0].display_name == ANONYMISED_NAME
    assert len(failures) == 5
    for failure in failures:
        assert isinstance(failure, BookingRuleError), repr(failure)
        assert "déjà anonymisé" in failure.message
    assert erasures() == 1
