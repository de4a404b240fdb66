"""Mandates (/mediation/mandats/): the structure's list, creating one, a mandate's page (areas,
revocation, the journal of uses, recording a use), its printable attestation, its signed
consent scan (checked against the hash taken at upload before it is shown), and the public
check of an attestation (/mediation/mandats/verifier/).

Every page but the public check is for the structure's mediators, in a session verified by the
second factor: others get a 403, an unverified session is sent to the two-factor page and
comes back. Another structure's mandate is a 404, as if it did not exist."""

from __future__ import annotations

import functools
import io
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.accounts.ratelimit import rate_limit_hit
from cybercantal.booking.errors import BookingError
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip
from cybercantal.territory.models import Organisation

from ..forms_mandates import MandateCheckForm, MandateForm, MandateUseForm
from ..mandate_pdf import mandate_attestation_pdf
from ..models import Mandate
from ..selectors.mandates import (
    mandate_beneficiaries,
    mandate_check,
    mandate_consent_scan,
    mandate_get,
    mandate_list,
)
from ..services.mandates import (
    mandate_create,
    mandate_revoke,
    mandate_revoke_area,
    mandate_use,
    session_is_verified,
)
from ..structures import mediator_organisation_ids

LIST_LIMIT = 200


def mandate_session(view):
    """A mediator, in a session verified by the second factor (else sent to verify it)."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not mediator_organisation_ids(request.user):
            raise PermissionDenied(_("Cette page est réservée aux médiateurs numériques."))
        if not session_is_verified(request.user):
            from django_otp import user_has_device

            messages.info(
                request,
                _(
                    "Les mandats permettent d'agir au nom d'une personne : confirmez d'abord "
                    "votre identité avec la double authentification."
                ),
            )
            target = (
                "accounts:two_factor_verify"
                if user_has_device(request.user)
                else "accounts:two_factor_setup"
            )
            next_path = request.get_full_path() if request.method == "GET" else request.path
            return redirect(f"{reverse(target)}?{urlencode({'next': next_path})}")
        return view(request, *args, **kwargs)

    return wrapped


def _organisation(request: HttpRequest) -> Organisation:
    """The mediator's structure (the first one when they belong to several)."""
    return Organisation.objects.get(pk=mediator_organisation_ids(request.user)[0])


def _mandate(request: HttpRequest, pk: int) -> Mandate:
    mandate = mandate_get(actor=request.user, mandate_id=pk)
    if mandate is None:
        raise Http404(_("Mandat introuvable."))
    return mandate


@never_cache
@require_safe
@mandate_session
def mandates(request: HttpRequest) -> HttpResponse:
    rows = list(mandate_list(actor=request.user).order_by("-starts_on", "-pk")[:LIST_LIMIT])
    return render(request, "mediation/mandates/list.html", {"mandates": rows})


