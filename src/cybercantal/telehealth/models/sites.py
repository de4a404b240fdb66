"""Teleconsultation sites (care homes, health centres, pharmacies, tiers-lieu cabins), their
equipment and their connectivity, and the reference hospital patients would otherwise travel to.

A site is a territory.Place (address, commune, operator) with what telehealth adds. Its cart or
room is a booking.Resource (kind CABIN) so that it is booked with the same engine as everything
else, atomically with the practitioner and the assisting professional."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Resource
from cybercantal.core.models import DemoFlagModel, TimeStampedModel
from cybercantal.territory.models import Place


class ReferenceHospital(TimeStampedModel):
    """Where a patient would go without teleconsultation (by default the hospital of
    Aurillac): the distance to it measures the transport avoided."""

    name = models.CharField(_("nom"), max_length=200, unique=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    is_default = models.BooleanField(_("par défaut"), default=False)

    class Meta:
        verbose_name = _("hôpital de référence")
        verbose_name_plural = _("hôpitaux de référence")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="telehealth_one_default_hospital",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Site(TimeStampedModel, DemoFlagModel):
    class Kind(models.TextChoices):
        CARE_HOME = "ehpad", _("EHPAD")
        HEALTH_CENTRE = "centre_sante", _("Centre ou maison de santé")
        PHARMACY = "pharmacie", _("Pharmacie")
        CABIN = "cabine", _("Cabine en tiers-lieu")

    class Connection(models.TextChoices):
        FIBRE = "fibre", _("Fibre")
        COPPER = "cuivre", _("ADSL / VDSL")
        MOBILE = "mobile", _("4G / 5G")
        RADIO = "radio", _("Radio (THD radio)")
        SATELLITE = "satellite", _("Satellite")

    place = models.OneToOneField(
        Place, verbose_name=_("lieu"), on_delete=models.PROTECT, related_name="telehealth_site"
    )
    kind = models.CharField(_("type de site"), max_length=20, choices=Kind.choices)
    # The cart or room booked for each teleconsultation (kind CABIN, organisation = site's).
    resource = models.OneToOneField(
        Resource,
        verbose_name=_("chariot ou salle réservable"),
        on_delete=models.PROTECT,
        related_name="telehealth_site",
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("coordinateurs du site"),
        related_name="telehealth_coordinated_sites",
        blank=True,
    )
    reference_hospital = models.ForeignKey(
        ReferenceHospital,
        verbose_name=_("hôpital de référence"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sites",
    )
    # Road distance to the reference hospital; estimated from coordinates (core.geo.road_km)
    # when the site is created, editable when a real route is known.
    hospital_distance_km = models.DecimalField(
        _("distance à l'hôpital de référence (km par la route)"),
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(0)],
    )
    hospital_travel_minutes = models.PositiveIntegerField(
        _("trajet jusqu'à l'hôpital (minutes, aller)"), default=0
    )
    connection = models.CharField(
        _("raccordement"), max_length=12, choices=Connection.choices, blank=True
    )
    nominal_download_mbps = models.DecimalField(
        _("débit descendant annoncé (Mbit/s)"),
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
    )
    nominal_upload_mbps = models.DecimalField(
        _("débit montant annoncé (Mbit/s)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    opened_on = models.DateField(_("en service depuis"), null=True, blank=True)
    is_active = models.BooleanField(_("en service"), default=True)
    # The last day in service, kept when a site is taken out of service so that the months it
    # served keep their share of the network's costs (selectors/economics.py).
    closed_on = models.DateField(_("hors service depuis le"), null=True, blank=True)

    class Meta:
        verbose_name = _("site de téléconsultation")
        verbose_name_plural = _("sites de téléconsultation")
        ordering = ["place__name"]

    def __str__(self) -> str:
        return self.place.name


class DeviceKind(models.TextChoices):
    CART = "chariot", _("Chariot de téléconsultation")
    CAMERA = "camera", _("Caméra d'examen")
    STETHOSCOPE = "stethoscope", _("Stéthoscope connecté")
    OTOSCOPE = "otoscope", _("Otoscope connecté")
    DERMATOSCOPE = "dermatoscope", _("Dermatoscope")
    OXIMETER = "oxymetre", _("Oxymètre")
    BLOOD_PRESSURE = "tensiometre", _("Tensiomètre")
    ECG = "ecg", _("Électrocardiographe")
    THERMOMETER = "thermometre", _("Thermomètre")
    OPHTHALMOSCOPE = "retinographe", _("Rétinographe")


class Equipment(TimeStampedModel):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="equipment"
    )
    kind = models.CharField(_("appareil"), max_length=20, choices=DeviceKind.choices)
    model_name = models.CharField(_("modèle"), max_length=120, blank=True)
    serial_number = models.CharField(_("numéro de série"), max_length=60, blank=True)
    in_service = models.BooleanField(
        _("en état de marche"),
        default=True,
        help_text=_(
            "Décochez un appareil en panne : les spécialités qui en ont besoin ne se "
            "réservent plus sur ce site."
        ),
    )

    class Meta:
        verbose_name = _("appareil")
        verbose_name_plural = _("appareils")
        ordering = ["site", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.site}"


class ConnectivityTest(models.Model):
    """A speed and latency measure from a site to the platform, and what it allows."""

    class Recommendation(models.TextChoices):
        VIDEO = "video", _("Vidéo")
        AUDIO = "audio", _("Audio seulement")
        PHONE = "telephone", _("Téléphone")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="connectivity_tests"
    )
    measured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mesuré par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    measured_at = models.DateTimeField(_("mesuré le"), db_index=True)
    download_mbps = models.DecimalField(
        _("débit descendant (Mbit/s)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100000)],
    )
    upload_mbps = models.DecimalField(
        _("débit montant (Mbit/s)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100000)],
    )
    latency_ms = models.PositiveIntegerField(_("latence (ms)"))
    jitter_ms = models.PositiveIntegerField(_("gigue (ms)"), default=0)
    recommendation = models.CharField(
        _("recommandation"), max_length=10, choices=Recommendation.choices
    )

    class Meta:
        verbose_name = _("test de connexion")
        verbose_name_plural = _("tests de connexion")
        ordering = ["-measured_at"]

    def __str__(self) -> str:
        return f"{self.site} — {self.measured_at:%d/%m/%Y %H:%M}"
