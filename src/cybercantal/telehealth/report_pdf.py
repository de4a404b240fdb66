"""The wording of the techno-economic report, shared by the dashboard page, the CSV and the
printable yearly report; and that report itself: an A4 landscape PDF per site or for the
network with the key figures, a bar chart of the teleconsultations per month (its numbers are
in the table below it), the monthly table, the sites' table (network), the transport tariffs
used and a short method note. Aggregated only: no patient appears. Same bundled DejaVu font as
the letters, invoices and mandates so that accents and "€" always print."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from fontTools import subset as font_subset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from cybercantal.core.notifications.letters import FONT_DIR, FONT_FAMILY, french_date

from .selectors.economics import INCLUDED_KM, BreakEven, EconomicsReport, MonthFigures
from .services.costs import transport_period_label

MARGIN_MM = 12
PAGE_WIDTH_MM = 297 - 2 * MARGIN_MM


# --- numbers as French readers write them ---------------------------------------------------


def decimal_text(value: Decimal | float | int | None, places: int = 0) -> str:
    """1234.5 → "1 234,5" (places=1); narrow no-break space between thousands."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def euros(value: Decimal | None) -> str:
    """Decimal("1234.5") → "1 234,50 €"."""
    return "—" if value is None else f"{decimal_text(value, 2)}\u00a0€"


def month_label(day: dt.date) -> str:
    return formats.date_format(day, "F Y")


def scope_name(report: EconomicsReport) -> str:
    if report.site is None:
        return _("le réseau de téléconsultation")
    return report.site.place.name


def break_even_sentence(break_even: BreakEven) -> str:
    """The break-even volume in one sentence, with whether it is reached and by how much."""
    if break_even.net_cost <= 0:
        return _("Seuil de rentabilité atteint : les subventions couvrent les coûts de la période.")
    if break_even.volume is None:
        return _(
            "Seuil de rentabilité non calculable : aucun tarif de transport n'est en vigueur "
            "sur la période."
        )
    values = {
        "needed": decimal_text(break_even.volume, 1),
        "actual": decimal_text(break_even.actual_per_month, 1),
        "gap": decimal_text(abs(break_even.gap_per_month), 1),
    }
    if break_even.reached:
        text = _(
            "Seuil de rentabilité atteint : il faut %(needed)s téléconsultations par mois pour "
            "que le transport évité paie le coût net ; %(actual)s réalisées en moyenne, soit "
            "%(gap)s de plus par mois."
        )
    else:
        text = _(
            "Seuil de rentabilité pas encore atteint : il faut %(needed)s téléconsultations par "
            "mois pour que le transport évité paie le coût net ; %(actual)s réalisées en "
            "moyenne, soit %(gap)s de moins par mois."
        )
    text %= values
    if break_even.estimated:
        text += " " + _(
            "(Transport évité par téléconsultation estimé sur un aller-retour en VSL : aucune "
            "téléconsultation réalisée.)"
        )
    return text


def break_even_status(break_even: BreakEven) -> str:
    if break_even.reached is None:
        return _("non calculable")
    return _("atteint") if break_even.reached else _("pas atteint")


def key_figures(report: EconomicsReport) -> list[tuple[str, str]]:
    """(value, what it is) pairs, the same on the page and in the PDF."""
    total = report.total
    balance = total.balance
    return [
        (
            decimal_text(total.consultations),
            _("téléconsultations réalisées (dont %(n)s avec incident)")
            % {"n": decimal_text(total.incidents)},
        ),
        (euros(total.cost_per_act), _("coût net par téléconsultation réalisée")),
        (decimal_text(total.km_avoided), _("kilomètres de trajet évités")),
        (euros(total.transport_avoided), _("de transport évité à l'Assurance Maladie")),
        (decimal_text(total.hours_saved), _("heures de trajet épargnées aux patients")),
        (
            _("Seuil de rentabilité %(status)s") % {"status": break_even_status(report.break_even)},
            (
                _("le transport évité dépasse le coût net de %(gap)s")
                if balance >= 0
                else _("il manque %(gap)s de transport évité pour payer le coût net")
            )
            % {"gap": euros(abs(balance))},
        ),
    ]


