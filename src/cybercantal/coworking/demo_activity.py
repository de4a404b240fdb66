"""A demo year of activity in the tiers-lieux network, after `manage.py seed_demo`:
`manage.py seed_coworking_activity`.

About 150 fictional members (accounts is_demo, "(démo)" names, no usable password) with their
network profile (30 % newcomers), the passes they bought over the past 12 months with their
invoices, their desk bookings and check-ins, a few meeting-room bookings in the last three
months invoiced at the place's hourly room price, with seasons (quiet August and Christmas, busy
autumn and spring) and a network that grows as members join through the year.

Speed: the services write one row at a time with locks and checks (a few thousand queries
per hundred visits); the year is written with bulk_create instead, keeping the invariants the
services keep:
- a pass's ledger starts with its PURCHASE; a desk booking on a pass used "on booking" is
  paid by a BOOKING movement, a check-in without one by a CHECK_IN movement linked to it, a
  pass used "on arrival" pays at check-in; no balance ever goes below zero; unlimited passes
  have no movement;
- one check-in per member, place and day; a desk pool never holds more bookings at once than
  its capacity; bookings attended or no-show carry their status transitions;
- invoices go through the invoicing services (invoice_for_pass, dated the day of the sale;
  services.rooms.invoice_for_booking, dated the day of the meeting; all in date order per
  operator): numbers gapless per operator, legal mentions, audit rows;
- a room holds one booking at a time (one meeting per room and day).
Random but deterministic (a fixed seed). Idempotent: when the demo members exist, nothing is
written. Issued invoices are never deleted, so the year is not regenerated: start again from
a fresh database for new dates."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from cybercantal.accounts.models import User
from cybercantal.booking import availability as av
from cybercantal.booking.models import Allocation, Booking, BookingTransition, Resource, Service
from cybercantal.core.demo import ACCOUNTS, DemoError, check_demo_allowed
from cybercantal.core.geo import great_circle_km
from cybercantal.territory.models import Commune

from .models import (
    CheckIn,
    CreditMovement,
    DeskBooking,
    Invoice,
    MemberProfile,
    Offer,
    Pass,
    SettlementRule,
    TiersLieu,
)

USERNAME = "demo-membre-{:03d}"
SEASON = {1: 0.8, 2: 0.9, 3: 1.0, 4: 1.05, 5: 0.95, 6: 1.0, 7: 0.9, 8: 0.45, 9: 1.15, 10: 1.2}
SEASON |= {11: 1.1, 12: 0.65}
FIRST_NAMES = ["Camille", "Louis", "Manon", "Hugo", "Chloé", "Jules", "Léa", "Arthur", "Emma"]
FIRST_NAMES += ["Lucas", "Inès", "Nathan", "Sarah", "Théo", "Zoé", "Paul", "Alice", "Marius"]
LAST_NAMES = ["Chassang", "Delmas", "Fabre", "Lavergne", "Malbec", "Peyral", "Roux", "Serre"]
LAST_NAMES += ["Tible", "Vaurs", "Bonal", "Cayrol", "Dabernat", "Espinasse", "Galvaing"]
FROM_ELSEWHERE = ["69", "75", "63", "33", "31", "44", "13", "92", "34", "87", "19", "12"]
MODES = ["car"] * 14 + ["carpool"] * 2 + ["train", "bus", "other", "other"]
# Archetypes: (share, visits per working day at the busiest season).
KINDS = {
    "subscriber": (0.2, 0.6),
    "book": (0.35, 0.22),
    "network": (0.15, 0.3),
    "day": (0.2, 0.05),
    "discovery": (0.1, 0.05),
}
NO_SHOW = 0.03
ROOM_BOOKINGS = 30  # over the last three months, across the network
ROOM_MONTHS_DAYS = 90
MEETINGS = [((9, 0), (11, 0)), ((14, 0), (17, 0)), ((10, 0), (12, 30)), ((13, 30), (15, 0))]


@dataclass
class ActivityReport:
    already_there: bool = False
    counts: Counter = field(default_factory=Counter)


@dataclass
class _PassState:
    obj: Pass
    balance: int


class _Year:
    """The year being written: rows to bulk_create, in memory."""

    def __init__(self, rng: random.Random, start: dt.date, end: dt.date) -> None:
        self.rng, self.start, self.end = rng, start, end
        self.tz = timezone.get_current_timezone()
        self.places = list(
            TiersLieu.objects.filter(is_demo=True).select_related("place").order_by("pk")
        )
        if not self.places:
            raise DemoError("Lancez d'abord : manage.py seed_demo")
        offers = Offer.objects.filter(is_demo=True)
        self.offers = {(o.tiers_lieu_id, o.kind, o.is_reduced): o for o in offers}
        self.pools = {
            r.place_id: r
            for r in Resource.objects.filter(kind=Resource.Kind.DESK_POOL, is_demo=True)
        }
        self.service = Service.objects.filter(code="coworking_desk_day").first()
        self.rooms = {
            r.place_id: r
            for r in Resource.objects.filter(kind=Resource.Kind.ROOM, is_demo=True).filter(
                place_id__in=[p.place_id for p in self.places]
            )
        }
        self.room_service = Service.objects.filter(code="meeting_room_hour").first()
        self.room_bookings: list[Booking] = []
        self.room_days: set[tuple[int, dt.date]] = set()  # (room id, day) taken
        self.passes: list[Pass] = []
        self.movements: list[CreditMovement] = []
        self.bookings: list[Booking] = []
        self.allocations: list[Allocation] = []
        self.desks: list[DeskBooking] = []
        self.transitions: list[BookingTransition] = []
        self.check_ins: list[CheckIn] = []
        self.seats: Counter = Counter()  # (place id, day) → desk bookings
        self.references: set[str] = set()

    def moment(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def offer(self, tiers_lieu, kind: str) -> Offer:
        return self.offers[(tiers_lieu.pk if tiers_lieu else None, kind, False)]

    def sell(self, member: User, offer: Offer, sold_at: TiersLieu, day: dt.date) -> _PassState:
        sold = Pass(
            member=member,
            offer=offer,
            sold_at=sold_at,
            valid_from=day,
            valid_until=day + dt.timedelta(days=offer.validity_days - 1),
            status=Pass.Status.ACTIVE,
            price_cents=offer.price_cents,
            funder=offer.funder,
            is_demo=True,
        )
        self.passes.append(sold)
        if offer.half_days:
            self.movements.append(
                CreditMovement(
                    pass_account=sold,
                    half_days=offer.half_days,
                    reason="purchase",
                    at=self.moment(day, 9),
                )
            )
        return _PassState(sold, offer.half_days)

    def reference(self) -> str:
        while True:
            text = "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
            if text not in self.references:
                self.references.add(text)
                return text

    def book(
        self,
        member: User,
        state: _PassState,
        place: TiersLieu,
        day: dt.date,
        half_days: int,
        *,
        no_show: bool,
    ) -> Booking | None:
        pool = self.pools.get(place.place_id)
        if pool is None or self.seats[(place.pk, day)] >= pool.capacity:
            return None
        self.seats[(place.pk, day)] += 1
        start = self.moment(day, 9)
        end = self.moment(day, 12, 30) if half_days == 1 else self.moment(day, 17, 30)
        status = Booking.Status.NO_SHOW if no_show else Booking.Status.ATTENDED
        booking = Booking(
            reference=self.reference(),
            start=start,
            end=end,
            status=status,
            service=self.service,
            place=place.place,
            user=member,
            created_by=member,
        )
        self.bookings.append(booking)
        self.allocations.append(
            Allocation(
                booking=booking,
                resource=pool,
                blocked_start=start,
                blocked_end=end,
                is_exclusive=False,
            )
        )
        self.desks.append(DeskBooking(booking=booking, pass_account=state.obj, half_days=half_days))
        self.transitions += [
            BookingTransition(booking=booking, from_status="", to_status="confirmed", actor=member),
            BookingTransition(booking=booking, from_status="confirmed", to_status=status),
        ]
        offer = state.obj.offer
        if offer.half_days and offer.consumed_on == Offer.ConsumedOn.BOOKING:
            state.balance -= half_days
            self.movements.append(
                CreditMovement(
                    pass_account=state.obj,
                    half_days=-half_days,
                    reason="booking",
                    booking=booking,
                    actor=member,
                    at=start - dt.timedelta(days=2),
                )
            )
        return booking

    def meet(self, member: User, place: TiersLieu, day: dt.date) -> Booking | None:
        """A meeting in the place's room, attended; none when the room is taken that day."""
        room = self.rooms.get(place.place_id)
        if room is None or (room.pk, day) in self.room_days:
            return None
        self.room_days.add((room.pk, day))
        (start_h, start_m), (end_h, end_m) = self.rng.choice(MEETINGS)
        start, end = self.moment(day, start_h, start_m), self.moment(day, end_h, end_m)
        booking = Booking(
            reference=self.reference(),
            start=start,
            end=end,
            status=Booking.Status.ATTENDED,
            service=self.room_service,
            place=place.place,
            user=member,
            created_by=member,
        )
        self.bookings.append(booking)
        self.room_bookings.append(booking)
        self.allocations.append(
            Allocation(booking=booking, resource=room, blocked_start=start, blocked_end=end)
        )
        self.transitions += [
            BookingTransition(booking=booking, from_status="", to_status="confirmed", actor=member),
            BookingTransition(booking=booking, from_status="confirmed", to_status="attended"),
        ]
        return booking

    def arrive(
        self,
        member: User,
        state: _PassState,
        place: TiersLieu,
        day: dt.date,
        booking: Booking | None,
    ) -> None:
        at = self.moment(day, 9, self.rng.randrange(0, 50))
        check_in = CheckIn(
            tiers_lieu=place,
            member=member,
            day=day,
            at=at,
            method=self.rng.choice(["qr", "qr", "pin", "manual"]),
            pass_used=state.obj,
            booking=booking,
            client_uuid=uuid.UUID(int=self.rng.getrandbits(128)),
        )
        self.check_ins.append(check_in)
        offer = state.obj.offer
        paid_by_booking = booking is not None and offer.consumed_on == Offer.ConsumedOn.BOOKING
        if offer.half_days and not paid_by_booking:
            # A day (or the last half-day left), as check_in_record charges an arrival.
            used = min(2, state.balance)
            state.balance -= used
            self.movements.append(
                CreditMovement(
                    pass_account=state.obj,
                    half_days=-used,
                    reason="check_in",
                    check_in=check_in,
                    booking=booking,
                    at=at,
                )
            )


