"""Téléexpertise (/telesante/teleexpertises/): the requests the practitioner sent and received,
asking one, reading one, answering it, withdrawing it (the requesting doctor, while it is
unanswered), and downloading its attachments.

A request is seen by its two doctors only: anyone else, staff included, gets a 404 as if it
did not exist (staff see counts and delays on the list page, never a request). Every opening of
a request and of an attachment goes to the audit log; attachments are served only if they still
match the hash taken at upload, never cached."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.booking.errors import BookingError, BookingForbidden
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip

from ..forms_expertise import ExpertiseAnswerForm, ExpertiseRequestForm, ExpertiseWithdrawForm
from ..models import ExpertiseRequest
from ..perms import is_telehealth_staff
from ..selectors.acts import (
    attachment_read,
    expertise_experts,
    expertise_figures,
    expertise_for,
    expertise_get,
    expertise_patients,
    practitioner_of,
)
from ..services.expertise import expertise_answer, expertise_create, expertise_withdraw
from ._audit import audit_patients_shown

LIST_LIMIT = 200


def duration_label(delta: dt.timedelta | None) -> str:
    """« 2 j 5 h », « 3 h 20 min », « 12 min »: how long the expert took to answer."""
    if delta is None:
        return ""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)s j %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes} if minutes else _("moins d'une minute")


def _annotate(row: ExpertiseRequest) -> ExpertiseRequest:
    row.delay = duration_label(
        row.answered_at - row.asked_at if row.answered_at is not None else None
    )
    return row


@never_cache
@login_required
@require_safe
def expertise_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    practitioner = practitioner_of(user)
    staff = is_telehealth_staff(user)
    if practitioner is None and not staff:
        raise PermissionDenied(_("La téléexpertise est réservée aux médecins téléconsultants."))
    rows = [_annotate(r) for r in expertise_for(user)[:LIST_LIMIT]] if practitioner else []
    return render(
        request,
        "telehealth/expertise/list.html",
        {
            "practitioner": practitioner,
            "sent": [r for r in rows if r.requester_id == practitioner.pk] if practitioner else [],
            "received": [r for r in rows if r.expert_id == practitioner.pk] if practitioner else [],
            "figures": expertise_figures() if staff else None,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def expertise_new(request: HttpRequest) -> HttpResponse:
    practitioner = practitioner_of(request.user)
    if practitioner is None or not practitioner.is_active:
        raise PermissionDenied(_("Seuls les médecins téléconsultants demandent une téléexpertise."))
    form = ExpertiseRequestForm(
        request.POST or None,
        request.FILES or None,
        experts=expertise_experts(request.user),
        patients=expertise_patients(request.user),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = expertise_create(
                    actor=request.user,
                    expert=data["expert"],
                    specialty=data["specialty"],
                    patient=data["patient"],
                    question=data["question"],
                    attachments=data["attachments"],
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Demande envoyée à %(name)s.") % {"name": data["expert"]},
                )
                return redirect("telehealth:expertise_detail", pk=created.pk)
        status = 422
    # The form lists the doctor's patients by name.
    audit_patients_shown(request, page="teleexpertise", patients=form.fields["patient"].queryset)
    return render(request, "telehealth/expertise/new.html", {"form": form}, status=status)


def _request(request: HttpRequest, pk: int) -> ExpertiseRequest:
    found = expertise_get(request.user, pk)
    if found is None:
        raise Http404(_("Téléexpertise introuvable."))
    return found


def _detail(
    request: HttpRequest, found: ExpertiseRequest, *, form=None, withdraw_form=None, status=200
) -> HttpResponse:
    practitioner = practitioner_of(request.user)
    is_expert = practitioner is not None and practitioner.pk == found.expert_id
    is_open = found.status == ExpertiseRequest.Status.OPEN
    may_answer = is_expert and is_open and found.content_erased_at is None
    may_withdraw = practitioner is not None and practitioner.pk == found.requester_id and is_open
    return render(
        request,
        "telehealth/expertise/detail.html",
        {
            "item": _annotate(found),
            "is_expert": is_expert,
            "attachments": list(found.attachments.all()) if found.content_erased_at is None else [],
            "form": form or (ExpertiseAnswerForm() if may_answer else None),
            "may_answer": may_answer,
            "withdraw_form": withdraw_form or (ExpertiseWithdrawForm() if may_withdraw else None),
            "acts": list(found.acts.select_related("professional").order_by("role")),
        },
        status=status,
    )


@never_cache
@login_required
@require_safe
def expertise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found = _request(request, pk)
    audit_log(
        actor=request.user,
        action="telehealth.expertise_view",
        target=found,
        ip_address=client_ip(request),
    )
    return _detail(request, found)


@never_cache
@login_required
@require_POST
def expertise_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = _request(request, pk)
    form = ExpertiseAnswerForm(request.POST)
    if not form.is_valid():
        return _detail(request, found, form=form, status=422)
    try:
        result = expertise_answer(
            actor=request.user, request=found, answer=form.cleaned_data["answer"]
        )
    except BookingForbidden as error:
        raise PermissionDenied(error.message) from None
    except BookingError as error:
        form.add_error(None, error.message)
        return _detail(request, _request(request, pk), form=form, status=error.status_code)
    coded = ", ".join(f"{act.code} ({act.get_role_display()})" for act in result.acts)
    messages.success(
        request,
        ngettext(
            "Réponse envoyée. Acte codé : %(acts)s.",
            "Réponse envoyée. Actes codés : %(acts)s.",
            len(result.acts),
        )
        % {"acts": coded}
        if result.acts
        else _("Réponse envoyée."),
    )
    for refusal in result.not_coded:
        messages.warning(request, refusal)
    return redirect("telehealth:expertise_detail", pk=found.pk)


@never_cache
@login_required
@require_POST
def expertise_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = _request(request, pk)
    form = ExpertiseWithdrawForm(request.POST)
    if not form.is_valid():
        return _detail(request, found, withdraw_form=form, status=422)
    try:
        expertise_withdraw(actor=request.user, request=found, reason=form.cleaned_data["reason"])
    except BookingForbidden as error:
        raise PermissionDenied(error.message) from None
    except BookingError as error:
        form.add_error(None, error.message)
        # Shown as it is now (answered or withdrawn meanwhile), with the reason why.
        return _detail(request, _request(request, pk), withdraw_form=form, status=error.status_code)
    messages.success(
        request,
        _("Demande retirée. La question et les pièces jointes ont été effacées."),
    )
    return redirect("telehealth:expertise_detail", pk=found.pk)


_ATTACHMENT_REFUSALS = {
    # state: (HTTP status, audit action or None, French message)
    "erased": (
        410,
        None,
        gettext_lazy("Contenu effacé (durée de conservation) : la pièce jointe n'existe plus."),
    ),
    "withdrawn": (
        410,
        None,
        gettext_lazy(
            "La demande a été retirée par le médecin requérant : ses pièces jointes ont été "
            "effacées."
        ),
    ),
    "missing": (
        409,
        "telehealth.expertise_attachment_missing",
        gettext_lazy(
            "Le fichier est introuvable. Prévenez l'administrateur de la plateforme : "
            "l'incident a été inscrit au journal d'audit."
        ),
    ),
    "altered": (
        409,
        "telehealth.expertise_attachment_altered",
        gettext_lazy(
            "Le fichier a été modifié depuis son dépôt (il ne correspond plus à son empreinte) : "
            "il n'est pas affiché. Prévenez l'administrateur de la plateforme : l'incident a été "
            "inscrit au journal d'audit."
        ),
    ),
}


@never_cache
@login_required
@require_safe
def expertise_attachment(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    found = _request(request, pk)
    attachment = found.attachments.filter(pk=attachment_id).first()
    if attachment is None and found.content_erased_at is None:
        raise Http404(_("Pièce jointe introuvable."))
    if found.status == ExpertiseRequest.Status.WITHDRAWN:
        state = "withdrawn"
    elif attachment is None:  # its row went with the rest of the content
        state = "erased"
    else:
        attachment.request = found
        read = attachment_read(attachment)
        state = read.state
    if state != "ok":
        status, action, message = _ATTACHMENT_REFUSALS[state]
        if action:
            audit_log(
                actor=request.user, action=action, target=found, ip_address=client_ip(request)
            )
        return render(
            request,
            "telehealth/expertise/attachment_refused.html",
            {"item": found, "message": message},
            status=status,
        )
    audit_log(
        actor=request.user,
        action="telehealth.expertise_attachment_view",
        target=found,
        data={"attachment": attachment.pk},
        ip_address=client_ip(request),
    )
    # A neutral name: nothing about the patient.
    response = FileResponse(
        io.BytesIO(read.content),
        content_type=read.content_type,
        as_attachment=True,
        filename=f"teleexpertise-{found.pk}-piece-{attachment.pk}.{read.extension}",
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("teleexpertises/", expertise_list, name="expertise_list"),
    path("teleexpertises/nouvelle/", expertise_new, name="expertise_new"),
    path("teleexpertises/<int:pk>/", expertise_detail, name="expertise_detail"),
    path("teleexpertises/<int:pk>/repondre/", expertise_answer_view, name="expertise_answer"),
    path("teleexpertises/<int:pk>/retirer/", expertise_withdraw_view, name="expertise_withdraw"),
    path(
        "teleexpertises/<int:pk>/pieces/<int:attachment_id>/",
        expertise_attachment,
        name="expertise_attachment",
    ),
]
