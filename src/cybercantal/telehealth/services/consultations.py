"""Booking a teleconsultation: the practitioner's agenda, the site's cart or room and the
assisting professional in one booking of the engine (all or nothing, never double-booked),
after checking the specialty's protocol on the site (devices in working order, the assisting
professional it needs). Every refusal is a French message and changes nothing."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.booking.services import PersonDetails, booking_cancel, booking_create
from cybercantal.core.audit import audit_log

from ..booking_guard import telehealth_booking_flow
from ..models import (
    AssistantKind,
    AssistingProfessional,
    Consultation,
    DeviceKind,
    Patient,
    Practitioner,
    Site,
    Specialty,
    TransportMode,
)
from ..perms import may_book_at, may_cancel_consultation
from ..selectors.patients import is_anonymised

# A slot further ahead is a typing error (or a crafted request), never a plan.
BOOKING_HORIZON_DAYS = 366


def missing_devices(site: Site, specialty: Specialty) -> list[str]:
    """The labels of the devices the specialty needs that the site lacks or has out of order."""
    working = set(site.equipment.filter(in_service=True).values_list("kind", flat=True))
    labels = dict(DeviceKind.choices)
    return [
        str(labels.get(code, code)) for code in specialty.required_devices if code not in working
    ]


def check_protocol(
    *, site: Site, specialty: Specialty, assistant: AssistingProfessional | None
) -> None:
    """Raise BookingRuleError when the site cannot host this specialty as booked."""
    missing = missing_devices(site, specialty)
    if missing:
        raise BookingRuleError(
            _(
                "%(specialty)s demande sur le site : %(devices)s. Il manque ou est en panne : "
                "%(missing)s."
            )
            % {
                "specialty": specialty.label,
                "devices": ", ".join(specialty.required_device_labels()),
                "missing": ", ".join(missing),
            }
        )
    if assistant is not None and (
        not assistant.is_active or not assistant.sites.filter(pk=site.pk).exists()
    ):
        raise BookingRuleError(_("%(name)s n'intervient pas sur ce site.") % {"name": assistant})
    if specialty.required_assistant and (
        assistant is None or assistant.kind != specialty.required_assistant
    ):
        raise BookingRuleError(
            _(
                "%(specialty)s se tient avec ce professionnel présent auprès du patient : "
                "%(kind)s. Choisissez-le."
            )
            % {
                "specialty": specialty.label,
                "kind": AssistantKind(specialty.required_assistant).label.lower(),
            }
        )


def consultation_book(
    *,
    actor,
    site: Site,
    practitioner: Practitioner,
    specialty: Specialty,
    patient: Patient,
    start: dt.datetime,
    assistant: AssistingProfessional | None = None,
    duration_minutes: int | None = None,
    requested_at: dt.datetime | None = None,
    transport_avoided: str = TransportMode.LIGHT_VEHICLE,
    is_emergency: bool = False,
    last_in_person_visit_within_12_months: bool = False,
    referred_by_attending_doctor: bool = False,
    now: dt.datetime | None = None,
) -> Consultation:
    now = now or timezone.now()
    if not may_book_at(actor, site):
        raise BookingForbidden(_("Vous ne pouvez pas réserver de téléconsultation sur ce site."))
    if start > now + dt.timedelta(days=BOOKING_HORIZON_DAYS):  # the engine refuses the past
        raise BookingRuleError(_("Une téléconsultation se réserve au plus un an à l'avance."))
    if not site.is_active:
        raise BookingRuleError(_("Ce site n'est pas en service."))
    if not practitioner.is_active or not practitioner.specialties.filter(pk=specialty.pk).exists():
        raise BookingRuleError(
            _("%(name)s ne consulte pas en %(specialty)s.")
            % {"name": practitioner, "specialty": specialty.label}
        )
    if patient.site_id != site.pk:
        raise BookingRuleError(_("Ce patient n'est pas suivi sur ce site."))
    if transport_avoided not in TransportMode.values:
        raise BookingRuleError(_("Mode de transport inconnu."))
    requested_at = requested_at or now
    if requested_at > now:
        raise BookingRuleError(_("La date de la demande ne peut pas être dans le futur."))
    check_protocol(site=site, specialty=specialty, assistant=assistant)
    minutes = duration_minutes or specialty.default_duration_minutes
    end = start + dt.timedelta(minutes=minutes)
    resources = [site.resource, practitioner.resource]  # the site first: the booking's place
    if assistant is not None:
        resources.append(assistant.resource)
    with transaction.atomic(), telehealth_booking_flow():
        # The patient's row locked and read again: an anonymisation committing meanwhile
        # (services/patients.py locks it too) is seen here, never booked past.
        if is_anonymised(Patient.objects.select_for_update().get(pk=patient.pk)):
            raise BookingRuleError(
                _(
                    "Ce patient a été anonymisé : enregistrez-le de nouveau s'il revient sur "
                    "le site."
                )
            )
        booking = booking_create(
            actor=actor,
            resources=resources,
            start=start,
            end=end,
            # The reference, not the name: the booking engine's own pages never name a
            # patient (only telehealth's pages do, to those who may see the consultation).
            person=PersonDetails(name=patient.reference, phone=""),
            channel=Booking.Channel.DESK,
            now=now,
        )
        consultation = Consultation.objects.create(
            booking=booking,
            site=site,
            practitioner=practitioner,
            assistant=assistant,
            specialty=specialty,
            patient=patient,
            requested_by=actor,
            requested_at=requested_at,
            scheduled_start=booking.start,
            transport_avoided=transport_avoided,
            is_emergency=is_emergency,
            last_in_person_visit_within_12_months=last_in_person_visit_within_12_months,
            referred_by_attending_doctor=referred_by_attending_doctor,
        )
        audit_log(actor=actor, action="telehealth.consultation_book", target=consultation)
    return consultation


def consultation_cancel(*, actor, consultation: Consultation, reason: str = "") -> Consultation:
    if not may_cancel_consultation(actor, consultation):
        raise BookingForbidden(_("Vous ne pouvez pas annuler cette téléconsultation."))
    if consultation.status != Consultation.Status.PLANNED:
        raise BookingRuleError(_("Cette téléconsultation est déjà clôturée."))
    with transaction.atomic():
        planned_cancel_write(actor=actor, consultation=consultation, reason=reason)
    return consultation


def planned_cancel_write(
    *, actor, consultation: Consultation, reason: str = "", audit_data: dict | None = None
) -> None:
    """The writes of cancelling a planned consultation, inside the caller's transaction and
    after its own permission check (one session here, a range of days in cancellations.py):
    the booking through the engine, the status, one audit row."""
    with telehealth_booking_flow():  # the engine's change guard lets this one through
        booking_cancel(actor=actor, booking=consultation.booking, reason=reason)
    consultation.status = Consultation.Status.CANCELLED
    consultation.save(update_fields=["status", "updated_at"])
    audit_log(
        actor=actor,
        action="telehealth.consultation_cancel",
        target=consultation,  # its text names the specialty, the site and the time, no patient
        data=audit_data,
    )


def patient_create(
    *,
    actor,
    site: Site,
    display_name: str,
    birth_year: int,
    is_care_home_resident: bool = False,
    has_attending_doctor: bool = True,
    lives_in_territory: bool = True,
) -> Patient:
    if not may_book_at(actor, site):
        raise BookingForbidden(_("Vous ne pouvez pas enregistrer de patient sur ce site."))
    name = " ".join((display_name or "").split())
    if not name:
        raise BookingRuleError(_("Indiquez le nom du patient."))
    this_year = timezone.localdate().year
    if not this_year - 120 <= int(birth_year) <= this_year:
        raise BookingRuleError(_("Année de naissance invalide."))
    if is_care_home_resident and site.kind != Site.Kind.CARE_HOME:
        raise BookingRuleError(_("Seul un site EHPAD a des résidents."))
    with transaction.atomic():
        patient = Patient.objects.create(
            site=site,
            display_name=name[:120],
            birth_year=int(birth_year),
            is_care_home_resident=is_care_home_resident,
            has_attending_doctor=has_attending_doctor,
            lives_in_territory=lives_in_territory,
            created_by=actor,
        )
        audit_log(actor=actor, action="telehealth.patient_create", target=patient)
    return patient
