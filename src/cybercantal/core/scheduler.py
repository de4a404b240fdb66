"""Periodic jobs: retention purges, notification retries.

django-tasks runs tasks but schedules nothing. Each module registers its periodic jobs in
`AppConfig.ready()`; `manage.py run_scheduler` (beside the worker) enqueues each job when its
interval has elapsed. The decision is taken under a row lock (PeriodicJobRun), so several
schedulers — one per node — never enqueue the same run twice.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import PeriodicJobRun
from .registries import Registry


@dataclass(frozen=True)
class PeriodicJob:
    key: str
    task: Any  # a django_tasks Task
    every: datetime.timedelta
    kwargs: dict[str, Any] = field(default_factory=dict)
    order: int = 0


periodic_jobs: Registry[PeriodicJob] = Registry("periodic_jobs")


def periodic_jobs_enqueue_due(*, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every registered job whose interval has elapsed since it was last enqueued;
    return their keys. A job never enqueued runs at once."""
    now = now or timezone.now()
    enqueued = []
    for job in periodic_jobs:
        if _claim(job, now):
            job.task.enqueue(**job.kwargs)
            enqueued.append(job.key)
    return enqueued


def _claim(job: PeriodicJob, now: datetime.datetime) -> bool:
    with transaction.atomic():
        run = PeriodicJobRun.objects.select_for_update().filter(key=job.key).first()
        if run is None:
            try:
                with transaction.atomic():
                    PeriodicJobRun.objects.create(key=job.key, last_enqueued_at=now)
            except IntegrityError:  # another scheduler created it first: it has the run
                return False
            return True
        if run.last_enqueued_at + job.every > now:
            return False
        run.last_enqueued_at = now
        run.save(update_fields=["last_enqueued_at"])
        return True
