"""Forms of the booking pages. They validate what people type or what arrives in a link;
services (booking.services) do the writing and enforce the booking rules.

Every error message is French and says what to do. A tampered or stale link never causes a
500: its form is invalid and the page says so."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cybercantal.accounts.forms import CodeVerifyForm
from cybercantal.core.notifications.sms import normalize_phone

from .models import Booking

__all__ = [
    "AgendaForm",
    "AgentBookingForm",
    "AgentCancelForm",
    "AgentWaitlistForm",
    "CalendarFeedForm",
    "CancelDayForm",
    "CodeVerifyForm",
    "PersonForm",
    "ResourceFeedForm",
    "SlotForm",
    "SlotSearchForm",
    "WaitlistForm",
    "WaitlistPersonForm",
]

RADIUS_CHOICES_KM = (10, 20, 40, 60)
DEFAULT_RADIUS_KM = 20
# How far ahead a waiting-list entry looks: the next 2, 4 or 8 weeks.
WAITLIST_WEEKS = (2, 4, 8)
DEFAULT_WAITLIST_WEEKS = 4
INSEE_CODE_REGEX = r"^[0-9][0-9AB][0-9]{3}$"  # 15014, and Corsica's 2A004


def _radius_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("Distance maximale (à vol d'oiseau)"),
        choices=[(str(km), _("%(km)d km") % {"km": km}) for km in RADIUS_CHOICES_KM],
        coerce=int,
        required=False,
        empty_value=DEFAULT_RADIUS_KM,
        error_messages={
            "invalid_choice": _(
                "La distance « %(value)s » n'est pas proposée : choisissez 10, 20, 40 ou 60 km."
            )
        },
    )


def _moment_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        error_messages={
            "required": _("Le lien est incomplet : il manque l'heure du créneau."),
            "invalid": _("Le lien est abîmé : l'heure du créneau n'est pas lisible."),
        },
    )


class _AwareMixin:
    """Dates in links carry their offset ("2027-03-02T09:30:00+01:00"); one without is read
    in the platform's time zone."""

    def _aware(self, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class SlotSearchForm(_AwareMixin, forms.Form):
    """The free-slot search: a service, a commune (typed, or chosen by its INSEE code), a radius,
    and where the window starts ("voir plus tard"). GET parameters."""

    prestation = forms.SlugField(
        label=_("Prestation"),
        max_length=60,
        error_messages={
            "required": _("Choisissez d'abord ce pour quoi vous voulez un rendez-vous."),
            "invalid": _("Cette prestation n'existe pas."),
        },
    )
    commune = forms.CharField(
        label=_("Votre commune ou son code postal"),
        help_text=_("Par exemple : Saint-Flour, ou 15100."),
        max_length=100,
        required=False,
        error_messages={
            "max_length": _("Le nom de la commune est trop long : 100 caractères au plus."),
            "null_characters_not_allowed": _("Ce texte contient un caractère non autorisé."),
        },
    )
    insee = forms.RegexField(
        regex=INSEE_CODE_REGEX,
        required=False,
        error_messages={"invalid": _("Cette commune n'existe pas.")},
    )
    rayon = _radius_field()
    apres = forms.DateTimeField(
        required=False,
        error_messages={"invalid": _("La date de début de la recherche n'est pas lisible.")},
    )

    def clean_apres(self):
        return self._aware(self.cleaned_data.get("apres"))


class SlotForm(_AwareMixin, forms.Form):
    """One slot, as carried by the "choose this slot" links: a resource, a start and an end, the
    service, and (optionally) the search it came from, to offer a way back."""

    ressource = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": _("Le lien est incomplet : il manque le lieu du rendez-vous."),
            "invalid": _("Le lien est abîmé : le lieu du rendez-vous n'est pas lisible."),
            "min_value": _("Le lien est abîmé : le lieu du rendez-vous n'est pas lisible."),
        },
    )
    prestation = forms.SlugField(max_length=60, required=False)
    debut = _moment_field(_("Début"))
    fin = _moment_field(_("Fin"))
    insee = forms.RegexField(regex=INSEE_CODE_REGEX, required=False)
    rayon = _radius_field()

    def clean_debut(self):
        return self._aware(self.cleaned_data.get("debut"))

    def clean_fin(self):
        return self._aware(self.cleaned_data.get("fin"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("debut"), cleaned.get("fin")
        if start and end and not start < end:
            raise ValidationError(_("Le lien est abîmé : la fin du créneau précède son début."))
        if start and end and end - start > dt.timedelta(days=1):
            raise ValidationError(_("Le lien est abîmé : ce créneau dure plus d'une journée."))
        return cleaned


def _clean_mobile(value: str) -> str:
    try:
        return normalize_phone(value, mobile=True)
    except ValueError as exc:
        raise ValidationError(str(exc), code="phone") from exc


class PersonForm(forms.Form):
    """Someone booking without an account: a name, a mobile number (confirmed by an SMS code),
    and an e-mail address if they want the confirmation that way."""

    name = forms.CharField(
        label=_("Votre nom et votre prénom"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Indiquez votre nom et votre prénom.")},
    )
    phone = forms.CharField(
        label=_("Votre numéro de téléphone portable"),
        help_text=_(
            "Par exemple 06 12 34 56 78. Nous vous envoyons un code par SMS pour vérifier ce "
            "numéro, puis le rappel de votre rendez-vous."
        ),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
        error_messages={"required": _("Indiquez votre numéro de téléphone portable.")},
    )
    email = forms.EmailField(
        label=_("Votre adresse électronique (facultatif)"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": _("Cette adresse électronique n'est pas valide.")},
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Indiquez votre nom et votre prénom."))
        return name

    def clean_phone(self) -> str:
        return _clean_mobile(self.cleaned_data["phone"])


class AgendaForm(forms.Form):
    """What the agenda shows: a place or a resource ("cible"), a day or a week, a date."""

    VIEW_DAY, VIEW_WEEK = "jour", "semaine"

    cible = forms.ChoiceField(label=_("Lieu ou personne"), required=False)
    vue = forms.ChoiceField(
        label=_("Affichage"),
        choices=[(VIEW_DAY, _("Jour")), (VIEW_WEEK, _("Semaine"))],
        required=False,
    )
    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Cette date n'est pas valide (jj/mm/aaaa).")},
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cible"].choices = list(targets)


class AgentCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif (facultatif)"),
        help_text=_("Il est indiqué à la personne dans le message d'annulation."),
        max_length=300,
        required=False,
    )


class CancelDayForm(forms.Form):
    cible = forms.ChoiceField(
        label=_("Lieu ou personne"),
        help_text=_(
            "Un lieu : les rendez-vous qui ont lieu là ce jour-là. Une personne : tous ses "
            "rendez-vous de la journée, où qu'elle soit (tournée comprise)."
        ),
    )
    day = forms.DateField(
        label=_("Journée à annuler"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Indiquez la journée à annuler."),
            "invalid": _("Cette date n'est pas valide (jj/mm/aaaa)."),
        },
    )
    reason = forms.CharField(
        label=_("Motif"),
        help_text=_(
            "Par exemple : « Routes enneigées » ou « Intervenante malade ». Il est envoyé aux "
            "personnes avec les prochains créneaux libres."
        ),
        max_length=300,
        error_messages={"required": _("Indiquez le motif : il est envoyé aux personnes.")},
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cible"].choices = list(targets)

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day < timezone.localdate():
            raise ValidationError(_("Cette journée est passée : choisissez aujourd'hui ou après."))
        return day

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise ValidationError(_("Indiquez le motif : il est envoyé aux personnes."))
        return reason


class _AgentForSomeoneForm(_AwareMixin, forms.Form):
    """What an agent types for someone on the phone or at the desk (booking them, or putting
    them on a waiting list): the person, found by their phone number when they have an
    account, else named, and one of the resources the agent manages."""

    phone = forms.CharField(
        label=_("Téléphone de la personne"),
        help_text=_("Si ce numéro correspond à un compte, la réservation est faite à son nom."),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel", "type": "tel"}),
        error_messages={"required": _("Indiquez le numéro de téléphone de la personne.")},
    )
    name = forms.CharField(
        label=_("Nom et prénom de la personne"),
        help_text=_("Inutile si le numéro correspond à un compte."),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Adresse électronique (facultatif)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"invalid": _("Cette adresse électronique n'est pas valide.")},
    )
    resource = forms.ModelChoiceField(
        label=_("Avec qui ou dans quelle salle"),
        queryset=None,
        error_messages={
            "required": _("Choisissez la ressource à réserver."),
            "invalid_choice": _("Vous ne gérez pas cette ressource : choisissez-en une autre."),
        },
    )
    service = forms.ModelChoiceField(
        label=_("Prestation (facultatif)"),
        queryset=None,
        required=False,
        empty_label=_("— Aucune en particulier —"),
        error_messages={"invalid_choice": _("Cette prestation n'existe pas.")},
    )

    def __init__(self, *args, resources, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources
        self.fields["resource"].label_from_instance = _resource_label
        self.fields["service"].queryset = services

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValueError as exc:
            raise ValidationError(str(exc), code="phone") from exc

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class AgentBookingForm(_AgentForSomeoneForm):
    """An agent books for someone on the phone or at the desk: the person (found by their
    phone number when they have an account, else typed in), a resource, one of the free slots
    listed on the page, the channel."""

    CHANNELS = [
        (Booking.Channel.PHONE, _("Par téléphone")),
        (Booking.Channel.DESK, _("Au guichet")),
    ]

    day = forms.DateField(
        label=_("Créneaux à partir du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Cette date n'est pas valide (jj/mm/aaaa).")},
    )
    slot = forms.DateTimeField(
        label=_("Créneau"),
        error_messages={
            "required": _("Choisissez un des créneaux libres."),
            "invalid": _("Ce créneau n'est pas lisible : choisissez-en un dans la liste."),
        },
    )
    channel = forms.ChoiceField(
        label=_("La demande arrive"),
        choices=CHANNELS,
        initial=Booking.Channel.PHONE,
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=_("Remarque pour le lieu (facultatif)"),
        help_text=_("Pas d'information médicale."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_slot(self):
        return self._aware(self.cleaned_data.get("slot"))


def _resource_label(resource) -> str:
    if resource.place_id:
        return f"{resource.name} — {resource.place.name} ({resource.place.commune.name})"
    return resource.name


def _weeks_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("Pendant combien de temps ?"),
        help_text=_("Nous vous proposons une place qui se libère pendant cette période."),
        choices=[
            (str(weeks), _("les %(weeks)d prochaines semaines") % {"weeks": weeks})
            for weeks in WAITLIST_WEEKS
        ],
        coerce=int,
        initial=str(DEFAULT_WAITLIST_WEEKS),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez pendant combien de temps."),
            "invalid_choice": _("Choisissez 2, 4 ou 8 semaines."),
        },
    )


class WaitlistForm(forms.Form):
    """Joining the waiting list of a service near a commune, for the next few weeks. The
    service and the commune arrive from the slot list (GET); the person chooses the distance
    and the period (POST)."""

    prestation = forms.SlugField(
        max_length=60,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choisissez d'abord ce pour quoi vous voulez un rendez-vous."),
            "invalid": _("Cette prestation n'existe pas."),
        },
    )
    commune = forms.CharField(
        label=_("Près de quelle commune ?"),
        help_text=_("Votre commune ou son code postal. Par exemple : Saint-Flour, ou 15100."),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2", "spellcheck": "false"}),
        error_messages={
            "required": _("Indiquez votre commune ou son code postal."),
            "max_length": _("Le nom de la commune est trop long : 100 caractères au plus."),
        },
    )
    insee = forms.RegexField(regex=INSEE_CODE_REGEX, required=False, widget=forms.HiddenInput)
    rayon = _radius_field()
    semaines = _weeks_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rayon"].label = _("Jusqu'à quelle distance ?")
        self.fields["rayon"].required = True
        self.fields["rayon"].initial = str(DEFAULT_RADIUS_KM)
        self.fields["rayon"].error_messages["required"] = _("Choisissez une distance.")


class WaitlistPersonForm(PersonForm):
    """Someone joining the waiting list without an account: the same as for a booking (the
    number confirmed by the same SMS code), told what the number will be used for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = _(
            "Par exemple 06 12 34 56 78. Nous vous envoyons un code par SMS pour vérifier ce "
            "numéro ; c'est à ce numéro que nous vous proposerons une place qui se libère."
        )
        self.fields["email"].help_text = _("Si vous la donnez, la proposition y est aussi envoyée.")


class AgentWaitlistForm(_AgentForSomeoneForm):
    """An agent puts someone on the waiting list of a resource they manage (nothing suits on
    the phone): the person, the resource, from which day and for how long."""

    day = forms.DateField(
        label=_("À partir du"),
        help_text=_("Vide : à partir d'aujourd'hui."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Cette date n'est pas valide (jj/mm/aaaa).")},
    )
    semaines = _weeks_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = _(
            "Un portable, pour lui proposer par SMS la place qui se libère. Si ce numéro "
            "correspond à un compte, l'inscription est faite à son nom."
        )
        self.fields["email"].help_text = _("Utile si la personne n'a pas de portable.")
        self.fields["resource"].error_messages["required"] = _("Choisissez la ressource.")
        self.fields["semaines"].help_text = _(
            "La place qui se libère pendant cette période lui est proposée."
        )

    def clean_day(self):
        day = self.cleaned_data.get("day")
        if day is not None and day < timezone.localdate():
            raise ValidationError(_("Cette date est passée : choisissez aujourd'hui ou après."))
        return day


class CalendarFeedForm(forms.Form):
    """A new personal calendar feed: only a name, to tell feeds apart."""

    name = forms.CharField(
        label=_("Nom de cet agenda (facultatif)"),
        help_text=_("Par exemple : « Mon téléphone ». Il vous sert à reconnaître l'adresse."),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"max_length": _("Le nom doit faire 100 caractères au plus.")},
    )


class ResourceFeedForm(CalendarFeedForm):
    """A new calendar feed of a resource the agent manages."""

    resource = forms.ModelChoiceField(
        label=_("Agenda de"),
        queryset=None,
        empty_label=None,
        error_messages={
            "required": _("Choisissez la personne ou la ressource."),
            "invalid_choice": _("Vous ne gérez pas cette ressource : choisissez-en une autre."),
        },
    )

    field_order = ["resource", "name"]

    def __init__(self, *args, resources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources
        self.fields["resource"].label_from_instance = _resource_label
