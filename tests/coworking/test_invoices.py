"""Operators' invoices: who may issue, gapless numbering, VAT arithmetic, credit notes,
payments, immutability and the printable invoice."""

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.db.models import ProtectedError

from cybercantal.core.models import AuditLog
from cybercantal.coworking.invoicing import amounts as am
from cybercantal.coworking.invoicing.errors import (
    InvoiceError,
    InvoiceForbidden,
    InvoiceImmutable,
)
from cybercantal.coworking.invoicing.pdf import invoice_pdf
from cybercantal.coworking.models import Invoice, InvoiceLine, InvoiceSeries, Payment
from cybercantal.coworking.services import invoices as services
from cybercantal.coworking.services.invoices import LineSpec
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.core.pdf_text import text as pdf_text

from .factories import OfferFactory, PassFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 10, 10, 0, tzinfo=dt.UTC)
DAY = dt.date(2027, 3, 10)
SRC = Path(__file__).resolve().parents[2] / "src" / "cybercantal"


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def operator(place):
    return place.place.organisation


@pytest.fixture
def manager(place):
    return manager_of(place)


def issue(actor, operator, *, lines=None, issued_on=DAY, **kwargs):
    return services.invoice_issue(
        actor=actor,
        operator=operator,
        buyer_name=kwargs.pop("buyer_name", "Camille Martin"),
        lines=lines if lines is not None else [LineSpec("Journée de coworking", 1_000)],
        issued_on=issued_on,
        now=NOW,
        **kwargs,
    )


# --- VAT arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttc", "rate", "ht", "vat"),
    [
        (1_000, "20", 833, 167),  # 10,00 € TTC at 20 % → 8,33 HT + 1,67 VAT
        (1_200, "20", 1_000, 200),
        (1_000, "5.5", 948, 52),  # 947,867… → 948
        (1_000, "2.1", 979, 21),  # 979,431… → 979
        (1_000, "10", 909, 91),
        (1_000, "0", 1_000, 0),
        (1, "20", 1, 0),  # 0,833… → 1
        (3, "20", 3, 0),  # 2,5 → 3 (half up, not half even)
        (0, "20", 0, 0),
    ],
)
def test_line_amounts_round_half_up_and_add_up(ttc, rate, ht, vat):
    amounts = am.line_amounts(
        unit_price_incl_tax_cents=ttc, quantity=Decimal(1), vat_rate=Decimal(rate)
    )
    assert (amounts.excl_tax, amounts.tax, amounts.incl_tax) == (ht, vat, ttc)


def test_half_up_not_bankers_rounding():
    assert am.round_cents(Decimal("2.5")) == 3
    assert am.round_cents(Decimal("-2.5")) == -3
    # 15 TTC at 20 %: HT 12,5 → 13, VAT 2 (half even would give 12 and 3).
    assert am.excl_tax_from_incl_tax(15, Decimal(20)) == 13


def test_three_lines_sum_exactly(operator, manager):
    invoice = issue(
        manager,
        operator,
        lines=[
            LineSpec("Journée", 1_000, "20"),
            LineSpec("Livre", 1_999, "5.5", quantity="3"),
            LineSpec("Demi-journée", 550, "20", quantity="0.5"),
        ],
    )
    lines = list(invoice.lines.all())
    assert [(x.total_excl_tax_cents, x.total_tax_cents) for x in lines] == [
        (833, 167),
        (5_684, 313),  # 59,97 TTC at 5,5 %: 56,843… → 56,84
        (229, 46),  # 0,5 × 5,50 = 2,75 TTC: 2,2916… → 2,29
    ]
    assert invoice.total_excl_tax_cents == 833 + 5_684 + 229
    assert invoice.total_tax_cents == 167 + 313 + 46
    assert invoice.total_incl_tax_cents == 1_000 + 5_997 + 275
    assert invoice.total_incl_tax_cents == invoice.total_excl_tax_cents + invoice.total_tax_cents
    assert lines[1].unit_price_excl_tax_cents == 1_895  # 19,99 / 1,055 = 18,947…
    assert lines[1].quantity == Decimal("3.00")


