"""Forms of the people a structure follows: searching the list, correcting a record. The
checks that matter (consent, phone, mandates) are services.beneficiaries'; these forms turn
the browser's strings into values and name the field at fault."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cybercantal.core.notifications.sms import phone_display
from cybercantal.territory.models import Commune

from .models import Beneficiary


class BeneficiarySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher une personne"),
        help_text=_("Prénom, numéro de téléphone ou commune."),
        max_length=100,
        required=False,
    )


class BeneficiaryForm(forms.Form):
    is_anonymous = forms.BooleanField(
        label=_("Compter la personne sans l'enregistrer (anonyme)"),
        help_text=_("Le prénom et le téléphone seront effacés de la fiche."),
        required=False,
    )
    first_name = forms.CharField(label=_("Prénom"), max_length=100, required=False)
    phone = forms.CharField(label=_("Téléphone mobile"), max_length=20, required=False)
    has_no_phone = forms.BooleanField(label=_("La personne n'a pas de téléphone"), required=False)
    birth_year = forms.IntegerField(
        label=_("Année de naissance"),
        required=False,
        min_value=1900,
        error_messages={
            "invalid": _("Indiquez une année en chiffres, par exemple 1948."),
            "min_value": _("Année de naissance invalide."),
        },
    )
    age_band = forms.ChoiceField(label=_("Tranche d'âge"), choices=Beneficiary.AgeBand.choices)
    gender = forms.ChoiceField(label=_("Genre"), choices=Beneficiary.Gender.choices)
    status = forms.ChoiceField(label=_("Statut"), choices=Beneficiary.Status.choices)
    commune = forms.CharField(
        label=_("Commune de résidence (code INSEE ou nom)"),
        max_length=100,
        required=False,
    )
    consent = forms.BooleanField(
        label=_("La personne accepte aujourd'hui que sa fiche soit enregistrée"),
        help_text=_("Cochez si vous venez de recueillir (ou de recueillir à nouveau) son accord."),
        required=False,
    )

    @classmethod
    def for_person(cls, person: Beneficiary, data=None) -> BeneficiaryForm:
        initial = {
            "is_anonymous": person.is_anonymous,
            "first_name": person.first_name,
            "phone": phone_display(person.phone) if person.phone else "",
            "has_no_phone": person.has_no_phone,
            "birth_year": person.birth_year,
            "age_band": person.age_band,
            "gender": person.gender,
            "status": person.status,
            "commune": person.commune.insee_code if person.commune_id else "",
        }
        return cls(data, initial=initial)

    def clean_birth_year(self):
        year = self.cleaned_data["birth_year"]
        if year is not None and year > timezone.localdate().year:
            raise forms.ValidationError(_("Année de naissance invalide."))
        return year

    def clean_commune(self) -> Commune | None:
        raw = (self.cleaned_data["commune"] or "").strip()
        if not raw:
            return None
        commune = (
            Commune.objects.filter(Q(insee_code=raw.upper()) | Q(name__iexact=raw))
            .order_by("insee_code")
            .first()
        )
        if commune is None:
            raise forms.ValidationError(_("Commune inconnue : vérifiez le nom ou le code."))
        return commune
