"""Datasets of the booking benchmark, built inside the benchmark's throw-away database.

"cantal": the real Cantal (territory_load("15"), 250 communes), about 130 places spread over
them, 300 resources of seven profiles (mediators, some itinerant; practitioners; cabins; rooms;
desk pools; equipment kits; workshops) with realistic weekly rules, closures and about 20,000
existing bookings over the next 90 days.

"france": the same generator on a 10 × 10 grid of Cantal-sized tiles: the real Cantal is one
tile, the 99 others are translated copies of its communes (France is ~96 times the Cantal's
area and spans ~9° of latitude and ~13° of longitude, i.e. 10 × 10 Cantals), each with its own
places, resources and bookings: 100 times the resources and bookings, at the same density.

Bookings are valid by construction: each one starts on a slot the engine itself would offer
(opening intervals from booking.intervals, closures subtracted, alignment on the opening's
start, duration allowed by the policy), and a per-resource occupancy count in 5-minute ticks
over the blocked interval (buffers included) keeps every instant within capacity. The
benchmark checks it again in SQL afterwards. Inserted with bulk_create ("cantal") or COPY
("france", PostgreSQL only), with explicit ids, then the sequences are reset.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Paris")
TICK_S = 300  # occupancy is counted in 5-minute ticks: every time and buffer is a multiple
DAYS = 90
CANTAL_TILE = (2, 5)  # row (south → north), column (west → east) of the real Cantal
GRID = 10

SERVICES = [
    ("mediation", "Aide aux démarches en ligne", 30),
    ("teleconsultation", "Téléconsultation", 30),
    ("coworking", "Poste de travail partagé", 240),
    ("salle", "Salle de réunion", 60),
    ("materiel", "Prêt de matériel numérique", 240),
    ("atelier", "Atelier numérique collectif", 120),
]


@dataclass(frozen=True)
class Profile:
    label: str
    count: int  # per tile (300 in all)
    kind: str
    services: tuple[str, ...]
    capacity: tuple[int, int]
    slot: int
    durations: tuple[int, ...]  # minutes, multiples of slot; min/max of the policy
    buffer_after: int = 0
    itinerant: float = 0.0  # share of the profile that tours several places
    weight: float = 1.0  # share of the bookings, per resource
    hours: str = "office"


PROFILES = [
    Profile("Conseiller numérique", 70, "person", ("mediation",), (1, 1), 30, (30, 60),
            itinerant=0.5, weight=1.6),
    Profile("Médecin téléconsultant", 25, "person", ("teleconsultation",), (1, 1), 30, (30,),
            itinerant=0.3, weight=2.0),
    Profile("Cabine de téléconsultation", 35, "cabin", ("teleconsultation",), (1, 1), 30,
            (30, 60), buffer_after=10, weight=1.2),
    Profile("Salle de réunion", 50, "room", ("salle",), (1, 1), 60, (60, 120, 180),
            buffer_after=15, weight=0.8),
    Profile("Espace de coworking", 40, "desk_pool", ("coworking",), (8, 20), 60,
            (120, 240, 480), weight=2.0, hours="long"),
    Profile("Kit de tablettes", 40, "equipment", ("materiel",), (1, 3), 60, (240, 480),
            weight=0.4, hours="long"),
    Profile("Atelier numérique", 40, "workshop", ("mediation", "atelier"), (6, 12), 120,
            (120,), weight=0.6),
]  # fmt: skip

HOURS = {
    # weekday (0 = Monday) → list of (start, end) local times
    "office": {d: [("09:00", "12:00"), ("14:00", "17:00")] for d in range(5)},
    "wide": {
        **{d: [("08:30", "12:30"), ("13:30", "18:00")] for d in range(5)},
        5: [("09:00", "12:00")],
    },
    "part": {d: [("09:00", "12:30"), ("13:30", "17:00")] for d in (1, 3, 4)},
    "long": {d: [("08:00", "19:00")] for d in range(5)},
}
OFFICE_VARIANTS = ["office", "office", "wide", "part"]


@dataclass
class Scale:
    name: str
    tiles: list[tuple[int, int]]  # (row, column) of each tile; CANTAL_TILE is the real Cantal
    places_per_tile: int = 130
    bookings_per_tile: int = 20_000
    days: int = DAYS


@dataclass
class DatasetReport:
    name: str
    tiles: int = 0
    communes: int = 0
    places: int = 0
    resources: int = 0
    rules: int = 0
    closures: int = 0
    bookings: int = 0
    allocations: int = 0
    bookings_short: int = 0  # bookings the generator could not place without exceeding capacity
    build_s: float = 0.0
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in ([], "")}


class Ids:
    """Explicit ids, continuing after what the tables already hold."""

    def __init__(self, models: Iterable) -> None:
        from django.db.models import Max

        self.next = {m: (m.objects.aggregate(n=Max("pk"))["n"] or 0) + 1 for m in models}

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class Writer:
    """Rows as dicts of field attnames → values. bulk_create in large batches, or COPY on
    PostgreSQL (psycopg 3) for the national dataset."""

    def __init__(self, use_copy: bool) -> None:
        from django.db import connection

        self.use_copy = use_copy and connection.vendor == "postgresql"

    def write(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        if not self.use_copy:
            model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
            return
        from django.db import connection

        columns = list(rows[0])
        quote = connection.ops.quote_name
        db_columns = [quote(model._meta.get_field(name).column) for name in columns]
        sql = f"COPY {quote(model._meta.db_table)} ({', '.join(db_columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


@contextlib.contextmanager
def without_secondary_indexes(models, log=print):
    """PostgreSQL bulk load: drop the tables' constraints (but primary keys and checks) and
    indexes, and rebuild them afterwards — one sort per index instead of millions of random
    page writes once the indexes outgrow shared_buffers. Re-adding the exclusion constraint
    and the foreign keys checks the whole loaded data again."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    constraints, indexes = [], []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('u', 'x', 'f')",
                [table],
            )
            for name, definition in cursor.fetchall():
                constraints.append((table, name, definition))
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [table],
            )
            indexes.extend(cursor.fetchall())
        for table, name, _ in constraints:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            # Unique and exclusion constraints first: the foreign keys need the unique indexes.
            for table, name, definition in sorted(constraints, key=lambda c: "FOREIGN" in c[2]):
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        log(
            f"  index et contraintes reconstruits et revérifiés : {len(indexes)} index, "
            f"{len(constraints)} contraintes, {time.perf_counter() - started:.0f} s"
        )


