"""A teleconsultation: one booking of the practitioner, the site's cart or room and the
assisting professional (booking.Booking holds the time and the resources), the checklist before
the session, its outcome and the incidents. Nothing about the patient's health is kept."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Booking
from cybercantal.core.models import DemoFlagModel, TimeStampedModel

from .people import AssistingProfessional, Patient, Practitioner, Specialty
from .sites import ConnectivityTest, Site

# A connectivity test prepares a session for a day: older than this before the session's
# start, it says nothing of the line the session will use.
CONNECTIVITY_TEST_VALIDITY = dt.timedelta(hours=24)


def video_room_new() -> str:
    # Random, unguessable, and says nothing about the patient, the site or the specialty.
    return "cc-" + secrets.token_urlsafe(18)


class TransportMode(models.TextChoices):
    AMBULANCE = "ambulance", _("Ambulance")
    LIGHT_VEHICLE = "vsl", _("Véhicule sanitaire léger (VSL) ou taxi conventionné")
    PRIVATE = "personnel", _("Véhicule personnel")


class Consultation(TimeStampedModel, DemoFlagModel):
    class Status(models.TextChoices):
        PLANNED = "prevue", _("Prévue")
        DONE = "realisee", _("Réalisée")
        INCIDENT = "incident", _("Réalisée avec incident")
        NOT_HELD = "non_tenue", _("Non tenue")
        CANCELLED = "annulee", _("Annulée")

    class Channel(models.TextChoices):
        VIDEO = "video", _("Vidéo")
        AUDIO = "audio", _("Audio seulement")
        PHONE = "telephone", _("Téléphone")

    booking = models.OneToOneField(
        Booking,
        verbose_name=_("réservation"),
        on_delete=models.PROTECT,
        related_name="teleconsultation",
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="consultations"
    )
    practitioner = models.ForeignKey(
        Practitioner,
        verbose_name=_("médecin"),
        on_delete=models.PROTECT,
        related_name="consultations",
    )
    assistant = models.ForeignKey(
        AssistingProfessional,
        verbose_name=_("professionnel assistant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultations",
    )
    specialty = models.ForeignKey(
        Specialty, verbose_name=_("spécialité"), on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="consultations"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("demandée par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the need was expressed (may be before the booking was made): the delay to the
    # consultation is an indicator of access to care.
    requested_at = models.DateTimeField(_("demande exprimée le"))
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    # Denormalised from the booking for the monthly economics (booking.start is UTC).
    scheduled_start = models.DateTimeField(_("début prévu"), db_index=True)
    video_room = models.CharField(
        _("salle vidéo"), max_length=40, unique=True, default=video_room_new, editable=False
    )
    transport_avoided = models.CharField(
        _("transport évité"),
        max_length=10,
        choices=TransportMode.choices,
        default=TransportMode.LIGHT_VEHICLE,
    )
    # The trip a done teleconsultation avoided, copied from the site when it is closed: a
    # later change of reference hospital or of distance does not rewrite past months.
    trip_km = models.DecimalField(
        _("distance aller vers l'hôpital (km)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
    )
    trip_minutes = models.PositiveIntegerField(
        _("durée aller vers l'hôpital (minutes)"), null=True, blank=True
    )
    is_emergency = models.BooleanField(_("urgence"), default=False)
    last_in_person_visit_within_12_months = models.BooleanField(
        _("vu(e) en présentiel par ce médecin dans les 12 derniers mois"), default=False
    )
    referred_by_attending_doctor = models.BooleanField(
        _("orienté(e) par le médecin traitant"), default=False
    )
    # Checklist before the session.
    consent_recorded_at = models.DateTimeField(_("consentement recueilli le"), null=True)
    devices_ready_at = models.DateTimeField(_("appareils vérifiés le"), null=True)
    connectivity_test = models.ForeignKey(
        ConnectivityTest,
        verbose_name=_("test de connexion"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Outcome.
    channel = models.CharField(_("mode"), max_length=10, choices=Channel.choices, blank=True)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clôturée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("téléconsultation")
        verbose_name_plural = _("téléconsultations")
        ordering = ["-scheduled_start"]
        indexes = [models.Index(fields=["site", "scheduled_start"])]

    def __str__(self) -> str:
        return f"{self.specialty} — {self.site} — {self.scheduled_start:%d/%m/%Y %H:%M}"

    @property
    def connectivity_test_fresh(self) -> bool:
        """The checklist's test was measured in the 24 hours before the start (a checklist
        saved weeks ahead must be saved again on the day)."""
        test = self.connectivity_test
        return test is not None and test.measured_at > (
            self.scheduled_start - CONNECTIVITY_TEST_VALIDITY
        )

    @property
    def checklist_complete(self) -> bool:
        return bool(
            self.consent_recorded_at and self.devices_ready_at and self.connectivity_test_fresh
        )

    @property
    def is_closed(self) -> bool:
        return self.status not in (self.Status.PLANNED,)


class Incident(models.Model):
    class Kind(models.TextChoices):
        NETWORK = "reseau", _("Connexion insuffisante ou coupée")
        VIDEO = "video", _("Panne du service vidéo")
        DEVICE = "appareil", _("Appareil en panne")
        PRACTITIONER = "medecin", _("Médecin indisponible")
        PATIENT = "patient", _("Patient indisponible")
        OTHER = "autre", _("Autre")

    class Fallback(models.TextChoices):
        NONE = "aucun", _("Aucun repli")
        AUDIO = "audio", _("Passage en audio seulement")
        PHONE = "telephone", _("Passage au téléphone")
        RESCHEDULED = "reporte", _("Reportée")

    consultation = models.ForeignKey(
        Consultation,
        verbose_name=_("téléconsultation"),
        on_delete=models.CASCADE,
        related_name="incidents",
    )
    kind = models.CharField(_("nature"), max_length=10, choices=Kind.choices)
    fallback = models.CharField(_("repli"), max_length=10, choices=Fallback.choices)
    # Technical cause only: never the patient's condition.
    cause = models.CharField(_("cause technique"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("survenu le"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("noté par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["occurred_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.consultation_id}"
