"""Online payment of an invoice through the configured payment provider (coworking/payments/).

Guarantees:

- Nothing is offered when no provider is configured (the default).
- Only the invoice's customer (its buyer account: the member, for a pass they pay themselves)
  or a manager of the operator (or territory staff) may start a payment, and only for an
  invoice (not a credit note) that is neither credited nor paid, for exactly what remains due.
- The provider is called outside any transaction (a slow provider holds no lock); the attempt
  (OnlinePayment) is written before and after.
- Only the provider's verified notification records money: `online_payment_notified` locks the
  attempt (SELECT … FOR UPDATE), then the invoice, and records at most one Payment per attempt
  through the invoicing service (`payment_record_online`), in one transaction. The same
  notification twice records nothing more. A paid notification whose amount or invoice is not
  what is due (the invoice was paid at the desk meanwhile, a second checkout paid…) records no
  Payment: the attempt becomes an anomaly, logged and audited, for a manager to settle.
- Every change leaves an audit row in the same transaction."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log

from ..invoicing import amounts as am
from ..invoicing.errors import InvoiceError, InvoiceForbidden
from ..models import Invoice, OnlinePayment
from ..payments.base import NoticeStatus, PaymentNotice, PaymentProvider, PaymentProviderError
from ..payments.loader import payment_provider
from .invoices import _is_authenticated, _is_invoicing_manager, invoice_paid_cents
from .invoices import payment_record_online as _payment_record_online

logger = logging.getLogger(__name__)

# A checkout started this recently for the same amount is offered again rather than a second
# one (a double click, a "back" in the browser), so that the payer cannot pay twice.
REUSE_CHECKOUT_MINUTES = 30


class OnlinePaymentUnavailable(InvoiceError):
    """Online payment is off, or the provider could not open a checkout."""

    status_code = 503


def may_pay_online(actor, invoice: Invoice) -> bool:
    """The invoice's customer, or a manager of its operator (territory staff included)."""
    if not _is_authenticated(actor):
        return False
    if invoice.buyer_user_id is not None and invoice.buyer_user_id == actor.pk:
        return True
    return _is_invoicing_manager(actor, invoice.operator)


def amount_due_cents(invoice: Invoice) -> int:
    """What remains to pay on an invoice: 0 for a credit note, a credited or paid invoice."""
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status != Invoice.Status.ISSUED:
        return 0
    return max(invoice.total_incl_tax_cents - invoice_paid_cents(invoice), 0)


def _check_payable(invoice: Invoice) -> int:
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        raise InvoiceError(_("Un avoir ne se paie pas."))
    if invoice.status == Invoice.Status.CREDITED:
        raise InvoiceError(
            _("La facture %(number)s est annulée par un avoir : elle ne se paie plus.")
            % {"number": invoice.number}
        )
    due = amount_due_cents(invoice)
    if invoice.status == Invoice.Status.PAID or due <= 0:
        raise InvoiceError(_("La facture %(number)s est déjà payée.") % {"number": invoice.number})
    return due


def online_payment_start(*, actor, invoice: Invoice, base_url: str | None = None) -> OnlinePayment:
    """Open a checkout at the provider for what remains due on `invoice`, and return the
    attempt, whose `redirect_url` is where to send the payer. `base_url` is the platform's
    public address ("https://host", the request's own in views; CYBERCANTAL_SITE_URL by
    default), from which the return and notification addresses are built.

    Refuses (OnlinePaymentUnavailable) when no provider is configured or the provider fails,
    (InvoiceForbidden) anyone but the customer or a manager, (InvoiceError) a credit note, a
    credited or paid invoice."""
    provider = payment_provider()
    if provider is None:
        raise OnlinePaymentUnavailable(
            _("Le paiement en ligne n'est pas proposé : réglez cette facture auprès du tiers-lieu.")
        )
    if not may_pay_online(actor, invoice):
        raise InvoiceForbidden(_("Vous ne pouvez pas payer cette facture en ligne."))
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        due = _check_payable(locked)
        recent = (
            OnlinePayment.objects.filter(
                invoice=locked,
                provider_key=provider.key,
                status=OnlinePayment.Status.PENDING,
                amount_cents=due,
                created_at__gte=timezone.now() - dt.timedelta(minutes=REUSE_CHECKOUT_MINUTES),
            )
            .exclude(redirect_url="")
            .first()
        )
        if recent is not None:
            return recent
        attempt = OnlinePayment.objects.create(
            invoice=locked,
            provider_key=provider.key,
            amount_cents=due,
            started_by=actor,
        )
        audit_log(
            actor=actor,
            action="coworking.online_payment_start",
            target=locked,
            data={"attempt": str(attempt.reference), "amount_cents": due},
        )
    base = (base_url or settings.CYBERCANTAL_SITE_URL).rstrip("/")
    try:
        checkout = provider.start_checkout(
            invoice=locked,
            amount_cents=due,
            reference=str(attempt.reference),
            return_url=base + reverse("coworking:payment_return", args=[attempt.reference]),
            notify_url=base + reverse("coworking:payment_notify"),
        )
    except PaymentProviderError as exc:
        _attempt_failed(attempt, str(exc))
        raise OnlinePaymentUnavailable(
            _("Le prestataire de paiement n'a pas pu ouvrir le paiement : %(reason)s")
            % {"reason": exc}
        ) from exc
    except Exception as exc:  # a provider's bug or network fault must not become a 500
        logger.exception("Payment provider %s failed to start a checkout", provider.key)
        _attempt_failed(attempt, repr(exc)[:500])
        raise OnlinePaymentUnavailable(
            _("Le prestataire de paiement ne répond pas. Réessayez plus tard.")
        ) from exc
    try:
        with transaction.atomic():
            attempt.provider_reference = checkout.provider_reference[:200]
            attempt.redirect_url = checkout.redirect_url
            attempt.status = OnlinePayment.Status.PENDING
            attempt.save(
                update_fields=["provider_reference", "redirect_url", "status", "updated_at"]
            )
    except IntegrityError as exc:
        logger.error("Payment provider %s gave a reference already used", provider.key)
        _attempt_failed(attempt, _("Référence du prestataire déjà utilisée."))
        raise OnlinePaymentUnavailable(
            _("Le prestataire de paiement a répondu de façon incohérente. Réessayez plus tard.")
        ) from exc
    return attempt


