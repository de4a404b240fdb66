"""Notifications: queued in the caller's transaction, sent after commit, never twice."""

import datetime
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus

from cybercantal.core.models import AuditLog, Notification
from cybercantal.core.notifications import (
    Recipient,
    notification_retry_unsent,
    notification_send,
    notifications_erase,
)
from cybercantal.core.notifications import sms as sms_module
from cybercantal.core.notifications.letters import ADDRESS_Y_MM, french_date, letter_render
from cybercantal.core.notifications.sms import (
    ConsoleSmsBackend,
    HttpSmsBackend,
    LocmemSmsBackend,
    SmsSendError,
    normalize_phone,
    sms_segments,
)
from cybercantal.core.notifications.tasks import notification_deliver

from . import pdf_text
from .conftest import login

pytestmark = pytest.mark.django_db

MARIE = Recipient(name="Marie Dupont", email="marie@example.org", user_id=None)
ADDRESS = "12 rue des Forgerons\nLieu-dit Lascelle\n15590 LASCELLE"
PT_PER_MM = 72 / 25.4
A4_HEIGHT_PT = 297 * PT_PER_MM


def send(recipient=MARIE, key="test:1", channels=None, body="Votre code : 123456", **kwargs):
    return notification_send(
        recipient=recipient,
        subject=kwargs.pop("subject", "Votre code de connexion"),
        body=body,
        key=key,
        channels=channels,
        **kwargs,
    )


# --- After commit, and only then ------------------------------------------------------------


