"""Every write of the operators' invoices: issue, invoice a pass, credit, record a payment.

Guarantees:

- Only a manager of the operator (an active "tiers_lieu_manager" membership in the operator
  organisation) or territory staff (booking.perms.TERRITORY_STAFF_ROLES) may write; the check
  comes first, before anything is read or locked.
- Each service is one transaction; every input is checked before a number is taken, and the
  number is taken last, under the lock of the operator's InvoiceSeries row (SELECT … FOR
  UPDATE): two invoices issued at once get consecutive numbers, and a refused or rolled-back
  issue gives its number back. Numbers are continuous per operator, invoices and credit notes
  alike, and never reset: `sequence` is 1, 2, 3… for ever. The printed number is
  "<prefix>-<year of issue>-<sequence on 6 digits>", e.g. "F-2027-000042": the year only helps
  the reader, the sequence goes on across years, so there is never a gap and never a duplicate.
  Invoices are also chronological: an invoice cannot be dated before the previous one.
- An issued invoice never changes (invoicing/guards.py): a mistake is corrected by a credit
  note (`invoice_credit`), which has its own number in the same series and negative amounts.
- Every write leaves an audit row (core.audit) in the same transaction.

Amounts are integer cents; prices are TTC and split into HT and VAT line by line
(invoicing/amounts.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.perms import TERRITORY_STAFF_ROLES
from cybercantal.core.audit import audit_log
from cybercantal.territory.models import Organisation

from ..invoicing import amounts as am
from ..invoicing.errors import InvoiceError, InvoiceForbidden
from ..invoicing.guards import invoicing_writes
from ..models import Invoice, InvoiceLine, InvoiceSeries, Pass, Payment

MANAGER_ROLE = "tiers_lieu_manager"
MAX_DUE_DAYS = 60  # code de commerce L441-10: at most 60 days after the date of issue
MAX_QUANTITY = Decimal("999999.99")  # InvoiceLine.quantity: 8 digits, 2 decimals
FRANCHISE_MENTION = "TVA non applicable, art. 293 B du CGI"


@dataclass(frozen=True)
class LineSpec:
    """One line to invoice: a designation, a quantity (up to 2 decimals, > 0), a unit price
    all taxes included in cents (≥ 0) and a VAT rate in % (0, 2.1, 5.5, 10 or 20)."""

    label: str
    unit_price_incl_tax_cents: int
    vat_rate: Decimal | int | str = Decimal("20")
    quantity: Decimal | int | str = Decimal("1")
    pass_sold: Pass | None = None


@dataclass(frozen=True)
class _CheckedLine:
    label: str
    quantity: Decimal
    vat_rate: Decimal
    amounts: am.LineAmounts
    pass_sold: Pass | None


# --- permission ------------------------------------------------------------------------------


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _is_invoicing_manager(actor, operator: Organisation) -> bool:
    """A manager of the operator (active membership with the tiers-lieu manager role) or
    territory staff. Kept private here while coworking/perms.py is being written."""
    if not _is_authenticated(actor):
        return False
    if actor.has_role(*TERRITORY_STAFF_ROLES):
        return True
    return actor.memberships.filter(
        organisation_id=operator.pk, role=MANAGER_ROLE, is_active=True
    ).exists()


def _check_manager(actor, operator: Organisation) -> None:
    if not _is_invoicing_manager(actor, operator):
        raise InvoiceForbidden(
            _("Seuls les gestionnaires de « %(operator)s » peuvent établir ses factures.")
            % {"operator": operator.name}
        )


# --- checks ----------------------------------------------------------------------------------


def _today(now: dt.datetime | None) -> dt.date:
    return timezone.localdate(now or timezone.now())


def _check_lines(lines) -> list[_CheckedLine]:
    if not lines:
        raise InvoiceError(_("Une facture doit comporter au moins une ligne."))
    checked = []
    allowed = ", ".join(f"{am.format_rate(r)} %" for r in am.ALLOWED_VAT_RATES)
    for position, spec in enumerate(lines, start=1):
        where = {"n": position}
        label = (spec.label or "").strip()
        if not label:
            raise InvoiceError(_("Ligne %(n)s : la désignation est obligatoire.") % where)
        if len(label) > 300:
            raise InvoiceError(_("Ligne %(n)s : la désignation dépasse 300 caractères.") % where)
        quantity = am.to_decimal(spec.quantity)
        if quantity is None or quantity <= 0:
            raise InvoiceError(_("Ligne %(n)s : la quantité doit être un nombre positif.") % where)
        if quantity != quantity.quantize(Decimal("0.01")) or quantity > MAX_QUANTITY:
            raise InvoiceError(
                _("Ligne %(n)s : la quantité a au plus deux décimales et reste sous un million.")
                % where
            )
        price = spec.unit_price_incl_tax_cents
        if isinstance(price, bool) or not isinstance(price, int) or price < 0:
            raise InvoiceError(
                _("Ligne %(n)s : le prix unitaire TTC doit être un nombre de centimes positif.")
                % where
            )
        rate = am.normalize_vat_rate(spec.vat_rate)
        if rate is None:
            raise InvoiceError(
                _(
                    "Ligne %(n)s : le taux de TVA « %(rate)s » n'existe pas "
                    "(taux permis : %(allowed)s)."
                )
                % {"n": position, "rate": spec.vat_rate, "allowed": allowed}
            )
        checked.append(
            _CheckedLine(
                label=label,
                quantity=quantity.quantize(Decimal("0.01")),
                vat_rate=rate,
                amounts=am.line_amounts(
                    unit_price_incl_tax_cents=price, quantity=quantity, vat_rate=rate
                ),
                pass_sold=spec.pass_sold,
            )
        )
    return checked


def _check_party_text(value: str, *, what: str, max_length: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvoiceError(_("%(what)s est obligatoire.") % {"what": what})
    if len(value) > max_length:
        raise InvoiceError(
            _("%(what)s dépasse %(max)s caractères.") % {"what": what, "max": max_length}
        )
    return value


# --- seller, buyer and legal mentions --------------------------------------------------------


def organisation_postal_address(organisation: Organisation) -> str:
    """The street line and "postcode commune" of an organisation, as printed on an invoice."""
    lines = [organisation.address.strip()] if organisation.address.strip() else []
    commune = organisation.commune
    if commune is not None:
        postcode = (commune.postal_codes or "").replace(",", " ").split()
        lines.append(" ".join([*postcode[:1], commune.name]))
    return "\n".join(lines)


def _seller_vat_number(operator: Organisation) -> str:
    return operator.vat_number.replace(" ", "").upper()


def _legal_mentions(
    *,
    kind: str,
    issued_on: dt.date,
    due_on: dt.date,
    professional_buyer: bool,
    franchise: bool,
    corrects: Invoice | None = None,
    reason: str = "",
) -> str:
    """The mentions a French invoice needs beyond its structured fields (code de commerce
    L441-9 and L441-10, CGI art. 242 nonies A): payment terms, late-payment penalties, the 40 €
    recovery indemnity owed by professional buyers, and the VAT franchise when it applies."""
    mentions = [_("Catégorie de l'opération : prestation de services.")]
    if kind == Invoice.Kind.CREDIT_NOTE and corrects is not None:
        mentions.append(
            _("Avoir annulant la facture n° %(number)s du %(date)s. Motif : %(reason)s.")
            % {
                "number": corrects.number,
                "date": corrects.issued_on.strftime("%d/%m/%Y"),
                "reason": reason,
            }
        )
    else:
        days = (due_on - issued_on).days
        mentions.append(
            _("Date d'échéance : %(due)s, payable à réception.")
            % {"due": due_on.strftime("%d/%m/%Y")}
            if days == 0
            else _("Date d'échéance : %(due)s (%(days)s jours après la date d'émission).")
            % {"due": due_on.strftime("%d/%m/%Y"), "days": days}
        )
        mentions.append(_("Pas d'escompte pour paiement anticipé."))
        if professional_buyer:
            mentions.append(
                _(
                    "En cas de retard de paiement, des pénalités sont exigibles au taux de "
                    "trois fois le taux d'intérêt légal, ainsi qu'une indemnité forfaitaire "
                    "pour frais de recouvrement de 40 € (code de commerce, art. L441-10 et "
                    "D441-5)."
                )
            )
        else:
            mentions.append(
                _(
                    "En cas de retard de paiement, des intérêts sont dus au taux de "
                    "l'intérêt légal (code civil, art. 1231-6)."
                )
            )
    if franchise:
        mentions.append(FRANCHISE_MENTION + ".")
    return "\n".join(mentions)


# --- numbering -------------------------------------------------------------------------------


def _locked_series(operator: Organisation) -> InvoiceSeries:
    """The operator's series, created if needed, locked until the end of the transaction.

    Two first invoices of a new operator may race to create the row: the loser's INSERT
    fails on the unique operator column inside its own savepoint, and it then reads the
    winner's row. The lock (SELECT … FOR UPDATE) then queues every issuer behind the other."""
    if not InvoiceSeries.objects.filter(operator=operator).exists():
        try:
            with transaction.atomic():
                InvoiceSeries.objects.create(operator=operator)
        except IntegrityError:
            pass
    return InvoiceSeries.objects.select_for_update().get(operator=operator)