def _working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    holidays = set(av.public_holidays(start.year)) | set(av.public_holidays(end.year))
    days, day = [], start
    while day <= end:
        if day.weekday() < 5 and day not in holidays:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _members(rng: random.Random, count: int, places, start: dt.date, end: dt.date):
    """Accounts and profiles, each with a home place, a kind and a first day in the network."""
    communes = list(
        Commune.objects.filter(department_code="15").values_list("pk", "latitude", "longitude")
    )
    users, profiles, plans = [], [], []
    unusable = make_password(None)
    span = (end - start).days
    for number in range(1, count + 1):
        home = rng.choice(places)
        near = [
            c
            for c in communes
            if great_circle_km(c[1], c[2], home.place.latitude, home.place.longitude) < 25
        ] or communes
        kind = rng.choices(list(KINDS), weights=[share for share, _ in KINDS.values()])[0]
        # Two thirds were there when the year began; the others join through it.
        joined = start if rng.random() < 0.66 else start + dt.timedelta(days=rng.randrange(span))
        username = USERNAME.format(number)
        user = User(
            username=username,
            first_name=rng.choice(FIRST_NAMES),
            last_name=f"{rng.choice(LAST_NAMES)} (démo)",
            email=f"{username}@demo.example.org",
            home_commune_id=rng.choice(near)[0],
            is_demo=True,
            password=unusable,  # these members never log in
        )
        newcomer = rng.random() < 0.3
        profiles.append(
            MemberProfile(
                user=user,
                joined_on=joined,
                previous_departement=rng.choice(FROM_ELSEWHERE)
                if newcomer
                else rng.choice(["15", "15", ""]),
                usual_commute_km=rng.randrange(12, 75) if rng.random() < 0.9 else None,
                commute_mode=rng.choice(MODES),
                checkin_code=f"demo-{uuid.UUID(int=rng.getrandbits(128)).hex}",
            )
        )
        users.append(user)
        plans.append((user, home, kind, joined))
    User.objects.bulk_create(users)
    MemberProfile.objects.bulk_create(profiles)
    return plans


