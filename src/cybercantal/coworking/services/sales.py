"""A sale at the counter: the pass and its invoice, together or not at all."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ..models import Invoice, Offer, Pass, TiersLieu
from .invoices import invoice_for_pass
from .passes import pass_record


def pass_sell(
    *,
    actor,
    member,
    offer: Offer,
    sold_at: TiersLieu,
    valid_from: dt.date,
    now: dt.datetime | None = None,
) -> tuple[Pass, Invoice]:
    """A manager of `sold_at` sells `offer` to `member`: services.passes.pass_record, then
    services.invoices.invoice_for_pass, in one transaction — if the invoice is refused
    (InvoiceError, InvoiceForbidden) the pass is not recorded either. Raises what they raise."""
    with transaction.atomic():
        pass_account = pass_record(
            actor=actor, member=member, offer=offer, sold_at=sold_at, valid_from=valid_from, now=now
        )
        invoice = invoice_for_pass(actor=actor, pass_account=pass_account, now=now)
    return pass_account, invoice
