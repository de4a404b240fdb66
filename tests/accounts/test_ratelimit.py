"""Login attempts are limited per identifier and per client address."""

import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from cybercantal.accounts import ratelimit, services
from cybercantal.accounts.ratelimit import (
    normalize_identifier,
    rate_limit_hit,
    rate_limit_refund,
    rate_limit_reset,
)
from cybercantal.core.models import AuditLog
from tests.concurrency import run_concurrently

from .factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.LOGIN_RATE_LIMIT = 3
    settings.LOGIN_RATE_LIMIT_PER_IP = 3
    settings.LOGIN_RATE_WINDOW_SECONDS = 600


def attempt(client, identifier, password="mauvais", ip="192.0.2.1"):  # noqa: S107
    return client.post(
        LOGIN, {"mdp-identifier": identifier, "mdp-password": password}, REMOTE_ADDR=ip
    )


def test_too_many_wrong_passwords_for_one_account_gives_429_in_french(client):
    UserFactory(username="marie")
    for _ in range(3):
        assert attempt(client, "marie").status_code == 200
    response = attempt(client, "marie", DEFAULT_PASSWORD)  # even the right password
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    html = response.content.decode()
    assert "Trop de tentatives" in html
    assert "Réessayez dans 10 minutes" in html
    assert "_auth_user_id" not in client.session


def test_the_limit_per_account_holds_from_several_addresses(client):
    UserFactory(username="marie")
    for n in range(3):
        attempt(client, "marie", ip=f"192.0.2.{n + 10}")
    assert attempt(client, "MARIE", ip="198.51.100.7").status_code == 429


def test_the_limit_per_address_holds_across_accounts(client):
    for n in range(3):
        attempt(client, f"inconnu{n}")
    assert attempt(client, "autre-compte").status_code == 429
    # Another address is not affected.
    assert attempt(client, "autre-compte", ip="198.51.100.7").status_code == 200


def test_the_lockout_is_audited_once(client):
    user = UserFactory(username="marie")
    for _ in range(5):
        attempt(client, "marie")
    locks = AuditLog.objects.filter(action="accounts.login_locked")
    # One row per counter that reached the limit (the account's and the address's).
    assert sorted(row.data["scope"] for row in locks) == ["identifier", "ip"]
    assert {row.target_id for row in locks} == {str(user.pk)}
    assert all(row.ip_address == "192.0.2.1" for row in locks)


def test_a_successful_login_clears_the_account_counter(client):
    UserFactory(username="marie")
    attempt(client, "marie")
    attempt(client, "marie")
    assert attempt(client, "marie", DEFAULT_PASSWORD).status_code == 302
    client.logout()
    # Two failures were forgotten; with the address counter at 2, one more failure is allowed.
    assert attempt(client, "marie", ip="198.51.100.7").status_code == 200
    assert attempt(client, "marie", ip="198.51.100.7").status_code == 200


def test_link_requests_are_limited(client, mailoutbox):
    UserFactory(email="jean@example.org")
    url = reverse("accounts:login_link_request")
    for _ in range(3):
        assert client.post(url, {"lien-identifier": "jean@example.org"}).status_code == 200
    assert client.post(url, {"lien-identifier": "jean@example.org"}).status_code == 429


def test_code_requests_are_limited(client):
    UserFactory(phone="+33612345678")
    url = reverse("accounts:login_code_request")
    for _ in range(3):
        assert client.post(url, {"sms-identifier": "06 12 34 56 78"}).status_code == 302
    # Written differently, still the same number.
    assert client.post(url, {"sms-identifier": "+33612345678"}).status_code == 429


