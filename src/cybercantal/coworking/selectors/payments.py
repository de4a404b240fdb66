"""Reads for online payment: a member's invoices with what remains due, the invoices an actor
may pay online, and the attempts an actor may follow. Scoped like services.online_payments:
the invoice's customer (buyer account), the operator's managers, the Département's staff."""

from __future__ import annotations

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from cybercantal.accounts.models import Role
from cybercantal.booking.perms import TERRITORY_STAFF_ROLES

from ..models import Invoice, OnlinePayment, Payment

MEMBER_INVOICES_SHOWN = 50


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _payer_filter(actor, prefix: str = "") -> Q:
    """A Q on Invoice (through `prefix`): what `actor` may pay online."""
    if not _is_authenticated(actor):
        return Q(pk__in=[])
    if actor.has_role(*TERRITORY_STAFF_ROLES):
        return Q()
    managed = actor.memberships.filter(is_active=True, role=Role.TIERS_LIEU_MANAGER).values(
        "organisation_id"
    )
    return Q(**{f"{prefix}buyer_user": actor}) | Q(**{f"{prefix}operator_id__in": managed})


def _with_amount_due(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    return invoices.annotate(
        paid_cents=Coalesce(Subquery(paid, output_field=IntegerField()), Value(0))
    ).annotate(due_cents=F("total_incl_tax_cents") - F("paid_cents"))


def member_invoices(*, actor, member) -> QuerySet[Invoice]:
    """Invoices and credit notes billed to `member`'s own account (not those a funder pays),
    newest first, annotated with `paid_cents` and `due_cents`: all of them for the member,
    none for anyone else."""
    if not _is_authenticated(actor) or actor.pk != member.pk:
        return Invoice.objects.none()
    return _with_amount_due(
        Invoice.objects.filter(buyer_user=member).select_related("operator")
    ).order_by("-issued_on", "-id")


def member_invoice_get(*, actor, invoice_id) -> Invoice | None:
    """The invoice or credit note `invoice_id` if it is billed to `actor`'s own account (the
    member of the pass or of the room booking it bills), else None — to anyone else, the
    operator's managers included (they have their own pages)."""
    try:
        invoice_id = int(invoice_id)
    except (TypeError, ValueError):
        return None
    if not _is_authenticated(actor):
        return None
    return (
        Invoice.objects.filter(buyer_user=actor, pk=invoice_id).select_related("operator").first()
    )


def payable_invoice_get(*, actor, invoice_id) -> Invoice | None:
    """The invoice `invoice_id` if `actor` may pay it online (paid or not), else None."""
    try:
        invoice_id = int(invoice_id)
    except (TypeError, ValueError):
        return None
    return (
        Invoice.objects.filter(_payer_filter(actor), pk=invoice_id)
        .select_related("operator")
        .first()
    )


def online_payment_get(*, actor, reference) -> OnlinePayment | None:
    """The attempt `reference` if `actor` started it or may pay its invoice, else None."""
    if not _is_authenticated(actor):
        return None
    return (
        OnlinePayment.objects.filter(
            Q(started_by=actor) | _payer_filter(actor, prefix="invoice__"), reference=reference
        )
        .select_related("invoice")
        .first()
    )
