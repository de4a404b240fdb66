"""Reminders (booking.notifications.booking_reminders_send, run every 10 minutes): due ones
found in one query, each sent once even when the job runs twice or two workers race."""

import datetime as dt

import pytest

from cybercantal.booking import notifications, services, tasks
from cybercantal.booking.models import Booking
from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import Notification
from cybercantal.core.scheduler import periodic_jobs
from tests.accounts.factories import UserFactory

from .conftest import NOW, at
from .factories import ResourceFactory, agent_of

pytestmark = pytest.mark.django_db

DAY = "2027-03-02"  # Tuesday; the default reminder is due on Monday at the same time


def book(resources, *, actor=None, day=DAY, start="10:00", end="10:30", **kwargs):
    return services.booking_create(
        actor=actor or UserFactory(),
        resources=resources if isinstance(resources, list) else [resources],
        start=at(day, start),
        end=at(day, end),
        now=NOW,
        **kwargs,
    )


def send(now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return notifications.booking_reminders_send(now=now)


def test_a_reminder_is_sent_once_the_day_before(mailoutbox, django_capture_on_commit_callbacks):
    room = ResourceFactory()
    booking = book(room)
    assert send(at("2027-03-01", "09:59"), django_capture_on_commit_callbacks) == 0
    assert send(at("2027-03-01", "10:00"), django_capture_on_commit_callbacks) == 1
    assert send(at("2027-03-01", "10:10"), django_capture_on_commit_callbacks) == 0

    [message] = mailoutbox
    assert message.subject == "Rappel de votre rendez-vous"
    assert "Nous vous rappelons votre rendez-vous." in message.body
    assert message.attachments == []
    booking.refresh_from_db()
    assert booking.reminder_sent_at == at("2027-03-01", "10:00")


def test_two_workers_racing_send_one_reminder(mailoutbox, django_capture_on_commit_callbacks):
    book(ResourceFactory())
    when = at("2027-03-01", "12:00")
    # Both workers read the due bookings before either claims them.
    stale = list(notifications.bookings_due_for_reminder(now=when))
    assert len(stale) == 1
    assert send(when, django_capture_on_commit_callbacks) == 1

    original = notifications.bookings_due_for_reminder
    notifications.bookings_due_for_reminder = lambda **kwargs: stale
    try:
        assert send(when, django_capture_on_commit_callbacks) == 0
    finally:
        notifications.bookings_due_for_reminder = original
    assert len(mailoutbox) == 1
    assert Notification.objects.filter(key__startswith="booking-reminder:").count() == 1


def test_the_largest_reminder_of_the_resources_applies():
    cabin = ResourceFactory(reminder_hours_before=2)
    doctor = ResourceFactory(reminder_hours_before=48, kind="person")
    booking = book([cabin, doctor], day="2027-03-04")  # Thursday 10:00
    due = notifications.bookings_due_for_reminder
    assert list(due(now=at("2027-03-02", "09:59"))) == []
    assert list(due(now=at("2027-03-02", "10:00"))) == [booking]


def test_no_reminder_when_none_is_wanted_or_possible(django_capture_on_commit_callbacks):
    silent = ResourceFactory(reminder_hours_before=0)
    book(silent)
    room = ResourceFactory(approval_required=True)
    book(room)  # pending
    cancelled = book(ResourceFactory())
    services.booking_cancel(actor=cancelled.user, booking=cancelled, now=NOW)
    late = book(ResourceFactory())
    # Booked after its reminder time (Monday 10:00): the confirmation is enough.
    Booking.objects.filter(pk=late.pk).update(created_at=at("2027-03-01", "12:00"))
    assert send(at("2027-03-01", "23:00"), django_capture_on_commit_callbacks) == 0
    # Started already.
    assert send(at("2027-03-02", "10:00"), django_capture_on_commit_callbacks) == 0


def test_a_moved_booking_is_reminded_again(mailoutbox, django_capture_on_commit_callbacks):
    room = ResourceFactory()
    booking = book(room)
    assert send(at("2027-03-01", "10:05"), django_capture_on_commit_callbacks) == 1
    services.booking_reschedule(
        actor=agent_of(room),
        booking=booking,
        start=at("2027-03-03", "10:00"),
        end=at("2027-03-03", "10:30"),
        now=at("2027-03-01", "11:00"),
    )
    assert send(at("2027-03-02", "10:05"), django_capture_on_commit_callbacks) == 1
    reminders = [m for m in mailoutbox if m.subject == "Rappel de votre rendez-vous"]
    assert len(reminders) == 2
    assert "mercredi 3 mars 2027" in reminders[1].body


def test_a_person_without_an_account_is_reminded_by_sms(
    sms_outbox, django_capture_on_commit_callbacks
):
    room = ResourceFactory(place__phone="04 71 45 00 00")
    book(room, actor=agent_of(room), person=PersonDetails("Paul Vidal", "06 12 34 56 78"))
    sms_outbox.clear()
    assert send(at("2027-03-01", "18:00"), django_capture_on_commit_callbacks) == 1
    [sms] = sms_outbox
    assert sms.text.startswith("CyberCantal : rappel, rendez-vous demain à 10h,")
    assert sms.text.endswith("Empêchement ? Prévenez le 04 71 45 00 00.")


def test_an_unreachable_person_does_not_block_the_others(
    mailoutbox, django_capture_on_commit_callbacks
):
    room = ResourceFactory()
    unreachable = book(room, actor=agent_of(room), person=PersonDetails("Paul", "04 71 00 00 00"))
    book(room, start="11:00", end="11:30")
    assert send(at("2027-03-01", "18:00"), django_capture_on_commit_callbacks) == 2
    assert len(mailoutbox) == 1
    unreachable.refresh_from_db()
    assert unreachable.reminder_sent_at is not None  # not retried forever


def test_the_jobs_are_registered_and_run():
    reminders = periodic_jobs.get("booking.reminders_send")
    assert reminders.every == dt.timedelta(minutes=10)
    assert reminders.task is tasks.booking_reminders_task
    expiry = periodic_jobs.get("booking.waitlist_expire")
    assert expiry.every == dt.timedelta(minutes=1)
    assert tasks.booking_reminders_task.call() == 0
    assert tasks.waitlist_expire_task.call() == 0
