"""The techno-economic model of a teleconsultation site, or of the whole network, for a calendar
year, month by month. Aggregated only: counts and amounts, never a patient.

Who may ask (a refusal is BookingForbidden with a French message): a site's figures, its
coordinators and the Département's telehealth staff (perms.is_telehealth_staff); the network's,
staff only.

Definitions (the page, the CSV and the PDF say them in French):

- Months: January to December of the year; for the current year, January to the current
  month (figures "to date"); a year not yet begun is refused.
- Teleconsultations done: consultations whose status is "done" or "done with an incident",
  counted in the month of their scheduled start (local time).
- Acts: the acts coded in the month (performed_on), by code, and the revenue of each
  professional role (sum of Act.amount). An act belongs to its patient's site: where its
  consultation was booked, or for a téléexpertise the site that follows the patient. Revenue
  goes to the professionals, not to the site: it is shown, not netted against the costs.
- Costs (CostEntry), spread over months:
  - one-off with a depreciation period of N months (a purchase, or a grant that funds one):
    amount / N in each of the N months from the month of `starts_on`;
  - one-off without depreciation: the whole amount in the month of `starts_on`;
  - monthly: the amount in each month from `starts_on` to `ends_on` (open-ended if empty);
  - yearly: amount / 12 in each month from `starts_on` to `ends_on` (open-ended if empty).
  Grants (category "subvention") spread the same way and are subtracted.
- Network costs (CostEntry without a site) are shared equally among the sites in service that
  month: a site is in service in a month when it was opened (Site.opened_on) on or before the
  month's last day, or has no opening date, and was not taken out of service (Site.closed_on,
  its last day in service) before the month's first day. A site taken out of service keeps its
  share of the months it served; one marked out of service without a date (none should be:
  services set it) carries none. Equal shares keep the rule easy to explain and to check; a
  month without any site in service leaves its network costs to the network alone. The network's
  figures are the sum of its sites' plus the network costs (whole, not shares).
- Net cost = costs − grants; cost per act = net cost / teleconsultations done.
- Transport avoided: each teleconsultation done avoids a round trip to the site's reference
  hospital: 2 × its one-way distance and 2 × its one-way travel time, those of the site on the
  day the consultation was closed (Consultation.trip_km / trip_minutes; the site's current ones
  when they were not recorded), priced with the TransportTariff in force on the
  consultation's day for its `transport_avoided` mode: per trip, the flat fee plus the price
  per km beyond the first INCLUDED_KM km (the forfait départemental includes them); a mode
  without a flat fee (the patient's car) pays every km. Twice that per round trip. A
  consultation whose mode has no tariff in force that day counts in the kilometres and hours
  but not in the euros (`unpriced`, shown as a warning).
- Break-even volume: the number of teleconsultations per month whose transport avoided pays
  the net cost: (net cost of the months counted / number of months) / average € avoided per
  teleconsultation. When no teleconsultation was done, that average is estimated with a VSL
  round trip at the site's distance (the network: the sites' mean distance) at the tariff in
  force on the last day counted. Reached when the monthly average of teleconsultations done is
  at least that volume.

Cost: five queries whatever the volume — the sites, the transport tariffs, the cost entries,
the consultations grouped by site, mode and status with conditional sums per period of
constant tariff (months cut at tariff changes: count, km, km beyond the included ones and
minutes), and the acts grouped by month, code and role.
Python then works on tens of rows, never on one row per consultation or act.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, DecimalField, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, ExtractMonth, Greatest, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError

from ..models import (
    Act,
    ActRole,
    Consultation,
    CostEntry,
    Site,
    TransportMode,
    TransportTariff,
)
from ..perms import coordinated_site_ids, is_telehealth_staff

DONE_STATUSES = (Consultation.Status.DONE, Consultation.Status.INCIDENT)
# The forfait départemental of ambulances and VSL includes the first 3 km of each trip
# (ameli.fr, « Ambulances : les tarifs conventionnels », « VSL : les tarifs conventionnels »).
INCLUDED_KM = Decimal(3)
ZERO = Decimal(0)
CENT = Decimal("0.01")
MIN_YEAR = 2000


def cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- who may see what ---------------------------------------------------------------------


def may_see_site_economics(user, site: Site) -> bool:
    """The site's coordinators and staff (not its assisting professionals: the ledger holds
    the site's budget)."""
    return is_telehealth_staff(user) or site.pk in coordinated_site_ids(user)