def _take_number(operator: Organisation, issued_on: dt.date) -> tuple[int, str]:
    series = _locked_series(operator)
    last_date = Invoice.objects.filter(operator=operator).aggregate(last=Max("issued_on"))["last"]
    if last_date is not None and issued_on < last_date:
        raise InvoiceError(
            _(
                "La date d'émission (%(date)s) ne peut pas précéder celle de la dernière "
                "facture de la série (%(last)s) : la numérotation est chronologique."
            )
            % {"date": issued_on.strftime("%d/%m/%Y"), "last": last_date.strftime("%d/%m/%Y")}
        )
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return series.last_number, f"{series.prefix}-{issued_on.year}-{series.last_number:06d}"


# --- services --------------------------------------------------------------------------------


def _create_invoice(
    *,
    actor,
    operator: Organisation,
    kind: str,
    lines: list[_CheckedLine],
    issued_on: dt.date,
    due_on: dt.date,
    buyer_name: str,
    buyer_address: str,
    buyer_user,
    buyer_organisation: Organisation | None,
    corrects: Invoice | None = None,
    reason: str = "",
) -> Invoice:
    """Take the number and write the invoice and its lines (inside the caller's transaction,
    every input already checked)."""
    vat_number = _seller_vat_number(operator)
    franchise = not vat_number and all(line.vat_rate == 0 for line in lines)
    sequence, number = _take_number(operator, issued_on)
    total = am.totals(line.amounts for line in lines)
    invoice = Invoice.objects.create(
        operator=operator,
        sequence=sequence,
        number=number,
        kind=kind,
        status=Invoice.Status.ISSUED,
        issued_on=issued_on,
        due_on=due_on,
        corrects=corrects,
        buyer_user=buyer_user,
        buyer_organisation=buyer_organisation,
        buyer_name=buyer_name,
        buyer_address=buyer_address,
        seller_name=operator.name,
        seller_address=organisation_postal_address(operator),
        seller_siret=operator.siret,
        seller_vat_number=vat_number,
        legal_mentions=_legal_mentions(
            kind=kind,
            issued_on=issued_on,
            due_on=due_on,
            professional_buyer=buyer_organisation is not None,
            franchise=franchise,
            corrects=corrects,
            reason=reason,
        ),
        total_excl_tax_cents=total.excl_tax,
        total_tax_cents=total.tax,
        total_incl_tax_cents=total.incl_tax,
        issued_by=actor if _is_authenticated(actor) else None,
    )
    for line in lines:
        InvoiceLine.objects.create(
            invoice=invoice,
            label=line.label,
            quantity=line.quantity,
            unit_price_excl_tax_cents=line.amounts.unit_price_excl_tax,
            vat_rate=line.vat_rate,
            total_excl_tax_cents=line.amounts.excl_tax,
            total_tax_cents=line.amounts.tax,
            pass_sold=line.pass_sold,
        )
    return invoice


