"""What the network knows of a member beyond their account: where they came from (newcomers),
the trip a day at a tiers-lieu saves them (commuting and CO₂ figures), and their check-in
card (the QR code's content and a PIN typed on the place's tablet)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberProfile(models.Model):
    class CommuteMode(models.TextChoices):
        CAR = "car", _("Voiture")
        CARPOOL = "carpool", _("Covoiturage")
        TRAIN = "train", _("Train")
        BUS = "bus", _("Car ou bus")
        OTHER = "other", _("Autre")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("membre"),
        on_delete=models.CASCADE,
        related_name="coworking_profile",
    )
    joined_on = models.DateField(_("inscrit au réseau le"))
    # Newcomers: the département they lived in when they joined ("69", "2A", "974"); empty when
    # unknown. The platform's communes are the Cantal's only, hence a code, not a commune.
    previous_departement = models.CharField(
        _("département de résidence à l'inscription"), max_length=3, blank=True
    )
    usual_workplace = models.CharField(
        _("lieu de travail habituel"),
        max_length=200,
        blank=True,
        help_text=_("Là où la personne irait travailler sans tiers-lieu."),
    )
    usual_commute_km = models.PositiveIntegerField(
        _("trajet domicile-travail habituel (km, aller)"), null=True, blank=True
    )
    commute_mode = models.CharField(
        _("mode de transport habituel"),
        max_length=10,
        choices=CommuteMode.choices,
        default=CommuteMode.CAR,
    )
    # Check-in card: `checkin_code` is what the personal QR code holds (random, unguessable);
    # `pin_digest` an HMAC of the member's PIN (typed on a place's tablet), unique so that a PIN
    # identifies one member, and never stored in clear.
    checkin_code = models.CharField(_("code de la carte"), max_length=40, unique=True)
    pin_digest = models.CharField(_("empreinte du code PIN"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("profil de membre du réseau")
        verbose_name_plural = _("profils de membres du réseau")
        constraints = [
            models.UniqueConstraint(
                fields=["pin_digest"], condition=~models.Q(pin_digest=""), name="member_pin_unique"
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_newcomer(self) -> bool:
        return self.previous_departement not in ("", settings.CYBERCANTAL_TERRITORY_CODE)


class SettlementRule(models.Model):
    """What a place earns when a network pass sold by another operator is used there: an
    amount per visit (check-in) or per day, from a date. A rule for one place overrides the
    network's default rule (tiers_lieu empty)."""

    class Basis(models.TextChoices):
        PER_VISIT = "per_visit", _("par passage")
        PER_DAY = "per_day", _("par journée (une demi-journée compte pour moitié)")

    tiers_lieu = models.ForeignKey(
        "coworking.TiersLieu",
        verbose_name=_("tiers-lieu"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlement_rules",
        help_text=_("Vide : règle par défaut du réseau."),
    )
    basis = models.CharField(_("base"), max_length=10, choices=Basis.choices)
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))
    valid_from = models.DateField(_("à partir du"))

    class Meta:
        verbose_name = _("règle de reversement")
        verbose_name_plural = _("règles de reversement")
        ordering = ["tiers_lieu", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tiers_lieu", "valid_from"], name="settlement_rule_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_basis_display()} : {self.amount_cents / 100:.2f} €"
