"""Act coding: dated tariff tables an administrator edits (TCG, TE2, RQD, TLS, TLL, TLD, TLM…),
the acts coded per session and professional, and dated transport tariffs for the transport
avoided. Amounts are what the table said on the day of the act, copied on the act so that a
later change of table never rewrites the past."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .consultations import Consultation, TransportMode
from .people import Patient


class ActRole(models.TextChoices):
    PRACTITIONER = "medecin", _("Médecin téléconsultant")
    EXPERT = "expert", _("Médecin requis (téléexpertise)")
    REQUESTING = "requerant", _("Médecin requérant (téléexpertise)")
    NURSE = "infirmier", _("Infirmier assistant")
    PHARMACY = "pharmacie", _("Pharmacie")


class ActTariff(models.Model):
    code = models.CharField(_("code"), max_length=8, db_index=True)
    label = models.CharField(_("libellé"), max_length=200)
    role = models.CharField(_("qui le facture"), max_length=10, choices=ActRole.choices)
    amount = models.DecimalField(
        _("tarif (€)"), max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    valid_from = models.DateField(_("en vigueur du"))
    valid_until = models.DateField(_("jusqu'au (inclus)"), null=True, blank=True)
    yearly_cap_per_patient = models.PositiveSmallIntegerField(
        _("plafond par an, par professionnel et par patient"),
        null=True,
        blank=True,
        help_text=_("Vide : pas de plafond."),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modifié par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("tarif d'acte")
        verbose_name_plural = _("tarifs des actes")
        ordering = ["code", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="telehealth_act_tariff_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["code", "valid_from"], name="telehealth_act_tariff_one_start_per_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.amount} € ({self.valid_from:%d/%m/%Y})"


class Act(models.Model):
    """One act billed by one professional for one session (or one téléexpertise)."""

    consultation = models.ForeignKey(
        Consultation,
        verbose_name=_("téléconsultation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="acts",
    )
    expertise = models.ForeignKey(
        "ExpertiseRequest",
        verbose_name=_("téléexpertise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="acts",
    )
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="acts"
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("professionnel"),
        on_delete=models.PROTECT,
        related_name="telehealth_acts",
    )
    tariff = models.ForeignKey(
        ActTariff, verbose_name=_("tarif appliqué"), on_delete=models.PROTECT, related_name="acts"
    )
    code = models.CharField(_("code"), max_length=8)
    role = models.CharField(_("rôle"), max_length=10, choices=ActRole.choices)
    amount = models.DecimalField(_("montant (€)"), max_digits=7, decimal_places=2)
    performed_on = models.DateField(_("date de l'acte"), db_index=True)
    coded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("codé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    coded_at = models.DateTimeField(_("codé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("acte")
        verbose_name_plural = _("actes")
        ordering = ["performed_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(consultation__isnull=False) ^ Q(expertise__isnull=False),
                name="telehealth_act_one_origin",
            ),
            models.UniqueConstraint(
                fields=["consultation", "professional", "code"],
                condition=Q(consultation__isnull=False),
                name="telehealth_act_once_per_session",
            ),
            models.UniqueConstraint(
                fields=["expertise", "professional", "code"],
                condition=Q(expertise__isnull=False),
                name="telehealth_act_once_per_expertise",
            ),
        ]
        indexes = [models.Index(fields=["patient", "code", "performed_on"])]

    def __str__(self) -> str:
        return f"{self.code} {self.amount} € — {self.performed_on:%d/%m/%Y}"


class TransportTariff(models.Model):
    """What a trip to the reference hospital costs the health insurance, by mode: a flat fee
    per trip and a price per kilometre, dated like act tariffs."""

    mode = models.CharField(_("mode"), max_length=10, choices=TransportMode.choices)
    flat_fee = models.DecimalField(
        _("forfait par trajet (€)"), max_digits=7, decimal_places=2, default=Decimal(0)
    )
    per_km = models.DecimalField(_("prix du kilomètre (€)"), max_digits=6, decimal_places=3)
    valid_from = models.DateField(_("en vigueur du"))
    valid_until = models.DateField(_("jusqu'au (inclus)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("tarif de transport")
        verbose_name_plural = _("tarifs de transport")
        ordering = ["mode", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="telehealth_transport_tariff_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["mode", "valid_from"], name="telehealth_transport_one_start_per_mode"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} ({self.valid_from:%d/%m/%Y})"
