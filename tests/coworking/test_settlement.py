"""Settlement between operators (network passes used at another operator's place) and the
funders' statements: amounts by the rule in force, identities of the clearing, who may read."""

import datetime as dt
import uuid

import pytest

from cybercantal.booking.models import Booking
from cybercantal.coworking.errors import CoworkingForbidden
from cybercantal.coworking.exports import clearing_csv, funder_statement_csv, statement_csv
from cybercantal.coworking.models import (
    CheckIn,
    CreditMovement,
    DeskBooking,
    Offer,
    SettlementRule,
)
from cybercantal.coworking.selectors.settlement import (
    funder_statement,
    settlement_clearing,
    settlement_lines,
    settlement_statement,
)
from cybercantal.coworking.services.invoices import invoice_for_pass
from cybercantal.coworking.services.settlement import RuleTerms, rule_in_force, visit_amount_cents
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.booking.conftest import at
from tests.booking.factories import department_agent

from .factories import OfferFactory, PassFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

MARCH = dt.date(2027, 3, 1)
SOLD = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def check_in(place, pass_, day: str, *, half_days: int | None = 2) -> CheckIn:
    """A check-in paid with `pass_` (its ledger movement, as check_in_record writes it)."""
    visit = CheckIn.objects.create(
        tiers_lieu=place,
        member=pass_.member,
        day=dt.date.fromisoformat(day),
        at=at(day, "09:10"),
        method="qr",
        pass_used=pass_,
        client_uuid=uuid.uuid4(),
    )
    if half_days:
        CreditMovement.objects.create(
            pass_account=pass_, half_days=-half_days, reason="check_in", check_in=visit
        )
    return visit


def desk_booking_paid(place, pass_, day: str, *, status="confirmed", half_days=2) -> Booking:
    booking = Booking.objects.create(
        reference=uuid.uuid4().hex[:12],
        start=at(day, "09:00"),
        end=at(day, "18:00" if half_days == 2 else "12:00"),
        status=status,
        place=place.place,
        user=pass_.member,
    )
    DeskBooking.objects.create(booking=booking, pass_account=pass_, half_days=half_days)
    CreditMovement.objects.create(
        pass_account=pass_, half_days=-half_days, reason="booking", booking=booking
    )
    return booking


@pytest.fixture
def network():
    """Three operators A, B, C with a place each; A and B sell network passes."""
    a, b, c = TiersLieuFactory(), TiersLieuFactory(), TiersLieuFactory()
    pass_of_a = OfferFactory(
        tiers_lieu=None,
        operator=a.place.organisation,
        kind=Offer.Kind.NETWORK_PASS,
        price_cents=14_000,
        half_days=20,
    )
    pass_of_b = OfferFactory(
        tiers_lieu=None,
        operator=b.place.organisation,
        kind=Offer.Kind.NETWORK_PASS,
        price_cents=10_000,
        half_days=20,
    )
    SettlementRule.objects.create(basis="per_day", amount_cents=900, valid_from=dt.date(2027, 1, 1))
    SettlementRule.objects.create(
        tiers_lieu=c, basis="per_visit", amount_cents=700, valid_from=dt.date(2027, 1, 1)
    )
    return {"a": a, "b": b, "c": c, "offer_a": pass_of_a, "offer_b": pass_of_b}


@pytest.fixture
def march(network):
    """March 2027: a pass of A used at B (a day, a half-day, a paid desk booking without a
    check-in), at C (per visit) and at A itself; a pass of B used at A. Both invoiced."""
    a, b, c = network["a"], network["b"], network["c"]
    staff = department_agent()
    pass_a = PassFactory(offer=network["offer_a"], sold_at=a, valid_from=MARCH)
    pass_b = PassFactory(offer=network["offer_b"], sold_at=b, valid_from=MARCH)
    check_in(b, pass_a, "2027-03-02")  # B earns 9,00
    check_in(b, pass_a, "2027-03-03", half_days=1)  # B earns 4,50
    check_in(c, pass_a, "2027-03-04")  # C earns 7,00 (its own rule, per visit)
    check_in(a, pass_a, "2027-03-05")  # at the seller's place: no line
    desk_booking_paid(b, pass_a, "2027-03-08")  # consumed, no check-in: B earns 9,00
    desk_booking_paid(b, pass_a, "2027-03-09", status="cancelled")  # not a visit
    check_in(a, pass_b, "2027-03-02")  # A earns 9,00 from B
    check_in(b, pass_a, "2027-04-01")  # next month
    invoice_for_pass(actor=staff, pass_account=pass_a, now=SOLD)
    invoice_for_pass(actor=staff, pass_account=pass_b, now=SOLD)
    return staff


