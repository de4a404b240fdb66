"""Digital mediation's activity dashboard after the demo year: a structure's and the territory's
year, and the page itself (template, charts, map data).

.venv/bin/python bench/bench_mediation_dashboard.py       (or `make bench` for every benchmark)
"""

import time
from io import StringIO

from harness import Bench, main

TARGET_P95_MS = 200


def run(bench: Bench) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from cybercantal.accounts.models import User
    from cybercantal.mediation.demo_activity import seed_mediation_activity
    from cybercantal.mediation.models import Activity
    from cybercantal.mediation.selectors.dashboard import activity_dashboard
    from cybercantal.territory.models import Organisation

    call_command("load_territory", "15", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    started = time.perf_counter()
    report = seed_mediation_activity()
    bench.datasets["demo_year"] = dict(report.counts) | {
        "seconds": round(time.perf_counter() - started, 1)
    }
    if connection.vendor == "postgresql":
        # As autovacuum does soon after a bulk load: the planner's statistics of the new rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    agent = User.objects.get(username="demo-agent")
    mediator = User.objects.get(username="demo-mediateur")
    structure = Organisation.objects.get(name="France Services de Saint-Flour (démo)")
    # The calendar year with the most of the demo's 12 months.
    today = timezone.localdate()
    year = today.year if today.month >= 7 else today.year - 1

    def fresh(*users):
        def forget() -> None:
            for user in users:
                user.__dict__.pop("_role_codes", None)

        return forget

    territory = bench.measure(
        f"activity_dashboard(territoire, {year})",
        lambda: activity_dashboard(actor=agent, year=year, scope="territory"),
        repeat=30,
        setup=fresh(agent),
        activities=Activity.objects.filter(day__year=year).count(),
    )
    structure_result = bench.measure(
        f"activity_dashboard(structure, {year})",
        lambda: activity_dashboard(
            actor=mediator, year=year, scope="structure", organisation=structure
        ),
        repeat=30,
        setup=fresh(mediator),
        activities=Activity.objects.filter(day__year=year, organisation=structure).count(),
    )
    bench.measure(
        f"activity_dashboard(moi, {year})",
        lambda: activity_dashboard(actor=mediator, year=year, scope="mine"),
        repeat=30,
        setup=fresh(mediator),
    )
    client = Client()
    client.force_login(agent)
    url = f"/mediation/tableau-de-bord/?annee={year}&vue=territoire"
    page = bench.measure(
        f"GET {url} (page entière)",
        lambda: client.get(url),
        repeat=20,
    )
    for label, result in (("territoire", territory), ("structure", structure_result)):
        p95 = result["p95_ms"]
        bench.targets.append(
            {
                "target": f"tableau de bord d'une année ({label}), p95 ≤ {TARGET_P95_MS} ms",
                "status": "atteint" if p95 <= TARGET_P95_MS else "manqué",
                "detail": f"p95 {p95} ms, {result['queries']} requêtes",
            }
        )
    bench.notes.append(
        f"page entière du territoire : p95 {page['p95_ms']} ms, {page['queries']} requêtes"
    )


if __name__ == "__main__":
    main(run, "mediation_dashboard")