def reset_sequences(models) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def window_start() -> dt.datetime:
    """Local midnight today: bookings fill [today, today + 90 days)."""
    return dt.datetime.combine(dt.datetime.now(TZ).date(), dt.time(), tzinfo=TZ)


def load_cantal_territory() -> None:
    from cybercantal.territory.services import territory_load

    territory_load(code="15")


def build(scale: Scale, *, use_copy: bool, budget_s: float | None = None, log=print):
    """Build `scale` on top of what the database holds (the Cantal's communes must be loaded).
    Returns (report, context) where context lists what the measurements need."""
    from cybercantal.booking.models import (
        Allocation,
        AvailabilityRule,
        Booking,
        Closure,
        Resource,
        Service,
    )
    from cybercantal.territory.models import Commune, Epci, Organisation, Place

    started = time.perf_counter()
    report = DatasetReport(scale.name, method="COPY" if use_copy else "bulk_create")
    services = {}
    for code, label, minutes in SERVICES:
        services[code], _ = Service.objects.get_or_create(
            code=code, defaults={"label": label, "default_duration_minutes": minutes}
        )
    cantal = list(Commune.objects.filter(department_code="15").defer("outline").order_by("pk"))
    lat0 = min(c.latitude for c in cantal)
    lon0 = min(c.longitude for c in cantal)
    dlat = max(c.latitude for c in cantal) - lat0
    dlon = max(c.longitude for c in cantal) - lon0
    writer = Writer(use_copy)
    models = [Place, Resource, AvailabilityRule, Closure, Booking, Allocation]
    ids = Ids([*models, Resource.services.through])
    start = window_start()
    per_tile_times: list[float] = []
    tables = {
        "Place": Place,
        "Resource": Resource,
        "Rule": AvailabilityRule,
        "Closure": Closure,
        "Booking": Booking,
        "Allocation": Allocation,
        "ResourceServices": Resource.services.through,
    }
    # A quarter of the budget is kept for rebuilding the indexes after a COPY load.
    tiles_budget = None if budget_s is None else budget_s * (0.75 if writer.use_copy else 1)
    bulk = (
        without_secondary_indexes([Booking, Allocation], log=log)
        if writer.use_copy
        else contextlib.nullcontext()
    )
    with bulk:
        for number, tile in enumerate(scale.tiles):
            if tiles_budget is not None and per_tile_times:
                mean = sum(per_tile_times) / len(per_tile_times)
                if time.perf_counter() - started + mean > tiles_budget:
                    report.notes.append(
                        f"construction arrêtée après {number} tuiles sur {len(scale.tiles)} "
                        f"(budget {budget_s:.0f} s, index compris)"
                    )
                    break
            tile_started = time.perf_counter()
            rng = random.Random(f"{scale.name}-{tile}")
            communes = (
                cantal
                if tile == CANTAL_TILE
                else _copy_communes(cantal, tile, dlat, dlon, Commune, Epci)
            )
            report.communes += len(communes)
            organisation, _ = Organisation.objects.get_or_create(
                name=f"Réseau du banc d'essai {tile[0]}-{tile[1]}", kind="other", commune=None
            )
            _tile(rng, scale, communes, organisation, services, start, ids, writer, report, tables)
            report.tiles += 1
            per_tile_times.append(time.perf_counter() - tile_started)
            if len(scale.tiles) > 1 and (number + 1) % 10 == 0:
                log(
                    f"  {scale.name}: {number + 1}/{len(scale.tiles)} tuiles, "
                    f"{report.bookings} réservations, {time.perf_counter() - started:.0f} s"
                )
    reset_sequences([*models, Resource.services.through])
    report.build_s = round(time.perf_counter() - started, 1)
    return report


