"""Téléexpertise: a practitioner (the requesting doctor) asks an expert practitioner of a
specialty a question about a patient, with attachments; the expert answers. Answering codes
the expert's act (TE2) and the requesting doctor's (RQD) at the tariffs in force that day,
within their yearly caps per patient. The requesting doctor may withdraw a request the expert
has not answered yet: it is then closed, its content erased at once and no act is coded.

The question, the answer and the attachments are clinical: only the two doctors reach them
(selectors/acts.py), attachments are accepted only as PDF, JPEG or PNG recognised by their
first bytes (never by their name or the browser's word), 10 Mo at most each, and stored under a
random name with their SHA-256 so that what is served later is checked to be what was sent."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.audit import audit_log

from ..models import (
    Act,
    ActRole,
    ExpertiseAttachment,
    ExpertiseRequest,
    Patient,
    Practitioner,
    Specialty,
)
from ..retention import delete_attachment_files
from ..selectors.acts import expertise_patients, practitioner_of, tariff_in_force
from ..selectors.patients import is_anonymised
from .acts import record_act

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_MAX = 5
QUESTION_MAX_CHARS = 5000
ANSWER_MAX_CHARS = 10000
# (first bytes, extension, content type): the only kinds accepted.
ATTACHMENT_SIGNATURES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
)
# Why a request is withdrawn: a closed list, never free text, so that no health data is kept.
WITHDRAW_REASONS = (
    ("plus_necessaire", gettext_lazy("Plus nécessaire")),
    ("autre_confrere", gettext_lazy("Adressée à un autre confrère")),
    ("erreur_saisie", gettext_lazy("Erreur de saisie")),
)
CONTENT_TYPES = {extension: content_type for _sig, extension, content_type in ATTACHMENT_SIGNATURES}


def attachment_kind(content: bytes) -> tuple[str, str] | None:
    """(extension, content type) that the content's first bytes announce, or None."""
    for signature, extension, content_type in ATTACHMENT_SIGNATURES:
        if content.startswith(signature):
            return extension, content_type
    return None


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    extension: str
    content_type: str
    sha256: str


def attachment_check(upload) -> CheckedFile:
    """The upload's bytes, kind and hash, or a French refusal naming the file."""
    name = str(getattr(upload, "name", "") or _("sans nom"))[:80]
    size = getattr(upload, "size", None)
    too_big = _("« %(name)s » dépasse 10 Mo : réduisez-le ou découpez-le.") % {"name": name}
    if size is not None and size > ATTACHMENT_MAX_BYTES:
        raise BookingRuleError(too_big)
    upload.seek(0)
    content = upload.read(ATTACHMENT_MAX_BYTES + 1)
    if len(content) > ATTACHMENT_MAX_BYTES:
        raise BookingRuleError(too_big)
    if not content:
        raise BookingRuleError(_("« %(name)s » est vide.") % {"name": name})
    kind = attachment_kind(content)
    if kind is None:
        raise BookingRuleError(
            _(
                "« %(name)s » n'est ni un PDF, ni une image JPEG ou PNG : seuls ces fichiers "
                "sont acceptés."
            )
            % {"name": name}
        )
    return CheckedFile(content, kind[0], kind[1], hashlib.sha256(content).hexdigest())


