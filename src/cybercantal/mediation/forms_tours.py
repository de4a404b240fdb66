"""Forms of itinerant tours: a tour, a stop, moving or cancelling one, and the public's
search of the next stops near a commune. They check the input's shape; the services check the
rules (past day, overlap, public place) and answer in French."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Resource
from cybercantal.territory.models import Place

RADIUS_CHOICES_KM = (10, 20, 30, 50)
DEFAULT_RADIUS_KM = 20


class _PlaceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Place) -> str:
        return f"{obj.name} ({obj.commune.name})"


class TourForm(forms.Form):
    name = forms.CharField(label=_("Nom de la tournée"), max_length=200)
    mediator = forms.ModelChoiceField(
        label=_("Médiateur ou médiatrice"),
        queryset=Resource.objects.none(),
        empty_label=_("Choisir…"),
    )
    description = forms.CharField(
        label=_("Présentation (facultatif)"), required=False, widget=forms.Textarea({"rows": 3})
    )

    def __init__(self, *args, mediators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator"].queryset = mediators


class StopForm(forms.Form):
    place = _PlaceChoice(
        label=_("Lieu de l'étape"),
        queryset=Place.objects.none(),
        empty_label=_("Choisir…"),
        help_text=_("Un lieu ouvert au public : mairie, médiathèque, place du marché…"),
    )
    day = forms.DateField(label=_("Jour"), widget=forms.DateInput({"type": "date"}))
    start_time = forms.TimeField(label=_("Début"), widget=forms.TimeInput({"type": "time"}))
    end_time = forms.TimeField(label=_("Fin"), widget=forms.TimeInput({"type": "time"}))

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("L'heure de fin doit être après l'heure de début."))
        return data


class StopMoveForm(StopForm):
    reason = forms.CharField(
        label=_("Motif du changement"),
        max_length=300,
        help_text=_("Il est envoyé aux personnes inscrites, avec la nouvelle date."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].required = False
        self.fields["place"].empty_label = _("Le même lieu")
        self.fields["place"].help_text = ""


class StopCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        max_length=300,
        help_text=_("Il est envoyé aux personnes inscrites, avec les prochaines étapes."),
    )


class NearbySearchForm(forms.Form):
    commune = forms.CharField(label=_("Votre commune"), max_length=100, required=False)
    insee = forms.CharField(required=False, widget=forms.HiddenInput, max_length=5)
    rayon = forms.TypedChoiceField(
        label=_("Distance"),
        choices=[(km, _("%(km)d km") % {"km": km}) for km in RADIUS_CHOICES_KM],
        coerce=int,
        required=False,
        empty_value=DEFAULT_RADIUS_KM,
    )
