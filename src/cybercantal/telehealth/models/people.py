"""Who takes part in a teleconsultation: practitioners (specialists and general practitioners)
with their specialties, assisting professionals (nurses, pharmacists) attached to sites, and
patients, identified by as little as booking and act coding need (no health data)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Resource
from cybercantal.core.models import DemoFlagModel, TimeStampedModel

from .sites import DeviceKind, Site

rpps_validator = RegexValidator(r"^\d{11}$", _("Le numéro RPPS compte 11 chiffres."))


class AssistantKind(models.TextChoices):
    NURSE = "infirmier", _("Infirmier ou infirmière")
    PHARMACIST = "pharmacien", _("Pharmacien ou pharmacienne")


class Specialty(models.Model):
    """A specialty and its protocol: the devices that must be in working order on the site and
    the assisting professional who must be present (checked when booking)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("spécialité"), max_length=120)
    required_devices = models.JSONField(
        _("appareils nécessaires"),
        default=list,
        blank=True,
        help_text=_("Codes des appareils (voir DeviceKind)."),
    )
    required_assistant = models.CharField(
        _("professionnel assistant requis"),
        max_length=12,
        choices=AssistantKind.choices,
        blank=True,
        help_text=_("Vide : la téléconsultation peut se tenir sans professionnel assistant."),
    )
    default_duration_minutes = models.PositiveIntegerField(_("durée habituelle (min)"), default=30)

    class Meta:
        verbose_name = _("spécialité")
        verbose_name_plural = _("spécialités")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label

    def required_device_labels(self) -> list[str]:
        labels = dict(DeviceKind.choices)
        return [str(labels.get(code, code)) for code in self.required_devices]


class Practitioner(TimeStampedModel, DemoFlagModel):
    class Kind(models.TextChoices):
        SPECIALIST = "specialiste", _("Médecin spécialiste")
        GENERALIST = "generaliste", _("Médecin généraliste")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.PROTECT,
        related_name="telehealth_practitioner",
    )
    kind = models.CharField(_("exercice"), max_length=12, choices=Kind.choices)
    rpps = models.CharField(
        _("numéro RPPS"), max_length=11, unique=True, validators=[rpps_validator]
    )
    specialties = models.ManyToManyField(
        Specialty, verbose_name=_("spécialités"), related_name="practitioners"
    )
    # The practitioner's time (kind PERSON, no place): its availability rules are the slots
    # offered across all sites.
    resource = models.OneToOneField(
        Resource,
        verbose_name=_("agenda réservable"),
        on_delete=models.PROTECT,
        related_name="telehealth_practitioner",
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("médecin téléconsultant")
        verbose_name_plural = _("médecins téléconsultants")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class AssistingProfessional(TimeStampedModel, DemoFlagModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.PROTECT,
        related_name="telehealth_assistant",
    )
    kind = models.CharField(_("profession"), max_length=12, choices=AssistantKind.choices)
    sites = models.ManyToManyField(Site, verbose_name=_("sites"), related_name="assistants")
    resource = models.OneToOneField(
        Resource,
        verbose_name=_("agenda réservable"),
        on_delete=models.PROTECT,
        related_name="telehealth_assistant",
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("professionnel assistant")
        verbose_name_plural = _("professionnels assistants")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


def patient_reference_new() -> str:
    return "P-" + secrets.token_hex(5).upper()


class Patient(TimeStampedModel, DemoFlagModel):
    """A patient as the site knows them, with what eligibility and yearly caps need: a name
    to call them by, a birth year (under-16 rule), whether they live in the care home. No
    diagnosis, no notes, no social security number."""

    reference = models.CharField(
        _("référence"), max_length=14, unique=True, default=patient_reference_new, editable=False
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site de suivi"), on_delete=models.PROTECT, related_name="patients"
    )
    display_name = models.CharField(
        _("nom d'usage"), max_length=120, help_text=_("Comme l'équipe du site l'appelle.")
    )
    birth_year = models.PositiveSmallIntegerField(_("année de naissance"))
    is_care_home_resident = models.BooleanField(_("réside dans l'EHPAD"), default=False)
    has_attending_doctor = models.BooleanField(_("a un médecin traitant"), default=True)
    lives_in_territory = models.BooleanField(
        _("réside dans le territoire du médecin téléconsultant"), default=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["display_name"]

    def __str__(self) -> str:
        # The reference, never the name: str() ends up in the append-only audit log, which
        # retention cannot anonymise. Pages show display_name explicitly.
        return self.reference
