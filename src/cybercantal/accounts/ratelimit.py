"""Rate limiting of login attempts, per account and per client address.

Counters live in Django's cache so that every web process shares them (the database cache by
default, Redis when REDIS_URL is set). The window is fixed: it starts at the first counted
attempt and lasts settings.LOGIN_RATE_WINDOW_SECONDS; the person is told when it ends.

An attempt is counted *before* it is processed, and refused when the new count is over the
limit. Each attempt takes its number from one atomic increment, so of many simultaneous
requests at most `limit` get through; checking first and counting after the password hasher
let every request that arrived during the first one's check through.

What counts: every password, code and second-factor check, and every request for a link or a
code (each one sends an e-mail or a paid SMS, whether or not the account exists, so that the
answer is the same either way). A check that succeeds is given back (rate_limit_refund) and a
completed login clears the account's counter (rate_limit_reset): at a France Services desk
many people log in one after another from the same address.

Which counter: when the identifier designates an account, the account's, keyed on its id, so
that its username, e-mail and phone share one counter; otherwise one per identifier as typed
(normalised), so that trying an unknown identifier costs the same as trying a known one.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction

from cybercantal.core.audit import audit_log

from .selectors import phone_to_e164

KEY_PREFIX = "accounts:login-rate"


@dataclass(frozen=True)
class RateLimitExceeded:
    """Why and until when attempts are refused."""

    scope: str  # "identifier" (an account or a typed identifier) or "ip"
    retry_after_seconds: int


def normalize_identifier(identifier: str) -> str:
    """One counter per identifier whatever way it is typed ("06 12 34 56 78",
    "+33612345678", "Jean@Example.org")."""
    value = (identifier or "").strip().lower()
    return phone_to_e164(value) or value


def _cache_key(scope: str, value: str) -> str:
    # Hashed: identifiers are personal data and cache keys must be short and ASCII.
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"{KEY_PREFIX}:{scope}:{digest}"


def _limits() -> dict[str, int]:
    return {
        "identifier": settings.LOGIN_RATE_LIMIT,
        # A shared address (library, France Services, tiers-lieu) may warrant a higher limit.
        "ip": settings.LOGIN_RATE_LIMIT_PER_IP,
    }


def _keys(*, identifier: str | None, ip: str | None, user=None) -> dict[str, str]:
    keys = {}
    if user is not None and user.pk is not None:
        keys["identifier"] = _cache_key("account", str(user.pk))
    elif identifier and (normalized := normalize_identifier(identifier)):
        keys["identifier"] = _cache_key("identifier", normalized)
    if ip:
        keys["ip"] = _cache_key("ip", ip)
    return keys


def _seconds_left(window_end: float, now: float) -> int:
    return max(1, math.ceil(window_end - now))


# --- Counters ---------------------------------------------------------------------------------


class _IncrCounter:
    """For caches whose add and incr are atomic: Redis (SET NX, INCR), Memcached, and the
    local-memory cache (one lock). The window's end is its own key, created once by `add`; the
    count lives under a key named after that end, so that a new window starts a new count even
    where incr resets the expiry."""

    def hit(self, key: str, window: int) -> tuple[int, float]:
        for _attempt in range(3):
            now = time.time()
            cache.add(f"{key}:end", now + window, timeout=window)
            window_end = cache.get(f"{key}:end")
            if window_end is None:  # expired between the two calls
                continue
            count_key = f"{key}:{window_end:.6f}"
            cache.add(count_key, 0, timeout=_seconds_left(window_end, now) + 1)
            try:
                return cache.incr(count_key), window_end
            except ValueError:  # expired between add and incr
                continue
        # Never seen in practice; if the cache keeps losing the key, refuse rather than allow.
        return math.inf, time.time() + 1

    def refund(self, key: str) -> None:
        window_end = cache.get(f"{key}:end")
        if window_end is None:
            return
        count_key = f"{key}:{window_end:.6f}"
        try:
            if cache.decr(count_key) < 0:  # the window was reset meanwhile
                cache.incr(count_key)
        except ValueError:
            pass

    def reset(self, key: str) -> None:
        window_end = cache.get(f"{key}:end")
        keys = [f"{key}:end"]
        if window_end is not None:
            keys.append(f"{key}:{window_end:.6f}")
        cache.delete_many(keys)


class _DatabaseCounter:
    """For Django's database cache, whose incr is a read then a write: the (count, window end)
    pair is read and written in one transaction that holds the row's lock (SELECT … FOR
    UPDATE on PostgreSQL; on SQLite every write transaction starts with BEGIN IMMEDIATE, see
    settings). The row is created with `add`, which the primary key arbitrates; a loser
    counts again on the winner's row."""

    def __init__(self, backend: DatabaseCache):
        self.backend = backend
        self.db = router.db_for_write(backend.cache_model_class)

    def _lock(self, key: str) -> bool:
        """Lock the row of `key` until the end of the transaction; whether it exists."""
        connection = connections[self.db]
        table = connection.ops.quote_name(self.backend._table)
        column = connection.ops.quote_name("cache_key")
        sql = f"SELECT {column} FROM {table} WHERE {column} = %s"  # noqa: S608 - names quoted
        if connection.features.has_select_for_update:
            sql += " FOR UPDATE"
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.backend.make_and_validate_key(key)])
            return cursor.fetchone() is not None

    def hit(self, key: str, window: int) -> tuple[int, float]:
        for _attempt in range(3):
            with transaction.atomic(using=self.db):
                locked = self._lock(key)
                now = time.time()
                value = self.backend.get(key)
                if value is None or value[1] <= now:
                    window_end = now + window
                    if locked:
                        self.backend.set(key, (1, window_end), timeout=window + 1)
                    elif not self.backend.add(key, (1, window_end), timeout=window + 1):
                        continue  # created by a concurrent attempt: count on its row
                    return 1, window_end
                if not locked:
                    continue  # the row appeared after the lock was asked: lock it and count
                count, window_end = value[0] + 1, value[1]
                self.backend.set(
                    key, (count, window_end), timeout=_seconds_left(window_end, now) + 1
                )
                return count, window_end
        return math.inf, time.time() + 1

    def refund(self, key: str) -> None:
        with transaction.atomic(using=self.db):
            if not self._lock(key):
                return
            now = time.time()
            value = self.backend.get(key)
            if value is not None and value[1] > now and value[0] > 0:
                self.backend.set(
                    key, (value[0] - 1, value[1]), timeout=_seconds_left(value[1], now) + 1
                )

    def reset(self, key: str) -> None:
        self.backend.delete(key)


