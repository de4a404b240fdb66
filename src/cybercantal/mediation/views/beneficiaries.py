"""The people a structure follows (/mediation/personnes/): the searchable list, a person's
sheet (reports, mandates, workshops, possible duplicates), correcting the record, merging a
duplicate into it, what the structure holds about them (JSON and a printable page: right of
access) and erasing their identity (right to erasure).

For the structure's mediators only: others get a 403, and a record of another structure is a
404, as if it did not exist. Every page showing a person's record writes an audit row. The
right of access includes the mandates' journals: when the person gave a mandate, it asks for
a session verified by the second factor, as the mandate pages do."""

from __future__ import annotations

import functools
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.errors import BookingError
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip

from ..forms_beneficiaries import BeneficiaryForm, BeneficiarySearchForm
from ..models import Beneficiary
from ..selectors.beneficiaries import (
    BeneficiarySheet,
    beneficiary_access,
    beneficiary_export,
    beneficiary_kept_id,
    beneficiary_page,
    beneficiary_sheet,
)
from ..services.activities import (
    beneficiary_duplicates,
    beneficiary_merge,
    beneficiary_merged_values,
)
from ..services.beneficiaries import MANDATE_KEPT, beneficiary_erase, beneficiary_update
from ..services.mandates import session_is_verified
from ..structures import mediator_organisation_ids


