"""Printable letters: an A4 PDF whose address shows through a French window envelope.

The sheet is folded in three into a DL envelope (110 × 220 mm) whose window (100 × 45 mm) sits
on the right: the address block therefore starts about 105 mm from the left edge and 47 mm from
the top of the page, as La Poste's recommendations for window envelopes place it.
"""

import datetime
from pathlib import Path

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

# fpdf2 ships no Unicode font and a fresh machine may lack the system's DejaVu: we carry our
# own copy (licence alongside) so that accents and "€" always print.
FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "core" / "fonts"
FONT_FAMILY = "DejaVuSans"

PAGE_MARGIN_MM = 20
ADDRESS_X_MM = 105
ADDRESS_Y_MM = 47
ADDRESS_WIDTH_MM = 85
# Folding an A4 sheet (297 mm) in three for a DL envelope: marks in the left margin.
FOLD_MARKS_MM = (99, 198)


def french_date(day: datetime.date) -> str:
    """ "1er décembre 2026", "28 novembre 2026": the date as a French letter writes it."""
    with translation.override("fr"):
        month_year = formats.date_format(day, "F Y")
    return f"{'1er' if day.day == 1 else day.day} {month_year}"


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ").strip()


class _LetterPdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT_FAMILY, size=8)
        self.set_text_color(90, 90, 90)
        self.cell(
            0,
            5,
            f"{self.footer_text} — {_('page')} {self.page_no()}/{{nb}}",
            align="C",
        )


def letter_render(
    *,
    recipient_name: str,
    postal_address: str,
    subject: str,
    body: str,
    day: datetime.date,
) -> bytes:
    """The letter as PDF bytes: sender (the département and the platform) at the top left,
    recipient in the envelope window, date, subject and body; page numbers in the footer."""
    branding = settings.CYBERCANTAL_BRANDING
    department = branding["department_name"]
    platform = branding["platform_name"]

    pdf = _LetterPdf(orientation="P", unit="mm", format="A4")
    pdf.footer_text = platform
    pdf.add_font(FONT_FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT_FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(PAGE_MARGIN_MM, 15, PAGE_MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.set_lang("fr")
    pdf.set_title(_clean(subject))
    pdf.set_author(department)
    pdf.set_creator(platform)
    pdf.add_page()

    pdf.set_draw_color(160, 160, 160)
    for y in FOLD_MARKS_MM:
        pdf.line(4, y, 9, y)

    # Sender, top left.
    pdf.set_xy(PAGE_MARGIN_MM, 15)
    pdf.set_font(FONT_FAMILY, "B", 13)
    pdf.cell(0, 7, department, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.cell(0, 5, platform, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Recipient, in the envelope window.
    address_lines = [line.strip() for line in _clean(postal_address).split("\n") if line.strip()]
    pdf.set_xy(ADDRESS_X_MM, ADDRESS_Y_MM)
    pdf.set_font(FONT_FAMILY, size=11)
    for line in [_clean(recipient_name), *address_lines]:
        pdf.set_x(ADDRESS_X_MM)
        pdf.multi_cell(ADDRESS_WIDTH_MM, 5.5, line, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)

    # Date, below the window whatever the length of the address.
    pdf.set_xy(ADDRESS_X_MM, max(pdf.get_y() + 10, 100))
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.cell(
        ADDRESS_WIDTH_MM,
        5,
        _("Le %(date)s") % {"date": french_date(day)},
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    pdf.ln(10)
    pdf.set_font(FONT_FAMILY, "B", 11)
    pdf.multi_cell(
        0,
        6,
        _("Objet\u00a0: %(subject)s") % {"subject": _clean(subject)},
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(6)
    pdf.set_font(FONT_FAMILY, size=11)
    pdf.multi_cell(0, 6, _clean(body), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    return bytes(pdf.output())
