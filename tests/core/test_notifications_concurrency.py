"""Never twice, under real concurrency on PostgreSQL: the same key requested from many
connections at once, and the same notification delivered by several workers at once."""

import time

import pytest
from django.db import transaction

from cybercantal.core.models import Notification
from cybercantal.core.notifications import Recipient, notification_send
from cybercantal.core.notifications import tasks as tasks_module
from cybercantal.core.notifications.tasks import notification_deliver
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 20


def test_same_key_from_many_connections_sends_one_email(mailoutbox):
    def request(i: int) -> int:
        with transaction.atomic():
            [notification] = notification_send(
                recipient=Recipient(name="Marie", email="marie@example.org"),
                subject="Rappel",
                body="Votre rendez-vous est demain.",
                key="reminder:booking:1",
                channels=["email"],
            )
        return notification.pk

    outcomes = run_concurrently(request, WORKERS)
    assert len(set(outcomes)) == 1, outcomes
    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


def test_same_notification_delivered_by_many_workers_is_sent_once(mailoutbox, monkeypatch):
    notification = Notification.objects.create(
        key="k",
        channel=Notification.Channel.EMAIL,
        recipient_name="Marie",
        recipient_email="marie@example.org",
        subject="Rappel",
        body="Demain.",
    )
    real_send = tasks_module.email_send

    def slow_send(**kwargs):
        time.sleep(0.2)  # a slow provider: workers pile up on the row lock meanwhile
        return real_send(**kwargs)

    monkeypatch.setattr(tasks_module, "email_send", slow_send)
    outcomes = run_concurrently(
        lambda i: notification_deliver.call(notification_id=notification.pk), 8
    )

    assert sorted(outcomes) == ["already-sent"] * 7 + ["sent"]
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1
