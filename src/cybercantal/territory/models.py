"""The territory: EPCI, communes, organisations (structures) and places (lieux)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siret as stdnum_siret
from stdnum.fr import tva as stdnum_tva

from cybercantal.core.models import DemoFlagModel, TimeStampedModel


class Epci(TimeStampedModel):
    """Établissement public de coopération intercommunale: the grouping of communes
    (communauté de communes, d'agglomération) that runs shared services."""

    siren = models.CharField(_("SIREN"), max_length=9, unique=True)
    name = models.CharField(_("nom"), max_length=200)

    class Meta:
        verbose_name = _("EPCI")
        verbose_name_plural = _("EPCI")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Commune(TimeStampedModel):
    insee_code = models.CharField(_("code INSEE"), max_length=5, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    # Accent- and case-free form of the name, for search (see core.text.normalize_search).
    search_name = models.CharField(max_length=200, db_index=True, editable=False)
    # Space-separated, padded with spaces (" 15000 15130 ") so that a postal code search is a
    # simple, index-friendly containment test on every database.
    postal_codes = models.CharField(_("codes postaux"), max_length=200)
    population = models.PositiveIntegerField(_("population"))
    epci = models.ForeignKey(
        Epci, verbose_name=_("EPCI"), on_delete=models.PROTECT, related_name="communes"
    )
    department_code = models.CharField(_("département"), max_length=3, db_index=True)
    arrondissement = models.CharField(_("arrondissement"), max_length=5, blank=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    area_km2 = models.FloatField(_("superficie (km²)"), null=True, blank=True)
    # GeoJSON geometry (WGS84, simplified) of the commune's outline.
    outline = models.JSONField(_("contour"), null=True, blank=True)
    # Age structure from INSEE's census base (territory.age_structure); null until loaded, so
    # that "unknown" is never mistaken for "no older people".
    share_75_plus = models.FloatField(
        _("part des 75 ans et plus"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    age_data_year = models.PositiveSmallIntegerField(
        _("année du recensement (âges)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="commune_coordinates_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(share_75_plus__isnull=True)
                | models.Q(share_75_plus__gte=0, share_75_plus__lte=1),
                name="commune_share_75_plus_fraction",
            ),
        ]
        indexes = [models.Index(fields=["latitude", "longitude"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.insee_code})"

    @property
    def postal_code_list(self) -> list[str]:
        return self.postal_codes.split()

    def save(self, *args, **kwargs):
        from cybercantal.core.text import normalize_search

        self.search_name = normalize_search(self.name)
        self.postal_codes = " " + " ".join(self.postal_codes.split()) + " "
        super().save(*args, **kwargs)


def validate_siret(value: str) -> None:
    if not stdnum_siret.is_valid(value):
        raise ValidationError(
            _("Le SIRET « %(value)s » n'est pas valide : 14 chiffres avec une clé de contrôle."),
            params={"value": value},
            code="invalid_siret",
        )


def validate_vat_number(value: str) -> None:
    if not stdnum_tva.is_valid(value):
        raise ValidationError(
            _(
                "Le numéro de TVA intracommunautaire « %(value)s » n'est pas valide : FR, deux "
                "caractères de clé puis les 9 chiffres du SIREN."
            ),
            params={"value": value},
            code="invalid_vat_number",
        )


class Organisation(TimeStampedModel, DemoFlagModel):
    """A structure: the Département, a commune, an EPCI, an association, a company, a care
    home, a health centre, a school… Roles are held through memberships of organisations."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Département")
        COMMUNE = "commune", _("Commune")
        EPCI = "epci", _("EPCI")
        ASSOCIATION = "association", _("Association")
        COOPERATIVE = "cooperative", _("Coopérative")
        COMPANY = "company", _("Entreprise")
        CARE_HOME = "care_home", _("EHPAD / maison de retraite")
        HEALTH_CENTRE = "health_centre", _("Centre ou maison de santé")
        HOSPITAL = "hospital", _("Hôpital")
        PHARMACY = "pharmacy", _("Pharmacie")
        SCHOOL = "school", _("École")
        COLLEGE = "college", _("Collège")
        FRANCE_SERVICES = "france_services", _("France Services")
        PUBLIC_BODY = "public_body", _("Organisme public")
        OTHER = "other", _("Autre")

    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        blank=True,
        validators=[validate_siret],
        help_text=_("14 chiffres, facultatif."),
    )
    # Printed on the invoices an operator issues (coworking); empty when not VAT-registered.
    vat_number = models.CharField(
        _("n° de TVA intracommunautaire"),
        max_length=13,
        blank=True,
        validators=[validate_vat_number],
        help_text=_("Par exemple FR40303265045 ; facultatif."),
    )
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    epci = models.OneToOneField(
        Epci,
        verbose_name=_("EPCI représenté"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisation",
    )
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    website = models.URLField(_("site web"), blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["siret"], condition=~models.Q(siret=""), name="organisation_siret_unique"
            ),
            models.UniqueConstraint(
                Lower("name"), "kind", "commune", name="organisation_name_kind_commune_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlaceKind(models.Model):
    """What a place offers. Rows come from a data migration; modules add their own codes."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("libellé"), max_length=100)
    # Marker colour on the map; chosen for contrast against the map tiles and each other.
    color = models.CharField(_("couleur"), max_length=7, default="#1d4f91")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("type de lieu")
        verbose_name_plural = _("types de lieux")
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label


class Place(TimeStampedModel, DemoFlagModel):
    """A lieu: somewhere people go (a tiers-lieu, a mediation point, a care home with a
    teleconsultation cart, a school, a town hall)."""

    class Accessibility(models.TextChoices):
        UNKNOWN = "unknown", _("Non renseignée")
        ACCESSIBLE = "accessible", _("Accessible en fauteuil roulant")
        PARTIAL = "partial", _("Partiellement accessible")
        NOT_ACCESSIBLE = "not_accessible", _("Non accessible")

    class Connectivity(models.TextChoices):
        UNKNOWN = "unknown", _("Non renseignée")
        FIBRE = "fibre", _("Fibre optique")
        VDSL = "vdsl", _("ADSL / VDSL")
        RADIO = "radio", _("Très haut débit radio")
        SATELLITE = "satellite", _("Satellite")
        MOBILE = "mobile", _("4G / 5G")
        NONE = "none", _("Aucune")

    name = models.CharField(_("nom"), max_length=200)
    kinds = models.ManyToManyField(PlaceKind, verbose_name=_("types"), related_name="places")
    description = models.TextField(_("présentation"), blank=True)
    address = models.CharField(_("adresse"), max_length=300)
    address_complement = models.CharField(_("complément d'adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5)
    commune = models.ForeignKey(
        Commune, verbose_name=_("commune"), on_delete=models.PROTECT, related_name="places"
    )
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    # OpenStreetMap opening_hours syntax, e.g. "Mo-Fr 09:00-12:00,14:00-17:00"; also the
    # format of the national schema of mediation places. Structured periods are OpeningPeriod.
    opening_hours = models.CharField(
        _("horaires (format OpenStreetMap)"), max_length=500, blank=True
    )
    accessibility = models.CharField(
        _("accessibilité aux personnes à mobilité réduite"),
        max_length=20,
        choices=Accessibility.choices,
        default=Accessibility.UNKNOWN,
    )
    accessibility_details = models.CharField(
        _("précisions sur l'accessibilité"), max_length=300, blank=True
    )
    connectivity = models.CharField(
        _("connexion"), max_length=20, choices=Connectivity.choices, default=Connectivity.UNKNOWN
    )
    download_mbps = models.PositiveIntegerField(
        _("débit descendant (Mbit/s)"), null=True, blank=True
    )
    has_public_wifi = models.BooleanField(_("wifi ouvert au public"), default=False)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    website = models.URLField(_("site web"), blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("structure gestionnaire"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="places",
    )
    is_public = models.BooleanField(
        _("ouvert au public"),
        default=True,
        help_text=_(
            "Un lieu non public n'apparaît qu'au personnel de sa structure et aux agents du "
            "Département."
        ),
    )

    class Meta:
        verbose_name = _("lieu")
        verbose_name_plural = _("lieux")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="place_coordinates_valid",
            )
        ]
        indexes = [models.Index(fields=["latitude", "longitude"])]

    def __str__(self) -> str:
        return self.name


class OpeningPeriod(models.Model):
    """One opening interval of a place on a weekday (0 = Monday)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("lundi")
        TUESDAY = 1, _("mardi")
        WEDNESDAY = 2, _("mercredi")
        THURSDAY = 3, _("jeudi")
        FRIDAY = 4, _("vendredi")
        SATURDAY = 5, _("samedi")
        SUNDAY = 6, _("dimanche")

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="opening_periods")
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    opens = models.TimeField(_("ouverture"))
    closes = models.TimeField(_("fermeture"))

    class Meta:
        verbose_name = _("plage d'ouverture")
        verbose_name_plural = _("plages d'ouverture")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")),
                name="opening_period_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"