def _copy_communes(cantal, tile, dlat, dlon, Commune, Epci) -> list:
    from cybercantal.core.text import normalize_search

    row, col = tile
    code = f"{row}{col}"
    epci, _ = Epci.objects.get_or_create(siren=f"9{code}000000"[:9], defaults={"name": code})
    shift_lat = (row - CANTAL_TILE[0]) * dlat
    shift_lon = (col - CANTAL_TILE[1]) * dlon
    copies = []
    for index, commune in enumerate(cantal):
        name = f"{commune.name} ({code})"
        copies.append(
            Commune(
                insee_code=f"F{code}{index:02X}",
                name=name,
                search_name=normalize_search(name),
                postal_codes=f" {row}{col}{index % 1000:03d} ",
                population=commune.population,
                epci=epci,
                department_code=f"F{code}",
                latitude=commune.latitude + shift_lat,
                longitude=commune.longitude + shift_lon,
                area_km2=commune.area_km2,
            )
        )
    Commune.objects.bulk_create(copies, batch_size=1000)
    return list(Commune.objects.filter(department_code=f"F{code}").defer("outline"))


def _km(a, b) -> float:
    from cybercantal.core.geo import great_circle_km

    return great_circle_km(a[0], a[1], b[0], b[1])


def _tile(rng, scale, communes, organisation, services, start, ids, writer, report, models):
    from cybercantal.booking import intervals as iv
    from cybercantal.booking.availability import public_holidays

    M = models
    now = dt.datetime.now(dt.UTC)
    end = start + dt.timedelta(days=scale.days)

    # Places: more in bigger communes (weight √population), within ~1 km of the centre.
    weights = [math.sqrt(c.population) for c in communes]
    place_rows, place_points = [], {}
    for number, commune in enumerate(rng.choices(communes, weights, k=scale.places_per_tile)):
        pid = ids.take(M["Place"])
        lat = commune.latitude + rng.uniform(-0.008, 0.008)
        lon = commune.longitude + rng.uniform(-0.011, 0.011)
        place_rows.append(
            {
                "id": pid,
                "created_at": now,
                "updated_at": now,
                "is_demo": False,
                "name": f"Lieu {number:03d} — {commune.name}"[:200],
                "description": "",
                "address": "1 place de la Mairie",
                "address_complement": "",
                "postal_code": commune.postal_code_list[0][:5],
                "commune_id": commune.pk,
                "latitude": lat,
                "longitude": lon,
                "opening_hours": "",
                "accessibility": "unknown",
                "accessibility_details": "",
                "connectivity": "unknown",
                "download_mbps": None,
                "has_public_wifi": False,
                "phone": "",
                "email": "",
                "website": "",
                "organisation_id": organisation.pk,
                "is_public": rng.random() >= 0.05,
            }
        )
        place_points[pid] = (lat, lon)
    writer.write(M["Place"], place_rows)
    report.places += len(place_rows)
    place_ids = list(place_points)
    public_place_ids = [p["id"] for p in place_rows if p["is_public"]]

    holidays = frozenset().union(*(public_holidays(y) for y in {start.year, end.year}))
    resource_rows, link_rows, rule_rows, closure_rows = [], [], [], []
    specs = []  # (resource id, profile, capacity, place id, rules, closures, holidays?)
    for profile in PROFILES:
        for _number in range(profile.count):
            rid = ids.take(M["Resource"])
            home = rng.choice(public_place_ids)
            capacity = rng.randint(*profile.capacity)
            observes = rng.random() >= 0.1
            resource_rows.append(
                {
                    "id": rid,
                    "created_at": now,
                    "updated_at": now,
                    "is_demo": False,
                    "name": f"{profile.label} {rid}",
                    "kind": profile.kind,
                    "description": "",
                    "place_id": home,
                    "organisation_id": organisation.pk,
                    "person_id": None,
                    "capacity": capacity,
                    "is_active": True,
                    "slot_minutes": profile.slot,
                    "min_duration_minutes": min(profile.durations),
                    "max_duration_minutes": max(profile.durations),
                    "buffer_before_minutes": 0,
                    "buffer_after_minutes": profile.buffer_after,
                    "min_notice_minutes": 60,
                    "horizon_days": scale.days,
                    "cancellation_deadline_hours": 24,
                    "approval_required": False,
                    "bookable_by": "anyone",
                    "max_future_bookings_per_person": 0,
                    "observes_public_holidays": observes,
                    "reminder_hours_before": 24,
                    "rules_version": 0,
                }
            )
            for code in profile.services:
                link_rows.append(
                    {
                        "id": ids.take(M["ResourceServices"]),
                        "resource_id": rid,
                        "service_id": services[code].pk,
                    }
                )
            rules = _rules(rng, profile, home, place_ids, place_points, start)
            for rule in rules:
                rule_rows.append(
                    {
                        "id": ids.take(M["Rule"]),
                        "resource_id": rid,
                        "weekday": rule.weekday,
                        "start_time": rule.start_time,
                        "end_time": rule.end_time,
                        "valid_from": rule.valid_from,
                        "valid_until": rule.valid_until,
                        "weeks_of_month": ",".join(str(w) for w in sorted(rule.weeks)),
                        "place_id": rule.place_id if rule.place_id != home else None,
                    }
                )
            closures = []
            if rng.random() < 0.05:  # a week of leave, or works
                first = start + dt.timedelta(days=rng.randrange(scale.days - 7))
                closures.append((first, first + dt.timedelta(days=5)))
                closure_rows.append(
                    {
                        "id": ids.take(M["Closure"]),
                        "resource_id": rid,
                        "place_id": None,
                        "start": first,
                        "end": first + dt.timedelta(days=5),
                        "reason": "Congés",
                    }
                )
            specs.append((rid, profile, capacity, home, rules, closures, observes))
    # A few places closed for a day (snow, strike, works).
    place_closures: dict[int, list] = {}
    for pid in rng.sample(place_ids, 3):
        day = start + dt.timedelta(days=rng.randrange(scale.days))
        place_closures.setdefault(pid, []).append((day, day + dt.timedelta(days=1)))
        closure_rows.append(
            {
                "id": ids.take(M["Closure"]),
                "resource_id": None,
                "place_id": pid,
                "start": day,
                "end": day + dt.timedelta(days=1),
                "reason": "Fermeture exceptionnelle",
            }
        )
    writer.write(M["Resource"], resource_rows)
    writer.write(M["ResourceServices"], link_rows)
    writer.write(M["Rule"], rule_rows)
    writer.write(M["Closure"], closure_rows)
    report.resources += len(resource_rows)
    report.rules += len(rule_rows)
    report.closures += len(closure_rows)

    # Bookings: the tile's total shared by weight, each placed on an offered slot that fits.
    total_weight = sum(p.weight * p.count for p in PROFILES)
    booking_rows, allocation_rows = [], []
    for rid, profile, capacity, _home, rules, closures, observes in specs:
        opening = iv.opening_intervals(
            rules, start=start, end=end, tz=TZ, closed_days=holidays if observes else frozenset()
        )
        pieces = []
        for interval in opening:
            cuts = closures + place_closures.get(interval.place_id, [])
            pieces.extend(iv.subtract([interval], cuts))
        wanted = round(scale.bookings_per_tile * profile.weight / total_weight)
        _place_bookings(
            rng, rid, profile, capacity, pieces, wanted, ids, M, now, booking_rows,
            allocation_rows, services, report,
        )  # fmt: skip
    writer.write(M["Booking"], booking_rows)
    writer.write(M["Allocation"], allocation_rows)
    report.bookings += len(booking_rows)
    report.allocations += len(allocation_rows)


