"""Figures of the tiers-lieux for a year, per place and for the network, per month (and per
day on request), scoped to the actor: a manager sees the places of the operators they manage
(and their total as "the network"), the Département's staff every place.

What is counted (docs/coworking-figures.md says it for the reader):
- seat-days: check-ins; one check-in is one seat-day;
- occupancy: desk seat-hours booked (desk pools and desks, bookings confirmed, attended or
  no-show, units × duration, on the local day they start) over the seat-hours open (each
  desk resource's capacity × its opening hours from the booking engine: weekly rules, public
  holidays, closures);
- contracted seats: monthly passes (Offer.Kind.MONTHLY, active) valid each day, averaged over
  the month, against the place's desk capacity (TiersLieu.desk_capacity);
- unique active workers: members with at least one check-in in the month (in the year for the
  year's figure), and the change from the previous month; newcomers among them;
- home communes: active members of the year per home commune (User.home_commune), for a map;
- commuting avoided and CO₂: per check-in, max(0, 2 × usual_commute_km − 2 × road distance
  home commune → place) km (core.geo.road_km), × the emission factor of the member's usual
  mode (settings.CYBERCANTAL_COWORKING_CO2_G_PER_KM, g CO₂e per km per person). Check-ins of
  members without a commute or a home commune count as "unknown", never as zero-km trips.

A bounded number of aggregate queries whatever the number of days, members or check-ins:
places, check-ins grouped by (place, member, month), check-ins grouped by (place, day) when
daily figures are asked, desk resources, their rules, closures, bookings, monthly passes —
then arithmetic in memory."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.accounts.models import User
from cybercantal.booking import availability as av
from cybercantal.booking.models import Allocation, Booking, Closure, Resource
from cybercantal.core.db_functions import EpochSeconds
from cybercantal.core.geo import road_km

from ..errors import CoworkingForbidden
from ..models import CheckIn, Offer, Pass, TiersLieu
from ..perms import managed_tiers_lieux_filter

# ADEME Base Carbone / impactCO2 orders of magnitude, g CO₂e per km and per person; to be
# checked against the current sources and adjusted in settings (docs/coworking-figures.md).
DEFAULT_CO2_G_PER_KM = {"car": 218, "carpool": 109, "train": 25, "bus": 30, "other": 0}
DESK_KINDS = (Resource.Kind.DESK_POOL, Resource.Kind.DESK)
BOOKED = (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
HOUR = 3600.0


def co2_factors() -> dict[str, float]:
    return DEFAULT_CO2_G_PER_KM | getattr(settings, "CYBERCANTAL_COWORKING_CO2_G_PER_KM", {})


def is_newcomer(previous_departement: str | None) -> bool:
    """MemberProfile.is_newcomer, for the territory the platform runs."""
    territory = getattr(settings, "CYBERCANTAL_TERRITORY_CODE", "15")
    return bool(previous_departement) and previous_departement != territory


@dataclass
class Period:
    """Figures of one month (or one day: the member-based fields then stay empty)."""

    start: dt.date
    days: int = 1
    capacity: int = 0  # desk capacity (TiersLieu.desk_capacity)
    seat_days: int = 0
    booked_seat_hours: float = 0.0
    open_seat_hours: float = 0.0
    contracted_seat_days: int = 0
    members: set[int] = field(default_factory=set, repr=False)
    newcomers: set[int] = field(default_factory=set, repr=False)
    avoided_km: float = 0.0
    co2_g: float = 0.0
    check_ins_without_commute: int = 0

    @property
    def occupancy_rate(self) -> float | None:
        return self.booked_seat_hours / self.open_seat_hours if self.open_seat_hours else None

    @property
    def contracted_seats(self) -> float:
        return self.contracted_seat_days / self.days

    @property
    def contracted_rate(self) -> float | None:
        return self.contracted_seats / self.capacity if self.capacity else None

    @property
    def active_members(self) -> int:
        return len(self.members)

    @property
    def active_newcomers(self) -> int:
        return len(self.newcomers)

    @property
    def co2_kg(self) -> float:
        return self.co2_g / 1000

    def add(self, other: Period) -> None:
        self.capacity += other.capacity
        self.seat_days += other.seat_days
        self.booked_seat_hours += other.booked_seat_hours
        self.open_seat_hours += other.open_seat_hours
        self.contracted_seat_days += other.contracted_seat_days
        self.members |= other.members
        self.newcomers |= other.newcomers
        self.avoided_km += other.avoided_km
        self.co2_g += other.co2_g
        self.check_ins_without_commute += other.check_ins_without_commute


@dataclass
class PlaceFigures:
    tiers_lieu_id: int | None  # None: the network (the places the actor sees)
    name: str
    capacity: int
    months: list[Period]
    days: dict[dt.date, Period] = field(default_factory=dict)

    @property
    def year(self) -> Period:
        total = Period(self.months[0].start, days=sum(m.days for m in self.months))
        for month in self.months:
            total.add(month)
        total.capacity = self.capacity
        return total

    def trend(self) -> list[int | None]:
        """Change of unique active workers from the previous month (None for January)."""
        counts = [m.active_members for m in self.months]
        return [None] + [b - a for a, b in pairwise(counts)]


@dataclass(frozen=True)
class HomeCommune:
    insee_code: str
    name: str
    latitude: float
    longitude: float
    members: int


@dataclass
class Figures:
    year: int
    network: PlaceFigures
    places: list[PlaceFigures]
    home_communes: list[HomeCommune]


def _month_starts(year: int) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in range(1, 13)]


def _days_in(month: dt.date) -> int:
    return ((month + dt.timedelta(days=32)).replace(day=1) - month).days


def _visible_places(actor, tiers_lieu: TiersLieu | None) -> list[TiersLieu]:
    places = list(
        TiersLieu.objects.filter(managed_tiers_lieux_filter(actor))
        .select_related("place")
        .only("desk_capacity", "place__name", "place__latitude", "place__longitude", "place_id")
        .order_by("place__name")
    )
    if tiers_lieu is not None:
        places = [p for p in places if p.pk == tiers_lieu.pk]
        if not places:
            raise CoworkingForbidden(
                _("Seuls les gestionnaires de ce tiers-lieu et le Département voient ses chiffres.")
            )
    elif not places:
        raise CoworkingForbidden(
            _("Les chiffres du réseau sont réservés aux gestionnaires et au Département.")
        )
    return places


def coworking_figures(
    *, actor, year: int, tiers_lieu: TiersLieu | None = None, daily: bool = False
) -> Figures:
    """The year's figures of the places `actor` sees (or of `tiers_lieu` alone), per month,
    and per day when `daily`. CoworkingForbidden for someone who sees no place, or asks for a
    place they do not manage."""
    return _figures_of(_visible_places(actor, tiers_lieu), year, daily=daily)


def network_public_figures(*, year: int) -> PlaceFigures:
    """The whole network's totals for a year, unscoped: for the observatory's open data
    (coworking/indicators.py publishes aggregates only, never per member or place)."""
    places = list(
        TiersLieu.objects.filter(is_in_network=True)
        .select_related("place")
        .only("desk_capacity", "place__name", "place__latitude", "place__longitude", "place_id")
    )
    return _figures_of(places, year, daily=False).network


def _figures_of(places: list[TiersLieu], year: int, *, daily: bool) -> Figures:
    first, following = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    months = _month_starts(year)
    by_place = {
        p.pk: PlaceFigures(
            p.pk,
            p.place.name,
            p.desk_capacity,
            [Period(m, days=_days_in(m), capacity=p.desk_capacity) for m in months],
        )
        for p in places
    }
    homes = _check_in_figures(places, by_place, first, following)
    _occupancy(places, by_place, first, following, daily=daily)
    _contracted(by_place, first, following)
    if daily:
        _daily_seat_days(by_place, first, following)
    network = PlaceFigures(
        None,
        _("Réseau"),
        sum(p.capacity for p in by_place.values()),
        [Period(m, days=_days_in(m)) for m in months],
    )
    for figures in by_place.values():
        for total, month in zip(network.months, figures.months, strict=True):
            total.add(month)
        for day, period in figures.days.items():
            network.days.setdefault(day, Period(day)).add(period)
    return Figures(year, network, list(by_place.values()), homes)


def _check_in_figures(places, by_place, first, following) -> list[HomeCommune]:
    """Seat-days, active members, newcomers, commuting and CO₂ per place and month, and home
    communes: the check-ins as plain (place, member, day) rows, then one row per member
    (grouping by month in SQL costs a Python function call per row on SQLite)."""
    where = {p.pk: (p.place.latitude, p.place.longitude) for p in places}
    factors = co2_factors()
    counts: dict[tuple[int, int, int], int] = defaultdict(int)
    for tiers_lieu_id, member_id, day in (
        CheckIn.objects.filter(tiers_lieu_id__in=list(by_place), day__gte=first, day__lt=following)
        .order_by()
        .values_list("tiers_lieu_id", "member_id", "day")
    ):
        counts[tiers_lieu_id, member_id, day.month] += 1
    members = {
        row[0]: row[1:]
        for row in User.objects.filter(pk__in={member for _, member, _ in counts})
        .order_by()
        .values_list(
            "pk",
            "coworking_profile__usual_commute_km",
            "coworking_profile__commute_mode",
            "coworking_profile__previous_departement",
            "home_commune__insee_code",
            "home_commune__name",
            "home_commune__latitude",
            "home_commune__longitude",
        )
    }
    home_members: dict[tuple, set[int]] = defaultdict(set)
    distances: dict[tuple, float] = {}
    for (tiers_lieu_id, member, month), count in counts.items():
        commute_km, mode, previous, home_insee, home_name, home_lat, home_lon = members[member]
        period = by_place[tiers_lieu_id].months[month - 1]
        period.seat_days += count
        period.members.add(member)
        if is_newcomer(previous):
            period.newcomers.add(member)
        if home_insee:
            home_members[home_insee, home_name, home_lat, home_lon].add(member)
        if commute_km is None or home_lat is None:
            period.check_ins_without_commute += count
            continue
        pair = (home_insee, tiers_lieu_id)
        if pair not in distances:
            distances[pair] = road_km(home_lat, home_lon, *where[tiers_lieu_id])
        avoided = max(0.0, 2 * commute_km - 2 * distances[pair]) * count
        period.avoided_km += avoided
        period.co2_g += avoided * factors.get(mode or "car", 0)
    return sorted(
        (
            HomeCommune(insee, name, lat, lon, len(members))
            for (insee, name, lat, lon), members in home_members.items()
        ),
        key=lambda c: (-c.members, c.name),
    )


def _occupancy(places, by_place, first, following, *, daily: bool) -> None:
    """Booked and open desk seat-hours per place, month (and day), from the booking engine's
    rules, public holidays and closures: four queries."""
    place_to_tl = {p.place_id: p.pk for p in places}
    resources = list(
        Resource.objects.filter(
            place_id__in=list(place_to_tl), kind__in=DESK_KINDS, is_active=True
        ).only("pk", "place_id", "capacity", "observes_public_holidays")
    )
    if not resources:
        return
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(following, dt.time(), tzinfo=tz)
    rules = av.load_rules(resources, first, following)
    data = av.AvailabilityData(rules, [], defaultdict(list), defaultdict(list), {})
    ids = [r.pk for r in resources]
    closures = Closure.objects.filter(start__lt=end, end__gt=start).filter(
        Q(resource_id__in=ids)
        | Q(place_id__in=list(place_to_tl))
        | Q(resource__isnull=True, place__isnull=True)
    )
    closure_rows = tuple(
        sorted(closures.values_list("resource_id", "place_id", "start", "end"), key=str)
    )
    for resource_id, place_id, c_start, c_end in closure_rows:
        if resource_id:
            data.closures_by_resource[resource_id].append((c_start, c_end))
        elif place_id:
            data.closures_by_place[place_id].append((c_start, c_end))
        else:
            data.closures_global.append((c_start, c_end))

    def attribute(tiers_lieu_id: int, moment: dt.datetime, hours: float, *, booked: bool) -> None:
        day = moment.astimezone(tz).date()
        figures = by_place[tiers_lieu_id]
        targets = [figures.months[day.month - 1]]
        if daily:
            targets.append(figures.days.setdefault(day, Period(day)))
        for period in targets:
            if booked:
                period.booked_seat_hours += hours
            else:
                period.open_seat_hours += hours

    resource_place = {}
    for resource in resources:
        tiers_lieu_id = place_to_tl[resource.place_id]
        resource_place[resource.pk] = tiers_lieu_id
        for moment, hours in _open_hours(resource, data, start, end, closure_rows):
            attribute(tiers_lieu_id, moment, hours * resource.capacity, booked=False)
    # Bookings as (start, seconds) floats: thousands of timestamps loaded as datetimes cost
    # more than the rest of the figures on PostgreSQL (core/db_functions.py).
    allocations = (
        Allocation.objects.filter(
            resource_id__in=ids,
            is_active=True,
            booking__status__in=BOOKED,
            booking__start__gte=start,
            booking__start__lt=end,
        )
        .annotate(
            starts=EpochSeconds("booking__start"),
            seconds=EpochSeconds("booking__end") - EpochSeconds("booking__start"),
        )
        .values_list("resource_id", "starts", "seconds", "units")
    )
    for resource_id, starts, seconds, units in allocations:
        moment = dt.datetime.fromtimestamp(starts, tz)
        attribute(resource_place[resource_id], moment, seconds / HOUR * units, booked=True)


# Opening hours of a desk resource over a year, by what they depend on: its rules (their content,
# so an edit is a new key), public holidays (fixed per year), the closures read, the window.
# The figures are asked again and again for the same year; the rules and closures rarely move.
_OPEN_HOURS: dict[tuple, list[tuple[dt.datetime, float]]] = {}
_OPEN_HOURS_MAX = 5_000


def _open_hours(resource, data, start, end, closure_rows) -> list[tuple[dt.datetime, float]]:
    key = (
        resource.pk,
        resource.observes_public_holidays,
        tuple(data.rules.get(resource.pk, ())),
        closure_rows,
        start,
        end,
    )
    hours = _OPEN_HOURS.get(key)
    if hours is None:
        hours = [
            (interval.start, (interval.end - interval.start).total_seconds() / HOUR)
            for interval in av.open_intervals(resource, data, start, end)
        ]
        if len(_OPEN_HOURS) >= _OPEN_HOURS_MAX:
            _OPEN_HOURS.clear()
        _OPEN_HOURS[key] = hours
    return hours


def _contracted(by_place, first, following) -> None:
    """Monthly passes valid each day of each month, per place: one query."""
    last = following - dt.timedelta(days=1)
    passes = Pass.objects.filter(
        offer__kind=Offer.Kind.MONTHLY,
        status=Pass.Status.ACTIVE,
        offer__tiers_lieu_id__in=list(by_place),
        valid_from__lte=last,
        valid_until__gte=first,
    ).values_list("offer__tiers_lieu_id", "valid_from", "valid_until")
    for tiers_lieu_id, valid_from, valid_until in passes:
        for period in by_place[tiers_lieu_id].months:
            month_last = period.start + dt.timedelta(days=period.days - 1)
            overlap = (min(valid_until, month_last) - max(valid_from, period.start)).days + 1
            if overlap > 0:
                period.contracted_seat_days += overlap


def _daily_seat_days(by_place, first, following) -> None:
    rows = (
        CheckIn.objects.filter(tiers_lieu_id__in=list(by_place), day__gte=first, day__lt=following)
        .values("tiers_lieu_id", "day")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in rows:
        days = by_place[row["tiers_lieu_id"]].days
        days.setdefault(row["day"], Period(row["day"])).seat_days += row["count"]


# Pass kinds as the census groups users: subscribers, occasional users, network pass holders.
USER_TYPES = {
    Offer.Kind.MONTHLY: "subscribers",
    Offer.Kind.DAY: "occasional",
    Offer.Kind.HALF_DAY: "occasional",
    Offer.Kind.BOOK: "occasional",
    Offer.Kind.NETWORK_PASS: "network_pass",
    Offer.Kind.DISCOVERY: "discovery",
}


def users_by_type(*, actor, year: int) -> dict[int | None, dict[str, set[int]]]:
    """Members who checked in during the year, per place (None: every place the actor sees)
    and per type: by the kind of pass that admitted them, plus "reduced" (a reduced rate),
    "funded" (a pass paid by a funder) and "booking_only" (admitted by a booking, no pass).
    A person counts once per type, and in every type they used. One query."""
    places = _visible_places(actor, None)
    rows = (
        CheckIn.objects.filter(
            tiers_lieu_id__in=[p.pk for p in places],
            day__gte=dt.date(year, 1, 1),
            day__lt=dt.date(year + 1, 1, 1),
        )
        .values(
            "tiers_lieu_id",
            "member_id",
            kind=F("pass_used__offer__kind"),
            reduced=F("pass_used__offer__is_reduced"),
            funder=F("pass_used__funder_id"),
        )
        .distinct()
        .order_by()
    )
    result: dict[int | None, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        types = [USER_TYPES.get(row["kind"], "booking_only") if row["kind"] else "booking_only"]
        if row["reduced"]:
            types.append("reduced")
        if row["funder"]:
            types.append("funded")
        for key in (row["tiers_lieu_id"], None):
            for kind in types:
                result[key][kind].add(row["member_id"])
    return result
