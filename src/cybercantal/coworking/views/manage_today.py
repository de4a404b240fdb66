"""Today at a tiers-lieu: who is expected, who has arrived, the free desks; checking someone
in by hand, marking a booking as a no-show, giving a member a new PIN."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cybercantal.booking import selectors as booking_selectors
from cybercantal.booking.errors import BookingError
from cybercantal.booking.services import booking_mark_no_show

from ..forms import MemberSearchForm
from ..selectors.today import member_search, place_member_get, today_overview
from ..services.cards import member_card_pin_set
from ..services.checkins import check_in_record
from .manage_common import managed_place, member_name


def _today_url(tiers_lieu) -> str:
    return reverse("coworking:manage_today", args=[tiers_lieu.pk])


@never_cache
@login_required
@require_safe
def manage_today(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    form = MemberSearchForm(request.GET or None)
    results, searched = [], False
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        searched = True
        results = member_search(
            actor=request.user, tiers_lieu=tiers_lieu, query=form.cleaned_data["q"]
        )
    return render(
        request,
        "coworking/manage/today.html",
        {
            "tiers_lieu": tiers_lieu,
            "overview": today_overview(actor=request.user, tiers_lieu=tiers_lieu),
            "form": form,
            "results": results,
            "searched": searched,
        },
    )


def _member_or_404(request: HttpRequest, tiers_lieu):
    member = place_member_get(
        actor=request.user, tiers_lieu=tiers_lieu, member_id=request.POST.get("member")
    )
    if member is None:
        raise Http404(_("Cette personne n'a ni pass ni réservation dans ce tiers-lieu."))
    return member


@never_cache
@login_required
@require_POST
def manage_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    member = _member_or_404(request, tiers_lieu)
    try:
        check_in_record(actor=request.user, tiers_lieu=tiers_lieu, member=member, method="manual")
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Arrivée de %(name)s enregistrée.") % {"name": member_name(member)}
        )
    return redirect(_today_url(tiers_lieu))


@never_cache
@login_required
@require_POST
def manage_no_show(request: HttpRequest, pk: int, booking_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    booking = booking_selectors.booking_get(actor=request.user, booking_id=booking_id)
    if booking is None or booking.place_id != tiers_lieu.place_id:
        raise Http404(_("Cette réservation n'existe pas, ou vous ne pouvez pas la voir."))
    try:
        booking_mark_no_show(actor=request.user, booking=booking)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(name)s est noté(e) comme absent(e).") % {"name": booking.display_name}
        )
    return redirect(_today_url(tiers_lieu))


@never_cache
@login_required
@require_POST
def manage_pin_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows the new PIN once, on a page that is not cached and not in the history's reach."""
    tiers_lieu = managed_place(request, pk)
    member = _member_or_404(request, tiers_lieu)
    try:
        pin = member_card_pin_set(actor=request.user, member=member, tiers_lieu=tiers_lieu)
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect(_today_url(tiers_lieu))
    return render(
        request,
        "coworking/manage/pin_shown.html",
        {"tiers_lieu": tiers_lieu, "member": member, "name": member_name(member), "pin": pin},
    )


urlpatterns = [
    path("gestion/<int:pk>/aujourdhui/", manage_today, name="manage_today"),
    path("gestion/<int:pk>/aujourdhui/arrivee/", manage_check_in, name="manage_check_in"),
    path(
        "gestion/<int:pk>/aujourdhui/absence/<int:booking_id>/",
        manage_no_show,
        name="manage_no_show",
    ),
    path("gestion/<int:pk>/code-pin/", manage_pin_set, name="manage_pin_set"),
]