def may_see_network_economics(user) -> bool:
    return is_telehealth_staff(user)


def economics_sites(*, actor) -> QuerySet[Site]:
    """The sites whose techno-economic model and costs the actor may see and edit."""
    sites = Site.objects.select_related("place__commune").order_by("place__name")
    if is_telehealth_staff(actor):
        return sites
    return sites.filter(pk__in=coordinated_site_ids(actor))


# --- months and spreading -------------------------------------------------------------------


def _index(day: dt.date) -> int:
    """A month as a single number (year × 12 + month − 1): months compare and add as ints."""
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(index: int) -> dt.date:
    return _month_start(index + 1) - dt.timedelta(days=1)


def year_months(year: int, today: dt.date) -> list[dt.date]:
    """The first day of each month counted for `year` (see the module's docstring)."""
    if year > today.year:
        raise BookingRuleError(
            _("L'année %(year)s n'a pas encore commencé : choisissez une année passée ou celle-ci.")
            % {"year": year}
        )
    if year < MIN_YEAR:
        raise BookingRuleError(_("Choisissez une année à partir de %(min)s.") % {"min": MIN_YEAR})
    last = 12 if year < today.year else today.month
    return [dt.date(year, month, 1) for month in range(1, last + 1)]


def monthly_share(entry: CostEntry) -> Decimal:
    """What the entry weighs in each month it covers (see spread_amounts)."""
    if entry.recurrence == CostEntry.Recurrence.YEARLY:
        return entry.amount / 12
    if entry.recurrence == CostEntry.Recurrence.ONE_OFF and entry.depreciation_months:
        return entry.amount / entry.depreciation_months
    return entry.amount


def covered_months(entry: CostEntry) -> tuple[int, int | None]:
    """First and last month (as _index numbers) the entry covers; None: open-ended."""
    first = _index(entry.starts_on)
    if entry.recurrence == CostEntry.Recurrence.ONE_OFF:
        return first, first + (entry.depreciation_months or 1) - 1
    return first, _index(entry.ends_on) if entry.ends_on else None


def spread_amounts(entry: CostEntry, months: list[dt.date]) -> list[Decimal]:
    """The entry's amount in each of `months` (first days), unrounded."""
    share = monthly_share(entry)
    first, last = covered_months(entry)
    indexes = [_index(m) for m in months]
    return [share if first <= i and (last is None or i <= last) else ZERO for i in indexes]


# --- transport ------------------------------------------------------------------------------


def trip_price(tariff: TransportTariff, distance_km: Decimal) -> Decimal:
    """One trip to the hospital at `tariff`: the flat fee covers the first INCLUDED_KM km when
    there is one; without one (the patient's car), every km is paid."""
    if tariff.flat_fee > 0:
        return tariff.flat_fee + tariff.per_km * max(distance_km - INCLUDED_KM, ZERO)
    return tariff.per_km * distance_km


def round_trip_price(tariff: TransportTariff, distance_km: Decimal) -> Decimal:
    return 2 * trip_price(tariff, distance_km)


@dataclass(frozen=True)
class _Trips:
    """Several one-way trips summed: how many, their km, and their km beyond the INCLUDED_KM
    of each (what the per-km price of a tariff with a flat fee applies to)."""

    count: int
    km: Decimal
    km_beyond_included: Decimal

    def round_trips_price(self, tariff: TransportTariff) -> Decimal:
        """The sum of round_trip_price over the trips, from the sums alone."""
        if tariff.flat_fee > 0:
            return 2 * (self.count * tariff.flat_fee + tariff.per_km * self.km_beyond_included)
        return 2 * tariff.per_km * self.km