def invoice_issue(
    *,
    actor,
    operator: Organisation,
    buyer_name: str,
    buyer_address: str = "",
    buyer_user=None,
    buyer_organisation: Organisation | None = None,
    lines: list[LineSpec],
    issued_on: dt.date,
    due_days: int = 30,
    now: dt.datetime | None = None,
) -> Invoice:
    """Issue an invoice of `operator` to a buyer (a person, or an organisation — then a
    professional buyer, with the 40 € recovery indemnity mention).

    Refuses (InvoiceForbidden) anyone but a manager of the operator or territory staff, and
    (InvoiceError) an empty list of lines, a non-positive quantity, a negative price, a VAT
    rate other than 0, 2.1, 5.5, 10 or 20 %, a date in the future or before the previous
    invoice, a due date more than 60 days away: nothing is written and no number is used.

    The seller's identity (name, address, SIRET, VAT number) is copied as it is today. The
    mention "TVA non applicable, art. 293 B du CGI" is added only when the operator has no
    VAT number and every line is at 0 %."""
    _check_manager(actor, operator)
    checked = _check_lines(lines)
    buyer_name = _check_party_text(
        buyer_name, what=_("Le nom du client"), max_length=200, required=True
    )
    buyer_address = _check_party_text(
        buyer_address, what=_("L'adresse du client"), max_length=2000, required=False
    )
    if not isinstance(issued_on, dt.date) or isinstance(issued_on, dt.datetime):
        raise InvoiceError(_("La date d'émission doit être une date."))
    if issued_on > _today(now):
        raise InvoiceError(_("Une facture ne peut pas être datée d'un jour à venir."))
    if isinstance(due_days, bool) or not isinstance(due_days, int):
        raise InvoiceError(_("Le délai de paiement est un nombre de jours."))
    if not 0 <= due_days <= MAX_DUE_DAYS:
        raise InvoiceError(
            _("Le délai de paiement va de 0 à %(max)s jours après l'émission.")
            % {"max": MAX_DUE_DAYS}
        )
    for line in checked:
        if line.pass_sold is not None and line.pass_sold.offer.operator_id != operator.pk:
            raise InvoiceError(
                _("Le pass « %(pass)s » n'est pas vendu par « %(operator)s ».")
                % {"pass": line.pass_sold, "operator": operator.name}
            )
    with transaction.atomic(), invoicing_writes():
        invoice = _create_invoice(
            actor=actor,
            operator=operator,
            kind=Invoice.Kind.INVOICE,
            lines=checked,
            issued_on=issued_on,
            due_on=issued_on + dt.timedelta(days=due_days),
            buyer_name=buyer_name,
            buyer_address=buyer_address,
            buyer_user=buyer_user,
            buyer_organisation=buyer_organisation,
        )
        audit_log(
            actor=actor,
            action="coworking.invoice_issue",
            target=invoice,
            data={"number": invoice.number, "total_incl_tax_cents": invoice.total_incl_tax_cents},
        )
    return invoice


