"""Accounts created on someone's behalf, and self sign-up."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cybercantal.accounts import services
from cybercantal.accounts.models import Role, User
from cybercantal.accounts.perms import (
    can_create_account_on_behalf,
    can_disable_two_factor,
    can_enable_two_factor,
    can_process_erasure,
    has_role,
    is_platform_admin,
)
from cybercantal.core.models import AuditLog

from .factories import MembershipFactory, UserFactory, force_login_verified

pytestmark = pytest.mark.django_db

ON_BEHALF = reverse("accounts:account_create_on_behalf")


def user_with(role):
    user = UserFactory()
    MembershipFactory(user=user, role=role)
    return user


@pytest.mark.parametrize(
    "role",
    [Role.MEDIATOR, Role.DEPARTMENT_AGENT, Role.TIERS_LIEU_MANAGER, Role.PLATFORM_ADMIN],
)
def test_allowed_roles_create_an_account_on_behalf(role, send_now, sms_outbox):
    actor = user_with(role)
    with send_now():
        person = services.user_create_on_behalf(
            actor=actor, first_name="Jeanne", last_name="Martin", phone="06 12 34 56 78"
        )
    assert person.username == "jeanne.martin"
    assert person.phone == "+33612345678"
    assert person.created_by == actor
    assert not person.has_usable_password()
    assert person.role_codes() == set()  # a resident
    assert AuditLog.objects.filter(
        action="accounts.user_created_on_behalf", actor_id=actor.pk
    ).exists()
    # The person is told how to log in, by SMS since that is how they can be reached.
    assert len(sms_outbox) == 1
    assert "jeanne.martin" in sms_outbox[0].text


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.TEACHER, Role.PRACTITIONER, None])
def test_other_roles_cannot_create_an_account_on_behalf(role):
    actor = user_with(role) if role else UserFactory()
    with pytest.raises(PermissionDenied):
        services.user_create_on_behalf(actor=actor, first_name="Jeanne", last_name="Martin")
    assert not User.objects.filter(first_name="Jeanne").exists()


def test_username_is_unique_even_with_homonyms():
    actor = user_with(Role.MEDIATOR)
    first = services.user_create_on_behalf(actor=actor, first_name="Jean", last_name="Dupré")
    second = services.user_create_on_behalf(actor=actor, first_name="Jean", last_name="Dupré")
    assert first.username == "jean.dupre"
    assert second.username == "jean.dupre2"


def test_an_account_without_any_contact_can_be_created():
    actor = user_with(Role.MEDIATOR)
    person = services.user_create_on_behalf(actor=actor, first_name="Louis", last_name="Roche")
    assert (person.email, person.phone) == ("", "")


def test_duplicate_phone_is_refused_on_behalf():
    UserFactory(phone="+33612345678")
    actor = user_with(Role.MEDIATOR)
    with pytest.raises(ValidationError) as error:
        services.user_create_on_behalf(
            actor=actor, first_name="A", last_name="B", phone="0612345678"
        )
    assert "phone" in error.value.error_dict


def test_person_created_on_behalf_logs_in_with_an_sms_code(client, send_now, sms_outbox):
    actor = user_with(Role.MEDIATOR)
    person = services.user_create_on_behalf(
        actor=actor, first_name="Jeanne", last_name="Martin", phone="0612345678"
    )
    with send_now():
        client.post(reverse("accounts:login_code_request"), {"sms-identifier": "06 12 34 56 78"})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1].text).group(1)
    client.post(reverse("accounts:login_code_verify"), {"code": code})
    assert int(client.session[SESSION_KEY]) == person.pk


def test_on_behalf_page(client):
    client.force_login(user_with(Role.MEDIATOR))
    assert client.get(ON_BEHALF).status_code == 200
    response = client.post(
        ON_BEHALF, {"first_name": "Jeanne", "last_name": "Martin", "phone": "0612345678"}
    )
    assert response.status_code == 200
    assert "jeanne.martin" in response.content.decode()
    assert User.objects.filter(username="jeanne.martin").exists()


def test_on_behalf_page_is_refused_to_residents(client):
    client.force_login(UserFactory())
    assert client.get(ON_BEHALF).status_code == 403
    assert client.post(ON_BEHALF, {"first_name": "X", "last_name": "Y"}).status_code == 403


def test_admin_uses_the_page_once_verified(client):
    force_login_verified(client, user_with(Role.PLATFORM_ADMIN))
    assert client.get(ON_BEHALF).status_code == 200


# --- Self sign-up -------------------------------------------------------------------------------


def test_register_creates_a_resident_and_logs_in(client):
    response = client.post(
        reverse("accounts:register"),
        {
            "first_name": "Léa",
            "last_name": "Roux",
            "phone": "06 98 76 54 32",
            "password1": "un-Mot-de-passe-solide",
            "password2": "un-Mot-de-passe-solide",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="lea.roux")
    assert user.phone == "+33698765432"
    assert user.check_password("un-Mot-de-passe-solide")
    assert user.role_codes() == set()
    assert int(client.session[SESSION_KEY]) == user.pk


def test_register_needs_a_contact_and_a_good_password(client):
    response = client.post(
        reverse("accounts:register"),
        {"first_name": "Léa", "last_name": "Roux", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Indiquez une adresse électronique ou un numéro de portable." in html
    assert not User.objects.filter(first_name="Léa").exists()
    with pytest.raises(ValidationError) as error:
        services.user_register(
            first_name="Léa", last_name="Roux", email="lea@example.org", password="123"
        )
    assert "password" in error.value.error_dict


# --- Permission predicates ----------------------------------------------------------------------


def test_permission_predicates_grant_and_refuse():
    resident, mediator, admin = (
        UserFactory(),
        user_with(Role.MEDIATOR),
        user_with(Role.PLATFORM_ADMIN),
    )
    teacher = user_with(Role.TEACHER)
    assert is_platform_admin(admin) and not is_platform_admin(mediator)
    assert has_role(Role.MEDIATOR)(mediator) and not has_role(Role.MEDIATOR)(resident)
    assert can_enable_two_factor(mediator) and can_enable_two_factor(teacher)
    assert not can_enable_two_factor(resident)
    assert can_disable_two_factor(mediator) and not can_disable_two_factor(admin)
    assert can_create_account_on_behalf(mediator) and not can_create_account_on_behalf(teacher)
    assert can_process_erasure(admin) and not can_process_erasure(mediator)
    assert mediator.has_perm("accounts.create_account_on_behalf")
    assert not teacher.has_perm("accounts.create_account_on_behalf")
    # A Django superuser without the role is not a platform administrator here.
    superuser = UserFactory(is_superuser=True)
    assert not is_platform_admin(superuser)


def test_predicates_refuse_anonymous_users():
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not is_platform_admin(anonymous)
    assert not can_enable_two_factor(anonymous)
    assert not can_disable_two_factor(anonymous)
    assert not can_create_account_on_behalf(None)
