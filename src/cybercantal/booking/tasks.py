"""Background work of the booking engine.

`register_periodic_jobs()` is called by BookingConfig.ready(); `manage.py run_scheduler`
(core.scheduler) enqueues each job when its interval has elapsed:
- reminders, every 10 minutes (a reminder is due 24 hours before by default: ten minutes late
  at most is fine, and each run is one query when nothing is due);
- the waiting list's expired offers, every minute (an offer is held 30 minutes: the next in
  line should not wait much longer than that);
- the waiting list's retention purge, daily.
Both are safe to run twice at once (conditional updates, row locks, idempotency keys).
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task(queue_name="notifications")
def booking_event_task(
    *, booking_id: int, event: str, extra: str = "", extra_sms: str = ""
) -> None:
    """Tell the person about a booking event and let the waiting list know of a freed slot,
    in the worker: the request that booked or cancelled does not pay for composing messages,
    calendar attachments and waiting-list offers (half of a booking's CPU time, measured in
    bench/README.md)."""
    from .notifications import booking_event

    booking_event(booking_id=booking_id, event=event, extra=extra, extra_sms=extra_sms)


@task()
def booking_reminders_task() -> int:
    """Send the reminders that are due (booking.notifications.booking_reminders_send)."""
    from .notifications import booking_reminders_send

    return booking_reminders_send()


@task()
def waitlist_offer_task(*, booking_id: int) -> int:
    """A booking was cancelled: offer its slot to the waiting list, in the worker rather than
    in the request that cancelled it (a cancelled day frees many slots). Returns how many
    offers were made."""
    from .waitlist import waitlist_booking_cancelled

    return len(waitlist_booking_cancelled(booking_id=booking_id))


@task()
def waitlist_purge_task() -> int:
    """Retention: delete the waiting-list entries whose window ended a month ago."""
    from .waitlist import waitlist_purge

    return waitlist_purge()


@task()
def waitlist_expire_task() -> int:
    """End the waiting-list offers whose hold has expired and offer their slots to the next
    in line (booking.waitlist.waitlist_expire_holds)."""
    from .waitlist import waitlist_expire_holds

    return waitlist_expire_holds()


def register_periodic_jobs() -> None:
    from cybercantal.core.scheduler import PeriodicJob, periodic_jobs

    # Imported for its signal receiver: a lifted (deleted) closure offers its slots to the
    # waiting list.
    from . import waitlist  # noqa: F401

    periodic_jobs.register(
        PeriodicJob(
            key="booking.reminders_send",
            task=booking_reminders_task,
            every=dt.timedelta(minutes=10),
        )
    )
    periodic_jobs.register(
        PeriodicJob(
            key="booking.waitlist_expire",
            task=waitlist_expire_task,
            every=dt.timedelta(minutes=1),
        )
    )
    periodic_jobs.register(
        PeriodicJob(
            key="booking.waitlist_purge",
            task=waitlist_purge_task,
            every=dt.timedelta(days=1),
        )
    )
