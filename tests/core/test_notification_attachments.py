"""E-mail attachments and per-channel texts of notification_send (core.notifications):
kept until the e-mail is sent, then deleted; nothing stored if the caller rolls back."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cybercantal.core.models import Notification
from cybercantal.core.notifications import (
    Recipient,
    notification_retry_unsent,
    notification_send,
    notifications_erase,
)
from cybercantal.core.notifications.attachments import attachments_path
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

MARIE = Recipient(name="Marie Dupont", email="marie@example.org", phone="+33612345678")
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
INVITATION = ("rendez-vous.ics", ICS, "text/calendar; method=REQUEST; charset=utf-8")


def stored_files():
    try:
        return default_storage.listdir("notification-attachments")[1]
    except FileNotFoundError:
        return []


def send(**kwargs):
    kwargs.setdefault("recipient", MARIE)
    kwargs.setdefault("subject", "Votre rendez-vous")
    kwargs.setdefault("body", "Le texte long du courriel.")
    kwargs.setdefault("key", "test:attachments")
    return notification_send(**kwargs)


def test_an_email_carries_its_attachments_then_forgets_them(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(
            channels=["email"],
            attachments=[INVITATION, ("note.pdf", b"%PDF-1.4", "application/pdf")],
        )
    [message] = mailoutbox
    calendar, pdf = message.attachments
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "rendez-vous.ics"
    assert calendar.get_payload(decode=True) == ICS
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_payload(decode=True) == b"%PDF-1.4"
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert not default_storage.exists(attachments_path(notification.pk))
    assert stored_files() == []


def test_nothing_is_stored_when_the_caller_rolls_back(
    mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send(channels=["email"], attachments=[INVITATION])
        raise RuntimeError
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mailoutbox == []
    assert stored_files() == []


def test_a_failed_email_keeps_its_attachment_for_the_retry(
    mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(
        "cybercantal.core.notifications.tasks.email_send",
        lambda **kwargs: (_ for _ in ()).throw(OSError("SMTP en panne")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(channels=["email"], attachments=[INVITATION])
    monkeypatch.undo()
    assert default_storage.exists(attachments_path(notification.pk))
    Notification.objects.filter(pk=notification.pk).update(
        updated_at=timezone.now() - datetime.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry_unsent() == 1
    [message] = mailoutbox
    assert message.attachments[0].get_payload(decode=True) == ICS
    assert not default_storage.exists(attachments_path(notification.pk))


def test_each_channel_gets_its_own_text_and_only_email_gets_attachments(
    mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email, sms = send(
            channels=["email", "sms"],
            bodies={"sms": "Le texte court."},
            attachments=[INVITATION],
        )
    assert sms_outbox[0].text == "Le texte court."
    assert mailoutbox[0].body == "Le texte long du courriel."
    assert email.body == "Le texte long du courriel." and sms.body == "Le texte court."
    assert not default_storage.exists(attachments_path(sms.pk))


def test_the_automatic_choice_uses_the_text_of_the_chosen_channel(
    sms_outbox, django_capture_on_commit_callbacks
):
    prefers_sms = Recipient(name="Paul", phone="+33612345678", prefers_sms=True)
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(
            recipient=prefers_sms, bodies={"sms": "Court.", "letter": "Madame, Monsieur,"}
        )
    assert notification.channel == "sms"
    assert sms_outbox[0].text == "Court."


def test_a_too_long_sms_text_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match="trop long"):
        send(channels=["sms"], bodies={"sms": "ê" * 300})
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "attachment",
    [
        ("../../etc/passwd", b"x", "text/plain"),
        ("", b"x", "text/plain"),
        ("a.txt", 12, "text/plain"),
        ("a.txt", b"x", "pas-un-type"),
        ("a.txt", b"x"),
        ("gros.bin", b"x" * (6 * 1024 * 1024), "application/octet-stream"),
    ],
)
def test_bad_attachments_are_refused_before_anything_is_written(attachment):
    with pytest.raises(ValueError):
        send(channels=["email"], attachments=[attachment])
    assert not Notification.objects.exists()


def test_unknown_channel_in_bodies_is_refused():
    with pytest.raises(ValueError, match="inconnu"):
        send(channels=["email"], bodies={"fax": "..."})


def test_erasure_deletes_attachments_waiting_to_be_sent(
    monkeypatch, django_capture_on_commit_callbacks
):
    user = UserFactory()
    monkeypatch.setattr(
        "cybercantal.core.notifications.tasks.email_send",
        lambda **kwargs: (_ for _ in ()).throw(OSError("SMTP en panne")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = send(
            recipient=Recipient.from_user(user), channels=["email"], attachments=[INVITATION]
        )
    assert default_storage.exists(attachments_path(notification.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_erase(user_id=user.pk) == 1
    assert not default_storage.exists(attachments_path(notification.pk))
