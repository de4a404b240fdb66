"""What mediators record of the help they give: beneficiaries (optional, minimal, anonymous
allowed) and activity reports, individual or collective. Everything belongs to a structure
(territory.Organisation): a mediator sees their structure's records only."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Booking
from cybercantal.core.models import TimeStampedModel
from cybercantal.territory.models import Commune, Organisation, Place


class Beneficiary(TimeStampedModel):
    """A person helped, as little as the report needs: no surname, no address. `is_anonymous`:
    counted, never named. Merging a duplicate points it to the record kept (`merged_into`)."""

    class AgeBand(models.TextChoices):
        UNDER_18 = "moins_18", _("Moins de 18 ans")
        FROM_18 = "18_35", _("18 à 35 ans")
        FROM_35 = "35_60", _("35 à 60 ans")
        FROM_60 = "60_70", _("60 à 70 ans")
        FROM_70 = "70_plus", _("70 ans et plus")
        UNKNOWN = "inconnu", _("Non communiqué")

    class Gender(models.TextChoices):
        WOMAN = "femme", _("Femme")
        MAN = "homme", _("Homme")
        UNKNOWN = "inconnu", _("Non communiqué")

    class Status(models.TextChoices):
        STUDENT = "scolarise", _("Scolarisé(e) ou étudiant(e)")
        JOB_SEEKER = "sans_emploi", _("Sans emploi")
        WORKING = "en_emploi", _("En emploi")
        RETIRED = "retraite", _("Retraité(e)")
        UNKNOWN = "inconnu", _("Non communiqué")

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("structure"),
        on_delete=models.PROTECT,
        related_name="mediation_beneficiaries",
    )
    is_anonymous = models.BooleanField(_("anonyme"), default=False)
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    has_no_phone = models.BooleanField(_("pas de téléphone"), default=False)
    birth_year = models.PositiveSmallIntegerField(
        _("année de naissance"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    age_band = models.CharField(
        _("tranche d'âge"), max_length=10, choices=AgeBand.choices, default=AgeBand.UNKNOWN
    )
    gender = models.CharField(
        _("genre"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=Status.choices, default=Status.UNKNOWN
    )
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("commune de résidence"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    consent_at = models.DateTimeField(_("consentement recueilli le"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("fusionné dans"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("personne accompagnée")
        verbose_name_plural = _("personnes accompagnées")
        ordering = ["first_name", "pk"]
        indexes = [models.Index(fields=["organisation", "phone"])]

    def __str__(self) -> str:
        return self.first_name or str(_("Personne anonyme"))


class Activity(TimeStampedModel):
    """An activity report: one accompaniment (individual) or one workshop session
    (collective). At least one theme (services check it). A workshop's participants are
    named (beneficiaries) or counted (`participants_count`)."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individuel", _("Accompagnement individuel")
        COLLECTIVE = "collectif", _("Atelier collectif")

    class PlaceType(models.TextChoices):
        MEDIATION_PLACE = "lieu", _("Lieu de médiation")
        HOME = "domicile", _("À domicile")
        REMOTE = "distance", _("À distance")
        OTHER = "autre", _("Autre lieu")

    class Autonomy(models.TextChoices):
        DONE_FOR = "fait_pour", _("Fait pour la personne")
        GUIDED = "accompagne", _("Fait avec la personne")
        ALONE = "autonome", _("La personne a fait seule")

    class Level(models.TextChoices):
        BEGINNER = "debutant", _("Débutant")
        INTERMEDIATE = "intermediaire", _("Intermédiaire")
        ADVANCED = "avance", _("Avancé")

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("structure"),
        on_delete=models.PROTECT,
        related_name="mediation_activities",
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("médiateur"),
        on_delete=models.PROTECT,
        related_name="mediation_activities",
    )
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    day = models.DateField(_("date"))
    duration_minutes = models.PositiveIntegerField(
        _("durée (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    place_type = models.CharField(_("lieu"), max_length=10, choices=PlaceType.choices)
    place = models.ForeignKey(
        Place,
        verbose_name=_("lieu de médiation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    themes = models.JSONField(_("thématiques"), default=list)
    equipment = models.JSONField(_("matériel utilisé"), default=list, blank=True)
    autonomy = models.CharField(
        _("autonomie de la personne"), max_length=12, choices=Autonomy.choices, blank=True
    )
    redirected_to = models.CharField(
        _("orientée vers"), max_length=20, blank=True
    )  # a code of activity_vocabulary.REDIRECTIONS
    booking = models.ForeignKey(
        Booking,
        verbose_name=_("rendez-vous"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    title = models.CharField(_("titre de l'atelier"), max_length=200, blank=True)
    level = models.CharField(_("niveau"), max_length=15, choices=Level.choices, blank=True)
    participants_count = models.PositiveIntegerField(_("participants"), default=1)
    beneficiaries = models.ManyToManyField(
        Beneficiary,
        verbose_name=_("personnes accompagnées"),
        blank=True,
        related_name="activities",
    )

    class Meta:
        verbose_name = _("compte rendu d'activité")
        verbose_name_plural = _("comptes rendus d'activité")
        ordering = ["-day", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(participants_count__gte=1), name="activity_participants"
            ),
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(booking__isnull=False),
                name="activity_once_per_booking",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "day"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.day:%d/%m/%Y}"
