"""FOR DEVELOPMENT ONLY — a payment provider that moves no money.

With the setting COWORKING_PAYMENT_PROVIDER set to
"cybercantal.coworking.payments.simulated.SimulatedPaymentProvider" (prod.py refuses it),
"Payer en ligne" leads to a page of the platform itself that plays the provider: it shows the
amount and offers "paiement accepté", "paiement refusé" or "abandon". The choice is sent,
server to server, as a signed notification to the notification address, exactly as a real
provider would, then the payer is sent back to the return page. So the whole flow, signature
check included, can be tried in a browser with `make run`.

The checkout travels in the page address, signed by Django (django.core.signing), so the
"provider" keeps no state and reads nothing of the platform's database. The notification is
JSON signed with COWORKING_PAYMENT_SECRET (signing.py); without one, a secret derived from
SECRET_KEY is used so that nothing else needs setting up in development."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import signing as payment_signing
from .base import (
    Checkout,
    NoticeStatus,
    PaymentNotice,
    PaymentNotificationError,
    PaymentProvider,
    PaymentProviderError,
)

SIGNATURE_HEADER = "X-Simulated-Signature"
CHECKOUT_SALT = "cybercantal.coworking.payments.simulated.checkout"
CHECKOUT_MAX_AGE = 60 * 60  # seconds a simulated checkout page stays valid
MAX_BODY_BYTES = 10_000
DELIVERY_TIMEOUT = 10


class SimulatedPaymentProvider(PaymentProvider):
    key = "simulated"
    label = gettext_lazy("Paiement simulé (développement, sans argent réel)")

    def __init__(self) -> None:
        configured = getattr(settings, "COWORKING_PAYMENT_SECRET", "") or ""
        self.secret = (
            configured.encode()
            if configured
            else salted_hmac("cybercantal.coworking.simulated_payment", "notification").digest()
        )

    # --- the provider's side -------------------------------------------------------------------

    def start_checkout(
        self, *, invoice, amount_cents: int, reference: str, return_url: str, notify_url: str
    ) -> Checkout:
        provider_reference = f"simu_{secrets.token_hex(12)}"
        token = signing.dumps(
            {
                "ref": provider_reference,
                "invoice": invoice.number,
                "seller": invoice.seller_name,
                "amount": amount_cents,
                "return": return_url,
                "notify": notify_url,
            },
            salt=CHECKOUT_SALT,
            compress=True,
        )
        parts = urllib.parse.urlsplit(notify_url)
        page = reverse("coworking:payment_simulated") + "?" + urllib.parse.urlencode({"c": token})
        return Checkout(
            redirect_url=f"{parts.scheme}://{parts.netloc}{page}",
            provider_reference=provider_reference,
        )

    @staticmethod
    def read_checkout(token: str) -> dict | None:
        """The checkout a simulated page address carries, or None if forged or expired."""
        try:
            return signing.loads(token or "", salt=CHECKOUT_SALT, max_age=CHECKOUT_MAX_AGE)
        except signing.BadSignature:
            return None

    def notification_body(self, checkout: dict, status: NoticeStatus) -> bytes:
        return json.dumps(
            {
                "reference": checkout["ref"],
                "invoice": checkout["invoice"],
                "amount_cents": checkout["amount"],
                "status": str(status),
                "paid_at": timezone.now().isoformat() if status == NoticeStatus.PAID else None,
            }
        ).encode()

    def deliver(self, notify_url: str, body: bytes) -> None:
        """POST the signed notification to the platform, as the provider's servers would.
        Raises PaymentProviderError when the platform does not answer 200."""
        request = urllib.request.Request(  # noqa: S310 — our own address, signed in the page
            notify_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: payment_signing.signature_header(secret=self.secret, body=body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            raise PaymentProviderError(
                _("La notification n'a pas pu être envoyée à %(url)s (%(error)s).")
                % {"url": notify_url, "error": exc}
            ) from exc
        if status != 200:
            raise PaymentProviderError(
                _("La plateforme a répondu %(status)s à la notification.") % {"status": status}
            )

    # --- the platform's side -------------------------------------------------------------------

    def parse_notification(self, request: HttpRequest) -> PaymentNotice:
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            raise PaymentNotificationError(_("La notification est trop longue."))
        payment_signing.verify_signature(
            secret=self.secret, body=body, header=request.headers.get(SIGNATURE_HEADER)
        )
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PaymentNotificationError(_("La notification n'est pas du JSON.")) from exc
        if not isinstance(data, dict):
            raise PaymentNotificationError(_("La notification n'est pas un objet JSON."))
        reference, number = data.get("reference"), data.get("invoice")
        amount, status = data.get("amount_cents"), data.get("status")
        if not (isinstance(reference, str) and 0 < len(reference) <= 200):
            raise PaymentNotificationError(_("La référence de la notification est invalide."))
        if not (isinstance(number, str) and 0 < len(number) <= 40):
            raise PaymentNotificationError(_("Le numéro de facture notifié est invalide."))
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount < 10**9:
            raise PaymentNotificationError(_("Le montant de la notification est invalide."))
        if status not in {s.value for s in NoticeStatus}:
            raise PaymentNotificationError(_("L'état de la notification est inconnu."))
        paid_at = None
        if data.get("paid_at") is not None:
            try:
                paid_at = dt.datetime.fromisoformat(str(data["paid_at"]))
            except ValueError as exc:
                raise PaymentNotificationError(_("La date de paiement est illisible.")) from exc
            if timezone.is_naive(paid_at):
                raise PaymentNotificationError(_("La date de paiement n'a pas de fuseau horaire."))
        return PaymentNotice(
            provider_reference=reference,
            invoice_number=number,
            amount_cents=amount,
            status=NoticeStatus(status),
            paid_at=paid_at,
        )
