"""Cancelling a site's or a practitioner's teleconsultations over a range of days
(/telesante/annulations/): a form (the site or the agenda, among those the person may clear,
the days, the reason), then the list of the sessions that would be cancelled, then, once
confirmed, the list of those cancelled, for the team to call the patients.

For the coordinators of a site, a practitioner for their own agenda and the telehealth staff;
anyone else gets a 403. Bad input comes back as the form with French messages (400); the
lists show the patient's reference, never the name."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cybercantal.booking.errors import BookingConflict, BookingError
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip

from ..selectors.cancellations import (
    MAX_RANGE_DAYS,
    RangeCancelReason,
    cancellable_practitioners,
    cancellable_sites,
    check_range,
    range_preview,
)
from ..services.cancellations import consultations_cancel_range
from ._errors import page_status

FORM = "telehealth/cancellations/form.html"
PREVIEW = "telehealth/cancellations/preview.html"
DONE = "telehealth/cancellations/done.html"
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
INVALID_DATE = gettext_lazy("Saisissez une date au format JJ/MM/AAAA.")


class RangeCancelForm(forms.Form):
    site = forms.ModelChoiceField(
        label=gettext_lazy("Site"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("— Aucun site —"),
        error_messages={"invalid_choice": gettext_lazy("Choisissez un site de la liste.")},
    )
    practitioner = forms.ModelChoiceField(
        label=gettext_lazy("Médecin"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("— Aucun médecin —"),
        error_messages={"invalid_choice": gettext_lazy("Choisissez un médecin de la liste.")},
    )
    first_day = forms.DateField(
        label=gettext_lazy("Premier jour"),
        widget=DATE_WIDGET,
        error_messages={
            "required": gettext_lazy("Indiquez le premier jour."),
            "invalid": INVALID_DATE,
        },
    )
    last_day = forms.DateField(
        label=gettext_lazy("Dernier jour"),
        help_text=gettext_lazy(
            "Le même que le premier pour une seule journée ; %(days)d jours au plus."
        )
        % {"days": MAX_RANGE_DAYS},
        widget=DATE_WIDGET,
        error_messages={
            "required": gettext_lazy("Indiquez le dernier jour."),
            "invalid": INVALID_DATE,
        },
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Motif"),
        choices=RangeCancelReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choisissez le motif de l'annulation."),
            "invalid_choice": gettext_lazy("Choisissez le motif de l'annulation dans la liste."),
        },
    )

    def __init__(self, *args, sites, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["site"].label_from_instance = lambda site: site.place.name
        self.fields["practitioner"].queryset = practitioners
        # Only what the person may clear: a coordinator chooses a site, a practitioner sees
        # only their own agenda, staff choose either.
        if not sites.exists():
            del self.fields["site"]
        if not practitioners.exists():
            del self.fields["practitioner"]
        if len(self.fields) == 4:  # a single way: that choice is required
            only = "site" if "site" in self.fields else "practitioner"
            self.fields[only].required = True
            self.fields[only].error_messages["required"] = (
                _("Choisissez le site.") if only == "site" else _("Choisissez le médecin.")
            )

    def clean(self):
        data = super().clean()
        if "site" in self.fields and "practitioner" in self.fields:
            site, practitioner = data.get("site"), data.get("practitioner")
            if "site" not in self.errors and "practitioner" not in self.errors:
                if site is None and practitioner is None:
                    raise forms.ValidationError(
                        _("Choisissez un site ou un médecin (l'un des deux).")
                    )
                if site is not None and practitioner is not None:
                    raise forms.ValidationError(
                        _("Choisissez un site ou un médecin, pas les deux.")
                    )
        return data

    def target(self) -> dict:
        """site= or practitioner=, for the selector and the service."""
        return {
            "site": self.cleaned_data.get("site"),
            "practitioner": self.cleaned_data.get("practitioner"),
        }

    def query(self) -> str:
        """The choices as a query string, to come back to the form as it was filled."""
        data = self.cleaned_data
        values = {
            "site": data["site"].pk if data.get("site") else "",
            "practitioner": data["practitioner"].pk if data.get("practitioner") else "",
            "first_day": data["first_day"].isoformat(),
            "last_day": data["last_day"].isoformat(),
            "reason": data["reason"],
        }
        return urlencode({k: v for k, v in values.items() if v})


def _choices_or_403(request: HttpRequest):
    sites = cancellable_sites(actor=request.user)
    practitioners = cancellable_practitioners(actor=request.user)
    if not sites.exists() and not practitioners.exists():
        raise PermissionDenied(
            _(
                "L'annulation de téléconsultations par journées est réservée aux coordinateurs "
                "de site, aux médecins pour leur agenda et à l'équipe télémédecine du "
                "Département."
            )
        )
    return sites, practitioners


def _is_id(raw: str) -> bool:
    # ASCII digits only ("²".isdigit() is true), within what the database stores.
    return raw.isascii() and raw.isdigit() and len(raw) < 19


def _prefilled(request: HttpRequest, sites, practitioners) -> RangeCancelForm:
    """The empty form, with the site or practitioner of the link that led here (the network
    pages point here when a site or a practitioner still has sessions planned)."""
    initial = {}
    for name, choices in (("site", sites), ("practitioner", practitioners)):
        raw = request.GET.get(name, "")
        if _is_id(raw) and choices.filter(pk=int(raw)).exists():
            initial[name] = int(raw)
    return RangeCancelForm(initial=initial, sites=sites, practitioners=practitioners)


def _preview_context(request: HttpRequest, form: RangeCancelForm) -> dict:
    data = form.cleaned_data
    rows = list(
        range_preview(
            actor=request.user,
            first_day=data["first_day"],
            last_day=data["last_day"],
            **form.target(),
        )
    )
    return {
        "form": form,
        "rows": rows,
        "reason_label": RangeCancelReason(data["reason"]).label,
        "query": form.query(),
        **form.target(),
    }


def _checked_preview(request: HttpRequest, form: RangeCancelForm) -> tuple[dict | None, str]:
    """The preview's context, or None and why nothing can be cancelled."""
    data = form.cleaned_data
    try:
        check_range(data["first_day"], data["last_day"], today=timezone.localdate())
    except BookingError as error:
        return None, error.message
    context = _preview_context(request, form)
    if not context["rows"]:
        return None, _(
            "Aucune téléconsultation prévue du %(first)s au %(last)s : rien à annuler."
        ) % {"first": f"{data['first_day']:%d/%m/%Y}", "last": f"{data['last_day']:%d/%m/%Y}"}
    return context, ""


