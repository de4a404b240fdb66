"""Tiers-lieux figures after a demo year: the network's monthly figures for a year, a place's,
the month's clearing.

.venv/bin/python bench/bench_coworking_figures.py       (or `make bench` for every benchmark)
"""

import time
from io import StringIO

from harness import Bench, main

TARGET_P95_MS = 200


def run(bench: Bench) -> None:
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from cybercantal.accounts.models import User
    from cybercantal.coworking.demo_activity import seed_coworking_activity
    from cybercantal.coworking.models import CheckIn, TiersLieu
    from cybercantal.coworking.selectors.figures import coworking_figures
    from cybercantal.coworking.selectors.settlement import settlement_clearing

    call_command("load_territory", "15", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    started = time.perf_counter()
    report = seed_coworking_activity(members=150)
    bench.datasets["demo_year"] = dict(report.counts) | {
        "seconds": round(time.perf_counter() - started, 1)
    }
    agent = User.objects.get(username="demo-agent")
    manager = User.objects.get(username="demo-gestionnaire")
    place = TiersLieu.objects.order_by("pk").first()
    year = timezone.localdate().year

    def fresh(*users):
        def forget() -> None:
            for user in users:
                user.__dict__.pop("_role_codes", None)

        return forget

    network = bench.measure(
        f"coworking_figures(réseau, {year}, par mois)",
        lambda: coworking_figures(actor=agent, year=year),
        repeat=30,
        setup=fresh(agent),
        check_ins=CheckIn.objects.count(),
    )
    bench.measure(
        f"coworking_figures(réseau, {year}, par jour)",
        lambda: coworking_figures(actor=agent, year=year, daily=True),
        repeat=20,
        setup=fresh(agent),
    )
    bench.measure(
        f"coworking_figures(un lieu, {year}, gestionnaire)",
        lambda: coworking_figures(actor=manager, year=year, tiers_lieu=place),
        repeat=30,
        setup=fresh(manager),
    )
    month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    bench.measure(
        f"settlement_clearing({month:%Y-%m})",
        lambda: settlement_clearing(actor=agent, month=month),
        repeat=30,
        setup=fresh(agent),
    )
    p95 = network["p95_ms"]
    bench.targets.append(
        {
            "target": f"chiffres mensuels du réseau sur un an, p95 ≤ {TARGET_P95_MS} ms",
            "status": "atteint" if p95 <= TARGET_P95_MS else "manqué",
            "detail": f"p95 {p95} ms, {network['queries']} requêtes",
        }
    )


if __name__ == "__main__":
    main(run, "coworking_figures")