def _attempt_failed(attempt: OnlinePayment, message: str) -> None:
    OnlinePayment.objects.filter(pk=attempt.pk).update(
        status=OnlinePayment.Status.FAILED, message=message, updated_at=timezone.now()
    )
    attempt.status = OnlinePayment.Status.FAILED
    attempt.message = message


@dataclass(frozen=True)
class NotificationOutcome:
    """What a notification did: "recorded" (a Payment), "duplicate" (already done),
    "failed", "cancelled", "anomaly" (paid but not as due: no Payment), "unknown" (no such
    checkout)."""

    outcome: str
    attempt: OnlinePayment | None = None


def _anomaly(attempt: OnlinePayment, notice: PaymentNotice, invoice: Invoice) -> str | None:
    """Why a paid notice cannot be recorded as a payment of the invoice, or None."""
    if notice.invoice_number != invoice.number:
        return _("La notification porte sur la facture %(got)s au lieu de %(expected)s.") % {
            "got": notice.invoice_number,
            "expected": invoice.number,
        }
    if notice.amount_cents != attempt.amount_cents:
        return _("Montant payé %(paid)s au lieu de %(expected)s.") % {
            "paid": am.format_cents(notice.amount_cents),
            "expected": am.format_cents(attempt.amount_cents),
        }
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status == Invoice.Status.CREDITED:
        return _("La facture %(number)s est annulée par un avoir : paiement à rembourser.") % {
            "number": invoice.number
        }
    due = amount_due_cents(invoice)
    if due <= 0:
        return _("La facture %(number)s était déjà payée : paiement à rembourser.") % {
            "number": invoice.number
        }
    if notice.amount_cents != due:
        return _("Montant payé %(paid)s alors qu'il restait %(due)s à payer.") % {
            "paid": am.format_cents(notice.amount_cents),
            "due": am.format_cents(due),
        }
    return None


def online_payment_notified(
    *, provider: PaymentProvider, notice: PaymentNotice
) -> NotificationOutcome:
    """Apply a notification already verified by `provider.parse_notification`. Idempotent:
    a notification applied before changes nothing. Never raises for what the notice says."""
    now = timezone.now()
    with transaction.atomic():
        attempt = (
            OnlinePayment.objects.select_for_update()
            .filter(provider_key=provider.key, provider_reference=notice.provider_reference)
            .first()
        )
        if attempt is None:
            logger.warning(
                "Payment notification for an unknown checkout %s (%s)",
                notice.provider_reference,
                provider.key,
            )
            return NotificationOutcome("unknown")
        if attempt.status in (OnlinePayment.Status.PAID, OnlinePayment.Status.ANOMALY):
            # Already settled: a repeated notification, or a late "failed" after a success.
            return NotificationOutcome("duplicate", attempt)
        if notice.status != NoticeStatus.PAID:
            status = (
                OnlinePayment.Status.FAILED
                if notice.status == NoticeStatus.FAILED
                else OnlinePayment.Status.CANCELLED
            )
            if attempt.status == status:
                return NotificationOutcome("duplicate", attempt)
            attempt.status, attempt.notified_at = status, now
            attempt.save(update_fields=["status", "notified_at", "updated_at"])
            audit_log(
                actor=None,
                action="coworking.online_payment_notified",
                target=attempt.invoice,
                data={"attempt": str(attempt.reference), "status": status},
            )
            return NotificationOutcome(str(status), attempt)
        invoice = Invoice.objects.select_for_update().get(pk=attempt.invoice_id)
        problem = _anomaly(attempt, notice, invoice)
        payment = None
        if problem is None:
            paid_on = min(timezone.localdate(notice.paid_at or now), timezone.localdate(now))
            try:
                payment = _payment_record_online(
                    invoice=invoice,
                    amount_cents=notice.amount_cents,
                    received_on=paid_on,
                    reference=f"{provider.key} {notice.provider_reference}",
                )
            except InvoiceError as exc:  # the checks above make this unexpected
                problem = exc.message
        attempt.notified_at = now
        if problem is not None:
            logger.warning(
                "Online payment %s of invoice %s not recorded: %s",
                attempt.reference,
                invoice.number,
                problem,
            )
            attempt.status, attempt.message = OnlinePayment.Status.ANOMALY, problem
            attempt.save(update_fields=["status", "message", "notified_at", "updated_at"])
            audit_log(
                actor=None,
                action="coworking.online_payment_anomaly",
                target=invoice,
                data={
                    "attempt": str(attempt.reference),
                    "amount_cents": notice.amount_cents,
                    "reason": problem,
                },
            )
            return NotificationOutcome("anomaly", attempt)
        attempt.status, attempt.payment = OnlinePayment.Status.PAID, payment
        attempt.paid_at = notice.paid_at or now
        attempt.save(update_fields=["status", "payment", "paid_at", "notified_at", "updated_at"])
        audit_log(
            actor=None,
            action="coworking.online_payment_notified",
            target=invoice,
            data={"attempt": str(attempt.reference), "status": "paid", "payment": payment.pk},
        )
    return NotificationOutcome("recorded", attempt)
