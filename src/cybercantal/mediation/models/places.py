"""A place where people get help with digital tools and online procedures, described with the
fields of the national schema of digital mediation places (LaMednum standard-mediation-num,
v1.0.1 fields, v1.0.2 constraints: data/standards/mediation/). Address, coordinates, phone,
e-mail, website, opening hours and operator are the territory.Place's; this model holds what
the schema adds. Multi-valued fields are lists of the schema's labels (mediation/vocabulary.py
lists the allowed values; exports join them with "|")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.core.models import DemoFlagModel, TimeStampedModel
from cybercantal.territory.models import Place


class MediationPlace(TimeStampedModel, DemoFlagModel):
    class Itinerance(models.TextChoices):
        FIXED = "Fixe", _("Fixe")
        ITINERANT = "Itinérant", _("Itinérant")

    place = models.OneToOneField(
        Place, verbose_name=_("lieu"), on_delete=models.PROTECT, related_name="mediation"
    )
    # SIRET (14 digits) or RNA number of the structure running the place (schema "pivot").
    pivot = models.CharField(_("SIRET ou RNA de la structure"), max_length=14)
    itinerance = models.CharField(
        _("itinérance"), max_length=10, choices=Itinerance.choices, default=Itinerance.FIXED
    )
    typologie = models.JSONField(_("typologie"), default=list, blank=True)
    presentation_resume = models.CharField(_("présentation courte"), max_length=280, blank=True)
    presentation_detail = models.TextField(_("présentation détaillée"), blank=True)
    source = models.CharField(_("source des données"), max_length=200, blank=True)
    structure_parente = models.CharField(_("structure parente"), max_length=200, blank=True)
    services = models.JSONField(_("services"), default=list)
    publics_specifiquement_adresses = models.JSONField(
        _("publics spécifiquement adressés"), default=list, blank=True
    )
    prise_en_charge_specifique = models.JSONField(
        _("prise en charge spécifique"), default=list, blank=True
    )
    frais_a_charge = models.JSONField(_("frais à charge"), default=list, blank=True)
    dispositif_programmes_nationaux = models.JSONField(
        _("dispositifs et programmes nationaux"), default=list, blank=True
    )
    formations_labels = models.JSONField(_("formations et labels"), default=list, blank=True)
    autres_formations_labels = models.CharField(
        _("autres formations et labels"), max_length=500, blank=True
    )
    modalites_acces = models.JSONField(_("modalités d'accès"), default=list, blank=True)
    modalites_accompagnement = models.JSONField(
        _("modalités d'accompagnement"), default=list, blank=True
    )
    fiche_acces_libre = models.URLField(_("fiche Acceslibre"), blank=True)
    prise_rdv = models.URLField(_("prise de rendez-vous en ligne"), blank=True)

    class Meta:
        verbose_name = _("lieu de médiation numérique")
        verbose_name_plural = _("lieux de médiation numérique")

    def __str__(self) -> str:
        return self.place.name
