"""VAT arithmetic in integer cents.

Offers are priced all taxes included (TTC), as a member sees them. The TTC amount of a line is
therefore the truth: HT = round(TTC / (1 + rate)), VAT = TTC − HT, so that HT + VAT is exactly
the TTC price paid, on every line and so on the totals (the invoice table has a check
constraint `total TTC = total HT + VAT`). Rounding is half up, to the cent (Decimal,
ROUND_HALF_UP), line by line; the totals are the sums of the lines (no second rounding). The
unit price HT printed on a line is rounded on its own and is informative: quantity × unit price
HT may differ from the line HT by a cent, the line HT being derived from the TTC paid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# The rates of French VAT in force (CGI art. 278 to 281 nonies, 296 for Corsica is not used):
# 0 (exempt or franchise), 2.1, 5.5, 10 and 20 %.
ALLOWED_VAT_RATES: tuple[Decimal, ...] = (
    Decimal("0"),
    Decimal("2.1"),
    Decimal("5.5"),
    Decimal("10"),
    Decimal("20"),
)

_CENT = Decimal("1")
_HUNDRED = Decimal("100")


def to_decimal(value) -> Decimal | None:
    """A Decimal from an int, str, float or Decimal (floats through their shortest text, so
    2.1 is 2.1), or None when it is not a finite number."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def normalize_vat_rate(value) -> Decimal | None:
    """The allowed rate equal to `value` (20, "20", 20.0, Decimal("20.00") are all 20), or
    None when it is not one of ALLOWED_VAT_RATES."""
    number = to_decimal(value)
    if number is None:
        return None
    for rate in ALLOWED_VAT_RATES:
        if number == rate:
            return rate
    return None


def round_cents(amount: Decimal) -> int:
    """Half up to the cent (amount in cents): 0.5 → 1, −0.5 → −1."""
    return int(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def excl_tax_from_incl_tax(incl_tax_cents: int, vat_rate: Decimal) -> int:
    """The HT amount of a TTC amount: 1 000 at 20 % → 833."""
    return round_cents(Decimal(incl_tax_cents) * _HUNDRED / (_HUNDRED + vat_rate))


@dataclass(frozen=True)
class LineAmounts:
    """One line's amounts in cents: `incl_tax` = `excl_tax` + `tax`, always."""

    unit_price_excl_tax: int
    excl_tax: int
    tax: int
    incl_tax: int


def line_amounts(*, unit_price_incl_tax_cents: int, quantity: Decimal, vat_rate: Decimal):
    """The amounts of a line sold `quantity` times at a TTC unit price: the line TTC is
    rounded first (half up), then split into HT and VAT so that they add up exactly."""
    incl_tax = round_cents(Decimal(unit_price_incl_tax_cents) * quantity)
    excl_tax = excl_tax_from_incl_tax(incl_tax, vat_rate)
    return LineAmounts(
        unit_price_excl_tax=excl_tax_from_incl_tax(unit_price_incl_tax_cents, vat_rate),
        excl_tax=excl_tax,
        tax=incl_tax - excl_tax,
        incl_tax=incl_tax,
    )


@dataclass(frozen=True)
class Totals:
    excl_tax: int
    tax: int
    incl_tax: int


def totals(lines: Iterable[LineAmounts]) -> Totals:
    """The sums of the lines: HT + VAT = TTC because it holds on each line."""
    lines = list(lines)
    excl_tax = sum(line.excl_tax for line in lines)
    tax = sum(line.tax for line in lines)
    return Totals(excl_tax=excl_tax, tax=tax, incl_tax=excl_tax + tax)


def format_rate(rate: Decimal) -> str:
    """20 → "20", 5.50 → "5,5", 2.10 → "2,1": a VAT rate as French prints it (no %)."""
    text = format(Decimal(rate).normalize(), "f")
    return text.replace(".", ",")


def format_cents(cents: int, *, currency: bool = True) -> str:
    """1 234 567 → "12 345,67 €" (narrow no-break space between thousands, as French
    typography wants); `currency=False` leaves out the euro sign."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    text = f"{sign}{grouped},{rest:02d}"
    return f"{text}\u00a0€" if currency else text


def plain_amount(cents: int) -> str:
    """1 234 567 → "12345,67": comma decimal separator, no grouping (accounting files)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros},{rest:02d}"