def _rules(rng, profile, home, place_ids, place_points, start):
    """Weekly rules (booking.intervals.RuleSpec) of one resource, place_id always set."""
    from cybercantal.booking.intervals import RuleSpec

    hours = (
        HOURS[profile.hours] if profile.hours != "office" else HOURS[rng.choice(OFFICE_VARIANTS)]
    )
    rules = []
    if rng.random() < profile.itinerant:
        # A tour: each weekday somewhere else within 35 km; on some days the 1st and 3rd
        # weeks in one village, the 2nd and 4th in another.
        near = [p for p in place_ids if _km(place_points[p], place_points[home]) <= 35] or [home]
        for weekday, spans in hours.items():
            first = rng.choice(near)
            if rng.random() < 0.3:
                second = rng.choice(near)
                variants = [(frozenset({1, 3}), first), (frozenset({2, 4}), second)]
            else:
                variants = [(frozenset(), first)]
            for weeks, place in variants:
                for opens, closes in spans:
                    rules.append(RuleSpec(weekday, _t(opens), _t(closes), None, None, weeks, place))
        return rules
    if rng.random() < 0.15:
        # Summer hours from day 45 on: the morning only.
        change = start.date() + dt.timedelta(days=45)
        for weekday, spans in hours.items():
            for opens, closes in spans:
                rules.append(
                    RuleSpec(weekday, _t(opens), _t(closes), None, change, frozenset(), home)
                )
            opens, closes = spans[0]
            rules.append(
                RuleSpec(
                    weekday,
                    _t(opens),
                    _t(closes),
                    change + dt.timedelta(days=1),
                    None,
                    frozenset(),
                    home,
                )
            )
        return rules
    for weekday, spans in hours.items():
        for opens, closes in spans:
            rules.append(RuleSpec(weekday, _t(opens), _t(closes), None, None, frozenset(), home))
    return rules


