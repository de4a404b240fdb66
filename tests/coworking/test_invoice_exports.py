"""Accounting exports: the CSV of invoice lines and the FEC (Fichier des Écritures
Comptables, LPF art. A47 A-1)."""

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest

from cybercantal.coworking.invoicing.exports import (
    CSV_HEADER,
    FEC_COLUMNS,
    fec_filename,
    invoices_csv,
    invoices_fec,
)
from cybercantal.coworking.models import Invoice
from cybercantal.coworking.services import invoices as services
from cybercantal.coworking.services.invoices import LineSpec
from tests.accounts.factories import OrganisationFactory

from .factories import TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 6, 30, 10, 0, tzinfo=dt.UTC)

FEC_HEADER = (
    "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|CompAuxNum|"
    "CompAuxLib|PieceRef|PieceDate|EcritureLib|Debit|Credit|EcritureLet|DateLet|ValidDate|"
    "Montantdevise|Idevise"
)


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def manager(place):
    return manager_of(place)


@pytest.fixture
def books(place, manager):
    """A year of an operator: two invoices (one to a funder, with two VAT rates), a credit
    note, payments by transfer and in cash, and an invoice of the previous year."""
    operator = place.place.organisation

    def issue(day, lines, **kwargs):
        return services.invoice_issue(
            actor=manager,
            operator=operator,
            buyer_name=kwargs.pop("buyer_name", "Camille Martin"),
            lines=lines,
            issued_on=day,
            now=NOW,
            **kwargs,
        )

    previous = issue(dt.date(2026, 12, 20), [LineSpec("Journée", 1_000)])
    first = issue(
        dt.date(2027, 1, 15),
        [LineSpec("Carnet | 10 journées", 12_000), LineSpec("Repas", 1_450, "10", quantity=2)],
        buyer_name="=Communauté de communes",
        buyer_organisation=OrganisationFactory(),
    )
    second = issue(
        dt.date(2027, 2, 1),
        [LineSpec("Journée", 1_000, "20", quantity=3)],
        buyer_name="Martin | Camille",
    )
    credit = services.invoice_credit(actor=manager, invoice=second, reason="Erreur", now=NOW)
    for invoice, amount, method, day in [
        (previous, 1_000, "cash", dt.date(2027, 1, 5)),
        (first, 10_000, "transfer", dt.date(2027, 2, 10)),
        (first, 4_900, "cheque", dt.date(2027, 3, 1)),
    ]:
        services.payment_record(
            actor=manager,
            invoice=invoice,
            amount_cents=amount,
            method=method,
            received_on=day,
            now=NOW,
        )
    return {"operator": operator, "previous": previous, "first": first, "credit": credit}


def test_csv_one_row_per_line(books):
    text = invoices_csv(Invoice.objects.filter(operator=books["operator"]))
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == CSV_HEADER
    assert len(rows) == 1 + 1 + 2 + 1 + 1  # previous, first (2 lines), second, credit note
    by_number = defaultdict(list)
    for row in rows[1:]:
        by_number[row[0]].append(row)
    first = by_number[books["first"].number]
    assert first[0][1:] == [
        "2027-01-15",
        "'=Communauté de communes",  # never run as a formula by a spreadsheet
        "Carnet | 10 journées",
        "1",
        "100,00",
        "20",
        "20,00",
        "120,00",
        "Payée",
    ]
    assert first[1][4:9] == ["2", "26,36", "10", "2,64", "29,00"]
    credit = by_number[books["credit"].number]
    assert credit[0][5:] == ["-25,00", "20", "-5,00", "-30,00", "Émise"]


def test_csv_respects_the_queryset_it_is_given(books):
    text = invoices_csv(Invoice.objects.filter(pk=books["previous"].pk))
    assert text.count("\r\n") == 2
    assert books["first"].number not in text


def parse_fec(text: str) -> list[dict[str, str]]:
    lines = text.split("\r\n")
    assert lines[-1] == ""
    header = lines[0].split("|")
    assert header == FEC_COLUMNS
    rows = [dict(zip(header, line.split("|"), strict=True)) for line in lines[1:-1]]
    return rows


def amount(value: str) -> Decimal:
    assert "." not in value
    return Decimal(value.replace(",", "."))


