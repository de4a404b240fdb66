"""Forms of the connectivity test (figures typed from another speed test) and of the
network's set-up pages (sites, equipment, specialties, practitioners, assisting professionals,
reference hospitals).

The services (services/connectivity.py, services/network.py) stay the authority on every rule:
the forms turn what was typed into values, give each field its message in French, and find
the accounts named by an identifier or an e-mail address."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy, slugify
from django.utils.translation import gettext_lazy as _

from cybercantal.territory.models import Organisation

from .models import (
    AssistantKind,
    AssistingProfessional,
    DeviceKind,
    Practitioner,
    ReferenceHospital,
    Site,
    Specialty,
)
from .selectors.network import account_by_identifier
from .services.connectivity import SOURCE_BROWSER, SOURCES
from .services.network import (
    SPECIALTY_MAX_MINUTES,
    SPECIALTY_MIN_MINUTES,
    SPECIALTY_STEP_MINUTES,
)

# The structures a practitioner may consult for (a hospital, a practice, a health centre…).
PRACTITIONER_ORGANISATION_KINDS = (
    Organisation.Kind.HOSPITAL,
    Organisation.Kind.HEALTH_CENTRE,
    Organisation.Kind.CARE_HOME,
    Organisation.Kind.PHARMACY,
    Organisation.Kind.COMPANY,
    Organisation.Kind.ASSOCIATION,
    Organisation.Kind.PUBLIC_BODY,
    Organisation.Kind.OTHER,
)


def _number_input(**attrs) -> forms.TextInput:
    # A text field with the numeric keyboard: "12,5" is accepted, which type=number refuses
    # in some browsers set to English.
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


# --- Connectivity --------------------------------------------------------------------------------


class ConnectivityForm(forms.Form):
    """The figures of a test: measured by the page's script (source "navigateur") or read off
    another speed test and typed (source "saisie")."""

    download_mbps = forms.CharField(
        label=_("Débit descendant (réception), en Mbit/s"),
        max_length=20,
        help_text=_("Par exemple 12,5. Certains tests l'appellent « download »."),
        error_messages={"required": _("Indiquez le débit descendant.")},
        widget=_number_input(),
    )
    upload_mbps = forms.CharField(
        label=_("Débit montant (envoi), en Mbit/s"),
        max_length=20,
        help_text=_("Par exemple 1,8. Certains tests l'appellent « upload »."),
        error_messages={"required": _("Indiquez le débit montant.")},
        widget=_number_input(),
    )
    latency_ms = forms.CharField(
        label=_("Latence, en millisecondes"),
        max_length=20,
        help_text=_("Par exemple 35. Certains tests l'appellent « ping »."),
        error_messages={"required": _("Indiquez la latence.")},
        widget=_number_input(inputmode="numeric"),
    )
    jitter_ms = forms.CharField(
        label=_("Gigue, en millisecondes (facultatif)"),
        max_length=20,
        required=False,
        help_text=_("Laissez vide si le test ne l'indique pas."),
        widget=_number_input(inputmode="numeric"),
    )
    source = forms.ChoiceField(
        choices=[(value, value) for value in SOURCES],
        initial=SOURCE_BROWSER,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Origine de la mesure inconnue.")},
    )


# --- Accounts named in a form --------------------------------------------------------------------


def account_from_identifier(value: str):
    """The active account an identifier or e-mail address designates, or a French
    ValidationError."""
    account = account_by_identifier(value)
    if account is None:
        raise forms.ValidationError(
            _("Aucun compte actif ne correspond à « %(value)s ».") % {"value": value}
        )
    return account


class AccountField(forms.CharField):
    """An account, typed as its identifier or its e-mail address."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault(
            "help_text", _("L'identifiant de connexion de la personne ou son adresse e-mail.")
        )
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return account_from_identifier(value.strip()) if value else None