def _decimal(value) -> Decimal:
    """A SQL sum as a Decimal (SQLite may hand back a float or an int)."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def tariff_on(tariffs: list[TransportTariff], mode: str, day: dt.date) -> TransportTariff | None:
    """The tariff of `mode` in force on `day` (the latest start if, against the rules, two
    overlap)."""
    found = None
    for tariff in tariffs:
        if (
            tariff.mode == mode
            and tariff.valid_from <= day
            and (tariff.valid_until is None or day <= tariff.valid_until)
            and (found is None or tariff.valid_from > found.valid_from)
        ):
            found = tariff
    return found


@dataclass(frozen=True)
class _Period:
    """Days [start, end) within one month with the same transport tariffs."""

    month: int  # position in the months list
    start: dt.date
    end: dt.date


def _periods(months: list[dt.date], tariffs: list[TransportTariff]) -> list[_Period]:
    first, after = months[0], _month_start(_index(months[-1]) + 1)
    cuts = {m for m in months} | {after}
    for tariff in tariffs:
        for day in (
            tariff.valid_from,
            tariff.valid_until + dt.timedelta(days=1) if tariff.valid_until else None,
        ):
            if day is not None and first < day < after:
                cuts.add(day)
    ordered = sorted(cuts)
    return [
        _Period(month=_index(start) - _index(first), start=start, end=end)
        for start, end in itertools.pairwise(ordered)
    ]


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- figures --------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    """A month's (or a total's) figures of a site or of the network. Amounts are unrounded
    Decimals (round them for display with `cents`)."""

    month: dt.date
    consultations: int = 0  # teleconsultations done (done or done with an incident)
    incidents: int = 0  # of which done with an incident
    acts: Counter = field(default_factory=Counter)  # code → number of acts
    revenue: dict = field(default_factory=dict)  # professional role → € (Decimal)
    own_costs: Decimal = ZERO
    own_grants: Decimal = ZERO
    # A site: its share of the network's costs and grants; the network: their whole amount.
    network_costs: Decimal = ZERO
    network_grants: Decimal = ZERO
    km_avoided: Decimal = ZERO
    transport_avoided: Decimal = ZERO  # € of transport the health insurance did not pay
    priced: int = 0  # teleconsultations priced with a tariff (the others: unpriced)
    minutes_saved: int = 0

    @property
    def costs(self) -> Decimal:
        return self.own_costs + self.network_costs

    @property
    def grants(self) -> Decimal:
        return self.own_grants + self.network_grants

    @property
    def net_cost(self) -> Decimal:
        return self.costs - self.grants

    @property
    def cost_per_act(self) -> Decimal | None:
        return self.net_cost / self.consultations if self.consultations else None

    @property
    def unpriced(self) -> int:
        return self.consultations - self.priced

    @property
    def hours_saved(self) -> Decimal:
        return Decimal(self.minutes_saved) / 60

    @property
    def acts_total(self) -> int:
        return sum(self.acts.values())

    @property
    def revenue_total(self) -> Decimal:
        return sum(self.revenue.values(), ZERO)

    @property
    def balance(self) -> Decimal:
        """Transport avoided minus net cost: positive, the site pays for itself."""
        return self.transport_avoided - self.net_cost

    def add(self, other: MonthFigures, *, network: bool = True) -> None:
        self.consultations += other.consultations
        self.incidents += other.incidents
        self.acts.update(other.acts)
        for role, amount in other.revenue.items():
            self.revenue[role] = self.revenue.get(role, ZERO) + amount
        self.own_costs += other.own_costs
        self.own_grants += other.own_grants
        if network:
            self.network_costs += other.network_costs
            self.network_grants += other.network_grants
        self.km_avoided += other.km_avoided
        self.transport_avoided += other.transport_avoided
        self.priced += other.priced
        self.minutes_saved += other.minutes_saved


@dataclass
class BreakEven:
    months: int
    net_cost: Decimal
    consultations: int
    avoided_per_consultation: Decimal | None
    estimated: bool  # the average € avoided comes from a VSL trip, none was done

    @property
    def net_cost_per_month(self) -> Decimal:
        return self.net_cost / self.months if self.months else ZERO

    @property
    def actual_per_month(self) -> Decimal:
        return Decimal(self.consultations) / self.months if self.months else ZERO

    @property
    def volume(self) -> Decimal | None:
        """Teleconsultations per month needed (unrounded); None when no price is known."""
        if self.net_cost <= 0:
            return ZERO
        if not self.avoided_per_consultation:
            return None
        return self.net_cost_per_month / self.avoided_per_consultation

    @property
    def volume_needed(self) -> int | None:
        """The volume as a whole number of teleconsultations (rounded up)."""
        volume = self.volume
        return None if volume is None else math.ceil(volume)

    @property
    def reached(self) -> bool | None:
        volume = self.volume
        return None if volume is None else self.actual_per_month >= volume

    @property
    def gap_per_month(self) -> Decimal | None:
        """Teleconsultations per month above (positive) or below (negative) break-even."""
        volume = self.volume
        return None if volume is None else self.actual_per_month - volume


@dataclass
class SiteFigures:
    site_id: int
    name: str
    distance_km: Decimal
    travel_minutes: int
    in_service: bool
    total: MonthFigures
    break_even: BreakEven


@dataclass
class EconomicsReport:
    year: int
    site: Site | None  # None: the whole network
    months: list[MonthFigures]
    total: MonthFigures
    break_even: BreakEven
    sites: list[SiteFigures]  # the network: one row per site; a site: its own row
    sites_in_service: list[int]  # per month, the sites sharing the network costs
    tariffs: list[TransportTariff]  # in force at some point of the months counted
    is_partial: bool  # the current year, to date

    @property
    def act_codes(self) -> list[str]:
        return sorted(self.total.acts)

    @property
    def roles(self) -> list[tuple[str, str]]:
        used = set(self.total.revenue)
        return [(code, str(label)) for code, label in ActRole.choices if code in used] + [
            (code, code) for code in sorted(used - set(ActRole.values))
        ]

    @property
    def last_day(self) -> dt.date:
        return _month_end(_index(self.months[-1].month))


@dataclass(frozen=True)
class _SiteRow:
    pk: int
    name: str
    distance_km: Decimal
    travel_minutes: int
    opened_on: dt.date | None
    closed_on: dt.date | None
    is_active: bool

    def in_service(self, month_start: dt.date, month_end: dt.date) -> bool:
        """In service on at least one day of the month (see the module's docstring)."""
        if not self.is_active and self.closed_on is None:
            return False
        opened = self.opened_on is None or self.opened_on <= month_end
        return opened and (self.closed_on is None or month_start <= self.closed_on)


def _month_of(field_name: str):
    """The month of a date column as a number. SQLite keeps dates as "YYYY-MM-DD" text and
    Django's ExtractMonth calls a Python function per row there: cut the text instead."""
    if connection.vendor == "sqlite":
        return Cast(Substr(field_name, 6, 2), IntegerField())
    return ExtractMonth(field_name)


def _break_even(
    total: MonthFigures,
    months: int,
    tariffs: list[TransportTariff],
    last_day: dt.date,
    distance_km: Decimal,
) -> BreakEven:
    average, estimated = None, False
    if total.priced:
        average = total.transport_avoided / total.priced
    else:
        tariff = tariff_on(tariffs, TransportMode.LIGHT_VEHICLE, last_day)
        if tariff is not None:
            average, estimated = round_trip_price(tariff, distance_km), True
    return BreakEven(
        months=months,
        net_cost=total.net_cost,
        consultations=total.consultations,
        avoided_per_consultation=average,
        estimated=estimated,
    )


def _compute(*, year: int, site_id: int | None, today: dt.date) -> EconomicsReport:
    months = year_months(year, today)
    count = len(months)
    first_day = months[0]
    after = _month_start(_index(months[-1]) + 1)
    last_day = after - dt.timedelta(days=1)
    month_ends = [_month_end(_index(m)) for m in months]
    month_spans = list(zip(months, month_ends, strict=True))

    # 1. Every site (the in-service count of each month needs them all).
    all_sites = [
        _SiteRow(*row)
        for row in Site.objects.values_list(
            "pk",
            "place__name",
            "hospital_distance_km",
            "hospital_travel_minutes",
            "opened_on",
            "closed_on",
            "is_active",
        ).order_by("place__name", "pk")
    ]
    scope = [s for s in all_sites if site_id is None or s.pk == site_id]
    in_service = [sum(1 for s in all_sites if s.in_service(*span)) for span in month_spans]

    # 2. Transport tariffs in force at some point of the months.
    tariffs = list(
        TransportTariff.objects.filter(valid_from__lte=last_day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first_day))
        .order_by("mode", "valid_from")
    )

    # 3. Cost entries that may touch the months (few: a ledger, not a journal).
    entries = CostEntry.objects.filter(starts_on__lte=last_day).only(
        "site_id",
        "category",
        "amount",
        "recurrence",
        "starts_on",
        "ends_on",
        "depreciation_months",
    )
    if site_id is not None:
        entries = entries.filter(Q(site_id=site_id) | Q(site__isnull=True))
    per_site = {s.pk: [MonthFigures(month=m) for m in months] for s in scope}
    network_costs = [ZERO] * count
    network_grants = [ZERO] * count
    for entry in entries:
        is_grant = entry.category == CostEntry.Category.GRANT
        amounts = spread_amounts(entry, months)
        if entry.site_id is None:
            target = network_grants if is_grant else network_costs
            for i, amount in enumerate(amounts):
                target[i] += amount
        elif entry.site_id in per_site:
            for figures, amount in zip(per_site[entry.site_id], amounts, strict=True):
                if is_grant:
                    figures.own_grants += amount
                else:
                    figures.own_costs += amount
    for site in scope:
        for i, figures in enumerate(per_site[site.pk]):
            if in_service[i] and site.in_service(*month_spans[i]):
                figures.network_costs = network_costs[i] / in_service[i]
                figures.network_grants = network_grants[i] / in_service[i]

    # 4. Teleconsultations done: conditional sums per period of constant tariff.
    periods = _periods(months, tariffs)
    km = Coalesce("trip_km", "site__hospital_distance_km")
    km_beyond = Greatest(km - Value(INCLUDED_KM), Value(ZERO), output_field=DecimalField())
    minutes = Coalesce("trip_minutes", "site__hospital_travel_minutes")
    sums = {}
    for i, period in enumerate(periods):
        within = Q(
            scheduled_start__gte=_local_midnight(period.start),
            scheduled_start__lt=_local_midnight(period.end),
        )
        sums[f"n{i}"] = Count("pk", filter=within)
        sums[f"km{i}"] = Sum(km, filter=within)
        sums[f"beyond{i}"] = Sum(km_beyond, filter=within)
        sums[f"min{i}"] = Sum(minutes, filter=within)
    consultations = Consultation.objects.filter(
        status__in=DONE_STATUSES,
        scheduled_start__gte=_local_midnight(first_day),
        scheduled_start__lt=_local_midnight(after),
    )
    if site_id is not None:
        consultations = consultations.filter(site_id=site_id)
    rows = consultations.values("site_id", "transport_avoided", "status").annotate(**sums)
    sites_by_pk = {s.pk: s for s in scope}
    in_force: dict[tuple[str, int], TransportTariff | None] = {}

    def _tariff(mode: str, period_index: int) -> TransportTariff | None:
        if (mode, period_index) not in in_force:
            in_force[mode, period_index] = tariff_on(tariffs, mode, periods[period_index].start)
        return in_force[mode, period_index]

    for row in rows.order_by():
        site = sites_by_pk.get(row["site_id"])
        if site is None:
            continue
        figures_of_site = per_site[site.pk]
        incident = row["status"] == Consultation.Status.INCIDENT
        for i, period in enumerate(periods):
            n = row[f"n{i}"]
            if not n:
                continue
            figures = figures_of_site[period.month]
            figures.consultations += n
            if incident:
                figures.incidents += n
            trips = _Trips(n, _decimal(row[f"km{i}"]), _decimal(row[f"beyond{i}"]))
            figures.km_avoided += 2 * trips.km
            figures.minutes_saved += 2 * int(row[f"min{i}"] or 0)
            tariff = _tariff(row["transport_avoided"], i)
            if tariff is not None:
                figures.transport_avoided += trips.round_trips_price(tariff)
                figures.priced += n

    # The scope's months: the site's own, or the sum of the sites plus the whole network costs.
    if site_id is not None:
        report_months = per_site.get(site_id, [])
        if not report_months:
            raise BookingRuleError(_("Site inconnu."))
    else:
        report_months = [MonthFigures(month=m) for m in months]
        for site in scope:
            for figures, site_figures in zip(report_months, per_site[site.pk], strict=True):
                figures.add(site_figures, network=False)
        for i, figures in enumerate(report_months):
            figures.network_costs = network_costs[i]
            figures.network_grants = network_grants[i]

    # 5. Acts by month, code and role.
    acts = Act.objects.filter(performed_on__gte=first_day, performed_on__lt=after)
    if site_id is not None:
        # The patient's site: a consultation is booked at its patient's site
        # (services/consultations.py), a téléexpertise has no other.
        acts = acts.filter(patient__site_id=site_id)
    for row in (
        acts.annotate(m=_month_of("performed_on"))
        .values("m", "code", "role")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .order_by()
    ):
        figures = report_months[row["m"] - 1]
        figures.acts[row["code"]] += row["n"]
        figures.revenue[row["role"]] = figures.revenue.get(row["role"], ZERO) + row["amount"]

    total = MonthFigures(month=first_day)
    for figures in report_months:
        total.add(figures)

    site_rows = []
    for site in scope:
        site_total = MonthFigures(month=first_day)
        for figures in per_site[site.pk]:
            site_total.add(figures)
        site_rows.append(
            SiteFigures(
                site_id=site.pk,
                name=site.name,
                distance_km=site.distance_km,
                travel_minutes=site.travel_minutes,
                in_service=site.in_service(*month_spans[-1]),
                total=site_total,
                break_even=_break_even(site_total, count, tariffs, last_day, site.distance_km),
            )
        )
    if site_id is not None:
        distance = scope[0].distance_km
    else:
        serving = [s.distance_km for s in scope if s.in_service(*month_spans[-1])] or [
            s.distance_km for s in scope
        ]
        distance = sum(serving, ZERO) / len(serving) if serving else ZERO
    return EconomicsReport(
        year=year,
        site=None,
        months=report_months,
        total=total,
        break_even=_break_even(total, count, tariffs, last_day, distance),
        sites=site_rows,
        sites_in_service=in_service,
        tariffs=tariffs,
        is_partial=year == today.year,
    )


