"""The signature of a notification: HMAC-SHA256 of "<timestamp>.<body>" with a shared secret,
sent as "t=<timestamp>,v1=<hex digest>" — the scheme Stripe uses for its webhooks, which
other providers (and ours for development) follow. The timestamp is signed too and must be
recent, so that a captured notification cannot be replayed later; digests are compared in
constant time."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.utils.translation import gettext as _

from .base import PaymentNotificationError

TOLERANCE_SECONDS = 5 * 60


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: bytes, body: bytes, timestamp: int | None = None) -> str:
    """The header value that signs `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    *,
    secret: bytes,
    body: bytes,
    header: str | None,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise PaymentNotificationError unless `header` signs `body` with `secret`, at a time
    less than `tolerance` seconds from now. Several v1 digests are accepted (secret rotation)."""
    if not secret:
        raise PaymentNotificationError(_("Aucun secret de signature n'est configuré."))
    if not header:
        raise PaymentNotificationError(_("La notification n'est pas signée."))
    timestamp, digests = None, []
    for item in header.split(","):
        name, _sep, value = item.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            digests.append(value)
    if timestamp is None or not digests:
        raise PaymentNotificationError(_("La signature de la notification est illisible."))
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise PaymentNotificationError(_("La notification est trop ancienne ou datée à venir."))
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, digest) for digest in digests):
        raise PaymentNotificationError(_("La signature de la notification est fausse."))
