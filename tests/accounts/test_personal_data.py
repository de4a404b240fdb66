"""Personal data: export, erasure requests and their processing."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.accounts import services
from cybercantal.accounts.models import (
    ApiToken,
    Membership,
    OneTimeLogin,
    PersonalDataRequest,
    Role,
)
from cybercantal.accounts.personal_data import register_personal_data, unregister_personal_data
from cybercantal.core.audit import audit_log
from cybercantal.core.models import AuditLog, Notification

from .factories import MembershipFactory, UserFactory, force_login_verified, totp_device

pytestmark = pytest.mark.django_db


def admin_user(**kwargs):
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, role=Role.PLATFORM_ADMIN)
    return user


def person_with_data(phone="+33612345678", **kwargs):
    user = UserFactory(phone=phone, postal_address="1 rue Haute\n15000 Aurillac", **kwargs)
    MembershipFactory(user=user, role=Role.MEDIATOR)
    OneTimeLogin.objects.create(
        user=user,
        channel=OneTimeLogin.Channel.SMS_CODE,
        secret_hash="secret-hash-never-exported",
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    ApiToken.objects.create(
        user=user, name="Tableur", prefix="cc_abcdefg", key_hash=f"{user.pk:064d}"
    )
    totp_device(user)
    audit_log(actor=user, action="test.something", target=user)
    return user


# --- Export ---------------------------------------------------------------------------------------


def test_export_contains_the_person_s_data_without_secrets():
    user = person_with_data(first_name="Marie", email="marie@example.org")
    data = services.personal_data_export(actor=user, user=user)
    assert data["profile"]["first_name"] == "Marie"
    assert data["profile"]["email"] == "marie@example.org"
    assert data["profile"]["phone"] == "+33612345678"
    assert data["memberships"][0]["role"] == Role.MEDIATOR
    assert data["one_time_logins"][0]["channel"] == "sms_code"
    assert data["api_tokens"][0]["name"] == "Tableur"
    assert data["two_factor_devices"][0]["type"] == "TOTPDevice"
    assert any(row["action"] == "test.something" for row in data["audit_log"])
    text = json.dumps(data)
    assert "secret-hash-never-exported" not in text
    assert f"{user.pk:064d}" not in text
    assert TOTPDevice.objects.get(user=user).key not in text
    assert AuditLog.objects.filter(
        action="accounts.personal_data_exported", target_id=str(user.pk)
    ).exists()


def test_export_does_not_contain_another_person_s_data():
    user = person_with_data(email="marie@example.org")
    other = person_with_data(email="paul@example.org", first_name="Paul", phone="+33698765432")
    audit_log(actor=other, action="test.other", target=other)
    text = json.dumps(services.personal_data_export(actor=user, user=user))
    assert "paul@example.org" not in text
    assert "Paul" not in text
    assert "test.other" not in text


def test_export_includes_notifications_but_not_login_secrets(send_now, client, mailoutbox):
    user = UserFactory(email="marie@example.org")
    with send_now():
        client.post(
            reverse("accounts:login_link_request"), {"lien-identifier": "marie@example.org"}
        )
    Notification.objects.create(
        key="test:1",
        channel="email",
        user=user,
        recipient_name="Marie",
        subject="Rappel",
        body="Votre rendez-vous est demain.",
        recipient_email="marie@example.org",
    )
    exported = services.personal_data_export(actor=user, user=user)["notifications"]
    assert {n["subject"] for n in exported} == {"Rappel", "Votre lien de connexion à CyberCantal"}
    assert "Votre rendez-vous est demain." in json.dumps(exported)
    assert "/connexion/lien/" not in json.dumps(exported)


def test_export_includes_what_other_modules_registered():
    user = UserFactory()
    register_personal_data("test_module", export=lambda person: {"bookings": [person.pk]})
    try:
        data = services.personal_data_export(actor=user, user=user)
    finally:
        unregister_personal_data("test_module")
    assert data["test_module"] == {"bookings": [user.pk]}


def test_nobody_else_may_export_a_person_s_data_but_an_admin():
    user = UserFactory()
    with pytest.raises(PermissionDenied):
        services.personal_data_export(actor=UserFactory(), user=user)
    mediator = UserFactory()
    MembershipFactory(user=mediator, role=Role.MEDIATOR)
    with pytest.raises(PermissionDenied):
        services.personal_data_export(actor=mediator, user=user)
    assert services.personal_data_export(actor=admin_user(), user=user)["profile"]["id"] == user.pk


def test_download_is_a_json_attachment_of_one_s_own_data(client):
    user = UserFactory(email="marie@example.org")
    UserFactory(email="paul@example.org")
    client.force_login(user)
    response = client.get(reverse("accounts:personal_data_download"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-')
    data = json.loads(response.content)
    assert data["profile"]["email"] == "marie@example.org"
    assert "paul@example.org" not in response.content.decode()


# --- Erasure -----------------------------------------------------------------------------


def test_erasure_request_is_created_once(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:erasure_request")
    assert client.post(url, {"reason": "Je déménage"}).status_code == 200  # confirm missing
    assert not PersonalDataRequest.objects.exists()
    response = client.post(url, {"reason": "Je déménage", "confirm": "on"})
    assert response.status_code == 302
    request = PersonalDataRequest.objects.get()
    assert request.user == user and request.status == "pending"
    assert request.reason == "Je déménage"
    assert services.erasure_request_create(actor=user) == request  # asking again: the same
    assert AuditLog.objects.filter(action="accounts.erasure_requested").count() == 1


def test_approval_anonymises_the_person_and_keeps_the_audit_log(client):
    user = person_with_data(email="marie@example.org", first_name="Marie")
    rows_before = AuditLog.objects.count()
    request = services.erasure_request_create(actor=user, reason="")
    client.force_login(user)

    admin = admin_user()
    services.erasure_request_process(actor=admin, request=request, approve=True, response="")

    user.refresh_from_db()
    assert user.get_full_name() == "Personne effacée"
    assert user.username == f"efface-{user.pk}"
    assert (user.email, user.phone, user.postal_address) == ("", "", "")
    assert user.home_commune is None
    assert not user.has_usable_password()
    assert not user.is_active
    assert user.erased_at is not None
    assert not Membership.objects.filter(user=user, is_active=True).exists()
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert not OneTimeLogin.objects.filter(user=user).exists()
    assert not TOTPDevice.objects.filter(user=user).exists()
    request.refresh_from_db()
    assert request.status == "done"
    assert request.processed_by == admin
    assert "Marie" not in request.user_repr
    # The log is append-only: nothing was removed, the erasure was added.
    assert AuditLog.objects.count() > rows_before
    assert AuditLog.objects.filter(action="accounts.user_anonymised").exists()
    # Their open session ends (the password hash it was tied to changed).
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302


def test_erasure_runs_the_other_modules_erasers_in_the_same_transaction():
    user = UserFactory(first_name="Marie")
    request = services.erasure_request_create(actor=user)

    def failing_eraser(person):
        raise RuntimeError("module failure")

    register_personal_data("test_failing", erase=failing_eraser)
    try:
        with pytest.raises(RuntimeError):
            services.erasure_request_process(
                actor=admin_user(), request=request, approve=True, response=""
            )
    finally:
        unregister_personal_data("test_failing")
    user.refresh_from_db()
    request.refresh_from_db()
    assert user.first_name == "Marie"  # nothing happened
    assert request.status == "pending"


def test_refusal_needs_a_response_and_notifies_the_person(send_now, mailoutbox):
    user = UserFactory(email="marie@example.org")
    request = services.erasure_request_create(actor=user)
    admin = admin_user()
    with pytest.raises(ValidationError):
        services.erasure_request_process(actor=admin, request=request, approve=False, response="")
    with send_now():
        services.erasure_request_process(
            actor=admin, request=request, approve=False, response="Un dossier est en cours."
        )
    request.refresh_from_db()
    assert request.status == "refused"
    user.refresh_from_db()
    assert user.is_active
    assert len(mailoutbox) == 1
    assert "Un dossier est en cours." in mailoutbox[0].body


def test_a_request_is_processed_once():
    user = UserFactory()
    request = services.erasure_request_create(actor=user)
    admin = admin_user()
    services.erasure_request_process(actor=admin, request=request, approve=False, response="Non")
    with pytest.raises(ValidationError):
        services.erasure_request_process(actor=admin, request=request, approve=True, response="")


def test_non_admin_cannot_process_erasure():
    user = UserFactory()
    request = services.erasure_request_create(actor=user)
    for role in (Role.DEPARTMENT_AGENT, Role.MEDIATOR):
        someone = UserFactory()
        MembershipFactory(user=someone, role=role)
        with pytest.raises(PermissionDenied):
            services.erasure_request_process(
                actor=someone, request=request, approve=True, response=""
            )
    with pytest.raises(PermissionDenied):
        services.erasure_request_process(actor=user, request=request, approve=True, response="")
    request.refresh_from_db()
    assert request.status == "pending"


def test_erasure_admin_page_lists_pending_requests_and_approves(client):
    user = UserFactory(first_name="Marie", last_name="Dupont")
    request = services.erasure_request_create(actor=user)
    force_login_verified(client, admin_user())
    html = client.get(reverse("accounts:erasure_requests")).content.decode()
    assert "Marie Dupont" in html
    response = client.post(
        reverse("accounts:erasure_request_process", args=[request.pk]),
        {f"r{request.pk}-decision": "approve"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.erased_at is not None
    assert "Marie Dupont" not in client.get(reverse("accounts:erasure_requests")).content.decode()


def test_erasure_admin_page_refusal_without_response_is_shown_next_to_the_field(client):
    request = services.erasure_request_create(actor=UserFactory())
    force_login_verified(client, admin_user())
    response = client.post(
        reverse("accounts:erasure_request_process", args=[request.pk]),
        {f"r{request.pk}-decision": "refuse"},
    )
    assert response.status_code == 400
    assert "Expliquez le refus" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "pending"


def test_non_admin_gets_403_on_the_erasure_pages(client):
    request = services.erasure_request_create(actor=UserFactory())
    agent = UserFactory()
    MembershipFactory(user=agent, role=Role.DEPARTMENT_AGENT)
    client.force_login(agent)
    assert client.get(reverse("accounts:erasure_requests")).status_code == 403
    response = client.post(
        reverse("accounts:erasure_request_process", args=[request.pk]),
        {f"r{request.pk}-decision": "approve"},
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "pending"


def test_erasure_clears_the_messages_sent_to_the_person():
    user = UserFactory(email="marie@example.org", first_name="Marie")
    sent = Notification.objects.create(
        key="test:sent",
        channel="email",
        user=user,
        recipient_name="Marie Dupont",
        recipient_email="marie@example.org",
        subject="Rendez-vous",
        body="Demain 10 h",
        status="sent",
        sent_at=timezone.now(),
    )
    pending = Notification.objects.create(
        key="test:pending",
        channel="email",
        user=user,
        recipient_name="Marie Dupont",
        recipient_email="marie@example.org",
        subject="Rappel",
        body="Après-demain",
    )
    request = services.erasure_request_create(actor=user)
    services.erasure_request_process(actor=admin_user(), request=request, approve=True, response="")
    for notification in (sent, pending):
        notification.refresh_from_db()
        assert notification.recipient_email == ""
        assert notification.body == ""
        assert notification.recipient_name == "Personne effacée"
    assert sent.status == "sent"
    assert pending.status == "failed"  # never sent to an erased person


def test_a_staff_member_s_export_leaves_out_the_people_they_acted_on():
    mediator = UserFactory(first_name="Paul", last_name="Médiateur")
    MembershipFactory(user=mediator, role=Role.MEDIATOR)
    jeanne = services.user_create_on_behalf(actor=mediator, first_name="Jeanne", last_name="Martin")
    data = services.personal_data_export(actor=mediator, user=mediator)
    rows = [r for r in data["audit_log"] if r["action"] == "accounts.user_created_on_behalf"]
    assert len(rows) == 1
    assert "Jeanne" not in json.dumps(data)

    # The other way round: what staff wrote about the person keeps the action and the date,
    # with a neutral author, and neither the staff member's address nor the details.
    admin = admin_user(first_name="Alice", last_name="Administratrice")
    services.user_update_contact(
        actor=admin,
        user=jeanne,
        email="jeanne@example.org",
        phone="",
        home_commune=None,
        prefers_sms=False,
        prefers_letter=False,
        ip_address="203.0.113.9",
    )
    audit_log(
        actor=admin,
        action="test.admin_note",
        target=jeanne,
        data={"note": "Appel de Mme Martin, voir Alice"},
        ip_address="203.0.113.9",
    )
    audit_log(actor=None, action="test.system", target=jeanne, ip_address="198.51.100.66")
    audit_log(actor=jeanne, action="test.own", target=jeanne, ip_address="192.0.2.44")

    exported = services.personal_data_export(actor=jeanne, user=jeanne)
    rows = {row["action"]: row for row in exported["audit_log"]}
    assert rows["accounts.contact_updated"] == {
        "date": rows["accounts.contact_updated"]["date"],
        "actor": "l'administration",
        "action": "accounts.contact_updated",
        "target_type": "accounts.user",
        "target": "",
        "details": {},
        "ip_address": None,
    }
    assert rows["test.admin_note"]["actor"] == "l'administration"
    assert rows["test.admin_note"]["details"] == {}
    assert rows["accounts.user_created_on_behalf"]["actor"] == "un agent"
    assert (rows["test.system"]["actor"], rows["test.system"]["ip_address"]) == (
        "la plateforme",
        None,
    )
    # The person's own rows stay whole.
    assert rows["test.own"]["ip_address"] == "192.0.2.44"
    text = json.dumps(exported, ensure_ascii=False)
    for staff_data in ("203.0.113.9", "198.51.100.66", "Alice", "Administratrice", "Appel de"):
        assert staff_data not in text


def test_addresses_are_recorded_on_exports_and_erasure(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("accounts:personal_data_download"), REMOTE_ADDR="192.0.2.21")
    client.post(
        reverse("accounts:erasure_request"),
        {"reason": "", "confirm": "on"},
        REMOTE_ADDR="192.0.2.22",
    )
    request = PersonalDataRequest.objects.get()
    force_login_verified(client, admin_user())
    client.post(
        reverse("accounts:erasure_request_process", args=[request.pk]),
        {f"r{request.pk}-decision": "approve"},
        REMOTE_ADDR="192.0.2.23",
    )
    addresses = dict(AuditLog.objects.values_list("action", "ip_address"))
    assert addresses["accounts.personal_data_exported"] == "192.0.2.21"
    assert addresses["accounts.erasure_requested"] == "192.0.2.22"
    assert addresses["accounts.erasure_approved"] == "192.0.2.23"
    assert addresses["accounts.user_anonymised"] == "192.0.2.23"


def test_two_simultaneous_erasure_requests_give_one_request_and_no_error(monkeypatch):
    """Both see no pending request, both insert: the database's constraint (one pending
    request per person) refuses the second, which gets the first one, as the check would."""
    user = UserFactory()
    first = services.erasure_request_create(actor=user, reason="premier onglet")
    real = services.erasure_request_pending_for
    calls = []

    def not_yet_seen(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(services, "erasure_request_pending_for", not_yet_seen)
    assert services.erasure_request_create(actor=user, reason="second onglet") == first
    assert PersonalDataRequest.objects.count() == 1


def test_the_processing_page_of_one_request_shows_its_form(client):
    request = services.erasure_request_create(actor=UserFactory(first_name="Marie"))
    services.erasure_request_create(actor=UserFactory(first_name="Paul"))
    force_login_verified(client, admin_user())
    html = client.get(reverse("accounts:erasure_request_process", args=[request.pk])).content
    assert b"Marie" in html
    assert b"Paul" not in html
