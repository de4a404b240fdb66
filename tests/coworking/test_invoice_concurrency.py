"""Gapless numbering under concurrency, on PostgreSQL: many managers issue invoices for the
same operator at the same instant, each from its own connection (tests.concurrency).

Deselected on SQLite, which serialises writers and so proves nothing about races."""

import datetime as dt

import pytest

from cybercantal.coworking.invoicing.errors import InvoiceError
from cybercantal.coworking.models import Invoice, InvoiceSeries
from cybercantal.coworking.services import invoices as services
from cybercantal.coworking.services.invoices import LineSpec
from tests.concurrency import run_concurrently

from .factories import TiersLieuFactory, manager_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 30
NOW = dt.datetime(2027, 3, 10, 10, 0, tzinfo=dt.UTC)
DAY = dt.date(2027, 3, 10)


def issue(manager, operator, i, *, vat_rate="20"):
    return services.invoice_issue(
        actor=manager,
        operator=operator,
        buyer_name=f"Client {i}",
        lines=[LineSpec(f"Journée {i}", 1_000 + i, vat_rate)],
        issued_on=DAY,
        now=NOW,
    )


def assert_gapless(operator, count):
    sequences = list(
        Invoice.objects.filter(operator=operator)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, count + 1))
    numbers = set(Invoice.objects.filter(operator=operator).values_list("number", flat=True))
    assert len(numbers) == count
    assert InvoiceSeries.objects.get(operator=operator).last_number == count


@pytest.mark.parametrize("series_exists", [True, False])
def test_thirty_concurrent_issues_get_numbers_one_to_thirty(series_exists):
    """With the series already there, and with thirty first invoices racing to create it."""
    place = TiersLieuFactory()
    operator = place.place.organisation
    if series_exists:
        InvoiceSeries.objects.create(operator=operator)
    managers = [manager_of(place) for _ in range(RACERS)]
    outcomes = run_concurrently(lambda i: issue(managers[i], operator, i), RACERS)
    failures = [o for o in outcomes if not isinstance(o, Invoice)]
    assert failures == []
    assert sorted(o.sequence for o in outcomes) == list(range(1, RACERS + 1))
    assert_gapless(operator, RACERS)


def test_refused_issues_racing_with_good_ones_leave_no_gap():
    place = TiersLieuFactory()
    operator = place.place.organisation
    manager = manager_of(place)
    # Every third racer asks for a VAT rate that does not exist.
    outcomes = run_concurrently(
        lambda i: issue(manager, operator, i, vat_rate="19" if i % 3 == 0 else "20"), RACERS
    )
    refused = [o for o in outcomes if isinstance(o, InvoiceError)]
    issued = [o for o in outcomes if isinstance(o, Invoice)]
    assert len(refused) == RACERS // 3
    assert len(issued) == RACERS - RACERS // 3
    assert_gapless(operator, len(issued))


def test_a_pass_invoiced_from_many_connections_is_invoiced_once():
    from .factories import PassFactory

    place = TiersLieuFactory()
    manager = manager_of(place)
    pass_ = PassFactory(offer__tiers_lieu=place)
    outcomes = run_concurrently(
        lambda i: services.invoice_for_pass(actor=manager, pass_account=pass_, now=NOW), 10
    )
    assert sum(isinstance(o, Invoice) for o in outcomes) == 1, outcomes
    assert all(
        isinstance(o, Invoice) or (isinstance(o, InvoiceError) and "déjà facturé" in o.message)
        for o in outcomes
    )
    assert Invoice.objects.filter(lines__pass_sold=pass_).count() == 1
