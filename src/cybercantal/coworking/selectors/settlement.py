"""Settlement between operators, and what funders paid for: monthly statements.

Visits. A network pass (Offer.tiers_lieu empty) is "sold" by the operator that invoices it
(Offer.operator, the seller of its invoice). It is *used* at a place:
- by a check-in paid with it (CheckIn.pass_used), a half-day when its ledger movement took one
  half-day, else the half-days of the desk booking it admitted, else a day;
- by a desk booking paid with it whose credit was consumed (a BOOKING or CHECK_IN movement)
  and that no check-in admitted (a no-show who paid, say), for its half-days, on the local day
  of its start.
A visit at a place run by another operator than the seller is a settlement line: the host
earns the amount of the rule in force that day (services/settlement.py), the seller owes it.
Visits at the seller's own places are not lines: nobody owes anybody.

Identities (tests/coworking/test_settlement.py), for a month, in cents:
- Σ over operators of net (= earned − paid out) = 0, since every line is earned by one
  operator and paid by another;
- per operator, collected = kept + paid out, where collected is the TTC total of the network
  pass lines (InvoiceLine.pass_sold) of its invoices issued in the month, credit notes
  subtracting, and paid out what it owes hosts for the month's visits. Kept may be negative: a
  month's visits may use passes sold in earlier months;
- Σ position (= collected + net = kept + earned) = Σ collected: clearing moves money between
  operators, it creates none.
Settlement amounts are the rules' amounts as they are stated; collected is TTC."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.accounts.models import Role
from cybercantal.booking.models import Booking
from cybercantal.booking.perms import MEMBER_ONLY_ROLES, TERRITORY_STAFF_ROLES
from cybercantal.territory.models import Organisation

from ..errors import CoworkingForbidden
from ..models import CheckIn, CreditMovement, DeskBooking, InvoiceLine, Pass, SettlementRule
from ..services.settlement import A_DAY, RuleTerms, rule_in_force, visit_amount_cents
from .passes import CONSUMING_REASONS, local_day_bounds

# --- months and who may read --------------------------------------------------------------


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """[first day, first day of the next month) of the month `month` falls in."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def is_territory_staff(actor) -> bool:
    return _is_authenticated(actor) and actor.has_role(*TERRITORY_STAFF_ROLES)


def can_read_operator_accounts(actor, operator: Organisation) -> bool:
    """The operator's managers (active tiers_lieu_manager membership) or the Département."""
    if not _is_authenticated(actor):
        return False
    if is_territory_staff(actor):
        return True
    return actor.memberships.filter(
        organisation_id=operator.pk, role=Role.TIERS_LIEU_MANAGER, is_active=True
    ).exists()


def can_read_funder_statement(actor, funder: Organisation) -> bool:
    """The Département, or an agent of the funder (an active membership that is more than a
    member's: not a resident, parent, pupil or elected official)."""
    if not _is_authenticated(actor):
        return False
    if is_territory_staff(actor):
        return True
    return (
        actor.memberships.filter(organisation_id=funder.pk, is_active=True)
        .exclude(role__in=MEMBER_ONLY_ROLES)
        .exists()
    )


# --- lines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementLine:
    kind: str  # "check_in" or "desk_booking"
    source_id: int
    day: dt.date
    tiers_lieu_id: int
    place_name: str
    host_id: int  # the operator of the place, who earns
    payer_id: int  # the operator that sold (invoiced) the pass, who owes
    pass_id: int
    half_days: int
    basis: str  # "" when no rule was in force
    rule_id: int | None
    amount_cents: int


def _rules() -> list[RuleTerms]:
    return [RuleTerms.of(rule) for rule in SettlementRule.objects.all()]


