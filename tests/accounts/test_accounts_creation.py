"""Accounts created on someone's behalf, and self sign-up."""

import re
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
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
from cybercantal.accounts.selectors import phone_to_e164
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


# --- Usernames never pass for a phone or an e-mail (H2) -------------------------------------------


def test_a_generated_username_never_reads_as_a_phone_number():
    actor = user_with(Role.MEDIATOR)
    person = services.user_create_on_behalf(actor=actor, first_name="-", last_name="0639980001")
    assert person.username == "personne.0639980001"
    assert phone_to_e164(person.username) is None
    again = services.user_create_on_behalf(actor=actor, first_name="-", last_name="0639980001")
    assert again.username == "personne.06399800012"
    assert services.user_create_on_behalf(actor=actor, first_name="?", last_name="!").username == (
        "personne"
    )


@pytest.mark.parametrize("username", ["0639980001", "+33 6 39 98 00 01", "jean@example.org"])
def test_a_chosen_username_cannot_be_a_phone_or_an_email(username):
    with pytest.raises(ValidationError):
        services.username_check(username)


@pytest.mark.parametrize("username", ["jean.dupre", "jean2", "agent-15"])
def test_ordinary_usernames_are_accepted(username):
    services.username_check(username)


def test_the_admin_refuses_a_phone_like_username():
    from cybercantal.accounts.admin import UserAdminCreationForm

    data = {
        "username": "0639980001",
        "first_name": "A",
        "last_name": "B",
        "usable_password": "false",
    }
    form = UserAdminCreationForm(data)
    assert not form.is_valid()
    assert "ne peut pas être un numéro de téléphone" in str(form.errors["username"])
    form = UserAdminCreationForm({**data, "username": "a.b"})
    assert form.is_valid(), form.errors


def test_the_admin_still_refuses_usernames_differing_only_in_case():
    from cybercantal.accounts.admin import UserAdminCreationForm

    UserFactory(username="jean.dupre")
    form = UserAdminCreationForm(
        {"username": "Jean.Dupre", "first_name": "J", "last_name": "D", "usable_password": "false"}
    )
    assert not form.is_valid()
    assert "username" in form.errors


# --- A contact taken at the same moment answers in French (races) ---------------------------------


def test_a_phone_taken_between_the_check_and_the_insert_gives_the_check_s_message(monkeypatch):
    """The check passes, then another account takes the number before the insert: the
    database's unique constraint refuses it, and the agent gets the same message as the
    check gives (not an error page)."""
    UserFactory(phone="+33612345678")
    real = services.users_matching_contact
    calls = []

    def nothing_yet(**kwargs):
        calls.append(kwargs)
        return real(**kwargs).none() if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(services, "users_matching_contact", nothing_yet)
    with pytest.raises(ValidationError) as error:
        services.user_create_on_behalf(
            actor=user_with(Role.MEDIATOR), first_name="A", last_name="B", phone="0612345678"
        )
    assert error.value.message_dict == {
        "phone": ["Ce numéro de téléphone est déjà utilisé par un autre compte."]
    }
    assert not User.objects.filter(first_name="A").exists()


# --- Self sign-up: the contact is proven before the account exists (H3) ---------------------------

REGISTER = reverse("accounts:register")
REGISTER_CODE = reverse("accounts:register_verify")
PASSWORD = "un-Mot-de-passe-solide"


def sign_up(client, send_now, **fields):
    data = {
        "first_name": "Léa",
        "last_name": "Roux",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **fields,
    }
    with send_now():
        return client.post(REGISTER, data)


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_sign_up_by_sms_creates_the_account_once_the_code_comes_back(client, send_now, sms_outbox):
    response = sign_up(client, send_now, phone="06 98 76 54 32")
    assert response.status_code == 302
    assert response["Location"] == REGISTER_CODE
    assert not User.objects.filter(first_name="Léa").exists()  # nothing before the proof
    assert [m.to for m in sms_outbox] == ["+33698765432"]
    code = code_in(sms_outbox[0].text)
    # Kept server-side, hashed: neither the password nor the code appears in the session.
    pending = client.session["accounts_pending_signup"]
    assert PASSWORD not in str(pending) and code not in str(pending)
    assert pending["password_hash"].startswith("md5$")  # the test hasher

    page = client.get(REGISTER_CODE).content.decode()
    assert "06 98 76 54 32" in page
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert 'for="id_code"' in page and "Code reçu par SMS" in page

    assert client.post(REGISTER_CODE, {"code": wrong(code)}).status_code == 400
    assert not User.objects.filter(first_name="Léa").exists()

    response = client.post(REGISTER_CODE, {"code": code})
    assert response.status_code == 302
    user = User.objects.get(username="lea.roux")
    assert (user.phone, user.email) == ("+33698765432", "")
    assert user.prefers_sms
    assert user.check_password(PASSWORD)
    assert user.role_codes() == set()
    assert int(client.session[SESSION_KEY]) == user.pk
    assert "accounts_pending_signup" not in client.session
    registered = AuditLog.objects.get(action="accounts.user_registered")
    assert registered.data == {"verified": "phone"}
    assert AuditLog.objects.get(action="accounts.login").data["method"] == "signup"