def test_french_amount_formatting():
    assert am.format_cents(123_456_789) == "1\u202f234\u202f567,89\u00a0€"
    assert am.format_cents(-833, currency=False) == "-8,33"
    assert am.plain_amount(100_005) == "1000,05"
    assert am.format_rate(Decimal("5.50")) == "5,5"


# --- who may invoice ---------------------------------------------------------------------------


def test_a_manager_issues_and_an_audit_row_is_written(operator, manager):
    invoice = issue(manager, operator)
    assert invoice.issued_by == manager
    assert invoice.status == Invoice.Status.ISSUED
    assert AuditLog.objects.filter(
        action="coworking.invoice_issue", target_id=str(invoice.pk), actor=manager
    ).exists()


def test_territory_staff_may_issue(operator):
    staff = UserFactory(roles=["department_agent"])
    assert issue(staff, operator).sequence == 1


@pytest.mark.parametrize("who", ["other_manager", "member", "inactive_manager", "anonymous"])
def test_refusals_write_nothing(operator, who):
    if who == "other_manager":
        actor = manager_of(TiersLieuFactory())
    elif who == "member":
        actor = UserFactory()
        MembershipFactory(user=actor, organisation=operator, role="resident")
    elif who == "inactive_manager":
        actor = UserFactory()
        MembershipFactory(
            user=actor, organisation=operator, role="tiers_lieu_manager", is_active=False
        )
    else:
        actor = None
    with pytest.raises(InvoiceForbidden, match="gestionnaires"):
        issue(actor, operator)
    assert not Invoice.objects.exists()
    assert not InvoiceSeries.objects.filter(operator=operator, last_number__gt=0).exists()


def test_another_operators_manager_cannot_credit_nor_record_payments(operator, manager):
    invoice = issue(manager, operator)
    stranger = manager_of(TiersLieuFactory())
    with pytest.raises(InvoiceForbidden):
        services.invoice_credit(actor=stranger, invoice=invoice, reason="Erreur", now=NOW)
    with pytest.raises(InvoiceForbidden):
        services.payment_record(
            actor=stranger, invoice=invoice, amount_cents=1_000, method="cash", received_on=DAY
        )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    assert not Payment.objects.exists()


# --- numbering ---------------------------------------------------------------------------------


def test_numbers_are_continuous_even_after_a_refused_issue(operator, manager):
    first = issue(manager, operator)
    second = issue(manager, operator)
    with pytest.raises(InvoiceError, match="taux de TVA « 19 » n'existe pas"):
        issue(manager, operator, lines=[LineSpec("Journée", 1_000, "19")])
    third = issue(manager, operator)
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert [first.number, second.number, third.number] == [
        "F-2027-000001",
        "F-2027-000002",
        "F-2027-000003",
    ]
    assert InvoiceSeries.objects.get(operator=operator).last_number == 3


def test_each_operator_has_its_own_series(operator, manager):
    other_place = TiersLieuFactory()
    issue(manager, operator)
    other = issue(manager_of(other_place), other_place.place.organisation)
    assert other.sequence == 1


def test_the_sequence_never_resets_with_the_year(operator, manager):
    issue(manager, operator, issued_on=dt.date(2026, 12, 31))
    january = issue(manager, operator, issued_on=dt.date(2027, 1, 2))
    assert january.number == "F-2027-000002"


def test_numbering_is_chronological(operator, manager):
    issue(manager, operator, issued_on=dt.date(2027, 3, 5))
    with pytest.raises(InvoiceError, match="chronologique"):
        issue(manager, operator, issued_on=dt.date(2027, 3, 4))
    assert issue(manager, operator, issued_on=dt.date(2027, 3, 5)).sequence == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lines": []}, "au moins une ligne"),
        ({"lines": [LineSpec("Journée", 1_000, quantity="-1")]}, "quantité"),
        ({"lines": [LineSpec("Journée", 1_000, quantity="0")]}, "quantité"),
        ({"lines": [LineSpec("Journée", 1_000, quantity="1.005")]}, "deux décimales"),
        ({"lines": [LineSpec("Journée", -5)]}, "prix unitaire"),
        ({"lines": [LineSpec("  ", 1_000)]}, "désignation"),
        ({"lines": [LineSpec("Journée", 1_000, "19.6")]}, "taux de TVA"),
        ({"lines": [LineSpec("Journée", 1_000, "vingt")]}, "taux de TVA"),
        ({"buyer_name": " "}, "nom du client"),
        ({"issued_on": dt.date(2027, 3, 11)}, "jour à venir"),
        ({"due_days": 61}, "60 jours"),
        ({"due_days": -1}, "60 jours"),
    ],
)
def test_bad_input_is_refused_in_french_and_consumes_no_number(operator, manager, kwargs, message):
    with pytest.raises(InvoiceError, match=message):
        issue(manager, operator, **kwargs)
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()
    assert issue(manager, operator).sequence == 1


