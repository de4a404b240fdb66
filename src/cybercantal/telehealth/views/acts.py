"""Act coding (/telesante/): the tariff tables (/tarifs/, edited by staff), coding the acts of
a closed consultation (/consultations/<pk>/actes/, with the eligibility helper), the acts the
actor may see (/actes/) and their billing export (/actes/export.csv).

A consultation nobody lets the user see is a 404, as if it did not exist; seeing it without
being allowed to code (staff, for instance) is a 403 on coding. Every opening of a
consultation's acts and every export goes to the audit log."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.booking.errors import BookingError, BookingForbidden
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip

from ..eligibility import assess_consultation
from ..forms_acts import ActCodeForm, ActFilterForm, TariffForm, money
from ..models import ActRole, ActTariff, Consultation
from ..perms import consultations_for, is_telehealth_staff
from ..selectors.acts import (
    CLOSED_STATUSES,
    act_site,
    acts_filtered,
    acts_for,
    codable_roles,
    consultation_acts,
    consultation_day,
    export_sites,
    may_remove_act,
    professional_for_role,
    tariff_table,
    tariffs_in_force,
    user_label,
)
from ..services.acts import act_code, act_remove
from ..services.tariffs import period_label, tariff_save

LIST_LIMIT = 500
PRACTITIONER_ROLES = (ActRole.PRACTITIONER, ActRole.EXPERT, ActRole.REQUESTING)


# --- tariffs ---------------------------------------------------------------------------------


@login_required
@require_safe
def tariffs(request: HttpRequest) -> HttpResponse:
    table = tariff_table()
    for row in table:
        for tariff in row.periods:
            tariff.period = period_label(tariff)
    return render(
        request,
        "telehealth/acts/tariffs.html",
        {"table": table, "may_edit": is_telehealth_staff(request.user)},
    )


def _tariff_form_page(request: HttpRequest, tariff: ActTariff | None) -> HttpResponse:
    if not is_telehealth_staff(request.user):
        raise PermissionDenied(_("Les tarifs sont tenus par l'équipe télémédecine du Département."))
    initial = TariffForm.initial_from(tariff) if tariff else None
    form = TariffForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = tariff_save(
                    actor=request.user,
                    tariff=tariff,
                    code=data["code"],
                    label=data["label"],
                    role=data["role"],
                    amount=data["amount"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    yearly_cap_per_patient=data["yearly_cap_per_patient"],
                    source=data["source"],
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Tarif %(code)s enregistré (%(period)s).")
                    % {"code": saved.code, "period": period_label(saved)},
                )
                return redirect("telehealth:tariffs")
        status = 422
    return render(
        request,
        "telehealth/acts/tariff_form.html",
        {"form": form, "tariff": tariff, "used": tariff.acts.count() if tariff else 0},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tariff_new(request: HttpRequest) -> HttpResponse:
    return _tariff_form_page(request, None)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tariff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_telehealth_staff(request.user):
        raise PermissionDenied(_("Les tarifs sont tenus par l'équipe télémédecine du Département."))
    return _tariff_form_page(request, get_object_or_404(ActTariff, pk=pk))


# --- coding the acts of a consultation ---------------------------------------------------------


def _consultation(request: HttpRequest, pk: int) -> Consultation:
    consultation = (
        consultations_for(request.user)
        .select_related(
            "site__place__commune",
            "practitioner__user",
            "assistant__user",
            "specialty",
            "patient",
        )
        .filter(pk=pk)
        .first()
    )
    if consultation is None:
        raise Http404(_("Téléconsultation introuvable."))
    return consultation


def _coding_page(
    request: HttpRequest, consultation: Consultation, *, form=None, status=200
) -> HttpResponse:
    roles = codable_roles(request.user, consultation)
    closed = consultation.status in CLOSED_STATUSES
    day = consultation_day(consultation)
    tariffs = list(tariffs_in_force(day=day, roles=roles)) if closed and roles else []
    if form is None:
        form = ActCodeForm(tariffs=tariffs)
    names = {
        role: user_label(professional_for_role(consultation, role))
        for role in roles
        if professional_for_role(consultation, role) is not None
    }
    acts = list(consultation_acts(consultation))
    for act in acts:
        act.may_remove = may_remove_act(request.user, act)
    return render(
        request,
        "telehealth/acts/code.html",
        {
            "consultation": consultation,
            "day": day,
            "closed": closed,
            "acts": acts,
            "total": sum((act.amount for act in acts), start=0),
            "form": form,
            "tariffs": tariffs,
            "billed_by": [(ActRole(role).label, name) for role, name in names.items()],
            "assessment": assess_consultation(consultation),
            "nurse_codes": any(t.role == ActRole.NURSE for t in tariffs),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def acts_code(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation(request, pk)
    if request.method == "GET":
        audit_log(
            actor=request.user,
            action="telehealth.consultation_acts_view",
            target=consultation,
            ip_address=client_ip(request),
        )
        return _coding_page(request, consultation)
    if not codable_roles(request.user, consultation):
        raise PermissionDenied(
            _(
                "Seuls les professionnels de la téléconsultation et les coordinateurs du site "
                "codent ses actes."
            )
        )
    roles = codable_roles(request.user, consultation)
    tariffs = list(tariffs_in_force(day=consultation_day(consultation), roles=roles))
    form = ActCodeForm(request.POST, tariffs=tariffs)
    if form.is_valid():
        try:
            act = act_code(
                actor=request.user, consultation=consultation, code=form.cleaned_data["code"]
            )
        except BookingForbidden as error:
            raise PermissionDenied(error.message) from None
        except BookingError as error:
            form.add_error(None, error.message)
            return _coding_page(request, consultation, form=form, status=error.status_code)
        messages.success(
            request,
            _("Acte %(code)s codé pour %(name)s : %(amount)s €.")
            % {
                "code": act.code,
                "name": user_label(act.professional),
                "amount": money(act.amount),
            },
        )
        return redirect("telehealth:acts_code", pk=consultation.pk)
    return _coding_page(request, consultation, form=form, status=422)


@never_cache
@login_required
@require_POST
def act_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    act = acts_for(request.user).select_related("consultation__site").filter(pk=pk).first()
    if act is None:
        raise Http404(_("Acte introuvable."))
    if not may_remove_act(request.user, act):
        raise PermissionDenied(_("Vous ne pouvez pas supprimer cet acte."))
    consultation_id = act.consultation_id
    code = act.code
    try:
        act_remove(actor=request.user, act=act)
    except BookingForbidden as error:
        raise PermissionDenied(error.message) from None
    messages.success(request, _("Acte %(code)s supprimé.") % {"code": code})
    if consultation_id:
        return redirect("telehealth:acts_code", pk=consultation_id)
    return redirect("telehealth:acts")


# --- the actor's acts and the billing export ---------------------------------------------------


def _filters(request: HttpRequest) -> ActFilterForm:
    return ActFilterForm(request.GET or None, sites=export_sites(request.user))


def _list_page(request: HttpRequest, form: ActFilterForm, *, status=200) -> HttpResponse:
    month = site = None
    if form.is_bound and form.is_valid():
        month, site = form.cleaned_data["month"], form.cleaned_data["site"]
    rows = acts_filtered(request.user, month=month, site=site) if not form.errors else None
    acts = list(rows[:LIST_LIMIT]) if rows is not None else []
    for act in acts:
        act.site = act_site(act)
    return render(
        request,
        "telehealth/acts/list.html",
        {
            "form": form,
            "acts": acts,
            "count": rows.count() if rows is not None else 0,
            "total": (rows.aggregate(total=Sum("amount"))["total"] if rows is not None else 0) or 0,
            "limit": LIST_LIMIT,
            "export_query": request.GET.urlencode(),
        },
        status=status,
    )


@never_cache
@login_required
@require_safe
def acts_list(request: HttpRequest) -> HttpResponse:
    form = _filters(request)
    return _list_page(request, form, status=400 if form.is_bound and form.errors else 200)


def _csv_text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


CSV_HEADER = [
    "date",
    "code",
    "role",
    "professionnel",
    "rpps",
    "montant_eur",
    "site",
    "patient_reference",
]


@never_cache
@login_required
@require_safe
def acts_export(request: HttpRequest) -> HttpResponse:
    """The acts the actor may see, filtered by month and site, one row per act. The patient
    is their reference, never their name."""
    form = _filters(request)
    if form.is_bound and not form.is_valid():
        return _list_page(request, form, status=400)
    month = form.cleaned_data["month"] if form.is_bound else None
    site = form.cleaned_data["site"] if form.is_bound else None
    rows = acts_filtered(request.user, month=month, site=site)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    count = 0
    for act in rows.iterator(chunk_size=500):
        practitioner = getattr(act.professional, "telehealth_practitioner", None)
        writer.writerow(
            [
                act.performed_on.isoformat(),
                act.code,
                str(act.get_role_display()),
                _csv_text(user_label(act.professional)),
                practitioner.rpps if practitioner and act.role in PRACTITIONER_ROLES else "",
                money(act.amount),
                _csv_text(str(act_site(act))),
                act.patient.reference,
            ]
        )
        count += 1
    audit_log(
        actor=request.user,
        action="telehealth.acts_export",
        data={
            "month": f"{month[0]:04d}-{month[1]:02d}" if month else None,
            "site": site.pk if site else None,
            "rows": count,
        },
        ip_address=client_ip(request),
    )
    suffix = f"-{month[0]:04d}-{month[1]:02d}" if month else ""
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="actes{suffix}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("tarifs/", tariffs, name="tariffs"),
    path("tarifs/nouveau/", tariff_new, name="tariff_new"),
    path("tarifs/<int:pk>/modifier/", tariff_edit, name="tariff_edit"),
    path("consultations/<int:pk>/actes/", acts_code, name="acts_code"),
    path("actes/", acts_list, name="acts"),
    path("actes/export.csv", acts_export, name="acts_export"),
    path("actes/<int:pk>/supprimer/", act_remove_view, name="act_remove"),
]