def _counter() -> _IncrCounter | _DatabaseCounter:
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, DatabaseCache):
        return _DatabaseCounter(backend)
    return _IncrCounter()


# --- Public API ---------------------------------------------------------------------------------


def rate_limit_hit(
    *, identifier: str | None, ip: str | None, action: str, user=None
) -> RateLimitExceeded | None:
    """Count one attempt against the account (`user`, when the identifier designates one) or
    the typed identifier, and against the address, *before* the attempt is processed. Returns
    the refusal when a counter went over its limit: the caller must then stop and answer 429.
    The first refused attempt of a window is audited. A refused attempt is given back to the
    counters that were still under their limit: it was not processed."""
    limits = _limits()
    window = settings.LOGIN_RATE_WINDOW_SECONDS
    counter = _counter()
    keys = _keys(identifier=identifier, ip=ip, user=user)
    counts = {scope: counter.hit(key, window) for scope, key in keys.items()}
    now = time.time()
    exceeded = None
    for scope, (count, window_end) in counts.items():
        if count <= limits[scope]:
            continue
        exceeded = exceeded or RateLimitExceeded(
            scope=scope, retry_after_seconds=_seconds_left(window_end, now)
        )
        if count == limits[scope] + 1:
            audit_log(
                actor=None,
                action="accounts.login_locked",
                target=user,
                data={"scope": scope, "action": action, "seconds": int(window_end - now)},
                ip_address=ip,
            )
    if exceeded is not None:
        for scope, (count, _window_end) in counts.items():
            if count <= limits[scope]:
                counter.refund(keys[scope])
    return exceeded


def rate_limit_refund(*, identifier: str | None, ip: str | None, user=None) -> None:
    """Give back an attempt that succeeded (the right password, code or second factor), with
    the same `identifier`, `ip` and `user` as rate_limit_hit: a success does not count."""
    counter = _counter()
    for key in _keys(identifier=identifier, ip=ip, user=user).values():
        counter.refund(key)


def rate_limit_reset(*, user) -> None:
    """Forget the account's failures once a login is complete (the address keeps its count:
    it may be an attacker trying many accounts)."""
    _counter().reset(_keys(identifier=None, ip=None, user=user)["identifier"])
