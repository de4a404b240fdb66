"""What the pages that name patients write in the audit log: who saw which patients (by
reference, never by name) or which consultations, from which page. Every page that shows a
patient's name calls one of these, so that "every view is in the audit log" holds for lists
too, not only for a consultation's own page."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest

from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip


def audit_patients_shown(request: HttpRequest, *, page: str, patients: Iterable, target=None):
    """`patients` were shown by name on `page` (nothing is written when none was)."""
    references = [patient.reference for patient in patients]
    if not references and target is None:
        return
    audit_log(
        actor=request.user,
        action="telehealth.patient_view",
        target=target,  # a patient's text is its reference (Patient.__str__)
        data={"page": page, "references": references} if references else {"page": page},
        ip_address=client_ip(request),
    )


def audit_consultations_listed(request: HttpRequest, *, page: str, consultations: Iterable):
    """`consultations` (with their patient's name) were listed on `page`."""
    ids = [consultation.pk for consultation in consultations]
    if not ids:
        return
    audit_log(
        actor=request.user,
        action="telehealth.consultation_list",
        data={"page": page, "consultations": ids},
        ip_address=client_ip(request),
    )