def _live(year: _Year, plans, days: list[dt.date]) -> None:
    rng = year.rng
    for user, home, kind, joined in plans:
        rate = KINDS[kind][1] * rng.uniform(0.6, 1.4)
        state: _PassState | None = None
        for day in days:
            if day < joined or rng.random() > rate * SEASON[day.month]:
                continue
            place = home
            if kind == "subscriber":
                if state is None or state.obj.valid_until < day:
                    state = year.sell(user, year.offer(home, Offer.Kind.MONTHLY), home, day)
            elif kind == "book":
                if state is None or state.balance < 2:
                    state = year.sell(user, year.offer(home, Offer.Kind.BOOK), home, day)
            elif kind == "network":
                if state is None or state.balance < 2:
                    state = year.sell(user, year.offer(None, Offer.Kind.NETWORK_PASS), home, day)
                if rng.random() < 0.4:
                    place = rng.choice(year.places)
            elif kind == "discovery" and state is None:
                state = year.sell(user, year.offer(None, Offer.Kind.DISCOVERY), home, day)
            else:  # a day bought on the spot (discovery members once their day is used)
                if state is not None and state.balance >= 2 and state.obj.valid_until >= day:
                    pass
                else:
                    state = year.sell(user, year.offer(home, Offer.Kind.DAY), home, day)
            booking = None
            if kind in ("subscriber", "book", "network") and rng.random() < 0.55:
                half_days = 1 if rng.random() < 0.2 else 2
                half_days = (
                    min(half_days, state.balance) if state.obj.offer.half_days else half_days
                )
                no_show = rng.random() < NO_SHOW
                booking = year.book(user, state, place, day, half_days, no_show=no_show)
                if booking is not None and no_show:
                    continue
            year.arrive(user, state, place, day, booking)


