"""Run every benchmark (bench/bench_*.py), each in its own process on a fresh database, write
bench/results/<name>.json (the latest run of each), merge it into bench/results.json (the
latest run of each benchmark on each database: {"runs": {"sqlite": {...}, "postgresql":
{...}}}) and print a summary. `make bench` calls it.

    .venv/bin/python bench/run.py              every benchmark
    .venv/bin/python bench/run.py territory    only bench/bench_territory.py

SQLite by default (a temporary file); with DATABASE_URL pointing at PostgreSQL, a temporary
test database there. Figures, not assertions: the exit code says only whether a benchmark
crashed.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
AGGREGATE = BENCH_DIR / "results.json"


def main(selected: list[str]) -> int:
    files = sorted(BENCH_DIR.glob("bench_*.py"))
    if selected:
        files = [f for f in files if f.stem.removeprefix("bench_") in selected]
    if not files:
        print("Aucun banc d'essai à lancer.", file=sys.stderr)
        return 1
    failed = []
    documents = []
    for path in files:
        name = path.stem.removeprefix("bench_")
        output = RESULTS_DIR / f"{name}.json"
        print(f"== {name}", file=sys.stderr)
        status = subprocess.run(
            [sys.executable, str(path), "--output", str(output)],
            cwd=BENCH_DIR.parent,
            check=False,
        ).returncode
        if status != 0:
            failed.append(name)
            continue
        documents.append(json.loads(output.read_text()))
    if documents:
        aggregate(documents)
    for document in documents:
        print_summary(document)
    if failed:
        print(f"\nÉchec : {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def aggregate(documents: list[dict]) -> None:
    """Merge these runs into bench/results.json, keyed by database vendor then benchmark, so
    that a SQLite run and a PostgreSQL run sit side by side."""
    try:
        merged = json.loads(AGGREGATE.read_text())
    except (FileNotFoundError, ValueError):
        merged = {}
    runs = merged.setdefault("runs", {})
    for document in documents:
        vendor = document["environment"]["database_vendor"]
        runs.setdefault(vendor, {})[document["name"]] = document
    merged["updated"] = max(d["date"] for d in documents)
    AGGREGATE.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")


def print_summary(document: dict) -> None:
    env = document["environment"]
    print(
        f"\n{document['name']} — {env['database_vendor']} {env['database_version']}, "
        f"Python {env['python']}, Django {env['django']}, {env['cpu_count']} CPU, "
        f"charge {'/'.join(map(str, env.get('load_average', [])))}, "
        f"{document['date']} → bench/results/{document['name']}.json"
    )
    header = ("opération", "médiane ms", "p95 ms", "ops/s", "requêtes", "résultats")
    rows = [
        (
            label,
            f"{f['median_ms']:.2f}",
            f"{f['p95_ms']:.2f}",
            f"{f['ops_per_s']:.0f}" if f["ops_per_s"] else "-",
            "-" if f["queries"] is None else str(f["queries"]),
            str(f.get("results", "")),
        )
        for label, f in document["benchmarks"].items()
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for number, row in enumerate([header, *rows]):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))
        if number == 0:
            print("  ".join("-" * w for w in widths))
    for name, dataset in document.get("datasets", {}).items():
        sizes = ", ".join(f"{k} {v}" for k, v in dataset.items() if k not in ("name", "notes"))
        print(f"jeu « {name} » : {sizes}")
    if document.get("targets"):
        print("\nobjectifs :")
        for target in document["targets"]:
            print(f"  [{target['status']}] {target['target']} — {target['detail']}")
    for note in document.get("notes", []):
        print(f"  note : {note}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