def test_rule_in_force_place_overrides_network_and_dates_count():
    rules = [
        RuleTerms(1, None, "per_day", 900, dt.date(2027, 1, 1)),
        RuleTerms(2, None, "per_day", 1000, dt.date(2027, 6, 1)),
        RuleTerms(3, 7, "per_visit", 500, dt.date(2027, 3, 3)),
    ]
    assert rule_in_force(rules, tiers_lieu_id=7, day=dt.date(2027, 3, 2)).id == 1
    assert rule_in_force(rules, tiers_lieu_id=7, day=dt.date(2027, 3, 3)).id == 3
    assert rule_in_force(rules, tiers_lieu_id=7, day=dt.date(2027, 7, 1)).id == 3
    assert rule_in_force(rules, tiers_lieu_id=8, day=dt.date(2027, 7, 1)).id == 2
    assert rule_in_force(rules, tiers_lieu_id=8, day=dt.date(2026, 12, 31)) is None


def test_per_visit_and_per_day_amounts():
    per_day = RuleTerms(1, None, "per_day", 901, dt.date(2027, 1, 1))
    per_visit = RuleTerms(2, None, "per_visit", 700, dt.date(2027, 1, 1))
    assert visit_amount_cents(per_day, half_days=2) == 901
    assert visit_amount_cents(per_day, half_days=1) == 451  # 450,5 rounded half up
    assert visit_amount_cents(per_visit, half_days=1) == 700
    assert visit_amount_cents(per_visit, half_days=2) == 700
    assert visit_amount_cents(None, half_days=2) == 0


def test_lines_of_the_month(network, march):
    lines = settlement_lines(MARCH)
    b, c = network["b"], network["c"]
    assert [(line.day.day, line.tiers_lieu_id, line.amount_cents) for line in lines] == [
        (2, b.pk, 900),
        (2, network["a"].pk, 900),
        (3, b.pk, 450),
        (4, c.pk, 700),
        (8, b.pk, 900),
    ]
    assert [line.basis for line in lines] == ["per_day"] * 3 + ["per_visit", "per_day"]
    assert lines[-1].kind == "desk_booking"


def test_a_place_rule_from_a_date_overrides_the_network_rule(network, march):
    SettlementRule.objects.create(
        tiers_lieu=network["b"], basis="per_visit", amount_cents=500, valid_from=dt.date(2027, 3, 3)
    )
    at_b = [line for line in settlement_lines(MARCH) if line.tiers_lieu_id == network["b"].pk]
    assert [(line.day.day, line.basis, line.amount_cents) for line in at_b] == [
        (2, "per_day", 900),
        (3, "per_visit", 500),
        (8, "per_visit", 500),
    ]


def test_clearing_identities(network, march):
    clearing = settlement_clearing(actor=march, month=dt.date(2027, 3, 15))
    rows = {row.operator_id: row for row in clearing.rows}
    a, b, c = (network[k].place.organisation_id for k in "abc")
    # Every line is earned by one operator and paid by another.
    assert clearing.total_net_cents == 0
    assert sum(r.earned_cents for r in clearing.rows) == sum(
        r.paid_out_cents for r in clearing.rows
    )
    # Expected by hand: A sold 140,00 € and owes B 9 + 4,50 + 9, C 7; B sold 100,00 €, owes A 9.
    assert (rows[a].collected_cents, rows[a].paid_out_cents, rows[a].earned_cents) == (
        14_000,
        2_950,
        900,
    )
    assert (rows[b].collected_cents, rows[b].paid_out_cents, rows[b].earned_cents) == (
        10_000,
        900,
        2_250,
    )
    assert (rows[c].collected_cents, rows[c].paid_out_cents, rows[c].earned_cents) == (0, 0, 700)
    for row in clearing.rows:
        assert row.collected_cents == row.kept_cents + row.paid_out_cents
    assert (rows[a].kept_cents, rows[b].kept_cents) == (11_050, 9_100)
    assert sum(r.position_cents for r in clearing.rows) == clearing.total_collected_cents
    assert clearing_csv(clearing).splitlines()[0] == (
        "exploitant;encaisse;conserve;reverse;a_recevoir;solde"
    )


