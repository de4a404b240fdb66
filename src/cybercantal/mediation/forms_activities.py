"""The quick entry of an activity report: everything on one screen, prefilled from the
appointment, most answers one tap (radio buttons and check boxes), the person optional."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .activity_vocabulary import EQUIPMENT, PROCEDURE_THEMES, REDIRECTIONS, SKILL_THEMES
from .models import Activity, Beneficiary


def _choices(vocabulary: dict) -> list[tuple[str, str]]:
    return list(vocabulary.items())


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=Activity.Kind.choices,
        initial=Activity.Kind.INDIVIDUAL,
        widget=forms.RadioSelect,
    )
    day = forms.DateField(
        label=_("Date"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Indiquez une date (jour/mois/année).")},
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Durée"),
        coerce=int,
        choices=[
            (15, "15 min"),
            (30, "30 min"),
            (45, "45 min"),
            (60, "1 h"),
            (90, "1 h 30"),
            (120, "2 h"),
            (180, "3 h"),
        ],
        initial=30,
        widget=forms.RadioSelect,
    )
    place_type = forms.ChoiceField(
        label=_("Où"),
        choices=Activity.PlaceType.choices,
        initial=Activity.PlaceType.MEDIATION_PLACE,
        widget=forms.RadioSelect,
    )
    place = forms.ModelChoiceField(
        label=_("Lieu de médiation"), queryset=None, required=False, empty_label=_("—")
    )
    commune = forms.CharField(
        label=_("Commune (code INSEE ou nom)"),
        help_text=_("Pour un accompagnement à domicile ou dans un autre lieu."),
        max_length=100,
        required=False,
    )
    skill_themes = forms.MultipleChoiceField(
        label=_("Compétences numériques"),
        choices=_choices(SKILL_THEMES),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    procedure_themes = forms.MultipleChoiceField(
        label=_("Démarches en ligne"),
        choices=_choices(PROCEDURE_THEMES),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    equipment = forms.MultipleChoiceField(
        label=_("Matériel utilisé"),
        choices=_choices(EQUIPMENT),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    autonomy = forms.ChoiceField(
        label=_("Autonomie de la personne"),
        choices=[("", _("Non renseignée")), *Activity.Autonomy.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    redirected_to = forms.ChoiceField(
        label=_("Orientée vers"),
        choices=[("", _("Personne")), *_choices(REDIRECTIONS)],
        required=False,
    )
    title = forms.CharField(label=_("Titre de l'atelier"), max_length=200, required=False)
    level = forms.ChoiceField(
        label=_("Niveau de l'atelier"),
        choices=[("", _("—")), *Activity.Level.choices],
        required=False,
    )
    participants_count = forms.IntegerField(
        label=_("Nombre de participants"), min_value=1, max_value=200, initial=1, required=False
    )
    # The person: none (not recorded), one already followed, or a new record.
    beneficiary = forms.ModelChoiceField(
        label=_("Personne déjà suivie"), queryset=None, required=False, empty_label=_("—")
    )
    new_first_name = forms.CharField(label=_("Prénom"), max_length=100, required=False)
    new_phone = forms.CharField(label=_("Téléphone mobile"), max_length=20, required=False)
    new_age_band = forms.ChoiceField(
        label=_("Tranche d'âge"),
        choices=Beneficiary.AgeBand.choices,
        initial=Beneficiary.AgeBand.UNKNOWN,
        required=False,
    )
    new_consent = forms.BooleanField(
        label=_("La personne accepte que sa fiche soit enregistrée"), required=False
    )
    new_anonymous = forms.BooleanField(
        label=_("Compter la personne sans l'enregistrer (anonyme)"), required=False
    )

    def __init__(self, *args, places, beneficiaries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["beneficiary"].queryset = beneficiaries

    def clean(self):
        data = super().clean()
        data["themes"] = [*data.get("skill_themes", []), *data.get("procedure_themes", [])]
        return data
