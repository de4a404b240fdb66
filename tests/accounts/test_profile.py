"""The account page: identity, roles, contact details, password, API tokens."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.urls import reverse

from cybercantal.accounts import services
from cybercantal.accounts.models import ApiToken, Role
from cybercantal.core.models import AuditLog

from .factories import (
    DEFAULT_PASSWORD,
    CommuneFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")
CONTACT = reverse("accounts:contact_edit")
VERIFY = reverse("accounts:contact_verify")


@pytest.mark.parametrize(
    "name",
    [
        "profile",
        "contact_edit",
        "password_change",
        "api_tokens",
        "personal_data",
        "personal_data_download",
        "erasure_request",
        "two_factor_setup",
    ],
)
def test_account_pages_require_login(client, name):
    url = reverse(f"accounts:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_profile_shows_identity_roles_and_organisations(client):
    user = UserFactory(first_name="Marie", last_name="Dupont")
    MembershipFactory(
        user=user,
        role=Role.MEDIATOR,
        organisation=OrganisationFactory(name="France Services Mauriac"),
    )
    MembershipFactory(user=user, role=Role.TEACHER, is_active=False)
    client.force_login(user)
    html = client.get(PROFILE).content.decode()
    assert "Marie Dupont" in html
    assert "Médiateur numérique — France Services Mauriac" in html
    assert "Enseignant" not in html  # inactive membership
    assert reverse("accounts:two_factor_setup") in html
    assert reverse("accounts:account_create_on_behalf") in html
    assert reverse("accounts:personal_data_download") in html
    assert reverse("accounts:erasure_request") in html
    assert reverse("accounts:api_tokens") in html


def test_resident_profile_has_no_two_factor_link(client):
    client.force_login(UserFactory())
    html = client.get(PROFILE).content.decode()
    assert "Usager" in html
    assert reverse("accounts:two_factor_setup") not in html
    assert reverse("accounts:account_create_on_behalf") not in html


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_new_email_and_phone_are_stored_only_once_their_codes_come_back(
    client, send_now, sms_outbox, mailoutbox
):
    user = UserFactory(email="ancienne@example.org")
    commune = CommuneFactory(name="Aurillac")
    client.force_login(user)
    page = client.get(CONTACT).content.decode()
    assert "n'est enregistré qu'après confirmation" in page  # the page says so

    with send_now():
        response = client.post(
            CONTACT,
            {
                "email": "nouvelle@example.org",
                "phone": "06 12 34 56 78",
                "home_commune": commune.pk,
                "prefers_sms": "on",
            },
            REMOTE_ADDR="192.0.2.8",
        )
    assert response["Location"] == VERIFY
    user.refresh_from_db()
    # The rest is saved; the new e-mail and phone wait for their codes.
    assert (user.email, user.phone) == ("ancienne@example.org", "")
    assert user.home_commune == commune and user.prefers_sms
    row = AuditLog.objects.get(action="accounts.contact_updated")
    assert set(row.data["fields"]) == {"home_commune", "prefers_sms"}
    assert row.data["to_confirm"] == ["email", "phone"]
    assert row.ip_address == "192.0.2.8"
    assert "nouvelle@example.org" not in str(row.data)
    assert [m.to for m in sms_outbox] == ["+33612345678"]
    assert mailoutbox[0].to == ["nouvelle@example.org"]
    sms, mail = code_in(sms_outbox[0].text), code_in(mailoutbox[0].body)

    page = client.get(VERIFY).content.decode()
    assert "06 12 34 56 78" in page and "nouvelle@example.org" in page
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert 'for="id_phone-code"' in page and 'for="id_email-code"' in page

    response = client.post(VERIFY, {"channel": "phone", "phone-code": wrong(sms)})
    assert response.status_code == 400
    assert "Ce code ne convient pas" in response.content.decode()
    user.refresh_from_db()
    assert user.phone == ""

    assert client.post(VERIFY, {"channel": "phone", "phone-code": sms})["Location"] == VERIFY
    response = client.post(VERIFY, {"channel": "email", "email-code": mail})
    assert response["Location"] == PROFILE
    user.refresh_from_db()
    assert (user.email, user.phone) == ("nouvelle@example.org", "+33612345678")
    verified = AuditLog.objects.filter(action="accounts.contact_verified")
    assert sorted(row.data["fields"][0] for row in verified) == ["email", "phone"]


def test_someone_else_s_address_cannot_be_claimed_without_its_code(client, send_now, mailoutbox):
    """The takeover: a person puts someone else's address (with no account yet) on their own
    account; a login link asked for that address would then open their account, and messages
    meant for that person would reach them."""
    intruder = UserFactory(email="")
    client.force_login(intruder)
    with send_now():
        client.post(CONTACT, {"email": "victime@example.org"})
    code = code_in(mailoutbox[0].body)  # in the victim's mailbox
    assert mailoutbox[0].to == ["victime@example.org"]
    for guess in {wrong(code), "123456" if code != "123456" else "654321"}:
        client.post(VERIFY, {"channel": "email", "email-code": guess})
    intruder.refresh_from_db()
    assert intruder.email == ""
    assert not services.users_matching_contact(email="victime@example.org").exists()


def test_a_code_stops_working_after_too_many_wrong_tries(client, send_now, sms_outbox, settings):
    settings.LOGIN_RATE_LIMIT = 100  # the code's own limit is under test here
    user = UserFactory()
    client.force_login(user)
    with send_now():
        client.post(CONTACT, {"phone": "0612345678"})
    code = code_in(sms_outbox[0].text)
    for _ in range(settings.ONE_TIME_CODE_MAX_ATTEMPTS):
        response = client.post(VERIFY, {"channel": "phone", "phone-code": wrong(code)})
    assert "Trop d&#x27;essais" in response.content.decode()
    client.post(VERIFY, {"channel": "phone", "phone-code": code})
    user.refresh_from_db()
    assert user.phone == ""


def test_a_pending_change_can_be_cancelled(client, send_now, sms_outbox):
    user = UserFactory()
    client.force_login(user)
    with send_now():
        client.post(CONTACT, {"phone": "0612345678"})
    response = client.post(VERIFY, {"channel": "phone", "cancel": "1"})
    assert response["Location"] == PROFILE
    response = client.post(VERIFY, {"channel": "phone", "phone-code": code_in(sms_outbox[0].text)})
    assert response["Location"] == CONTACT  # nothing waits any more
    user.refresh_from_db()
    assert user.phone == ""


def test_removing_an_email_or_changing_only_its_case_needs_no_code(client, mailoutbox):
    user = UserFactory(email="marie@example.org", phone="+33612345678")
    client.force_login(user)
    response = client.post(CONTACT, {"email": "Marie@Example.org", "phone": ""})
    assert response["Location"] == PROFILE
    user.refresh_from_db()
    assert (user.email, user.phone) == ("Marie@Example.org", "")
    assert not mailoutbox


def test_a_platform_admin_vouches_for_the_details_they_type():
    admin = UserFactory(roles=[Role.PLATFORM_ADMIN])
    person = UserFactory(email="")
    update = services.user_update_contact(
        actor=admin,
        user=person,
        email="jeanne@example.org",
        phone="0612345678",
        home_commune=None,
        prefers_sms=False,
        prefers_letter=False,
        ip_address="192.0.2.9",
    )
    assert update.to_confirm == {}
    person.refresh_from_db()
    assert (person.email, person.phone) == ("jeanne@example.org", "+33612345678")


def test_a_value_taken_before_the_code_comes_back_is_refused_in_french(
    client, send_now, sms_outbox
):
    user = UserFactory()
    client.force_login(user)
    with send_now():
        client.post(CONTACT, {"phone": "0612345678"})
    UserFactory(phone="+33612345678")  # another account took the number meanwhile
    response = client.post(
        VERIFY, {"channel": "phone", "phone-code": code_in(sms_outbox[0].text)}, follow=True
    )
    assert "Ce numéro de téléphone est déjà utilisé par un autre compte." in (
        response.content.decode()
    )
    user.refresh_from_db()
    assert user.phone == ""


def test_a_value_taken_between_the_check_and_the_write_is_refused_in_french(monkeypatch):
    """The check passes, then another account takes the number before the write: the unique
    constraint refuses it, and the person gets the check's message, not an error page."""
    user = UserFactory()
    pending = services.contact_change_start(actor=user, channel="phone", value="+33612345678")
    pending["code_hash"] = services._contact_code_hash(nonce=pending["nonce"], code="123456")
    UserFactory(phone="+33612345678")
    real = services.users_matching_contact
    calls = []

    def nothing_yet(**kwargs):
        calls.append(kwargs)
        return real(**kwargs).none() if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(services, "users_matching_contact", nothing_yet)
    with pytest.raises(ValidationError) as error:
        services.contact_change_confirm(actor=user, pending=pending, code="123456")
    assert error.value.message_dict == {
        "phone": ["Ce numéro de téléphone est déjà utilisé par un autre compte."]
    }
    user.refresh_from_db()
    assert user.phone == ""