def site_economics(
    *, actor, site: Site, year: int, today: dt.date | None = None
) -> EconomicsReport:
    """The site's model for `year` (see the module's docstring). BookingForbidden unless the
    actor coordinates the site or is staff; BookingRuleError for a year not begun."""
    if not may_see_site_economics(actor, site):
        raise BookingForbidden(
            _(
                "Le modèle économique d'un site est réservé à ses coordinateurs et à l'équipe "
                "télémédecine du Département."
            )
        )
    report = _compute(year=year, site_id=site.pk, today=today or timezone.localdate())
    report.site = site
    return report


def network_economics(*, actor, year: int, today: dt.date | None = None) -> EconomicsReport:
    """The network's model for `year`: every site plus the network costs. Staff only."""
    if not may_see_network_economics(actor):
        raise BookingForbidden(
            _("Le modèle économique du réseau est réservé à l'équipe télémédecine du Département.")
        )
    return _compute(year=year, site_id=None, today=today or timezone.localdate())


def network_year_totals(*, year: int, today: dt.date | None = None) -> EconomicsReport | None:
    """The network's figures without an actor, for the observatory's indicators (aggregates
    only). None for a year not begun."""
    try:
        return _compute(year=year, site_id=None, today=today or timezone.localdate())
    except BookingRuleError:
        return None


