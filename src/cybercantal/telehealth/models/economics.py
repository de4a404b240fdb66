"""The cost ledger of the techno-economic model: what a site (or the network as a whole, when
`site` is empty) costs and what it received. Selectors spread each entry over months
(selectors/economics.py): a purchase over its depreciation period, a recurring cost over its
months, a grant like a purchase (it funds equipment) or in its month."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cybercantal.core.models import DemoFlagModel, TimeStampedModel

from .sites import Site


class CostEntry(TimeStampedModel, DemoFlagModel):
    class Category(models.TextChoices):
        EQUIPMENT = "equipement", _("Équipement")
        LICENCE = "licence", _("Licences et logiciels")
        CONNECTIVITY = "connexion", _("Connexion")
        COORDINATION = "coordination", _("Temps de coordination")
        MAINTENANCE = "maintenance", _("Maintenance")
        OTHER = "autre", _("Autre")
        GRANT = "subvention", _("Subvention reçue")

    class Recurrence(models.TextChoices):
        ONE_OFF = "ponctuel", _("Ponctuel")
        MONTHLY = "mensuel", _("Chaque mois")
        YEARLY = "annuel", _("Chaque année")

    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="costs",
        help_text=_("Vide : coût du réseau, réparti entre les sites en service."),
    )
    category = models.CharField(_("catégorie"), max_length=14, choices=Category.choices)
    label = models.CharField(_("libellé"), max_length=200)
    funder = models.CharField(
        _("financeur"), max_length=200, blank=True, help_text=_("Pour une subvention : FEDER…")
    )
    amount = models.DecimalField(
        _("montant (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Toujours positif ; une subvention vient en déduction des coûts."),
    )
    recurrence = models.CharField(
        _("périodicité"), max_length=10, choices=Recurrence.choices, default=Recurrence.ONE_OFF
    )
    starts_on = models.DateField(_("date (ou début)"))
    ends_on = models.DateField(_("fin (incluse)"), null=True, blank=True)
    depreciation_months = models.PositiveSmallIntegerField(
        _("amortissement (mois)"),
        null=True,
        blank=True,
        help_text=_("Pour un achat ou une subvention d'équipement : réparti sur N mois."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saisi par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("coût ou subvention")
        verbose_name_plural = _("coûts et subventions")
        ordering = ["starts_on", "label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="telehealth_cost_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(recurrence="ponctuel") | Q(depreciation_months__isnull=True),
                name="telehealth_cost_depreciation_one_off_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} — {self.amount} €"
