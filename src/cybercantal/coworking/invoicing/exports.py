"""Accounting exports of the operators' invoices.

- `invoices_csv(queryset)`: one row per invoice line, for a spreadsheet. Semicolon-separated,
  amounts with a decimal comma, dates as YYYY-MM-DD, as French spreadsheets read them. The
  caller scopes the queryset to what the actor may see (a selector) and may prepend a BOM.
- `invoices_fec(operator=, year=)`: the Fichier des Écritures Comptables of the operator's
  sales for a calendar year (livre des procédures fiscales, art. L47 A and A47 A-1): the 18
  columns in their order, separated by a pipe "|" (the article allows tab or pipe; a pipe is
  visible and text fields are cleaned of it), one line per accounting line, dates YYYYMMDD,
  amounts with a decimal comma and no thousands separator, lines ended by CRLF.

  Entries (plan comptable général):
  * every invoice issued in the year, journal VT (Ventes): debit 411 customer (TTC), credit
    706 revenue (HT) and 44571 VAT collected, one 706/44571 line per VAT rate; a credit note
    is the same entry reversed (debit 706 and 44571, credit 411);
  * every payment received in the year, journal BQ (Banque, account 512) or CA (Caisse,
    account 530 for cash): debit 512/530, credit 411.
  The customer's sub-account (CompAuxNum) is "CLI-O<id>" for an organisation, "CLI-U<id>"
  for a person with an account, "CLI-N<invoice id>" otherwise. EcritureNum is continuous per
  journal in date order (VT000001…); ValidDate is the day the row was recorded. Lettering
  (EcritureLet, DateLet) and foreign currency columns are left empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from cybercantal.territory.models import Organisation

from ..models import Invoice, Payment
from .amounts import format_rate, plain_amount

CSV_HEADER = [
    "numero",
    "date",
    "client",
    "designation",
    "quantite",
    "montant_ht",
    "taux_tva",
    "tva",
    "montant_ttc",
    "etat",
]
FEC_COLUMNS = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
]
FEC_SEPARATOR = "|"
FEC_LINE_END = "\r\n"

JOURNALS = {"VT": "Ventes", "BQ": "Banque", "CA": "Caisse"}
ACCOUNT_CUSTOMERS = ("411", "Clients")
ACCOUNT_REVENUE = ("706", "Prestations de services")
ACCOUNT_VAT = ("44571", "TVA collectée")
ACCOUNT_BANK = ("512", "Banque")
ACCOUNT_CASH = ("530", "Caisse")


def _csv_text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


def invoices_csv(queryset: QuerySet[Invoice]) -> str:
    """One row per invoice line of the queryset, invoices in series order (credit notes carry
    negative amounts). The queryset must already be scoped to the actor."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    invoices = queryset.order_by("operator_id", "sequence").prefetch_related("lines")
    for invoice in invoices:
        status = invoice.get_status_display()
        for line in invoice.lines.all():
            writer.writerow(
                [
                    _csv_text(invoice.number),
                    invoice.issued_on.isoformat(),
                    _csv_text(invoice.buyer_name),
                    _csv_text(line.label),
                    _decimal(line.quantity),
                    plain_amount(line.total_excl_tax_cents),
                    format_rate(line.vat_rate),
                    plain_amount(line.total_tax_cents),
                    plain_amount(line.total_excl_tax_cents + line.total_tax_cents),
                    str(status),
                ]
            )
    return out.getvalue()


# --- FEC -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    account: tuple[str, str]
    debit: int
    credit: int
    aux: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class _Entry:
    journal: str
    day: dt.date
    piece_ref: str
    piece_date: dt.date
    label: str
    valid_on: dt.date
    lines: tuple[_Line, ...]
    order: tuple


def _fec_text(value: str) -> str:
    return " ".join(str(value).replace(FEC_SEPARATOR, "/").split())