# --- the ledger and the tariffs, for their pages ---------------------------------------------


@dataclass
class LedgerRow:
    entry: CostEntry
    monthly: Decimal  # what it weighs in each month it covers
    first_month: dt.date
    last_month: dt.date | None  # None: open-ended

    @property
    def is_grant(self) -> bool:
        return self.entry.category == CostEntry.Category.GRANT


def cost_ledger(*, actor, site: Site | None) -> list[LedgerRow]:
    """The cost entries of `site` (None: the network's own), newest first, with their monthly
    share. BookingForbidden for someone who may not see them."""
    if site is None:
        if not may_see_network_economics(actor):
            raise BookingForbidden(
                _("Les coûts du réseau sont réservés à l'équipe télémédecine du Département.")
            )
        entries = CostEntry.objects.filter(site__isnull=True)
    else:
        if not may_see_site_economics(actor, site):
            raise BookingForbidden(
                _(
                    "Les coûts d'un site sont réservés à ses coordinateurs et à l'équipe "
                    "télémédecine du Département."
                )
            )
        entries = CostEntry.objects.filter(site=site)
    rows = []
    for entry in entries.select_related("recorded_by").order_by("-starts_on", "label", "-pk"):
        first, last = covered_months(entry)
        rows.append(
            LedgerRow(
                entry=entry,
                monthly=monthly_share(entry),
                first_month=_month_start(first),
                last_month=None if last is None else _month_start(last),
            )
        )
    return rows


def cost_entry_get(*, actor, site: Site | None, entry_id: int) -> CostEntry | None:
    """One entry of `site`'s ledger (None: the network's), or None when it is not there or the
    actor may not see it."""
    if site is None:
        if not may_see_network_economics(actor):
            return None
        return CostEntry.objects.filter(pk=entry_id, site__isnull=True).first()
    if not may_see_site_economics(actor, site):
        return None
    return CostEntry.objects.filter(pk=entry_id, site=site).first()


def transport_tariffs(*, actor) -> QuerySet[TransportTariff]:
    """Every transport tariff, by mode then date: staff edit them; BookingForbidden for the
    others."""
    if not is_telehealth_staff(actor):
        raise BookingForbidden(
            _("Les tarifs de transport sont modifiés par l'équipe télémédecine du Département.")
        )
    return TransportTariff.objects.order_by("mode", "-valid_from")