class AccountListField(forms.CharField):
    """Several accounts, one identifier or e-mail address per line."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        accounts, problems = {}, []
        for line in (value or "").replace(",", "\n").splitlines():
            identifier = line.strip()
            if not identifier:
                continue
            try:
                account = account_from_identifier(identifier)
            except forms.ValidationError as error:
                problems.extend(error.messages)
            else:
                accounts[account.pk] = account
        if problems:
            raise forms.ValidationError(problems)
        return list(accounts.values())


def account_lines(users) -> str:
    return "\n".join(user.get_username() for user in users)


# --- Sites ---------------------------------------------------------------------------------------


class SiteForm(forms.Form):
    place = forms.ModelChoiceField(
        label=_("Lieu"),
        queryset=None,
        help_text=_(
            "Parmi les lieux gérés par une structure qui ne sont pas encore des sites. Un lieu "
            "manque ? Créez-le d'abord dans l'annuaire des lieux."
        ),
        empty_label=_("— Choisissez un lieu —"),
        error_messages={
            "required": _("Choisissez le lieu du site."),
            "invalid_choice": _("Ce lieu ne peut pas devenir un site : choisissez-en un autre."),
        },
    )
    kind = forms.ChoiceField(
        label=_("Type de site"),
        choices=Site.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez le type de site.")},
    )
    reference_hospital = forms.ModelChoiceField(
        label=_("Hôpital de référence"),
        queryset=ReferenceHospital.objects.order_by("name"),
        required=False,
        empty_label=_("L'hôpital par défaut"),
        help_text=_("Où les patients iraient sans téléconsultation."),
        error_messages={"invalid_choice": _("Choisissez un hôpital de la liste.")},
    )
    hospital_distance_km = forms.DecimalField(
        label=_("Distance à l'hôpital, en km par la route (facultatif)"),
        required=False,
        min_value=0,
        max_value=1000,
        max_digits=6,
        decimal_places=1,
        localize=True,
        help_text=_(
            "Laissez vide pour l'estimer d'après la position du lieu (distance à vol d'oiseau "
            "majorée pour les routes de montagne). Corrigez-la si vous connaissez le trajet."
        ),
        error_messages={
            "invalid": _("Saisissez un nombre de kilomètres, par exemple 42,5."),
            "min_value": _("La distance ne peut pas être négative."),
            "max_value": _("1 000 km au plus : vérifiez la distance."),
            "max_decimal_places": _("Un chiffre après la virgule au plus."),
            "max_digits": _("1 000 km au plus : vérifiez la distance."),
        },
        widget=_number_input(),
    )
    hospital_travel_minutes = forms.IntegerField(
        label=_("Trajet jusqu'à l'hôpital, en minutes (facultatif)"),
        required=False,
        min_value=0,
        max_value=600,
        help_text=_("Aller seulement. Laissez vide pour l'estimer d'après la distance."),
        error_messages={
            "invalid": _("Saisissez un nombre entier de minutes."),
            "min_value": _("La durée ne peut pas être négative."),
            "max_value": _("10 heures au plus : vérifiez la durée."),
        },
        widget=_number_input(inputmode="numeric"),
    )
    connection = forms.ChoiceField(
        label=_("Raccordement à internet"),
        choices=[("", _("Non renseigné")), *Site.Connection.choices],
        required=False,
        error_messages={"invalid_choice": _("Choisissez un raccordement de la liste.")},
    )
    coordinators = AccountListField(
        label=_("Coordinateurs du site"),
        help_text=_(
            "Un identifiant de connexion ou une adresse e-mail par ligne. Ils préparent les "
            "séances du site et signalent les pannes."
        ),
    )
    opened_on = forms.DateField(
        label=_("En service depuis (facultatif)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date, par exemple 15/03/2024.")},
    )
    is_active = forms.BooleanField(
        label=_("Site en service (on peut y réserver des téléconsultations)"),
        required=False,
        initial=True,
    )

    closed_on = forms.DateField(
        label=_("Dernier jour en service (si le site n'est plus en service)"),
        help_text=_(
            "Aujourd'hui si vous le laissez vide. Les mois où le site a servi gardent leur part "
            "des coûts du réseau."
        ),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date, par exemple 15/03/2024.")},
    )

    def __init__(self, *args, places=None, site: Site | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if site is None:
            self.fields["place"].queryset = places
            del self.fields["is_active"]
            del self.fields["closed_on"]
        else:
            del self.fields["place"]
            self.initial.update(
                {
                    "kind": site.kind,
                    "reference_hospital": site.reference_hospital_id,
                    "hospital_distance_km": site.hospital_distance_km,
                    "hospital_travel_minutes": site.hospital_travel_minutes,
                    "connection": site.connection,
                    "coordinators": account_lines(site.coordinators.all()),
                    "opened_on": site.opened_on,
                    "is_active": site.is_active,
                    "closed_on": site.closed_on,
                }
            )


class EquipmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Appareil"),
        choices=[("", _("— Choisissez un appareil —")), *DeviceKind.choices],
        error_messages={
            "required": _("Choisissez l'appareil."),
            "invalid_choice": _("Choisissez un appareil de la liste."),
        },
    )
    model_name = forms.CharField(
        label=_("Modèle (facultatif)"),
        max_length=120,
        required=False,
        error_messages={"max_length": _("120 caractères au plus.")},
    )
    serial_number = forms.CharField(
        label=_("Numéro de série (facultatif)"),
        max_length=60,
        required=False,
        error_messages={"max_length": _("60 caractères au plus.")},
    )


# --- Specialties ---------------------------------------------------------------------------------


def _duration_choices() -> list[tuple[int, str]]:
    choices = []
    for minutes in range(SPECIALTY_MIN_MINUTES, SPECIALTY_MAX_MINUTES + 1, SPECIALTY_STEP_MINUTES):
        hours, rest = divmod(minutes, 60)
        if not hours:
            text = _("%(minutes)d minutes") % {"minutes": rest}
        elif not rest:
            text = _("%(hours)d h") % {"hours": hours}
        else:
            text = _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}
        choices.append((minutes, text))
    return choices


class SpecialtyForm(forms.Form):
    label = forms.CharField(
        label=_("Spécialité"),
        max_length=120,
        error_messages={
            "required": _("Indiquez le nom de la spécialité."),
            "max_length": _("120 caractères au plus."),
        },
    )
    code = forms.CharField(
        label=_("Code (facultatif)"),
        max_length=40,
        required=False,
        help_text=_("Lettres sans accent, chiffres et tirets. Vide : tiré du nom."),
        error_messages={"max_length": _("40 caractères au plus.")},
    )
    required_devices = forms.MultipleChoiceField(
        label=_("Appareils nécessaires sur le site"),
        choices=DeviceKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Une téléconsultation ne se réserve que si ces appareils marchent."),
        error_messages={"invalid_choice": _("Choisissez des appareils de la liste.")},
    )
    required_assistant = forms.ChoiceField(
        label=_("Professionnel assistant requis auprès du patient"),
        choices=[("", _("Aucun")), *AssistantKind.choices],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choisissez une profession de la liste.")},
    )
    default_duration_minutes = forms.TypedChoiceField(
        label=_("Durée habituelle"),
        choices=_duration_choices,
        coerce=int,
        initial=30,
        error_messages={
            "required": _("Choisissez la durée habituelle."),
            "invalid_choice": _("Choisissez une durée de la liste."),
        },
    )

    def __init__(self, *args, specialty: Specialty | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if specialty is not None:
            self.initial.update(
                {
                    "label": specialty.label,
                    "code": specialty.code,
                    "required_devices": specialty.required_devices,
                    "required_assistant": specialty.required_assistant,
                    "default_duration_minutes": specialty.default_duration_minutes,
                }
            )

    def clean(self):
        data = super().clean()
        if not data.get("code") and data.get("label"):
            data["code"] = slugify(data["label"])[:40]
        return data


# --- People --------------------------------------------------------------------------------------


def _specialties_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Spécialités"),
        queryset=Specialty.objects.order_by("label"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Cochez au moins une spécialité."),
            "invalid_choice": _("Choisissez des spécialités de la liste."),
            "invalid_pk_value": _("Choisissez des spécialités de la liste."),
        },
    )


def _sites_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Sites où la personne intervient"),
        queryset=Site.objects.select_related("place").order_by("place__name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Cochez au moins un site."),
            "invalid_choice": _("Choisissez des sites de la liste."),
            "invalid_pk_value": _("Choisissez des sites de la liste."),
        },
    )


class PractitionerForm(forms.Form):
    user = AccountField(
        label=_("Compte de la personne"),
        error_messages={"required": _("Indiquez le compte du médecin.")},
    )
    kind = forms.ChoiceField(
        label=_("Exercice"),
        choices=Practitioner.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez l'exercice.")},
    )
    rpps = forms.CharField(
        label=_("Numéro RPPS"),
        max_length=20,
        help_text=_("11 chiffres, sur la carte CPS ou dans l'annuaire santé."),
        error_messages={"required": _("Indiquez le numéro RPPS.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    specialties = _specialties_field()
    organisation = forms.ModelChoiceField(
        label=_("Structure pour laquelle le médecin consulte"),
        queryset=Organisation.objects.filter(kind__in=PRACTITIONER_ORGANISATION_KINDS).order_by(
            "name"
        ),
        empty_label=_("— Choisissez une structure —"),
        error_messages={
            "required": _("Choisissez la structure."),
            "invalid_choice": _("Choisissez une structure de la liste."),
        },
    )
    is_active = forms.BooleanField(
        label=_("Actif (on peut réserver ses créneaux)"), required=False, initial=True
    )

    def __init__(self, *args, practitioner: Practitioner | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if practitioner is None:
            del self.fields["is_active"]
        else:
            for name in ("user", "rpps", "organisation"):
                del self.fields[name]
            self.initial.update(
                {
                    "kind": practitioner.kind,
                    "specialties": [s.pk for s in practitioner.specialties.all()],
                    "is_active": practitioner.is_active,
                }
            )

    def clean_rpps(self) -> str:
        value = "".join(self.cleaned_data["rpps"].split())
        if not (len(value) == 11 and value.isdigit()):
            raise forms.ValidationError(_("Le numéro RPPS compte 11 chiffres."))
        return value

    def clean_user(self):
        user = self.cleaned_data["user"]
        if Practitioner.objects.filter(user=user).exists():
            raise forms.ValidationError(_("Ce compte est déjà enregistré comme médecin."))
        return user


class AssistantForm(forms.Form):
    user = AccountField(
        label=_("Compte de la personne"),
        error_messages={"required": _("Indiquez le compte du professionnel.")},
    )
    kind = forms.ChoiceField(
        label=_("Profession"),
        choices=AssistantKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez la profession.")},
    )
    sites = _sites_field()
    is_active = forms.BooleanField(
        label=_("Actif (peut assister des téléconsultations)"), required=False, initial=True
    )

    def __init__(self, *args, assistant: AssistingProfessional | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if assistant is None:
            del self.fields["is_active"]
        else:
            del self.fields["user"]
            self.initial.update(
                {
                    "kind": assistant.kind,
                    "sites": [s.pk for s in assistant.sites.all()],
                    "is_active": assistant.is_active,
                }
            )

    def clean_user(self):
        user = self.cleaned_data["user"]
        if AssistingProfessional.objects.filter(user=user).exists():
            raise forms.ValidationError(
                _("Ce compte est déjà enregistré comme professionnel assistant.")
            )
        return user


def _coordinate_field(label, required, *, bound: int, example: str) -> forms.FloatField:
    """A latitude or longitude in decimal degrees, between -bound and bound."""
    between = format_lazy(_("Entre -{bound} et {bound}."), bound=bound)
    return forms.FloatField(
        label=label,
        min_value=-bound,
        max_value=bound,
        localize=True,
        help_text=format_lazy(_("En degrés décimaux, par exemple {example}."), example=example),
        error_messages={
            "required": required,
            "invalid": format_lazy(
                _("Saisissez un nombre, par exemple {example}."), example=example
            ),
            "min_value": between,
            "max_value": between,
        },
        widget=_number_input(),
    )


class HospitalForm(forms.Form):
    name = forms.CharField(
        label=_("Nom"),
        max_length=200,
        error_messages={
            "required": _("Indiquez le nom de l'hôpital."),
            "max_length": _("200 caractères au plus."),
        },
    )
    latitude = _coordinate_field(
        _("Latitude"), _("Indiquez la latitude."), bound=90, example="44,9262"
    )
    longitude = _coordinate_field(
        _("Longitude"), _("Indiquez la longitude."), bound=180, example="2,4447"
    )
    is_default = forms.BooleanField(
        label=_("Hôpital par défaut des nouveaux sites"), required=False
    )

    def __init__(self, *args, hospital: ReferenceHospital | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if hospital is not None:
            self.initial.update(
                {
                    "name": hospital.name,
                    "latitude": hospital.latitude,
                    "longitude": hospital.longitude,
                    "is_default": hospital.is_default,
                }
            )
