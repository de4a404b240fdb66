"""The account page: identity, roles, contact details, password, API tokens."""

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


def test_contact_details_are_saved_with_the_phone_in_e164(client):
    user = UserFactory()
    commune = CommuneFactory(name="Aurillac")
    client.force_login(user)
    response = client.post(
        CONTACT,
        {
            "email": "nouvelle@example.org",
            "phone": "06 12 34 56 78",
            "home_commune": commune.pk,
            "prefers_sms": "on",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "nouvelle@example.org"
    assert user.phone == "+33612345678"
    assert user.home_commune == commune
    assert user.prefers_sms
    row = AuditLog.objects.get(action="accounts.contact_updated")
    assert set(row.data["fields"]) == {"email", "phone", "home_commune", "prefers_sms"}
    assert "nouvelle@example.org" not in str(row.data)


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