def test_sign_up_by_email_works_the_same(client, send_now, mailoutbox):
    sign_up(client, send_now, email="lea@example.org")
    assert mailoutbox[0].to == ["lea@example.org"]
    assert "Code reçu par courriel" in client.get(REGISTER_CODE).content.decode()
    client.post(REGISTER_CODE, {"code": code_in(mailoutbox[0].body)})
    user = User.objects.get(email="lea@example.org")
    assert not user.prefers_sms
    assert int(client.session[SESSION_KEY]) == user.pk


def test_no_one_can_sign_up_with_someone_else_s_number_without_its_code(
    client, send_now, sms_outbox
):
    """The takeover: an attacker signs up with the number of a person who has no account yet;
    the person would later log in "by SMS" into the attacker's account."""
    response = sign_up(client, send_now, phone="06 98 76 54 32")
    assert response.status_code == 302
    code = code_in(sms_outbox[0].text)  # reaches the number's owner, not the attacker
    for guess in {wrong(code), "123456" if code != "123456" else "654321"}:
        assert client.post(REGISTER_CODE, {"code": guess}).status_code == 400
    assert not User.objects.filter(phone="+33698765432").exists()
    assert SESSION_KEY not in client.session


def test_the_code_stops_working_after_too_many_wrong_tries(client, send_now, sms_outbox, settings):
    settings.LOGIN_RATE_LIMIT = 100  # the code's own limit is under test here
    sign_up(client, send_now, phone="06 98 76 54 32")
    code = code_in(sms_outbox[0].text)
    for _ in range(settings.ONE_TIME_CODE_MAX_ATTEMPTS):
        response = client.post(REGISTER_CODE, {"code": wrong(code)})
    assert "Trop d&#x27;essais" in response.content.decode()
    client.post(REGISTER_CODE, {"code": code})
    assert not User.objects.filter(phone="+33698765432").exists()
    # A new code works.
    with send_now():
        client.post(reverse("accounts:register_resend"))
    client.post(REGISTER_CODE, {"code": code_in(sms_outbox[-1].text)})
    assert User.objects.filter(phone="+33698765432").exists()


def test_an_expired_code_is_refused(client, send_now, sms_outbox):
    sign_up(client, send_now, phone="06 98 76 54 32")
    session = client.session
    session["accounts_pending_signup"]["expires_at"] = time.time() - 1
    session.save()
    response = client.post(REGISTER_CODE, {"code": code_in(sms_outbox[0].text)})
    assert "Ce code a expiré" in response.content.decode()
    assert not User.objects.filter(phone="+33698765432").exists()


def test_sign_up_with_a_contact_that_has_an_account_reveals_nothing(client, send_now, sms_outbox):
    holder = UserFactory(phone="+33698765432")
    known = sign_up(client, send_now, phone="06 98 76 54 32")
    assert known["Location"] == REGISTER_CODE
    # The holder is told, instead of receiving a code; no code can create a second account.
    assert [m.to for m in sms_outbox] == ["+33698765432"]
    assert "déjà un compte" in sms_outbox[0].text
    assert not re.search(r"\b\d{6}\b", sms_outbox[0].text)
    for code in ("000000", "123456"):
        client.post(REGISTER_CODE, {"code": code})
    assert list(User.objects.filter(phone="+33698765432")) == [holder]


def test_a_contact_taken_between_the_two_steps_is_refused_in_french(client, send_now, sms_outbox):
    sign_up(client, send_now, phone="06 98 76 54 32")
    UserFactory(phone="+33698765432")  # e.g. an agent created the account meanwhile
    response = client.post(REGISTER_CODE, {"code": code_in(sms_outbox[0].text)})
    assert response.status_code == 400
    assert "déjà utilisé par un autre compte" in response.content.decode()
    assert User.objects.filter(phone="+33698765432").count() == 1


def test_sign_up_needs_one_contact_and_a_good_password(client, send_now, sms_outbox):
    response = client.post(
        REGISTER, {"first_name": "Léa", "last_name": "Roux", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Indiquez une adresse électronique ou un numéro de portable." in html
    assert "trop court" in html
    response = sign_up(client, send_now, email="lea@example.org", phone="0698765432")
    assert "soit une adresse électronique, soit un numéro de portable" in response.content.decode()
    assert not sms_outbox
    with pytest.raises(ValidationError) as error:
        services.user_signup_start(
            first_name="Léa", last_name="Roux", email="lea@example.org", password="123"
        )
    assert "password" in error.value.error_dict


def test_sign_up_codes_are_rate_limited_per_contact(client, send_now, sms_outbox, settings):
    settings.LOGIN_RATE_LIMIT = 3
    sign_up(client, send_now, phone="06 98 76 54 32")
    with send_now():
        client.post(reverse("accounts:register_resend"))
        client.post(reverse("accounts:register_resend"))
        assert client.post(reverse("accounts:register_resend")).status_code == 429
    # From another browser and address, the same number is still limited.
    other = Client(REMOTE_ADDR="198.51.100.3")
    assert sign_up(other, send_now, phone="+33698765432").status_code == 429
    assert len(sms_outbox) == 3


def test_the_code_page_without_a_sign_up_goes_back_to_step_one(client):
    assert client.get(REGISTER_CODE)["Location"] == REGISTER


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