def _line(visit: dict, *, kind: str, day: dt.date, half_days: int, rules) -> SettlementLine:
    rule = rule_in_force(rules, tiers_lieu_id=visit["tiers_lieu_id"], day=day)
    return SettlementLine(
        kind=kind,
        source_id=visit["id"],
        day=day,
        tiers_lieu_id=visit["tiers_lieu_id"],
        place_name=visit["place_name"],
        host_id=visit["host_id"],
        payer_id=visit["payer_id"],
        pass_id=visit["pass_id"],
        half_days=half_days,
        basis=rule.basis if rule else "",
        rule_id=rule.id if rule else None,
        amount_cents=visit_amount_cents(rule, half_days=half_days),
    )


def settlement_lines(month: dt.date) -> list[SettlementLine]:
    """Every settlement line of the month, network-wide, unscoped (callers check the actor).
    Three queries: rules, check-ins, desk bookings."""
    first, following = month_bounds(month)
    rules = _rules()
    consumed_at_check_in = (
        CreditMovement.objects.filter(check_in=OuterRef("pk"))
        .order_by()
        .values("check_in")
        .annotate(total=Sum("half_days"))
        .values("total")
    )
    check_ins = (
        CheckIn.objects.filter(
            day__gte=first, day__lt=following, pass_used__offer__tiers_lieu__isnull=True
        )
        .exclude(tiers_lieu__place__organisation_id=F("pass_used__offer__operator_id"))
        .annotate(
            consumed=Subquery(consumed_at_check_in, output_field=IntegerField()),
            place_name=F("tiers_lieu__place__name"),
            host_id=F("tiers_lieu__place__organisation_id"),
            payer_id=F("pass_used__offer__operator_id"),
            pass_id=F("pass_used_id"),
            desk_half_days=F("booking__desk__half_days"),
        )
        .order_by("day", "pk")
        .values(
            "id",
            "day",
            "tiers_lieu_id",
            "place_name",
            "host_id",
            "payer_id",
            "pass_id",
            "consumed",
            "desk_half_days",
        )
    )
    lines = []
    for visit in check_ins:
        # The half-days its ledger movement took; else those of the desk booking it admitted
        # (paid when booked); else a day (an unlimited pass).
        half_days = -(visit["consumed"] or 0) or visit["desk_half_days"] or A_DAY
        lines.append(
            _line(visit, kind="check_in", day=visit["day"], half_days=half_days, rules=rules)
        )
    start, _ = local_day_bounds(first)
    end, _ = local_day_bounds(following)
    consumed = CreditMovement.objects.filter(
        booking=OuterRef("booking"), reason__in=CONSUMING_REASONS
    )
    desks = (
        DeskBooking.objects.filter(
            pass_account__offer__tiers_lieu__isnull=True,
            booking__status__in=(
                Booking.Status.CONFIRMED,
                Booking.Status.ATTENDED,
                Booking.Status.NO_SHOW,
            ),
            booking__start__gte=start,
            booking__start__lt=end,
            booking__place__tiers_lieu__isnull=False,
        )
        .filter(Exists(consumed))
        .exclude(Exists(CheckIn.objects.filter(booking=OuterRef("booking"))))
        .exclude(booking__place__organisation_id=F("pass_account__offer__operator_id"))
        .annotate(
            tiers_lieu_id=F("booking__place__tiers_lieu__id"),
            place_name=F("booking__place__name"),
            host_id=F("booking__place__organisation_id"),
            payer_id=F("pass_account__offer__operator_id"),
            pass_id=F("pass_account_id"),
            start=F("booking__start"),
        )
        .order_by("booking__start", "pk")
        .values(
            "id",
            "tiers_lieu_id",
            "place_name",
            "host_id",
            "payer_id",
            "pass_id",
            "start",
            "half_days",
        )
    )
    for visit in desks:
        day = timezone.localtime(visit["start"]).date()
        lines.append(
            _line(visit, kind="desk_booking", day=day, half_days=visit["half_days"], rules=rules)
        )
    lines.sort(key=lambda line: (line.day, line.kind, line.source_id))
    return lines


def _names(ids) -> dict[int, str]:
    return dict(Organisation.objects.filter(pk__in=set(ids)).values_list("pk", "name"))


