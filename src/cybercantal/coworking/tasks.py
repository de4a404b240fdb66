"""Background work of the tiers-lieux network.

`register_periodic_jobs()` is called by CoworkingConfig.ready(); `manage.py run_scheduler`
(core.scheduler) enqueues each job when its interval has elapsed:
- the public opening hours of the day (services.hours.place_hours_publish_due), every hour:
  the change is due once a day, at midnight, but the scheduler counts intervals from the last
  run rather than from midnight — run daily, it could leave yesterday's hours published until
  the afternoon. Each run reads one row per place and writes nothing when nothing changed.
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def hours_publish_due_task() -> int:
    """Publish the hours valid today of the places whose hours change by themselves (the
    volunteers' shifts, hours set from a later day); returns how many places were written."""
    from .services.hours import place_hours_publish_due

    return len(place_hours_publish_due())


def register_periodic_jobs() -> None:
    from cybercantal.core.scheduler import PeriodicJob, periodic_jobs

    periodic_jobs.register(
        PeriodicJob(
            key="coworking.hours_publish_due",
            task=hours_publish_due_task,
            every=dt.timedelta(hours=1),
        )
    )
