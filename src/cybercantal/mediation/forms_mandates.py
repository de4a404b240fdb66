"""Forms of mandates: creating one, recording a use, checking an attestation. They check the
shape of the input; the rules (consent, dates, areas, the scan's type) are the services'."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Mandate, ProcedureArea


class MandateForm(forms.Form):
    beneficiary = forms.ModelChoiceField(
        label=_("La personne qui donne mandat"),
        queryset=None,
        empty_label=_("— Choisir —"),
        error_messages={
            "required": _("Choisissez la personne."),
            "invalid_choice": _("Cette personne n'est pas suivie par votre structure."),
        },
    )
    areas = forms.MultipleChoiceField(
        label=_("Domaines de démarches (au moins un)"),
        choices=ProcedureArea.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un domaine de démarches.")},
    )
    duration = forms.ChoiceField(
        label=_("Durée"),
        choices=Mandate.Duration.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez une durée.")},
    )
    starts_on = forms.DateField(
        label=_("À partir du"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Indiquez une date (jour/mois/année).")},
    )
    consent_method = forms.ChoiceField(
        label=_("Consentement de la personne"),
        choices=Mandate.ConsentMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez comment la personne a donné son accord.")},
    )
    consent_file = forms.FileField(
        label=_("Consentement signé, numérisé (PDF, JPEG ou PNG, 5 Mo au plus)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    remote_consent_confirmed = forms.BooleanField(
        label=_("La personne m'a donné son accord à distance pour ce mandat"), required=False
    )
    consent_note = forms.CharField(
        label=_("Comment l'accord a été recueilli (à distance)"),
        help_text=_("Par exemple : par téléphone, en relisant les domaines et la durée."),
        required=False,
        max_length=300,
    )

    def __init__(self, *args, beneficiaries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["beneficiary"].queryset = beneficiaries


class MandateUseForm(forms.Form):
    area = forms.ChoiceField(
        label=_("Domaine"),
        choices=ProcedureArea.choices,
        error_messages={"required": _("Choisissez le domaine.")},
    )
    procedure = forms.CharField(
        label=_("Démarche faite"),
        max_length=200,
        help_text=_("Par exemple : déclaration de revenus."),
        error_messages={"required": _("Indiquez la démarche faite.")},
    )

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].choices = areas


class MandateCheckForm(forms.Form):
    reference = forms.CharField(
        label=_("Référence du mandat"),
        max_length=20,
        help_text=_("Imprimée en haut de l'attestation, par exemple MDT-ABCD234567."),
        error_messages={"required": _("Indiquez la référence.")},
    )
    attestation_hash = forms.CharField(
        label=_("Empreinte (SHA-256)"),
        max_length=80,
        help_text=_("Les 64 caractères imprimés sous « Empreinte de l'attestation »."),
        error_messages={"required": _("Indiquez l'empreinte.")},
    )
