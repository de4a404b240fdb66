"""Téléexpertise: a requesting doctor asks a specialist a question, with attachments; the
specialist answers. The question, answer and attachments are clinical: they are visible to the
two doctors only, every opening is audited, and they are erased a short time after the answer
(retention.py) — the doctors copy what they need into their own records. What stays is what
the statistics and act coding need: who, when, specialty, time to answer."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cybercantal.core.models import DemoFlagModel, TimeStampedModel

from .people import Patient, Practitioner, Specialty


class ExpertiseRequest(TimeStampedModel, DemoFlagModel):
    class Status(models.TextChoices):
        OPEN = "ouverte", _("En attente de réponse")
        ANSWERED = "repondue", _("Répondue")
        WITHDRAWN = "retiree", _("Retirée")

    requester = models.ForeignKey(
        Practitioner,
        verbose_name=_("médecin requérant"),
        on_delete=models.PROTECT,
        related_name="expertise_requests_sent",
    )
    expert = models.ForeignKey(
        Practitioner,
        verbose_name=_("médecin requis"),
        on_delete=models.PROTECT,
        related_name="expertise_requests_received",
    )
    specialty = models.ForeignKey(
        Specialty, verbose_name=_("spécialité"), on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient,
        verbose_name=_("patient"),
        on_delete=models.PROTECT,
        related_name="expertise_requests",
    )
    question = models.TextField(_("question"), blank=True)
    answer = models.TextField(_("réponse"), blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    asked_at = models.DateTimeField(_("posée le"), default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(_("répondue le"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("retirée le"), null=True, blank=True)
    content_erased_at = models.DateTimeField(_("contenu effacé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("téléexpertise")
        verbose_name_plural = _("téléexpertises")
        ordering = ["-asked_at"]

    def __str__(self) -> str:
        return f"{self.specialty} — {self.asked_at:%d/%m/%Y}"


def _attachment_upload_to(instance: ExpertiseAttachment, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"telesante/expertises/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.{extension}"


class ExpertiseAttachment(models.Model):
    request = models.ForeignKey(
        ExpertiseRequest,
        verbose_name=_("téléexpertise"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("fichier"), upload_to=_attachment_upload_to)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.request_id} — {self.uploaded_at:%d/%m/%Y}"
