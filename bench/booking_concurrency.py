"""Concurrent writers for the booking benchmark: 16 threads, each with its own database
connection (Django opens one per thread), calling booking.services.booking_create as the API
does for a person without an account (name + phone). On SQLite the writers are serialised by
BEGIN IMMEDIATE; on PostgreSQL they race for real (row locks, exclusion constraint).

- uncontended: each writer books its own resources, on slots that availability() offered and
  that do not overlap one another: every call should succeed.
- contended: every writer tries the same few slots, in a shuffled order: exactly the free
  capacity of each slot must succeed, the others must get a BookingConflict (409).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

WRITERS = 16


@dataclass(frozen=True)
class Request:
    target: int  # which contended slot (or a unique number when uncontended)
    resource_id: int
    start: dt.datetime
    end: dt.datetime


@dataclass
class Outcome:
    writer: int
    request: Request
    result: str  # ok, conflict, rule, error
    seconds: float
    message: str = ""


@dataclass
class RunReport:
    wall_s: float
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)


def run_writers(plans: list[list[Request]], *, seed: int = 0) -> RunReport:
    """Each plan is one writer's list of requests. The writers connect and load their
    resources first, then start together (barrier) and book one request after the other."""
    from django.db import connections

    from cybercantal.booking.errors import BookingConflict, BookingError
    from cybercantal.booking.models import Resource
    from cybercantal.booking.services import PersonDetails, booking_create

    barrier = threading.Barrier(len(plans) + 1)
    outcomes: list[list[Outcome]] = [[] for _ in plans]

    def worker(index: int) -> None:
        try:
            ids = {r.resource_id for r in plans[index]}
            resources = Resource.objects.in_bulk(ids)  # connects this thread
            rng = random.Random(seed * 1000 + index)
            barrier.wait(timeout=120)
            for number, request in enumerate(plans[index]):
                person = PersonDetails(
                    name=f"Écrivain {index} n°{number}",
                    phone=f"06 39 98 {rng.randrange(100):02d} {rng.randrange(100):02d}",
                )
                started = time.perf_counter()
                try:
                    booking_create(
                        actor=None,
                        resources=[resources[request.resource_id]],
                        start=request.start,
                        end=request.end,
                        person=person,
                    )
                    result, message = "ok", ""
                except BookingConflict as exc:
                    result, message = "conflict", exc.message
                except BookingError as exc:
                    result, message = "rule", f"{type(exc).__name__}: {exc.message}"
                except Exception as exc:  # a crash is a finding, not a reason to stop
                    result, message = "error", f"{type(exc).__name__}: {exc}"
                outcomes[index].append(
                    Outcome(index, request, result, time.perf_counter() - started, message)
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(plans))]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return RunReport(wall, [o for per_writer in outcomes for o in per_writer])


def run_writers_in_processes(plans: list[list[Request]], *, processes: int) -> RunReport:
    """The same writers spread over `processes` forked processes (threads in each), as a
    server with several worker processes would run them: Python's GIL lets one process use
    one core at a time. Connections are closed before forking; each child opens its own."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    start = context.Barrier(processes + 1)
    queue = context.Queue()
    groups = [plans[i::processes] for i in range(processes)]

    def child(group: list[list[Request]], number: int) -> None:
        try:
            start.wait(timeout=300)
            queue.put(run_writers(group, seed=100 + number).outcomes)
        except BaseException as exc:  # reported, not swallowed: the parent counts it
            queue.put([Outcome(-1, Request(-1, -1, None, None), "error", 0.0, repr(exc))])
        finally:
            connections.close_all()

    children = [
        context.Process(target=child, args=(group, number)) for number, group in enumerate(groups)
    ]
    for process in children:
        process.start()
    start.wait(timeout=300)
    started = time.perf_counter()
    outcomes = [o for _ in children for o in queue.get(timeout=600)]
    wall = time.perf_counter() - started
    for process in children:
        process.join(timeout=60)
    return RunReport(wall, outcomes)


