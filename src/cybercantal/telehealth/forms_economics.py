"""Forms of the techno-economic model: a cost or grant of the ledger, a dated transport tariff.
They check the input's shape only; the services (services/costs.py) check the rules and answer
in French, so that the page, the API and the tests meet the same messages. Amounts are read as
text so that "1 234,50" and "1234.50" both work."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CostEntry, TransportMode

_AMOUNT_WIDGET = forms.TextInput({"inputmode": "decimal", "autocomplete": "off", "size": 12})
_DATE_WIDGET = forms.DateInput({"type": "date"}, format="%Y-%m-%d")


class CostEntryForm(forms.Form):
    # Fieldsets of the template: (legend, field names).
    FIELDSETS = (
        (_("La dépense ou la subvention"), ("category", "label", "funder", "amount")),
        (_("Sa période"), ("recurrence", "starts_on", "ends_on", "depreciation_months")),
    )

    category = forms.ChoiceField(label=_("Catégorie"), choices=CostEntry.Category.choices)
    label = forms.CharField(
        label=_("Libellé"),
        max_length=200,
        help_text=_("Par exemple : chariot de téléconsultation, abonnement fibre, FEDER 2025."),
    )
    funder = forms.CharField(
        label=_("Financeur (pour une subvention)"), max_length=200, required=False
    )
    amount = forms.CharField(
        label=_("Montant (€)"),
        max_length=20,
        widget=_AMOUNT_WIDGET,
        help_text=_(
            "Toujours positif, même pour une subvention. Pour un coût mensuel : le montant d'un "
            "mois ; annuel : celui d'une année."
        ),
    )
    recurrence = forms.ChoiceField(
        label=_("Périodicité"),
        choices=CostEntry.Recurrence.choices,
        widget=forms.RadioSelect,
        initial=CostEntry.Recurrence.ONE_OFF,
    )
    starts_on = forms.DateField(label=_("Date (ou début)"), widget=_DATE_WIDGET)
    ends_on = forms.DateField(
        label=_("Fin (incluse, facultatif)"),
        required=False,
        widget=_DATE_WIDGET,
        help_text=_("Pour un coût mensuel ou annuel qui s'arrête. Vide : il continue."),
    )
    depreciation_months = forms.IntegerField(
        label=_("Amortissement (nombre de mois, facultatif)"),
        required=False,
        widget=forms.NumberInput({"inputmode": "numeric", "size": 5}),
        help_text=_(
            "Pour un achat ponctuel (ou la subvention qui le finance) : réparti sur ce nombre "
            "de mois. Par exemple 60 pour 5 ans."
        ),
    )

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    @classmethod
    def initial_from(cls, entry: CostEntry) -> dict:
        return {
            "category": entry.category,
            "label": entry.label,
            "funder": entry.funder,
            "amount": f"{entry.amount:.2f}".replace(".", ","),
            "recurrence": entry.recurrence,
            "starts_on": entry.starts_on,
            "ends_on": entry.ends_on,
            "depreciation_months": entry.depreciation_months,
        }


class TransportTariffForm(forms.Form):
    mode = forms.ChoiceField(label=_("Mode de transport"), choices=TransportMode.choices)
    flat_fee = forms.CharField(
        label=_("Forfait par trajet (€)"),
        max_length=12,
        required=False,
        widget=_AMOUNT_WIDGET,
        help_text=_(
            "Le forfait départemental, qui comprend les 3 premiers kilomètres. Vide ou 0 pour "
            "un véhicule personnel."
        ),
    )
    per_km = forms.CharField(
        label=_("Prix du kilomètre (€)"),
        max_length=12,
        widget=_AMOUNT_WIDGET,
        help_text=_("Au-delà des 3 km du forfait ; pour un véhicule personnel, dès le premier."),
    )
    valid_from = forms.DateField(label=_("En vigueur du"), widget=_DATE_WIDGET)
    valid_until = forms.DateField(
        label=_("Jusqu'au (inclus, facultatif)"),
        required=False,
        widget=_DATE_WIDGET,
        help_text=_("Vide : en vigueur jusqu'au prochain tarif."),
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=300,
        required=False,
        widget=forms.Textarea({"rows": 2}),
        help_text=_("Le texte officiel ou la page ameli.fr d'où vient ce tarif."),
    )

    @classmethod
    def initial_from(cls, tariff) -> dict:
        return {
            "mode": tariff.mode,
            "flat_fee": f"{tariff.flat_fee:.2f}".replace(".", ","),
            "per_km": f"{tariff.per_km:.3f}".replace(".", ","),
            "valid_from": tariff.valid_from,
            "valid_until": tariff.valid_until,
            "source": tariff.source,
        }
