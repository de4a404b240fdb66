"""Personal API tokens: the service (accounts.tokens) and the create_api_token command."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from cybercantal.accounts.models import ApiToken, Role
from cybercantal.accounts.perms import (
    api_token_needs_second_factor,
    can_create_api_token,
    can_revoke_api_token,
)
from cybercantal.accounts.tokens import (
    api_token_authenticate,
    api_token_create,
    api_token_list,
    api_token_revoke,
)
from cybercantal.core.models import AuditLog
from tests.accounts.factories import UserFactory, force_login_verified, totp_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(username="jean.martin")


# --- Creation ------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_stores_only_its_hash(owner):
    token, raw = api_token_create(actor=owner, name="Tableur du service")

    assert raw.startswith("cc_")
    assert len(raw) >= 40
    token.refresh_from_db()
    assert token.user == owner
    assert token.name == "Tableur du service"
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10]
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert all(raw not in value for value in stored)


def test_each_token_is_different(owner):
    _first, raw1 = api_token_create(actor=owner, name="un")
    _second, raw2 = api_token_create(actor=owner, name="deux")

    assert raw1 != raw2


def test_create_writes_an_audit_row_without_the_secret(owner):
    token, raw = api_token_create(actor=owner, name="Tableur")

    row = AuditLog.objects.get(action="api_token.create")
    assert row.actor == owner
    assert row.target_id == str(token.pk)
    assert row.data == {"name": "Tableur", "prefix": token.prefix}
    assert raw not in str(row.data) + row.target_repr


def test_name_is_tidied(owner):
    token, _raw = api_token_create(actor=owner, name="  Export   mensuel ")

    assert token.name == "Export mensuel"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_invalid_name_is_refused_in_french_and_nothing_is_written(owner, name):
    with pytest.raises(ValidationError) as error:
        api_token_create(actor=owner, name=name)

    assert "jeton" in error.value.messages[0]
    assert not ApiToken.objects.exists()
    assert not AuditLog.objects.filter(action="api_token.create").exists()


def test_name_of_100_characters_is_accepted(owner):
    token, _raw = api_token_create(actor=owner, name="x" * 100)

    assert len(token.name) == 100


def test_an_anonymous_or_inactive_actor_cannot_create_a_token(owner):
    from django.contrib.auth.models import AnonymousUser

    owner.is_active = False
    owner.save()

    with pytest.raises(PermissionDenied):
        api_token_create(actor=AnonymousUser(), name="x")
    with pytest.raises(PermissionDenied):
        api_token_create(actor=owner, name="x")
    assert not ApiToken.objects.exists()


# --- Authentication ------------------------------------------------------------------------


def test_authenticate_returns_the_owner(owner):
    _token, raw = api_token_create(actor=owner, name="x")

    assert api_token_authenticate(raw) == owner


@pytest.mark.parametrize(
    "raw", ["", "cc_", "cc_wrong", "not-a-token", "cc_" + "a" * 500, None, 42, b"cc_bytes"]
)
def test_authenticate_refuses_what_is_not_a_token(owner, raw):
    api_token_create(actor=owner, name="x")

    assert api_token_authenticate(raw) is None


def test_authenticate_refuses_a_truncated_or_extended_token(owner):
    _token, raw = api_token_create(actor=owner, name="x")

    assert api_token_authenticate(raw[:-1]) is None
    assert api_token_authenticate(raw + "a") is None


def test_authenticate_refuses_a_revoked_token(owner):
    token, raw = api_token_create(actor=owner, name="x")
    api_token_revoke(actor=owner, token_id=token.pk)

    assert api_token_authenticate(raw) is None


def test_authenticate_refuses_an_inactive_account(owner):
    _token, raw = api_token_create(actor=owner, name="x")
    owner.is_active = False
    owner.save()

    assert api_token_authenticate(raw) is None


def test_authenticate_refuses_an_erased_account(owner):
    _token, raw = api_token_create(actor=owner, name="x")
    owner.erased_at = timezone.now()
    owner.save()

    assert api_token_authenticate(raw) is None


def test_last_used_is_written_at_most_once_a_minute(owner, django_assert_num_queries):
    token, raw = api_token_create(actor=owner, name="x")

    with django_assert_num_queries(2):  # the lookup, then the first "last used" write
        api_token_authenticate(raw)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    with django_assert_num_queries(1):  # the lookup only: no write within the minute
        api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == first_use

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at > first_use - timedelta(minutes=2)


# --- Revocation ----------------------------------------------------------------------------


def test_owner_revokes_their_token_with_an_audit_row(owner):
    token, _raw = api_token_create(actor=owner, name="x")

    api_token_revoke(actor=owner, token_id=token.pk)

    token.refresh_from_db()
    assert token.revoked_at is not None
    row = AuditLog.objects.get(action="api_token.revoke")
    assert (row.actor, row.target_id) == (owner, str(token.pk))


def test_someone_else_cannot_revoke(owner):
    token, raw = api_token_create(actor=owner, name="x")
    intruder = UserFactory(roles=[Role.DEPARTMENT_AGENT])

    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=intruder, token_id=token.pk)

    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_token_authenticate(raw) == owner
    assert not AuditLog.objects.filter(action="api_token.revoke").exists()


def test_anonymous_cannot_revoke(owner):
    from django.contrib.auth.models import AnonymousUser

    token, _raw = api_token_create(actor=owner, name="x")

    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=AnonymousUser(), token_id=token.pk)


def test_a_platform_admin_can_revoke_anyones_token(owner):
    token, raw = api_token_create(actor=owner, name="x")
    admin = UserFactory(roles=[Role.PLATFORM_ADMIN])

    api_token_revoke(actor=admin, token_id=token.pk)

    assert api_token_authenticate(raw) is None
    assert AuditLog.objects.get(action="api_token.revoke").actor == admin


def test_revoking_twice_changes_nothing(owner):
    token, _raw = api_token_create(actor=owner, name="x")
    api_token_revoke(actor=owner, token_id=token.pk)
    token.refresh_from_db()
    revoked_at = token.revoked_at

    api_token_revoke(actor=owner, token_id=token.pk)

    token.refresh_from_db()
    assert token.revoked_at == revoked_at
    assert AuditLog.objects.filter(action="api_token.revoke").count() == 1


def test_revoking_an_unknown_token(owner):
    with pytest.raises(ApiToken.DoesNotExist):
        api_token_revoke(actor=owner, token_id=424242)


# --- Listing -------------------------------------------------------------------------------


def test_list_shows_the_actors_tokens_only(owner):
    mine, _raw = api_token_create(actor=owner, name="à moi")
    revoked, _raw = api_token_create(actor=owner, name="révoqué")
    api_token_revoke(actor=owner, token_id=revoked.pk)
    api_token_create(actor=UserFactory(), name="pas à moi")

    assert list(api_token_list(actor=owner)) == [revoked, mine]


def test_list_is_empty_for_anonymous():
    from django.contrib.auth.models import AnonymousUser

    api_token_create(actor=UserFactory(), name="x")

    assert list(api_token_list(actor=AnonymousUser())) == []


# --- Command -------------------------------------------------------------------------------


def test_command_prints_only_a_working_token(owner):
    out = StringIO()

    call_command("create_api_token", "jean.martin", stdout=out)

    raw = out.getvalue().strip()
    assert out.getvalue().count("\n") == 1
    assert api_token_authenticate(raw) == owner
    assert ApiToken.objects.get(user=owner).name == "Jeton créé en ligne de commande"


def test_command_with_a_name(owner):
    call_command("create_api_token", "jean.martin", name="Sauvegarde", stdout=StringIO())

    assert ApiToken.objects.get(user=owner).name == "Sauvegarde"


def test_command_refuses_an_unknown_account():
    with pytest.raises(CommandError, match="Compte inconnu : « personne »"):
        call_command("create_api_token", "personne", stdout=StringIO())


def test_command_refuses_an_inactive_account(owner):
    owner.is_active = False
    owner.save()

    with pytest.raises(CommandError, match="désactivé"):
        call_command("create_api_token", "jean.martin", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_command_refuses_an_invalid_name(owner):
    with pytest.raises(CommandError, match="100 caractères au plus"):
        call_command("create_api_token", "jean.martin", name="x" * 101, stdout=StringIO())


# --- Platform administrators: a token needs the second factor (M3 c) ----------------------------


@pytest.fixture
def admin():
    return UserFactory(username="admin.plateforme", roles=[Role.PLATFORM_ADMIN])


def test_an_admin_token_is_refused_without_the_second_factor(admin):
    with pytest.raises(PermissionDenied, match="double authentification"):
        api_token_create(actor=admin, name="x")
    assert not ApiToken.objects.exists()


def test_an_admin_token_is_created_after_the_second_factor(admin):
    _token, raw = api_token_create(actor=admin, name="x", second_factor_verified=True)
    assert api_token_authenticate(raw) == admin


def test_other_people_need_no_second_factor_for_a_token(owner):
    _token, raw = api_token_create(actor=owner, name="x")
    assert api_token_authenticate(raw) == owner


def test_command_refuses_an_admin_without_allow_admin(admin):
    with pytest.raises(CommandError, match="--allow-admin"):
        call_command("create_api_token", "admin.plateforme", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_command_creates_an_admin_token_with_allow_admin(admin):
    out = StringIO()
    call_command("create_api_token", "admin.plateforme", allow_admin=True, stdout=out)
    assert api_token_authenticate(out.getvalue().strip()) == admin


def test_the_token_page_creates_an_admin_token_in_a_verified_session(client, admin):
    force_login_verified(client, admin)
    assert client.post(reverse("accounts:api_tokens"), {"name": "Export"}).status_code == 200
    assert ApiToken.objects.filter(user=admin).count() == 1


def test_the_token_page_is_closed_to_an_unverified_admin_session(client, admin):
    totp_device(admin)
    client.force_login(admin)
    response = client.post(reverse("accounts:api_tokens"), {"name": "Export"})
    assert response.status_code == 302
    assert reverse("accounts:two_factor_verify") in response["Location"]
    assert not ApiToken.objects.exists()


# --- Permissions and audit ----------------------------------------------------------------------


def test_token_permission_predicates(owner, admin):
    from django.contrib.auth.models import AnonymousUser

    token, _raw = api_token_create(actor=owner, name="x")
    intruder = UserFactory()
    assert can_revoke_api_token(owner, token) and can_revoke_api_token(admin, token)
    assert not can_revoke_api_token(intruder, token)
    assert not can_revoke_api_token(AnonymousUser(), token)
    assert can_create_api_token(owner) and not can_create_api_token(AnonymousUser())
    assert api_token_needs_second_factor(admin) and not api_token_needs_second_factor(owner)
    assert owner.has_perm("accounts.revoke_api_token", token)
    assert not intruder.has_perm("accounts.revoke_api_token", token)


def test_creation_and_revocation_record_the_address(client, owner):
    client.force_login(owner)
    client.post(reverse("accounts:api_tokens"), {"name": "x"}, REMOTE_ADDR="192.0.2.31")
    token = ApiToken.objects.get()
    client.post(reverse("accounts:api_token_revoke", args=[token.pk]), REMOTE_ADDR="192.0.2.32")
    addresses = dict(AuditLog.objects.values_list("action", "ip_address"))
    assert addresses == {"api_token.create": "192.0.2.31", "api_token.revoke": "192.0.2.32"}


def test_revocation_through_the_api_records_the_address(client, owner):
    token, raw = api_token_create(actor=owner, name="x")
    client.delete(
        f"/api/v1/me/tokens/{token.pk}",
        headers={"Authorization": f"Bearer {raw}"},
        REMOTE_ADDR="192.0.2.33",
    )
    assert AuditLog.objects.get(action="api_token.revoke").ip_address == "192.0.2.33"