def _pass_label(pass_account: Pass) -> str:
    return _("%(offer)s — %(place)s, valable du %(start)s au %(end)s") % {
        "offer": pass_account.offer.label,
        "place": pass_account.sold_at,
        "start": pass_account.valid_from.strftime("%d/%m/%Y"),
        "end": pass_account.valid_until.strftime("%d/%m/%Y"),
    }


def invoice_for_pass(*, actor, pass_account: Pass, now: dt.datetime | None = None) -> Invoice:
    """Invoice a pass, dated today: one line, the pass's offer at the pass's price and the
    offer's VAT rate, linked to the pass. Billed to the funder when the pass has one (a
    professional buyer), else to the member. A pass is invoiced once: again only after its
    invoice was credited. A cancelled pass is not invoiced."""
    operator = pass_account.offer.operator
    _check_manager(actor, operator)
    with transaction.atomic(), invoicing_writes():
        locked = (
            Pass.objects.select_for_update(of=("self",))
            .select_related("offer", "member", "funder", "sold_at__place")
            .get(pk=pass_account.pk)
        )
        if locked.status == Pass.Status.CANCELLED:
            raise InvoiceError(_("Un pass annulé ne se facture pas."))
        already = (
            Invoice.objects.filter(
                lines__pass_sold=locked,
                kind=Invoice.Kind.INVOICE,
            )
            .exclude(status=Invoice.Status.CREDITED)
            .first()
        )
        if already is not None:
            raise InvoiceError(
                _("Ce pass est déjà facturé (facture %(number)s).") % {"number": already.number}
            )
        checked = _check_lines(
            [
                LineSpec(
                    label=_pass_label(locked),
                    unit_price_incl_tax_cents=locked.price_cents,
                    vat_rate=locked.offer.vat_rate,
                    pass_sold=locked,
                )
            ]
        )
        if locked.funder is not None:
            buyer = {
                "buyer_name": locked.funder.name[:200],
                "buyer_address": organisation_postal_address(locked.funder),
                "buyer_user": None,
                "buyer_organisation": locked.funder,
            }
        else:
            member = locked.member
            buyer = {
                "buyer_name": (member.get_full_name() or member.username)[:200],
                "buyer_address": member.postal_address,
                "buyer_user": member,
                "buyer_organisation": None,
            }
        issued_on = _today(now)
        invoice = _create_invoice(
            actor=actor,
            operator=operator,
            kind=Invoice.Kind.INVOICE,
            lines=checked,
            issued_on=issued_on,
            due_on=issued_on + dt.timedelta(days=30),
            **buyer,
        )
        audit_log(
            actor=actor,
            action="coworking.invoice_for_pass",
            target=invoice,
            data={"number": invoice.number, "pass": locked.pk},
        )
    return invoice


