"""Small presentation helpers shared by every template: `{% load cybercantal_ui %}`."""

import re

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

register = template.Library()

_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


@register.filter
def css_color(value, fallback: str = "#1d4f91") -> str:
    """The value if it is a #rgb or #rrggbb colour, else the fallback. Colours come from
    settings and from the database and end up in style attributes: nothing else gets through."""
    value = str(value or "").strip()
    return value if _HEX_COLOR.match(value) else fallback


def _relative_luminance(color: str) -> float:
    color = color.lstrip("#")
    if len(color) == 3:
        color = "".join(c * 2 for c in color)
    channels = [int(color[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio between two #rrggbb colours (1 to 21)."""
    lighter, darker = sorted(
        (_relative_luminance(first), _relative_luminance(second)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


@register.filter
def contrast_text(background) -> str:
    """White or near-black, whichever reads better on the background. A département may pick
    any brand colour; the text on it stays legible (WCAG AA) whatever it picks."""
    background = css_color(background)
    white, dark = "#ffffff", "#1a1a1a"
    return white if contrast_ratio(background, white) >= contrast_ratio(background, dark) else dark


@register.filter
def km(value) -> str:
    """A distance in kilometres, French style: one decimal under 10 km ("2,5"), whole above."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    if value < 10:
        return number_format(round(value, 1), decimal_pos=1, use_l10n=True)
    return number_format(round(value), decimal_pos=0, use_l10n=True)


@register.filter
def road_km(value) -> str:
    """An estimated road distance, rounded to the kilometre (never "0 km")."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return number_format(max(1, round(value)), decimal_pos=0, use_l10n=True)


@register.filter
def tel_href(value) -> str:
    """A tel: URI from a phone number as people write it ("04 71 46 20 20" -> tel:0471462020)."""
    value = str(value or "")
    digits = re.sub(r"[^0-9+]", "", value)
    return f"tel:{digits}" if digits else ""


@register.filter
def phone(value) -> str:
    """A stored (E.164) number as people read it: "06 39 98 00 01"."""
    from cybercantal.core.notifications.sms import phone_display

    return phone_display(str(value)) if value else ""


_OSM_TOKENS = {
    "Mo": _("lun."),
    "Tu": _("mar."),
    "We": _("mer."),
    "Th": _("jeu."),
    "Fr": _("ven."),
    "Sa": _("sam."),
    "Su": _("dim."),
    "PH": _("jours fériés"),
    "off": _("fermé"),
    "closed": _("fermé"),
}
_OSM_TOKEN_RE = re.compile(r"\b(" + "|".join(_OSM_TOKENS) + r")\b")


@register.filter
def osm_hours(value) -> str:
    """Opening hours written in the OpenStreetMap syntax, with French day names:
    "Mo-Fr 09:00-12:00; Sa off" -> "lun.-ven. 09:00-12:00 ; sam. fermé"."""
    value = str(value or "")
    text = _OSM_TOKEN_RE.sub(lambda m: str(_OSM_TOKENS[m.group(1)]), value)
    return text.replace(";", " ;").replace(",", ", ").replace("  ", " ")


@register.simple_tag
def map_settings() -> dict:
    """What every map needs: tiles URL and attribution (settings), the attribution of the
    commune outlines, and the French labels of the map controls.
    Use as `{% map_settings as map %}`."""
    from django.conf import settings

    branding = getattr(settings, "CYBERCANTAL_BRANDING", {})
    center = branding.get("map_center", (45.05, 2.65))
    return {
        "tiles_url": settings.CYBERCANTAL_MAP_TILES_URL,
        "tiles_attribution": settings.CYBERCANTAL_MAP_TILES_ATTRIBUTION,
        "data_attribution": _("Contours des communes : IGN Admin Express (Licence Ouverte)"),
        "center": f"[{float(center[0])}, {float(center[1])}]",
        "zoom": int(branding.get("map_zoom", 9)),
        "labels": {
            "zoomIn": str(_("Zoomer")),
            "zoomOut": str(_("Dézoomer")),
            "close": str(_("Fermer")),
            "demo": str(_("Démonstration")),
            "seeCommune": str(_("Voir la commune")),
            "tilesError": str(
                _(
                    "Le fond de carte n'a pas pu être chargé : les contours des communes "
                    "restent affichés."
                )
            ),
        },
    }
