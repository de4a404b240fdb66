"""Public pages of the territory: a place, a commune and what is near it, the commune search,
the map data (GeoJSON) and the map-and-list section of the home page.

Every read goes through territory.selectors, scoped to request.user: a place that the visitor
may not see answers 404, exactly like a place that does not exist."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import time

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import quote_etag
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe

from cybercantal.core.geo import ROAD_FACTOR
from cybercantal.core.registries import run_search_providers
from cybercantal.core.text import normalize_search

from .models import Commune, OpeningPeriod, Place, PlaceKind
from .selectors import (
    PlaceWithDistance,
    commune_get,
    commune_list,
    commune_search,
    communes_near,
    place_get,
    place_list,
    places_near_commune,
)

RADIUS_CHOICES_KM = (5, 10, 20, 30, 50)
DEFAULT_RADIUS_KM = 20
# "Neighbouring communes": those whose reference point is within this distance.
NEIGHBOUR_RADIUS_KM = 10
MAX_NEIGHBOURS = 16
SEARCH_LIMIT = 20
SUGGESTIONS_LIMIT = 8
HOME_PLACES_PER_PAGE = 30
MAX_KIND_FILTERS = 30
KIND_CODE_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
GEOJSON_CONTENT_TYPE = "application/geo+json"


# --- Forms (GET parameters, validated; a bad value never makes a 500) ------------------------


class CommuneSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Nom de la commune ou code postal"),
        max_length=100,
        required=False,
        error_messages={
            "max_length": gettext_lazy(
                "Votre recherche est trop longue : 100 caractères au plus (vous en avez "
                "saisi %(show_value)d)."
            ),
            "null_characters_not_allowed": gettext_lazy(
                "Votre recherche contient un caractère non autorisé."
            ),
        },
    )


class NearbyForm(forms.Form):
    rayon = forms.TypedChoiceField(
        label=gettext_lazy("Distance"),
        choices=[(str(km), f"{km} km") for km in RADIUS_CHOICES_KM],
        coerce=int,
        required=False,
        empty_value=DEFAULT_RADIUS_KM,
        error_messages={
            "invalid_choice": gettext_lazy(
                "La distance « %(value)s » n'est pas proposée : choisissez 5, 10, 20, 30 ou 50 km."
            )
        },
    )
    type = forms.RegexField(
        label=gettext_lazy("Type de lieu"),
        regex=KIND_CODE_RE,
        required=False,
        error_messages={"invalid": gettext_lazy("Ce type de lieu n'existe pas.")},
    )


# --- Helpers --------------------------------------------------------------------------------


def _kinds_of(places) -> list[PlaceKind]:
    """The distinct kinds of these places (prefetched), in the kinds' own order."""
    kinds: dict[str, PlaceKind] = {}
    for place in places:
        for kind in place.kinds.all():
            kinds.setdefault(kind.code, kind)
    return sorted(kinds.values(), key=lambda k: (k.order, k.label))


def _place_is_demo(place: Place) -> bool:
    return place.is_demo or bool(place.organisation and place.organisation.is_demo)


def _place_feature(place: Place) -> dict:
    kinds = [{"code": k.code, "label": k.label, "color": k.color} for k in place.kinds.all()]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
        "properties": {
            "id": place.pk,
            "name": place.name,
            "url": reverse("territory:place_detail", args=[place.pk]),
            "commune": place.commune.name,
            "kinds": kinds,
            "color": kinds[0]["color"] if kinds else None,
            "is_demo": _place_is_demo(place),
        },
    }


def _commune_feature(commune: Commune, *, highlight: bool = False) -> dict | None:
    if not commune.outline:
        return None
    return {
        "type": "Feature",
        "geometry": commune.outline,
        "properties": {
            "insee_code": commune.insee_code,
            "name": commune.name,
            "url": reverse("territory:commune_detail", args=[commune.insee_code]),
            "highlight": highlight,
        },
    }


def _feature_collection(features) -> dict:
    return {"type": "FeatureCollection", "features": [f for f in features if f]}


def _format_time(value: time) -> str:
    """French style, kept on one line: "9 h", "13 h 30" (non-breaking spaces)."""
    if value.minute:
        text = _("%(hour)d h %(minute)02d") % {"hour": value.hour, "minute": value.minute}
    else:
        text = _("%(hour)d h") % {"hour": value.hour}
    return text.replace(" ", "\u00a0")


