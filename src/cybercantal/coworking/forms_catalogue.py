"""Forms of the managers' offers and spaces pages. They check the shape of the input (a price
in euros with a comma, a VAT rate among the French ones, whole numbers) and answer in French;
the rules (what a kind of offer or space may be, who may) are the services'
(services.catalogue, services.spaces). A field left empty takes its kind's default."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Resource

from .models import Offer
from .selectors.catalogue import funder_choices
from .services.catalogue import (
    MAX_HALF_DAYS,
    MAX_PRICE_CENTS,
    MAX_VALIDITY_DAYS,
    NETWORK_KINDS,
    kind_defaults,
    network_operators,
)
from .services.spaces import POLICY_FIELDS, default_policy

VAT_CHOICES = [
    ("20", _("20 % (taux normal)")),
    ("10", _("10 %")),
    ("5.5", _("5,5 %")),
    ("2.1", _("2,1 %")),
    ("0", _("0 : exonéré ou non assujetti")),
]

SPACE_KIND_CHOICES = [
    (Resource.Kind.DESK_POOL.value, _("Espace de bureaux partagés (plusieurs postes)")),
    (Resource.Kind.DESK.value, _("Bureau attitré (un poste)")),
    (Resource.Kind.OFFICE.value, _("Bureau fermé")),
    (Resource.Kind.ROOM.value, _("Salle de réunion")),
]


def parse_euros(raw: str) -> int:
    """ "15,50", "15.5", "1 500 €" → cents; a French refusal otherwise."""
    text = (raw or "").replace("€", "").replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise forms.ValidationError(_("Indiquez un prix en euros, par exemple 15,00.")) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise forms.ValidationError(
            _("Indiquez un prix positif ou nul, avec au plus deux chiffres après la virgule.")
        )
    cents = int(value * 100)
    if cents > MAX_PRICE_CENTS:
        raise forms.ValidationError(_("Ce prix est trop élevé."))
    return cents


def euros_text(cents: int) -> str:
    """1550 → "15,50" (what the price field shows)."""
    return f"{cents // 100},{cents % 100:02d}"


def parse_days(raw: str) -> int:
    """Credits typed in days ("10", "0,5", "2.5") → half-days; a French refusal otherwise."""
    text = (raw or "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(
            _("Indiquez un nombre de journées, par exemple 10 ou 0,5.")
        ) from None
    if not value.is_finite() or value < 0 or (value * 2) % 1:
        raise forms.ValidationError(
            _("Indiquez un nombre de journées positif, par journée ou demi-journée (0,5).")
        )
    half_days = int(value * 2)
    if half_days > MAX_HALF_DAYS:
        raise forms.ValidationError(
            _("Le crédit va de 0 à %(max)d journées.") % {"max": MAX_HALF_DAYS // 2}
        )
    return half_days


def days_text(half_days: int) -> str:
    """20 → "10", 1 → "0,5"."""
    days, half = divmod(half_days, 2)
    return f"{days},5" if half else str(days)


def vat_text(rate) -> str:
    """Decimal("5.50") → "5.5" (a VAT_CHOICES value)."""
    return f"{Decimal(rate).normalize():f}"


def _whole_field(label, *, help_text="", low=0, high=100_000) -> forms.IntegerField:
    message = format_lazy(_("Indiquez un nombre entier de {low} à {high}."), low=low, high=high)
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": message, "min_value": message, "max_value": message},
    )


class OfferForm(forms.Form):
    """An offer of a place (`network=False`) or of the whole network (`network=True`, which
    adds the operator who invoices it)."""

    label = forms.CharField(
        label=_("Intitulé"),
        max_length=200,
        help_text=_("Ce que voit la personne, par exemple « Carnet de 10 journées »."),
        error_messages={"required": _("Donnez un intitulé à l'offre.")},
    )
    kind = forms.ChoiceField(label=_("Type d'offre"))
    price = forms.CharField(
        label=_("Prix TTC (en euros)"),
        max_length=16,
        help_text=_(
            "Par exemple 15,00 ; pour une salle de réunion à l'heure, le prix d'une heure. Un "
            "nouveau prix ne vaut que pour les ventes à venir : les passes déjà vendus gardent "
            "le leur."
        ),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": _("Indiquez le prix TTC, par exemple 15,00.")},
    )
    vat_rate = forms.TypedChoiceField(
        label=_("Taux de TVA"),
        choices=VAT_CHOICES,
        coerce=Decimal,
        initial="20",
        error_messages={
            "invalid_choice": _("Choisissez l'un des taux de TVA proposés."),
            "required": _("Choisissez le taux de TVA."),
        },
    )
    credit_days = forms.CharField(
        label=_("Crédit (en journées)"),
        max_length=8,
        required=False,
        help_text=_(
            "0,5 pour une demi-journée. Vide : selon le type (1 pour une journée, 0,5 pour une "
            "demi-journée, 10 pour un carnet, sans limite pour un abonnement). 0 : sans limite "
            "pendant la validité (abonnement mensuel seulement)."
        ),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    validity_days = _whole_field(
        _("Validité (en jours)"),
        help_text=_(
            "À partir du premier jour du pass. Vide : selon le type (1 jour pour une journée, "
            "30 pour un abonnement mensuel, 365 pour un carnet)."
        ),
        low=1,
        high=MAX_VALIDITY_DAYS,
    )
    consumed_on = forms.ChoiceField(
        label=_("Le crédit est utilisé"),
        choices=Offer.ConsumedOn.choices,
        initial=Offer.ConsumedOn.BOOKING,
        error_messages={"invalid_choice": _("Choisissez quand le crédit est utilisé.")},
    )
    is_reduced = forms.BooleanField(
        label=_("Tarif réduit (sur justificatif vérifié par le gestionnaire)"), required=False
    )
    reduced_for = forms.CharField(
        label=_("Tarif réduit pour"),
        max_length=200,
        required=False,
        help_text=_(
            "Obligatoire pour un tarif réduit, par exemple « demandeurs d'emploi, étudiants »."
        ),
    )
    funder = forms.ModelChoiceField(
        label=_("Financeur"),
        queryset=funder_choices(),
        required=False,
        empty_label=_("Aucun : la personne paie"),
        help_text=_("Obligatoire pour une journée découverte : qui la paie à la place du membre."),
        error_messages={"invalid_choice": _("Choisissez un financeur dans la liste.")},
    )

    def __init__(self, *args, network: bool = False, offer: Offer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.network = network
        kinds = [
            (value, label)
            for value, label in Offer.Kind.choices
            if (value in NETWORK_KINDS if network else value != Offer.Kind.NETWORK_PASS)
        ]
        kind_field = self.fields["kind"]
        kind_field.choices = kinds
        kind_field.error_messages["required"] = _("Choisissez le type de l'offre.")
        kind_field.error_messages["invalid_choice"] = (
            _("Une offre du réseau est un pass réseau ou une journée découverte.")
            if network
            else _(
                "Ce type d'offre ne se crée pas pour un lieu : un pass réseau vaut dans tout le "
                "réseau, il est créé par le Département."
            )
        )
        if network:
            self.fields["operator"] = forms.ModelChoiceField(
                label=_("Exploitant qui facture"),
                queryset=network_operators(),
                empty_label=None,
                help_text=_("Une offre du réseau est facturée par le Département."),
                error_messages={
                    "invalid_choice": _("Choisissez le Département."),
                    "required": _("Choisissez le Département."),
                },
            )
        if offer is not None:
            # Bound too: a disabled field (the kind of an offer sold) takes its initial value.
            self.initial.update(
                {
                    "label": offer.label,
                    "kind": offer.kind,
                    "price": euros_text(offer.price_cents),
                    "vat_rate": vat_text(offer.vat_rate),
                    "credit_days": days_text(offer.half_days),
                    "validity_days": offer.validity_days,
                    "consumed_on": offer.consumed_on,
                    "is_reduced": offer.is_reduced,
                    "reduced_for": offer.reduced_for,
                    "funder": offer.funder_id,
                    "operator": offer.operator_id,
                }
            )

    def clean_price(self) -> int:
        return parse_euros(self.cleaned_data["price"])

    def clean_credit_days(self) -> int | None:
        raw = self.cleaned_data["credit_days"].strip()
        return parse_days(raw) if raw else None

    def clean(self):
        data = super().clean()
        defaults = kind_defaults(data.get("kind"))
        if defaults:
            if data.get("credit_days") is None and "credit_days" not in self.errors:
                data["credit_days"] = defaults["half_days"]
            if data.get("validity_days") is None and "validity_days" not in self.errors:
                data["validity_days"] = defaults["validity_days"]
        return data

    def service_fields(self) -> dict:
        """The cleaned data as the offer services take it."""
        data = self.cleaned_data
        fields = {
            "label": data["label"],
            "kind": data["kind"],
            "price_cents": data["price"],
            "vat_rate": data["vat_rate"],
            "half_days": data["credit_days"],
            "validity_days": data["validity_days"],
            "consumed_on": data["consumed_on"],
            "is_reduced": data["is_reduced"],
            "reduced_for": data["reduced_for"],
            "funder": data["funder"],
        }
        if self.network:
            fields["operator"] = data["operator"]
        return fields


class SpaceForm(forms.Form):
    """A space of a place and its booking policy. Policy fields left empty take the kind's
    defaults (services.spaces.DEFAULT_POLICIES)."""

    name = forms.CharField(
        label=_("Nom de l'espace"),
        max_length=200,
        help_text=_("Par exemple « Open space du rez-de-chaussée » ou « Salle du Puy Mary »."),
        error_messages={"required": _("Donnez un nom à l'espace.")},
    )
    kind = forms.ChoiceField(
        label=_("Type d'espace"),
        choices=SPACE_KIND_CHOICES,
        error_messages={
            "required": _("Choisissez le type d'espace."),
            "invalid_choice": _("Choisissez l'un des types d'espace proposés."),
        },
    )
    capacity = forms.IntegerField(
        label=_("Capacité"),
        min_value=1,
        max_value=500,
        initial=1,
        help_text=_(
            "Espace de bureaux partagés : le nombre de postes. Bureau, bureau fermé, salle : 1 "
            "(une réservation à la fois) ; indiquez le nombre de places de la salle dans la "
            "description."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Indiquez la capacité."),
            "invalid": _("Indiquez un nombre entier de 1 à 500."),
            "min_value": _("Indiquez un nombre entier de 1 à 500."),
            "max_value": _("Indiquez un nombre entier de 1 à 500."),
        },
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        help_text=_("Équipement, nombre de places d'une salle, accès… (facultatif)."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    slot_minutes = _whole_field(
        _("Pas des créneaux (en minutes)"),
        help_text=_("Les réservations commencent à l'ouverture puis toutes les N minutes."),
        low=5,
        high=240,
    )
    min_duration_minutes = _whole_field(
        _("Durée minimale (en minutes)"),
        help_text=_("240 min = une demi-journée de 4 h ; 60 min = une heure."),
        low=5,
        high=24 * 60,
    )
    max_duration_minutes = _whole_field(
        _("Durée maximale (en minutes)"),
        help_text=_(
            "540 min = une journée de 9 h. Une réservation tient dans les horaires d'un jour."
        ),
        low=5,
        high=24 * 60,
    )
    min_notice_minutes = _whole_field(
        _("Délai de prévenance (en minutes)"),
        help_text=_("Combien de temps avant le début on peut encore réserver."),
        high=30 * 24 * 60,
    )
    horizon_days = _whole_field(
        _("Réservable jusqu'à (en jours)"),
        help_text=_("Combien de jours à l'avance on peut réserver."),
        low=1,
        high=2 * 366,
    )
    cancellation_deadline_hours = _whole_field(
        _("Annulation possible jusqu'à (en heures avant)"),
        high=30 * 24,
    )
    max_future_bookings_per_person = _whole_field(
        _("Réservations à venir par personne"),
        help_text=_("0 : sans limite."),
        high=100,
    )
    bookable_by = forms.ChoiceField(
        label=_("Qui peut réserver"),
        choices=Resource.BookableBy.choices,
        required=False,
        error_messages={"invalid_choice": _("Choisissez qui peut réserver dans la liste.")},
    )
    approval_required = forms.BooleanField(
        label=_("Chaque réservation attend la validation d'un gestionnaire"), required=False
    )
    observes_public_holidays = forms.BooleanField(label=_("Fermé les jours fériés"), required=False)

    POLICY_NUMBERS = (
        "slot_minutes",
        "min_duration_minutes",
        "max_duration_minutes",
        "min_notice_minutes",
        "horizon_days",
        "cancellation_deadline_hours",
        "max_future_bookings_per_person",
    )

    def __init__(self, *args, space: Resource | None = None, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            return
        if space is not None:
            self.initial.update(
                {
                    "name": space.name,
                    "kind": space.kind,
                    "capacity": space.capacity,
                    "description": space.description,
                }
                | {name: getattr(space, name) for name in POLICY_FIELDS}
            )
        else:
            kind = kind if kind in dict(SPACE_KIND_CHOICES) else Resource.Kind.DESK_POOL
            self.initial.update({"kind": kind, "capacity": 1} | default_policy(kind))

    def policy_fields(self) -> list:
        return [self[name] for name in (*self.POLICY_NUMBERS, "bookable_by")]

    def clean(self):
        data = super().clean()
        defaults = default_policy(data.get("kind"))
        for name in (*self.POLICY_NUMBERS, "bookable_by"):
            if data.get(name) in (None, "") and name not in self.errors and defaults:
                data[name] = defaults[name]
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name] for name in ("name", "kind", "capacity", "description", *POLICY_FIELDS)
        }
