import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from cybercantal.core.models import PeriodicJobRun
from cybercantal.core.scheduler import PeriodicJob, periodic_jobs, periodic_jobs_enqueue_due

pytestmark = pytest.mark.django_db

calls: list[str] = []


@task()
def record_call(label: str) -> None:
    calls.append(label)


@pytest.fixture
def job():
    calls.clear()
    entry = periodic_jobs.register(
        PeriodicJob(
            key="test.record",
            task=record_call,
            every=datetime.timedelta(hours=1),
            kwargs={"label": "tick"},
        )
    )
    yield entry
    periodic_jobs.unregister(entry.key)


def test_a_job_never_run_is_enqueued_at_once(job):
    assert "test.record" in periodic_jobs_enqueue_due()
    assert calls == ["tick"]
    assert PeriodicJobRun.objects.get(key="test.record").last_enqueued_at is not None


def test_a_job_is_not_enqueued_again_before_its_interval(job):
    now = timezone.now()
    periodic_jobs_enqueue_due(now=now)
    assert "test.record" not in periodic_jobs_enqueue_due(now=now + datetime.timedelta(minutes=59))
    assert calls == ["tick"]


def test_a_job_is_enqueued_again_once_its_interval_has_elapsed(job):
    now = timezone.now()
    periodic_jobs_enqueue_due(now=now)
    assert "test.record" in periodic_jobs_enqueue_due(now=now + datetime.timedelta(hours=1))
    assert calls == ["tick", "tick"]


def test_the_platform_registers_its_retention_and_retry_jobs():
    keys = {job.key for job in periodic_jobs}
    assert {"core.notifications_retry", "accounts.one_time_logins_purge"} <= keys


def test_run_scheduler_once_enqueues_the_due_jobs(job):
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "test.record" in out.getvalue()
    assert calls == ["tick"]
