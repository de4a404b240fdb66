"""Authentication of the API: personal tokens, sessions, and the refusals."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from cybercantal.accounts.models import ApiToken, Membership, Role
from cybercantal.accounts.tokens import api_token_create, api_token_revoke
from tests.accounts.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

UNAUTHENTICATED = {"detail": "Authentification requise."}


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def person():
    user = UserFactory(username="marie.dupont", first_name="Marie", last_name="Dupont")
    MembershipFactory(user=user, role=Role.MEDIATOR, organisation__name="France Services Murat")
    return user


@pytest.fixture
def raw_token(person):
    _token, raw = api_token_create(actor=person, name="Script de test")
    return raw


def test_me_with_a_token_created_by_the_service(client, raw_token):
    response = client.get("/api/v1/me", headers=bearer(raw_token))

    assert response.status_code == 200
    assert response.json() == {
        "username": "marie.dupont",
        "full_name": "Marie Dupont",
        "roles": [
            {
                "code": "mediator",
                "label": "Médiateur numérique",
                "organisation": "France Services Murat",
            }
        ],
    }


def test_me_lists_active_memberships_only(client, person, raw_token):
    MembershipFactory(user=person, role=Role.TEACHER, is_active=False)

    roles = client.get("/api/v1/me", headers=bearer(raw_token)).json()["roles"]

    assert [role["code"] for role in roles] == ["mediator"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token", "token"])
def test_both_header_schemes_are_accepted(client, raw_token, scheme):
    response = client.get("/api/v1/me", headers={"Authorization": f"{scheme} {raw_token}"})

    assert response.status_code == 200


def test_me_with_a_token_created_by_the_command(client, person):
    out = StringIO()

    call_command("create_api_token", "MARIE.DUPONT", "--name", "Tableur", stdout=out)

    raw = out.getvalue().strip()
    assert out.getvalue() == raw + "\n"  # only the token: it can be piped
    assert raw.startswith("cc_")
    assert ApiToken.objects.get(user=person).name == "Tableur"
    assert client.get("/api/v1/me", headers=bearer(raw)).json()["username"] == "marie.dupont"


def test_me_with_a_session(client, person):
    client.force_login(person)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == "marie.dupont"


def test_me_without_authentication_is_refused(client):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cc_not-a-real-token",
        "Bearer ",
        "Bearer",
        "Token nope",
        "Bearer " + "x" * 10_000,
    ],
)
def test_me_with_a_wrong_token_is_refused(client, raw_token, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_revoked_token_is_refused(client, person, raw_token):
    token = ApiToken.objects.get(user=person)
    api_token_revoke(actor=person, token_id=token.pk)

    response = client.get("/api/v1/me", headers=bearer(raw_token))

    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_the_token_of_a_deactivated_account_is_refused(client, person, raw_token):
    person.is_active = False
    person.save()

    assert client.get("/api/v1/me", headers=bearer(raw_token)).status_code == 401


@pytest.mark.parametrize("url", ["/api/v1/communes", "/api/v1/places", "/api/v1/epci"])
def test_public_endpoints_are_open_without_a_token(client, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/communes", "/api/v1/places", "/api/v1/places/1"])
def test_public_endpoints_refuse_an_invalid_token_instead_of_ignoring_it(
    client, person, raw_token, url
):
    ApiToken.objects.filter(user=person).update(revoked_at="2025-01-01T00:00Z")

    revoked = client.get(url, headers=bearer(raw_token))
    wrong = client.get(url, headers=bearer("cc_wrong"))

    assert (revoked.status_code, revoked.json()) == (401, UNAUTHENTICATED)
    assert (wrong.status_code, wrong.json()) == (401, UNAUTHENTICATED)


def test_a_bad_token_is_refused_even_with_a_valid_session(client, person):
    client.force_login(person)

    assert client.get("/api/v1/me", headers=bearer("cc_wrong")).status_code == 401


def test_basic_authentication_of_a_proxy_is_not_mistaken_for_a_token(client):
    # A test site behind a password-protected proxy: the browser sends Basic credentials
    # with every request; public endpoints must still answer.
    response = client.get("/api/v1/communes", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 200


def test_using_a_token_records_when_it_was_last_used(client, person, raw_token):
    assert ApiToken.objects.get(user=person).last_used_at is None

    client.get("/api/v1/me", headers=bearer(raw_token))

    assert ApiToken.objects.get(user=person).last_used_at is not None


# --- Token management through the API ------------------------------------------------------


def test_my_tokens_lists_mine_without_secrets(client, person, raw_token):
    other = UserFactory()
    api_token_create(actor=other, name="Pas à moi")

    response = client.get("/api/v1/me/tokens", headers=bearer(raw_token))

    assert response.status_code == 200
    assert [t["name"] for t in response.json()] == ["Script de test"]
    assert set(response.json()[0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    }
    assert raw_token not in response.content.decode()


def test_revoke_my_token_through_the_api(client, person, raw_token):
    token = ApiToken.objects.get(user=person)

    response = client.delete(f"/api/v1/me/tokens/{token.pk}", headers=bearer(raw_token))

    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/me", headers=bearer(raw_token)).status_code == 401


def test_someone_else_cannot_revoke_my_token_through_the_api(client, person, raw_token):
    token = ApiToken.objects.get(user=person)
    _other_token, other_raw = api_token_create(actor=UserFactory(), name="autre")

    response = client.delete(f"/api/v1/me/tokens/{token.pk}", headers=bearer(other_raw))

    assert response.status_code == 403
    assert response.json() == {"detail": "Vous ne pouvez révoquer que vos propres jetons."}
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(raw_token)).status_code == 200


def test_a_platform_admin_can_revoke_anyones_token(client, person, raw_token):
    token = ApiToken.objects.get(user=person)
    admin = UserFactory(roles=[Role.PLATFORM_ADMIN])
    # An administrator's token needs the second factor (see accounts.perms).
    _admin_token, admin_raw = api_token_create(
        actor=admin, name="admin", second_factor_verified=True
    )

    response = client.delete(f"/api/v1/me/tokens/{token.pk}", headers=bearer(admin_raw))

    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(raw_token)).status_code == 401


def test_revoking_an_unknown_token_is_404(client, raw_token):
    response = client.delete("/api/v1/me/tokens/987654", headers=bearer(raw_token))

    assert response.status_code == 404
    assert response.json() == {"detail": "Jeton inconnu : 987654."}


def test_token_management_needs_authentication(client, person, raw_token):
    token = ApiToken.objects.get(user=person)

    assert client.get("/api/v1/me/tokens").status_code == 401
    assert client.delete(f"/api/v1/me/tokens/{token.pk}").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_session_needs_the_csrf_token_to_change_something(person):
    """A session cookie is sent by the browser on its own, even from another site: an unsafe
    request authenticated by it must carry the CSRF token. A token request needs none."""
    token, _raw = api_token_create(actor=person, name="à révoquer")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)

    forged = browser.delete(f"/api/v1/me/tokens/{token.pk}")

    assert forged.status_code == 403
    assert forged.json()["detail"].startswith("Jeton CSRF manquant ou invalide")
    token.refresh_from_db()
    assert token.revoked_at is None

    secret = "a" * 32
    browser.cookies["csrftoken"] = secret
    genuine = browser.delete(f"/api/v1/me/tokens/{token.pk}", headers={"X-CSRFToken": secret})

    assert genuine.status_code == 204


def test_a_session_reads_without_csrf(person):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)

    assert browser.get("/api/v1/me").status_code == 200


def test_the_membership_of_the_token_owner_drives_roles(client, person, raw_token):
    Membership.objects.filter(user=person).update(is_active=False)

    assert client.get("/api/v1/me", headers=bearer(raw_token)).json()["roles"] == []