def test_credit_note_subtracts_from_collected(network, march):
    from cybercantal.coworking.models import Invoice
    from cybercantal.coworking.services.invoices import invoice_credit

    invoice = Invoice.objects.get(operator=network["b"].place.organisation)
    invoice_credit(actor=march, invoice=invoice, reason="Erreur", now=SOLD)
    rows = {r.operator_id: r for r in settlement_clearing(actor=march, month=MARCH).rows}
    assert rows[network["b"].place.organisation_id].collected_cents == 0


def test_an_operators_statement_agrees_with_the_clearing(network, march):
    b = network["b"]
    manager = manager_of(b)
    statement = settlement_statement(actor=manager, operator=b.place.organisation, month=MARCH)
    assert (statement.earned_cents, statement.owed_cents, statement.net_cents) == (
        2_250,
        900,
        1_350,
    )
    clearing = settlement_clearing(actor=march, month=MARCH)
    row = next(r for r in clearing.rows if r.operator_id == b.place.organisation_id)
    assert statement.net_cents == row.net_cents
    counterparts = dict((name, (in_, out)) for name, in_, out in statement.by_counterpart())
    assert counterparts[network["a"].place.organisation.name] == (2_250, 900)
    csv_lines = statement_csv(statement).splitlines()
    assert csv_lines[0].startswith("sens;date;lieu;")
    assert csv_lines[-1] == "solde;;;;;;;;;13,50"


def test_who_may_read_a_statement(network, march):
    a = network["a"]
    operator = a.place.organisation
    assert settlement_statement(actor=manager_of(a), operator=operator, month=MARCH)
    assert settlement_statement(actor=march, operator=operator, month=MARCH)
    with pytest.raises(CoworkingForbidden):
        settlement_statement(actor=manager_of(network["c"]), operator=operator, month=MARCH)
    with pytest.raises(CoworkingForbidden):
        settlement_statement(actor=UserFactory(), operator=operator, month=MARCH)
    with pytest.raises(CoworkingForbidden):
        settlement_statement(actor=None, operator=operator, month=MARCH)
    with pytest.raises(CoworkingForbidden):
        settlement_clearing(actor=manager_of(a), month=MARCH)


def test_funder_statement(network):
    funder = OrganisationFactory(name="Conseil départemental d'essai")
    a = network["a"]
    discovery = OfferFactory(
        tiers_lieu=None,
        operator=a.place.organisation,
        kind=Offer.Kind.DISCOVERY,
        price_cents=1_500,
        half_days=4,
        validity_days=60,
        funder=funder,
    )
    funded = PassFactory(offer=discovery, sold_at=a, valid_from=MARCH, funder=funder)
    PassFactory(offer=network["offer_a"], sold_at=a, valid_from=MARCH)  # not funded
    check_in(a, funded, "2027-03-02")
    check_in(network["b"], funded, "2027-03-03")
    check_in(a, funded, "2027-04-06", half_days=None)
    invoice_for_pass(actor=department_agent(), pass_account=funded, now=SOLD)
    agent_of_funder = MembershipFactory(organisation=funder, role="department_agent").user
    statement = funder_statement(actor=agent_of_funder, funder=funder, month=MARCH)
    assert [(p.pass_id, p.invoiced_cents, p.days_checked_in) for p in statement.passes] == [
        (funded.pk, 1_500, 2)
    ]
    april = funder_statement(actor=agent_of_funder, funder=funder, month=dt.date(2027, 4, 1))
    assert april.days_checked_in == 1
    lines = funder_statement_csv(statement).splitlines()
    assert lines[0] == (
        "pass;offre;vendu_a;valable_du;valable_au;etat;prix;facture_au_financeur;"
        "jours_de_presence_du_mois"
    )
    assert lines[-1] == "total;;;;;;15,00;15,00;2"
    resident = MembershipFactory(organisation=funder, role="resident").user
    for refused in (resident, manager_of(a), UserFactory()):
        with pytest.raises(CoworkingForbidden):
            funder_statement(actor=refused, funder=funder, month=MARCH)
