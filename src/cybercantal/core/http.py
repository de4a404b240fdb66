"""Request helpers shared by every app."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address, for rate limiting and the audit log.

    Behind reverse proxies, settings.TRUSTED_PROXY_COUNT says how many of them append to
    X-Forwarded-For: the address appended by the outermost trusted proxy (counting from the
    right) is the visitor's; entries further left were written by the client and can be forged.
    With 0 (the default) the header is ignored. An unparsable entry falls back to REMOTE_ADDR."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies and _is_ip(forwarded[-proxies]):
            return forwarded[-proxies]
    remote = request.META.get("REMOTE_ADDR") or ""
    return remote if _is_ip(remote) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
