"""Forms of the managers' pages about hours: the weekly hours, the volunteers' shifts and the
closures. They check the shape of the input and answer in French; the rules are the
services'."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.territory.models import OpeningPeriod

DAY_NAMES = [(day.value, day.label) for day in OpeningPeriod.Weekday]
# "9", "9h", "9 h 30", "9h30", "09:30", "9.30": what people type where no time picker shows.
_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*(?:(?:h|:|\.)\s*(\d{2})?)?\s*$", re.IGNORECASE)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class FlexibleTimeField(forms.TimeField):
    """A time typed as the browser's time field sends it ("09:30") or as people write it
    ("9h30", "9 h", "9")."""

    widget = TimeInput
    default_error_messages = {
        "invalid": gettext_lazy("Indiquez une heure, par exemple 9:00 ou 14:30."),
    }

    def to_python(self, value):
        if isinstance(value, str):
            match = _TIME_RE.match(value)
            if match:
                hour, minute = int(match.group(1)), int(match.group(2) or 0)
                if hour < 24 and minute < 60:
                    return dt.time(hour, minute)
        return super().to_python(value)


def date_field(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "invalid": gettext_lazy("Indiquez une date (jj/mm/aaaa)."),
            "required": gettext_lazy("Indiquez une date."),
        },
    )


PARTS = (
    ("am", gettext_lazy("matin"), gettext_lazy("Matin")),
    ("pm", gettext_lazy("après-midi"), gettext_lazy("Après-midi")),
)


class WeeklyHoursForm(forms.Form):
    """Up to two periods a weekday (morning, afternoon); both times empty: closed."""

    from_day = date_field(
        gettext_lazy("Ces horaires s'appliquent à partir du"),
        help_text=gettext_lazy("Aujourd'hui ou plus tard. Les horaires passés restent connus."),
    )

    def __init__(self, *args, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        # More than two periods a day (set elsewhere) cannot show here: the page says so.
        self.extra_periods = False
        for weekday, day in DAY_NAMES:
            for part, part_name, _part_title in PARTS:
                for end, end_name in (("opens", _("ouverture")), ("closes", _("fermeture"))):
                    field = FlexibleTimeField(
                        label=f"{day.capitalize()}, {part_name} : {end_name}",
                        required=False,
                    )
                    # Shown inside the weekday's and the part's fieldsets, whose legends
                    # name them (coworking/manage/_time_field.html).
                    field.template_name = "coworking/manage/_time_field.html"
                    field.context_label = f"{day.capitalize()}, {part_name} :"
                    field.short_label = end_name.capitalize()
                    self.fields[self._name(weekday, part, end)] = field
        if not self.is_bound:
            self.initial.setdefault("from_day", timezone.localdate())
            by_day: dict[int, list] = {}
            for weekday, opens, closes in sorted(periods):
                by_day.setdefault(weekday, []).append((opens, closes))
            for weekday, intervals in by_day.items():
                for (part, *_rest), (opens, closes) in zip(PARTS, intervals, strict=False):
                    self.initial[self._name(weekday, part, "opens")] = opens
                    self.initial[self._name(weekday, part, "closes")] = closes
            self.extra_periods = any(len(v) > 2 for v in by_day.values())

    def clean_from_day(self):
        from_day = self.cleaned_data["from_day"]
        if from_day < timezone.localdate():
            raise ValidationError(_("Les nouveaux horaires ne peuvent pas s'appliquer au passé."))
        return from_day

    @staticmethod
    def _name(weekday: int, part: str, end: str) -> str:
        return f"j{weekday}_{part}_{end}"

    def days(self):
        """For the template: each weekday with its parts and their two bound fields."""
        return [
            {
                "weekday": weekday,
                "name": day.capitalize(),
                "parts": [
                    {
                        "title": title,
                        "opens": self[self._name(weekday, part, "opens")],
                        "closes": self[self._name(weekday, part, "closes")],
                    }
                    for part, _name, title in PARTS
                ],
            }
            for weekday, day in DAY_NAMES
        ]

    def clean(self):
        data = super().clean()
        periods = []
        for weekday in range(7):
            previous_close = None
            for part, *_names in PARTS:
                opens_name = self._name(weekday, part, "opens")
                closes_name = self._name(weekday, part, "closes")
                if opens_name in self.errors or closes_name in self.errors:
                    continue
                opens, closes = data.get(opens_name), data.get(closes_name)
                if opens is None and closes is None:
                    continue
                if opens is None:
                    self.add_error(opens_name, _("Indiquez l'heure d'ouverture."))
                elif closes is None:
                    self.add_error(
                        closes_name,
                        _("Indiquez l'heure de fermeture."),
                    )
                elif closes <= opens:
                    self.add_error(
                        closes_name,
                        _("La fermeture doit suivre l'ouverture."),
                    )
                elif previous_close is not None and opens < previous_close:
                    self.add_error(
                        opens_name,
                        _("L'après-midi doit commencer après la fin du matin."),
                    )
                else:
                    periods.append((weekday, opens, closes))
                    previous_close = closes
        data["periods"] = periods
        return data


class HoursSourceForm(forms.Form):
    from_shifts = forms.BooleanField(
        label=gettext_lazy("Les horaires publics suivent les permanences des bénévoles"),
        required=False,
        help_text=gettext_lazy(
            "Cochée : le lieu est annoncé ouvert quand un ou une bénévole assure une permanence."
        ),
    )


class ShiftForm(forms.Form):
    volunteer_name = forms.CharField(
        label=gettext_lazy("Nom du ou de la bénévole"),
        max_length=150,
        required=False,
        help_text=gettext_lazy(
            "Par exemple « Marie D. ». Facultatif si vous choisissez un compte."
        ),
    )
    volunteer = forms.ModelChoiceField(
        label=gettext_lazy("Compte de la personne (facultatif)"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=gettext_lazy("Pas de compte"),
        error_messages={
            "invalid_choice": gettext_lazy("Ce compte n'est pas membre de l'association du lieu.")
        },
    )
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Jour"),
        choices=[("", gettext_lazy("Choisissez un jour")), *DAY_NAMES],
        coerce=int,
        error_messages={
            "required": gettext_lazy("Choisissez le jour de la permanence."),
            "invalid_choice": gettext_lazy("Jour de la semaine inconnu."),
        },
    )
    start_time = FlexibleTimeField(
        label=gettext_lazy("De"),
        error_messages={"required": gettext_lazy("Indiquez l'heure de début.")},
    )
    end_time = FlexibleTimeField(
        label=gettext_lazy("À"),
        error_messages={"required": gettext_lazy("Indiquez l'heure de fin.")},
    )
    valid_from = date_field(gettext_lazy("À partir du"))
    valid_until = date_field(
        gettext_lazy("Jusqu'au (facultatif)"),
        required=False,
        help_text=gettext_lazy("Vide : jusqu'à nouvel ordre."),
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if members is not None:
            self.fields["volunteer"].queryset = members
        self.fields["volunteer"].label_from_instance = lambda u: (
            u.get_full_name() or u.get_username()
        )
        if not self.is_bound:
            self.initial.setdefault("valid_from", timezone.localdate())

    def clean(self):
        data = super().clean()
        if not data.get("volunteer_name", "").strip() and not data.get("volunteer"):
            self.add_error("volunteer_name", _("Indiquez le nom du ou de la bénévole."))
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("La permanence doit finir après son début."))
        first, last = data.get("valid_from"), data.get("valid_until")
        if first and first < timezone.localdate():
            self.add_error("valid_from", _("Une permanence ne peut pas commencer dans le passé."))
        if first and last and last < first:
            self.add_error("valid_until", _("Le dernier jour doit suivre le premier."))
        return data


class ShiftEndForm(forms.Form):
    last_day = date_field(
        gettext_lazy("Dernier jour de la permanence"),
        help_text=gettext_lazy(
            "Le dernier jour où la personne l'assure. Hier : elle s'arrête dès aujourd'hui."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("last_day", timezone.localdate())


class ClosureForm(forms.Form):
    first_day = date_field(gettext_lazy("Fermé à partir du"))
    last_day = date_field(
        gettext_lazy("Jusqu'au (inclus)"),
        required=False,
        help_text=gettext_lazy("Vide : un seul jour."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Motif"),
        max_length=200,
        help_text=gettext_lazy(
            "Par exemple « neige », « congés ». Il est envoyé aux personnes qui avaient réservé."
        ),
        error_messages={"required": gettext_lazy("Indiquez le motif de la fermeture.")},
    )

    def clean(self):
        data = super().clean()
        first = data.get("first_day")
        if first and not data.get("last_day") and "last_day" not in self.errors:
            data["last_day"] = first
        last = data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("Le dernier jour de fermeture doit suivre le premier."))
        if first and first < timezone.localdate():
            self.add_error("first_day", _("Une fermeture ne peut pas commencer dans le passé."))
        return data