def invoice_credit(*, actor, invoice: Invoice, reason: str, now: dt.datetime | None = None):
    """Cancel an invoice by a credit note dated today: same lines and quantities, negative
    amounts, `corrects` the invoice, its own number in the operator's series. The invoice
    becomes CREDITED (a paid one too: the refund is then outside this module). Refuses a
    credit note, an invoice already credited, and an empty reason."""
    _check_manager(actor, invoice.operator)
    reason = _check_party_text(reason, what=_("Le motif de l'avoir"), max_length=300, required=True)
    with transaction.atomic(), invoicing_writes():
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if original.kind == Invoice.Kind.CREDIT_NOTE:
            raise InvoiceError(_("Un avoir ne s'annule pas par un autre avoir."))
        if original.status == Invoice.Status.CREDITED:
            raise InvoiceError(
                _("La facture %(number)s est déjà annulée par un avoir.")
                % {"number": original.number}
            )
        issued_on = _today(now)
        lines = [
            _CheckedLine(
                label=line.label,
                quantity=line.quantity,
                vat_rate=line.vat_rate,
                amounts=am.LineAmounts(
                    unit_price_excl_tax=-line.unit_price_excl_tax_cents,
                    excl_tax=-line.total_excl_tax_cents,
                    tax=-line.total_tax_cents,
                    incl_tax=-(line.total_excl_tax_cents + line.total_tax_cents),
                ),
                pass_sold=line.pass_sold,
            )
            for line in original.lines.select_related("pass_sold")
        ]
        credit_note = _create_invoice(
            actor=actor,
            operator=original.operator,
            kind=Invoice.Kind.CREDIT_NOTE,
            lines=lines,
            issued_on=issued_on,
            due_on=issued_on,
            buyer_name=original.buyer_name,
            buyer_address=original.buyer_address,
            buyer_user=original.buyer_user,
            buyer_organisation=original.buyer_organisation,
            corrects=original,
            reason=reason,
        )
        original.status = Invoice.Status.CREDITED
        original.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="coworking.invoice_credit",
            target=credit_note,
            data={"number": credit_note.number, "corrects": original.number, "reason": reason},
        )
    invoice.status = original.status
    return credit_note


