"""The offices of a place, for its managers: each office with its current and next rentals,
renting one by the month to a member (the monthly pass, its invoice and the office closed in
the booking engine: services.offices.office_rent) and ending a rental early."""

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

from ..forms_rooms import OfficeRentEndForm, OfficeRentForm
from ..selectors.rooms import (
    monthly_offers,
    place_office_rental_get,
    place_office_rows,
    place_offices,
)
from ..services.offices import office_rent, office_rent_end
from .manage_common import contact_account, managed_place, member_name, submit


def _offices_url(tiers_lieu) -> str:
    return reverse("coworking:manage_offices", args=[tiers_lieu.pk])


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_offices(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    offices = place_offices(actor=request.user, tiers_lieu=tiers_lieu)
    offers = monthly_offers(tiers_lieu=tiers_lieu)
    form = OfficeRentForm(request.POST or None, offices=offices, offers=offers)

    def rent(data: dict) -> str:
        member = contact_account(request, tiers_lieu, data["contact"])
        rental = office_rent(
            actor=request.user,
            tiers_lieu=tiers_lieu,
            office=data["office"],
            member=member,
            offer=data["offer"],
            from_day=data["from_day"],
        )
        return _(
            "« %(office)s » loué à %(name)s du %(first)s au %(last)s ; "
            "abonnement et facture enregistrés."
        ) % {
            "office": rental.office.name,
            "name": member_name(member),
            "first": rental.first_day.strftime("%d/%m/%Y"),
            "last": rental.last_day.strftime("%d/%m/%Y"),
        }

    response, status = submit(request, form, rent, then=_offices_url(tiers_lieu))
    if response is not None:
        return response
    return render(
        request,
        "coworking/manage/offices.html",
        {
            "tiers_lieu": tiers_lieu,
            "form": form,
            "rows": place_office_rows(actor=request.user, tiers_lieu=tiers_lieu),
            "has_offices": offices.exists(),
            "has_offers": offers.exists(),
            "end_form": OfficeRentEndForm(),
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def manage_office_rent_end(request: HttpRequest, pk: int, rental_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    rental = place_office_rental_get(actor=request.user, tiers_lieu=tiers_lieu, rental_id=rental_id)
    if rental is None:
        raise Http404(_("Cette location n'existe pas, ou pas dans ce lieu."))
    form = OfficeRentEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_offices_url(tiers_lieu))
    try:
        rental = office_rent_end(
            actor=request.user, rental=rental, last_day=form.cleaned_data["last_day"]
        )
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("La location de « %(office)s » se termine le %(day)s : le bureau est libre ensuite.")
            % {"office": rental.office.name, "day": rental.last_day.strftime("%d/%m/%Y")},
        )
    return redirect(_offices_url(tiers_lieu))


urlpatterns = [
    path("gestion/<int:pk>/bureaux/", manage_offices, name="manage_offices"),
    path(
        "gestion/<int:pk>/bureaux/locations/<int:rental_id>/terminer/",
        manage_office_rent_end,
        name="manage_office_rent_end",
    ),
]
