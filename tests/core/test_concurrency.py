"""Guarantees that only the database can give, proven under real concurrency on PostgreSQL.

Each worker thread uses its own database connection (Django opens one per thread)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django_tasks import task

from cybercantal.core.audit import audit_log
from cybercantal.core.models import AuditLog
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 50
scheduled_runs: list[int] = []


@task()
def count_scheduled_run() -> None:
    scheduled_runs.append(1)


def test_same_email_registered_concurrently_creates_exactly_one_account():
    """50 connections create an account with the same e-mail, in varying case, at the same
    moment: the case-insensitive unique constraint lets exactly one through."""
    user_model = get_user_model()

    def create(i: int) -> str:
        email = "Marie.Dupont@example.org" if i % 2 else "marie.dupont@EXAMPLE.org"
        try:
            with transaction.atomic():
                user_model.objects.create_user(username=f"marie{i}", email=email)
        except IntegrityError:
            return "conflict"
        return "created"

    outcomes = run_concurrently(create, WORKERS)
    assert outcomes.count("created") == 1
    assert outcomes.count("conflict") == WORKERS - 1
    assert user_model.objects.filter(email__iexact="marie.dupont@example.org").count() == 1


def test_audit_log_purge_is_possible_only_when_the_transaction_says_so():
    audit_log(actor=None, action="test.old")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL cybercantal.audit_purge = 'on'")
        cursor.execute("DELETE FROM core_auditlog WHERE action = 'test.old'")
    assert not AuditLog.objects.filter(action="test.old").exists()


def test_concurrent_schedulers_enqueue_a_periodic_job_once():
    import datetime

    from cybercantal.core.scheduler import (
        PeriodicJob,
        periodic_jobs,
        periodic_jobs_enqueue_due,
    )

    scheduled_runs.clear()
    periodic_jobs.register(
        PeriodicJob(
            key="test.concurrent", task=count_scheduled_run, every=datetime.timedelta(hours=1)
        )
    )
    try:
        outcomes = run_concurrently(
            lambda i: "enqueued" if "test.concurrent" in periodic_jobs_enqueue_due() else "no",
            20,
        )
    finally:
        periodic_jobs.unregister("test.concurrent")
    assert outcomes.count("enqueued") == 1
    assert len(scheduled_runs) == 1
