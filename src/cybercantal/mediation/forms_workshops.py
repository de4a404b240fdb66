"""Forms of workshops and home visits. They check the input's shape; the services check the
rules (past date, capacity, level, who may) and answer in French."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cybercantal.territory.models import Place

from .activity_vocabulary import THEMES
from .models import Activity, HomeVisit


class _PlaceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Place) -> str:
        return f"{obj.name} ({obj.commune.name})"


class WorkshopForm(forms.Form):
    title = forms.CharField(label=_("Titre de l'atelier"), max_length=200)
    theme = forms.ChoiceField(label=_("Thématique"), choices=())
    level = forms.ChoiceField(label=_("Niveau"), choices=Activity.Level.choices)
    place = _PlaceChoice(label=_("Lieu"), queryset=Place.objects.none(), empty_label=_("Choisir…"))
    day = forms.DateField(label=_("Jour"), widget=forms.DateInput({"type": "date"}))
    start_time = forms.TimeField(label=_("Début"), widget=forms.TimeInput({"type": "time"}))
    end_time = forms.TimeField(label=_("Fin"), widget=forms.TimeInput({"type": "time"}))
    capacity = forms.IntegerField(label=_("Nombre de places"), min_value=0, max_value=1000)
    description = forms.CharField(
        label=_("Présentation (facultatif)"), required=False, widget=forms.Textarea({"rows": 3})
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["theme"].choices = [("", _("Choisir…"))] + [
            (code, label) for code, label in THEMES.items()
        ]


class PersonByPhoneForm(forms.Form):
    """An agent registering someone from a phone call: a name and a phone."""

    name = forms.CharField(label=_("Nom et prénom"), max_length=200)
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=40,
        help_text=_("Un portable reçoit la confirmation et le rappel par SMS."),
        widget=forms.TextInput({"autocomplete": "off", "inputmode": "tel", "type": "tel"}),
    )


class WalkInForm(forms.Form):
    name = forms.CharField(label=_("Nom et prénom"), max_length=200)
    phone = forms.CharField(label=_("Téléphone (facultatif)"), max_length=40, required=False)


class HomeVisitForm(forms.Form):
    day = forms.DateField(label=_("Jour"), widget=forms.DateInput({"type": "date"}))
    window = forms.ChoiceField(label=_("Demi-journée"), choices=HomeVisit.Window.choices)
    name = forms.CharField(label=_("Nom et prénom de la personne"), max_length=200)
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=40,
        widget=forms.TextInput({"autocomplete": "off", "inputmode": "tel", "type": "tel"}),
    )
    address = forms.CharField(label=_("Adresse"), max_length=300)
    commune = forms.CharField(label=_("Commune"), max_length=100)
    duration_minutes = forms.TypedChoiceField(
        label=_("Durée de la visite"),
        choices=[(30, _("30 min")), (45, _("45 min")), (60, _("1 h")), (90, _("1 h 30"))],
        coerce=int,
        initial=60,
    )
