"""Retention of teleconsultation data (docs/guides/telesante-conservation.md explains it in
French for the people concerned). Run daily by `tasks.retention_apply_task`; each rule is
idempotent (a second run finds nothing left), works in a few bulk queries, and returns how many
records it changed.

What is erased, and when (periods to be validated by the data protection officer):
- connectivity tests: deleted 13 months after the measure. A year of history shows how a
  site's line behaves across the seasons and after works on it; the extra month lets the same
  month of last year be compared. A test that a consultation's checklist relied on stays as
  long as that consultation: it is part of the record of how the session was prepared.
- téléexpertise content (question, answer, attachments): erased 30 days after the answer, or
  90 days after the request when it was never answered. The content is clinical; the two
  doctors copy what they need into their own medical records (where the law of the medical
  record applies), the platform is only the messenger. The request itself stays (who, when,
  specialty, time to answer) for the statistics and the act coding. `content_erased_at` says
  when; attachment files are deleted from storage once the change is committed. A request
  its doctor withdraws is erased at once (services/expertise.py), with the same file
  deletion.
- patients: anonymised after 3 years without a consultation, an act or a téléexpertise (nor
  any planned). The name becomes "Patient anonymisé" (also in the bookings of their
  consultations); the birth year, site and eligibility flags stay, so that the statistics
  (age bands, care-home residents, yearly caps of past years) give the same figures. Three
  years: a patient followed once a year or less keeps being recognised by the site's team.
  A patient may also ask to be anonymised earlier (right to erasure): the site's coordinator
  or the telehealth staff do it from the patient list (services/patients.py), with the same
  function as this rule.
- incidents: the free-text technical cause is cleared 13 months after the incident (the text
  may name people or places; the kind of incident and the fallback stay for the statistics).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cybercantal.booking.models import Booking
from cybercantal.core.audit import audit_log

from .models import (
    ConnectivityTest,
    Consultation,
    ExpertiseAttachment,
    ExpertiseRequest,
    Incident,
    Patient,
)

logger = logging.getLogger(__name__)

CONNECTIVITY_TEST_MONTHS = 13
EXPERTISE_AFTER_ANSWER_DAYS = 30
EXPERTISE_UNANSWERED_DAYS = 90
PATIENT_INACTIVE_YEARS = 3
INCIDENT_CAUSE_MONTHS = 13
# Not translated: it is stored, and must read the same whatever the language of the run.
ANONYMISED_NAME = "Patient anonymisé"


@dataclass(frozen=True)
class RetentionReport:
    connectivity_tests: int = 0
    expertise_contents: int = 0
    attachments_deleted: int = 0
    patients: int = 0
    incident_causes: int = 0

    @property
    def total(self) -> int:
        return (
            self.connectivity_tests
            + self.expertise_contents
            + self.attachments_deleted
            + self.patients
            + self.incident_causes
        )


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _today(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def connectivity_tests_delete(*, now: dt.datetime | None = None) -> int:
    """Delete the tests measured more than CONNECTIVITY_TEST_MONTHS ago (counted from the
    start of the day), except those a consultation's checklist points to; return how many."""
    now = now or timezone.now()
    cutoff = _local_midnight(months_before(_today(now), CONNECTIVITY_TEST_MONTHS))
    used = Consultation.objects.filter(connectivity_test__isnull=False).values(
        "connectivity_test_id"
    )
    with transaction.atomic():
        deleted, _per_model = (
            ConnectivityTest.objects.filter(measured_at__lt=cutoff).exclude(pk__in=used).delete()
        )
    return deleted


