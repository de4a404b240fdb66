"""What a host earns when a network pass sold by another operator is used at its place.

A network pass (Offer.tiers_lieu empty) is invoiced by one operator (Offer.operator) and used
anywhere in the network. When it is used at a place run by another operator, that host earns
the amount of the SettlementRule in force on the day of the visit:

- the rule of the place itself when it has one in force that day (the latest `valid_from` on
  or before the day), otherwise the network's default rule in force that day; no rule in force,
  no amount (the line is still listed, so that the gap shows);
- PER_VISIT: the rule's amount for each visit;
- PER_DAY: the rule's amount × half-days / 2, rounded half up to the cent (a half-day of a
  9,01 € day is 4,51 €).

Pure functions, no database and no write: the selectors (selectors/settlement.py) read the
visits and the rules, this module prices them, so that an operator's statement and the
Département's clearing always price a visit the same way. A future service that closes a month
(freezes its statement) would price with these very functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..models import SettlementRule

Basis = SettlementRule.Basis
A_DAY = 2  # half-days


@dataclass(frozen=True)
class RuleTerms:
    """A SettlementRule detached from the ORM (rules are few: read once per statement)."""

    id: int
    tiers_lieu_id: int | None
    basis: str
    amount_cents: int
    valid_from: dt.date

    @classmethod
    def of(cls, rule: SettlementRule) -> RuleTerms:
        return cls(rule.pk, rule.tiers_lieu_id, rule.basis, rule.amount_cents, rule.valid_from)


def rule_in_force(
    rules: Iterable[RuleTerms], *, tiers_lieu_id: int, day: dt.date
) -> RuleTerms | None:
    """The place's rule in force on `day`, else the network default's, else None."""
    own: RuleTerms | None = None
    default: RuleTerms | None = None
    for rule in rules:
        if rule.valid_from > day:
            continue
        if rule.tiers_lieu_id == tiers_lieu_id:
            if own is None or rule.valid_from > own.valid_from:
                own = rule
        elif rule.tiers_lieu_id is None and (
            default is None or rule.valid_from > default.valid_from
        ):
            default = rule
    return own or default


def visit_amount_cents(rule: RuleTerms | None, *, half_days: int) -> int:
    """What the host earns for one visit of `half_days` under `rule` (0 without a rule)."""
    if rule is None:
        return 0
    if rule.basis == Basis.PER_VISIT:
        return rule.amount_cents
    # Integer arithmetic, half up: (a × h + 1) // 2 for a × h / 2.
    return (rule.amount_cents * max(half_days, 0) + 1) // A_DAY
