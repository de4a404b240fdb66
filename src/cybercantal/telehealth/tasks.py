"""Background work of telehealth.

`register()` (to be called from registrations.register_all) registers the periodic jobs that
`manage.py run_scheduler` (core.scheduler) enqueues when their interval has elapsed:
- the retention of teleconsultation data (retention.retention_apply), daily: the periods are
  counted in days and months, a day late at most is fine, and a run that finds nothing due is
  a few queries that write nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from django_tasks import task


@task()
def retention_apply_task() -> dict[str, int]:
    """Erase the data whose retention period has passed (telehealth.retention); returns the
    counts per kind of record. Safe to run twice: the second run finds nothing."""
    from .retention import retention_apply

    return asdict(retention_apply())


def register() -> None:
    from cybercantal.core.scheduler import PeriodicJob, periodic_jobs

    periodic_jobs.register(
        PeriodicJob(
            key="telehealth.retention",
            task=retention_apply_task,
            every=dt.timedelta(days=1),
        )
    )
