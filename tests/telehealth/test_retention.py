"""Retention of teleconsultation data (telehealth.retention), on fixed dates: what is past its
period is erased, what is not is kept, the boundaries fall on the documented day, and a second
run erases nothing."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cybercantal.booking.models import Booking
from cybercantal.core.models import AuditLog
from cybercantal.core.scheduler import periodic_jobs
from cybercantal.telehealth import tasks
from cybercantal.telehealth.models import (
    Act,
    ActTariff,
    ConnectivityTest,
    Consultation,
    ExpertiseAttachment,
    ExpertiseRequest,
    Incident,
    Patient,
)
from cybercantal.telehealth.retention import (
    ANONYMISED_NAME,
    RetentionReport,
    connectivity_tests_delete,
    expertise_contents_erase,
    incident_causes_clear,
    months_before,
    patients_anonymise,
    retention_apply,
)
from tests.telehealth.factories import (
    make_assistant,
    make_consultation,
    make_patient,
    make_practitioner,
    make_site,
    make_specialty,
    next_monday,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 6, 15, 10, 0, tzinfo=PARIS)  # the day retention runs


def at(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


class Network:
    def __init__(self):
        self.derm = make_specialty()
        self.site = make_site()
        self.doctor = make_practitioner(specialties=[self.derm])
        self.expert = make_practitioner(specialties=[self.derm])
        self.nurse = make_assistant(sites=[self.site])
        self.weeks = 0
        self.tariff = ActTariff.objects.create(
            code="TCG",
            label="Téléconsultation",
            role="medecin",
            amount=Decimal("25"),
            valid_from=dt.date(2020, 1, 1),
        )

    def patient(self, name, created) -> Patient:
        patient = make_patient(self.site, name=name, birth_year=1941)
        Patient.objects.filter(pk=patient.pk).update(created_at=created)
        return patient

    def consultation(self, patient, when) -> Consultation:
        # Booked in the engine's window, then moved to the day the test needs.
        self.weeks += 1
        consultation = make_consultation(
            site=self.site,
            practitioner=self.doctor,
            assistant=self.nurse,
            specialty=self.derm,
            patient=patient,
            start=next_monday(weeks=self.weeks),
        )
        Consultation.objects.filter(pk=consultation.pk).update(scheduled_start=when)
        return consultation

    def expertise(self, patient, asked, answered=None, question="Lésion pigmentée ?", files=0):
        request = ExpertiseRequest.objects.create(
            requester=self.doctor,
            expert=self.expert,
            specialty=self.derm,
            patient=patient,
            question=question,
            answer="Avis : à surveiller." if answered else "",
            status="repondue" if answered else "ouverte",
            asked_at=asked,
            answered_at=answered,
        )
        for number in range(files):
            ExpertiseAttachment.objects.create(
                request=request,
                file=ContentFile(b"%PDF-1.4 photo", name=f"photo{number}.pdf"),
                content_type="application/pdf",
                size=14,
                sha256="0" * 64,
            )
        return request


@pytest.fixture
def network():
    return Network()


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_months_are_counted_on_the_calendar():
    assert months_before(dt.date(2027, 6, 15), 13) == dt.date(2026, 5, 15)
    assert months_before(dt.date(2027, 3, 31), 1) == dt.date(2027, 2, 28)
    assert months_before(dt.date(2028, 2, 29), 12) == dt.date(2027, 2, 28)
    assert months_before(dt.date(2027, 1, 15), 13) == dt.date(2025, 12, 15)


def test_connectivity_tests_are_deleted_after_13_months_unless_a_checklist_used_them(network):
    def measured(when):
        return ConnectivityTest.objects.create(
            site=network.site,
            measured_at=when,
            download_mbps=Decimal("8"),
            upload_mbps=Decimal("2"),
            latency_ms=40,
            recommendation="video",
        )

    too_old = measured(at(2026, 5, 14, 23, 59))
    first_day_kept = measured(at(2026, 5, 15, 0, 1))
    used = measured(at(2025, 1, 6))
    consultation = network.consultation(network.patient("Mme A", at(2025, 1, 1)), at(2025, 1, 6))
    Consultation.objects.filter(pk=consultation.pk).update(connectivity_test=used)

    assert connectivity_tests_delete(now=NOW) == 1
    assert set(ConnectivityTest.objects.values_list("pk", flat=True)) == {
        first_day_kept.pk,
        used.pk,
    }
    assert not ConnectivityTest.objects.filter(pk=too_old.pk).exists()
    assert reload(consultation).connectivity_test_id == used.pk
    assert connectivity_tests_delete(now=NOW) == 0


def test_expertise_content_goes_30_days_after_the_answer_or_90_days_unanswered(
    network, django_capture_on_commit_callbacks
):
    patient = network.patient("M. B", at(2026, 1, 1))
    answered_31 = network.expertise(patient, at(2026, 12, 1), answered=at(2027, 5, 15), files=2)
    answered_29 = network.expertise(patient, at(2027, 5, 1), answered=at(2027, 5, 17), files=1)
    unanswered_91 = network.expertise(patient, at(2027, 3, 16, 9), files=1)
    unanswered_89 = network.expertise(patient, at(2027, 3, 18))
    erased_files = list(answered_31.attachments.values_list("file", flat=True)) + list(
        unanswered_91.attachments.values_list("file", flat=True)
    )
    kept_file = answered_29.attachments.get().file.name
    assert all(default_storage.exists(name) for name in [*erased_files, kept_file])

    with django_capture_on_commit_callbacks(execute=True):
        assert expertise_contents_erase(now=NOW) == (2, 3)

    for request in (answered_31, unanswered_91):
        request = reload(request)
        assert (request.question, request.answer, request.content_erased_at) == ("", "", NOW)
        assert not request.attachments.exists()
    # What the statistics and act coding need stays.
    answered = reload(answered_31)
    assert (answered.status, answered.answered_at, answered.patient_id) == (
        "repondue",
        at(2027, 5, 15),
        patient.pk,
    )
    assert not any(default_storage.exists(name) for name in erased_files)
    for request in (answered_29, unanswered_89):
        request = reload(request)
        assert request.question == "Lésion pigmentée ?" and request.content_erased_at is None
    assert default_storage.exists(kept_file)
    assert ExpertiseAttachment.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert expertise_contents_erase(now=NOW) == (0, 0)


def test_patients_idle_for_3_years_are_anonymised_and_keep_their_birth_year(network):
    long_ago = at(2023, 1, 10)
    idle_consulted = network.patient("Mme Jeanne Martin", long_ago)
    old_consultation = network.consultation(idle_consulted, at(2024, 6, 14, 16))
    never_seen = network.patient("M. Paul Roux", long_ago)
    consulted_on_the_day = network.patient("Mme Odile Vidal", long_ago)
    network.consultation(consulted_on_the_day, at(2024, 6, 15, 9))
    with_act = network.patient("M. Louis Bos", long_ago)
    act_consultation = network.consultation(with_act, at(2023, 2, 1))
    Act.objects.create(
        consultation=act_consultation,
        patient=with_act,
        professional=network.doctor.user,
        tariff=network.tariff,
        code="TCG",
        role="medecin",
        amount=Decimal("25"),
        performed_on=dt.date(2024, 7, 1),
    )
    with_expertise = network.patient("Mme Rose Delmas", long_ago)
    network.expertise(with_expertise, at(2025, 1, 2), answered=at(2025, 1, 3))
    planned = network.patient("M. Henri Teyssou", long_ago)
    network.consultation(planned, at(2027, 7, 1))
    newcomer = network.patient("Mme Lucie Brun", at(2025, 1, 1))

    assert patients_anonymise(now=NOW) == 2

    for patient in (idle_consulted, never_seen):
        patient = reload(patient)
        assert patient.display_name == ANONYMISED_NAME
        assert patient.birth_year == 1941 and patient.site_id == network.site.pk
    booking = Booking.objects.get(pk=old_consultation.booking_id)
    assert booking.person_name == ANONYMISED_NAME
    assert not Booking.objects.filter(person_name="Mme Jeanne Martin").exists()
    for patient, name in (
        (consulted_on_the_day, "Mme Odile Vidal"),
        (with_act, "M. Louis Bos"),
        (with_expertise, "Mme Rose Delmas"),
        (planned, "M. Henri Teyssou"),
        (newcomer, "Mme Lucie Brun"),
    ):
        assert reload(patient).display_name == name
    assert patients_anonymise(now=NOW) == 0


def test_incident_causes_are_cleared_after_13_months(network):
    consultation = network.consultation(network.patient("Mme C", at(2026, 1, 1)), at(2026, 5, 1))

    def incident(when):
        return Incident.objects.create(
            consultation=consultation,
            kind="reseau",
            fallback="telephone",
            cause="Box redémarrée par M. Dupont, le technicien",
            occurred_at=when,
        )

    old, recent = incident(at(2026, 5, 14, 23)), incident(at(2026, 5, 15, 1))
    assert incident_causes_clear(now=NOW) == 1
    old, recent = reload(old), reload(recent)
    assert (old.cause, old.kind, old.fallback) == ("", "reseau", "telephone")
    assert recent.cause.startswith("Box redémarrée")
    assert incident_causes_clear(now=NOW) == 0


def test_one_run_applies_every_rule_audits_the_counts_and_a_second_run_does_nothing(
    network, django_capture_on_commit_callbacks
):
    patient = network.patient("Mme D", at(2023, 1, 1))
    consultation = network.consultation(patient, at(2023, 3, 1))
    Incident.objects.create(
        consultation=consultation,
        kind="video",
        fallback="audio",
        cause="Serveur vidéo arrêté",
        occurred_at=at(2023, 3, 1),
    )
    network.expertise(patient, at(2023, 2, 1), answered=at(2023, 2, 2), files=1)
    ConnectivityTest.objects.create(
        site=network.site,
        measured_at=at(2023, 3, 1),
        download_mbps=Decimal("1"),
        upload_mbps=Decimal("1"),
        latency_ms=90,
        recommendation="audio",
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = retention_apply(now=NOW)
    assert report == RetentionReport(
        connectivity_tests=1,
        expertise_contents=1,
        attachments_deleted=1,
        patients=1,
        incident_causes=1,
    )
    row = AuditLog.objects.get(action="telehealth.retention")
    assert row.data["patients"] == 1 and row.actor is None
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply(now=NOW) == RetentionReport()
    assert AuditLog.objects.filter(action="telehealth.retention").count() == 1


def test_the_job_registers_daily_and_runs():
    was_registered = periodic_jobs.get("telehealth.retention") is not None
    tasks.register()
    try:
        job = periodic_jobs.get("telehealth.retention")
        assert job.every == dt.timedelta(days=1)
        assert job.task is tasks.retention_apply_task
        assert tasks.retention_apply_task.call() == {
            "connectivity_tests": 0,
            "expertise_contents": 0,
            "attachments_deleted": 0,
            "patients": 0,
            "incident_causes": 0,
        }
    finally:
        if not was_registered:
            periodic_jobs.unregister("telehealth.retention")