def _meetings(year: _Year, plans, days: list[dt.date]) -> None:
    """ROOM_BOOKINGS meetings on working days of the last three months, by members at their
    home place (where it has a room and an hourly room price)."""
    priced = set(
        Offer.objects.filter(is_demo=True, kind=Offer.Kind.ROOM_HOUR, is_active=True).values_list(
            "tiers_lieu_id", flat=True
        )
    )
    recent = [d for d in days if d > year.end - dt.timedelta(days=ROOM_MONTHS_DAYS)]
    hosts = [(user, home, joined) for user, home, _kind, joined in plans if home.pk in priced]
    if not recent or not hosts:
        return
    for _ in range(ROOM_BOOKINGS * 3):  # some draws fall on a taken room or day
        if len(year.room_bookings) >= ROOM_BOOKINGS:
            break
        user, home, joined = year.rng.choice(hosts)
        day = year.rng.choice(recent)
        if day >= joined:
            year.meet(user, home, day)


def _rules(start: dt.date) -> None:
    """A network rule from the start of the year (before the demo's own from 2026) and one
    place paid per visit, so that statements show both bases and a change of rule."""
    SettlementRule.objects.get_or_create(
        tiers_lieu=None,
        valid_from=start.replace(day=1),
        defaults={"basis": "per_day", "amount_cents": 800},
    )
    first = TiersLieu.objects.filter(is_demo=True).order_by("pk").first()
    SettlementRule.objects.get_or_create(
        tiers_lieu=first,
        valid_from=start.replace(day=1),
        defaults={"basis": "per_visit", "amount_cents": 700},
    )


def _invoice(passes: list[Pass], room_bookings: list[Booking], tz) -> int:
    """Every pass invoiced through the service on its day of sale, every meeting on its day,
    all in date order (each operator's numbers follow its dates)."""
    from .services.invoices import invoice_for_pass
    from .services.rooms import invoice_for_booking

    agent = User.objects.get(
        username=next(a.username for a in ACCOUNTS if a.role == "department_agent")
    )
    work = [(p.valid_from, 0, p.pk, p) for p in passes]
    work += [(timezone.localtime(b.start, tz).date(), 1, b.pk, b) for b in room_bookings]
    for day, kind, _pk, item in sorted(work, key=lambda w: w[:3]):
        now = dt.datetime.combine(day, dt.time(18), tzinfo=tz)
        if kind == 0:
            invoice_for_pass(actor=agent, pass_account=item, now=now)
        else:
            invoice_for_booking(actor=agent, booking=item, now=now)
    return len(work)


@transaction.atomic
def seed_coworking_activity(
    *, members: int = 150, today: dt.date | None = None, seed: int = 15
) -> ActivityReport:
    """Write the demo year (the 12 months before `today`) once; see the module's docstring."""
    check_demo_allowed()
    report = ActivityReport()
    if User.objects.filter(username=USERNAME.format(1)).exists():
        report.already_there = True
        return report
    today = today or timezone.localdate()
    end = today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=364)
    operators = Offer.objects.filter(is_demo=True).values("operator_id")
    if Invoice.objects.filter(operator_id__in=operators, issued_on__gte=start).exists():
        raise DemoError(
            "Les exploitants de démonstration ont déjà des factures sur l'année : l'activité "
            "de démonstration demande une base neuve (les factures ne se suppriment pas)."
        )
    rng = random.Random(seed)
    year = _Year(rng, start, end)
    _rules(start)
    plans = _members(rng, members, year.places, start, end)
    days = _working_days(start, end)
    _live(year, plans, days)
    _meetings(year, plans, days)
    Pass.objects.bulk_create(year.passes, batch_size=500)
    Booking.objects.bulk_create(year.bookings, batch_size=500)
    Allocation.objects.bulk_create(year.allocations, batch_size=500)
    DeskBooking.objects.bulk_create(year.desks, batch_size=500)
    BookingTransition.objects.bulk_create(year.transitions, batch_size=500)
    CheckIn.objects.bulk_create(year.check_ins, batch_size=500)
    CreditMovement.objects.bulk_create(year.movements, batch_size=500)
    # CreditMovement.at is auto_now_add, which bulk_create fills with now: put back the day.
    CreditMovement.objects.bulk_update(year.movements, ["at"], batch_size=500)
    invoices = _invoice(year.passes, year.room_bookings, year.tz)
    report.counts.update(
        {
            "members": members,
            "passes": len(year.passes),
            "bookings": len(year.bookings),
            "room_bookings": len(year.room_bookings),
            "check_ins": len(year.check_ins),
            "movements": len(year.movements),
            "invoices": invoices,
        }
    )
    return report
