"""Forms of the members' pages: the search among a place's members and the member's profile
(where they came from, their usual trip to work)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MemberProfile


class MemberListSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher un membre"),
        help_text=_("Nom, prénom, adresse e-mail ou téléphone."),
        max_length=100,
        required=False,
    )


class MemberProfileForm(forms.Form):
    previous_departement = forms.CharField(
        label=_("Département où vous habitiez avant de rejoindre le réseau"),
        help_text=_("Son numéro : 15 pour le Cantal, 69 pour le Rhône, 99 pour l'étranger."),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": "4"}),
    )
    usual_workplace = forms.CharField(
        label=_("Lieu de travail habituel"),
        help_text=_("Là où vous iriez travailler sans tiers-lieu (commune, entreprise)."),
        max_length=200,
        required=False,
    )
    usual_commute_km = forms.IntegerField(
        label=_("Distance de ce trajet, aller simple, en km"),
        min_value=0,
        max_value=1000,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Indiquez un nombre entier de kilomètres."),
            "min_value": _("La distance ne peut pas être négative."),
            "max_value": _("La distance ne peut pas dépasser 1 000 km."),
        },
    )
    commute_mode = forms.ChoiceField(
        label=_("Mode de transport habituel"),
        choices=MemberProfile.CommuteMode.choices,
        widget=forms.RadioSelect,
    )

    @classmethod
    def for_profile(cls, profile: MemberProfile | None, data=None) -> MemberProfileForm:
        initial = {"commute_mode": MemberProfile.CommuteMode.CAR}
        if profile is not None:
            initial = {
                "previous_departement": profile.previous_departement,
                "usual_workplace": profile.usual_workplace,
                "usual_commute_km": profile.usual_commute_km,
                "commute_mode": profile.commute_mode,
            }
        return cls(data, initial=initial)
