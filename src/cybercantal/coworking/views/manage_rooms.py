"""The meeting-room bookings of a place, for its managers: those of the past and next 30 days,
each with its invoice, and "Facturer" (services.rooms.invoice_for_booking)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cybercantal.booking.errors import BookingError
from cybercantal.booking.models import Booking

from ..selectors.rooms import (
    ROOM_BOOKINGS_DAYS,
    place_room_booking_get,
    place_room_bookings,
    room_hour_offer,
    room_price_cents,
)
from ..services.rooms import invoice_for_booking
from .manage_common import managed_place
from .network import price_text, time_text


def _rooms_url(tiers_lieu) -> str:
    return reverse("coworking:manage_rooms", args=[tiers_lieu.pk])


@never_cache
@login_required
@require_safe
def manage_rooms(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    offer = room_hour_offer(tiers_lieu=tiers_lieu)
    rows = []
    for row in place_room_bookings(actor=request.user, tiers_lieu=tiers_lieu):
        booking = row.booking
        start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
        rows.append(
            {
                "booking": booking,
                "room": row.room,
                "who": booking.display_name,
                "when": _("%(day)s, de %(start)s à %(end)s")
                % {
                    "day": start.strftime("%d/%m/%Y"),
                    "start": time_text(start.time()),
                    "end": time_text(end.time()),
                },
                "status": booking.get_status_display(),
                "price": price_text(room_price_cents(offer, booking.end - booking.start))
                if offer
                else "",
                "invoice": row.invoice,
                "can_invoice": row.invoice is None
                and offer is not None
                and booking.status
                in (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW),
            }
        )
    return render(
        request,
        "coworking/manage/rooms.html",
        {
            "tiers_lieu": tiers_lieu,
            "offer": offer,
            "hourly_price": price_text(offer.price_cents) if offer else "",
            "rows": rows,
            "days": ROOM_BOOKINGS_DAYS,
        },
    )


@never_cache
@login_required
@require_POST
def manage_room_invoice(request: HttpRequest, pk: int, booking_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    booking = place_room_booking_get(
        actor=request.user, tiers_lieu=tiers_lieu, booking_id=booking_id
    )
    if booking is None:
        raise Http404(_("Cette réservation n'existe pas, ou n'est pas celle d'une salle d'ici."))
    try:
        invoice = invoice_for_booking(actor=request.user, booking=booking, tiers_lieu=tiers_lieu)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Réservation %(reference)s facturée : facture %(number)s.")
            % {"reference": booking.reference, "number": invoice.number},
        )
    return redirect(_rooms_url(tiers_lieu))


urlpatterns = [
    path("gestion/<int:pk>/salles/", manage_rooms, name="manage_rooms"),
    path(
        "gestion/<int:pk>/salles/<int:booking_id>/facturer/",
        manage_room_invoice,
        name="manage_room_invoice",
    ),
]
