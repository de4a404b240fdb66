"""Booking engine: availability, nearest-slot search, concurrent bookings, integrity, memory,
and the same availability computation in django-appointment — against the targets of the
booking-engine issue.

    make bench                                        SQLite: "cantal"
    DATABASE_URL=postgres://… make bench              PostgreSQL: "cantal", then "france"
    .venv/bin/python bench/run.py booking             this benchmark only

Datasets (bench/booking_dataset.py) are built here, in the benchmark's own database: "cantal"
(real communes, ~130 places, 300 resources, ~20,000 bookings over 90 days) and, on PostgreSQL
only, "france" (100 times the resources and bookings, by COPY; scaled down, and said so, if its
build would exceed BENCH_FRANCE_BUDGET_S, 600 s by default). BENCH_FRANCE_TILES=N builds only
N of the 99 other tiles (quick runs).

Figures, not assertions: the targets are printed as met or missed (by how much), with the
reasons in bench/README.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import booking_concurrency as cc
import booking_dataset as ds
from harness import ROOT, Bench, QueryCounter, main

REPEAT_AVAILABILITY = 300
REPEAT_SEARCH = 200
REPEAT_APPOINTMENT = 30
SEARCH_RADIUS_KM = 40
SEARCH_LIMIT = 10
UNCONTENDED_PER_WRITER = 25
APPOINTMENT_PYTHON = Path(
    os.environ.get("BENCH_APPOINTMENT_PYTHON", ROOT / "var" / "bench-venv" / "bin" / "python")
)
# The production task backend (a row per task, a worker sends): the test settings' immediate
# backend would send every SMS inside the writer's request.
PRODUCTION_TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "notifications"],
    }
}

TARGETS = {
    "search_cantal_p95_ms": 25.0,
    "search_france_p95_ms": 150.0,
    "availability_p95_ms": 5.0,
    "uncontended_pg_per_s": 300.0,
    "appointment_ratio": 10.0,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(bench: Bench) -> None:
    from django.db import connection
    from django.test.utils import override_settings

    override_settings(TASKS=PRODUCTION_TASKS).enable()
    vendor = connection.vendor
    figures: dict[str, dict] = {}

    log("  jeu « cantal » : territoire, lieux, ressources, réservations…")
    ds.load_cantal_territory()
    report = ds.build(ds.Scale("cantal", [ds.CANTAL_TILE]), use_copy=False, log=log)
    ds.analyze()
    bench.datasets["cantal"] = report.as_dict()
    check_dataset(bench, "cantal")
    figures["cantal"] = measure_dataset(bench, "cantal", seed=15)
    figures["appointment"] = compare_with_appointment(bench)
    bench.datasets["cantal"]["peak_rss_mib"] = peak_rss_mib()

    if vendor == "postgresql":
        tiles = [
            (row, col)
            for row in range(ds.GRID)
            for col in range(ds.GRID)
            if (row, col) != ds.CANTAL_TILE
        ]
        if os.environ.get("BENCH_FRANCE_TILES"):
            tiles = tiles[: int(os.environ["BENCH_FRANCE_TILES"])]
            bench.notes.append(
                f"« france » réduit par BENCH_FRANCE_TILES : {len(tiles) + 1} tuiles sur 100."
            )
        budget = float(os.environ.get("BENCH_FRANCE_BUDGET_S", "600"))
        log(f"  jeu « france » : {len(tiles)} tuiles de plus que le Cantal, par COPY…")
        france = ds.build(ds.Scale("france", tiles), use_copy=True, budget_s=budget, log=log)
        started = time.perf_counter()
        ds.analyze()
        france.build_s = round(france.build_s + time.perf_counter() - started, 1)
        totals = whole_database_sizes()
        # The Cantal's tile is already there: the figures are the whole database's.
        bench.datasets["france"] = {
            **france.as_dict(),
            "tiles": france.tiles + 1,
            **totals,
            "build_s": france.build_s,
        }
        bench.notes.extend(f"france : {note}" for note in france.notes)
        if france.tiles < len(tiles):
            bench.notes.append(
                f"« france » N'EST PAS à l'échelle 100 : {france.tiles + 1} tuiles "
                f"({totals['resources']} ressources, {totals['bookings']} réservations) — "
                f"construction bornée à {budget:.0f} s sur cette machine."
            )
        check_dataset(bench, "france", sample=100)
        figures["france"] = measure_dataset(bench, "france", seed=75)
        bench.datasets["france"]["peak_rss_mib"] = peak_rss_mib()
    else:
        bench.notes.append(
            "« france » (100 × cantal) ne tourne que sur PostgreSQL : relancer avec DATABASE_URL."
        )
    judge(bench, vendor, figures)


def whole_database_sizes() -> dict:
    from cybercantal.booking.models import (
        Allocation,
        AvailabilityRule,
        Booking,
        Closure,
        Resource,
    )
    from cybercantal.territory.models import Commune, Place

    return {
        "communes": Commune.objects.count(),
        "places": Place.objects.count(),
        "resources": Resource.objects.count(),
        "rules": AvailabilityRule.objects.count(),
        "closures": Closure.objects.count(),
        "bookings": Booking.objects.count(),
        "allocations": Allocation.objects.count(),
    }


# --- Dataset checks --------------------------------------------------------------------------


def check_dataset(bench: Bench, name: str, *, sample: int = 300) -> None:
    """The generated bookings are valid: none over capacity (SQL), and a sample of them is
    exactly what the engine would accept again (same computation as booking_create's check
    under the lock, the booking itself excluded, as an agent: notice does not apply)."""
    from django.utils import timezone

    from cybercantal.booking import availability as av
    from cybercantal.booking.models import Allocation

    assert detector_finds_overbooking(), "the overbooking check must see an overbooking"
    over = ds.overbookings()
    bench.datasets[name]["overbookings_after_build"] = over["overbooked_instants"]
    rng = random.Random(name)
    ids = list(
        Allocation.objects.filter(is_active=True, booking__reference__startswith="B").values_list(
            "pk", flat=True
        )[:200_000]
    )
    now = timezone.now()
    rejected = 0
    for allocation in Allocation.objects.filter(pk__in=rng.sample(ids, min(sample, len(ids))))\
            .select_related("resource", "booking"):  # fmt: skip
        booking, resource_ = allocation.booking, allocation.resource
        data = av.load_availability_data(
            [resource_],
            booking.start - dt.timedelta(days=1),
            booking.end,
            exclude_booking_id=booking.pk,
        )
        slots = av.resource_slots(
            resource_,
            data,
            start=booking.start,
            end=booking.start + dt.timedelta(seconds=1),
            duration=booking.end - booking.start,
            units=allocation.units,
            now=now,
            enforce_notice=False,
        )
        if not any(s.start == booking.start for s in slots):
            rejected += 1
    bench.datasets[name]["sample_checked_by_engine"] = min(sample, len(ids))
    bench.datasets[name]["sample_rejected_by_engine"] = rejected
    if rejected:
        bench.notes.append(
            f"{name} : {rejected} réservations générées sur {sample} ne seraient pas acceptées "
            "par le moteur (générateur et moteur en désaccord)."
        )


def detector_finds_overbooking() -> bool:
    """The SQL check is tested first: three allocations over a capacity-2 window, in a
    transaction that is rolled back."""
    from django.db import transaction

    from cybercantal.booking.models import Allocation, Booking, Resource

    class Rollback(Exception):
        pass

    shared = Resource.objects.filter(capacity__gte=2).order_by("pk").first()
    found = False
    try:
        with transaction.atomic():
            start = dt.datetime(2099, 1, 5, 10, tzinfo=dt.UTC)
            for number in range(shared.capacity + 1):
                booking = Booking.objects.create(
                    reference=f"TEST{number:04d}",
                    start=start,
                    end=start + dt.timedelta(hours=1),
                    status="confirmed",
                    person_name="Contrôle",
                )
                Allocation.objects.create(
                    booking=booking,
                    resource=shared,
                    blocked_start=start,
                    blocked_end=start + dt.timedelta(hours=1),
                    is_exclusive=False,
                )
            found = ds.overbookings()["overbooked_instants"] > 0
            raise Rollback
    except Rollback:
        pass
    return found


# --- Measurements ----------------------------------------------------------------------------


def measure_dataset(bench: Bench, name: str, *, seed: int) -> dict:
    from django.utils import timezone

    from cybercantal.booking.models import Resource, Service
    from cybercantal.booking.selectors import availability, slots_search
    from cybercantal.territory.models import Commune

    rng = random.Random(seed)
    out: dict = {}
    resource_ids = list(
        Resource.objects.exclude(name__startswith="Équivalence").values_list("pk", flat=True)
    )
    sample = list(Resource.objects.filter(pk__in=rng.sample(resource_ids, 300)))
    rng.shuffle(sample)
    # Each call happens at a moment of its own, drawn over the coming week (day, night,
    # week-end: a search at 19:00 finds nothing more today and must look further), so that
    # the figures do not depend on the hour the benchmark runs. Bookings exist from today.
    tomorrow = dt.datetime.combine(
        timezone.localdate() + dt.timedelta(days=1), dt.time(), tzinfo=ds.TZ
    )
    moments = [
        tomorrow + dt.timedelta(minutes=rng.randrange(7 * 24 * 60))
        for _ in range(REPEAT_AVAILABILITY + 50)
    ]
    cycle = iter(list(zip(sample * 2, moments, strict=False)) * 3)

    def one_availability() -> list:
        resource_, now = next(cycle)
        return availability(resource=resource_, start=now, end=now + dt.timedelta(days=30), now=now)

    counts = [len(one_availability()) for _ in range(20)]
    out["availability"] = bench.measure(
        f"{name} · availability(1 ressource, 30 j)",
        one_availability,
        repeat=REPEAT_AVAILABILITY,
        results=f"{sum(counts) // len(counts)} créneaux en moyenne",
        resources=len(resource_ids),
        tracemalloc_peak_kib=python_peak_kib(one_availability),
    )

    communes = list(Commune.objects.defer("outline").order_by("pk"))
    service = Service.objects.get(code="mediation")
    picks = [(rng.choice(communes), rng.choice(moments)) for _ in range(REPEAT_SEARCH + 50)]
    commune_cycle = iter(picks * 3)
    found: list[int] = []

    def one_search(service=service) -> list:
        commune, now = next(commune_cycle)
        offers = slots_search(
            service=service,
            commune=commune,
            radius_km=SEARCH_RADIUS_KM,
            start=now,
            end=now + dt.timedelta(days=90),
            limit=SEARCH_LIMIT,
            now=now,
        )
        found.append(len(offers))
        return offers

    out["search"] = bench.measure(
        f"{name} · slots_search(mediation, {SEARCH_RADIUS_KM} km, 10 prochains)",
        one_search,
        repeat=REPEAT_SEARCH,
        communes=len(communes),
        tracemalloc_peak_kib=python_peak_kib(one_search),
    )
    out["search"]["results"] = f"{sum(found) / len(found):.1f} créneaux en moyenne"
    coworking = Service.objects.get(code="coworking")
    found.clear()
    out["search_coworking"] = bench.measure(
        f"{name} · slots_search(coworking, {SEARCH_RADIUS_KM} km, 10 prochains)",
        lambda: one_search(coworking),
        repeat=REPEAT_SEARCH // 2,
    )
    out["search_coworking"]["results"] = f"{sum(found) / len(found):.1f} créneaux en moyenne"

    out |= measure_writers(bench, name, rng)
    over = ds.overbookings()
    bench.datasets[name]["overbookings_after_writers"] = over["overbooked_instants"]
    bench.datasets[name]["overbooking_check_s"] = over["check_s"]
    out["overbookings"] = over
    log(f"  {name} : surréservations après les écritures : {over['overbooked_instants']}")
    return out


def python_peak_kib(fn) -> float:
    """Peak of Python allocations during one call (tracemalloc; untimed: it slows calls)."""
    tracemalloc.start()
    try:
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 1024, 1)
    finally:
        tracemalloc.stop()


def measure_writers(bench: Bench, name: str, rng: random.Random) -> dict:
    from django.db import connection

    from cybercantal.booking.models import Resource

    out = {}
    ids = list(
        Resource.objects.exclude(name__startswith="Équivalence").values_list("pk", flat=True)
    )
    pool = list(Resource.objects.filter(pk__in=rng.sample(ids, 200)).order_by("pk"))
    rng.shuffle(pool)
    exclusive = [r for r in pool if r.capacity == 1]
    shared = [r for r in pool if 1 < r.capacity < cc.WRITERS]
    queries = queries_per_booking(exclusive[-1])

    writers = pool[: cc.WRITERS * 4]
    plans = cc.uncontended_plans(writers, per_writer=UNCONTENDED_PER_WRITER, rng=rng)
    log(f"  {name} : {cc.WRITERS} écrivains sans conflit ({sum(map(len, plans))} réservations)…")
    run = cc.run_writers(plans, seed=1)
    summary, latencies = cc.summarise_run(run)
    out["uncontended"] = bench.record(
        f"{name} · booking_create, {cc.WRITERS} écrivains, sans conflit",
        latencies,
        queries=queries["created"],
        results=f"{summary['succeeded']}/{summary['attempts']} réussies",
        **summary,
        ops_per_s=summary["bookings_per_s"],
        serialised=connection.vendor == "sqlite",
    )
    # The same load from two processes (8 threads each), as two server workers would send
    # it: tells whether Python's GIL or the database (and the machine) is the limit.
    plans = cc.uncontended_plans(
        pool[cc.WRITERS * 4 : cc.WRITERS * 8], per_writer=UNCONTENDED_PER_WRITER, rng=rng
    )
    run = cc.run_writers_in_processes(plans, processes=2)
    summary, latencies = cc.summarise_run(run)
    out["uncontended_processes"] = bench.record(
        f"{name} · booking_create, {cc.WRITERS} écrivains en 2 processus, sans conflit",
        latencies,
        queries=queries["created"],
        results=f"{summary['succeeded']}/{summary['attempts']} réussies",
        **summary,
        ops_per_s=summary["bookings_per_s"],
        processes=2,
    )

    targets, expected = cc.contended_targets(exclusive[:6] + shared[:2], rng=rng)
    plans = cc.contended_plans(targets, rng)
    log(f"  {name} : {cc.WRITERS} écrivains sur {len(targets)} mêmes créneaux…")
    run = cc.run_writers(plans, seed=2)
    summary, latencies = cc.summarise_run(run, expected=expected)
    out["contended"] = bench.record(
        f"{name} · booking_create, {cc.WRITERS} écrivains, mêmes créneaux",
        latencies,
        queries=queries["conflict"],
        results=(
            f"{summary['succeeded']} ok (attendu {summary['expected_successes']}), "
            f"{summary['conflicts']} conflits"
        ),
        **summary,
        ops_per_s=summary["attempts_per_s"],
    )
    return out


def queries_per_booking(resource_) -> dict:
    """Queries of one booking_create (notification queued after commit included), and of one
    refused because the slot is taken."""
    from django.db import connection

    from cybercantal.booking.errors import BookingConflict
    from cybercantal.booking.services import PersonDetails, booking_create

    assert resource_.capacity == 1
    slot = cc.free_slots([resource_], per_resource=1, rng=random.Random(0))[resource_.pk][0]
    person = PersonDetails(name="Mesure des requêtes", phone="06 39 98 00 01")
    counted = {}
    for key in ("created", "conflict"):  # the second call finds the slot taken by the first
        counter = QueryCounter()
        with connection.execute_wrapper(counter), contextlib.suppress(BookingConflict):
            booking_create(
                actor=None, resources=[resource_], start=slot.start, end=slot.end, person=person
            )
        counted[key] = counter.count
    return counted


# --- django-appointment ----------------------------------------------------------------------


def compare_with_appointment(bench: Bench) -> dict:
    """One mediator open Monday to Friday 9:00–17:00 (django-appointment allows one interval a
    day), 30-minute slots, the same appointments on both sides over the next 30 days: ours
    through booking.selectors.availability (one call for the 30 days), theirs through
    get_available_slots_for_staff (one call per day, as its views do). Two loads: the mean of
    the dataset's mediators, and a busy diary (60 % of the slots taken)."""
    from django.db import connection
    from django.utils import timezone

    from cybercantal.booking.models import (
        Allocation,
        AvailabilityRule,
        Booking,
        Resource,
    )
    from cybercantal.booking.selectors import availability
    from cybercantal.territory.models import Organisation, Place

    tz = ds.TZ
    first_day = timezone.localdate() + dt.timedelta(days=1)
    days = [first_day + dt.timedelta(days=i) for i in range(30)]
    window = (
        dt.datetime.combine(first_day, dt.time(), tzinfo=tz),
        dt.datetime.combine(first_day + dt.timedelta(days=30), dt.time(), tzinfo=tz),
    )
    workdays = [(d, "09:00", "17:00") for d in range(5)]
    grid = [dt.time(9 + k // 2, 30 * (k % 2)) for k in range(16)]
    open_days = [d for d in days if d.weekday() < 5]
    mediators = Allocation.objects.filter(
        is_active=True,
        resource__name__startswith="Conseiller numérique",
        blocked_start__gte=window[0],
        blocked_start__lt=window[1],
    ).count()
    per_mediator = round(
        mediators / max(1, Resource.objects.filter(name__startswith="Conseiller").count())
    )
    loads = {
        "typique": max(per_mediator, 1),
        "chargé": round(0.6 * len(open_days) * len(grid)),
    }
    rng = random.Random(30)
    place = Place.objects.filter(is_public=True).order_by("pk").first()
    organisation = Organisation.objects.order_by("pk").first()
    spec_loads, ours = {}, {}
    for load, count in loads.items():
        resource_ = Resource.objects.create(
            name=f"Équivalence django-appointment ({load})",
            kind=Resource.Kind.PERSON,
            place=place,
            organisation=organisation,
            slot_minutes=30,
            min_duration_minutes=30,
            max_duration_minutes=30,
            min_notice_minutes=0,
            horizon_days=90,
            observes_public_holidays=False,  # django-appointment knows no public holidays
        )
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                resource=resource_,
                weekday=d,
                start_time=dt.time.fromisoformat(a),
                end_time=dt.time.fromisoformat(b),
            )
            for d, a, b in workdays
        )
        cells = rng.sample([(day, t) for day in open_days for t in grid], count)
        appointments = []
        for number, (day, t) in enumerate(sorted(cells)):
            start = dt.datetime.combine(day, t, tzinfo=tz)
            end = start + dt.timedelta(minutes=30)
            booking = Booking(
                reference=f"EQ{load[0]}{number:05d}",
                start=start,
                end=end,
                status="confirmed",
                person_name=f"Usager {number}",
                place=place,
            )
            appointments.append((booking, start, end))
            spec_loads.setdefault(load, []).append(
                [day.isoformat(), t.strftime("%H:%M"), end.astimezone(tz).strftime("%H:%M")]
            )
        Booking.objects.bulk_create([b for b, _, _ in appointments])
        Allocation.objects.bulk_create(
            Allocation(booking=b, resource=resource_, blocked_start=s, blocked_end=e)
            for b, s, e in appointments
        )

        def ours_30_days(resource_=resource_) -> list:
            return availability(
                resource=resource_,
                start=window[0],
                end=window[1],
                duration=dt.timedelta(minutes=30),
            )

        ours[load] = bench.measure(
            f"cantal · availability équivalente django-appointment ({load}, {count} rdv, 30 j)",
            ours_30_days,
            repeat=REPEAT_AVAILABILITY,
            results=f"{len(ours_30_days())} créneaux",
            slots=len(ours_30_days()),
            appointments=count,
        )

    if not APPOINTMENT_PYTHON.exists():
        bench.notes.append(
            f"django-appointment non mesuré : {APPOINTMENT_PYTHON} absent "
            "(`make bench` crée var/bench-venv depuis requirements/bench.txt)."
        )
        return {"ours": ours}
    if connection.vendor == "postgresql":
        database = os.environ["DATABASE_URL"]
    else:
        database = f"sqlite:///{Path(os.environ['CYBERCANTAL_VAR_DIR']) / 'appointment.sqlite3'}"
    spec = {
        "database": database,
        "repeat": REPEAT_APPOINTMENT,
        "days": [d.isoformat() for d in days],
        "workdays": workdays,
        "slot_minutes": 30,
        "loads": spec_loads,
    }
    log("  django-appointment : même calcul, dans var/bench-venv…")
    done = subprocess.run(
        [str(APPOINTMENT_PYTHON), str(Path(__file__).with_name("booking_appointment.py"))],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        bench.notes.append(f"django-appointment a échoué : {done.stderr.strip()[-500:]}")
        return {"ours": ours}
    theirs_doc = json.loads(done.stdout)
    theirs = {}
    for load, figures in theirs_doc["results"].items():
        mine = ours[load]
        label = (
            f"cantal · django-appointment {theirs_doc['django_appointment']} ({load}, "
            f"{figures['appointments']} rdv, 30 × get_available_slots_for_staff)"
        )
        theirs[load] = bench.results[label] = figures | {
            "ops_per_s": round(1000 / figures["median_ms"], 1),
            "results": f"{figures['slots']} créneaux",
            "ratio_median": round(figures["median_ms"] / mine["median_ms"], 1),
            "ratio_p95": round(figures["p95_ms"] / mine["p95_ms"], 1),
            "same_slots": figures["slots"] == mine["slots"],
        }
        if figures["slots"] != mine["slots"]:
            bench.notes.append(
                f"django-appointment ({load}) trouve {figures['slots']} créneaux, nous "
                f"{mine['slots']} : les deux calculs ne sont pas équivalents."
            )
    return {"ours": ours, "theirs": theirs}


# --- Targets ---------------------------------------------------------------------------------


def judge(bench: Bench, vendor: str, figures: dict) -> None:
    def add(target: str, status: str, detail: str) -> None:
        bench.targets.append({"target": target, "status": status, "detail": detail})

    def upper(target: str, value: float, limit: float, unit: str = "ms") -> None:
        if value <= limit:
            add(target, "atteint", f"{value:.2f} {unit} ≤ {limit:g} {unit}")
        else:
            add(
                target,
                "manqué",
                f"{value:.2f} {unit} > {limit:g} {unit} : dépassé de {value - limit:.2f} {unit} "
                f"(× {value / limit:.1f})",
            )

    upper(
        f"slots_search p95 ≤ {TARGETS['search_cantal_p95_ms']:g} ms (cantal, {vendor})",
        figures["cantal"]["search"]["p95_ms"],
        TARGETS["search_cantal_p95_ms"],
    )
    if "france" in figures:
        upper(
            f"slots_search p95 ≤ {TARGETS['search_france_p95_ms']:g} ms (france, {vendor})",
            figures["france"]["search"]["p95_ms"],
            TARGETS["search_france_p95_ms"],
        )
    else:
        add("slots_search p95 ≤ 150 ms (france)", "non mesuré", "PostgreSQL seulement")
    for name in ("cantal", "france"):
        if name in figures:
            upper(
                f"availability p95 ≤ {TARGETS['availability_p95_ms']:g} ms ({name}, {vendor})",
                figures[name]["availability"]["p95_ms"],
                TARGETS["availability_p95_ms"],
            )
    limit = TARGETS["uncontended_pg_per_s"]
    for name in ("cantal", "france"):
        if name not in figures:
            continue
        threads = figures[name]["uncontended"]["bookings_per_s"]
        processes = figures[name]["uncontended_processes"]["bookings_per_s"]
        rate = max(threads, processes)
        target = (
            f"≥ {limit:g} réservations/s sans conflit ({name}, {vendor} ; "
            f"1 processus : {threads:.0f}/s, 2 processus : {processes:.0f}/s)"
        )
        if vendor != "postgresql":
            add(target, "hors objectif", f"{rate:.0f}/s (l'objectif vise PostgreSQL)")
        elif rate >= limit:
            add(target, "atteint", f"{rate:.0f}/s ≥ {limit:g}/s")
        else:
            add(
                target,
                "manqué",
                f"{rate:.0f}/s < {limit:g}/s : manque {limit - rate:.0f}/s (× {limit / rate:.1f})",
            )
    theirs = figures["appointment"].get("theirs")
    if theirs:
        for load, them in theirs.items():
            ratio = them["ratio_median"]
            target = (
                f"≥ {TARGETS['appointment_ratio']:g} × plus rapide que django-appointment ({load})"
            )
            detail = f"× {ratio:g} (médianes), × {them['ratio_p95']:g} (p95)"
            if ratio >= TARGETS["appointment_ratio"]:
                add(target, "atteint", detail)
            else:
                add(
                    target,
                    "manqué",
                    f"{detail} : il manque × {TARGETS['appointment_ratio'] / ratio:.1f}",
                )
    else:
        add("≥ 10 × plus rapide que django-appointment", "non mesuré", "voir les notes")
    for name in ("cantal", "france"):
        if name not in figures:
            continue
        count = figures[name]["overbookings"]["overbooked_instants"]
        before = bench.datasets[name].get("overbookings_after_build", 0)
        contended = figures[name]["contended"]
        add(
            f"0 surréservation ({name}, {vendor})",
            "atteint"
            if count == 0 and contended.get("targets_over_capacity", 0) == 0
            else "manqué",
            f"{count} instant(s) au-delà de la capacité après les écritures concurrentes "
            f"(contrôle SQL de {figures[name]['overbookings']['active_allocations_checked']} "
            f"allocations actives ; {before} après génération) ; créneaux disputés : "
            f"{contended['targets_exact']}/{contended['targets']} avec exactement la capacité "
            f"réservée",
        )


if __name__ == "__main__":
    main(run, "booking")