def for_mediators(view):
    """Logged in (else sent to log in) and a mediator of a structure (else 403)."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not mediator_organisation_ids(request.user):
            raise PermissionDenied(_("Cette page est réservée aux médiateurs numériques."))
        return view(request, *args, **kwargs)

    return wrapped


def _sheet(request: HttpRequest, pk: int, **options) -> BeneficiarySheet:
    sheet = beneficiary_sheet(actor=request.user, beneficiary_id=pk, **options)
    if sheet is None:
        raise Http404(_("Personne introuvable."))
    return sheet


def _audit_view(request: HttpRequest, person: Beneficiary, page: str) -> None:
    audit_log(
        actor=request.user,
        action="mediation.beneficiary_view",
        target=person,
        data={"page": page},
        ip_address=client_ip(request),
    )


def _verify_first(request: HttpRequest) -> HttpResponse:
    """Send the mediator to the second factor, then back here (as the mandate pages do)."""
    from django_otp import user_has_device

    messages.info(
        request,
        _(
            "Ces données comprennent les mandats de la personne : confirmez d'abord votre "
            "identité avec la double authentification."
        ),
    )
    target = (
        "accounts:two_factor_verify"
        if user_has_device(request.user)
        else "accounts:two_factor_setup"
    )
    return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


@never_cache
@require_safe
@for_mediators
def beneficiaries(request: HttpRequest) -> HttpResponse:
    form = BeneficiarySearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = beneficiary_page(actor=request.user, query=query, page=request.GET.get("page"))
    return render(
        request,
        "mediation/beneficiaries/list.html",
        {"form": form, "page": page, "query": query},
        status=200 if form.is_valid() or not request.GET else 400,
    )


@never_cache
@require_safe
@for_mediators
def beneficiary_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = beneficiary_sheet(actor=request.user, beneficiary_id=pk)
    if sheet is None:
        kept = beneficiary_kept_id(actor=request.user, beneficiary_id=pk)
        if kept is not None:
            messages.info(request, _("Cette fiche a été fusionnée : voici la fiche gardée."))
            return redirect("mediation:beneficiary_detail", pk=kept)
        raise Http404(_("Personne introuvable."))
    _audit_view(request, sheet.person, "fiche")
    return render(
        request,
        "mediation/beneficiaries/detail.html",
        {
            "sheet": sheet,
            "person": sheet.person,
            "duplicates": beneficiary_duplicates(actor=request.user, person=sheet.person),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@for_mediators
def beneficiary_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _sheet(request, pk).person
    form = BeneficiaryForm.for_person(person, request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                beneficiary_update(
                    actor=request.user,
                    person=person,
                    consent=data["consent"],
                    is_anonymous=data["is_anonymous"],
                    first_name=data["first_name"],
                    phone=data["phone"],
                    has_no_phone=data["has_no_phone"],
                    birth_year=data["birth_year"],
                    age_band=data["age_band"],
                    gender=data["gender"],
                    status=data["status"],
                    commune=data["commune"],
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Fiche enregistrée."))
                return redirect("mediation:beneficiary_detail", pk=person.pk)
    else:
        _audit_view(request, person, "modifier")
    return render(
        request,
        "mediation/beneficiaries/edit.html",
        {"form": form, "person": person},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@for_mediators
def beneficiary_merge_confirm(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """Merge the record `other` into `pk` (kept), once the mediator has seen both."""
    keep = _sheet(request, pk)
    # Only a duplicate the sheet proposes: never a record picked by changing the address.
    duplicate_ids = {p.pk for p in beneficiary_duplicates(actor=request.user, person=keep.person)}
    if other not in duplicate_ids:
        raise Http404(_("Ces deux fiches ne sont pas proposées à la fusion."))
    duplicate = _sheet(request, other)
    error = None
    if request.method == "POST":
        try:
            beneficiary_merge(actor=request.user, keep=keep.person, duplicate=duplicate.person)
        except BookingError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Fiches fusionnées : les comptes rendus du doublon sont sur cette fiche."),
            )
            return redirect("mediation:beneficiary_detail", pk=keep.person.pk)
    else:
        _audit_view(request, keep.person, "fusionner")
    changes = beneficiary_merged_values(keep.person, duplicate.person)
    after = Beneficiary(**{"pk": keep.person.pk, **_fields(keep.person), **changes})
    return render(
        request,
        "mediation/beneficiaries/merge.html",
        {
            "keep": keep,
            "duplicate": duplicate,
            "after": after,
            "changed": {name.removesuffix("_id") for name in changes},
            "totals": _merged_totals(keep, duplicate),
            "error": error,
        },
        status=400 if error else 200,
    )


def _merged_totals(keep: BeneficiarySheet, duplicate: BeneficiarySheet) -> dict:
    """What the kept record's sheet will count after the merge (a report or a registration
    of both records counts once)."""

    def workshop_key(row):
        return (row.session.pk, row.booking and row.booking.pk, row.walk_in and row.walk_in.pk)

    return {
        "activities": len({a.pk for a in keep.activities} | {a.pk for a in duplicate.activities}),
        "mandates": len(keep.mandates) + len(duplicate.mandates),
        "workshops": len(
            {workshop_key(row) for row in keep.workshops}
            | {workshop_key(row) for row in duplicate.workshops}
        ),
    }


def _fields(person: Beneficiary) -> dict:
    names = (
        "organisation_id", "is_anonymous", "first_name", "phone", "has_no_phone", "birth_year",
        "age_band", "gender", "status", "commune_id", "consent_at",
    )  # fmt: skip
    return {name: getattr(person, name) for name in names}


@never_cache
@require_safe
@for_mediators
def beneficiary_data_json(request: HttpRequest, pk: int) -> HttpResponse:
    access = beneficiary_access(actor=request.user, beneficiary_id=pk)
    if access is None:
        raise Http404(_("Personne introuvable."))
    if access.sheet.mandates and not session_is_verified(request.user):
        return _verify_first(request)
    data = beneficiary_export(access)
    audit_log(
        actor=request.user,
        action="mediation.beneficiary_export",
        target=access.sheet.person,
        data={"format": "json"},
        ip_address=client_ip(request),
    )
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="personne-{pk}.json"'
    return response


@never_cache
@require_safe
@for_mediators
def beneficiary_data(request: HttpRequest, pk: int) -> HttpResponse:
    access = beneficiary_access(actor=request.user, beneficiary_id=pk)
    if access is None:
        raise Http404(_("Personne introuvable."))
    if access.sheet.mandates and not session_is_verified(request.user):
        return _verify_first(request)
    audit_log(
        actor=request.user,
        action="mediation.beneficiary_export",
        target=access.sheet.person,
        data={"format": "page"},
        ip_address=client_ip(request),
    )
    return render(request, "mediation/beneficiaries/data.html", {"access": access})


@never_cache
@require_http_methods(["GET", "POST"])
@for_mediators
def beneficiary_erase_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = _sheet(request, pk)
    error = None
    if request.method == "POST":
        try:
            beneficiary_erase(actor=request.user, person=sheet.person)
        except BookingError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _(
                    "Les données de la personne sont effacées : la fiche est devenue anonyme, "
                    "ses accompagnements restent comptés."
                ),
            )
            return redirect("mediation:beneficiary_detail", pk=sheet.person.pk)
    else:
        _audit_view(request, sheet.person, "effacer")
    blocking = [mandate for mandate in sheet.mandates if mandate.status in MANDATE_KEPT]
    return render(
        request,
        "mediation/beneficiaries/erase.html",
        {"sheet": sheet, "person": sheet.person, "blocking": blocking, "error": error},
        status=400 if error else 200,
    )


urlpatterns = [
    path("personnes/", beneficiaries, name="beneficiaries"),
    path("personnes/<int:pk>/", beneficiary_detail, name="beneficiary_detail"),
    path("personnes/<int:pk>/modifier/", beneficiary_edit, name="beneficiary_edit"),
    path(
        "personnes/<int:pk>/fusionner/<int:other>/",
        beneficiary_merge_confirm,
        name="beneficiary_merge",
    ),
    path("personnes/<int:pk>/donnees.json", beneficiary_data_json, name="beneficiary_data_json"),
    path("personnes/<int:pk>/donnees/", beneficiary_data, name="beneficiary_data"),
    path("personnes/<int:pk>/effacer/", beneficiary_erase_confirm, name="beneficiary_erase"),
]