def test_allowed_vat_rates(operator, manager):
    invoice = issue(
        manager,
        operator,
        lines=[LineSpec(f"Taux {r}", 1_000, r) for r in (0, "2.1", 5.5, Decimal("10.00"), 20)],
    )
    assert [line.vat_rate for line in invoice.lines.all()] == [
        Decimal("0"),
        Decimal("2.1"),
        Decimal("5.5"),
        Decimal("10"),
        Decimal("20"),
    ]


# --- seller snapshot and legal mentions ----------------------------------------------------


def test_seller_is_copied_and_legal_mentions_are_written(operator, manager):
    operator.address = "12 rue de la Gare"
    operator.siret = "73282932000074"
    operator.save()
    funder = OrganisationFactory(name="Communauté de communes")
    invoice = issue(
        manager,
        operator,
        buyer_name=funder.name,
        buyer_organisation=funder,
        buyer_address="1 place de la Mairie\n15000 Aurillac",
    )
    assert invoice.seller_name == operator.name
    assert invoice.seller_address.startswith("12 rue de la Gare")
    assert invoice.seller_siret == "73282932000074"
    assert invoice.seller_vat_number == ""
    assert invoice.due_on == dt.date(2027, 4, 9)
    assert "09/04/2027" in invoice.legal_mentions
    assert "40 €" in invoice.legal_mentions
    assert "trois fois le taux d'intérêt légal" in invoice.legal_mentions
    assert "293 B" not in invoice.legal_mentions  # lines at 20 %: no franchise mention

    # The operator renames itself: the issued invoice keeps the name it was issued under.
    old_name = operator.name
    operator.name = "Nouveau nom"
    operator.save()
    invoice.refresh_from_db()
    assert invoice.seller_name == old_name


def test_a_person_gets_no_recovery_indemnity_mention(operator, manager):
    invoice = issue(manager, operator)
    assert "40 €" not in invoice.legal_mentions
    assert "intérêt légal" in invoice.legal_mentions


def test_franchise_mention_only_when_every_line_is_at_zero(operator, manager):
    zero = issue(manager, operator, lines=[LineSpec("Journée", 1_000, 0)])
    mixed = issue(
        manager, operator, lines=[LineSpec("Journée", 1_000, 0), LineSpec("Café", 200, 10)]
    )
    assert "TVA non applicable, art. 293 B du CGI" in zero.legal_mentions
    assert "293 B" not in mixed.legal_mentions


def test_a_vat_registered_operator_prints_its_number_and_no_franchise(operator, manager):
    operator.vat_number = "FR40303265045"
    operator.full_clean()
    operator.save()
    invoice = issue(manager, operator, lines=[LineSpec("Journée", 1_000, 0)])
    assert invoice.seller_vat_number == "FR40303265045"
    assert "293 B" not in invoice.legal_mentions
    assert "FR40303265045" in pdf_text(invoice_pdf(invoice))


def test_a_wrong_vat_number_is_refused_in_french(operator):
    from django.core.exceptions import ValidationError

    operator.vat_number = "FR00123"
    with pytest.raises(ValidationError, match="TVA intracommunautaire"):
        operator.full_clean()


# --- invoicing a pass --------------------------------------------------------------------------


def test_invoice_for_a_members_pass(place, manager):
    offer = OfferFactory(tiers_lieu=place, label="Carnet 10 journées", vat_rate=20)
    pass_ = PassFactory(offer=offer, price_cents=12_000)
    pass_.member.postal_address = "3 chemin des Prés\n15130 Arpajon-sur-Cère"
    pass_.member.save()
    invoice = services.invoice_for_pass(actor=manager, pass_account=pass_, now=NOW)
    line = invoice.lines.get()
    assert line.pass_sold == pass_
    assert "Carnet 10 journées" in line.label
    assert (invoice.total_excl_tax_cents, invoice.total_tax_cents) == (10_000, 2_000)
    assert invoice.buyer_user == pass_.member
    assert invoice.buyer_organisation is None
    assert invoice.buyer_name == pass_.member.get_full_name()
    assert "Arpajon" in invoice.buyer_address
    assert invoice.issued_on == DAY