def free_slots(resources, *, per_resource: int, rng: random.Random, days: int = 30):
    """Non-overlapping free slots (blocked intervals included) of each resource, as offered
    by booking.selectors.availability over the next `days` days, for the default duration."""
    from django.utils import timezone

    from cybercantal.booking.selectors import availability

    now = timezone.now()
    chosen: dict[int, list] = {}
    for resource in resources:
        slots = availability(resource=resource, start=now, end=now + dt.timedelta(days=days))
        rng.shuffle(slots)
        before = dt.timedelta(minutes=resource.buffer_before_minutes)
        after = dt.timedelta(minutes=resource.buffer_after_minutes)
        taken: list[tuple[dt.datetime, dt.datetime]] = []
        for slot in slots:
            blocked = (slot.start - before, slot.end + after)
            if any(blocked[0] < t[1] and t[0] < blocked[1] for t in taken):
                continue
            taken.append(blocked)
            chosen.setdefault(resource.pk, []).append(slot)
            if len(chosen[resource.pk]) >= per_resource:
                break
    return chosen


def uncontended_plans(resources, *, per_writer: int, rng: random.Random) -> list[list[Request]]:
    """Writer i books only resources i, i + 16, i + 32…, on distinct free slots."""
    per_resource = -(-per_writer * WRITERS // len(resources))
    slots = free_slots(resources, per_resource=per_resource, rng=rng)
    plans: list[list[Request]] = [[] for _ in range(WRITERS)]
    number = 0
    for position, resource in enumerate(resources):
        plan = plans[position % WRITERS]
        for slot in slots.get(resource.pk, []):
            if len(plan) < per_writer:
                plan.append(Request(number, resource.pk, slot.start, slot.end))
                number += 1
    for plan in plans:
        rng.shuffle(plan)
    return plans


def contended_plans(targets: list[Request], rng: random.Random) -> list[list[Request]]:
    """Every writer tries every target slot, in an order of its own."""
    plans = []
    for _ in range(WRITERS):
        plan = list(targets)
        rng.shuffle(plan)
        plans.append(plan)
    return plans


def contended_targets(resources, *, rng: random.Random) -> tuple[list[Request], dict[int, int]]:
    """One slot per resource where the whole capacity is free: the expected number of winners
    of each target is the resource's capacity (one unit per booking)."""
    from django.utils import timezone

    from cybercantal.booking.selectors import availability

    now = timezone.now()
    targets, expected = [], {}
    for number, resource in enumerate(resources):
        slots = availability(
            resource=resource,
            start=now + dt.timedelta(days=2),
            end=now + dt.timedelta(days=20),
            units=resource.capacity,
        )
        if not slots:
            continue
        slot = rng.choice(slots)
        targets.append(Request(number, resource.pk, slot.start, slot.end))
        expected[number] = resource.capacity
    return targets, expected


def summarise_run(
    report: RunReport, *, expected: dict[int, int] | None = None
) -> tuple[dict, list[float]]:
    latencies = sorted(o.seconds for o in report.outcomes)
    results = Counter(o.result for o in report.outcomes)
    figures: dict = {
        "writers": WRITERS,
        "attempts": len(report.outcomes),
        "succeeded": results.get("ok", 0),
        "conflicts": results.get("conflict", 0),
        "rule_errors": results.get("rule", 0),
        "errors": results.get("error", 0),
        "wall_s": round(report.wall_s, 3),
        "bookings_per_s": round(results.get("ok", 0) / report.wall_s, 1) if report.wall_s else 0,
        "attempts_per_s": round(len(report.outcomes) / report.wall_s, 1) if report.wall_s else 0,
    }
    messages = Counter(o.message for o in report.outcomes if o.result in ("rule", "error"))
    if messages:
        figures["error_messages"] = dict(messages.most_common(5))
    if expected is not None:
        winners: dict[int, int] = defaultdict(int)
        for outcome in report.outcomes:
            if outcome.result == "ok":
                winners[outcome.request.target] += 1
        figures["expected_successes"] = sum(expected.values())
        figures["targets_exact"] = sum(1 for t, n in expected.items() if winners[t] == n)
        figures["targets"] = len(expected)
        figures["targets_over_capacity"] = sum(1 for t, n in expected.items() if winners[t] > n)
    return figures, latencies
