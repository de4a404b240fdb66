"""Forms of the meeting-room page (members) and of the offices page (managers). They check the
shape of the input and answer in French; the rules (opening hours, what is free, who may) are
the booking engine's and the services'."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cybercantal.booking import availability as av
from cybercantal.booking.models import Resource

from .models import Offer


class RoomForm(forms.Form):
    """The day, the duration and the number of people (GET); with the start time (POST)."""

    jour = forms.TypedChoiceField(
        label=_("Jour"),
        coerce=dt.date.fromisoformat,
        error_messages={
            "invalid_choice": _("Choisissez un jour parmi les 14 prochains."),
            "required": _("Choisissez un jour."),
        },
    )
    duree = forms.IntegerField(
        label=_("Durée"),
        min_value=1,
        max_value=24 * 60,
        error_messages={
            "invalid": _("Choisissez une durée."),
            "required": _("Choisissez une durée."),
            "min_value": _("Choisissez une durée."),
            "max_value": _("Une réservation dure moins d'une journée."),
        },
    )
    personnes = forms.IntegerField(
        label=_("Nombre de personnes"),
        min_value=1,
        required=False,
        error_messages={
            "invalid": _("Indiquez un nombre de personnes."),
            "min_value": _("Il faut au moins une personne."),
        },
    )
    debut = forms.TimeField(
        label=_("Heure de début"),
        required=False,
        input_formats=["%H:%M"],
        error_messages={"invalid": _("Choisissez une heure de début parmi celles proposées.")},
    )

    def __init__(self, *args, room: Resource, days: list[dt.date], durations: list[int], **kw):
        super().__init__(*args, **kw)
        self.room = room
        self.durations = durations
        self.fields["jour"].choices = [(d.isoformat(), d.isoformat()) for d in days]
        self.fields["personnes"].widget.attrs.update({"min": 1, "max": room.capacity})
        self.fields["personnes"].validators.append(
            MaxValueValidator(
                room.capacity,
                message=_("Cette salle accueille %(limit_value)s personne(s) au plus."),
            )
        )

    def clean_duree(self) -> int:
        minutes = self.cleaned_data["duree"]
        error = av.duration_error(self.room, dt.timedelta(minutes=minutes))
        if error:
            raise forms.ValidationError(error)
        return minutes

    def clean_personnes(self) -> int:
        return self.cleaned_data.get("personnes") or 1

    def start(self) -> dt.datetime | None:
        """The chosen start, in local time (None when no time was given)."""
        data = self.cleaned_data
        if not data.get("debut") or not data.get("jour"):
            return None
        tz = timezone.get_current_timezone()
        return dt.datetime.combine(data["jour"], data["debut"], tzinfo=tz)


class OfficeRentForm(forms.Form):
    contact = forms.CharField(
        label=_("Adresse e-mail ou numéro de mobile de la personne"),
        max_length=254,
        help_text=_("Le compte doit déjà exister : l'adresse ou le numéro exact."),
    )
    office = forms.ModelChoiceField(
        label=_("Bureau"),
        queryset=Resource.objects.none(),
        empty_label=_("Choisissez un bureau"),
        error_messages={"invalid_choice": _("Ce bureau n'est pas un bureau de ce lieu.")},
    )
    offer = forms.ModelChoiceField(
        label=_("Abonnement mensuel"),
        queryset=Offer.objects.none(),
        empty_label=_("Choisissez un abonnement"),
        error_messages={"invalid_choice": _("Cet abonnement n'est pas en vente ici.")},
    )
    from_day = forms.DateField(
        label=_("Premier jour de la location"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Indiquez une date (jj/mm/aaaa).")},
    )

    def __init__(self, *args, offices=None, offers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if offices is not None:
            self.fields["office"].queryset = offices
        if offers is not None:
            self.fields["offer"].queryset = offers
        self.fields["offer"].label_from_instance = _monthly_label
        if not self.is_bound:
            self.initial.setdefault("from_day", timezone.localdate())


def _monthly_label(offer: Offer) -> str:
    price = f"{offer.price_cents / 100:.2f}".replace(".", ",")
    return _("%(label)s — %(price)s €, %(days)s jours") % {
        "label": offer.label,
        "price": price,
        "days": offer.validity_days,
    }


class OfficeRentEndForm(forms.Form):
    last_day = forms.DateField(
        label=_("Nouveau dernier jour"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "invalid": _("Indiquez une date (jj/mm/aaaa)."),
            "required": _("Indiquez le nouveau dernier jour."),
        },
    )