def test_invoice_for_a_funded_pass_goes_to_the_funder(place, manager):
    funder = OrganisationFactory(name="Région")
    pass_ = PassFactory(offer__tiers_lieu=place, funder=funder, price_cents=0)
    invoice = services.invoice_for_pass(actor=manager, pass_account=pass_, now=NOW)
    assert invoice.buyer_organisation == funder
    assert invoice.buyer_user is None
    assert invoice.buyer_name == "Région"
    assert "40 €" in invoice.legal_mentions


def test_a_pass_is_invoiced_once_until_credited(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place)
    first = services.invoice_for_pass(actor=manager, pass_account=pass_, now=NOW)
    with pytest.raises(InvoiceError, match=f"déjà facturé \\(facture {first.number}\\)"):
        services.invoice_for_pass(actor=manager, pass_account=pass_, now=NOW)
    services.invoice_credit(actor=manager, invoice=first, reason="Mauvais tarif", now=NOW)
    again = services.invoice_for_pass(actor=manager, pass_account=pass_, now=NOW)
    assert again.sequence == 3


def test_pass_refusals(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place)
    with pytest.raises(InvoiceForbidden):
        services.invoice_for_pass(actor=manager_of(TiersLieuFactory()), pass_account=pass_, now=NOW)
    pass_.status = "cancelled"
    pass_.save()
    with pytest.raises(InvoiceError, match="annulé"):
        services.invoice_for_pass(actor=manager, pass_account=pass_, now=NOW)
    assert not Invoice.objects.exists()


# --- credit notes ------------------------------------------------------------------------------


def test_credit_note_reverses_the_invoice_in_the_same_series(operator, manager):
    invoice = issue(
        manager,
        operator,
        lines=[LineSpec("Journée", 1_000), LineSpec("Repas", 1_450, "10")],
    )
    credit = services.invoice_credit(
        actor=manager, invoice=invoice, reason="Client facturé par erreur", now=NOW
    )
    assert credit.kind == Invoice.Kind.CREDIT_NOTE
    assert credit.corrects == invoice
    assert credit.sequence == 2
    assert credit.number == "F-2027-000002"
    assert credit.total_incl_tax_cents == -invoice.total_incl_tax_cents
    assert credit.total_excl_tax_cents == -invoice.total_excl_tax_cents
    assert credit.total_tax_cents == -invoice.total_tax_cents
    assert [
        (x.label, x.quantity, x.total_excl_tax_cents, x.unit_price_excl_tax_cents)
        for x in credit.lines.all()
    ] == [
        (x.label, x.quantity, -x.total_excl_tax_cents, -x.unit_price_excl_tax_cents)
        for x in invoice.lines.all()
    ]
    assert invoice.number in credit.legal_mentions
    assert "Client facturé par erreur" in credit.legal_mentions
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CREDITED
    assert issue(manager, operator).sequence == 3
    assert AuditLog.objects.filter(action="coworking.invoice_credit").count() == 1


def test_credit_refusals(operator, manager):
    invoice = issue(manager, operator)
    with pytest.raises(InvoiceError, match="motif"):
        services.invoice_credit(actor=manager, invoice=invoice, reason=" ", now=NOW)
    credit = services.invoice_credit(actor=manager, invoice=invoice, reason="Erreur", now=NOW)
    with pytest.raises(InvoiceError, match="déjà annulée"):
        services.invoice_credit(actor=manager, invoice=invoice, reason="Encore", now=NOW)
    with pytest.raises(InvoiceError, match="Un avoir ne s'annule pas"):
        services.invoice_credit(actor=manager, invoice=credit, reason="Erreur", now=NOW)
    with pytest.raises(InvoiceForbidden):
        services.invoice_credit(actor=UserFactory(), invoice=invoice, reason="x", now=NOW)
    assert Invoice.objects.count() == 2
    assert InvoiceSeries.objects.get(operator=operator).last_number == 2