def test_email_is_sent_after_commit_only(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [notification] = send()
        assert mailoutbox == []  # still inside the caller's transaction
        assert notification.status == Notification.Status.PENDING

    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["marie@example.org"]
    assert message.subject == "Votre code de connexion"
    assert message.body == "Votre code : 123456"
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert notification.provider_message_id == message.extra_headers["Message-ID"]


def test_nothing_is_sent_or_kept_when_the_caller_rolls_back(
    django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    recipient = Recipient(name="Marie", email="marie@example.org", phone="0612345678")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send(recipient=recipient, channels=["email", "sms"])
        raise RuntimeError("the booking failed")

    assert callbacks == []
    assert mailoutbox == []
    assert sms_outbox == []
    assert not Notification.objects.exists()
    assert not AuditLog.objects.filter(action="notification.queued").exists()


def test_same_key_twice_creates_and_sends_once(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        [first] = send(key="login-code:42:2026-11-28T18:00")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [second] = send(key="login-code:42:2026-11-28T18:00")

    assert second.pk == first.pk
    assert callbacks == []
    assert len(mailoutbox) == 1
    assert Notification.objects.count() == 1
    assert AuditLog.objects.filter(action="notification.queued").count() == 1


def test_the_database_refuses_a_second_row_for_a_key_and_channel():
    send(key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            key="k", channel="email", recipient_name="X", subject="S", body="B"
        )


def test_same_key_adds_only_the_channels_not_yet_used(
    django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    recipient = Recipient(
        name="Marie", email="marie@example.org", phone="0612345678", postal_address=ADDRESS
    )
    with django_capture_on_commit_callbacks(execute=True):
        send(recipient=recipient, channels=["email", "sms"])
    with django_capture_on_commit_callbacks(execute=True):
        notifications = send(recipient=recipient, channels=["letter", "email", "sms"])

    assert [n.channel for n in notifications] == ["letter", "email", "sms"]
    assert len(mailoutbox) == 1
    assert len(sms_outbox) == 1
    assert Notification.objects.count() == 3
    assert Notification.objects.get(channel="letter").status == Notification.Status.SENT


def test_a_single_channel_may_be_given_as_a_string(django_capture_on_commit_callbacks):
    [notification] = send(channels="email")
    assert notification.channel == "email"


def test_retried_task_does_not_send_twice(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send()

    assert notification_deliver.call(notification_id=notification.pk) == "already-sent"
    result = notification_deliver.enqueue(notification_id=notification.pk)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "already-sent"

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_failure_is_recorded_and_a_retry_sends_once(
    django_capture_on_commit_callbacks, sms_outbox, monkeypatch
):
    def provider_down(self, *, to, text):
        raise SmsSendError("prestataire injoignable")

    recipient = Recipient(name="Jean", phone="+33612345678")
    monkeypatch.setattr(LocmemSmsBackend, "send", provider_down)
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(recipient=recipient, channels=["sms"])

    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == 1
    assert "prestataire injoignable" in notification.last_error
    assert notification.sent_at is None
    # The task re-raises, so that the worker marks it failed and it can be retried.
    with pytest.raises(SmsSendError):
        notification_deliver.call(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.attempts == 2

    monkeypatch.undo()
    assert notification_deliver.call(notification_id=notification.pk) == "sent"
    assert notification_deliver.call(notification_id=notification.pk) == "already-sent"

    assert len(sms_outbox) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 3
    assert notification.last_error == ""


def test_retry_unsent_sends_failed_notifications_once(
    django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    monkeypatch.setattr(
        "cybercantal.core.notifications.tasks.email_send",
        lambda **kwargs: (_ for _ in ()).throw(OSError("SMTP en panne")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send()
    monkeypatch.undo()
    Notification.objects.filter(pk=notification.pk).update(
        updated_at=timezone.now() - datetime.timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry_unsent() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry_unsent(ids=[notification.pk]) == 0

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT


def test_a_deleted_notification_is_not_sent():
    assert notification_deliver.call(notification_id=999_999) == "missing"


# --- Audit ----------------------------------------------------------------------------------


def test_each_queued_notification_is_audited_without_its_body(django_user_model):
    agent = django_user_model.objects.create_user(username="agent")
    recipient = Recipient(name="Marie", email="marie@example.org", phone="0612345678")
    notifications = send(recipient=recipient, channels=["email", "sms"], actor=agent)

    rows = AuditLog.objects.filter(action="notification.queued").order_by("id")
    assert [row.target_id for row in rows] == [str(n.pk) for n in notifications]
    assert {row.actor_id for row in rows} == {agent.pk}
    assert rows[0].data == {"channel": "email", "key": "test:1", "user_id": None}
    for row in rows:
        dumped = json.dumps(row.data) + row.target_repr + row.actor_repr
        assert "123456" not in dumped
        assert "Marie" not in dumped


# --- SMS ------------------------------------------------------------------------------------


def test_sms_goes_to_the_locmem_outbox(django_capture_on_commit_callbacks, sms_outbox):
    recipient = Recipient(name="Jean", phone="06 12 34 56 78")
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(recipient=recipient, channels=["sms"])

    [sms] = sms_outbox
    assert sms.to == "+33612345678"
    assert sms.text == "Votre code : 123456"
    notification.refresh_from_db()
    assert notification.recipient_phone == "+33612345678"
    assert notification.provider_message_id == sms.message_id


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("12", "n'est pas un numéro de téléphone valide"),
        ("pas de téléphone", "n'est pas un numéro de téléphone valide"),
        ("04 71 45 15 15", "n'est pas un numéro de mobile"),
    ],
)
def test_bad_phone_number_is_refused_in_french(phone, message):
    with pytest.raises(ValueError, match=message):
        send(recipient=Recipient(name="Jean", phone=phone), channels=["sms"])
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ("sms", "aucun numéro de téléphone mobile"),
        ("email", "aucune adresse de courriel"),
        ("letter", "aucune adresse postale"),
        ("fax", "Canal de notification inconnu"),
    ],
)
def test_impossible_channel_is_refused_in_french(channel, message):
    with pytest.raises(ValueError, match=message):
        send(recipient=Recipient(name="Jean"), channels=[channel])
    assert not Notification.objects.exists()


def test_recipient_without_a_name_is_refused_in_french():
    with pytest.raises(ValueError, match="nom du destinataire"):
        send(recipient=Recipient(name=" ", email="x@example.org"))


def test_invalid_email_is_refused_in_french():
    with pytest.raises(ValueError, match="n'est pas une adresse de courriel valide"):
        send(recipient=Recipient(name="Jean", email="jean@"), channels=["email"])


def test_nothing_is_queued_if_one_requested_channel_is_impossible():
    with pytest.raises(ValueError, match="aucun numéro"):
        send(channels=["email", "sms"])
    assert not Notification.objects.exists()


def test_sms_longer_than_three_segments_is_refused():
    recipient = Recipient(name="Jean", phone="0612345678")
    send(recipient=recipient, channels=["sms"], body="a" * 459, key="ok")  # 3 × 153
    with pytest.raises(ValueError, match="trop long : 4 SMS"):
        send(recipient=recipient, channels=["sms"], body="a" * 460, key="too-long")


def test_sms_segments_follow_gsm_and_ucs2_rules():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("é" * 160) == 1  # é is in the GSM alphabet
    assert sms_segments("€" * 80) == 1  # extension table: two septets each
    assert sms_segments("€" * 81) == 2
    assert sms_segments("ê" * 70) == 1  # ê is not: the whole text goes UCS-2
    assert sms_segments("ê" * 71) == 2
    assert sms_segments("ê" * 201) == 3


def test_phone_numbers_are_normalised_to_e164():
    assert normalize_phone("06 12 34 56 78") == "+33612345678"
    assert normalize_phone("+33 6 12 34 56 78", mobile=True) == "+33612345678"
    assert normalize_phone("04 71 45 15 15") == "+33471451515"  # a landline, not for SMS
    assert normalize_phone("+32 470 12 34 56", mobile=True) == "+32470123456"


def test_console_backend_prints_the_sms():
    stream = io.StringIO()
    message_id = ConsoleSmsBackend(stream=stream).send(to="+33612345678", text="Bonjour")
    assert message_id in stream.getvalue()
    assert "+33612345678" in stream.getvalue()
    assert "Bonjour" in stream.getvalue()


class _Provider(BaseHTTPRequestHandler):
    requests: list = []
    answer: tuple[int, bytes, dict] = (201, b'{"id": "msg-1"}', {})

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        type(self).requests.append((dict(self.headers), json.loads(self.rfile.read(length))))
        status, body, headers = type(self).answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def provider():
    _Provider.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield _Provider, f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_backend_posts_json_with_bearer_token(provider):
    handler, url = provider
    handler.answer = (201, b'{"id": "msg-1"}', {})
    backend = HttpSmsBackend(url=url, token="secret-token", sender="CANTAL", timeout=5)

    assert backend.send(to="+33612345678", text="Bonjour Élodie") == "msg-1"
    [(headers, payload)] = handler.requests
    assert headers["Authorization"] == "Bearer secret-token"
    assert payload == {"from": "CANTAL", "to": "+33612345678", "text": "Bonjour Élodie"}


@pytest.mark.parametrize(
    "answer",
    [
        (500, b'{"error": "boom"}', {}),
        (401, b'{"error": "bad token"}', {}),
        (302, b"", {"Location": "http://127.0.0.1:1/elsewhere"}),
    ],
)
def test_http_backend_raises_on_anything_but_2xx(provider, answer):
    handler, url = provider
    handler.answer = answer
    backend = HttpSmsBackend(url=url, token="secret-token", sender="CANTAL", timeout=5)
    with pytest.raises(SmsSendError, match=f"HTTP {answer[0]}"):
        backend.send(to="+33612345678", text="Bonjour")


def test_http_backend_raises_when_the_provider_is_unreachable():
    backend = HttpSmsBackend(url="http://127.0.0.1:9/sms", token="t", sender="S", timeout=2)
    with pytest.raises(SmsSendError, match="injoignable"):
        backend.send(to="+33612345678", text="Bonjour")


def test_http_backend_needs_https_and_credentials(settings):
    with pytest.raises(ImproperlyConfigured, match="https"):
        HttpSmsBackend(url="http://sms.example.org/send", token="t")
    settings.SMS_HTTP_URL = ""
    with pytest.raises(ImproperlyConfigured, match="obligatoires"):
        HttpSmsBackend()


def test_sms_backend_comes_from_settings(settings, django_capture_on_commit_callbacks, capsys):
    settings.SMS_BACKEND = "cybercantal.core.notifications.sms.ConsoleSmsBackend"
    with django_capture_on_commit_callbacks(execute=True):
        send(recipient=Recipient(name="Jean", phone="0612345678"), channels=["sms"])
    assert "Votre code : 123456" in capsys.readouterr().out
    assert sms_module.outbox == []


# --- Letters --------------------------------------------------------------------------------


def test_letter_pdf_is_generated_with_accents_and_window_address(
    django_capture_on_commit_callbacks,
):
    recipient = Recipient(
        name="Élodie Vergne", postal_address="12 rue des Forgerons\n15000 AURILLAC"
    )
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(
            recipient=recipient,
            channels=["letter"],
            subject="Votre pass tiers-lieu",
            body="Bonjour,\n\nVotre pass mensuel coûte 45 € ; il est valable dès réception.",
        )

    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.letter_pdf.name.startswith("letters/")
    with notification.letter_pdf.open("rb") as f:
        pdf = f.read()
    assert pdf.startswith(b"%PDF")
    assert pdf_text.page_count(pdf) == 1

    content = pdf_text.text(pdf)
    for expected in [
        "Cantal",
        "CyberCantal",
        "Élodie Vergne",
        "12 rue des Forgerons",
        "15000 AURILLAC",
        f"Le {french_date(timezone.localdate(notification.created_at))}",
        "Votre pass tiers-lieu",
        "Votre pass mensuel coûte 45 € ; il est valable dès réception.",
    ]:
        assert expected in content

    # "Objet : …" (the space before the colon is a no-break space, drawn with the space glyph).
    assert re.search(r"^Objet\s: Votre pass tiers-lieu$", content, re.MULTILINE)

    # The recipient's name is where a DL window envelope shows it.
    [name] = [run for run in pdf_text.text_runs(pdf) if run.text == "Élodie Vergne"]
    assert 100 <= name.x / PT_PER_MM <= 110
    assert ADDRESS_Y_MM <= (A4_HEIGHT_PT - name.y) / PT_PER_MM <= ADDRESS_Y_MM + 8


def test_long_letter_flows_onto_more_pages():
    pdf = letter_render(
        recipient_name="Jean",
        postal_address="1 place de la Mairie\n15100 SAINT-FLOUR",
        subject="Compte rendu",
        body="Une ligne de compte rendu.\n" * 120,
        day=datetime.date(2026, 11, 28),
    )
    assert pdf_text.page_count(pdf) >= 3
    assert "Le 28 novembre 2026" in pdf_text.text(pdf)


def test_french_date():
    assert french_date(datetime.date(2026, 12, 1)) == "1er décembre 2026"
    assert french_date(datetime.date(2027, 8, 15)) == "15 août 2027"


# --- Automatic choice of channel ------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipient", "channel"),
    [
        (Recipient(name="A", email="a@example.org", phone="0612345678"), "email"),
        (Recipient(name="B", phone="0612345678", postal_address=ADDRESS), "sms"),
        (Recipient(name="C", postal_address=ADDRESS), "letter"),
        # A landline cannot take an SMS: the letter is the way.
        (Recipient(name="D", phone="0471451515", postal_address=ADDRESS), "letter"),
        (
            Recipient(name="E", email="e@example.org", phone="0612345678", prefers_sms=True),
            "sms",
        ),
        (
            Recipient(name="F", email="f@example.org", postal_address=ADDRESS, prefers_letter=True),
            "letter",
        ),
        # A preference that cannot be honoured falls back on the usual order.
        (Recipient(name="G", email="g@example.org", prefers_letter=True), "email"),
    ],
)
def test_channel_is_chosen_automatically(
    recipient, channel, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(recipient=recipient)
    assert notification.channel == channel
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert len(mailoutbox) + len(sms_outbox) == (0 if channel == "letter" else 1)


def test_unreachable_recipient_is_refused_in_french():
    with pytest.raises(ValueError, match="Impossible de joindre Jean"):
        send(recipient=Recipient(name="Jean", phone="0471451515"))


def test_automatic_choice_is_not_repeated_for_the_same_key(
    django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        send(recipient=Recipient(name="A", email="a@example.org"), key="reminder:7")
    with django_capture_on_commit_callbacks(execute=True):
        [again] = send(recipient=Recipient(name="A", phone="0612345678"), key="reminder:7")
    assert again.channel == "email"
    assert len(mailoutbox) == 1
    assert sms_outbox == []


def test_recipient_from_user_reads_contact_details_and_preferences(
    django_capture_on_commit_callbacks, sms_outbox
):
    user = get_user_model().objects.create_user(
        username="jdupont",
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne@example.org",
        phone="+33612345678",
        postal_address="3 rue du Lac\n15000 AURILLAC",
        prefers_sms=True,
    )
    recipient = Recipient.from_user(user)
    assert recipient == Recipient(
        name="Jeanne Dupont",
        email="jeanne@example.org",
        phone="+33612345678",
        postal_address="3 rue du Lac\n15000 AURILLAC",
        user_id=user.pk,
        prefers_sms=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(recipient=recipient)
    assert notification.channel == "sms"
    assert notification.user_id == user.pk
    assert len(sms_outbox) == 1


def test_recipient_from_user_without_a_full_name_uses_the_username(django_user_model):
    user = django_user_model.objects.create_user(username="m.martin")
    assert Recipient.from_user(user).name == "m.martin"


def test_erasing_a_person_deletes_their_notifications_and_letters(
    django_user_model, django_capture_on_commit_callbacks
):
    user = django_user_model.objects.create_user(
        username="jd", email="jd@example.org", postal_address="1 rue Haute\n15000 AURILLAC"
    )
    other = send(key="other")
    with django_capture_on_commit_callbacks(execute=True):
        mine = send(recipient=Recipient.from_user(user), key="mine", channels=["email", "letter"])
    letter = Notification.objects.get(pk=mine[1].pk)
    storage = letter.letter_pdf.storage
    assert storage.exists(letter.letter_pdf.name)

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_erase(user_id=user.pk) == 2

    assert not storage.exists(letter.letter_pdf.name)
    assert list(Notification.objects.all()) == other


# --- Admin ----------------------------------------------------------------------------------


@pytest.fixture
def letter(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(
            recipient=Recipient(name="Jean", postal_address="1 place de la Mairie\n15000 AURILLAC"),
            channels=["letter"],
        )
    return notification


def test_agent_downloads_the_letter_from_the_admin_and_it_is_audited(
    platform_admin_client, platform_admin, letter
):
    changelist = platform_admin_client.get(reverse("admin:core_notification_changelist"))
    assert changelist.status_code == 200
    url = reverse("admin:core_notification_letter", args=[letter.pk])
    assert url in changelist.content.decode()

    response = platform_admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    row = AuditLog.objects.get(action="notification.letter_downloaded")
    assert row.actor == platform_admin
    assert row.target_id == str(letter.pk)


def test_letter_download_is_refused_to_others(client, django_user_model, platform_admin, letter):
    url = reverse("admin:core_notification_letter", args=[letter.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page

    staff = django_user_model.objects.create_superuser(username="root", password="x")
    login(client, staff)  # Django's superuser flag opens nothing here
    assert client.get(url).status_code == 302

    login(client, platform_admin, verified=False)  # second factor not entered
    response = client.get(url)
    assert response.status_code == 302  # to the second-factor page
    assert not response.url.startswith(url)

    assert not AuditLog.objects.filter(action="notification.letter_downloaded").exists()


def test_admin_shows_notifications_read_only_and_without_body(platform_admin_client):
    [notification] = send()

    page = platform_admin_client.get(
        reverse("admin:core_notification_change", args=[notification.pk])
    )
    assert page.status_code == 200
    assert "123456" not in page.content.decode()  # the login code stays out of sight
    assert platform_admin_client.get(reverse("admin:core_notification_add")).status_code == 403
    delete_url = reverse("admin:core_notification_delete", args=[notification.pk])
    assert platform_admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Notification.objects.filter(pk=notification.pk).exists()


def test_admin_action_retries_unsent_notifications(
    platform_admin_client, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(
        "cybercantal.core.notifications.service.transaction.on_commit",
        lambda func, robust=False: None,  # as if the queue had been down at commit time
    )
    [notification] = send()
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        response = platform_admin_client.post(
            reverse("admin:core_notification_changelist"),
            {"action": "retry", "_selected_action": [notification.pk]},
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT


def test_a_sensitive_message_is_blanked_once_delivered(django_capture_on_commit_callbacks):
    from cybercantal.core.notifications.tasks import SENSITIVE_BODY_PLACEHOLDER

    recipient = Recipient(name="Jeanne Martin", phone="+33639980001")
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notification_send(
            recipient=recipient,
            subject="Code",
            body="Votre code est 123456.",
            key="test-sensitive",
            channels=["sms"],
            sensitive=True,
        )
    notification.refresh_from_db()
    assert sms_module.outbox[-1].text == "Votre code est 123456."
    assert notification.body == SENSITIVE_BODY_PLACEHOLDER
    assert "123456" not in notification.body


def test_an_ordinary_message_keeps_its_body(django_capture_on_commit_callbacks):
    recipient = Recipient(name="Jeanne Martin", phone="+33639980001")
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notification_send(
            recipient=recipient,
            subject="Rappel",
            body="Rendez-vous demain à 10 h.",
            key="test-not-sensitive",
            channels=["sms"],
        )
    notification.refresh_from_db()
    assert notification.body == "Rendez-vous demain à 10 h."


@pytest.mark.parametrize("raw", ["06 39 98 00 01", "+33639980001", "0639981234"])
def test_numbers_reserved_for_fiction_are_accepted_as_mobiles(raw):
    assert normalize_phone(raw, mobile=True).startswith("+3363998")


@pytest.mark.parametrize("raw", ["06 39 98 00 0", "+336399800011"])
def test_malformed_fiction_numbers_are_refused(raw):
    with pytest.raises(ValueError, match="valide"):
        normalize_phone(raw)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+33639980001", "06 39 98 00 01"),
        ("+33471462020", "04 71 46 20 20"),
        ("+32470123456", "+32 470 12 34 56"),
        ("pas un numéro", "pas un numéro"),
    ],
)
def test_phone_display_is_how_people_write_numbers(stored, shown):
    from cybercantal.core.notifications.sms import phone_display

    assert phone_display(stored) == shown


def test_a_sensitive_message_that_fails_is_blanked_and_never_retried(
    django_capture_on_commit_callbacks, sms_outbox, monkeypatch
):
    from cybercantal.core.notifications import notification_retry_unsent
    from cybercantal.core.notifications.tasks import SENSITIVE_BODY_PLACEHOLDER

    def provider_down(self, *, to, text):
        raise SmsSendError("prestataire injoignable")

    monkeypatch.setattr(LocmemSmsBackend, "send", provider_down)
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notification_send(
            recipient=Recipient(name="Jean", phone="+33612345678"),
            subject="Code",
            body="Votre code est 654321.",
            key="test-sensitive-failure",
            channels=["sms"],
            sensitive=True,
        )
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification.body == SENSITIVE_BODY_PLACEHOLDER
    monkeypatch.undo()
    Notification.objects.filter(pk=notification.pk).update(
        updated_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert notification_retry_unsent() == 0
    assert notification_retry_unsent(ids=[notification.pk]) == 0
    assert sms_outbox == []


def test_a_message_too_long_for_sms_goes_by_another_way(django_capture_on_commit_callbacks):
    recipient = Recipient(
        name="Jeanne", phone="+33612345678", email="jeanne@example.org", prefers_sms=True
    )
    long_text = "Votre demande a été refusée pour la raison suivante : " + "ê" * 300
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notification_send(
            recipient=recipient, subject="Votre demande", body=long_text, key="test-too-long"
        )
    assert notification.channel == Notification.Channel.EMAIL
