"""Invoicing a meeting-room booking.

A member books a room by the hour through the booking engine (booking.services.booking_create,
views/member_rooms.py); the place invoices it afterwards: the hours at the price of the
place's "Salle de réunion, à l'heure" offer (Offer.Kind.ROOM_HOUR) and its VAT rate, through
services.invoices.invoice_issue, and records which invoice billed the booking
(RoomBookingInvoice) in the same transaction. A booking is invoiced once; again only after its
invoice was cancelled by a credit note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.models import Booking, Resource
from cybercantal.core.audit import audit_log

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import Invoice, TiersLieu
from ..models.invoices import RoomBookingInvoice
from ..perms import is_place_manager
from ..selectors.rooms import room_hour_offer, room_price_cents
from .invoices import LineSpec, invoice_issue


def _time_words(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.hour} h {local.minute:02d}" if local.minute else f"{local.hour} h"


def room_booking_label(room: Resource, booking: Booking) -> str:
    """ "Salle Volcan, le 12/03/2027, de 9 h à 11 h 30"."""
    return _("%(room)s, le %(day)s, de %(start)s à %(end)s") % {
        "room": room.name,
        "day": timezone.localtime(booking.start).strftime("%d/%m/%Y"),
        "start": _time_words(booking.start),
        "end": _time_words(booking.end),
    }


def _line(room: Resource, booking: Booking, offer) -> LineSpec:
    """The hours as the quantity when they have two decimals at most (1,5 h); otherwise (a
    20-minute grid) one line at the rounded price of the whole duration."""
    minutes = int((booking.end - booking.start).total_seconds() // 60)
    label = room_booking_label(room, booking)
    if (minutes * 100) % 60 == 0:
        return LineSpec(
            label=label,
            unit_price_incl_tax_cents=offer.price_cents,
            vat_rate=offer.vat_rate,
            quantity=Decimal(minutes * 100 // 60) / 100,
        )
    return LineSpec(
        label=_("%(label)s (%(minutes)d min)") % {"label": label, "minutes": minutes},
        unit_price_incl_tax_cents=room_price_cents(offer, booking.end - booking.start),
        vat_rate=offer.vat_rate,
    )


def invoice_for_booking(
    *,
    actor,
    booking: Booking,
    tiers_lieu: TiersLieu | None = None,
    now: dt.datetime | None = None,
) -> Invoice:
    """A manager of the place invoices a booking of one of its meeting rooms, dated today,
    to the person who booked (their account's name and postal address, or the name given).

    Refused, with nothing written: someone who does not manage the place (CoworkingForbidden,
    before anything is read), a booking that is not of a room of the place (of `tiers_lieu`
    when given), cancelled or still awaiting approval, already invoiced (an invoice not
    credited), or a place without an hourly room price. The booking row is locked, so that two
    clicks on "Facturer" give one invoice."""
    room = (
        Resource.objects.filter(allocations__booking=booking, kind=Resource.Kind.ROOM)
        .select_related("place__tiers_lieu")
        .first()
    )
    place_of_room = getattr(room.place, "tiers_lieu", None) if room and room.place else None
    target = tiers_lieu or place_of_room
    if target is None or not is_place_manager(actor, target):
        raise CoworkingForbidden(
            _("Seul un gestionnaire du tiers-lieu peut facturer les réservations de ses salles.")
        )
    if place_of_room is None or place_of_room.pk != target.pk:
        raise CoworkingRuleError(_("Cette réservation n'est pas celle d'une salle de ce lieu."))
    offer = room_hour_offer(tiers_lieu=target)
    if offer is None:
        raise CoworkingRuleError(
            _(
                "Ce lieu n'a pas de tarif de salle à l'heure : créez d'abord une offre « Salle "
                "de réunion, à l'heure » dans ses offres et tarifs."
            )
        )
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=booking.pk)
        )
        if locked.status == Booking.Status.CANCELLED:
            raise CoworkingRuleError(_("Une réservation annulée ne se facture pas."))
        if locked.status == Booking.Status.PENDING:
            raise CoworkingRuleError(
                _("Cette réservation attend d'être validée : validez-la avant de la facturer.")
            )
        already = (
            Invoice.objects.filter(room_bookings__booking=locked, kind=Invoice.Kind.INVOICE)
            .exclude(status=Invoice.Status.CREDITED)
            .first()
        )
        if already is not None:
            raise CoworkingRuleError(
                _("Cette réservation est déjà facturée (facture %(number)s).")
                % {"number": already.number}
            )
        user = locked.user
        invoice = invoice_issue(
            actor=actor,
            operator=offer.operator,
            buyer_name=(
                (user.get_full_name() or user.get_username()) if user else locked.person_name
            )[:200],
            buyer_address=user.postal_address if user else "",
            buyer_user=user,
            lines=[_line(room, locked, offer)],
            issued_on=timezone.localdate(now or timezone.now()),
            now=now,
        )
        RoomBookingInvoice.objects.create(booking=locked, invoice=invoice)
        audit_log(
            actor=actor,
            action="coworking.invoice_for_room_booking",
            target=invoice,
            data={"number": invoice.number, "booking": locked.pk, "room": room.pk},
        )
    return invoice
