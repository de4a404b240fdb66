"""Reads of the meeting-room and office pages: a place's rooms and their free start times
over the next days, the hourly price of a room, the room bookings a manager invoices, the
offices and their rentals.

Free start times come from the booking engine's own computation (booking.availability: rules,
closures, bookings, buffers, notice, horizon), over every day of the window in two queries."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from cybercantal.booking import availability as av
from cybercantal.booking.models import Booking, Closure, Resource

from ..models import Invoice, Offer, Pass, TiersLieu
from ..models.invoices import RoomBookingInvoice
from ..models.network import OfficeRental
from .network import space_list
from .today import managed_place_get

ROOM = Resource.Kind.ROOM
OFFICE = Resource.Kind.OFFICE
# How far back and ahead the managers' room page looks.
ROOM_BOOKINGS_DAYS = 30
# At most this many durations are offered (a 5-minute grid up to 8 hours would be 90).
MAX_DURATION_CHOICES = 24


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(day, dt.time(), tzinfo=tz),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz),
    )


# --- Members: a room ---------------------------------------------------------------------------


def place_rooms(*, actor, tiers_lieu: TiersLieu) -> list[Resource]:
    """The bookable meeting rooms of the place that `actor` may see, by name."""
    return space_list(actor=actor, places=[tiers_lieu.place], kinds=[ROOM])


def place_room_get(*, actor, tiers_lieu: TiersLieu, room_id: int) -> Resource | None:
    return next(
        (r for r in place_rooms(actor=actor, tiers_lieu=tiers_lieu) if r.pk == room_id), None
    )


def room_hour_offer(*, tiers_lieu: TiersLieu) -> Offer | None:
    """The place's hourly room price (an active ROOM_HOUR offer; the cheapest if several);
    None: the place gives its price itself."""
    return (
        Offer.objects.filter(tiers_lieu=tiers_lieu, kind=Offer.Kind.ROOM_HOUR, is_active=True)
        .select_related("operator")
        .order_by("price_cents", "pk")
        .first()
    )


def room_price_cents(offer: Offer, duration: dt.timedelta) -> int:
    """The price of `duration` at the offer's hourly price, TTC, rounded to the cent."""
    minutes = int(duration.total_seconds() // 60)
    return (offer.price_cents * minutes + 30) // 60


def duration_choices(room: Resource) -> list[int]:
    """The durations (minutes) offered for the room: from its minimum to its maximum on its
    slot grid, thinned out to MAX_DURATION_CHOICES at most."""
    step = room.slot_minutes
    while (room.max_duration_minutes - room.min_duration_minutes) // step + 1 > (
        MAX_DURATION_CHOICES
    ):
        step += room.slot_minutes
    first = room.min_duration_minutes
    if first % room.slot_minutes:  # a minimum off the grid: the first multiple above it
        first += room.slot_minutes - first % room.slot_minutes
    return list(range(first, room.max_duration_minutes + 1, step))


@dataclass
class RoomDay:
    """One day at a room for a duration: `is_open` false when closed all day; `starts` the
    free start times; `too_late` when it is open but nothing can be booked any more (past,
    notice, horizon) rather than full."""

    day: dt.date
    is_open: bool
    starts: list[dt.datetime]
    too_late: bool = False

    @property
    def is_full(self) -> bool:
        return self.is_open and not self.starts and not self.too_late


def room_days(
    room: Resource,
    days: Sequence[dt.date],
    *,
    duration: dt.timedelta,
    units: int = 1,
    now: dt.datetime | None = None,
) -> list[RoomDay]:
    """For each day, the start times of `duration` free at the room for `units` seats, as
    the booking engine would accept them. Two queries for all the days."""
    now = now or timezone.now()
    window_start, _ = day_bounds(min(days))
    _, window_end = day_bounds(max(days))
    data = av.load_availability_data([room], window_start, window_end + duration)
    unbooked = dataclasses.replace(data, allocations={})
    result = []
    for day in days:
        start, end = day_bounds(day)
        if not av.open_intervals(room, data, start, end):
            result.append(RoomDay(day, False, []))
            continue
        options = {"start": start, "end": end, "duration": duration, "units": units, "now": now}
        starts = [s.start for s in av.resource_slots(room, data, **options)]
        too_late = not starts and not av.resource_slots(room, unbooked, **options)
        result.append(RoomDay(day, True, starts, too_late))
    return result


# --- Managers: the room bookings of a place ----------------------------------------------------


@dataclass
class RoomBookingRow:
    booking: Booking
    room: Resource
    invoice: Invoice | None  # the invoice in force (not credited), if any


