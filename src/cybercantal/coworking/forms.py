"""Forms of the managers' pages. They check the shape of the input and answer in French; the
rules (who may, what is allowed) are the services'."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Offer, Payment

MAX_AMOUNT_CENTS = 10_000_000  # 100 000 €: beyond, a typing mistake


class MemberSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nom, prénom ou adresse e-mail"),
        max_length=100,
        required=False,
        help_text=_("Parmi les personnes qui ont un pass ou une réservation ici."),
    )


class CardPinForm(forms.Form):
    pin = forms.RegexField(
        label=_("Code PIN à 6 chiffres"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("Le code PIN compte 6 chiffres.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "6"}
        ),
    )


class CardCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code imprimé sous le QR code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class PassSaleForm(forms.Form):
    contact = forms.CharField(
        label=_("Adresse e-mail ou numéro de mobile de la personne"),
        max_length=254,
        help_text=_("Le compte doit déjà exister : l'adresse ou le numéro exact."),
    )
    offer = forms.ModelChoiceField(
        label=_("Offre"),
        queryset=Offer.objects.none(),
        empty_label=_("Choisissez une offre"),
        error_messages={"invalid_choice": _("Cette offre n'est pas en vente ici.")},
    )
    valid_from = forms.DateField(
        label=_("Premier jour de validité"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Indiquez une date (jj/mm/aaaa).")},
    )

    def __init__(self, *args, offers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if offers is not None:
            self.fields["offer"].queryset = offers
        self.fields["offer"].label_from_instance = _offer_label
        if not self.is_bound:
            self.initial.setdefault("valid_from", timezone.localdate())


def _offer_label(offer: Offer) -> str:
    where = offer.tiers_lieu.place.name if offer.tiers_lieu_id else _("tout le réseau")
    price = f"{offer.price_cents / 100:.2f}".replace(".", ",")
    reduced = _(" — tarif réduit, justificatif") if offer.is_reduced else ""
    return f"{offer.label} ({where}) — {price} €{reduced}"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"),
        max_length=300,
        widget=forms.TextInput(),
        error_messages={"required": _("Indiquez le motif.")},
    )


class PaymentForm(forms.Form):
    amount = forms.CharField(
        label=_("Montant reçu (en euros)"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    method = forms.ChoiceField(label=_("Moyen de paiement"), choices=Payment.Method.choices)
    received_on = forms.DateField(
        label=_("Reçu le"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Indiquez une date (jj/mm/aaaa).")},
    )
    reference = forms.CharField(label=_("Référence (facultatif)"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("received_on", timezone.localdate())

    def clean_amount(self) -> int:
        raw = self.cleaned_data["amount"].replace("€", "").replace(" ", "").replace("\u202f", "")
        try:
            value = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise forms.ValidationError(_("Indiquez un montant, par exemple 12,50.")) from None
        if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
            raise forms.ValidationError(
                _("Indiquez un montant positif, avec au plus deux chiffres après la virgule.")
            )
        cents = int(value * 100)
        if cents > MAX_AMOUNT_CENTS:
            raise forms.ValidationError(_("Ce montant est trop élevé."))
        return cents


class ExportForm(forms.Form):
    annee = forms.IntegerField(
        label=_("Année"),
        min_value=2000,
        max_value=2100,
        error_messages={
            "invalid": _("Indiquez une année, par exemple 2027."),
            "min_value": _("Indiquez une année entre 2000 et 2100."),
            "max_value": _("Indiquez une année entre 2000 et 2100."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["annee"].initial = timezone.localdate().year
