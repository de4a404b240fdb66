"""The form of a place's national-schema description (views/places.py, place_description).

Its checks mirror those of services.places.mediation_place_describe, which stays the authority:
the form only gives the browser's messages next to their fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import vocabulary
from .models import MediationPlace
from .services.places import pivot_error


def _choices(values) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def _checkboxes(label, values, *, required=False, help_text="", error_messages=None):
    return forms.MultipleChoiceField(
        label=label,
        choices=_choices(values),
        required=required,
        help_text=help_text,
        widget=forms.CheckboxSelectMultiple,
        error_messages=error_messages or {},
    )


class PlaceDescriptionForm(forms.Form):
    pivot = forms.CharField(
        label=_("SIRET ou RNA de la structure"),
        max_length=14,
        help_text=_(
            "14 chiffres pour un SIRET (par exemple 22150001000014), ou W suivi de 9 chiffres "
            "pour le numéro RNA d'une association (par exemple W151000123), sans espace."
        ),
        error_messages={
            "required": _("Indiquez le SIRET ou le numéro RNA de la structure qui gère le lieu."),
            "max_length": _("14 caractères au plus, sans espace."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    itinerance = forms.ChoiceField(
        label=_("Accueil"),
        choices=MediationPlace.Itinerance.choices,
        initial=MediationPlace.Itinerance.FIXED,
        widget=forms.RadioSelect,
        help_text=_("Itinérant : le lieu se déplace (bus numérique, permanences tournantes)."),
        error_messages={"required": _("Indiquez si le lieu est fixe ou itinérant.")},
    )
    presentation_resume = forms.CharField(
        label=_("Présentation courte"),
        max_length=280,
        required=False,
        help_text=_("280 caractères au plus."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": _(
                "280 caractères au plus (le texte en compte %(show_value)d) : raccourcissez-le."
            )
        },
    )
    presentation_detail = forms.CharField(
        label=_("Présentation détaillée"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    services = _checkboxes(
        _("Services proposés (au moins un)"),
        vocabulary.SERVICES,
        required=True,
        error_messages={"required": _("Cochez au moins un service proposé dans le lieu.")},
    )
    publics_specifiquement_adresses = _checkboxes(
        _("Publics spécifiquement adressés"), vocabulary.PUBLICS_SPECIFIQUEMENT_ADRESSES
    )
    prise_en_charge_specifique = _checkboxes(
        _("Prise en charge spécifique"), vocabulary.PRISE_EN_CHARGE_SPECIFIQUE
    )
    frais_a_charge = _checkboxes(_("Frais à charge"), vocabulary.FRAIS_A_CHARGE)
    modalites_acces = _checkboxes(_("Modalités d'accès"), vocabulary.MODALITES_ACCES)
    modalites_accompagnement = _checkboxes(
        _("Modalités d'accompagnement"), vocabulary.MODALITES_ACCOMPAGNEMENT
    )
    dispositif_programmes_nationaux = _checkboxes(
        _("Dispositifs et programmes nationaux"), vocabulary.DISPOSITIF_PROGRAMMES_NATIONAUX
    )
    formations_labels = _checkboxes(_("Formations et labels"), vocabulary.FORMATIONS_LABELS)
    autres_formations_labels = forms.CharField(
        label=_("Autres formations et labels"),
        max_length=500,
        required=False,
        help_text=_("Ceux qui ne figurent pas dans la liste ci-dessus (500 caractères au plus)."),
    )
    typologie = forms.MultipleChoiceField(
        label=_("Typologie de la structure"),
        choices=[(code, f"{label} — {code}") for code, label in vocabulary.TYPOLOGIE.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    fiche_acces_libre = forms.URLField(
        label=_("Fiche Acceslibre"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Adresse de la fiche d'accessibilité du lieu sur acceslibre.beta.gouv.fr "
            "(commence par https://)."
        ),
        error_messages={"invalid": _("Saisissez une adresse web complète (https://…).")},
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )
    prise_rdv = forms.URLField(
        label=_("Prise de rendez-vous en ligne"),
        required=False,
        assume_scheme="https",
        help_text=_("Adresse de la page de prise de rendez-vous (commence par https://)."),
        error_messages={"invalid": _("Saisissez une adresse web complète (https://…).")},
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )

    def clean_pivot(self) -> str:
        value = self.cleaned_data["pivot"].strip()
        if value[:1] == "w":
            value = "W" + value[1:]
        problem = pivot_error(value)
        if problem:
            raise forms.ValidationError(problem)
        return value
