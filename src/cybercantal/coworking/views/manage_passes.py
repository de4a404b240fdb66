"""Passes at a place: the passes sold there, selling one (the pass and its invoice together),
checking a reduced rate's proof, cancelling."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cybercantal.booking.errors import BookingError

from ..forms import PassSaleForm, ReasonForm
from ..models import Pass
from ..selectors.manage import (
    offers_for_sale,
    place_pass_get,
    place_passes,
)
from ..services.passes import pass_cancel, pass_check_proof
from ..services.sales import pass_sell
from .manage_common import contact_account, managed_place, member_name, submit

LIST_LIMIT = 200


def _passes_url(tiers_lieu) -> str:
    return reverse("coworking:manage_passes", args=[tiers_lieu.pk])


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_passes(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    offers = offers_for_sale(tiers_lieu=tiers_lieu)
    form = PassSaleForm(request.POST or None, offers=offers)

    def sell(data: dict) -> str:
        member = contact_account(request, tiers_lieu, data["contact"])
        pass_account, invoice = pass_sell(
            actor=request.user,
            member=member,
            offer=data["offer"],
            sold_at=tiers_lieu,
            valid_from=data["valid_from"],
        )
        return _("Pass « %(offer)s » enregistré pour %(name)s ; facture %(number)s.") % {
            "offer": pass_account.offer.label,
            "name": member_name(member),
            "number": invoice.number,
        }

    response, status = submit(request, form, sell, then=_passes_url(tiers_lieu))
    if response is not None:
        return response
    passes = list(place_passes(actor=request.user, tiers_lieu=tiers_lieu)[:LIST_LIMIT])
    return render(
        request,
        "coworking/manage/passes.html",
        {
            "tiers_lieu": tiers_lieu,
            "form": form,
            "has_offers": offers.exists(),
            "passes": passes,
            "pending": [p for p in passes if p.status == Pass.Status.PENDING_PROOF],
        },
        status=status,
    )


def _pass_or_404(request: HttpRequest, tiers_lieu, pass_id: int) -> Pass:
    pass_account = place_pass_get(actor=request.user, tiers_lieu=tiers_lieu, pass_id=pass_id)
    if pass_account is None:
        raise Http404(_("Ce pass n'existe pas, ou il n'a pas été vendu ici."))
    return pass_account


@never_cache
@login_required
@require_POST
def manage_pass_proof(request: HttpRequest, pk: int, pass_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    pass_account = _pass_or_404(request, tiers_lieu, pass_id)
    decision = request.POST.get("decision")
    if decision not in ("accepter", "refuser"):
        messages.error(request, _("Choisissez d'accepter ou de refuser le justificatif."))
        return redirect(_passes_url(tiers_lieu))
    accepted = decision == "accepter"
    try:
        pass_check_proof(actor=request.user, pass_account=pass_account, accepted=accepted)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        text = (
            _("Justificatif accepté : le pass de %(name)s est actif.")
            if accepted
            else _("Justificatif refusé : le pass de %(name)s est annulé.")
        )
        messages.success(request, text % {"name": member_name(pass_account.member)})
    return redirect(_passes_url(tiers_lieu))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_pass_cancel(request: HttpRequest, pk: int, pass_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    pass_account = _pass_or_404(request, tiers_lieu, pass_id)
    form = ReasonForm(request.POST or None)

    def cancel(data: dict) -> str:
        pass_cancel(actor=request.user, pass_account=pass_account, reason=data["reason"])
        return _("Le pass de %(name)s est annulé.") % {"name": member_name(pass_account.member)}

    done, status = submit(request, form, cancel, then=_passes_url(tiers_lieu))
    if done:
        return done
    return render(
        request,
        "coworking/manage/pass_cancel.html",
        {"tiers_lieu": tiers_lieu, "pass": pass_account, "form": form},
        status=status,
    )


urlpatterns = [
    path("gestion/<int:pk>/passes/", manage_passes, name="manage_passes"),
    path(
        "gestion/<int:pk>/passes/<int:pass_id>/justificatif/",
        manage_pass_proof,
        name="manage_pass_proof",
    ),
    path(
        "gestion/<int:pk>/passes/<int:pass_id>/annuler/",
        manage_pass_cancel,
        name="manage_pass_cancel",
    ),
]
