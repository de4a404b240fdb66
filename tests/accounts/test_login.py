"""Login by password, by link sent by e-mail and by code sent by SMS."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from cybercantal.accounts import services
from cybercantal.accounts.models import OneTimeLogin
from cybercantal.core.models import AuditLog

from .factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
PROFILE = reverse("accounts:profile")


def logged_in_user_id(client):
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def password_login(client, identifier, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"mdp-identifier": identifier, "mdp-password": password, **extra})


# --- Page ---------------------------------------------------------------------------------


def test_login_page_offers_the_three_ways_with_labelled_fields(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    sms, link, password = (
        html.index("Recevoir un code par SMS"),
        html.index("Recevoir un lien par courriel"),
        html.index("Avec mon mot de passe"),
    )
    assert sms < link < password  # no password needed for the first two
    for field_id in ("id_sms-identifier", "id_lien-identifier", "id_mdp-identifier"):
        assert f'for="{field_id}"' in html
    assert 'autocomplete="current-password"' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="tel"' in html


# --- Password -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier", ["marie.dupont", "MARIE.Dupont", "Marie@Example.ORG", "06 12 34 56 78"]
)
def test_password_login_by_username_email_or_phone(client, identifier):
    user = UserFactory(username="marie.dupont", email="marie@example.org", phone="+33612345678")
    response = password_login(client, identifier)
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert logged_in_user_id(client) == user.pk
    assert AuditLog.objects.filter(action="accounts.login", actor_id=user.pk).exists()


def test_wrong_password_is_refused_with_the_same_message_as_an_unknown_account(client):
    UserFactory(username="marie")
    wrong = password_login(client, "marie", "pas-le-bon")
    unknown = password_login(client, "personne-inconnue", "pas-le-bon")
    assert wrong.status_code == unknown.status_code == 200
    assert logged_in_user_id(client) is None
    message = "Identifiant ou mot de passe incorrect."
    assert message in wrong.content.decode()
    assert message in unknown.content.decode()
    assert AuditLog.objects.filter(action="accounts.login_failed").count() == 1


def test_inactive_or_erased_account_cannot_log_in(client):
    UserFactory(username="parti", is_active=False)
    assert password_login(client, "parti").status_code == 200
    assert logged_in_user_id(client) is None


def test_account_without_password_cannot_log_in_with_a_password(client):
    UserFactory(username="sans-mdp", password=False)
    password_login(client, "sans-mdp", "")
    assert logged_in_user_id(client) is None


def test_login_follows_a_safe_next_only(client):
    UserFactory(username="marie")
    response = password_login(client, "marie", next="/compte/coordonnees/")
    assert response["Location"] == "/compte/coordonnees/"
    client.logout()
    response = password_login(client, "marie", next="https://evil.example/")
    assert response["Location"] == PROFILE


def test_logout_needs_a_post(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 200
    assert logged_in_user_id(client) == user.pk
    client.post(reverse("accounts:logout"))
    assert logged_in_user_id(client) is None


# --- Link by e-mail ---------------------------------------------------------------------------


def request_link(client, send_now, identifier):
    with send_now():
        return client.post(reverse("accounts:login_link_request"), {"lien-identifier": identifier})


def link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_login_link_happy_path(client, send_now, mailoutbox):
    user = UserFactory(email="jean@example.org")
    response = request_link(client, send_now, "JEAN@example.org")
    assert response.status_code == 200
    assert "Si cette adresse correspond à un compte" in response.content.decode()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["jean@example.org"]
    path = link_path(mailoutbox[0])

    # Opening the link (as mail scanners do) does not use it up.
    assert client.get(path).status_code == 200
    assert logged_in_user_id(client) is None
    response = client.post(path)
    assert response.status_code == 302
    assert logged_in_user_id(client) == user.pk


def test_only_a_hash_of_the_link_is_stored(client, send_now, mailoutbox):
    UserFactory(email="jean@example.org")
    request_link(client, send_now, "jean@example.org")
    secret = link_path(mailoutbox[0]).rstrip("/").rsplit("/", 1)[1]
    login = OneTimeLogin.objects.get()
    assert secret not in login.secret_hash
    assert login.expires_at - login.created_at <= timedelta(minutes=15, seconds=5)


def test_login_link_works_once(client, send_now, mailoutbox):
    UserFactory(email="jean@example.org")
    request_link(client, send_now, "jean@example.org")
    path = link_path(mailoutbox[0])
    client.post(path)
    client.logout()
    response = client.post(path)
    assert response.status_code == 400
    assert "déjà servi" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_expired_login_link_is_refused(client, send_now, mailoutbox):
    UserFactory(email="jean@example.org")
    request_link(client, send_now, "jean@example.org")
    OneTimeLogin.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(link_path(mailoutbox[0]))
    assert response.status_code == 400
    assert "expiré" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_tampered_login_link_is_refused(client, send_now, mailoutbox):
    UserFactory(email="jean@example.org")
    request_link(client, send_now, "jean@example.org")
    path = link_path(mailoutbox[0])
    response = client.post(path[:-5] + "AAAA/")
    assert response.status_code == 400
    assert logged_in_user_id(client) is None


def test_link_request_for_unknown_address_answers_the_same_and_sends_nothing(
    client, send_now, mailoutbox
):
    UserFactory(email="jean@example.org")
    known = request_link(client, send_now, "jean@example.org")
    unknown = request_link(client, send_now, "inconnu@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert len(mailoutbox) == 1


def test_link_for_an_account_deactivated_since_is_refused(client, send_now, mailoutbox):
    user = UserFactory(email="jean@example.org")
    request_link(client, send_now, "jean@example.org")
    user.is_active = False
    user.save()
    assert client.post(link_path(mailoutbox[0])).status_code == 400
    assert logged_in_user_id(client) is None


# --- Code by SMS ---------------------------------------------------------------------------------


def request_code(client, send_now, identifier):
    with send_now():
        return client.post(reverse("accounts:login_code_request"), {"sms-identifier": identifier})


def sms_code(message) -> str:
    return re.search(r"\b(\d{6})\b", message.text).group(1)


def test_sms_code_happy_path(client, send_now, sms_outbox):
    user = UserFactory(phone="+33612345678", email="")
    response = request_code(client, send_now, "06 12 34 56 78")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login_code_verify")
    assert [m.to for m in sms_outbox] == ["+33612345678"]
    page = client.get(response["Location"])
    assert 'inputmode="numeric"' in page.content.decode()
    assert 'autocomplete="one-time-code"' in page.content.decode()

    response = client.post(reverse("accounts:login_code_verify"), {"code": sms_code(sms_outbox[0])})
    assert response.status_code == 302
    assert logged_in_user_id(client) == user.pk
    assert OneTimeLogin.objects.get().used_at is not None


def test_sms_code_is_stored_hashed_and_expires_after_the_configured_minutes(
    client, send_now, sms_outbox
):
    UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    login = OneTimeLogin.objects.get()
    assert sms_code(sms_outbox[0]) not in login.secret_hash
    assert login.expires_at - login.created_at <= timedelta(minutes=10, seconds=5)


def test_sms_code_works_once(client, send_now, sms_outbox):
    user = UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    code = sms_code(sms_outbox[0])
    assert services.one_time_code_verify(identifier="0612345678", code=code).user == user
    again = services.one_time_code_verify(identifier="0612345678", code=code)
    assert not again.ok


def test_expired_sms_code_is_refused(client, send_now, sms_outbox):
    UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    OneTimeLogin.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(reverse("accounts:login_code_verify"), {"code": sms_code(sms_outbox[0])})
    assert response.status_code == 200
    assert "Ce code ne convient pas" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_code_is_locked_after_too_many_wrong_tries(client, send_now, sms_outbox, settings):
    UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    good = sms_code(sms_outbox[0])
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(settings.ONE_TIME_CODE_MAX_ATTEMPTS):
        assert not services.one_time_code_verify(identifier="0612345678", code=wrong).ok
    # Even the right code no longer works: a new one must be asked for.
    assert not services.one_time_code_verify(identifier="0612345678", code=good).ok
    assert OneTimeLogin.objects.get().failed_attempts == settings.ONE_TIME_CODE_MAX_ATTEMPTS
    assert AuditLog.objects.filter(action="accounts.login_code_failed").count() == 5


def test_after_too_many_wrong_codes_the_page_asks_for_a_new_code(
    client, send_now, sms_outbox, settings
):
    settings.LOGIN_RATE_LIMIT = 100  # the code's own limit is under test here
    UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    good = sms_code(sms_outbox[0])
    wrong = "000000" if good != "000000" else "111111"
    url = reverse("accounts:login_code_verify")
    for _ in range(settings.ONE_TIME_CODE_MAX_ATTEMPTS):
        response = client.post(url, {"code": wrong})
    assert "demandez un nouveau code" in response.content.decode()
    client.post(url, {"code": good})
    assert logged_in_user_id(client) is None


def test_code_of_another_user_is_refused(client, send_now, sms_outbox):
    UserFactory(phone="+33612345678")
    UserFactory(phone="+33698765432")
    request_code(client, send_now, "0612345678")
    code_for_first = sms_code(sms_outbox[0])
    assert not services.one_time_code_verify(identifier="0698765432", code=code_for_first).ok
    # The first person's code still works for them.
    assert services.one_time_code_verify(identifier="0612345678", code=code_for_first).ok


def test_an_earlier_code_still_works_after_asking_for_another(client, send_now, sms_outbox):
    # SMS may arrive late: a person who asked twice can type either code.
    user = UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    request_code(client, send_now, "0612345678")
    first = sms_code(sms_outbox[0])
    assert services.one_time_code_verify(identifier="0612345678", code=first).user == user


def test_code_request_for_unknown_number_answers_the_same_and_sends_nothing(
    client, send_now, sms_outbox
):
    UserFactory(phone="+33612345678")
    known = request_code(client, send_now, "0612345678")
    unknown = request_code(client, send_now, "0698765432")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(sms_outbox) == 1
    # The code page behaves the same too.
    response = client.post(reverse("accounts:login_code_verify"), {"code": "123456"})
    assert "Ce code ne convient pas" in response.content.decode()


def test_code_page_without_a_request_goes_back_to_login(client):
    response = client.get(reverse("accounts:login_code_verify"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN


def test_malformed_code_is_refused_by_the_form(client, send_now, sms_outbox):
    UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    response = client.post(reverse("accounts:login_code_verify"), {"code": "12ab"})
    html = response.content.decode()
    assert "exactement 6 chiffres" in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_code_helptext id_code_error"' in html


def test_one_time_login_uses_the_one_time_backend(client, send_now, sms_outbox):
    UserFactory(phone="+33612345678")
    request_code(client, send_now, "0612345678")
    client.post(reverse("accounts:login_code_verify"), {"code": sms_code(sms_outbox[0])})
    assert client.session["_auth_user_backend"] == services.ONE_TIME_LOGIN_BACKEND


def test_expired_one_time_logins_are_purged_after_the_retention_period():
    from cybercantal.accounts.tasks import one_time_logins_purge_task

    user = UserFactory()
    now = timezone.now()
    old = OneTimeLogin.objects.create(
        user=user, channel="sms_code", secret_hash="x", expires_at=now - timedelta(days=31)
    )
    recent = OneTimeLogin.objects.create(
        user=user, channel="sms_code", secret_hash="y", expires_at=now - timedelta(days=1)
    )
    result = one_time_logins_purge_task.enqueue()
    assert result.return_value == 1
    assert not OneTimeLogin.objects.filter(pk=old.pk).exists()
    assert OneTimeLogin.objects.filter(pk=recent.pk).exists()


# --- A username cannot shadow someone's phone or e-mail (H2) --------------------------------------


def test_a_phone_like_username_does_not_shadow_the_phone_s_owner(client, send_now, sms_outbox):
    # An account named before the rule, after a sign-up with first name "-" and last name
    # "0639980001"; the number belongs to someone else.
    UserFactory(username="0639980001", email="", phone="")
    owner = UserFactory(phone="+33639980001", email="")
    assert password_login(client, "06 39 98 00 01").status_code == 302
    assert logged_in_user_id(client) == owner.pk
    client.logout()
    request_code(client, send_now, "0639980001")
    assert [m.to for m in sms_outbox] == ["+33639980001"]
    code = sms_code(sms_outbox[0])
    assert services.one_time_code_verify(identifier="0639980001", code=code).user == owner


def test_an_email_like_username_does_not_shadow_the_address_s_owner(client, send_now, mailoutbox):
    UserFactory(username="jean@example.org", email="")
    owner = UserFactory(email="Jean@Example.org")
    assert password_login(client, "jean@example.org").status_code == 302
    assert logged_in_user_id(client) == owner.pk
    client.logout()
    request_link(client, send_now, "jean@example.org")
    assert mailoutbox[0].to == ["Jean@Example.org"]


def test_a_username_still_logs_in_when_no_contact_matches():
    legacy = UserFactory(username="0639980002", email="", phone="")
    assert services.password_login_check(identifier="0639980002", password=DEFAULT_PASSWORD) == (
        legacy
    )


# --- Audit of logins ------------------------------------------------------------------------------


def test_a_wrong_password_is_audited_with_the_address_given():
    user = UserFactory(username="marie")
    assert (
        services.password_login_check(identifier="marie", password="faux", ip_address="192.0.2.7")
        is None
    )
    row = AuditLog.objects.get(action="accounts.login_failed")
    assert (row.target_id, row.ip_address) == (str(user.pk), "192.0.2.7")


@pytest.mark.parametrize("method", ["password", "sms_code", "email_link"])
def test_each_login_is_audited_once_when_it_completes(
    client, send_now, sms_outbox, mailoutbox, method
):
    user = UserFactory(username="marie", email="marie@example.org", phone="+33612345678")
    if method == "password":
        client.post(
            LOGIN,
            {"mdp-identifier": "marie", "mdp-password": DEFAULT_PASSWORD},
            REMOTE_ADDR="192.0.2.5",
        )
    elif method == "sms_code":
        request_code(client, send_now, "0612345678")
        client.post(
            reverse("accounts:login_code_verify"),
            {"code": sms_code(sms_outbox[0])},
            REMOTE_ADDR="192.0.2.5",
        )
    else:
        request_link(client, send_now, "marie@example.org")
        client.post(link_path(mailoutbox[0]), REMOTE_ADDR="192.0.2.5")
    assert logged_in_user_id(client) == user.pk
    row = AuditLog.objects.get(action="accounts.login")
    assert row.data == {"method": method, "second_factor": ""}
    assert row.ip_address == "192.0.2.5"
    assert not AuditLog.objects.filter(action="accounts.login_first_factor").exists()