@dataclass
class OpeningDay:
    label: str
    periods: list[str] = field(default_factory=list)
    is_today: bool = False


def _opening_week(place: Place) -> list[OpeningDay]:
    """Seven days, Monday first, each with its opening periods in words ("de 9 h à 12 h")."""
    today = timezone.localdate().weekday()
    week = [
        OpeningDay(label=str(day.label).capitalize(), is_today=day.value == today)
        for day in OpeningPeriod.Weekday
    ]
    for period in place.opening_periods.all():
        week[period.weekday].periods.append(
            _("de %(opens)s à %(closes)s")
            % {"opens": _format_time(period.opens), "closes": _format_time(period.closes)}
        )
    return week


@dataclass
class KindGroup:
    kind: PlaceKind
    items: list[PlaceWithDistance]


# --- Pages ----------------------------------------------------------------------------------


@require_safe
def place_detail(request, place_id: int):
    place = place_get(actor=request.user, place_id=place_id)
    if place is None:
        raise Http404(_("Ce lieu n'existe pas ou n'est pas public."))
    has_periods = bool(place.opening_periods.all())
    map_data = _feature_collection([_commune_feature(place.commune), _place_feature(place)])
    return render(
        request,
        "territory/place_detail.html",
        {
            "place": place,
            "kinds": list(place.kinds.all()),
            "opening_week": _opening_week(place) if has_periods else None,
            "map_data": map_data,
            "has_demo_data": _place_is_demo(place),
        },
    )


@require_safe
def commune_detail(request, insee_code: str):
    commune = commune_get(insee_code)
    if commune is None:
        raise Http404(_("Cette commune n'existe pas."))

    form = NearbyForm(request.GET)
    radius_km, kind_code = DEFAULT_RADIUS_KM, ""
    if form.is_valid():
        radius_km = form.cleaned_data["rayon"]
        kind_code = form.cleaned_data["type"] or ""
    else:
        if "rayon" not in form.errors:
            radius_km = form.cleaned_data.get("rayon", DEFAULT_RADIUS_KM)
        if "type" not in form.errors:
            kind_code = form.cleaned_data.get("type") or ""

    nearby = places_near_commune(actor=request.user, commune=commune, radius_km=radius_km)
    kinds = _kinds_of(item.place for item in nearby)
    known_codes = {k.code for k in kinds}
    kind_unknown_here = bool(kind_code) and kind_code not in known_codes
    if kind_code:
        shown = [i for i in nearby if kind_code in {k.code for k in i.place.kinds.all()}]
    else:
        shown = nearby
    groups = [
        KindGroup(kind, [i for i in shown if kind.code in {k.code for k in i.place.kinds.all()}])
        for kind in kinds
        if not kind_code or kind.code == kind_code
    ]

    neighbours = communes_near(commune=commune, radius_km=NEIGHBOUR_RADIUS_KM)[:MAX_NEIGHBOURS]
    map_data = _feature_collection(
        [_commune_feature(commune, highlight=True)] + [_place_feature(i.place) for i in shown]
    )
    return render(
        request,
        "territory/commune_detail.html",
        {
            "commune": commune,
            "form": form,
            "radius_km": radius_km,
            "radius_choices": RADIUS_CHOICES_KM,
            "kind_code": kind_code,
            "kind_unknown_here": kind_unknown_here,
            "kinds": kinds,
            "groups": groups,
            "shown_count": len(shown),
            "total_count": len(nearby),
            "neighbours": neighbours,
            "neighbour_radius_km": NEIGHBOUR_RADIUS_KM,
            "road_factor": ROAD_FACTOR,
            "map_data": map_data,
            "has_demo_data": any(_place_is_demo(i.place) for i in shown),
        },
    )


