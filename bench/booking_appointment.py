"""The same availability computation in django-appointment, for comparison.

Runs in the benchmark-only virtualenv (var/bench-venv, requirements/bench.txt), never in the
project's: django-appointment is not a dependency of CyberCantal. bench_booking.py starts it
as a subprocess, gives it a JSON spec on stdin and reads JSON figures on stdout:

    {"database": "sqlite:///path" | "postgres://…", "repeat": 50,
     "days": ["2026-03-02", …],                      # the 30 days of the window
     "workdays": [[0, "09:00", "17:00"], …],         # weekday (0 = Monday), opening, closing
     "slot_minutes": 30,
     "loads": {"typique": [["2026-03-02", "09:30", "10:00"], …], …}}

For each load it creates one staff member with those working hours and those appointments,
then times django-appointment's own slot computation for each of the 30 days —
appointment.services.get_available_slots_for_staff(date, staff_member, weekday, service), the
function behind its "available slots" and "next available date" views — and counts queries.
On PostgreSQL it creates and drops its own database (bench_appointment_<pid>).
"""

import datetime as dt
import json
import math
import os
import statistics
import sys
import tempfile
import time
from urllib.parse import urlsplit


def configure(database_url: str) -> tuple[dict, str | None]:
    """Django settings for django-appointment alone. Returns the DATABASES entry and, on
    PostgreSQL, the name of the database to drop at the end."""
    parts = urlsplit(database_url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        name = f"bench_appointment_{os.getpid()}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": parts.username or "",
            "PASSWORD": parts.password or "",
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
        return database, name
    path = parts.path if parts.path not in ("", "/") else None
    path = path or os.path.join(tempfile.mkdtemp(prefix="bench-appointment-"), "db.sqlite3")
    database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
    }
    return database, None


def drop(database_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def setup_django(database: dict) -> None:
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        USE_TZ=True,
        TIME_ZONE="Europe/Paris",
        LANGUAGE_CODE="fr",
        DATABASES={"default": database},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.admin",
            "phonenumber_field",
            "appointment",
        ],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        ROOT_URLCONF="appointment.urls",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": []},
            }
        ],
        LOGGING_CONFIG=None,
        APPOINTMENT_SLOT_DURATION=30,
        APPOINTMENT_BUFFER_TIME=0,
    )
    import logging

    logging.disable(logging.CRITICAL)  # it logs the missing Django-Q on every call
    import django

    django.setup()


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def percentile95(ordered: list[float]) -> float:
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(spec: dict) -> dict:
    from appointment.models import (
        Appointment,
        AppointmentRequest,
        Service,
        StaffMember,
        WorkingHours,
    )
    from appointment.services import get_available_slots_for_staff
    from appointment.utils.db_helpers import get_weekday_num_from_date
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    # It ships no migrations: its tables come from --run-syncdb, which runs before the other
    # apps' migrations, so auth_user must exist first (PostgreSQL checks the foreign keys).
    call_command("migrate", verbosity=0)
    call_command("migrate", run_syncdb=True, verbosity=0)
    User = get_user_model()
    days = [dt.date.fromisoformat(d) for d in spec["days"]]
    minutes = spec["slot_minutes"]
    service = Service.objects.create(
        name="Aide aux démarches", duration=dt.timedelta(minutes=minutes), price=0
    )
    results = {}
    for number, (load, appointments) in enumerate(spec["loads"].items()):
        user = User.objects.create(username=f"staff{number}", first_name="Conseiller")
        staff = StaffMember.objects.create(user=user, slot_duration=minutes)
        staff.services_offered.add(service)
        for weekday, opens, closes in spec["workdays"]:
            WorkingHours.objects.create(
                staff_member=staff,
                day_of_week=(weekday + 1) % 7,  # django-appointment: 0 = Sunday
                start_time=dt.time.fromisoformat(opens),
                end_time=dt.time.fromisoformat(closes),
            )
        client = User.objects.create(username=f"client{number}", email=f"c{number}@example.org")
        for day, start, end in appointments:
            request = AppointmentRequest.objects.create(
                date=dt.date.fromisoformat(day),
                start_time=dt.time.fromisoformat(start),
                end_time=dt.time.fromisoformat(end),
                service=service,
                staff_member=staff,
            )
            Appointment.objects.create(
                client=client, appointment_request=request, phone="+33639980001"
            )

        def thirty_days(staff=staff) -> int:
            return sum(
                len(
                    get_available_slots_for_staff(
                        day, staff, get_weekday_num_from_date(day), service=service
                    )
                )
                for day in days
            )

        slots = thirty_days()  # warm-up (and the config cache)
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            thirty_days()
        timings = []
        for _ in range(spec["repeat"]):
            started = time.perf_counter()
            thirty_days()
            timings.append(time.perf_counter() - started)
        timings.sort()
        results[load] = {
            "runs": len(timings),
            "median_ms": round(statistics.median(timings) * 1000, 3),
            "p95_ms": round(percentile95(timings) * 1000, 3),
            "min_ms": round(timings[0] * 1000, 3),
            "max_ms": round(timings[-1] * 1000, 3),
            "queries": counter.count,
            "slots": slots,
            "appointments": len(appointments),
        }
    import appointment
    import django

    return {
        "results": results,
        "django_appointment": getattr(appointment, "__version__", None) or _version(),
        "django": django.get_version(),
        "database_vendor": connection.vendor,
    }


def _version() -> str:
    from importlib.metadata import version

    return version("django-appointment")


def main() -> int:
    spec = json.load(sys.stdin)
    database, to_drop = configure(spec["database"])
    try:
        setup_django(database)
        output = measure(spec)
    finally:
        if to_drop:
            from django.db import connections

            connections.close_all()
            drop(spec["database"], to_drop)
    json.dump(output, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
