"""The demo year of activity: written once (idempotent), invariants kept, figures not trivial."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from cybercantal.accounts.models import User
from cybercantal.booking.models import Booking
from cybercantal.coworking.demo_activity import seed_coworking_activity
from cybercantal.coworking.models import CheckIn, CreditMovement, Invoice, InvoiceSeries, Pass
from cybercantal.coworking.models.invoices import RoomBookingInvoice
from cybercantal.coworking.selectors.figures import coworking_figures
from cybercantal.coworking.selectors.settlement import settlement_clearing

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)


def test_demo_year_is_idempotent_and_not_trivial(cantal):
    call_command("seed_demo", stdout=StringIO())
    report = seed_coworking_activity(members=40, today=TODAY)
    assert not report.already_there and report.counts["check_ins"] > 200
    counts = (User.objects.count(), CheckIn.objects.count(), Invoice.objects.count())
    again = seed_coworking_activity(members=40, today=TODAY)
    assert again.already_there
    assert (User.objects.count(), CheckIn.objects.count(), Invoice.objects.count()) == counts
    out = StringIO()
    call_command("seed_coworking_activity", stdout=out)
    assert "rien n'a changé" in out.getvalue()

    # Invariants: every pass and meeting invoiced once, numbers gapless per operator, no
    # negative balance.
    meetings = Booking.objects.filter(allocations__resource__kind="room")
    assert 10 <= report.counts["room_bookings"] == meetings.count()
    assert Invoice.objects.count() == Pass.objects.count() + meetings.count()
    assert RoomBookingInvoice.objects.count() == meetings.count()
    assert not meetings.filter(start__date__lt=TODAY - dt.timedelta(days=92)).exists()
    first = RoomBookingInvoice.objects.select_related("invoice", "booking").first()
    assert first.invoice.issued_on == timezone.localtime(first.booking.start).date()
    hours = (first.booking.end - first.booking.start).total_seconds() / 3600
    assert abs(first.invoice.total_incl_tax_cents - 1200 * hours) <= 1  # 12 € TTC an hour
    for series in InvoiceSeries.objects.all():
        numbers = Invoice.objects.filter(operator=series.operator).aggregate(
            n=Count("pk"), low=Min("sequence"), high=Max("sequence")
        )
        assert (numbers["n"], numbers["low"], numbers["high"]) == (
            series.last_number,
            1,
            series.last_number,
        )
    balances = CreditMovement.objects.values("pass_account").annotate(total=Sum("half_days"))
    assert min(row["total"] for row in balances) >= 0
    assert not CheckIn.objects.filter(day__gte=TODAY).exists()

    agent = User.objects.get(username="demo-agent")
    figures = coworking_figures(actor=agent, year=2026)
    year = figures.network.year
    assert year.seat_days > 200 and year.active_members > 20
    assert year.active_newcomers > 0 and year.co2_kg > 0
    assert 0 < year.occupancy_rate < 1
    assert len(figures.home_communes) > 3
    clearing = settlement_clearing(actor=agent, month=dt.date(2026, 10, 1))
    assert clearing.total_net_cents == 0 and clearing.lines
