"""Forms of mandates: creating one, recording a use, checking an attestation. They check the
shape of the input, and the consent scan (name, size, first bytes) so that its error shows next
to its field; the rules (consent, dates, areas, the scan's type) are the services', which check
them again whoever calls them."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.errors import BookingRuleError

from .models import Mandate, ProcedureArea
from .services.mandates import consent_file_check

CONSENT_FILE_EXTENSIONS = ("pdf", "jpg", "jpeg", "png")


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
        max_length=200,
        widget=forms.FileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
        error_messages={
            "empty": _("Le fichier du consentement est vide."),
            "max_length": _("Le nom du fichier est trop long : renommez-le plus court."),
            "invalid": _("Le fichier du consentement n'a pas été reçu : réessayez."),
        },
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

    def clean_consent_file(self):
        upload = self.cleaned_data.get("consent_file")
        if not upload:
            return upload
        # Both the name (what the mediator sees they sent) and the first bytes (what it is):
        # a renamed executable has the right name and the wrong bytes.
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in CONSENT_FILE_EXTENSIONS:
            raise ValidationError(
                _("Le consentement doit être un fichier PDF, JPEG ou PNG (.pdf, .jpg ou .png).")
            )
        try:
            consent_file_check(upload)
        except BookingRuleError as error:
            raise ValidationError(error.message) from None
        upload.seek(0)
        return upload

    def clean(self):
        cleaned = super().clean()
        method = cleaned.get("consent_method")
        if (
            method == Mandate.ConsentMethod.PAPER_SCAN
            and not cleaned.get("consent_file")
            and "consent_file" not in self.errors
        ):
            self.add_error(
                "consent_file", _("Joignez le consentement signé, numérisé (PDF, JPEG ou PNG).")
            )
        return cleaned


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