# --- payments ----------------------------------------------------------------------------------


def pay(actor, invoice, amount, method="transfer", **kwargs):
    return services.payment_record(
        actor=actor,
        invoice=invoice,
        amount_cents=amount,
        method=method,
        received_on=kwargs.pop("received_on", DAY),
        now=NOW,
        **kwargs,
    )


def test_payments_make_the_invoice_paid(operator, manager):
    invoice = issue(manager, operator, lines=[LineSpec("Carnet", 10_000)])
    pay(manager, invoice, 4_000, "cash")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    payment = pay(manager, invoice, 6_000, "cheque", reference="Chèque 0012")
    assert payment.recorded_by == manager
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert services.invoice_paid_cents(invoice) == 10_000
    with pytest.raises(InvoiceError, match="déjà payée"):
        pay(manager, invoice, 1)


def test_overpayment_is_refused(operator, manager):
    invoice = issue(manager, operator, lines=[LineSpec("Journée", 1_000)])
    pay(manager, invoice, 600)
    with pytest.raises(InvoiceError, match="dépasse ce qui reste dû") as refused:
        pay(manager, invoice, 401)
    assert "4,00" in refused.value.message
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


@pytest.mark.parametrize(
    ("amount", "method", "received_on", "message"),
    [
        (0, "cash", DAY, "positif"),
        (-100, "cash", DAY, "positif"),
        (100, "bitcoin", DAY, "Moyen de paiement inconnu"),
        (100, "cash", dt.date(2027, 3, 11), "jour à venir"),
    ],
)
def test_bad_payments_are_refused(operator, manager, amount, method, received_on, message):
    invoice = issue(manager, operator)
    with pytest.raises(InvoiceError, match=message):
        pay(manager, invoice, amount, method, received_on=received_on)
    assert not Payment.objects.exists()


def test_no_payment_on_a_credited_invoice_nor_a_credit_note(operator, manager):
    invoice = issue(manager, operator)
    credit = services.invoice_credit(actor=manager, invoice=invoice, reason="Erreur", now=NOW)
    with pytest.raises(InvoiceError, match="annulée par un avoir"):
        pay(manager, invoice, 100)
    with pytest.raises(InvoiceError, match="Un avoir ne se paie pas"):
        pay(manager, credit, 100)
    assert not Payment.objects.exists()


# --- an issued invoice never changes -------------------------------------------------------


def test_saving_changed_amounts_number_or_parties_outside_services_raises(operator, manager):
    invoice = issue(manager, operator)
    for field, value in [
        ("total_excl_tax_cents", 1),
        ("number", "F-2027-999999"),
        ("buyer_name", "Quelqu'un d'autre"),
        ("seller_siret", "00000000000000"),
        ("status", Invoice.Status.PAID),
    ]:
        stale = Invoice.objects.get(pk=invoice.pk)
        setattr(stale, field, value)
        with pytest.raises(InvoiceImmutable):
            stale.save()
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.get(pk=invoice.pk).save()  # even unchanged: only services write


def test_even_the_services_door_refuses_changing_issued_fields(operator, manager):
    from cybercantal.coworking.invoicing.guards import invoicing_writes

    invoice = issue(manager, operator)
    with invoicing_writes():
        invoice.total_tax_cents += 1
        invoice.total_incl_tax_cents += 1
        with pytest.raises(InvoiceImmutable, match="ne peut plus être modifiée"):
            invoice.save()
        fresh = Invoice.objects.get(pk=invoice.pk)
        fresh.status = Invoice.Status.CREDITED
        fresh.save()
        fresh.status = Invoice.Status.ISSUED
        with pytest.raises(InvoiceImmutable, match="ne peut pas passer"):
            fresh.save()