def test_fec_header_is_exactly_the_18_columns(books):
    text = invoices_fec(operator=books["operator"], year=2027)
    assert text.split("\r\n")[0] == FEC_HEADER
    assert len(FEC_COLUMNS) == 18


def test_fec_every_entry_balances_and_dates_are_yyyymmdd(books):
    rows = parse_fec(invoices_fec(operator=books["operator"], year=2027))
    balance: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        balance[row["EcritureNum"]] += amount(row["Debit"]) - amount(row["Credit"])
        for column in ("EcritureDate", "PieceDate", "ValidDate"):
            dt.datetime.strptime(row[column], "%Y%m%d")
        assert row["EcritureDate"].startswith("2027")
        assert row["ValidDate"] >= row["EcritureDate"]
        assert (amount(row["Debit"]) == 0) != (amount(row["Credit"]) == 0)
    assert balance and all(value == 0 for value in balance.values()), balance
    # 2 invoices + 1 credit note in VT; 2 bank payments, 1 cash payment (of last year's bill).
    journals = defaultdict(set)
    for row in rows:
        journals[row["JournalCode"]].add(row["EcritureNum"])
    assert journals == {
        "VT": {"VT000001", "VT000002", "VT000003"},
        "BQ": {"BQ000001", "BQ000002"},
        "CA": {"CA000001"},
    }


def test_fec_sales_entry_of_an_invoice_with_two_rates(books):
    rows = parse_fec(invoices_fec(operator=books["operator"], year=2027))
    entry = [r for r in rows if r["PieceRef"] == books["first"].number and r["JournalCode"] == "VT"]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in entry] == [
        ("411", "149,00", "0,00"),
        ("706", "0,00", "26,36"),  # 10 %
        ("44571", "0,00", "2,64"),
        ("706", "0,00", "100,00"),  # 20 %
        ("44571", "0,00", "20,00"),
    ]
    customer = entry[0]
    assert customer["CompAuxNum"].startswith("CLI-O")
    assert customer["CompAuxLib"] == "=Communauté de communes"
    assert customer["EcritureDate"] == "20270115"
    assert customer["JournalLib"] == "Ventes"


def test_fec_credit_note_is_reversed_and_payments_go_to_bank_or_cash(books):
    rows = parse_fec(invoices_fec(operator=books["operator"], year=2027))
    credit = [r for r in rows if r["PieceRef"] == books["credit"].number]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in credit] == [
        ("411", "0,00", "30,00"),
        ("706", "25,00", "0,00"),
        ("44571", "5,00", "0,00"),
    ]
    bank = [r for r in rows if r["JournalCode"] == "BQ"]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in bank] == [
        ("512", "100,00", "0,00"),
        ("411", "0,00", "100,00"),
        ("512", "49,00", "0,00"),
        ("411", "0,00", "49,00"),
    ]
    cash = [r for r in rows if r["JournalCode"] == "CA"]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in cash] == [
        ("530", "10,00", "0,00"),
        ("411", "0,00", "10,00"),
    ]
    # The last year's invoice is not in this year's sales, its payment is.
    assert books["previous"].number not in {r["PieceRef"] for r in rows if r["JournalCode"] == "VT"}


def test_fec_text_fields_hold_no_separator_and_only_the_operators_books(books):
    other_place = TiersLieuFactory()
    services.invoice_issue(
        actor=manager_of(other_place),
        operator=other_place.place.organisation,
        buyer_name="Autre client",
        lines=[LineSpec("Journée", 1_000)],
        issued_on=dt.date(2027, 1, 3),
        now=NOW,
    )
    text = invoices_fec(operator=books["operator"], year=2027)
    assert all(line.count("|") == 17 for line in text.split("\r\n")[:-1])
    assert "Martin / Camille" in text
    assert "Autre client" not in text
    assert invoices_fec(operator=books["operator"], year=2025) == FEC_HEADER + "\r\n"


def test_fec_filename():
    operator = OrganisationFactory(siret="73282932000074")
    assert fec_filename(operator=operator, closing_date=dt.date(2027, 12, 31)) == (
        "732829320FEC20271231.txt"
    )