def place_room_bookings(
    *, actor, tiers_lieu: TiersLieu, now: dt.datetime | None = None
) -> list[RoomBookingRow]:
    """The bookings of the place's meeting rooms from ROOM_BOOKINGS_DAYS ago to as many days
    ahead, soonest first, each with its invoice in force; nothing for an actor who does not
    manage the place. Three queries."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return []
    now = now or timezone.now()
    window = dt.timedelta(days=ROOM_BOOKINGS_DAYS)
    bookings = (
        Booking.objects.filter(
            allocations__resource__place_id=tiers_lieu.place_id,
            allocations__resource__kind=ROOM,
            start__gte=now - window,
            start__lt=now + window,
        )
        .distinct()
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=_room_allocations(tiers_lieu),
                to_attr="room_allocations",
            ),
            Prefetch(
                "coworking_room_invoices",
                queryset=RoomBookingInvoice.objects.select_related("invoice"),
                to_attr="room_invoices",
            ),
        )
        .order_by("start", "pk")
    )
    rows = []
    for booking in bookings:
        in_force = [
            link.invoice
            for link in booking.room_invoices
            if link.invoice.kind == Invoice.Kind.INVOICE
            and link.invoice.status != Invoice.Status.CREDITED
        ]
        rows.append(
            RoomBookingRow(
                booking, booking.room_allocations[0].resource, next(iter(in_force), None)
            )
        )
    return rows


def _room_allocations(tiers_lieu: TiersLieu):
    from cybercantal.booking.models import Allocation

    return Allocation.objects.filter(
        resource__place_id=tiers_lieu.place_id, resource__kind=ROOM
    ).select_related("resource")


def place_room_booking_get(*, actor, tiers_lieu: TiersLieu, booking_id: int) -> Booking | None:
    """A booking of one of the place's rooms (any date), for its manager; None otherwise."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return None
    return (
        Booking.objects.filter(
            pk=booking_id,
            allocations__resource__place_id=tiers_lieu.place_id,
            allocations__resource__kind=ROOM,
        )
        .distinct()
        .first()
    )


# --- Managers: offices and their rentals -------------------------------------------------------


@dataclass
class OfficeRow:
    office: Resource
    current: OfficeRental | None
    upcoming: list[OfficeRental]


def place_offices(*, actor, tiers_lieu: TiersLieu) -> QuerySet[Resource]:
    """The place's offices (active or not: an office rented by the month is often not bookable
    by the day), for its manager; none otherwise."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return Resource.objects.none()
    return Resource.objects.filter(place_id=tiers_lieu.place_id, kind=OFFICE).order_by("name")


def place_office_get(*, actor, tiers_lieu: TiersLieu, office_id) -> Resource | None:
    try:
        return place_offices(actor=actor, tiers_lieu=tiers_lieu).filter(pk=int(office_id)).first()
    except (TypeError, ValueError):
        return None


def _rentals_in_force() -> Q:
    return ~Q(pass_account__status=Pass.Status.CANCELLED)


def place_office_rows(
    *, actor, tiers_lieu: TiersLieu, today: dt.date | None = None
) -> list[OfficeRow]:
    """Each office of the place with its rental today and those to come. Two queries."""
    today = today or timezone.localdate()
    offices = list(place_offices(actor=actor, tiers_lieu=tiers_lieu))
    rentals = (
        OfficeRental.objects.filter(_rentals_in_force(), office__in=offices, last_day__gte=today)
        .select_related("office", "pass_account__member", "pass_account__offer")
        .order_by("first_day", "pk")
    )
    by_office: dict[int, list[OfficeRental]] = defaultdict(list)
    for rental in rentals:
        by_office[rental.office_id].append(rental)
    rows = []
    for office in offices:
        mine = by_office.get(office.pk, [])
        current = next((r for r in mine if r.first_day <= today), None)
        rows.append(OfficeRow(office, current, [r for r in mine if r is not current]))
    return rows


def place_office_rental_get(*, actor, tiers_lieu: TiersLieu, rental_id) -> OfficeRental | None:
    try:
        rental_id = int(rental_id)
    except (TypeError, ValueError):
        return None
    offices = place_offices(actor=actor, tiers_lieu=tiers_lieu)
    return (
        OfficeRental.objects.filter(pk=rental_id, office__in=offices)
        .select_related("office", "pass_account__member")
        .first()
    )


def monthly_offers(*, tiers_lieu: TiersLieu) -> QuerySet[Offer]:
    """The place's own monthly subscriptions on sale: what an office is rented as."""
    return Offer.objects.filter(
        tiers_lieu=tiers_lieu, kind=Offer.Kind.MONTHLY, is_active=True
    ).order_by("price_cents", "label")


def offices_rented(
    offices: Sequence[Resource], days: Sequence[dt.date]
) -> set[tuple[int, dt.date]]:
    """(office id, day) for each of these offices rented on each of these days: the public
    page says "loué" rather than "fermé". One query."""
    ids = [o.pk for o in offices if o.kind == OFFICE]
    if not ids or not days:
        return set()
    first, last = min(days), max(days)
    rented = set()
    for office_id, first_day, last_day in (
        OfficeRental.objects.filter(
            _rentals_in_force(), office_id__in=ids, first_day__lte=last, last_day__gte=first
        )
        .filter(closure__isnull=False)
        .values_list("office_id", "first_day", "last_day")
    ):
        rented.update((office_id, d) for d in days if first_day <= d <= last_day)
    return rented


def office_conflicts(
    office: Resource, start: dt.datetime, end: dt.datetime, *, now: dt.datetime
) -> tuple[QuerySet[OfficeRental], QuerySet[Closure], QuerySet[Booking]]:
    """What stands in the way of renting `office` over [start, end): rentals in force, the
    office's own closures, and upcoming active bookings (read by services.offices under the
    office's lock)."""
    tz = timezone.get_current_timezone()
    first, last = start.astimezone(tz).date(), (end - dt.timedelta(seconds=1)).astimezone(tz).date()
    rentals = OfficeRental.objects.filter(
        _rentals_in_force(), office=office, first_day__lte=last, last_day__gte=first
    ).order_by("first_day")
    closures = Closure.objects.filter(resource=office, start__lt=end, end__gt=start).order_by(
        "start"
    )
    bookings = (
        Booking.objects.filter(
            allocations__resource=office,
            allocations__is_active=True,
            allocations__blocked_start__lt=end,
            allocations__blocked_end__gt=max(start, now),
        )
        .exclude(status=Booking.Status.CANCELLED)
        .distinct()
        .order_by("start")
    )
    return rentals, closures, bookings
