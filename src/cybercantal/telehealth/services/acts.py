"""Coding acts: after a teleconsultation is closed (done, or done with an incident), each
professional codes the act they bill — the practitioner a teleconsultation (TCG…), the
assisting nurse one accompaniment (TLS, TLL or TLD), a pharmacy its assistance (TLM) — either
themself or through a coordinator of the site. Téléexpertise acts (TE2, RQD) are coded when
the expert answers (services/expertise.py) through the same `record_act`.

Guarantees: the tariff is the one in force on the day of the act and its amount is copied on
the act; a code's yearly cap is never exceeded, even by concurrent requests (the patient's row
is locked while counting). The cap counts the acts of one professional for one patient in a
calendar year, as the convention words it for the téléexpertise (« 4 actes par an, par
médecin requis, pour un même patient », and likewise per requesting doctor): another doctor
asked about the same patient has caps of their own; one act per professional and
session; every refusal is a French message and writes nothing."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.audit import audit_log

from ..models import Act, ActRole, ActTariff, Consultation, ExpertiseRequest, Patient
from ..selectors.acts import (
    CLOSED_STATUSES,
    CONSULTATION_ROLES,
    consultation_day,
    is_site_coordinator,
    may_remove_act,
    professional_for_role,
    tariff_in_force,
    user_label,
)


class CapReached(BookingRuleError):
    """The professional already billed as many acts of this code for the patient this year as
    the cap allows."""


def cap_message(*, code: str, cap: int, year: int, professional) -> str:
    return _(
        "%(code)s : %(name)s a déjà facturé %(cap)s actes pour ce patient en %(year)s, c'est le "
        "plafond annuel par professionnel et par patient."
    ) % {"code": code, "cap": cap, "year": year, "name": user_label(professional)}


def record_act(
    *,
    actor,
    patient: Patient,
    professional,
    tariff: ActTariff,
    performed_on: dt.date,
    consultation: Consultation | None = None,
    expertise: ExpertiseRequest | None = None,
) -> Act:
    """Write one act at `tariff`, within the caller's transaction. Locks the patient's row
    first, so that two requests coding a capped code for the same patient count one after
    the other (on PostgreSQL; SQLite serialises writers anyway)."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    cap = tariff.yearly_cap_per_patient
    if cap is not None:
        used = Act.objects.filter(
            patient=patient,
            professional=professional,
            code=tariff.code,
            performed_on__year=performed_on.year,
        ).count()
        if used >= cap:
            raise CapReached(
                cap_message(
                    code=tariff.code,
                    cap=cap,
                    year=performed_on.year,
                    professional=professional,
                )
            )
    act = Act.objects.create(
        consultation=consultation,
        expertise=expertise,
        patient=patient,
        professional=professional,
        tariff=tariff,
        code=tariff.code,
        role=tariff.role,
        amount=tariff.amount,
        performed_on=performed_on,
        coded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_log(
        actor=actor,
        action="telehealth.act_code",
        target=act,
        data={"code": act.code, "amount": str(act.amount), "professional": professional.pk},
    )
    return act


def _is_participant_or_coordinator(actor, consultation: Consultation) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return (
        consultation.practitioner.user_id == actor.pk
        or (consultation.assistant is not None and consultation.assistant.user_id == actor.pk)
        or is_site_coordinator(actor, consultation.site)
    )


def act_code(*, actor, consultation: Consultation, code: str) -> Act:
    """Code the act `code` on a closed consultation for the professional who bills it (the
    code's role says who). The actor is that professional or a coordinator of the site."""
    if not _is_participant_or_coordinator(actor, consultation):
        raise BookingForbidden(
            _(
                "Seuls les professionnels de la téléconsultation et les coordinateurs du site "
                "codent ses actes."
            )
        )
    if consultation.status not in CLOSED_STATUSES:
        raise BookingRuleError(
            _(
                "Les actes se codent une fois la téléconsultation clôturée (réalisée, ou "
                "réalisée avec incident)."
            )
        )
    code = (code or "").strip().upper()
    if not code:
        raise BookingRuleError(_("Choisissez l'acte à coder."))
    day = consultation_day(consultation)
    tariff = tariff_in_force(code=code, day=day)
    if tariff is None:
        raise BookingRuleError(
            _("Aucun tarif %(code)s n'est en vigueur le %(day)s.")
            % {"code": code, "day": date_format(day, "d/m/Y")}
        )
    if tariff.role not in CONSULTATION_ROLES:
        raise BookingRuleError(
            _("%(code)s se code sur une téléexpertise, pas sur une téléconsultation.")
            % {"code": code}
        )
    professional = professional_for_role(consultation, tariff.role)
    if professional is None:
        messages = {
            ActRole.NURSE: _("Aucun infirmier n'assistait cette téléconsultation."),
            ActRole.PHARMACY: _(
                "%(code)s se facture par une pharmacie d'officine dont le pharmacien assistait "
                "la téléconsultation : ce n'est pas le cas ici."
            )
            % {"code": code},
        }
        raise BookingRuleError(messages.get(tariff.role, _("Personne ne facture cet acte ici.")))
    if professional.pk != actor.pk and not is_site_coordinator(actor, consultation.site):
        raise BookingForbidden(
            _(
                "Vous codez vos propres actes ; ceux des autres professionnels sont codés par "
                "eux-mêmes ou par un coordinateur du site."
            )
        )
    with transaction.atomic():
        # The consultation read again under a lock: a correction of its closing to "not held"
        # (services/sessions.py locks it too) is seen here, never coded past.
        consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if consultation.status not in CLOSED_STATUSES:
            raise BookingRuleError(
                _("Cette téléconsultation n'est plus indiquée réalisée : aucun acte à coder.")
            )
        # The patient's lock (taken again in record_act) also serialises double submissions.
        Patient.objects.select_for_update().filter(pk=consultation.patient_id).first()
        existing = (
            Act.objects.filter(consultation=consultation, professional=professional)
            .values_list("code", flat=True)
            .first()
        )
        if existing is not None:
            raise BookingRuleError(
                _(
                    "%(name)s a déjà codé %(code)s pour cette séance : un acte par professionnel. "
                    "Supprimez-le d'abord pour en coder un autre."
                )
                % {"name": user_label(professional), "code": existing}
            )
        return record_act(
            actor=actor,
            patient=consultation.patient,
            professional=professional,
            tariff=tariff,
            performed_on=day,
            consultation=consultation,
        )


def act_remove(*, actor, act: Act) -> None:
    """Remove an act coded by mistake: its professional, or a coordinator of the site for a
    consultation's act. The audit log keeps what it was."""
    if not may_remove_act(actor, act):
        raise BookingForbidden(_("Vous ne pouvez pas supprimer cet acte."))
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="telehealth.act_remove",
            target=act,
            data={
                "code": act.code,
                "amount": str(act.amount),
                "performed_on": act.performed_on.isoformat(),
                "professional": act.professional_id,
                "consultation": act.consultation_id,
                "expertise": act.expertise_id,
            },
        )
        act.delete()
