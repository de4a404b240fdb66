"""What a payment provider is, for the platform.

The flow is the one of PayFiP, Stripe Checkout, Mollie, Payplug or HelloAsso:

1. `start_checkout` asks the provider for a checkout of an amount for an invoice, and returns
   the address where the payer is sent and the provider's reference of that checkout;
2. the payer pays on the provider's pages, then comes back to `return_url`, which only shows
   what the platform already knows (a return address can be typed by anyone);
3. the provider calls `notify_url` server to server: `parse_notification` checks that the call
   really comes from the provider (a signature, or a call back to the provider's API, as
   PayFiP's and Mollie's flows want) and says what happened. That notification is the only
   source of truth: only it records a payment.

A provider keeps no state of its own: everything the platform needs is in OnlinePayment."""

from __future__ import annotations

import abc
import datetime as dt
import enum
from dataclasses import dataclass

from django.http import HttpRequest


class NoticeStatus(enum.StrEnum):
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Checkout:
    """A checkout opened at the provider: where to send the payer, and how the provider
    names it (the notification will carry the same reference)."""

    redirect_url: str
    provider_reference: str


@dataclass(frozen=True)
class PaymentNotice:
    """What a verified notification says about one checkout."""

    provider_reference: str
    invoice_number: str
    amount_cents: int
    status: NoticeStatus
    paid_at: dt.datetime | None = None


class PaymentNotificationError(Exception):
    """The notification cannot be trusted or read: bad or missing signature, too old, body
    that is not what the provider sends. The notification endpoint answers 400."""


class PaymentProviderError(Exception):
    """The provider refused or could not open a checkout (down, bad credentials…). The
    message is French and can be shown to the payer."""


class PaymentProvider(abc.ABC):
    """A payment provider. Subclasses set `key` (stored on each OnlinePayment, never changed
    once used) and `label` (shown to the payer), and read their own credentials from settings
    in `__init__`, raising ImproperlyConfigured when one is missing."""

    key: str = ""
    label: str = ""

    @abc.abstractmethod
    def start_checkout(
        self,
        *,
        invoice,
        amount_cents: int,
        reference: str,
        return_url: str,
        notify_url: str,
    ) -> Checkout:
        """Open a checkout of `amount_cents` for `invoice`. `reference` is the platform's
        reference of the attempt (unique; an idempotency key where the provider takes one);
        `return_url` and `notify_url` are absolute. Raises PaymentProviderError."""

    @abc.abstractmethod
    def parse_notification(self, request: HttpRequest) -> PaymentNotice:
        """Verify the provider's notification and read it. Raises PaymentNotificationError
        for anything that is not a genuine, well-formed notification; never anything else for
        bad input."""
