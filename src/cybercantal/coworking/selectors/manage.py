"""Reads of the managers' pass and invoice pages, scoped to the actor: the passes sold at a
place they manage, the offers on sale there, the invoices of the place's operator, and the
account a manager looks up by exact e-mail or phone number to record a sale."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from ..models import Invoice, Offer, Pass, TiersLieu
from .passes import _with_balance
from .today import managed_place_get


def place_passes(*, actor, tiers_lieu: TiersLieu) -> QuerySet[Pass]:
    """Passes sold at the place, newest first, with their `balance`; none if `actor` does not
    manage it."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return Pass.objects.none()
    return _with_balance(
        Pass.objects.filter(sold_at=tiers_lieu).select_related("offer", "member", "funder")
    ).order_by("-created_at", "-pk")


def place_pass_get(*, actor, tiers_lieu: TiersLieu, pass_id) -> Pass | None:
    try:
        return place_passes(actor=actor, tiers_lieu=tiers_lieu).filter(pk=int(pass_id)).first()
    except (TypeError, ValueError):
        return None


def offers_for_sale(*, tiers_lieu: TiersLieu) -> QuerySet[Offer]:
    """What a manager may sell at the place: its offers on sale and, for a place of the
    network, the network's offers."""
    scope = Q(tiers_lieu=tiers_lieu)
    if tiers_lieu.is_in_network:
        scope |= Q(tiers_lieu__isnull=True)
    return (
        Offer.objects.filter(scope, is_active=True)
        # An hourly room price is invoiced with the booking (services.rooms), not sold.
        .exclude(kind=Offer.Kind.ROOM_HOUR)
        .select_related("tiers_lieu__place")
        .order_by("tiers_lieu", "price_cents", "label")
    )


def account_by_contact(*, actor, tiers_lieu: TiersLieu, contact: str):
    """The active account whose e-mail (any case) or mobile number is exactly `contact`; None
    otherwise, and for an actor who does not manage the place. An exact match only, so that a
    manager cannot browse the platform's accounts."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return None
    contact = (contact or "").strip()
    if not contact:
        return None
    users = get_user_model().objects.filter(is_active=True, erased_at__isnull=True)
    if "@" in contact:
        found = list(users.filter(email__iexact=contact)[:2])
    else:
        from cybercantal.accounts.services import phone_normalize

        try:
            phone = phone_normalize(contact)
        except ValidationError:
            return None
        found = list(users.filter(phone=phone)[:2]) if phone else []
    return found[0] if len(found) == 1 else None


def operator_invoices(*, actor, tiers_lieu: TiersLieu, year: int | None = None):
    """Invoices and credit notes of the place's operator (all its places), newest first; none
    if `actor` does not manage the place."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return Invoice.objects.none()
    invoices = Invoice.objects.filter(operator_id=tiers_lieu.place.organisation_id)
    if year is not None:
        invoices = invoices.filter(issued_on__year=year)
    return invoices.select_related("corrects").order_by("-sequence")


def operator_invoice_get(*, actor, tiers_lieu: TiersLieu, invoice_id) -> Invoice | None:
    try:
        return (
            operator_invoices(actor=actor, tiers_lieu=tiers_lieu).filter(pk=int(invoice_id)).first()
        )
    except (TypeError, ValueError):
        return None
