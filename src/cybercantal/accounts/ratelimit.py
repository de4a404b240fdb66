"""Rate limiting of login attempts, per account identifier and per client address.

Counters live in Django's cache so that every web process shares them (DatabaseCache in
development, Redis in production when REDIS_URL is set). The window is fixed: it starts at the
first counted attempt and lasts settings.LOGIN_RATE_WINDOW_SECONDS; the person is told when it
ends.

What counts: failed password and code checks, and every request for a link or a code (each
one sends an e-mail or a paid SMS, whether or not the account exists, so that the answer is
the same either way). A successful login does not count: at a France Services desk many
people log in one after another from the same address.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from cybercantal.core.audit import audit_log

from .selectors import phone_to_e164

KEY_PREFIX = "accounts:login-rate"


@dataclass(frozen=True)
class RateLimitExceeded:
    """Why and until when attempts are refused."""

    scope: str  # "identifier" or "ip"
    retry_after_seconds: int


def normalize_identifier(identifier: str) -> str:
    """One counter per account whatever way the identifier is typed ("06 12 34 56 78",
    "+33612345678", "Jean@Example.org")."""
    value = (identifier or "").strip().lower()
    return phone_to_e164(value) or value


def _cache_key(scope: str, value: str) -> str:
    # Hashed: identifiers are personal data and cache keys must be short and ASCII.
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"{KEY_PREFIX}:{scope}:{digest}"


def _limits() -> dict[str, int]:
    limit = settings.LOGIN_RATE_LIMIT
    return {
        "identifier": limit,
        # A shared address (library, France Services, tiers-lieu) may warrant a higher limit.
        "ip": settings.LOGIN_RATE_LIMIT_PER_IP,
    }


def _keys(identifier: str | None, ip: str | None) -> dict[str, str]:
    keys = {}
    if identifier:
        normalized = normalize_identifier(identifier)
        if normalized:
            keys["identifier"] = _cache_key("identifier", normalized)
    if ip:
        keys["ip"] = _cache_key("ip", ip)
    return keys


def _state(key: str) -> tuple[int, float | None]:
    value = cache.get(key)
    if not value:
        return 0, None
    count, window_end = value
    if window_end <= time.time():
        return 0, None
    return int(count), float(window_end)


def rate_limit_check(*, identifier: str | None, ip: str | None) -> RateLimitExceeded | None:
    """Whether a new attempt is refused. Does not count anything."""
    limits = _limits()
    for scope, key in _keys(identifier, ip).items():
        count, window_end = _state(key)
        if window_end is not None and count >= limits[scope]:
            return RateLimitExceeded(
                scope=scope, retry_after_seconds=max(1, int(window_end - time.time()) + 1)
            )
    return None


def rate_limit_hit(
    *, identifier: str | None, ip: str | None, action: str, user=None
) -> RateLimitExceeded | None:
    """Count one attempt against the identifier and the address. Returns the lockout if this
    attempt reached the limit (and audits it once, when it starts).

    The read-then-write is not atomic; under a race a few extra attempts may slip through,
    which is acceptable for a limit of this kind and works on every cache backend."""
    limits = _limits()
    window = settings.LOGIN_RATE_WINDOW_SECONDS
    exceeded = None
    for scope, key in _keys(identifier, ip).items():
        count, window_end = _state(key)
        now = time.time()
        if window_end is None:
            window_end = now + window
        count += 1
        cache.set(key, (count, window_end), timeout=max(1, int(window_end - now) + 1))
        if count >= limits[scope]:
            exceeded = exceeded or RateLimitExceeded(
                scope=scope, retry_after_seconds=max(1, int(window_end - now) + 1)
            )
            if count == limits[scope]:
                audit_log(
                    actor=None,
                    action="accounts.login_locked",
                    target=user,
                    data={"scope": scope, "action": action, "seconds": int(window_end - now)},
                    ip_address=ip,
                )
    return exceeded


def rate_limit_reset(*, identifier: str) -> None:
    """Forget the identifier's failures after a successful login (the address keeps its
    count: it may be an attacker trying many accounts)."""
    for scope, key in _keys(identifier, None).items():
        if scope == "identifier":
            cache.delete(key)
