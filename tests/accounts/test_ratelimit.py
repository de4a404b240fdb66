"""Login attempts are limited per identifier and per client address."""

import pytest
from django.urls import reverse

from cybercantal.accounts.ratelimit import normalize_identifier
from cybercantal.core.models import AuditLog

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
