"""The database refuses to rewrite issued invoices, whatever writes to it (raw SQL here: the
services' guard never sees it). Only the status moves, along its transitions, and links to
erased accounts become NULL."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from cybercantal.coworking.models import Invoice
from cybercantal.coworking.services import invoices as services
from cybercantal.coworking.services.invoices import LineSpec

from .factories import TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def invoice():
    place = TiersLieuFactory()
    manager = manager_of(place)
    invoice = services.invoice_issue(
        actor=manager,
        operator=place.place.organisation,
        buyer_name="Camille Martin",
        lines=[LineSpec("Journée de coworking", 1_500)],
        issued_on=NOW.date(),
        buyer_user=manager,
        now=NOW,
    )
    services.payment_record(
        actor=manager,
        invoice=invoice,
        amount_cents=500,
        method="cash",
        received_on=NOW.date(),
        now=NOW,
    )
    return invoice


def sql(statement: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE coworking_invoice SET total_incl_tax_cents = 1 WHERE id = %s",
        "UPDATE coworking_invoice SET buyer_name = 'Autre' WHERE id = %s",
        "UPDATE coworking_invoice SET number = 'F-0' WHERE id = %s",
        "UPDATE coworking_invoiceline SET label = 'Autre' WHERE invoice_id = %s",
        "UPDATE coworking_payment SET amount_cents = 1 WHERE invoice_id = %s",
    ],
)
def test_raw_rewrites_are_refused(invoice, statement):
    with pytest.raises(DatabaseError, match="immutable"):
        sql(statement, invoice.pk)
    assert Invoice.objects.get(pk=invoice.pk).total_incl_tax_cents == 1_500


def test_status_moves_only_forward(invoice):
    sql("UPDATE coworking_invoice SET status = 'paid' WHERE id = %s", invoice.pk)
    with pytest.raises(DatabaseError, match="immutable"):
        sql("UPDATE coworking_invoice SET status = 'issued' WHERE id = %s", invoice.pk)
    sql("UPDATE coworking_invoice SET status = 'credited' WHERE id = %s", invoice.pk)
    with pytest.raises(DatabaseError, match="immutable"):
        sql("UPDATE coworking_invoice SET status = 'paid' WHERE id = %s", invoice.pk)


def test_an_erased_account_link_may_become_null_but_not_move(invoice):
    other = manager_of(TiersLieuFactory())
    with pytest.raises(DatabaseError, match="immutable"):
        sql("UPDATE coworking_invoice SET buyer_user_id = %s WHERE id = %s", other.pk, invoice.pk)
    sql("UPDATE coworking_invoice SET buyer_user_id = NULL WHERE id = %s", invoice.pk)
    sql("UPDATE coworking_payment SET recorded_by_id = NULL WHERE invoice_id = %s", invoice.pk)
    assert Invoice.objects.get(pk=invoice.pk).buyer_user_id is None


def test_the_series_never_goes_back(invoice):
    with pytest.raises(DatabaseError, match="immutable"):
        sql("UPDATE coworking_invoiceseries SET last_number = 0")


@pytest.mark.postgres
def test_postgresql_refuses_deletes(invoice):
    for table, column in [
        ("coworking_payment", "invoice_id"),
        ("coworking_invoiceline", "invoice_id"),
        ("coworking_invoice", "id"),
    ]:
        with pytest.raises(DatabaseError, match="immutable"):
            sql(f"DELETE FROM {table} WHERE {column} = %s", invoice.pk)  # noqa: S608
