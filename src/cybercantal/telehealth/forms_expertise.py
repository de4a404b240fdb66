"""Forms of téléexpertise: asking (expert, specialty, patient, question, attachments),
answering, and withdrawing (a reason from a closed list). Attachments are checked here too
(size, first bytes) so that the error shows next to the field; services/expertise.py checks
everything again."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.errors import BookingRuleError

from .models import Specialty
from .services.expertise import (
    ANSWER_MAX_CHARS,
    ATTACHMENTS_MAX,
    QUESTION_MAX_CHARS,
    WITHDRAW_REASONS,
    attachment_check,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        cleaned = single(data, initial)
        return [cleaned] if cleaned else []


class _PractitionerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        specialties = ", ".join(s.label for s in obj.specialties.all())
        return f"{obj} — {specialties}" if specialties else str(obj)


class _PatientChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name} ({obj.birth_year}) — {obj.site}"


class ExpertiseRequestForm(forms.Form):
    expert = _PractitionerChoice(
        label=_("Médecin sollicité"),
        queryset=None,
        empty_label=_("— Choisir —"),
        error_messages={
            "required": _("Choisissez le médecin à qui vous demandez un avis."),
            "invalid_choice": _("Ce médecin ne peut pas être sollicité."),
        },
    )
    specialty = forms.ModelChoiceField(
        label=_("Spécialité"),
        queryset=Specialty.objects.all(),
        empty_label=_("— Choisir —"),
        error_messages={
            "required": _("Choisissez la spécialité."),
            "invalid_choice": _("Spécialité inconnue."),
        },
    )
    patient = _PatientChoice(
        label=_("Patient"),
        queryset=None,
        empty_label=_("— Choisir —"),
        help_text=_(
            "Un patient que vous avez vu en téléconsultation ou suivi par un site auquel vous "
            "êtes rattaché."
        ),
        error_messages={
            "required": _("Choisissez le patient."),
            "invalid_choice": _("Vous ne pouvez pas demander d'avis pour ce patient."),
        },
    )
    question = forms.CharField(
        label=_("Votre question"),
        max_length=QUESTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Ce que vous demandez au confrère et les éléments utiles. Visible de lui et de "
            "vous seulement."
        ),
        error_messages={
            "required": _("Posez votre question."),
            "max_length": _("La question dépasse %(limit_value)d caractères."),
        },
    )
    attachments = MultipleFileField(
        label=_("Pièces jointes (PDF, JPEG ou PNG, 10 Mo au plus chacune, 5 au plus)"),
        required=False,
        widget=MultipleFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
        error_messages={
            "empty": _("Un des fichiers est vide."),
            "invalid": _("Un fichier n'a pas été reçu : réessayez."),
        },
    )

    def __init__(self, *args, experts, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expert"].queryset = experts
        self.fields["patient"].queryset = patients

    def clean_attachments(self):
        uploads = self.cleaned_data.get("attachments") or []
        if len(uploads) > ATTACHMENTS_MAX:
            raise ValidationError(
                _("Pas plus de %(max)s pièces jointes par demande.") % {"max": ATTACHMENTS_MAX}
            )
        errors = []
        for upload in uploads:
            try:
                attachment_check(upload)
            except BookingRuleError as error:
                errors.append(error.message)
            upload.seek(0)
        if errors:
            raise ValidationError(errors)
        return uploads

    def clean(self):
        cleaned = super().clean()
        expert, specialty = cleaned.get("expert"), cleaned.get("specialty")
        if expert and specialty and not expert.specialties.filter(pk=specialty.pk).exists():
            self.add_error(
                "specialty",
                _("%(name)s ne donne pas d'avis en %(specialty)s.")
                % {"name": expert, "specialty": specialty.label},
            )
        return cleaned


class ExpertiseAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Votre réponse"),
        max_length=ANSWER_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={
            "required": _("Écrivez votre réponse."),
            "max_length": _("La réponse dépasse %(limit_value)d caractères."),
        },
    )


class ExpertiseWithdrawForm(forms.Form):
    # Choices only: a free text would invite clinical details that nobody needs to keep.
    reason = forms.ChoiceField(
        label=_("Motif (facultatif)"),
        choices=[("", _("Ne pas préciser")), *WITHDRAW_REASONS],
        required=False,
        initial="",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choisissez un motif dans la liste.")},
    )