@never_cache
@require_http_methods(["GET", "POST"])
@mandate_session
def mandate_new(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    form = MandateForm(
        request.POST or None,
        request.FILES or None,
        beneficiaries=mandate_beneficiaries(actor=request.user, organisation=organisation),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mandate = mandate_create(
                actor=request.user,
                organisation=organisation,
                beneficiary=data["beneficiary"],
                areas=data["areas"],
                duration=data["duration"],
                starts_on=data["starts_on"],
                consent_method=data["consent_method"],
                consent_file=data["consent_file"],
                consent_note=data["consent_note"],
                remote_consent_confirmed=data["remote_consent_confirmed"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Mandat %(ref)s enregistré : imprimez l'attestation pour la personne.")
                % {"ref": mandate.reference},
            )
            return redirect("mediation:mandate_detail", pk=mandate.pk)
    status = 422 if form.errors else 200
    return render(
        request,
        "mediation/mandates/new.html",
        {"form": form, "organisation": organisation},
        status=status,
    )


def _detail(request, mandate, *, use_form=None, status=200) -> HttpResponse:
    areas = list(mandate.areas.all())
    use_form = use_form or MandateUseForm(
        areas=[(a.area, a.get_area_display()) for a in areas if not a.is_revoked]
    )
    return render(
        request,
        "mediation/mandates/detail.html",
        {
            "mandate": mandate,
            "areas": areas,
            "uses": mandate.uses.order_by("-at", "-pk"),
            "use_form": use_form,
        },
        status=status,
    )


@never_cache
@require_safe
@mandate_session
def mandate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _mandate(request, pk))


@never_cache
@require_POST
@mandate_session
def mandate_use_record(request: HttpRequest, pk: int) -> HttpResponse:
    mandate = _mandate(request, pk)
    form = MandateUseForm(request.POST)
    if form.is_valid():
        try:
            mandate_use(
                actor=request.user,
                mandate=mandate,
                area=form.cleaned_data["area"],
                procedure=form.cleaned_data["procedure"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Utilisation inscrite au journal."))
            return redirect("mediation:mandate_detail", pk=mandate.pk)
    return _detail(request, mandate, use_form=form, status=422)


@never_cache
@require_POST
@mandate_session
def mandate_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    mandate = _mandate(request, pk)
    area = request.POST.get("area", "")
    try:
        if area == "tous":
            mandate_revoke(actor=request.user, mandate=mandate)
            messages.success(request, _("Mandat révoqué pour tous ses domaines."))
        else:
            row = mandate_revoke_area(actor=request.user, mandate=mandate, area=area)
            messages.success(
                request,
                _("Mandat révoqué pour le domaine « %(area)s ».")
                % {"area": row.get_area_display()},
            )
    except BookingError as error:
        messages.error(request, error.message)
    return redirect("mediation:mandate_detail", pk=mandate.pk)


@never_cache
@require_safe
@mandate_session
def mandate_attestation(request: HttpRequest, pk: int) -> HttpResponse:
    mandate = _mandate(request, pk)
    if mandate.is_archived:
        # Its person and consent are erased: a reprint would be a different, blank document.
        messages.error(
            request,
            _("Ce mandat est archivé : son attestation ne se réimprime plus."),
        )
        return redirect("mediation:mandate_detail", pk=mandate.pk)
    pdf = mandate_attestation_pdf(
        mandate, verify_url=request.build_absolute_uri(reverse("mediation:mandate_verify"))
    )
    audit_log(
        actor=request.user,
        action="mediation.mandate_attestation_print",
        target=mandate,
        ip_address=client_ip(request),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="attestation-{mandate.reference}.pdf"'
    return response


_CONSENT_REFUSALS = {
    # state: (HTTP status, audit action or None, French message)
    "none": (
        404,
        None,
        gettext_lazy("Ce mandat n'a pas de consentement numérisé (accord recueilli à distance)."),
    ),
    "erased": (
        410,
        None,
        gettext_lazy(
            "Le scan du consentement a été effacé à l'archivage du mandat, au terme de sa durée "
            "de conservation."
        ),
    ),
    "missing": (
        409,
        "mediation.mandate_consent_missing",
        gettext_lazy(
            "Le fichier du consentement est introuvable. Prévenez l'administrateur de la "
            "plateforme : l'incident a été inscrit au journal d'audit."
        ),
    ),
    "altered": (
        409,
        "mediation.mandate_consent_altered",
        gettext_lazy(
            "Le scan du consentement a été altéré depuis son dépôt : il ne correspond plus à "
            "l'empreinte enregistrée, il n'est donc pas affiché. Prévenez l'administrateur de "
            "la plateforme : l'incident a été inscrit au journal d'audit."
        ),
    ),
}


@never_cache
@require_safe
@mandate_session
def mandate_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed consent, shown in the browser, only if it still matches its hash; every
    viewing, and every refusal for an altered or missing file, goes to the audit log."""
    mandate, scan = mandate_consent_scan(actor=request.user, mandate_id=pk)
    if mandate is None:
        raise Http404(_("Mandat introuvable."))
    if scan.state != "ok":
        status, action, message = _CONSENT_REFUSALS[scan.state]
        if action:
            audit_log(
                actor=request.user, action=action, target=mandate, ip_address=client_ip(request)
            )
        return render(
            request,
            "mediation/mandates/consent_refused.html",
            {"mandate": mandate, "message": message},
            status=status,
        )
    audit_log(
        actor=request.user,
        action="mediation.mandate_consent_view",
        target=mandate,
        ip_address=client_ip(request),
    )
    # A neutral name: the file's stored name is random, the person's name never appears.
    response = FileResponse(
        io.BytesIO(scan.content),
        content_type=scan.content_type,
        filename=f"consentement-{mandate.reference}.{scan.extension}",
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def mandate_verify(request: HttpRequest) -> HttpResponse:
    """Public: anyone holding an attestation checks it. Rate limited per reference and per
    address, so that the page cannot be used to guess references or hashes."""
    form = MandateCheckForm(request.POST or None)
    result, status = None, 200
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["reference"].strip().upper()
        exceeded = rate_limit_hit(
            identifier=f"mandat:{reference}", ip=client_ip(request), action="mandate_verify"
        )
        if exceeded is not None:
            minutes = max(1, math.ceil(exceeded.retry_after_seconds / 60))
            form.add_error(
                None,
                _("Trop de vérifications : réessayez dans %(minutes)s minute(s).")
                % {"minutes": minutes},
            )
            status = 429
        else:
            result = mandate_check(
                reference=reference, attestation_hash=form.cleaned_data["attestation_hash"]
            )
    elif form.errors:
        status = 422
    return render(
        request,
        "mediation/mandates/verify.html",
        {"form": form, "result": result, "Status": Mandate.Status},
        status=status,
    )


urlpatterns = [
    path("mandats/", mandates, name="mandates"),
    path("mandats/nouveau/", mandate_new, name="mandate_new"),
    path("mandats/verifier/", mandate_verify, name="mandate_verify"),
    path("mandats/<int:pk>/", mandate_detail, name="mandate_detail"),
    path("mandats/<int:pk>/utilisation/", mandate_use_record, name="mandate_use"),
    path("mandats/<int:pk>/revoquer/", mandate_revoke_view, name="mandate_revoke"),
    path("mandats/<int:pk>/attestation.pdf", mandate_attestation, name="mandate_attestation"),
    path("mandats/<int:pk>/consentement/", mandate_consent, name="mandate_consent"),
]