def method_note() -> list[str]:
    """The method in a few sentences (the page, the PDF)."""
    return [
        _(
            "Téléconsultations réalisées : statut « réalisée » ou « réalisée avec incident », "
            "comptées dans le mois de leur début prévu."
        ),
        _(
            "Coûts : un achat amorti sur N mois compte pour 1/N chaque mois ; une dépense "
            "ponctuelle sans amortissement, dans son mois ; un coût mensuel, chaque mois de sa "
            "période ; un coût annuel, 1/12 chaque mois. Les subventions se répartissent de même "
            "et viennent en déduction."
        ),
        _(
            "Coûts du réseau (sans site) : partagés à parts égales entre les sites en service "
            "chaque mois (marqués en service et ouverts au plus tard ce mois-là)."
        ),
        _(
            "Coût par acte : coût net (coûts moins subventions) divisé par le nombre de "
            "téléconsultations réalisées. Les recettes des actes vont aux professionnels : "
            "elles sont indiquées, pas déduites."
        ),
        _(
            "Transport évité : chaque téléconsultation réalisée évite un aller-retour jusqu'à "
            "l'hôpital de référence (deux fois la distance du site), au tarif du mode de "
            "transport noté, en vigueur le jour de la téléconsultation : forfait par trajet, "
            "qui comprend les %(km)s premiers kilomètres, plus le prix du kilomètre au-delà ; "
            "véhicule personnel : chaque kilomètre. Heures épargnées : deux fois la durée du "
            "trajet."
        )
        % {"km": decimal_text(INCLUDED_KM)},
        _(
            "Seuil de rentabilité : nombre de téléconsultations par mois dont le transport évité "
            "couvre le coût net mensuel moyen (coût net mensuel ÷ transport évité moyen par "
            "téléconsultation)."
        ),
        _(
            "Les tarifs de transport sont des valeurs de départ issues des tables officielles : "
            "à vérifier, modifiables par l'équipe télémédecine du Département."
        ),
    ]


def month_row(figures: MonthFigures, label: str) -> list[str]:
    """The monthly table's cells (page and PDF)."""
    return [
        label,
        decimal_text(figures.consultations),
        decimal_text(figures.incidents),
        decimal_text(figures.acts_total),
        euros(figures.costs),
        euros(figures.grants),
        euros(figures.net_cost),
        euros(figures.cost_per_act),
        decimal_text(figures.km_avoided),
        euros(figures.transport_avoided),
        decimal_text(figures.hours_saved, 1),
    ]


def month_headers() -> list[str]:
    return [
        _("Mois"),
        _("Téléconsultations réalisées"),
        _("dont avec incident"),
        _("Actes codés"),
        _("Coûts"),
        _("Subventions"),
        _("Coût net"),
        _("Coût par téléconsultation"),
        _("Kilomètres évités"),
        _("Transport évité"),
        _("Heures épargnées"),
    ]


# --- fonts, prepared once per process -----------------------------------------------------------

# Parsing DejaVu (6,000 glyphs) and subsetting it again for every document was half of the
# report's time. A process cuts each face once to what French text prints: Latin letters and
# accents, punctuation (’ « » — • …), "€", a few signs (600 glyphs, parsed and subset in a few
# ms); a report that prints any other character is drawn again with the whole font.
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
_COMMON_RANGES = (
    (0x20, 0x7E),
    (0xA0, 0x17F),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2100, 0x2122),
    (0x2190, 0x2193),
    (0x2200, 0x2265),
)


@functools.cache
def _common_font(filename: str) -> bytes:
    # What fpdf2 keeps when it subsets (glyph names too, which it looks glyphs up by).
    options = font_subset.Options(
        notdef_outline=True,
        recommended_glyphs=True,
        glyph_names=True,
        name_IDs=["*"],
        name_languages=["*"],
        name_legacy=True,
    )
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta"]
    subsetter = font_subset.Subsetter(options)
    subsetter.populate(unicodes=[c for low, high in _COMMON_RANGES for c in range(low, high + 1)])
    data = BytesIO()
    # Lazy, bounds kept, outlines copied as they are: 30 ms rather than 150 per face.
    with ttLib.TTFont(
        FONT_DIR / filename, lazy=True, recalcTimestamp=False, recalcBBoxes=False
    ) as font:
        font.cfg[ttLib.OPTIMIZE_FONT_SPEED] = True
        subsetter.subset(font)
        font.save(data)
    return data.getvalue()


