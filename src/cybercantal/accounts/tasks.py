"""Background work of the accounts app.

Periodic ones are registered in AccountsConfig.ready() and enqueued by
`manage.py run_scheduler` (core.scheduler)."""

from datetime import timedelta

from django_tasks import task

from . import services


@task()
def one_time_logins_purge_task(*, older_than_days: int = 30) -> int:
    """Delete one-time logins expired for more than `older_than_days` days (retention of
    personal data: the audit log keeps the trace of each login). Safe to run repeatedly."""
    return services.one_time_logins_purge(older_than=timedelta(days=older_than_days))