@require_safe
def search(request):
    form = CommuneSearchForm(request.GET)
    query, communes, other_results, errors = "", [], [], []
    if form.is_valid():
        query = form.cleaned_data["q"]
        if query:
            communes = commune_search(query, limit=SEARCH_LIMIT)
            other_results = run_search_providers(actor=request.user, query=query)
    else:
        errors = form.errors.get("q", [])
        query = (request.GET.get("q") or "")[:100].replace("\x00", "")
    return render(
        request,
        "territory/search.html",
        {
            "search_query": query,
            "search_errors": errors,
            "communes": communes,
            "other_results": other_results,
            "searched": bool(query) and not errors,
            "looks_like_postal_code": query.replace(" ", "").isdigit(),
        },
    )


@require_safe
def search_suggestions(request):
    """Suggestions under the search field while typing (htmx). Short HTML fragment."""
    form = CommuneSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    communes = []
    # Two letters (or two digits of a postal code) before suggesting anything.
    if len(normalize_search(query).replace(" ", "")) >= 2:
        communes = commune_search(query, limit=SUGGESTIONS_LIMIT)
    response = render(
        request,
        "territory/includes/search_suggestions.html",
        {"communes": communes, "search_query": query, "active": bool(query)},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Map data -------------------------------------------------------------------------------


def _communes_etag(request) -> str:
    """Changes whenever a commune is added, removed or updated (load_territory)."""
    stamp = commune_list().aggregate(count=Count("id"), last=Max("updated_at"))
    last = stamp["last"].isoformat() if stamp["last"] else "-"
    return hashlib.sha256(f"communes-v1|{stamp['count']}|{last}".encode()).hexdigest()[:32]


@require_safe
@condition(etag_func=_communes_etag)
@cache_control(public=True, max_age=3600)
def communes_geojson(request):
    """Every commune's outline, as a GeoJSON FeatureCollection. One query for the data; the
    answer carries an ETag (304 when unchanged) and may be cached for an hour."""
    rows = commune_list().values_list("insee_code", "name", "population", "outline")
    features = [
        {
            "type": "Feature",
            "geometry": outline,
            "properties": {
                "insee_code": insee_code,
                "name": name,
                "population": population,
                "url": reverse("territory:commune_detail", args=[insee_code]),
            },
        }
        for insee_code, name, population, outline in rows
    ]
    body = json.dumps(_feature_collection(features), ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, content_type=GEOJSON_CONTENT_TYPE)


@require_safe
def places_geojson(request):
    """The places the visitor may see, as GeoJSON points, optionally of some kinds
    (?type=mediation&type=tiers_lieu). Depends on who asks: private, revalidated each time."""
    codes = request.GET.getlist("type")
    if len(codes) > MAX_KIND_FILTERS or any(not KIND_CODE_RE.match(c) for c in codes):
        return JsonResponse(
            {
                "error": _(
                    "Paramètre « type » invalide : un code de type de lieu (lettres minuscules, "
                    "chiffres, « _ » ou « - »), %(max)d au plus."
                )
                % {"max": MAX_KIND_FILTERS}
            },
            status=400,
        )
    if len(codes) == 1:
        places = place_list(actor=request.user, kind=codes[0])
    else:
        places = place_list(actor=request.user)
        if codes:
            places = places.filter(kinds__code__in=codes)
    body = json.dumps(
        _feature_collection(_place_feature(place) for place in places),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    etag = quote_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        body, content_type=GEOJSON_CONTENT_TYPE
    )
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


# --- The home page's section (registered in core.registries.home_sections) ------------------


def home_map_section(request) -> dict:
    """Context of the home page's map-and-list of places. Filtering by kind works without
    JavaScript (GET form: ?filtre=1&type=...), with htmx it refreshes the list in place."""
    places = list(place_list(actor=request.user))
    kinds = _kinds_of(places)
    submitted = "filtre" in request.GET
    requested = set(request.GET.getlist("type"))
    selected = {k.code for k in kinds if not submitted or k.code in requested}
    shown = [p for p in places if any(k.code in selected for k in p.kinds.all())]
    shown.sort(key=lambda p: (p.commune.search_name, p.name))
    page = Paginator(shown, HOME_PLACES_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "places_page": page,
        "places_count": len(shown),
        "all_count": len(places),
        "kinds": kinds,
        "selected_kinds": selected,
        "filter_submitted": submitted,
        "has_demo_data": any(_place_is_demo(p) for p in places),
        "extra_head_template": "includes/map_head.html",
        "extra_js_template": "includes/map_js.html",
    }
