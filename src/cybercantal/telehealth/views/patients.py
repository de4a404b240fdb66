"""The patient register (/telesante/patients/) and the anonymisation of a patient on request
(right to erasure). For the coordinators of a site (its patients) and the Département's
telehealth staff (all); anyone else gets a 403 on the register, and a 404 on a patient they
have nothing to do with (a 403 when they work at the patient's site without coordinating it),
as on the other telehealth pages. Every display writes an audit row holding references only,
never a name: the audit log is append-only and outlives the anonymisation."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.errors import BookingError
from cybercantal.core.http import client_ip

from ..models import Patient, Site
from ..perms import may_see_consultation, sites_for
from ..selectors.patients import (
    erasure_blockers,
    is_anonymised,
    last_activity,
    may_manage_patients,
    patient_get,
    patient_register,
    register_sites,
)
from ..services.patients import patient_anonymise
from ._audit import audit_patients_shown
from ._errors import page_status

PER_PAGE = 25
MAX_ID = 2**63 - 1


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Nom ou référence"),
        help_text=gettext_lazy("Une partie du nom d'usage, ou la référence entière (P-…)."),
        required=False,
        max_length=100,
    )
    site = forms.ModelChoiceField(
        label=gettext_lazy("Site"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=gettext_lazy("Tous mes sites"),
        error_messages={"invalid_choice": gettext_lazy("Choisissez un site de la liste.")},
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["site"].label_from_instance = lambda site: site.place.name


class ErasureConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Je confirme que le patient (ou son représentant) a demandé l'effacement de son nom, "
            "et que cette anonymisation ne pourra pas être annulée."
        ),
        error_messages={"required": gettext_lazy("Cochez la case pour confirmer l'anonymisation.")},
    )


def _patient_or_404(request: HttpRequest, pk: int) -> Patient:
    patient = patient_get(actor=request.user, patient_id=pk)
    if patient is not None:
        return patient
    if pk > MAX_ID:  # beyond what the database stores: no such patient
        raise Http404(_("Patient introuvable."))
    site_id = Patient.objects.filter(pk=pk).values_list("site_id", flat=True).first()
    if site_id is not None and sites_for(request.user).filter(pk=site_id).exists():
        raise PermissionDenied(
            _(
                "L'anonymisation d'un patient est réservée aux coordinateurs de son site et à "
                "l'équipe télémédecine du Département."
            )
        )
    raise Http404(_("Patient introuvable."))


@never_cache
@login_required
@require_safe
def patient_list(request: HttpRequest) -> HttpResponse:
    if not may_manage_patients(request.user):
        raise PermissionDenied(
            _(
                "La liste des patients est réservée aux coordinateurs de site et à l'équipe "
                "télémédecine du Département."
            )
        )
    sites = register_sites(actor=request.user)
    form = PatientSearchForm(request.GET, sites=sites)
    form.is_valid()  # an invalid site is reported; the search goes on without it
    query = " ".join(form.cleaned_data.get("q", "").split())
    site = form.cleaned_data.get("site")
    patients = patient_register(actor=request.user, query=query, site=site)
    page = Paginator(patients, PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "patient": patient,
            "last_activity": last_activity(patient),
            "anonymised": is_anonymised(patient),
        }
        for patient in page.object_list
    ]
    # What was shown, by reference; not the search text, which may be a name.
    audit_patients_shown(request, page="liste", patients=[row["patient"] for row in rows])
    filters = urlencode(
        {k: v for k, v in {"q": query, "site": site.pk if site else ""}.items() if v}
    )
    return render(
        request,
        "telehealth/patients/list.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "query": query,
            "filters": filters,
            "several_sites": len(form.fields["site"].queryset) > 1,
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def patient_anonymise_view(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _patient_or_404(request, pk)
    form = ErasureConfirmForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                patient = patient_anonymise(
                    actor=request.user, patient=patient, ip_address=client_ip(request)
                )
            except BookingError as error:
                form.add_error(None, error.message)
                status = page_status(error)
            else:
                messages.success(
                    request,
                    _("Patient %(reference)s anonymisé : son nom a été effacé de la plateforme.")
                    % {"reference": patient.reference},
                )
                list_url = reverse("telehealth:patients")
                return redirect(f"{list_url}?{urlencode({'q': patient.reference})}")
    else:
        audit_patients_shown(request, page="anonymiser", patients=[], target=patient)
    blockers = erasure_blockers(patient)
    planned = blockers.planned
    planned_is_past = planned is not None and planned.scheduled_start < timezone.now()
    planned_url = None
    if planned is not None and may_see_consultation(request.user, planned):
        # Past: its page, to close it; to come: straight to its cancellation.
        name = "consultation_detail" if planned_is_past else "consultation_cancel"
        planned_url = reverse(f"telehealth:{name}", args=[planned.pk])
    return render(
        request,
        "telehealth/patients/anonymise.html",
        {
            "patient": patient,
            "form": form,
            "anonymised": is_anonymised(patient),
            "blockers": blockers,
            "planned_is_past": planned_is_past,
            "planned_url": planned_url,
        },
        status=status,
    )


urlpatterns = [
    path("patients/", patient_list, name="patients"),
    path("patients/<int:pk>/anonymiser/", patient_anonymise_view, name="patient_anonymise"),
]
