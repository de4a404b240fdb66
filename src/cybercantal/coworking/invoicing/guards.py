"""An issued invoice never changes.

French law (CGI art. 242 nonies A, BOI-TVA-DECLA-30-20) wants invoices numbered in one
continuous chronological series and never altered: a mistake is corrected by a credit note.
The model cannot be edited from here, so the guard is a set of signal receivers, connected
when this module is imported (services/invoices.py imports it):

- Invoice, InvoiceLine, Payment and a series' `last_number` are written only inside
  `invoicing_writes()`, which only the invoicing services open. Any other `.save()` raises
  InvoiceImmutable (admin, shell, another module).
- Even inside the services, an existing invoice may only change its status, along
  ISSUED → PAID, ISSUED → CREDITED, PAID → CREDITED; an existing line or payment never changes.
- Nothing is ever deleted (`.delete()` raises).

Signals do not see `QuerySet.update()`, `bulk_create()`/`bulk_update()` or raw SQL: only
database triggers would (as core.AuditLog has); that is recommended, not done here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from ..models import Invoice, InvoiceLine, InvoiceSeries, Payment
from .errors import InvoiceImmutable

_WRITING: ContextVar[bool] = ContextVar("coworking_invoicing_writes", default=False)

STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Invoice.Status.ISSUED: frozenset({Invoice.Status.PAID, Invoice.Status.CREDITED}),
    Invoice.Status.PAID: frozenset({Invoice.Status.CREDITED}),
    Invoice.Status.CREDITED: frozenset(),
}
# What an issued invoice may still change: its status (and the time stamp that goes with it).
MUTABLE_INVOICE_FIELDS = frozenset({"status", "updated_at"})


@contextmanager
def invoicing_writes() -> Iterator[None]:
    """Open the door to invoice writes for the block (used by services/invoices.py only)."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


def _refuse_outside_services() -> None:
    if not _WRITING.get():
        raise InvoiceImmutable(
            _(
                "Les factures, leurs lignes et leurs paiements ne s'écrivent que par le "
                "service de facturation."
            )
        )


@receiver(pre_save, sender=Invoice, dispatch_uid="coworking_invoice_guard")
def _guard_invoice(sender, instance: Invoice, raw: bool = False, **kwargs) -> None:
    if raw:  # loaddata of a fixture: rows as they are
        return
    _refuse_outside_services()
    if instance._state.adding or instance.pk is None:
        return
    stored = Invoice.objects.filter(pk=instance.pk).first()
    if stored is None:
        return
    for field in Invoice._meta.concrete_fields:
        if field.name in MUTABLE_INVOICE_FIELDS:
            continue
        if field.value_from_object(stored) != field.value_from_object(instance):
            raise InvoiceImmutable(
                _(
                    "La facture %(number)s est émise : elle ne peut plus être modifiée "
                    "(champ « %(field)s »). Corrigez-la par un avoir."
                )
                % {"number": stored.number, "field": field.verbose_name}
            )
    if stored.status != instance.status and instance.status not in STATUS_TRANSITIONS.get(
        stored.status, frozenset()
    ):
        raise InvoiceImmutable(
            _("La facture %(number)s ne peut pas passer de « %(from)s » à « %(to)s ».")
            % {
                "number": stored.number,
                "from": Invoice.Status(stored.status).label,
                "to": Invoice.Status(instance.status).label,
            }
        )


@receiver(pre_save, sender=InvoiceLine, dispatch_uid="coworking_invoice_line_guard")
@receiver(pre_save, sender=Payment, dispatch_uid="coworking_payment_guard")
def _guard_line_or_payment(sender, instance, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    _refuse_outside_services()
    if not instance._state.adding:
        raise InvoiceImmutable(
            _("Une ligne ou un paiement d'une facture émise ne peut pas être modifié.")
        )


@receiver(pre_save, sender=InvoiceSeries, dispatch_uid="coworking_invoice_series_guard")
def _guard_series(sender, instance: InvoiceSeries, raw: bool = False, **kwargs) -> None:
    if raw or instance._state.adding or _WRITING.get():
        return
    stored = InvoiceSeries.objects.filter(pk=instance.pk).first()
    if stored is not None and stored.last_number != instance.last_number:
        raise InvoiceImmutable(
            _("Le dernier numéro d'une série de factures ne se change pas à la main.")
        )


@receiver(pre_delete, sender=Invoice, dispatch_uid="coworking_invoice_no_delete")
@receiver(pre_delete, sender=InvoiceLine, dispatch_uid="coworking_invoice_line_no_delete")
@receiver(pre_delete, sender=Payment, dispatch_uid="coworking_payment_no_delete")
def _guard_delete(sender, instance, **kwargs) -> None:
    raise InvoiceImmutable(
        _("Une facture, ses lignes et ses paiements ne se suppriment jamais : émettez un avoir.")
    )
