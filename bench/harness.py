"""What every benchmark shares: a throw-away database, timing, figures, the environment.

A benchmark file (bench/bench_<name>.py) defines `run(bench: Bench) -> None` and ends with
`if __name__ == "__main__": main(run, "<name>")`. It runs in its own process (bench/run.py
starts one per file) so that each one gets a fresh database:

- SQLite (default): a new file in a temporary directory (CYBERCANTAL_VAR_DIR points there),
  migrated from scratch; var/ is never touched.
- PostgreSQL (DATABASE_URL set): a database of its own, bench_<name>_<pid>, created, migrated
  and dropped by Django's test machinery; neither the database DATABASE_URL names nor the
  test_<name> database that pytest may be using at the same time is touched.

Figures, not assertions: nothing here fails because something is slow.
"""

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"


class Bench:
    def __init__(self, name: str) -> None:
        self.name = name
        self.results: dict[str, dict] = {}
        # Optional, printed by run.py after the table: datasets built, targets met or missed,
        # notes (what was scaled down, what could not run).
        self.datasets: dict[str, dict] = {}
        self.targets: list[dict] = []
        self.notes: list[str] = []

    def measure(
        self,
        label: str,
        fn: Callable[[], object],
        *,
        repeat: int,
        warmup: int = 1,
        setup: Callable[[], object] | None = None,
        **extra,
    ) -> dict:
        """Time `fn` `repeat` times (after `warmup` untimed calls); `setup` runs untimed
        before each call. Also counts the queries of one call. `extra` figures (e.g. the
        number of results) are stored alongside."""
        from django.db import connection

        for _ in range(warmup):
            if setup:
                setup()
            fn()
        if setup:
            setup()
        queries = QueryCounter()
        # A wrapper rather than connection.queries: requests reset that log when they start.
        with connection.execute_wrapper(queries):
            fn()
        timings, cpu = [], []
        for _ in range(repeat):
            if setup:
                setup()
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn()
            timings.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
        return self.record(label, timings, queries=queries.count, cpu=cpu, **extra)

    def record(
        self,
        label: str,
        timings: list[float],
        *,
        queries: int | None,
        cpu: list[float] | None = None,
        **extra,
    ) -> dict:
        """Store figures for timings measured elsewhere (threads, another process). `cpu`:
        the CPU time of this process's thread for each call (the rest is waiting: the
        database server, the lock, other processes on the machine)."""
        figures = summarise(timings) | {"queries": queries}
        if cpu:
            figures["cpu_median_ms"] = round(statistics.median(cpu) * 1000, 3)
        figures |= extra
        self.results[label] = figures
        print(f"  {label}: {figures['median_ms']:.2f} ms (médiane)", file=sys.stderr)
        return figures


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def summarise(timings: list[float]) -> dict:
    ordered = sorted(timings)
    median = statistics.median(ordered)
    # Nearest-rank 95th percentile: an actual measurement, also meaningful for a few runs.
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "runs": len(ordered),
        "median_ms": round(median * 1000, 3),
        "p95_ms": round(p95 * 1000, 3),
        "min_ms": round(ordered[0] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "ops_per_s": round(1 / median, 1) if median else None,
    }


def environment() -> dict:
    import django
    from django.db import connection

    with connection.cursor():
        pass
    return {
        "database_vendor": connection.vendor,
        "database_version": ".".join(map(str, connection.Database.sqlite_version_info))
        if connection.vendor == "sqlite"
        else f"{connection.pg_version // 10000}.{connection.pg_version % 10000}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        # Other work on the machine slows every figure: the 1, 5 and 15-minute load averages
        # when the benchmark ended (more than cpu_count: the figures are pessimistic).
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "settings": os.environ["DJANGO_SETTINGS_MODULE"],
    }


def main(run: Callable[[Bench], None], name: str) -> None:
    parser = argparse.ArgumentParser(description=f"Benchmark {name}")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / f"{name}.json")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix=f"cybercantal-bench-{name}-"))
    os.environ["CYBERCANTAL_VAR_DIR"] = str(var_dir)
    (var_dir / "static").mkdir()  # WhiteNoise warns when STATIC_ROOT does not exist
    # Test settings: fast password hashing, in-process tasks, local-memory cache, no e-mail.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cybercantal.config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    old_name = None
    try:
        if connection.vendor == "sqlite":
            call_command("migrate", verbosity=0)
        else:
            old_name = connection.settings_dict["NAME"]
            connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{name}_{os.getpid()}"
            connection.creation.create_test_db(verbosity=0, autoclobber=True)
        bench = Bench(name)
        started = time.perf_counter()
        run(bench)
        document = {
            "name": name,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - started, 1),
            "environment": environment(),
            "benchmarks": bench.results,
        }
        for key in ("datasets", "targets", "notes"):
            if getattr(bench, key):
                document[key] = getattr(bench, key)
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        connection.close()
        shutil.rmtree(var_dir, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