@functools.cache
def _whole_font_characters(filename: str) -> frozenset[int]:
    with ttLib.TTFont(FONT_DIR / filename, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _add_fonts(pdf: FPDF, *, whole: bool) -> None:
    for style, filename in _FONT_FILES.items():
        if whole:
            pdf.add_font(FONT_FAMILY, style, str(FONT_DIR / filename))
            continue
        # add_font() only reads files: the same font object, given the cut face's bytes.
        font = TTFFont(pdf, BytesIO(_common_font(filename)), _fontkey(style), style)
        # Glyphs copied as they are when the PDF embeds its subset: their bounds are those of
        # the font file, and size-optimising the outlines again took longer than the rest.
        font.ttfont.recalcBBoxes = False
        font.ttfont.cfg[ttLib.OPTIMIZE_FONT_SPEED] = True
        pdf.fonts[font.fontkey] = font


def _fontkey(style: str) -> str:
    return f"{FONT_FAMILY.lower()}{style}"  # as add_font() names them


def _lacks_glyphs(pdf: FPDF) -> bool:
    """Whether the cut faces missed a character that the whole font has."""
    for style, filename in _FONT_FILES.items():
        missing = pdf.fonts[_fontkey(style)].missing_glyphs
        if missing and not _whole_font_characters(filename).isdisjoint(missing):
            return True
    return False


# --- the PDF ------------------------------------------------------------------------------------


class _ReportPdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT_FAMILY, size=7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, f"{self.footer_text} — {_('page')} {self.page_no()}/{{nb}}", align="C")


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """The lines of `text` in the current font within `width` mm, cut at spaces (and inside a
    word wider than the line). fpdf2's multi_cell() measures the line again at every
    character: most of the report's time went there."""
    lines = []
    space = pdf.get_string_width(" ")
    for paragraph in text.split("\n"):
        if pdf.get_string_width(paragraph) <= width:  # most of them: one measure
            lines.append(paragraph)
            continue
        line, used = "", 0.0
        for word in paragraph.split(" "):
            size = pdf.get_string_width(word)
            if line and used + space + size <= width:
                line, used = f"{line} {word}", used + space + size
                continue
            if line:
                lines.append(line)
            line, used = word, size
            while used > width and len(line) > 1:  # a long word (an address): cut it
                cut = 1
                while cut < len(line) and pdf.get_string_width(line[: cut + 1]) <= width:
                    cut += 1
                lines.append(line[:cut])
                line = line[cut:]
                used = pdf.get_string_width(line)
        lines.append(line)
    return lines


