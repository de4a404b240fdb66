"""The printable invoice (or credit note): an A4 PDF with every mention French law requires.

Printed from the invoice as issued (its seller snapshot, lines, totals and legal mentions),
never from the operator's current data, so that a reprint is identical. Uses the same
bundled DejaVu font as the letters (core.notifications.letters) so that accents and "€"
always print."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from cybercantal.core.notifications.letters import FONT_DIR, FONT_FAMILY, french_date

from ..models import Invoice
from .amounts import format_cents, format_rate

MARGIN_MM = 15
# Designation, quantity, unit price HT, VAT rate, total HT, total TTC (mm; 180 in all).
COLUMNS = (74, 16, 24, 16, 25, 25)


class _InvoicePdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, size=7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, f"{self.footer_text} — {_('page')} {self.page_no()}/{{nb}}", align="C")


def _new_pdf(title: str, author: str, *, compress: bool) -> _InvoicePdf:
    pdf = _InvoicePdf(orientation="P", unit="mm", format="A4")
    pdf.set_compression(compress)
    # The letters' font set-up: the same bundled files, registered under the same family.
    pdf.add_font(FONT_FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT_FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(MARGIN_MM, 15, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_lang("fr")
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator(settings.CYBERCANTAL_BRANDING["platform_name"])
    return pdf


def _party(pdf: FPDF, x: float, y: float, heading: str, lines: list[str]) -> float:
    pdf.set_xy(x, y)
    pdf.set_font(FONT_FAMILY, "B", 9)
    pdf.cell(85, 5, heading, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, size=9)
    for line in lines:
        pdf.set_x(x)
        pdf.multi_cell(85, 4.5, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _row(pdf: FPDF, cells: list[str], *, bold: bool = False, fill: bool = False) -> None:
    pdf.set_font(FONT_FAMILY, "B" if bold else "", 8.5)
    aligns = ("L", "R", "R", "R", "R", "R")
    # The designation may wrap: measure it, then draw every cell at that height.
    lines = pdf.multi_cell(COLUMNS[0], 4.5, cells[0], dry_run=True, output="LINES")
    height = max(1, len(lines)) * 4.5 + 1.5
    if pdf.will_page_break(height):
        pdf.add_page()
    x, y = pdf.get_x(), pdf.get_y()
    for width, text, align in zip(COLUMNS, cells, aligns, strict=True):
        pdf.set_xy(x, y)
        pdf.rect(x, y, width, height, style="DF" if fill else "D")
        pdf.set_xy(x + 1, y + 0.75)
        pdf.multi_cell(width - 2, 4.5, text, align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)
        x += width
    pdf.set_xy(MARGIN_MM, y + height)


def invoice_pdf(invoice: Invoice, *, compress: bool = True) -> bytes:
    """The invoice as PDF bytes: seller and buyer, number, dates, one row per line
    (designation, quantity, unit price HT, VAT rate, totals), totals HT / VAT per rate / TTC,
    payments received and what remains due, and the legal mentions. `compress=False` writes
    plain content streams (for tests and debugging)."""
    is_credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
    title = (_("Avoir n° %(number)s") if is_credit_note else _("Facture n° %(number)s")) % {
        "number": invoice.number
    }
    pdf = _new_pdf(title, invoice.seller_name, compress=compress)
    pdf.footer_text = f"{invoice.seller_name} — {title}"
    pdf.add_page()

    seller = [invoice.seller_name, *invoice.seller_address.splitlines()]
    if invoice.seller_siret:
        seller.append(_("SIRET : %(siret)s") % {"siret": invoice.seller_siret})
    if invoice.seller_vat_number:
        seller.append(_("N° de TVA : %(vat)s") % {"vat": invoice.seller_vat_number})
    buyer = [invoice.buyer_name, *invoice.buyer_address.splitlines()]
    bottom = max(
        _party(pdf, MARGIN_MM, 15, _("Vendeur"), seller),
        _party(pdf, 110, 15, _("Client"), buyer),
    )

    pdf.set_xy(MARGIN_MM, bottom + 8)
    pdf.set_font(FONT_FAMILY, "B", 15)
    pdf.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, size=9)
    pdf.cell(
        0,
        5,
        _("Date d'émission : %(date)s") % {"date": french_date(invoice.issued_on)},
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    if is_credit_note and invoice.corrects is not None:
        pdf.cell(
            0,
            5,
            _("Annule la facture n° %(number)s du %(date)s")
            % {
                "number": invoice.corrects.number,
                "date": french_date(invoice.corrects.issued_on),
            },
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    else:
        pdf.cell(
            0,
            5,
            _("Date d'échéance : %(date)s") % {"date": french_date(invoice.due_on)},
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(5)

    pdf.set_draw_color(120, 120, 120)
    pdf.set_fill_color(230, 230, 230)
    _row(
        pdf,
        [
            _("Désignation"),
            _("Qté"),
            _("P.U. HT"),
            _("TVA"),
            _("Total HT"),
            _("Total TTC"),
        ],
        bold=True,
        fill=True,
    )
    by_rate: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
    for line in invoice.lines.all():
        by_rate[line.vat_rate][0] += line.total_excl_tax_cents
        by_rate[line.vat_rate][1] += line.total_tax_cents
        quantity = format(line.quantity.normalize(), "f").replace(".", ",")
        _row(
            pdf,
            [
                line.label,
                quantity,
                format_cents(line.unit_price_excl_tax_cents),
                f"{format_rate(line.vat_rate)}\u00a0%",
                format_cents(line.total_excl_tax_cents),
                format_cents(line.total_excl_tax_cents + line.total_tax_cents),
            ],
        )

    pdf.ln(4)
    label_width, amount_width = 60, 30
    left = MARGIN_MM + sum(COLUMNS) - label_width - amount_width

    def total_row(label: str, cents: int, *, bold: bool = False) -> None:
        if pdf.will_page_break(5.5):
            pdf.add_page()
        pdf.set_x(left)
        pdf.set_font(FONT_FAMILY, "B" if bold else "", 9.5 if bold else 9)
        pdf.cell(label_width, 5.5, label, align="R")
        pdf.cell(
            amount_width,
            5.5,
            format_cents(cents),
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    total_row(_("Total HT"), invoice.total_excl_tax_cents)
    for rate in sorted(by_rate):
        excl, tax = by_rate[rate]
        total_row(
            _("TVA %(rate)s %% sur %(base)s")
            % {"rate": format_rate(rate), "base": format_cents(excl)},
            tax,
        )
    total_row(_("Total TVA"), invoice.total_tax_cents)
    total_row(_("Total TTC"), invoice.total_incl_tax_cents, bold=True)

    payments = list(invoice.payments.all())
    if payments and not is_credit_note:
        pdf.ln(4)
        pdf.set_font(FONT_FAMILY, "B", 9)
        pdf.cell(0, 5, _("Paiements reçus"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT_FAMILY, size=9)
        for payment in payments:
            text = _("%(date)s — %(method)s — %(amount)s") % {
                "date": payment.received_on.strftime("%d/%m/%Y"),
                "method": payment.get_method_display(),
                "amount": format_cents(payment.amount_cents),
            }
            if payment.reference:
                text += f" ({payment.reference})"
            pdf.cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        paid = sum(p.amount_cents for p in payments)
        total_row(_("Reste dû"), invoice.total_incl_tax_cents - paid, bold=True)

    pdf.ln(6)
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.multi_cell(0, 4, invoice.legal_mentions, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