def invoice_paid_cents(invoice: Invoice) -> int:
    """What has been received on an invoice, in cents."""
    return invoice.payments.aggregate(total=Sum("amount_cents"))["total"] or 0


def payment_record(
    *,
    actor,
    invoice: Invoice,
    amount_cents: int,
    method: str,
    received_on: dt.date,
    reference: str = "",
    now: dt.datetime | None = None,
) -> Payment:
    """Record money received for an invoice; the invoice becomes PAID when the payments
    cover its total. Refuses a credit note, a credited or already paid invoice, an amount that
    is not positive or more than what remains due, an unknown method, a date to come."""
    _check_manager(actor, invoice.operator)
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvoiceError(_("Le montant reçu doit être un nombre de centimes positif."))
    if method not in Payment.Method.values:
        raise InvoiceError(_("Moyen de paiement inconnu : %(method)s.") % {"method": method})
    if not isinstance(received_on, dt.date) or isinstance(received_on, dt.datetime):
        raise InvoiceError(_("La date de réception doit être une date."))
    if received_on > _today(now):
        raise InvoiceError(_("Un paiement ne peut pas être reçu un jour à venir."))
    reference = _check_party_text(
        reference, what=_("La référence du paiement"), max_length=100, required=False
    )
    return _payment_write(
        actor=actor,
        invoice=invoice,
        amount_cents=amount_cents,
        method=method,
        received_on=received_on,
        reference=reference,
    )


def payment_record_online(
    *, invoice: Invoice, amount_cents: int, received_on: dt.date, reference: str
) -> Payment:
    """Record a payment received through the online payment provider (method "online"),
    with no person as actor: the provider's verified notification is the authority, so only
    services/online_payments.py calls this, after checking that notification. The same rules
    as `payment_record` apply (no credit note, nothing credited or paid, no overpayment),
    in one transaction with the invoice locked."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvoiceError(_("Le montant reçu doit être un nombre de centimes positif."))
    return _payment_write(
        actor=None,
        invoice=invoice,
        amount_cents=amount_cents,
        method=Payment.Method.ONLINE,
        received_on=received_on,
        reference=(reference or "")[:100],
    )


def _payment_write(
    *,
    actor,
    invoice: Invoice,
    amount_cents: int,
    method: str,
    received_on: dt.date,
    reference: str,
) -> Payment:
    """Lock the invoice, check it can still receive `amount_cents`, write the payment and
    mark the invoice PAID when it is covered (inputs already checked by the caller)."""
    with transaction.atomic(), invoicing_writes():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.kind == Invoice.Kind.CREDIT_NOTE:
            raise InvoiceError(_("Un avoir ne se paie pas."))
        if locked.status == Invoice.Status.CREDITED:
            raise InvoiceError(
                _("La facture %(number)s est annulée par un avoir : elle ne se paie plus.")
                % {"number": locked.number}
            )
        if locked.status == Invoice.Status.PAID:
            raise InvoiceError(
                _("La facture %(number)s est déjà payée.") % {"number": locked.number}
            )
        remaining = locked.total_incl_tax_cents - invoice_paid_cents(locked)
        if amount_cents > remaining:
            raise InvoiceError(
                _(
                    "Le montant (%(amount)s) dépasse ce qui reste dû sur la facture "
                    "%(number)s (%(remaining)s)."
                )
                % {
                    "amount": am.format_cents(amount_cents),
                    "number": locked.number,
                    "remaining": am.format_cents(remaining),
                }
            )
        payment = Payment.objects.create(
            invoice=locked,
            amount_cents=amount_cents,
            method=method,
            received_on=received_on,
            reference=reference,
            recorded_by=actor if _is_authenticated(actor) else None,
        )
        if amount_cents == remaining:
            locked.status = Invoice.Status.PAID
            locked.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="coworking.payment_record",
            target=locked,
            data={"payment": payment.pk, "amount_cents": amount_cents, "method": method},
        )
    invoice.status = locked.status
    return payment