def test_code_checks_are_limited(client, settings):
    settings.ONE_TIME_CODE_MAX_ATTEMPTS = 10
    UserFactory(phone="+33612345678")
    client.post(
        reverse("accounts:login_code_request"),
        {"sms-identifier": "0612345678"},
        REMOTE_ADDR="198.51.100.7",
    )
    url = reverse("accounts:login_code_verify")
    for _ in range(2):  # the request above counted once
        assert client.post(url, {"code": "000000"}, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert client.post(url, {"code": "000000"}, REMOTE_ADDR="192.0.2.1").status_code == 429


def test_identifier_normalisation():
    assert normalize_identifier(" Jean@Example.org ") == "jean@example.org"
    assert normalize_identifier("06 12 34 56 78") == normalize_identifier("+33612345678")
    assert normalize_identifier("marie") == "marie"


# --- Counted before the check (H1) ----------------------------------------------------------------


def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_checked(client, monkeypatch):
    """Requests that arrive while earlier ones are still in the password hasher. Each request
    starts the next one from inside its own password check: the order a race takes. Counting
    after the check let every one of them through."""
    UserFactory(username="marie")
    burst = 8
    waiting = [Client() for _ in range(burst - 1)]
    statuses, checked = [], []
    real_check = services.password_login_check

    def check_while_the_next_request_arrives(**kwargs):
        checked.append(kwargs["identifier"])
        if waiting:
            statuses.append(attempt(waiting.pop(), "marie").status_code)
        return real_check(**kwargs)

    monkeypatch.setattr(services, "password_login_check", check_while_the_next_request_arrives)
    statuses.append(attempt(client, "marie").status_code)
    while waiting:  # those that arrived after the chain was cut short
        statuses.append(attempt(waiting.pop(), "marie").status_code)

    assert len(checked) == 3  # the limit
    assert sorted(statuses) == [200] * 3 + [429] * (burst - 3)


def test_attempts_counted_in_the_order_of_a_race():
    # Five requests all counted before any of them is processed: the last two are refused.
    outcomes = [
        rate_limit_hit(identifier="marie", ip="192.0.2.1", action="password") for _ in range(5)
    ]
    assert outcomes[:3] == [None, None, None]
    assert [outcome.scope for outcome in outcomes[3:]] == ["identifier", "identifier"]
    assert all(0 < outcome.retry_after_seconds <= 600 for outcome in outcomes[3:])


def test_threads_counting_at_once_let_at_most_the_limit_through(monkeypatch):
    """40 threads against the local-memory cache (its add and incr hold one lock): exactly
    `limit` attempts are let through."""
    monkeypatch.setattr(ratelimit, "audit_log", lambda **kwargs: None)  # no database here

    outcomes = run_concurrently(
        lambda i: rate_limit_hit(identifier="marie", ip=f"192.0.2.{i}", action="password"), 40
    )

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert sum(outcome is None for outcome in outcomes) == 3


def test_a_refused_attempt_does_not_count_against_the_other_counter(client):
    UserFactory(username="marie")
    for _ in range(3):
        attempt(client, "marie", ip=f"198.51.100.{_}")
    for _ in range(5):  # refused for the account: the address is not charged for them
        assert attempt(client, "marie").status_code == 429
    for n in range(3):
        assert attempt(client, f"autre{n}").status_code == 200


def test_successful_logins_from_one_address_are_not_limited(client):
    # A France Services desk: many people log in one after another from the same address.
    people = [UserFactory(username=f"usager{n}") for n in range(6)]
    for person in people:
        response = attempt(client, person.username, DEFAULT_PASSWORD)
        assert response.status_code == 302
        client.logout()


def test_the_window_ends_and_counting_starts_again(client, settings):
    settings.LOGIN_RATE_WINDOW_SECONDS = 1
    UserFactory(username="marie")
    for _ in range(3):
        attempt(client, "marie")
    assert attempt(client, "marie").status_code == 429
    time.sleep(1.2)
    assert attempt(client, "marie").status_code == 200


# --- One counter per account (M5) -----------------------------------------------------------------


def test_one_account_has_one_counter_whatever_identifier_is_typed(client):
    UserFactory(username="marie", email="marie@example.org", phone="+33612345678")
    assert attempt(client, "marie", ip="192.0.2.1").status_code == 200
    assert attempt(client, "Marie@Example.org", ip="192.0.2.2").status_code == 200
    assert attempt(client, "06 12 34 56 78", ip="192.0.2.3").status_code == 200
    assert attempt(client, "marie@example.org", ip="192.0.2.4").status_code == 429


def test_unknown_identifiers_keep_one_counter_each(client):
    for n in range(3):
        attempt(client, "inconnu@example.org", ip=f"192.0.2.{n}")
    assert attempt(client, "INCONNU@example.org", ip="192.0.2.9").status_code == 429
    # Another unknown identifier costs the same, from scratch.
    assert attempt(client, "autre@example.org", ip="192.0.2.9").status_code == 200


def test_the_account_counter_is_keyed_on_the_account_not_on_what_was_typed():
    user = UserFactory(username="marie", email="marie@example.org")
    for identifier in ("marie", "marie@example.org", "MARIE"):
        rate_limit_hit(identifier=identifier, ip=None, action="password", user=user)
    assert rate_limit_hit(identifier="x", ip=None, action="password", user=user) is not None
    # The typed identifier has no counter of its own when it designates an account.
    assert rate_limit_hit(identifier="marie", ip=None, action="password") is None


# --- The database cache (the default without REDIS_URL) -------------------------------------------


@pytest.fixture
def database_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "test_login_rate_cache",
        }
    }
    call_command("createcachetable", verbosity=0)  # rolled back with the test's transaction


def test_the_database_cache_counts_refunds_and_resets(database_cache):
    assert isinstance(ratelimit._counter(), ratelimit._DatabaseCounter)
    user = UserFactory(username="marie")
    outcomes = [
        rate_limit_hit(identifier="marie", ip=f"192.0.2.{n}", action="password", user=user)
        for n in range(4)
    ]
    assert outcomes[:3] == [None, None, None] and outcomes[3].scope == "identifier"
    assert AuditLog.objects.filter(action="accounts.login_locked").count() == 1
    rate_limit_reset(user=user)
    assert rate_limit_hit(identifier="marie", ip="192.0.2.9", action="password", user=user) is None

    # An address: three attempts, one of them a success given back, so one more passes.
    for n in range(3):
        rate_limit_hit(identifier=f"x{n}", ip="203.0.113.1", action="password")
    rate_limit_refund(identifier="x0", ip="203.0.113.1")
    assert rate_limit_hit(identifier="y", ip="203.0.113.1", action="password") is None
    assert rate_limit_hit(identifier="z", ip="203.0.113.1", action="password").scope == "ip"


def test_the_database_cache_window_ends(database_cache, settings):
    settings.LOGIN_RATE_WINDOW_SECONDS = 1
    for _ in range(3):
        rate_limit_hit(identifier="marie", ip=None, action="password")
    assert rate_limit_hit(identifier="marie", ip=None, action="password") is not None
    time.sleep(1.2)
    assert rate_limit_hit(identifier="marie", ip=None, action="password") is None


def test_login_through_the_database_cache(client, database_cache):
    UserFactory(username="marie")
    for _ in range(3):
        assert attempt(client, "marie").status_code == 200
    assert attempt(client, "marie", DEFAULT_PASSWORD).status_code == 429