def test_lines_and_payments_cannot_be_added_changed_or_deleted(operator, manager):
    invoice = issue(manager, operator)
    line = invoice.lines.get()
    line.total_excl_tax_cents = 1
    with pytest.raises(InvoiceImmutable):
        line.save()
    with pytest.raises(InvoiceImmutable):
        InvoiceLine.objects.create(
            invoice=invoice,
            label="Ajout",
            quantity=1,
            unit_price_excl_tax_cents=100,
            vat_rate=20,
            total_excl_tax_cents=100,
            total_tax_cents=20,
        )
    with pytest.raises(InvoiceImmutable):
        Payment.objects.create(invoice=invoice, amount_cents=1_000, method="cash", received_on=DAY)
    payment = pay(manager, invoice, 500)
    payment.amount_cents = 1_000
    with pytest.raises(InvoiceImmutable):
        payment.save()
    for row in (payment, line):
        # Model.delete() runs its signals inside an atomic block: a savepoint keeps the test's.
        with pytest.raises(InvoiceImmutable, match="ne se suppriment jamais"), transaction.atomic():
            row.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        invoice.delete()  # its lines protect it before the guard is even asked
    series = InvoiceSeries.objects.get(operator=operator)
    series.last_number = 0
    with pytest.raises(InvoiceImmutable):
        series.save()
    assert InvoiceLine.objects.get().total_excl_tax_cents == 833
    assert Payment.objects.get().amount_cents == 500


WRITE_METHODS = {
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
    "save",
}
GUARDED = {"Invoice", "InvoiceLine", "Payment", "InvoiceSeries"}
ALLOWED_WRITERS = {
    SRC / "coworking" / "services" / "invoices.py",
}


def _invoice_writes(path: Path) -> list[int]:
    """Lines where `Invoice…objects.<write>()` (or a queryset of them) is called."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITE_METHODS:
            continue
        names = {n.id for n in ast.walk(node.func.value) if isinstance(n, ast.Name)}
        if names & GUARDED:
            found.append(node.lineno)
    return found


def test_invoice_services_are_the_only_writers():
    """Static proof, beside the runtime guard: nowhere else in the source does code write
    invoices, their lines, payments or series through the ORM."""
    offenders = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        and path not in ALLOWED_WRITERS
        and (lines := _invoice_writes(path))
    }
    assert offenders == {}
    # The scanner does see the services' writes (it could fail).
    assert _invoice_writes(SRC / "coworking" / "services" / "invoices.py")


# --- the printable invoice ---------------------------------------------------------------------


def flat(text: str) -> str:
    """Spaces of every kind (no-break, narrow no-break) as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_invoice_pdf_has_the_number_parties_lines_totals_and_mentions(operator, manager):
    operator.siret = "73282932000074"
    operator.save()
    invoice = issue(
        manager,
        operator,
        buyer_name="Élodie Chassagne",
        lines=[
            LineSpec("Journée de coworking à Salers", 1_000, quantity=3),
            LineSpec("Café équitable", 150, "5.5", quantity=2),
        ],
    )
    pay(manager, invoice, 1_000, "card")
    pdf = invoice_pdf(invoice)
    assert pdf.startswith(b"%PDF-")
    text = flat(pdf_text(pdf))
    for expected in [
        "Facture n° F-2027-000001",
        operator.name,
        "SIRET : 73282932000074",
        "Élodie Chassagne",
        "Journée de coworking à Salers",
        "Café équitable",
        "10 mars 2027",  # date of issue
        "9 avril 2027",  # due date
        "8,33\u00a0€",  # unit price HT
        "20\u00a0%",
        "5,5\u00a0%",
        "25,00\u00a0€",  # total HT 3 × 10 € at 20 %: 30 → 25 + 5
        "Total TTC",
        "33,00\u00a0€",  # 30 + 2 × 1,50
        "Reste dû",
        "23,00\u00a0€",
        "Pas d'escompte",
    ]:
        assert flat(expected) in text, expected


def test_credit_note_pdf(operator, manager):
    invoice = issue(manager, operator)
    credit = services.invoice_credit(actor=manager, invoice=invoice, reason="Erreur", now=NOW)
    text = flat(pdf_text(invoice_pdf(credit, compress=False)))
    assert "Avoir n° F-2027-000002" in text
    assert "Annule la facture n° F-2027-000001" in text
    assert "-10,00 €" in text


def test_a_long_invoice_runs_over_several_pages(operator, manager):
    from tests.core.pdf_text import page_count

    invoice = issue(
        manager,
        operator,
        lines=[LineSpec(f"Journée n° {i} " + "très " * 30, 1_000) for i in range(60)],
    )
    pdf = invoice_pdf(invoice)
    assert page_count(pdf) >= 2
    assert "Journée n° 59" in pdf_text(pdf)
