"""Test-suite wiring shared by every app.

- Tests marked `postgres` run only when DATABASE_URL points at PostgreSQL (they prove what
  SQLite cannot: real concurrency, database-enforced guarantees). Elsewhere they are deselected,
  not skipped: CI runs them.
- Tests marked `browser` run only when a Chromium binary is installed (CI installs Debian's).
"""

import os
import shutil

import pytest


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    has_chromium = chromium_path() is not None
    selected, deselected = [], []
    for item in items:
        if (item.get_closest_marker("postgres") and not on_postgres) or (
            item.get_closest_marker("browser") and not has_chromium
        ):
            deselected.append(item)
        else:
            selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_report_header(config):
    from django.db import connection

    return [
        f"database: {connection.vendor}",
        f"chromium: {chromium_path() or 'absent (browser tests deselected)'}",
    ]


@pytest.fixture
def cantal(db):
    """The real Cantal reference data (250 communes), loaded through the service."""
    from cybercantal.territory.services import territory_load

    return territory_load(code="15")


@pytest.fixture(autouse=True)
def sms_outbox():
    """The SMS "sent" by LocmemSmsBackend during the test, like pytest-django's mailoutbox."""
    from cybercantal.core.notifications import sms

    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache, rules in the search's memory: every test starts
    with none (a rolled-back database gives the next resource the same key and version)."""
    from django.core.cache import cache

    from cybercantal.booking import rules_cache

    cache.clear()
    rules_cache.clear()
    yield
    cache.clear()