def _fec_date(day: dt.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _customer(invoice: Invoice) -> tuple[str, str]:
    if invoice.buyer_organisation_id:
        number = f"CLI-O{invoice.buyer_organisation_id}"
    elif invoice.buyer_user_id:
        number = f"CLI-U{invoice.buyer_user_id}"
    else:
        number = f"CLI-N{invoice.pk}"
    return number, invoice.buyer_name


def _signed(account, cents: int, *, aux=("", "")) -> _Line:
    """A line debiting a positive amount, crediting a negative one (its absolute value)."""
    return _Line(account=account, debit=max(cents, 0), credit=max(-cents, 0), aux=aux)


def _sales_entry(invoice: Invoice) -> _Entry:
    """Debit the customer, credit revenue and VAT per rate. A credit note's amounts are
    negative, so the same rule reverses it."""
    by_rate: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
    for line in invoice.lines.all():
        by_rate[line.vat_rate][0] += line.total_excl_tax_cents
        by_rate[line.vat_rate][1] += line.total_tax_cents
    lines = [_signed(ACCOUNT_CUSTOMERS, invoice.total_incl_tax_cents, aux=_customer(invoice))]
    for rate in sorted(by_rate):
        excl, tax = by_rate[rate]
        if excl:
            lines.append(_signed(ACCOUNT_REVENUE, -excl))
        if tax:
            lines.append(_signed(ACCOUNT_VAT, -tax))
    kind = "Avoir" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "Facture"
    return _Entry(
        journal="VT",
        day=invoice.issued_on,
        piece_ref=invoice.number,
        piece_date=invoice.issued_on,
        label=f"{kind} {invoice.number} {invoice.buyer_name}",
        valid_on=max(timezone.localdate(invoice.created_at), invoice.issued_on),
        lines=tuple(line for line in lines if line.debit or line.credit),
        order=(invoice.issued_on, 0, invoice.sequence),
    )


def _payment_entry(payment: Payment) -> _Entry:
    invoice = payment.invoice
    cash = payment.method == Payment.Method.CASH
    return _Entry(
        journal="CA" if cash else "BQ",
        day=payment.received_on,
        piece_ref=payment.reference or invoice.number,
        piece_date=payment.received_on,
        label=f"Règlement {invoice.number} {invoice.buyer_name} ({payment.get_method_display()})",
        valid_on=max(timezone.localdate(payment.created_at), payment.received_on),
        lines=(
            _Line(ACCOUNT_CASH if cash else ACCOUNT_BANK, payment.amount_cents, 0),
            _Line(ACCOUNT_CUSTOMERS, 0, payment.amount_cents, aux=_customer(invoice)),
        ),
        order=(payment.received_on, 1, payment.pk),
    )


def fec_entries(*, operator: Organisation, year: int) -> list[_Entry]:
    invoices = (
        Invoice.objects.filter(operator=operator, issued_on__year=year)
        .prefetch_related("lines")
        .order_by("sequence")
    )
    payments = Payment.objects.filter(
        invoice__operator=operator, received_on__year=year
    ).select_related("invoice")
    entries = [_sales_entry(i) for i in invoices] + [_payment_entry(p) for p in payments]
    return sorted((e for e in entries if e.lines), key=lambda e: e.order)


def _fec_rows(entries: Iterable[_Entry]) -> Iterable[list[str]]:
    counters: dict[str, int] = defaultdict(int)
    for entry in entries:
        counters[entry.journal] += 1
        number = f"{entry.journal}{counters[entry.journal]:06d}"
        for line in entry.lines:
            yield [
                entry.journal,
                JOURNALS[entry.journal],
                number,
                _fec_date(entry.day),
                line.account[0],
                line.account[1],
                _fec_text(line.aux[0]),
                _fec_text(line.aux[1]),
                _fec_text(entry.piece_ref),
                _fec_date(entry.piece_date),
                _fec_text(entry.label),
                plain_amount(line.debit),
                plain_amount(line.credit),
                "",
                "",
                _fec_date(entry.valid_on),
                "",
                "",
            ]


def invoices_fec(*, operator: Organisation, year: int) -> str:
    """The operator's FEC for `year` (see the module's docstring): the header of 18 column
    names, then the entries, each balanced (sum of debits = sum of credits per EcritureNum)."""
    rows = [FEC_COLUMNS, *_fec_rows(fec_entries(operator=operator, year=year))]
    return "".join(FEC_SEPARATOR.join(row) + FEC_LINE_END for row in rows)


def fec_filename(*, operator: Organisation, closing_date: dt.date) -> str:
    """ "<SIREN>FEC<AAAAMMJJ>.txt", the name the administration expects (SIREN: the first 9
    digits of the SIRET; "000000000" when the operator has none recorded)."""
    siren = (operator.siret or "")[:9] or "000000000"
    return f"{siren}FEC{closing_date:%Y%m%d}.txt"