def _place_bookings(
    rng, rid, profile, capacity, pieces, wanted, ids, M, now, booking_rows, allocation_rows,
    services, report,
):  # fmt: skip
    if not pieces or wanted <= 0:
        report.bookings_short += max(wanted, 0)
        return
    cumulative, total = [], 0.0
    for piece in pieces:
        total += (piece.end - piece.start).total_seconds()
        cumulative.append(total)
    step = dt.timedelta(minutes=profile.slot)
    after = dt.timedelta(minutes=profile.buffer_after)
    usage: dict[int, int] = {}
    service_id = services[profile.services[0]].pk
    exclusive = capacity == 1
    for _ in range(wanted):
        for _attempt in range(25):
            piece = pieces[bisect.bisect_left(cumulative, rng.random() * total)]
            minutes = rng.choice(profile.durations)
            duration = dt.timedelta(minutes=minutes)
            # The slot grid starts at the rule's opening time (the "anchor"), even when a
            # closure has cut the interval; engines without anchors align on the start.
            anchor = getattr(piece, "anchor", None) or piece.start
            first = anchor + -(-(piece.start - anchor) // step) * step
            fits = (piece.end - first - duration) // step + 1
            if fits < 1:
                continue
            begin = first + rng.randrange(fits) * step
            finish = begin + duration
            units = 1 if exclusive else rng.choice((1, 1, 1, 2, 3))
            units = min(units, capacity)
            cancelled = rng.random() < 0.05
            first = int(begin.timestamp()) // TICK_S
            last = -(-int((finish + after).timestamp()) // TICK_S)
            ticks = range(first, last)
            if not cancelled and any(usage.get(t, 0) + units > capacity for t in ticks):
                continue
            if not cancelled:
                for t in ticks:
                    usage[t] = usage.get(t, 0) + units
            bid = ids.take(M["Booking"])
            status = (
                "cancelled" if cancelled else ("pending" if rng.random() < 0.03 else "confirmed")
            )
            booking_rows.append(
                {
                    "id": bid,
                    "created_at": now,
                    "updated_at": now,
                    "reference": f"B{bid:09d}",
                    "start": begin,
                    "end": finish,
                    "status": status,
                    "service_id": service_id,
                    "place_id": piece.place_id,
                    "user_id": None,
                    "person_name": f"Personne {bid}",
                    "person_phone": f"+33639980{bid % 1000:03d}",
                    "person_email": "",
                    "channel": rng.choice(("web", "web", "phone", "desk", "itinerant")),
                    "created_by_id": None,
                    "notes": "",
                    "participants": units,
                    "reminder_sent_at": None,
                }
            )
            allocation_rows.append(
                {
                    "id": ids.take(M["Allocation"]),
                    "booking_id": bid,
                    "resource_id": rid,
                    "blocked_start": begin,
                    "blocked_end": finish + after,
                    "units": units,
                    "is_active": not cancelled,
                    "is_exclusive": exclusive,
                }
            )
            break
        else:
            report.bookings_short += 1


def overbookings() -> dict:
    """Instants where a resource's active allocations exceed its capacity, found in SQL by a
    running sum over start (+units) and end (−units) events per resource, ends first at the
    same instant (intervals are half-open). Must be 0."""
    from django.db import connection

    sql = """
        WITH events AS (
            SELECT resource_id, blocked_start AS at, units AS delta
            FROM booking_allocation WHERE is_active
            UNION ALL
            SELECT resource_id, blocked_end AS at, -units AS delta
            FROM booking_allocation WHERE is_active
        ), running AS (
            SELECT resource_id, at, SUM(delta) OVER (
                PARTITION BY resource_id ORDER BY at, delta
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS used
            FROM events
        )
        SELECT COUNT(*), COUNT(DISTINCT running.resource_id)
        FROM running JOIN booking_resource r ON r.id = running.resource_id
        WHERE running.used > r.capacity
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        instants, resources = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM booking_allocation WHERE is_active")
        (active,) = cursor.fetchone()
    return {
        "overbooked_instants": instants,
        "overbooked_resources": resources,
        "active_allocations_checked": active,
        "check_s": round(time.perf_counter() - started, 2),
    }


def analyze() -> None:
    """Planner statistics after a bulk load, as autovacuum would gather them (PostgreSQL)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started
