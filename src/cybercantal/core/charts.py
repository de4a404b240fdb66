"""Bar charts drawn on the server as inline SVG, for every module's figures pages: no
JavaScript, readable when printed, and the same markup for every browser and screen reader.

A chart is an image (role="img") named by its <title> and summed up in its <desc>; every bar
carries its value as visible text, so no meaning rests on colour or length alone. The page
puts the same numbers in a table right after the chart (RGAA 1.3, WCAG 1.1.1 and 1.4.1).

Every piece of text that comes from elsewhere (labels, title, unit) is escaped here, so the
returned markup may be marked safe by the caller — that markup and nothing else."""

from __future__ import annotations

import hashlib
import math

from django.utils.html import escape
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 300
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_SIDE = 28, 44, 12
BAR_COLOUR = "#1d4f91"  # the platform's --primary: 8.6:1 on white
TEXT_COLOUR = "#161616"
AXIS_COLOUR = "#6a6a6a"


def number_text(value: float, places: int = 1) -> str:
    """12 → "12", 12.345 → "12,3", 1234 → "1 234" (French: decimal comma, narrow no-break
    space between thousands)."""
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,.{places}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def _summary(values: list[tuple[str, float]], unit: str) -> str:
    if not values or not any(v for _label, v in values):
        return _("Aucune valeur sur la période.")
    high_label, high = max(values, key=lambda item: item[1])
    low_label, low = min(values, key=lambda item: item[1])
    return _(
        "Valeur la plus haute : %(high)s %(unit)s (%(high_label)s) ; la plus basse : "
        "%(low)s %(unit)s (%(low_label)s)."
    ) % {
        "high": number_text(high),
        "high_label": high_label,
        "low": number_text(low),
        "low_label": low_label,
        "unit": unit,
    }


def bar_chart_svg(
    values: list[tuple[str, float]], *, title: str, unit: str, chart_id: str = ""
) -> str:
    """An SVG bar chart of `values` ((label, value) pairs, in order), in a fixed viewBox that
    scales to its container. Negative or missing values are drawn as zero-height bars with
    their value written. `chart_id` makes the ids of <title> and <desc> unique on the page
    (derived from the title and values when empty)."""
    if not chart_id:
        digest = hashlib.sha1(repr((title, values)).encode(), usedforsecurity=False)
        chart_id = "graphique-" + digest.hexdigest()[:10]
    chart_id = escape(chart_id)
    summary = _summary(values, unit)
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    baseline = MARGIN_TOP + plot_height
    top = max([v for _label, v in values if v and v > 0] or [0])
    scale = plot_height / top if top else 0
    count = max(len(values), 1)
    slot = (WIDTH - 2 * MARGIN_SIDE) / count
    bar_width = slot * 0.7
    parts = [
        f'<svg class="bar-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="100%" preserveAspectRatio="xMidYMid meet" role="img"'
        f' aria-labelledby="{chart_id}-titre {chart_id}-resume" focusable="false">',
        f'<title id="{chart_id}-titre">{escape(title)} ({escape(unit)})</title>',
        f'<desc id="{chart_id}-resume">{escape(summary)}</desc>',
        f'<line x1="{MARGIN_SIDE}" y1="{baseline}" x2="{WIDTH - MARGIN_SIDE}" y2="{baseline}"'
        f' stroke="{AXIS_COLOUR}" stroke-width="1"/>',
    ]
    for index, (label, value) in enumerate(values):
        shown = value if value and value > 0 and math.isfinite(value) else 0
        bar_height = shown * scale
        x = MARGIN_SIDE + index * slot + (slot - bar_width) / 2
        y = baseline - bar_height
        centre = x + bar_width / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{bar_height:.1f}"'
            f' fill="{BAR_COLOUR}"/>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-size="13"'
            f' fill="{TEXT_COLOUR}">{escape(number_text(value or 0))}</text>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{baseline + 20}" text-anchor="middle" font-size="13"'
            f' fill="{TEXT_COLOUR}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
