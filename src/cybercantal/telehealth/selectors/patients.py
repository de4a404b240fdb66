"""Reads of the patient register (/telesante/patients/), for those who answer a patient's
request to be erased: the coordinators of the patient's site and the Département's telehealth
staff. Nurses, pharmacists and practitioners find patients while booking
(selectors.consultations.site_patients), not here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Act, Consultation, ExpertiseRequest, Patient, Site
from ..perms import coordinated_site_ids, is_telehealth_staff
from ..retention import ANONYMISED_NAME


def register_site_ids(user) -> set[int] | None:
    """The sites whose patients the user manages: None for staff (every site), else the
    sites they coordinate (empty: no access)."""
    if is_telehealth_staff(user):
        return None
    return coordinated_site_ids(user)


def may_manage_patients(user) -> bool:
    return register_site_ids(user) != set()


def may_manage_patient(user, patient: Patient) -> bool:
    """See the patient in the register and anonymise them on request."""
    ids = register_site_ids(user)
    return ids is None or patient.site_id in ids


def register_sites(*, actor) -> QuerySet[Site]:
    ids = register_site_ids(actor)
    sites = Site.objects.select_related("place__commune").order_by("place__name")
    return sites if ids is None else sites.filter(pk__in=ids)


def _latest(queryset, field: str) -> Subquery:
    return Subquery(queryset.filter(patient=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])


def patient_register(
    *, actor, query: str = "", site: Site | None = None, now: dt.datetime | None = None
) -> QuerySet[Patient]:
    """The patients the actor manages, searched on the name (part of it) or the reference
    (exact, whatever the case), with what the register shows: how many consultations were
    held, and the dates of the latest consultation (not cancelled) before now, act and
    téléexpertise (subqueries: one row per patient whatever their history)."""
    ids = register_site_ids(actor)
    if ids is not None and not ids:
        return Patient.objects.none()
    now = now or timezone.now()
    patients = Patient.objects.select_related("site__place__commune")
    if ids is not None:
        patients = patients.filter(site_id__in=ids)
    if site is not None:
        patients = patients.filter(site=site)
    query = " ".join((query or "").split())
    if query:
        patients = patients.filter(Q(display_name__icontains=query) | Q(reference__iexact=query))
    held = Consultation.objects.filter(
        patient=OuterRef("pk"),
        status__in=(Consultation.Status.DONE, Consultation.Status.INCIDENT),
    )
    count = held.order_by().values("patient").annotate(n=Count("pk")).values("n")
    return patients.annotate(
        consultation_count=Coalesce(Subquery(count, output_field=IntegerField()), 0),
        last_consultation=_latest(
            Consultation.objects.filter(scheduled_start__lte=now).exclude(
                status=Consultation.Status.CANCELLED
            ),
            "scheduled_start",
        ),
        last_act=_latest(Act.objects.all(), "performed_on"),
        last_expertise=_latest(ExpertiseRequest.objects.all(), "asked_at"),
    ).order_by("site__place__name", "display_name", "reference")


def last_activity(patient: Patient) -> dt.date | None:
    """The day of the patient's latest consultation, act or téléexpertise (annotated by
    patient_register), None when there was none."""
    days = [
        timezone.localdate(moment)
        for moment in (patient.last_consultation, patient.last_expertise)
        if moment is not None
    ]
    if patient.last_act is not None:
        days.append(patient.last_act)
    return max(days, default=None)


def patient_get(*, actor, patient_id) -> Patient | None:
    """The patient if the actor manages them (may_manage_patient), else None."""
    try:
        patient_id = int(patient_id)
    except (TypeError, ValueError):
        return None
    if not 0 < patient_id < 2**63:  # SQLite refuses larger integers
        return None
    patient = Patient.objects.select_related("site__place__commune").filter(pk=patient_id).first()
    if patient is None or not may_manage_patient(actor, patient):
        return None
    return patient


def is_anonymised(patient: Patient) -> bool:
    return patient.display_name == ANONYMISED_NAME


@dataclass(frozen=True)
class ErasureBlockers:
    """What stops an anonymisation now: the next planned consultation, the open
    téléexpertises."""

    planned: Consultation | None
    open_expertises: int

    @property
    def any(self) -> bool:
        return self.planned is not None or self.open_expertises > 0


def erasure_blockers(patient: Patient) -> ErasureBlockers:
    planned = (
        Consultation.objects.filter(patient=patient, status=Consultation.Status.PLANNED)
        .select_related("site__place", "specialty")
        .order_by("scheduled_start", "pk")
        .first()
    )
    open_expertises = ExpertiseRequest.objects.filter(
        patient=patient, status=ExpertiseRequest.Status.OPEN
    ).count()
    return ErasureBlockers(planned=planned, open_expertises=open_expertises)