def _audit_list(request: HttpRequest, rows, page: str) -> None:
    # What was shown, by consultation: who saw which sessions is kept, as for the lists.
    audit_log(
        actor=request.user,
        action="telehealth.consultation_list",
        data={"page": page, "consultations": [c.pk for c in rows]},
        ip_address=client_ip(request),
    )


def _expected_ids(request: HttpRequest) -> list[int] | None:
    """The consultations the confirmation form was showing; None when tampered with."""
    raw = request.POST.getlist("consultation")
    if not raw or not all(_is_id(value) for value in raw):
        return None
    return [int(value) for value in raw]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def cancellations(request: HttpRequest) -> HttpResponse:
    sites, practitioners = _choices_or_403(request)
    if request.method == "POST":
        return _confirm(request, sites, practitioners)
    if "first_day" not in request.GET:
        form = _prefilled(request, sites, practitioners)
        return render(request, FORM, {"form": form})
    form = RangeCancelForm(request.GET, sites=sites, practitioners=practitioners)
    if not form.is_valid():
        return render(request, FORM, {"form": form}, status=400)
    context, refusal = _checked_preview(request, form)
    if context is None:
        form.add_error(None, refusal)
        return render(request, FORM, {"form": form}, status=400)
    _audit_list(request, context["rows"], "annulation_apercu")
    return render(request, PREVIEW, context)


def _confirm(request: HttpRequest, sites, practitioners) -> HttpResponse:
    form = RangeCancelForm(request.POST, sites=sites, practitioners=practitioners)
    if not form.is_valid():
        return render(request, FORM, {"form": form}, status=400)
    expected = _expected_ids(request)
    if expected is None:
        form.add_error(None, _("Vérifiez la liste des téléconsultations avant de confirmer."))
        return render(request, FORM, {"form": form}, status=400)
    data = form.cleaned_data
    try:
        cancelled = consultations_cancel_range(
            actor=request.user,
            first_day=data["first_day"],
            last_day=data["last_day"],
            reason=data["reason"],
            expected_ids=expected,
            **form.target(),
        )
    except BookingConflict as error:
        # The list changed: show the new one to check again.
        context, refusal = _checked_preview(request, form)
        if context is not None:
            context["error"] = error.message
            return render(request, PREVIEW, context, status=409)
        form.add_error(None, refusal)
        return render(request, FORM, {"form": form}, status=409)
    except BookingError as error:
        form.add_error(None, error.message)
        return render(request, FORM, {"form": form}, status=page_status(error))
    return render(
        request,
        DONE,
        {
            "rows": cancelled,
            "reason_label": RangeCancelReason(data["reason"]).label,
            "first_day": data["first_day"],
            "last_day": data["last_day"],
            **form.target(),
        },
    )


urlpatterns = [
    path("annulations/", cancellations, name="cancellations"),
]