def expertise_create(
    *,
    actor,
    expert: Practitioner,
    specialty: Specialty,
    patient: Patient,
    question: str,
    attachments=(),
    now: dt.datetime | None = None,
) -> ExpertiseRequest:
    """A request from the actor (a practitioner) to `expert` for `patient`. Refuses, writing
    nothing: an actor who is not an active practitioner, a patient they have no link with, an
    expert who is themself, inactive or not of that specialty, an empty or too long question,
    more than ATTACHMENTS_MAX files or any file that is not an accepted kind."""
    now = now or timezone.now()
    requester = practitioner_of(actor)
    if requester is None or not requester.is_active:
        raise BookingForbidden(_("Seuls les médecins téléconsultants demandent une téléexpertise."))
    if not expertise_patients(actor).filter(pk=patient.pk).exists():
        raise BookingForbidden(
            _(
                "Vous demandez une téléexpertise pour un patient que vous avez vu en "
                "téléconsultation, ou suivi par un site auquel vous êtes rattaché."
            )
        )
    if expert.pk == requester.pk:
        raise BookingRuleError(_("Choisissez un autre médecin que vous-même."))
    if not expert.is_active or not expert.specialties.filter(pk=specialty.pk).exists():
        raise BookingRuleError(
            _("%(name)s ne donne pas d'avis en %(specialty)s.")
            % {"name": expert, "specialty": specialty.label}
        )
    question = (question or "").strip()
    if not question:
        raise BookingRuleError(_("Posez votre question."))
    if len(question) > QUESTION_MAX_CHARS:
        raise BookingRuleError(
            _("La question dépasse %(max)s caractères : résumez-la ou joignez un document.")
            % {"max": QUESTION_MAX_CHARS}
        )
    uploads = [upload for upload in attachments if upload]
    if len(uploads) > ATTACHMENTS_MAX:
        raise BookingRuleError(
            _("Pas plus de %(max)s pièces jointes par demande.") % {"max": ATTACHMENTS_MAX}
        )
    checked = [attachment_check(upload) for upload in uploads]
    stored: list[ExpertiseAttachment] = []
    try:
        with transaction.atomic():
            # Locked and read again, as when booking: never a request about a patient whose
            # anonymisation commits meanwhile.
            if is_anonymised(Patient.objects.select_for_update().get(pk=patient.pk)):
                raise BookingRuleError(
                    _("Ce patient a été anonymisé : la demande ne peut plus le concerner.")
                )
            request = ExpertiseRequest.objects.create(
                requester=requester,
                expert=expert,
                specialty=specialty,
                patient=patient,
                question=question,
                asked_at=now,
            )
            for file in checked:
                attachment = ExpertiseAttachment(
                    request=request,
                    content_type=file.content_type,
                    size=len(file.content),
                    sha256=file.sha256,
                    uploaded_by=actor,
                )
                # The stored name is random; its extension comes from the content.
                attachment.file.save(
                    f"piece.{file.extension}", ContentFile(file.content), save=False
                )
                stored.append(attachment)
                attachment.save()
            audit_log(
                actor=actor,
                action="telehealth.expertise_create",
                target=request,
                data={"expert": expert.pk, "attachments": len(checked)},
            )
    except Exception:
        # Nothing was written: do not leave the files behind either.
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return request


@dataclass
class AnswerResult:
    request: ExpertiseRequest
    acts: list[Act] = field(default_factory=list)
    # Acts that could not be coded (cap reached, no tariff in force), in French.
    not_coded: list[str] = field(default_factory=list)


def _code_expertise_act(
    *, actor, request: ExpertiseRequest, role: str, code: str, professional, day: dt.date
) -> tuple[Act | None, str]:
    tariff = tariff_in_force(code=code, day=day)
    if tariff is None or tariff.role != role:
        return None, _("%(code)s non codé : aucun tarif en vigueur le %(day)s.") % {
            "code": code,
            "day": date_format(day, "d/m/Y"),
        }
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves the answer in place
            act = record_act(
                actor=actor,
                patient=request.patient,
                professional=professional,
                tariff=tariff,
                performed_on=day,
                expertise=request,
            )
    except BookingRuleError as error:
        return None, _("%(code)s non codé. %(reason)s") % {"code": code, "reason": error.message}
    return act, ""