def test_a_pending_change_belongs_to_its_person():
    user, other = UserFactory(), UserFactory()
    pending = services.contact_change_start(actor=user, channel="email", value="x@example.org")
    with pytest.raises(services.PermissionDenied):
        services.contact_change_confirm(actor=other, pending=pending, code="123456")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"phone": "12"}, "phone", "pas un numéro de téléphone valide"),
        ({"phone": "04 71 12 34 56"}, "phone", "pas un numéro de mobile"),
        ({"email": "pas-une-adresse"}, "email", "Saisissez une adresse de courriel valide."),
        ({"prefers_sms": "on"}, "prefers_sms", "Indiquez un numéro de portable"),
        ({"prefers_letter": "on"}, "postal_address", "Indiquez votre adresse postale"),
    ],
)
def test_invalid_contact_details_are_refused_next_to_the_field(client, data, field, message):
    user = UserFactory(email="")
    client.force_login(user)
    response = client.post(CONTACT, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'id="id_{field}_error"' in html
    user.refresh_from_db()
    assert user.email == ""


def test_an_email_or_phone_used_by_another_account_is_refused(client):
    UserFactory(email="pris@example.org", phone="+33612345678")
    user = UserFactory()
    client.force_login(user)
    response = client.post(CONTACT, {"email": "PRIS@example.org", "phone": "0612345678"})
    html = response.content.decode()
    assert "déjà utilisée par un autre compte" in html
    assert "déjà utilisé par un autre compte" in html


def test_nobody_else_may_update_someone_s_contact_details():
    user, other = UserFactory(), UserFactory()
    with pytest.raises(services.PermissionDenied):
        services.user_update_contact(
            actor=other,
            user=user,
            email="x@example.org",
            phone="",
            home_commune=None,
            prefers_sms=False,
            prefers_letter=False,
        )


def test_password_change_asks_for_the_current_one(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:password_change")
    response = client.post(
        url,
        {
            "old_password": "faux",
            "new_password1": "un-Nouveau-mot-2-passe",
            "new_password2": "un-Nouveau-mot-2-passe",
        },
    )
    assert "n&#x27;est pas le bon" in response.content.decode()
    response = client.post(
        url,
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "un-Nouveau-mot-2-passe",
            "new_password2": "un-Nouveau-mot-2-passe",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("un-Nouveau-mot-2-passe")
    assert int(client.session[SESSION_KEY]) == user.pk  # still logged in


def test_account_without_password_can_choose_one(client):
    user = UserFactory(password=False)
    client.force_login(user)
    url = reverse("accounts:password_change")
    assert "old_password" not in client.get(url).content.decode()
    client.post(
        url, {"new_password1": "un-Nouveau-mot-2-passe", "new_password2": "un-Nouveau-mot-2-passe"}
    )
    user.refresh_from_db()
    assert user.check_password("un-Nouveau-mot-2-passe")


def test_weak_password_is_refused(client):
    user = UserFactory(password=False)
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"), {"new_password1": "1234", "new_password2": "1234"}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_phone_normalisation():
    assert services.phone_normalize("06.12.34.56.78") == "+33612345678"
    assert services.phone_normalize("+32 470 12 34 56") == "+32470123456"
    assert services.phone_normalize("") == ""
    with pytest.raises(ValidationError):
        services.phone_normalize("0471123456")  # a landline cannot receive SMS


# --- API tokens -----------------------------------------------------------------------------


def test_api_token_is_created_shown_once_and_revoked(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:api_tokens")
    response = client.post(url, {"name": "Mon tableur"})
    token = ApiToken.objects.get(user=user)
    html = response.content.decode()
    assert "Mon tableur" in html
    raw = html.split('id="nouveau-jeton" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert raw.startswith(token.prefix)
    assert raw not in client.get(url).content.decode()  # shown once

    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_someone_else_s_token_cannot_be_revoked(client):
    token = ApiToken.objects.create(user=UserFactory(), name="x", prefix="cc_abc", key_hash="h")
    client.force_login(UserFactory())
    assert client.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 403
    assert client.post(reverse("accounts:api_token_revoke", args=[99999])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_api_token_name_is_required(client):
    client.force_login(UserFactory())
    response = client.post(reverse("accounts:api_tokens"), {"name": ""})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_the_profile_shows_the_phone_the_way_people_write_it(client):
    client.force_login(UserFactory(phone="+33639980001"))
    html = client.get(PROFILE).content.decode()
    assert "06 39 98 00 01" in html
    assert "+33639980001" not in html
