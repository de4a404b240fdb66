"""TOTP two-factor authentication: setup, verification at login, backup codes, the
obligation for platform administrators."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.accounts.models import ApiToken, Role
from cybercantal.core.models import AuditLog

from .factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    UserFactory,
    force_login_verified,
    totp_code,
    totp_device,
)

pytestmark = pytest.mark.django_db

SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")
PROFILE = reverse("accounts:profile")


def admin_user(**kwargs):
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, role=Role.PLATFORM_ADMIN)
    return user


def mediator_user(**kwargs):
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, role=Role.MEDIATOR)
    return user


def password_login(client, username):
    return client.post(
        reverse("accounts:login"), {"mdp-identifier": username, "mdp-password": DEFAULT_PASSWORD}
    )


# --- The obligation for platform administrators ------------------------------------------------


def test_admin_without_device_is_sent_to_setup_with_a_safe_next(client):
    client.force_login(admin_user())
    response = client.get("/compte/coordonnees/?a=1&b=2")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == SETUP
    # The whole path, query string included, survives as one `next` parameter.
    assert parse_qs(location.query) == {"next": ["/compte/coordonnees/?a=1&b=2"]}


def test_admin_with_device_is_sent_to_verify(client):
    admin = admin_user()
    totp_device(admin)
    client.force_login(admin)
    response = client.get(PROFILE)
    assert urlsplit(response["Location"]).path == VERIFY


def test_admin_can_reach_setup_and_logout_but_nothing_else(client):
    client.force_login(admin_user())
    assert client.get(SETUP).status_code == 200
    assert client.get(reverse("accounts:logout")).status_code == 200
    assert client.get("/").status_code == 302


def test_admin_session_api_call_gets_a_json_403(client):
    client.force_login(admin_user())
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 403
    assert "Double authentification" in response.json()["detail"]


def test_verified_admin_reaches_pages(client):
    force_login_verified(client, admin_user())
    assert client.get(PROFILE).status_code == 200


def test_other_roles_are_not_forced(client):
    client.force_login(mediator_user())
    assert client.get(PROFILE).status_code == 200


def test_admin_full_path_from_password_to_setup_to_pages(client):
    admin = admin_user(username="admin")
    response = password_login(client, "admin")
    # Logged in, but every page leads to the setup until a device is confirmed.
    assert client.get(response["Location"])["Location"].startswith(SETUP)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    response = client.post(SETUP, {"token": totp_code(device)})
    assert response.status_code == 200
    assert "codes de secours" in response.content.decode()
    assert client.get(PROFILE).status_code == 200


# --- Setup ------------------------------------------------------------------------------------


def test_resident_gets_403_on_setup(client):
    client.force_login(UserFactory())
    assert client.get(SETUP).status_code == 403
    assert client.post(SETUP, {"token": "123456"}).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_setup_page_shows_qr_code_and_secret(client):
    user = mediator_user()
    client.force_login(user)
    response = client.get(SETUP)
    html = response.content.decode()
    assert "<svg" in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    assert secret[:4] + " " + secret[4:8] in html
    assert 'inputmode="numeric"' in html
    assert "no-store" in response["Cache-Control"]
    # Reloading shows the same device, not a new one.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_setup_confirms_with_a_first_code_and_gives_ten_backup_codes(client):
    user = mediator_user()
    client.force_login(user)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(SETUP, {"token": totp_code(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert AuditLog.objects.filter(action="accounts.two_factor_enabled", actor_id=user.pk).exists()


def test_setup_refuses_a_wrong_code(client):
    user = mediator_user()
    client.force_login(user)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    response = client.post(SETUP, {"token": wrong})
    assert response.status_code == 200
    assert "Ce code n&#x27;est pas le bon" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert AuditLog.objects.filter(action="accounts.two_factor_failed").exists()


def test_unverified_session_cannot_replace_an_existing_device(client):
    user = mediator_user()
    totp_device(user)
    client.force_login(user)  # e.g. a stolen session from before two-factor was enabled
    response = client.get(SETUP)
    assert urlsplit(response["Location"]).path == VERIFY


# --- Verification at login -----------------------------------------------------------------------


def test_password_login_with_device_waits_for_the_code(client):
    user = mediator_user(username="med")
    device = totp_device(user)
    response = password_login(client, "med")
    assert response["Location"] == VERIFY
    # Not signed in yet: the first factor alone opens nothing.
    assert SESSION_KEY not in client.session
    assert client.get(PROFILE).status_code == 302
    response = client.post(VERIFY, {"token": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert int(client.session[SESSION_KEY]) == user.pk
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_sms_login_with_device_waits_for_the_code_too(client, send_now, sms_outbox):
    user = mediator_user(phone="+33612345678")
    device = totp_device(user)
    with send_now():
        client.post(reverse("accounts:login_code_request"), {"sms-identifier": "0612345678"})
    code = re.search(r"\b(\d{6})\b", sms_outbox[0].text).group(1)
    response = client.post(reverse("accounts:login_code_verify"), {"code": code})
    assert response["Location"] == VERIFY
    assert SESSION_KEY not in client.session
    client.post(VERIFY, {"token": totp_code(device)})
    assert int(client.session[SESSION_KEY]) == user.pk


def test_wrong_totp_is_refused_and_audited(client):
    user = mediator_user(username="med")
    device = totp_device(user)
    password_login(client, "med")
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    response = client.post(VERIFY, {"token": wrong})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert AuditLog.objects.filter(
        action="accounts.two_factor_failed", target_id=str(user.pk)
    ).exists()


def test_backup_code_is_accepted_once(client):
    user = mediator_user(username="med")
    totp_device(user)
    backup = StaticDevice.objects.create(user=user, name="Secours", confirmed=True)
    backup.token_set.create(token="abcdefgh")
    backup.token_set.create(token="ijklmnop")
    password_login(client, "med")
    response = client.post(VERIFY, {"token": "ABCD EFGH"})
    assert response.status_code == 302
    assert int(client.session[SESSION_KEY]) == user.pk
    assert list(backup.token_set.values_list("token", flat=True)) == ["ijklmnop"]
    client.post(reverse("accounts:logout"))
    password_login(client, "med")
    client.post(VERIFY, {"token": "abcdefgh"})
    assert SESSION_KEY not in client.session


def test_verify_without_a_pending_login_goes_back_to_login(client):
    response = client.get(VERIFY)
    assert response["Location"] == reverse("accounts:login")


def test_two_factor_checks_are_rate_limited(client, settings):
    settings.LOGIN_RATE_LIMIT = 2
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the limit under test is ours, not django-otp's
    user = mediator_user(username="med")
    device = totp_device(user)
    client.post(
        reverse("accounts:login"),
        {"mdp-identifier": "med", "mdp-password": DEFAULT_PASSWORD},
        REMOTE_ADDR="198.51.100.9",
    )
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    client.post(VERIFY, {"token": wrong})
    client.post(VERIFY, {"token": wrong})
    assert client.post(VERIFY, {"token": totp_code(device)}).status_code == 429


# --- Disabling, backup codes ----------------------------------------------------------------------


def test_mediator_can_disable_two_factor(client):
    user = mediator_user()
    force_login_verified(client, user)
    response = client.post(reverse("accounts:two_factor_disable"))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditLog.objects.filter(action="accounts.two_factor_disabled").exists()


def test_admin_cannot_disable_two_factor(client):
    admin = admin_user()
    force_login_verified(client, admin)
    assert client.post(reverse("accounts:two_factor_disable")).status_code == 403
    assert TOTPDevice.objects.filter(user=admin).exists()


def test_regenerating_backup_codes_replaces_the_old_ones(client):
    user = mediator_user()
    force_login_verified(client, user)
    old = StaticDevice.objects.create(user=user, name="Secours", confirmed=True)
    old.token_set.create(token="ancien00")
    response = client.post(reverse("accounts:two_factor_backup_codes"))
    assert response.status_code == 200
    assert not StaticToken.objects.filter(token="ancien00").exists()
    assert StaticToken.objects.filter(device__user=user).count() == 10


# --- Audit: the login is recorded when it completes -----------------------------------------------


def test_the_login_is_audited_after_the_second_factor_only(client):
    user = mediator_user(username="med")
    device = totp_device(user)
    password_login(client, "med")
    assert not AuditLog.objects.filter(action="accounts.login").exists()
    first = AuditLog.objects.get(action="accounts.login_first_factor")
    assert (first.actor_id, first.data) == (user.pk, {"method": "password"})
    client.post(VERIFY, {"token": totp_code(device)})
    row = AuditLog.objects.get(action="accounts.login")
    assert row.data == {"method": "password", "second_factor": "TOTPDevice"}


# --- Enabling two-factor ends the other sessions (M3 a) -------------------------------------------


def test_enabling_two_factor_ends_the_person_s_other_sessions(client):
    user = mediator_user()
    other_browser, someone_else = Client(), Client()
    other_browser.force_login(user)
    someone_else.force_login(mediator_user())
    client.force_login(user)
    key_before = client.session.session_key
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)

    response = client.post(SETUP, {"token": totp_code(device)})

    assert response.status_code == 200
    # This session stays, verified, under a new key; the other one of the person has ended.
    assert client.session.session_key != key_before
    assert client.get(PROFILE).status_code == 200
    assert other_browser.get(PROFILE).status_code == 302
    assert SESSION_KEY not in other_browser.session
    # Other people's sessions are untouched.
    assert someone_else.get(PROFILE).status_code == 200
    row = AuditLog.objects.get(action="accounts.two_factor_enabled")
    assert row.data == {"sessions_ended": 1}


def test_a_wrong_code_at_setup_ends_no_session(client):
    user = mediator_user()
    other_browser = Client()
    other_browser.force_login(user)
    client.force_login(user)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    client.post(SETUP, {"token": "000000" if totp_code(device) != "000000" else "111111"})
    assert other_browser.get(PROFILE).status_code == 200


# --- Sensitive changes need a verified session (M3 b) ---------------------------------------------


@pytest.mark.parametrize("name", ["password_change", "api_tokens", "contact_edit"])
def test_an_unverified_session_is_sent_to_the_second_factor_before_sensitive_pages(client, name):
    user = mediator_user()
    totp_device(user)
    client.force_login(user)  # a session that has not passed the second factor
    url = reverse(f"accounts:{name}")
    response = client.get(url)
    assert urlsplit(response["Location"]).path == VERIFY
    assert parse_qs(urlsplit(response["Location"]).query) == {"next": [url]}


def test_an_unverified_session_cannot_change_the_password_or_create_a_token(client):
    user = mediator_user()
    totp_device(user)
    client.force_login(user)
    new = "un-Nouveau-mot-2-passe"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert urlsplit(response["Location"]).path == VERIFY
    response = client.post(reverse("accounts:api_tokens"), {"name": "Tableur"})
    assert urlsplit(response["Location"]).path == VERIFY
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert not ApiToken.objects.exists()


def test_a_verified_session_changes_the_password_and_creates_a_token(client):
    user = mediator_user()
    force_login_verified(client, user)
    new = "un-Nouveau-mot-2-passe"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert client.post(reverse("accounts:api_tokens"), {"name": "Tableur"}).status_code == 200
    user.refresh_from_db()
    assert user.check_password(new)
    assert ApiToken.objects.filter(user=user).count() == 1


def test_people_without_two_factor_reach_the_sensitive_pages(client):
    client.force_login(mediator_user())
    for name in ("password_change", "api_tokens", "contact_edit"):
        assert client.get(reverse(f"accounts:{name}")).status_code == 200