def expertise_answer(
    *, actor, request: ExpertiseRequest, answer: str, now: dt.datetime | None = None
) -> AnswerResult:
    """The expert answers: the answer and its time are recorded, and TE2 (expert) and RQD
    (requesting doctor) are coded at the tariffs of that day. A code over its yearly cap is
    not coded and said so: the answer, which the patient needs, is never refused for it."""
    now = now or timezone.now()
    expert = practitioner_of(actor)
    if expert is None or expert.pk != request.expert_id:
        raise BookingForbidden(_("Seul le médecin sollicité répond à cette téléexpertise."))
    answer = (answer or "").strip()
    if not answer:
        raise BookingRuleError(_("Écrivez votre réponse."))
    if len(answer) > ANSWER_MAX_CHARS:
        raise BookingRuleError(
            _("La réponse dépasse %(max)s caractères.") % {"max": ANSWER_MAX_CHARS}
        )
    with transaction.atomic():
        request = (
            ExpertiseRequest.objects.select_for_update()
            .select_related("requester__user", "expert__user", "patient")
            .get(pk=request.pk)
        )
        # Under the row lock: a withdrawal racing this answer is either seen here or waits.
        if request.status == ExpertiseRequest.Status.ANSWERED:
            raise BookingRuleError(_("Cette téléexpertise a déjà reçu sa réponse."))
        if request.status != ExpertiseRequest.Status.OPEN:
            raise BookingRuleError(
                _("Cette téléexpertise a été retirée par le médecin requérant : plus de réponse.")
            )
        if request.content_erased_at is not None:
            raise BookingRuleError(_("Le contenu de cette téléexpertise a été effacé."))
        request.answer = answer
        request.answered_at = now
        request.status = ExpertiseRequest.Status.ANSWERED
        request.save(update_fields=["answer", "answered_at", "status", "updated_at"])
        audit_log(actor=actor, action="telehealth.expertise_answer", target=request)
        result = AnswerResult(request=request)
        day = timezone.localdate(now)
        for role, code, professional in (
            (ActRole.EXPERT, "TE2", request.expert.user),
            (ActRole.REQUESTING, "RQD", request.requester.user),
        ):
            act, refusal = _code_expertise_act(
                actor=actor,
                request=request,
                role=role,
                code=code,
                professional=professional,
                day=day,
            )
            if act is not None:
                result.acts.append(act)
            else:
                result.not_coded.append(refusal)
    return result


def expertise_withdraw(
    *, actor, request: ExpertiseRequest, reason: str = "", now: dt.datetime | None = None
) -> ExpertiseRequest:
    """The requesting doctor withdraws a request the expert has not answered: it becomes
    WITHDRAWN with its time, and since nobody will answer it, its question and attachments are
    erased at once (files deleted after commit). No act is coded. `reason` is one of
    WITHDRAW_REASONS or empty, never free text. Refuses, writing nothing: anyone but the
    requesting doctor, an answered or already withdrawn request. The row lock makes a
    withdrawal and an answer racing each other end with exactly one of them done."""
    now = now or timezone.now()
    if reason not in {"", *dict(WITHDRAW_REASONS)}:
        raise BookingRuleError(_("Choisissez un motif de retrait dans la liste."))
    requester = practitioner_of(actor)
    if requester is None or requester.pk != request.requester_id:
        raise BookingForbidden(
            _("Seul le médecin qui a demandé cette téléexpertise peut la retirer.")
        )
    with transaction.atomic():
        request = ExpertiseRequest.objects.select_for_update().get(pk=request.pk)
        if request.status == ExpertiseRequest.Status.ANSWERED:
            raise BookingRuleError(
                _(
                    "Demande déjà répondue : le médecin sollicité a donné son avis, elle ne "
                    "peut plus être retirée."
                )
            )
        if request.status != ExpertiseRequest.Status.OPEN:
            raise BookingRuleError(_("Cette téléexpertise a déjà été retirée."))
        request.status = ExpertiseRequest.Status.WITHDRAWN
        request.withdrawn_at = now
        request.question = ""
        request.answer = ""
        # An open request past its retention period keeps the day it was erased.
        request.content_erased_at = request.content_erased_at or now
        request.save(
            update_fields=[
                "status",
                "withdrawn_at",
                "question",
                "answer",
                "content_erased_at",
                "updated_at",
            ]
        )
        attachments = ExpertiseAttachment.objects.filter(request=request)
        names = [name for name in attachments.values_list("file", flat=True) if name]
        attachments.delete()
        # As the retention job does: a rolled-back withdrawal leaves the files in place.
        transaction.on_commit(lambda: delete_attachment_files(names))
        audit_log(
            actor=actor,
            action="telehealth.expertise_withdraw",
            target=request,
            data={"reason": reason, "attachments_deleted": len(names)},
        )
    return request