# --- an operator's statement -------------------------------------------------------------


@dataclass
class Statement:
    """One operator's month: what hosts it owes (`owed_lines`), what payers owe it
    (`earned_lines`), per counterpart, and the net (earned − owed)."""

    operator: Organisation
    month: dt.date
    earned_lines: list[SettlementLine]
    owed_lines: list[SettlementLine]
    names: dict[int, str] = field(default_factory=dict)

    @property
    def earned_cents(self) -> int:
        return sum(line.amount_cents for line in self.earned_lines)

    @property
    def owed_cents(self) -> int:
        return sum(line.amount_cents for line in self.owed_lines)

    @property
    def net_cents(self) -> int:
        return self.earned_cents - self.owed_cents

    def by_counterpart(self) -> list[tuple[str, int, int]]:
        """(counterpart's name, it owes us, we owe it) per other operator, by name."""
        owed_to_us: dict[int, int] = defaultdict(int)
        we_owe: dict[int, int] = defaultdict(int)
        for line in self.earned_lines:
            owed_to_us[line.payer_id] += line.amount_cents
        for line in self.owed_lines:
            we_owe[line.host_id] += line.amount_cents
        ids = owed_to_us.keys() | we_owe.keys()
        rows = [(self.names.get(i, str(i)), owed_to_us[i], we_owe[i]) for i in ids]
        return sorted(rows)


def settlement_statement(*, actor, operator: Organisation, month: dt.date) -> Statement:
    """The month's settlement of `operator` (any day of the month names it), for its managers
    or the Département; CoworkingForbidden for anyone else."""
    if not can_read_operator_accounts(actor, operator):
        raise CoworkingForbidden(
            _(
                "Seuls les gestionnaires de « %(operator)s » ou le Département voient "
                "ses reversements."
            )
            % {"operator": operator.name}
        )
    lines = settlement_lines(month)
    earned = [line for line in lines if line.host_id == operator.pk]
    owed = [line for line in lines if line.payer_id == operator.pk]
    counterparts = {line.payer_id for line in earned} | {line.host_id for line in owed}
    return Statement(
        operator=operator,
        month=month_bounds(month)[0],
        earned_lines=earned,
        owed_lines=owed,
        names=_names(counterparts | {operator.pk}),
    )


# --- the Département's clearing -------------------------------------------------------------


@dataclass(frozen=True)
class ClearingRow:
    operator_id: int
    operator_name: str
    collected_cents: int  # network passes invoiced in the month, TTC, credit notes subtracted
    earned_cents: int  # owed to it by sellers for visits at its places
    paid_out_cents: int  # owed by it to hosts

    @property
    def kept_cents(self) -> int:
        return self.collected_cents - self.paid_out_cents

    @property
    def net_cents(self) -> int:
        return self.earned_cents - self.paid_out_cents

    @property
    def position_cents(self) -> int:
        return self.collected_cents + self.net_cents


@dataclass
class Clearing:
    month: dt.date
    rows: list[ClearingRow]
    lines: list[SettlementLine]

    @property
    def total_net_cents(self) -> int:
        return sum(row.net_cents for row in self.rows)

    @property
    def total_collected_cents(self) -> int:
        return sum(row.collected_cents for row in self.rows)


def network_pass_revenue(month: dt.date) -> dict[int, int]:
    """TTC of the network pass lines invoiced in the month, per invoicing operator."""
    first, following = month_bounds(month)
    rows = (
        InvoiceLine.objects.filter(
            pass_sold__offer__tiers_lieu__isnull=True,
            invoice__issued_on__gte=first,
            invoice__issued_on__lt=following,
        )
        .values("invoice__operator_id")
        .annotate(total=Sum(F("total_excl_tax_cents") + F("total_tax_cents")))
        .order_by()
    )
    return {row["invoice__operator_id"]: row["total"] or 0 for row in rows}