def expertise_contents_erase(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Erase the question, answer and attachments of the requests answered more than
    EXPERTISE_AFTER_ANSWER_DAYS ago, or asked more than EXPERTISE_UNANSWERED_DAYS ago and
    never answered, or withdrawn (a withdrawal erases at once; this catches those withdrawn
    before it did); return (requests erased, attachment files deleted). Attachments left on an
    already erased request go too. Files are deleted after commit: a rolled-back run leaves
    them in place."""
    now = now or timezone.now()
    due = ExpertiseRequest.objects.filter(content_erased_at__isnull=True).filter(
        Q(status=ExpertiseRequest.Status.WITHDRAWN)
        | Q(answered_at__lt=now - dt.timedelta(days=EXPERTISE_AFTER_ANSWER_DAYS))
        | Q(
            answered_at__isnull=True,
            asked_at__lt=now - dt.timedelta(days=EXPERTISE_UNANSWERED_DAYS),
        )
    )
    with transaction.atomic():
        erased = due.update(question="", answer="", content_erased_at=now, updated_at=now)
        attachments = ExpertiseAttachment.objects.filter(request__content_erased_at__isnull=False)
        names = [name for name in attachments.values_list("file", flat=True) if name]
        attachments.delete()
        transaction.on_commit(lambda: delete_attachment_files(names))
    return erased, len(names)


def delete_attachment_files(names: list[str]) -> None:
    storage = ExpertiseAttachment._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # one unreadable file must not keep the others
            logger.exception("Retention: the attachment %s was not deleted", name)


def patients_anonymise(*, now: dt.datetime | None = None) -> int:
    """Anonymise the patients recorded more than PATIENT_INACTIVE_YEARS ago with no
    consultation (past or planned), act or téléexpertise since then; return how many. The name
    goes from the patient and from the bookings of their consultations; the birth year stays."""
    now = now or timezone.now()
    cutoff_day = months_before(_today(now), 12 * PATIENT_INACTIVE_YEARS)
    cutoff = _local_midnight(cutoff_day)
    due = (
        Patient.objects.filter(created_at__lt=cutoff)
        .exclude(display_name=ANONYMISED_NAME)
        .exclude(consultations__scheduled_start__gte=cutoff)
        .exclude(acts__performed_on__gte=cutoff_day)
        .exclude(expertise_requests__asked_at__gte=cutoff)
        .exclude(expertise_requests__answered_at__gte=cutoff)
    )
    with transaction.atomic():
        return patient_records_anonymise(
            patient_ids=list(due.values_list("pk", flat=True)), now=now
        )


def patient_records_anonymise(*, patient_ids: list[int], now: dt.datetime) -> int:
    """Replace the name of these patients by ANONYMISED_NAME, on the patient and in the
    bookings of their consultations (phone and e-mail cleared); return how many patients
    changed. The one place that says what anonymising removes: the scheduled rule above and
    the erasure on request (services/patients.py) both call it, inside their transaction."""
    if not patient_ids:
        return 0
    Booking.objects.filter(teleconsultation__patient_id__in=patient_ids).update(
        person_name=ANONYMISED_NAME, person_phone="", person_email=""
    )
    return Patient.objects.filter(pk__in=patient_ids).update(
        display_name=ANONYMISED_NAME, updated_at=now
    )


def incident_causes_clear(*, now: dt.datetime | None = None) -> int:
    """Clear the technical cause of the incidents older than INCIDENT_CAUSE_MONTHS; return
    how many."""
    now = now or timezone.now()
    cutoff = _local_midnight(months_before(_today(now), INCIDENT_CAUSE_MONTHS))
    with transaction.atomic():
        return Incident.objects.filter(occurred_at__lt=cutoff).exclude(cause="").update(cause="")


def retention_apply(*, now: dt.datetime | None = None) -> RetentionReport:
    """Apply every retention rule of telehealth; write one audit row with the counts when
    anything was erased."""
    now = now or timezone.now()
    expertise, files = expertise_contents_erase(now=now)
    report = RetentionReport(
        connectivity_tests=connectivity_tests_delete(now=now),
        expertise_contents=expertise,
        attachments_deleted=files,
        patients=patients_anonymise(now=now),
        incident_causes=incident_causes_clear(now=now),
    )
    if report.total:
        audit_log(actor=None, action="telehealth.retention", data=asdict(report))
    return report
