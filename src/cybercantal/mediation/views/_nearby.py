"""The public "near my commune" search shared by the tours' and the workshops' pages."""

from __future__ import annotations

from django.http import HttpRequest

from cybercantal.booking.views._common import _resolve_commune
from cybercantal.core.geo import ROAD_FACTOR

from ..forms_tours import DEFAULT_RADIUS_KM, NearbySearchForm


def nearby_search(request: HttpRequest) -> dict:
    """The page's context: the form, the commune typed or chosen (or the candidates when the
    text names several), the radius, and whether anything was searched."""
    form = NearbySearchForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    text = (data.get("commune") or "").strip()
    commune, candidates = _resolve_commune(text, data.get("insee") or "")
    return {
        "form": form,
        "commune": commune,
        "candidates": candidates,
        "searched": bool(text) or commune is not None,
        "radius": data.get("rayon") or DEFAULT_RADIUS_KM,
        "road_factor": ROAD_FACTOR,
    }
