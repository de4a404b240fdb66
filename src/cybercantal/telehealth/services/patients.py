"""Anonymising a patient on request (GDPR right to erasure, « droit à l'effacement »): the
coordinators of the patient's site or the telehealth staff remove the name at once instead of
waiting for the 3-year rule of retention.py. The same function does the erasure in both cases,
so both remove exactly the same things; the reference, birth year, site and eligibility flags
stay for the statistics and the yearly caps of acts."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.audit import audit_log

from ..models import Patient
from ..retention import patient_records_anonymise
from ..selectors.patients import erasure_blockers, is_anonymised, may_manage_patient


def patient_anonymise(
    *, actor, patient: Patient, now: dt.datetime | None = None, ip_address: str | None = None
) -> Patient:
    """Anonymise `patient` now and return them reloaded. Refused (BookingForbidden) to anyone
    but the coordinators of the patient's site and staff; refused (BookingRuleError), with
    nothing written, while a consultation is planned or a téléexpertise is waiting for its
    answer (the name is still needed to call the patient in), and when it is already done.
    One transaction with the patient's row locked, so that two clicks, or a booking being
    recorded meanwhile, are seen; one audit row with the reference only."""
    if not may_manage_patient(actor, patient):
        raise BookingForbidden(
            _(
                "Seuls les coordinateurs du site du patient et l'équipe télémédecine du "
                "Département peuvent l'anonymiser."
            )
        )
    now = now or timezone.now()
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if is_anonymised(locked):
            raise BookingRuleError(_("Ce patient est déjà anonymisé : rien n'a été changé."))
        blockers = erasure_blockers(locked)
        if blockers.planned is not None:
            start = timezone.localtime(blockers.planned.scheduled_start)
            when = {"day": start.strftime("%d/%m/%Y"), "time": start.strftime("%H:%M")}
            if blockers.planned.scheduled_start < now:
                raise BookingRuleError(
                    _(
                        "La téléconsultation de ce patient du %(day)s à %(time)s n'a pas été "
                        "clôturée : clôturez-la ou annulez-la d'abord, puis revenez l'anonymiser."
                    )
                    % when
                )
            raise BookingRuleError(
                _(
                    "Ce patient a une téléconsultation prévue le %(day)s à %(time)s : "
                    "annulez-la d'abord, puis revenez l'anonymiser."
                )
                % when
            )
        if blockers.open_expertises:
            raise BookingRuleError(
                _(
                    "Une téléexpertise sur ce patient attend encore sa réponse : attendez la "
                    "réponse, ou demandez au médecin requérant de la retirer, puis revenez "
                    "l'anonymiser."
                )
            )
        patient_records_anonymise(patient_ids=[locked.pk], now=now)
        # The target's text is the reference (Patient.__str__), never the name.
        audit_log(
            actor=actor,
            action="telehealth.patient_anonymise",
            target=locked,
            data={"reference": locked.reference},
            ip_address=ip_address,
        )
    locked.refresh_from_db()
    return locked
