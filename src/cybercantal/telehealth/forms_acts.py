"""Forms of act coding: editing a tariff, coding an act on a consultation, filtering the acts
to list or export. They check the shape of the input; the rules (overlaps, caps, who may code)
are the services', which check them again whoever calls them."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ActRole, ActTariff

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DATE_WIDGET = {"type": "date"}


def money(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


class TariffForm(forms.Form):
    code = forms.CharField(
        label=_("Code de l'acte"),
        max_length=8,
        help_text=_("Tel qu'il figure à la nomenclature, par exemple TCG."),
        error_messages={"required": _("Indiquez le code de l'acte.")},
    )
    label = forms.CharField(
        label=_("Libellé"),
        max_length=200,
        error_messages={"required": _("Indiquez le libellé de l'acte.")},
    )
    role = forms.ChoiceField(
        label=_("Qui le facture"),
        choices=ActRole.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez qui facture cet acte.")},
    )
    amount = forms.DecimalField(
        label=_("Tarif (€)"),
        min_value=0,
        max_digits=7,
        decimal_places=2,
        localize=True,
        error_messages={
            "required": _("Indiquez le tarif."),
            "invalid": _("Indiquez un montant, par exemple 25 ou 12,50."),
            "min_value": _("Le tarif ne peut pas être négatif."),
            "max_digits": _("Ce tarif est trop élevé pour un acte."),
            "max_decimal_places": _("Deux chiffres au plus après la virgule."),
            "max_whole_digits": _("Ce tarif est trop élevé pour un acte."),
        },
    )
    valid_from = forms.DateField(
        label=_("En vigueur à partir du"),
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages={
            "required": _("Indiquez la date d'entrée en vigueur."),
            "invalid": _("Indiquez une date (jour/mois/année)."),
        },
    )
    valid_until = forms.DateField(
        label=_("Jusqu'au (inclus)"),
        required=False,
        help_text=_("Laissez vide tant qu'aucune fin n'est connue."),
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages={"invalid": _("Indiquez une date (jour/mois/année).")},
    )
    yearly_cap_per_patient = forms.IntegerField(
        label=_("Plafond par année civile, par professionnel et par patient"),
        required=False,
        min_value=1,
        max_value=366,
        help_text=_(
            "Nombre d'actes au plus qu'un même professionnel facture pour un même patient dans "
            "l'année (téléexpertise : 4). Vide : aucun."
        ),
        error_messages={
            "invalid": _("Indiquez un nombre entier."),
            "min_value": _("Au moins 1 (ou laissez vide)."),
            "max_value": _("366 au plus."),
        },
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Le texte officiel qui fixe ce tarif (NGAP, convention, ameli.fr)."),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end < start:
            self.add_error(
                "valid_until", _("La date de fin ne peut pas précéder la date de début.")
            )
        return cleaned

    @classmethod
    def initial_from(cls, tariff: ActTariff) -> dict:
        return {
            "code": tariff.code,
            "label": tariff.label,
            "role": tariff.role,
            "amount": tariff.amount,
            "valid_from": tariff.valid_from,
            "valid_until": tariff.valid_until,
            "yearly_cap_per_patient": tariff.yearly_cap_per_patient,
            "source": tariff.source,
        }


class ActCodeForm(forms.Form):
    code = forms.ChoiceField(
        label=_("Acte"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez l'acte à coder."),
            "invalid_choice": _("Cet acte ne se code pas sur cette téléconsultation."),
        },
    )

    def __init__(self, *args, tariffs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [
            (t.code, f"{t.code} — {t.label} ({money(t.amount)} €)") for t in tariffs
        ]


class ActFilterForm(forms.Form):
    month = forms.CharField(
        label=_("Mois"),
        required=False,
        max_length=7,
        help_text=_("Année et mois, par exemple 2026-03. Vide : tous les mois."),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-03"}),
    )
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=None,
        required=False,
        empty_label=_("Tous les sites"),
        error_messages={"invalid_choice": _("Ce site ne fait pas partie de vos sites.")},
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites

    def clean_month(self) -> tuple[int, int] | None:
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        match = _MONTH.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise ValidationError(
                _("Indiquez le mois sous la forme année-mois, par exemple 2026-03.")
            )
        year, month = int(match.group(1)), int(match.group(2))
        if year > timezone.localdate().year + 1:
            raise ValidationError(_("Ce mois est trop loin dans le futur."))
        return year, month