def settlement_clearing(*, actor, month: dt.date) -> Clearing:
    """Network-wide clearing of the month, for the Département's staff only: per operator,
    collected, earned, paid out, kept, net. Σ net = 0 and collected = kept + paid out."""
    if not is_territory_staff(actor):
        raise CoworkingForbidden(_("Seul le Département voit la compensation du réseau."))
    lines = settlement_lines(month)
    collected = network_pass_revenue(month)
    earned: dict[int, int] = defaultdict(int)
    paid_out: dict[int, int] = defaultdict(int)
    for line in lines:
        earned[line.host_id] += line.amount_cents
        paid_out[line.payer_id] += line.amount_cents
    ids = collected.keys() | earned.keys() | paid_out.keys()
    names = _names(ids)
    rows = [
        ClearingRow(i, names.get(i, str(i)), collected.get(i, 0), earned[i], paid_out[i])
        for i in ids
    ]
    rows.sort(key=lambda row: row.operator_name)
    return Clearing(month=month_bounds(month)[0], rows=rows, lines=lines)


# --- funders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundedPass:
    pass_id: int
    offer: str
    sold_at: str
    valid_from: dt.date
    valid_until: dt.date
    status: str
    price_cents: int
    invoiced_cents: int  # TTC invoiced to the funder for this pass, ever (credit notes count)
    days_checked_in: int  # check-ins paid with it in the month


@dataclass
class FunderStatement:
    funder: Organisation
    month: dt.date
    passes: list[FundedPass]

    @property
    def invoiced_cents(self) -> int:
        return sum(p.invoiced_cents for p in self.passes)

    @property
    def price_cents(self) -> int:
        return sum(p.price_cents for p in self.passes)

    @property
    def days_checked_in(self) -> int:
        return sum(p.days_checked_in for p in self.passes)


def funder_statement(*, actor, funder: Organisation, month: dt.date) -> FunderStatement:
    """The passes `funder` pays for (Pass.funder) that were valid at some point of the month,
    with what was invoiced to it and the days their holders checked in that month. No names:
    a funder sees passes, their price and their use, not who held them. For the Département or
    the funder's agents; CoworkingForbidden otherwise. One query."""
    if not can_read_funder_statement(actor, funder):
        raise CoworkingForbidden(
            _("Seuls le Département et « %(funder)s » voient ce relevé.") % {"funder": funder.name}
        )
    first, following = month_bounds(month)
    last = following - dt.timedelta(days=1)
    invoiced = (
        InvoiceLine.objects.filter(
            pass_sold=OuterRef("pk"), invoice__buyer_organisation_id=funder.pk
        )
        .order_by()
        .values("pass_sold")
        .annotate(total=Sum(F("total_excl_tax_cents") + F("total_tax_cents")))
        .values("total")
    )
    days = (
        CheckIn.objects.filter(pass_used=OuterRef("pk"), day__gte=first, day__lt=following)
        .order_by()
        .values("pass_used")
        .annotate(total=Count("pk"))
        .values("total")
    )
    rows = (
        Pass.objects.filter(funder=funder, valid_from__lte=last, valid_until__gte=first)
        .annotate(
            invoiced=Coalesce(Subquery(invoiced, output_field=IntegerField()), 0),
            days=Coalesce(Subquery(days, output_field=IntegerField()), 0),
        )
        .select_related("offer", "sold_at__place")
        .order_by("valid_from", "pk")
    )
    passes = [
        FundedPass(
            pass_id=p.pk,
            offer=p.offer.label,
            sold_at=p.sold_at.place.name,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
            status=p.get_status_display(),
            price_cents=p.price_cents,
            invoiced_cents=p.invoiced,
            days_checked_in=p.days,
        )
        for p in rows
    ]
    return FunderStatement(funder=funder, month=first, passes=passes)


__all__ = [
    "Clearing",
    "ClearingRow",
    "FunderStatement",
    "SettlementLine",
    "Statement",
    "funder_statement",
    "month_bounds",
    "settlement_clearing",
    "settlement_lines",
    "settlement_statement",
]
