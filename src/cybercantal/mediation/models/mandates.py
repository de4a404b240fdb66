"""Mandates (mandats) : a mediator's structure acting for a person in procedure areas, for a
fixed time, with the person's consent (a signed paper, scanned, or recorded remotely).

- Mandate: who acts for whom, from when to when, how consent was given, and the SHA-256 of
  the attestation's canonical text (mandate_pdf / services.mandates compute it), printed on the
  attestation so that anyone can check it against the record.
- MandateArea: one row per procedure area, revoked on its own (revoked_at / revoked_by), so
  that revoking one area keeps the history of the others.
- MandateUse: the journal of every use. Append-only: the ORM refuses updates and deletes with
  a French message, and database triggers (migration 0003) refuse them too.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.errors import BookingRuleError
from cybercantal.core.models import TimeStampedModel
from cybercantal.territory.models import Organisation

from .activities import Beneficiary

# Reference letters without look-alikes (no 0/O, 1/I/L), read aloud over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def mandate_reference_new() -> str:
    return "MDT-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _i in range(10))


def _consent_upload_to(instance: Mandate, filename: str) -> str:
    # The person's name never goes into a path: a random name, the type's extension.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"mediation/mandats/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.{extension}"


class ProcedureArea(models.TextChoices):
    PAPERS = "papiers", _("Papiers d'identité et état civil")
    FAMILY = "famille", _("Famille")
    SOCIAL = "social", _("Social et santé")
    WORK = "travail", _("Travail et emploi")
    HOUSING = "logement", _("Logement")
    TRANSPORT = "transports", _("Transports et mobilité")
    MONEY = "argent", _("Argent, impôts et budget")
    JUSTICE = "justice", _("Justice")
    FOREIGNERS = "etrangers", _("Étrangers en France")
    LEISURE = "loisirs", _("Loisirs, sport et culture")


class Mandate(TimeStampedModel):
    """The structure `organisation` acts for `beneficiary` from `starts_on` to `ends_on`
    (inclusive) in the areas of its MandateArea rows. Its content never changes after
    creation (the attestation hash covers it); only areas are revoked."""

    class Duration(models.TextChoices):
        ONE_DAY = "1j", _("1 jour")
        ONE_MONTH = "1m", _("1 mois")
        SIX_MONTHS = "6m", _("6 mois")
        ONE_YEAR = "1a", _("1 an")

    class ConsentMethod(models.TextChoices):
        PAPER_SCAN = "papier", _("Sur papier, signé et numérisé")
        REMOTE = "distance", _("Recueilli à distance")

    class Status(models.TextChoices):
        NOT_STARTED = "a_venir", _("À venir")
        ACTIVE = "valide", _("Valide")
        EXPIRED = "expire", _("Expiré")
        REVOKED = "revoque", _("Révoqué")

    reference = models.CharField(
        _("référence"), max_length=20, unique=True, default=mandate_reference_new, editable=False
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("structure mandataire"),
        on_delete=models.PROTECT,
        related_name="mediation_mandates",
    )
    beneficiary = models.ForeignKey(
        Beneficiary,
        verbose_name=_("personne mandante"),
        on_delete=models.PROTECT,
        related_name="mandates",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    duration = models.CharField(_("durée"), max_length=2, choices=Duration.choices)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin (incluse)"))
    consent_method = models.CharField(
        _("recueil du consentement"), max_length=10, choices=ConsentMethod.choices
    )
    consent_file = models.FileField(
        _("consentement signé (scan)"), upload_to=_consent_upload_to, blank=True
    )
    consent_file_sha256 = models.CharField(_("empreinte du scan"), max_length=64, blank=True)
    consent_note = models.CharField(
        _("comment le consentement a été recueilli"), max_length=300, blank=True
    )
    consent_recorded_at = models.DateTimeField(_("consentement recueilli le"))
    attestation_hash = models.CharField(_("empreinte de l'attestation"), max_length=64)
    # Set by retention when the consent and the person's data are erased. The seal is the
    # SHA-256 of what stays (reference, structure, dates, attestation hash, archiving time),
    # written only if the record still matched its attestation then: the public check can
    # still recognise the attestation and detect a later change of what stays.
    archived_at = models.DateTimeField(_("archivé le"), null=True, blank=True, editable=False)
    archive_seal = models.CharField(
        _("sceau de l'archive"), max_length=64, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("mandat")
        verbose_name_plural = _("mandats")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="mandate_dates"
            ),
            models.CheckConstraint(
                condition=models.Q(consent_method="distance") | ~models.Q(consent_file=""),
                name="mandate_paper_consent_has_scan",
            ),
            models.CheckConstraint(
                condition=models.Q(archive_seal="") | models.Q(archived_at__isnull=False),
                name="mandate_seal_when_archived",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "ends_on"])]

    def __str__(self) -> str:
        return f"{self.reference} — {self.beneficiary}"

    def status_on(self, day) -> str:
        """Derived, never stored: a stored status would go stale the day after `ends_on`."""
        areas = list(self.areas.all())
        if areas and all(area.revoked_at is not None for area in areas):
            return self.Status.REVOKED
        if day < self.starts_on:
            return self.Status.NOT_STARTED
        if day > self.ends_on:
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def status(self) -> str:
        return self.status_on(timezone.localdate())

    def get_status_display(self) -> str:
        return str(self.Status(self.status).label)


class MandateArea(models.Model):
    """One procedure area of a mandate; revoking it leaves the others in force."""

    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandat"), on_delete=models.CASCADE, related_name="areas"
    )
    area = models.CharField(_("domaine"), max_length=12, choices=ProcedureArea.choices)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("révoqué par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("domaine du mandat")
        verbose_name_plural = _("domaines du mandat")
        ordering = ["mandate", "area"]
        constraints = [
            models.UniqueConstraint(fields=["mandate", "area"], name="mandate_area_once"),
        ]

    def __str__(self) -> str:
        return self.get_area_display()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


JOURNAL_IMMUTABLE = _(
    "Le journal des utilisations d'un mandat ne se modifie pas et ne s'efface pas : "
    "rien n'a été changé."
)


class MandateJournalImmutable(BookingRuleError):
    """An attempt to edit or delete a journal entry."""

    def __init__(self):
        super().__init__(str(JOURNAL_IMMUTABLE))


class MandateUseQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise MandateJournalImmutable()

    def delete(self):
        raise MandateJournalImmutable()


class MandateUse(models.Model):
    """One use of a mandate: who acted, when, in which area, for which procedure."""

    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandat"), on_delete=models.PROTECT, related_name="uses"
    )
    area = models.CharField(_("domaine"), max_length=12, choices=ProcedureArea.choices)
    procedure = models.CharField(_("démarche"), max_length=200)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        null=True,
        on_delete=models.SET_NULL,  # the database lets this link go to NULL, nothing else
        related_name="+",
    )
    used_by_repr = models.CharField(_("par (texte)"), max_length=200)
    at = models.DateTimeField(_("le"), default=timezone.now)

    objects = MandateUseQuerySet.as_manager()

    class Meta:
        verbose_name = _("utilisation du mandat")
        verbose_name_plural = _("journal des utilisations")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_area_display()} — {self.procedure}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise MandateJournalImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise MandateJournalImmutable()