def _line(pdf: FPDF, text: str, *, bold: bool = False, size: float = 9.5, height=5.0) -> None:
    """A paragraph across the page, left-aligned (ragged right reads more easily)."""
    pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
    for line in _wrap(pdf, text, PAGE_WIDTH_MM - 2 * pdf.c_margin):
        pdf.cell(PAGE_WIDTH_MM, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.ln(3)
    _line(pdf, text, bold=True, size=12, height=7)


def _text(pdf: FPDF, x: float, y: float, width: float, height: float, text: str, align="L"):
    """Text placed in a box as cell() places it (1 mm in from the side, centred vertically),
    without cell()'s machinery per call: a table draws hundreds of them."""
    if align == "L":
        x += pdf.c_margin
    else:
        x += width - pdf.c_margin - pdf.get_string_width(text)
    pdf.text(x, y + 0.5 * height + 0.3 * pdf.font_size, text)


def _header_row(pdf: FPDF, headers: list[str], widths: list[float]) -> None:
    """Headings may wrap: every cell as tall as the tallest."""
    pdf.set_font(FONT_FAMILY, "B", 7)
    pad, line_height = 0.8, 3.6
    wrapped = [
        _wrap(pdf, text, width - 2 * (pad + pdf.c_margin))
        for width, text in zip(widths, headers, strict=True)
    ]
    height = max(map(len, wrapped)) * line_height + 2 * pad
    x, y = MARGIN_MM, pdf.get_y()
    pdf.set_fill_color(230, 230, 230)
    for width, lines in zip(widths, wrapped, strict=True):
        pdf.rect(x, y, width, height, style="DF")
        for number, line in enumerate(lines):
            _text(pdf, x + pad, y + pad + number * line_height, width - 2 * pad, line_height, line)
        x += width
    pdf.set_xy(MARGIN_MM, y + height)


def _table(pdf: FPDF, headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
    """A table of short values: one line per row (fpdf2's wrapping table measures every word
    of every cell, ten times slower for a yearly report); headings repeated on a new page.
    The first column is left-aligned, the figures right-aligned."""
    pdf.set_draw_color(150, 150, 150)
    _header_row(pdf, headers, widths)
    height = 4.8
    for index, cells in enumerate(rows):
        if pdf.will_page_break(height):
            pdf.add_page()
            _header_row(pdf, headers, widths)
        last = index == len(rows) - 1 and cells[0] == _("Total")
        pdf.set_font(FONT_FAMILY, "B" if last else "", 7.5)
        x, y = MARGIN_MM, pdf.get_y()
        for column, (width, text) in enumerate(zip(widths, cells, strict=True)):
            pdf.rect(x, y, width, height)
            _text(pdf, x, y, width, height, text, "L" if column == 0 else "R")
            x += width
        pdf.set_xy(MARGIN_MM, y + height)


def _bar_chart(pdf: FPDF, labels: list[str], values: list[int], title: str) -> None:
    """Bars with their value written above them: the numbers do not rest on length alone."""
    height, bottom_gap = 40.0, 6.0
    if pdf.will_page_break(height + bottom_gap + 12):
        pdf.add_page()
    _line(pdf, title, bold=True, size=9.5)
    top = pdf.get_y() + 5
    base = top + height
    slot = PAGE_WIDTH_MM / max(len(values), 1)
    highest = max([*values, 1])
    pdf.set_draw_color(110, 110, 110)
    pdf.line(MARGIN_MM, base, MARGIN_MM + PAGE_WIDTH_MM, base)
    pdf.set_fill_color(29, 79, 145)
    pdf.set_font(FONT_FAMILY, "", 7)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = height * value / highest
        x = MARGIN_MM + i * slot + slot * 0.15
        if bar:
            pdf.rect(x, base - bar, slot * 0.7, bar, style="F")
        pdf.set_xy(MARGIN_MM + i * slot, base - bar - 4)
        pdf.cell(slot, 4, decimal_text(value), align="C")
        pdf.set_xy(MARGIN_MM + i * slot, base + 1)
        pdf.cell(slot, 4, label, align="C")
    pdf.set_xy(MARGIN_MM, base + bottom_gap)


def economics_report_pdf(
    report: EconomicsReport, *, generated_on: dt.date, compress: bool = True
) -> bytes:
    """The yearly report as PDF bytes. `compress=False` writes plain content streams (tests)."""
    pdf = _report(report, generated_on, compress, whole_font=False)
    data = bytes(pdf.output())  # draws the last footer too: its characters count
    if _lacks_glyphs(pdf):
        data = bytes(_report(report, generated_on, compress, whole_font=True).output())
    return data


def _report(
    report: EconomicsReport, generated_on: dt.date, compress: bool, *, whole_font: bool
) -> FPDF:
    """The report drawn, not yet written out."""
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    name = scope_name(report)
    title = _("Modèle technico-économique %(year)s — %(name)s") % {
        "year": report.year,
        "name": name,
    }
    pdf = _ReportPdf(orientation="L", unit="mm", format="A4")
    pdf.set_compression(compress)
    _add_fonts(pdf, whole=whole_font)
    pdf.set_margins(MARGIN_MM, 12, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_lang("fr")
    pdf.set_title(title)
    pdf.set_author(platform)
    pdf.set_creator(platform)
    pdf.footer_text = title
    pdf.add_page()

    _line(pdf, _("Téléconsultation : modèle technico-économique"), bold=True, size=15, height=8)
    _line(pdf, f"{name} — {report.year}", bold=True, size=12, height=7)
    period = (
        _("Du 1er janvier au %(end)s (année en cours).") % {"end": french_date(report.last_day)}
        if report.is_partial
        else _("Année complète.")
    )
    _line(
        pdf,
        period + " " + _("Établi le %(day)s.") % {"day": french_date(generated_on)},
        size=8.5,
    )

    _heading(pdf, _("L'essentiel"))
    *figures, (status, gap) = key_figures(report)
    for value, label in figures:
        _line(pdf, f"• {value} {label}")
    _line(pdf, f"• {status} : {gap}")  # the break-even comes last, as words
    _line(pdf, break_even_sentence(report.break_even), size=8.5)
    if report.total.unpriced:
        _line(
            pdf,
            _(
                "%(n)s téléconsultation(s) sans tarif de transport en vigueur : comptées dans les "
                "kilomètres, pas dans les euros."
            )
            % {"n": report.total.unpriced},
            size=8.5,
        )

    labels = [formats.date_format(m.month, "M") for m in report.months]
    _heading(pdf, _("Mois par mois"))
    _bar_chart(
        pdf,
        labels,
        [m.consultations for m in report.months],
        _("Téléconsultations réalisées par mois (valeurs dans le tableau ci-dessous)"),
    )
    widths = [24, 30, 18, 15, 26, 26, 26, 29, 22, 27, 20]
    rows = [month_row(m, month_label(m.month)) for m in report.months]
    rows.append(month_row(report.total, _("Total")))
    _table(pdf, month_headers(), rows, widths)

    if report.total.acts or report.total.revenue:
        _heading(pdf, _("Actes codés et recettes des professionnels"))
        codes, roles = report.act_codes, report.roles
        headers = [
            _("Mois"),
            *codes,
            *[_("Recettes : %(r)s") % {"r": label} for _c, label in roles],
        ]
        acts_rows = [
            [
                month_label(m.month),
                *[decimal_text(m.acts.get(code, 0)) for code in codes],
                *[euros(m.revenue.get(role)) if role in m.revenue else "—" for role, _l in roles],
            ]
            for m in [*report.months, report.total]
        ]
        acts_rows[-1][0] = _("Total")
        first = 28
        rest = (PAGE_WIDTH_MM - first) / max(len(headers) - 1, 1)
        _table(pdf, headers, acts_rows, [first] + [min(rest, 30)] * (len(headers) - 1))

    if report.site is None and report.sites:
        _heading(pdf, _("Site par site"))
        headers = [
            _("Site"),
            _("Téléconsultations"),
            _("Coût net"),
            _("Coût par téléconsultation"),
            _("Kilomètres évités"),
            _("Transport évité"),
            _("Seuil (par mois)"),
            _("Seuil"),
        ]
        site_rows = [
            [
                row.name,
                decimal_text(row.total.consultations),
                euros(row.total.net_cost),
                euros(row.total.cost_per_act),
                decimal_text(row.total.km_avoided),
                euros(row.total.transport_avoided),
                decimal_text(row.break_even.volume_needed),
                break_even_status(row.break_even),
            ]
            for row in report.sites
        ]
        _table(pdf, headers, site_rows, [70, 30, 30, 30, 25, 30, 26, 22])

    _heading(pdf, _("Tarifs de transport utilisés"))
    # Paragraphs rather than a table: the sources are long and a wrapping table is slow.
    for tariff in report.tariffs:
        _line(
            pdf,
            _("• %(mode)s : %(flat)s par trajet, %(km)s le kilomètre, %(period)s.")
            % {
                "mode": tariff.get_mode_display(),
                "flat": euros(tariff.flat_fee),
                "km": f"{decimal_text(tariff.per_km, 3)}\u00a0€",
                "period": transport_period_label(tariff),
            },
            size=8.5,
        )
        if tariff.source:
            _line(pdf, _("Source : %(source)s") % {"source": tariff.source}, size=7.5, height=4)
    if not report.tariffs:
        _line(pdf, _("Aucun tarif de transport en vigueur sur la période."))

    _heading(pdf, _("Méthode"))
    for sentence in method_note():
        _line(pdf, f"• {sentence}", size=8, height=4.2)
    _line(
        pdf,
        _("Chiffres agrégés : aucun patient n'apparaît dans ce rapport."),
        size=8,
        height=4.2,
    )
    return pdf
