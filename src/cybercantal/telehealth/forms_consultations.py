"""Forms of the teleconsultation journey: booking (the site, specialty, patient and assisting
professional chosen step by step, then the slot and the facts of the request), a new patient,
the checklist, closing the session, an incident, filtering the list. The rules that matter
are the services'; these forms turn the browser's strings into values, offer only what the
actor may choose and name the field at fault."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    AssistingProfessional,
    Consultation,
    DeviceKind,
    Incident,
    Patient,
    Practitioner,
    Site,
    Specialty,
    TransportMode,
)
from .selectors.consultations import practitioners_of, site_assistants, specialties_offered
from .services.consultations import BOOKING_HORIZON_DAYS
from .services.sessions import CORRECTION_REASONS, INCIDENT_CAUSE_MAX

# A need expressed longer ago than this is more likely a typo in the year than a real delay.
OLDEST_REQUEST = dt.timedelta(days=366)


class _SiteChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.place.name} — {obj.place.commune.name} ({obj.get_kind_display()})"


class _PatientChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Patient) -> str:
        return _("%(name)s, né(e) en %(year)s") % {"name": obj.display_name, "year": obj.birth_year}


class _AssistantChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: AssistingProfessional) -> str:
        return f"{obj} ({obj.get_kind_display().lower()})"


class BookingSelectionForm(forms.Form):
    """Where the booking is at: each step sends the choices made so far (in the address on
    the way, as hidden fields when booking). Only the sites where the actor books, the
    patients and assisting professionals of the chosen site are valid."""

    site = _SiteChoice(
        label=_("Site de téléconsultation"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Ce site n'existe pas ou ne vous est pas ouvert.")},
    )
    specialty = forms.ModelChoiceField(
        label=_("Spécialité"),
        queryset=Specialty.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Cette spécialité n'est pas proposée.")},
    )
    patient = _PatientChoice(
        label=_("Patient"),
        queryset=Patient.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Ce patient n'est pas suivi sur ce site.")},
    )
    assistant = _AssistantChoice(
        label=_("Professionnel assistant"),
        queryset=AssistingProfessional.objects.none(),
        required=False,
        empty_label=_("Sans professionnel assistant"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Ce professionnel n'intervient pas sur ce site.")},
    )

    def __init__(self, data=None, *, sites, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["specialty"].queryset = specialties_offered()
        # The patients and assisting professionals depend on the site: read it first (one
        # the actor may book at), the full validation comes with is_valid().
        site = self._site_from(data, sites)
        if site is not None:
            self.fields["patient"].queryset = Patient.objects.filter(site=site)
            self.fields["assistant"].queryset = site_assistants(site=site)

    @staticmethod
    def _site_from(data, sites) -> Site | None:
        if len(sites) == 1:
            return sites[0]
        raw = (data or {}).get("site")
        if not raw or not str(raw).isdigit():
            return None
        return next((site for site in sites if site.pk == int(raw)), None)

    def clean(self):
        cleaned = super().clean()
        sites = self.fields["site"].queryset
        if not cleaned.get("site") and len(sites) == 1 and "site" not in self.errors:
            cleaned["site"] = sites[0]
        return cleaned


class SlotField(forms.CharField):
    """A slot of the list: "<practitioner id>|<start in ISO 8601 with its offset>"."""

    default_error_messages = {
        "invalid": _("Choisissez un créneau dans la liste."),
        "required": _("Choisissez un créneau dans la liste."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        practitioner_id, _sep, moment = value.partition("|")
        try:
            start = dt.datetime.fromisoformat(moment)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not practitioner_id.isdigit() or start.tzinfo is None or not _plausible(start):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(practitioner_id), start


def _plausible(start: dt.datetime) -> bool:
    """Within a year of today: the list never offers more, and a crafted date at the edge of
    the calendar (9999-12-31+14:00) must not reach date arithmetic."""
    try:
        return abs(start - timezone.now()) <= dt.timedelta(days=BOOKING_HORIZON_DAYS)
    except OverflowError:
        return False


class BookingDetailsForm(forms.Form):
    slot = SlotField(label=_("Créneau"), max_length=80)
    requested_at = forms.DateTimeField(
        label=_("Date et heure où le besoin a été exprimé"),
        help_text=_("Par défaut, maintenant. Format : 31/12/2025 14:30."),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("Indiquez quand le besoin a été exprimé."),
            "invalid": _("Date invalide : indiquez par exemple 31/12/2025 14:30."),
        },
    )
    transport_avoided = forms.ChoiceField(
        label=_("Sans téléconsultation, le patient irait à l'hôpital en"),
        choices=TransportMode.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choisissez un mode de transport de la liste.")},
    )
    is_emergency = forms.BooleanField(label=_("C'est une urgence"), required=False)
    last_in_person_visit_within_12_months = forms.BooleanField(
        label=_("Le patient a vu ce médecin en présentiel dans les 12 derniers mois"),
        required=False,
    )
    referred_by_attending_doctor = forms.BooleanField(
        label=_("Le patient est orienté par son médecin traitant"), required=False
    )

    def __init__(self, data=None, *, specialty: Specialty, now: dt.datetime, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.specialty = specialty
        self.now = now
        self.fields["requested_at"].initial = timezone.localtime(now).replace(
            second=0, microsecond=0
        )

    def clean_slot(self) -> tuple[Practitioner, dt.datetime]:
        practitioner_id, start = self.cleaned_data["slot"]
        practitioner = practitioners_of(self.specialty).filter(pk=practitioner_id).first()
        if practitioner is None:
            raise forms.ValidationError(
                _("Ce médecin ne consulte pas dans cette spécialité : choisissez un créneau.")
            )
        return practitioner, start

    def clean_requested_at(self) -> dt.datetime:
        value = self.cleaned_data["requested_at"]
        if value > self.now:
            raise forms.ValidationError(_("La date de la demande ne peut pas être dans le futur."))
        if value < self.now - OLDEST_REQUEST:
            raise forms.ValidationError(_("La demande date de plus d'un an : vérifiez l'année."))
        return value


class PatientForm(forms.Form):
    display_name = forms.CharField(
        label=_("Nom d'usage du patient"),
        help_text=_("Comme l'équipe du site l'appelle, par exemple « Mme Marie Delmas »."),
        max_length=120,
        error_messages={"required": _("Indiquez le nom du patient.")},
    )
    birth_year = forms.IntegerField(
        label=_("Année de naissance"),
        help_text=_("Quatre chiffres, par exemple 1938."),
        error_messages={
            "required": _("Indiquez l'année de naissance."),
            "invalid": _("Indiquez une année en chiffres, par exemple 1938."),
        },
    )
    is_care_home_resident = forms.BooleanField(label=_("Réside dans l'EHPAD"), required=False)
    has_attending_doctor = forms.BooleanField(
        label=_("A un médecin traitant"), required=False, initial=True
    )
    lives_in_territory = forms.BooleanField(
        label=_("Habite le territoire du médecin téléconsultant"), required=False, initial=True
    )

    def clean_birth_year(self) -> int:
        year = self.cleaned_data["birth_year"]
        this_year = timezone.localdate().year
        if not this_year - 120 <= year <= this_year:
            raise forms.ValidationError(_("Année de naissance invalide."))
        return year


class ChecklistForm(forms.Form):
    consent = forms.BooleanField(
        label=_("Le patient a donné son accord pour la téléconsultation"),
        error_messages={
            "required": _(
                "Cochez l'accord du patient : sans lui, la séance ne peut pas avoir lieu."
            )
        },
    )
    devices = forms.MultipleChoiceField(
        label=_("Appareils vérifiés et prêts"),
        help_text=_("Cochez chaque appareil une fois allumé et essayé."),
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Cet appareil n'est pas demandé pour cette séance.")},
    )

    def __init__(self, data=None, *, consultation: Consultation, **kwargs) -> None:
        super().__init__(data, **kwargs)
        labels = dict(DeviceKind.choices)
        required = consultation.specialty.required_devices
        self.required_devices = list(required)
        self.fields["devices"].choices = [(code, labels.get(code, code)) for code in required]
        if not required:
            del self.fields["devices"]

    def clean_devices(self) -> list[str]:
        ticked = self.cleaned_data["devices"]
        if set(self.required_devices) - set(ticked):
            raise forms.ValidationError(
                _("Cochez chaque appareil : tous doivent être prêts avant la séance.")
            )
        return ticked


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        label=_("La séance"),
        choices=[
            (Consultation.Status.DONE, _("s'est tenue normalement")),
            (Consultation.Status.INCIDENT, _("s'est tenue, avec un incident")),
            (Consultation.Status.NOT_HELD, _("n'a pas eu lieu")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez comment la séance s'est passée."),
            "invalid_choice": _("Choisissez comment la séance s'est passée."),
        },
    )
    channel = forms.ChoiceField(
        label=_("Par quel moyen"),
        help_text=_("Pas besoin de le remplir si la séance n'a pas eu lieu."),
        choices=Consultation.Channel.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choisissez vidéo, audio ou téléphone.")},
    )

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status and status != Consultation.Status.NOT_HELD and not cleaned.get("channel"):
            self.add_error(
                "channel",
                _("Indiquez par quel moyen la séance s'est tenue : vidéo, audio ou téléphone."),
            )
        return cleaned


class CloseCorrectionForm(CloseForm):
    # Why, as a short choice: no free text in the audit log.
    reason = forms.ChoiceField(
        label=_("Motif de la correction"),
        choices=CORRECTION_REASONS,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez le motif de la correction."),
            "invalid_choice": _("Choisissez le motif de la correction."),
        },
    )


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Ce qui s'est passé"),
        choices=Incident.Kind.choices,
        error_messages={
            "required": _("Choisissez la nature de l'incident."),
            "invalid_choice": _("Choisissez la nature de l'incident."),
        },
    )
    fallback = forms.ChoiceField(
        label=_("Solution de repli"),
        choices=Incident.Fallback.choices,
        error_messages={
            "required": _("Choisissez la solution de repli."),
            "invalid_choice": _("Choisissez la solution de repli."),
        },
    )
    cause = forms.CharField(
        label=_("Cause technique (facultatif)"),
        help_text=_(
            "Uniquement la cause technique, par exemple « box internet redémarrée ». "
            "N'écrivez jamais rien sur l'état de santé du patient."
        ),
        max_length=INCIDENT_CAUSE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": INCIDENT_CAUSE_MAX}),
        error_messages={"max_length": _("La cause compte au plus %(limit_value)d caractères.")},
    )


class ConsultationFilterForm(forms.Form):
    site = _SiteChoice(
        label=_("Site"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("Tous les sites"),
        error_messages={"invalid_choice": _("Site inconnu.")},
    )
    status = forms.ChoiceField(
        label=_("Statut"),
        choices=[("", _("Tous les statuts")), *Consultation.Status.choices],
        required=False,
        error_messages={"invalid_choice": _("Statut inconnu.")},
    )

    def __init__(self, data=None, *, sites, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["site"].queryset = sites
