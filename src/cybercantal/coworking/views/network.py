"""Public pages of the network: the map and list of the tiers-lieux with their free desks
today and tomorrow (optionally near a commune), and a tiers-lieu's page (spaces, offers,
network passes, "Réserver un poste"). Also the words these pages and the member pages share
(amounts, credits, opening hours, free seats) and the module's home-page entries.

Everything works without JavaScript: the map (core's map.js, places embedded with
json_script) is never the only way, the same places are listed as text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_safe

from cybercantal.booking.models import Resource
from cybercantal.core.geo import ROAD_FACTOR
from cybercantal.core.text import normalize_search
from cybercantal.territory.models import Commune, OpeningPeriod, Place
from cybercantal.territory.selectors import commune_get, commune_search

from ..models import Offer, TiersLieu
from ..selectors.network import (
    DESK_KINDS,
    network_with_availability,
    offer_list,
    place_free_days,
    space_free_days,
    space_list,
    tiers_lieu_get,
)
from ..selectors.rooms import offices_rented

RADIUS_CHOICES_KM = (10, 20, 40, 60)
DEFAULT_RADIUS_KM = 20


# --- Words ------------------------------------------------------------------------------------


def nbsp(text: str) -> str:
    return text.replace(" ", "\u00a0")


def price_text(cents: int) -> str:
    """ "15 €", "8,50 €" (kept on one line)."""
    euros, rest = divmod(cents, 100)
    amount = f"{euros}" if not rest else f"{euros},{rest:02d}"
    return nbsp(_("%(amount)s €") % {"amount": amount})


def half_days_text(half_days: int) -> str:
    """Credits in words: "une demi-journée", "1 journée", "3 journées et demie"."""
    days, half = divmod(abs(half_days), 2)
    if days == 0:
        return _("une demi-journée") if half else _("aucune journée")
    text = ngettext("%(count)d journée", "%(count)d journées", days) % {"count": days}
    return _("%(days)s et demie") % {"days": text} if half else text


def time_text(value: dt.time) -> str:
    if value.minute:
        return nbsp(_("%(hour)d h %(minute)02d") % {"hour": value.hour, "minute": value.minute})
    return nbsp(_("%(hour)d h") % {"hour": value.hour})


def day_text(day: dt.date) -> str:
    """ "mardi 2 mars", "lundi 1er mars"."""
    return _("%(weekday)s %(day)s %(month)s") % {
        "weekday": formats.date_format(day, "l"),
        "day": _("1er") if day.day == 1 else str(day.day),
        "month": formats.date_format(day, "F"),
    }


def opening_summary(place: Place, cache: dict | None = None) -> list[str]:
    """The week's opening hours in a few lines, consecutive days with the same hours grouped:
    ["du lundi au vendredi : de 8 h 30 à 18 h 30", "samedi : de 9 h à 12 h 30"]. `cache`
    (one per request) keeps the words of hours already seen: most places share theirs."""
    rows = sorted((p.weekday, p.opens, p.closes) for p in place.opening_periods.all())
    key = tuple(rows)
    if cache is not None and key in cache:
        return cache[key]
    lines = _opening_lines(rows)
    if cache is not None:
        cache[key] = lines
    return lines


def _opening_lines(rows) -> list[str]:
    periods: dict[int, list[str]] = {}
    for weekday, opens, closes in rows:
        periods.setdefault(weekday, []).append(
            _("de %(opens)s à %(closes)s")
            % {"opens": time_text(opens), "closes": time_text(closes)}
        )
    names = {day.value: str(day.label) for day in OpeningPeriod.Weekday}
    lines, weekday = [], 0
    while weekday < 7:
        if weekday not in periods:
            weekday += 1
            continue
        last = weekday
        while last + 1 in periods and periods[last + 1] == periods[weekday]:
            last += 1
        if last == weekday:
            days = names[weekday]
        else:
            days = _("du %(first)s au %(last)s") % {"first": names[weekday], "last": names[last]}
        lines.append(
            _("%(days)s : %(hours)s") % {"days": days, "hours": ", ".join(periods[weekday])}
        )
        weekday = last + 1
    return lines


def free_text(free) -> str:
    """A place's or a space's seats on a day, in words."""
    if free is None:
        return _("pas de poste réservable")
    if not free.is_open:
        return _("fermé")
    if free.is_over:
        return _("déjà fermé")
    if not free.free:
        return _("complet")
    return ngettext(
        "%(free)d poste libre sur %(capacity)d",
        "%(free)d postes libres sur %(capacity)d",
        free.free,
    ) % {"free": free.free, "capacity": free.capacity}


def amenities(tiers_lieu: TiersLieu) -> list[str]:
    """What the place offers, each in a few words (what it lacks is left out)."""
    place = tiers_lieu.place
    items = []
    if place.connectivity != Place.Connectivity.UNKNOWN or place.download_mbps:
        connection = place.get_connectivity_display()
        if place.download_mbps:
            connection = _("%(kind)s, %(speed)s Mbit/s") % {
                "kind": connection,
                "speed": place.download_mbps,
            }
        items.append(_("Connexion : %(connection)s") % {"connection": connection})
    if place.has_public_wifi:
        items.append(_("Wifi"))
    if tiers_lieu.has_visio_room:
        items.append(_("Salle de visioconférence"))
    if tiers_lieu.has_printing:
        items.append(_("Impression"))
    if tiers_lieu.has_kitchen:
        items.append(_("Cuisine"))
    if place.accessibility != Place.Accessibility.UNKNOWN:
        items.append(place.get_accessibility_display())
    if tiers_lieu.has_parking:
        items.append(_("Stationnement"))
    if tiers_lieu.public_transport:
        items.append(_("Transports : %(detail)s") % {"detail": tiers_lieu.public_transport})
    if tiers_lieu.lodging_nearby:
        items.append(_("Hébergement : %(detail)s") % {"detail": tiers_lieu.lodging_nearby})
    return items


def offer_facts(offer: Offer) -> dict:
    """What the offer pages show of an offer: its price and its conditions in words."""
    if offer.kind == Offer.Kind.ROOM_HOUR:
        return {
            "offer": offer,
            "price": _("%(price)s TTC de l'heure") % {"price": price_text(offer.price_cents)},
            "funded_by": "",
            "notes": [_("salle de réunion, à l'heure")],
        }
    notes = []
    if offer.half_days:
        notes.append(_("crédit : %(credit)s") % {"credit": half_days_text(offer.half_days)})
    else:
        notes.append(_("sans limite de journées"))
    notes.append(
        ngettext("valable %(count)d jour", "valable %(count)d jours", offer.validity_days)
        % {"count": offer.validity_days}
    )
    if offer.is_reduced:
        reduced = _("tarif réduit sur justificatif")
        if offer.reduced_for:
            reduced = _("%(reduced)s (%(who)s)") % {"reduced": reduced, "who": offer.reduced_for}
        notes.append(reduced)
    return {
        "offer": offer,
        "price": _("%(price)s TTC") % {"price": price_text(offer.price_cents)},
        "funded_by": offer.funder.name if offer.funder_id else "",
        "notes": notes,
    }


def next_days(count: int, *, today: dt.date | None = None) -> list[dt.date]:
    today = today or timezone.localdate()
    return [today + dt.timedelta(days=n) for n in range(count)]


# --- The network page -------------------------------------------------------------------------


class NearForm(forms.Form):
    commune = forms.CharField(
        label=gettext_lazy("Près de quelle commune ?"),
        max_length=100,
        required=False,
        error_messages={
            "max_length": gettext_lazy("100 caractères au plus."),
            "null_characters_not_allowed": gettext_lazy("Caractère non autorisé."),
        },
    )
    insee = forms.RegexField(
        regex=r"^[0-9][0-9AB][0-9]{3}$",
        required=False,
        error_messages={"invalid": gettext_lazy("Code de commune invalide.")},
    )
    rayon = forms.TypedChoiceField(
        label=gettext_lazy("Jusqu'à quelle distance ?"),
        choices=[(str(km), f"{km} km") for km in RADIUS_CHOICES_KM],
        coerce=int,
        required=False,
        empty_value=DEFAULT_RADIUS_KM,
        error_messages={
            "invalid_choice": gettext_lazy(
                "Cette distance n'est pas proposée : choisissez 10, 20, 40 ou 60 km."
            )
        },
    )


def _resolve_commune(text: str, insee: str) -> tuple[Commune | None, list[Commune]]:
    """The commune meant, or the candidates to choose from (as booking's search does)."""
    if insee and (commune := commune_get(insee)) is not None:
        return commune, []
    if not text:
        return None, []
    matches = commune_search(text, limit=20)
    if len(matches) == 1:
        return matches[0], []
    exact = [c for c in matches if c.search_name == normalize_search(text)]
    return (exact[0], []) if len(exact) == 1 else (None, matches)


@dataclass
class ListedPlace:
    tiers_lieu: TiersLieu
    url: str
    book_url: str
    amenities: list[str]
    hours: list[str]
    days: list[tuple[str, str]]  # (day label, free seats in words)
    distance_km: float | None
    road_km: float | None


def _feature(listed: ListedPlace) -> dict:
    place = listed.tiers_lieu.place
    label = listed.days[0][1] if listed.days else ""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
        "properties": {
            "id": listed.tiers_lieu.pk,
            "name": place.name,
            "url": listed.url,
            "commune": place.commune.name,
            # map.js shows the "kinds" labels in the popup and the marker's name: today's desks.
            "kinds": [
                {"code": "tiers_lieu", "label": _("aujourd'hui : %(free)s") % {"free": label}}
            ]
            if label
            else [],
            "color": None,
            "is_demo": place.is_demo,
        },
    }


@require_safe
def network(request: HttpRequest) -> HttpResponse:
    """The tiers-lieux of the network on a map and as a list, with their free desks today and
    tomorrow; optionally those near a commune."""
    form = NearForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    text = data.get("commune") or ""
    commune, candidates = _resolve_commune(text, data.get("insee") or "")
    radius = data.get("rayon") or DEFAULT_RADIUS_KM
    days = next_days(2)
    entries = network_with_availability(
        actor=request.user, days=days, near=commune, radius_km=radius if commune else None
    )
    day_labels = [_("Aujourd'hui"), _("Demain")]
    hours_cache: dict = {}
    listed = [
        ListedPlace(
            tiers_lieu=e.tiers_lieu,
            url=reverse("coworking:place", args=[e.tiers_lieu.pk]),
            book_url=reverse("coworking:book", args=[e.tiers_lieu.pk]),
            amenities=amenities(e.tiers_lieu),
            hours=opening_summary(e.tiers_lieu.place, hours_cache),
            days=[(day_labels[i], free_text(f)) for i, f in enumerate(e.days or [None, None])],
            distance_km=e.distance_km,
            road_km=e.road_km,
        )
        for e in entries
    ]
    return render(
        request,
        "coworking/network/list.html",
        {
            "form": form,
            "places": listed,
            "map_data": {"type": "FeatureCollection", "features": [_feature(p) for p in listed]},
            "commune": commune,
            "commune_text": commune.name if commune else text,
            "candidates": candidates,
            "searched": bool(text) or commune is not None,
            "radius": radius,
            "radius_choices": RADIUS_CHOICES_KM,
            "road_factor": ROAD_FACTOR,
            "today_label": day_text(days[0]),
            "has_demo_data": any(p.tiers_lieu.place.is_demo for p in listed),
        },
    )


# --- A tiers-lieu's page ----------------------------------------------------------------------


@require_safe
def place(request: HttpRequest, tiers_lieu_id: int) -> HttpResponse:
    tiers_lieu = tiers_lieu_get(actor=request.user, tiers_lieu_id=tiers_lieu_id)
    if tiers_lieu is None:
        raise Http404(_("Ce tiers-lieu n'existe pas ou n'est pas public."))
    days = next_days(2)
    spaces = space_list(actor=request.user, places=[tiers_lieu.place])
    free = space_free_days(spaces, days)
    desks = place_free_days(spaces, free, days).get(tiers_lieu.place_id)
    rented = offices_rented(spaces, days)
    offers = [offer_facts(o) for o in offer_list(tiers_lieu=tiers_lieu)]
    day_labels = [_("Aujourd'hui"), _("Demain")]
    return render(
        request,
        "coworking/network/place.html",
        {
            "tiers_lieu": tiers_lieu,
            "place": tiers_lieu.place,
            "amenities": amenities(tiers_lieu),
            "hours": opening_summary(tiers_lieu.place),
            "desk_days": [
                (day_labels[i], free_text(f)) for i, f in enumerate(desks or [None, None])
            ],
            "spaces": [
                {
                    "resource": space,
                    "days": [
                        (
                            day_labels[i],
                            _("loué") if (space.pk, d) in rented else free_text(free[space.pk, d]),
                        )
                        for i, d in enumerate(days)
                    ],
                    "is_desk": space.kind in DESK_KINDS,
                    "book_url": reverse("coworking:room", args=[tiers_lieu.pk, space.pk])
                    if space.kind == Resource.Kind.ROOM
                    else "",
                }
                for space in spaces
            ],
            "has_desks": any(space.kind in DESK_KINDS for space in spaces),
            "has_rooms": any(space.kind == Resource.Kind.ROOM for space in spaces),
            "place_offers": [o for o in offers if not o["offer"].is_network_wide],
            "network_offers": [o for o in offers if o["offer"].is_network_wide],
            "map_data": {
                "type": "FeatureCollection",
                "features": [
                    _feature(ListedPlace(tiers_lieu, request.path, "", [], [], [], None, None))
                ],
            },
            "has_demo_data": tiers_lieu.place.is_demo,
        },
    )


# --- Home page entries ------------------------------------------------------------------------


def _has_passes(request) -> bool:
    user = request.user
    return user.is_authenticated and user.coworking_passes.exists()


def register_home_entries() -> None:
    """The network's entries of the main menu and the home page (core.registries), registered
    from CoworkingConfig.ready()."""
    from cybercantal.core.registries import DashboardCard, NavLink, dashboard_cards, main_nav_links

    main_nav_links.register(
        NavLink(
            key="coworking.network",
            label=gettext_lazy("Tiers-lieux"),
            url_name="coworking:network",
            order=30,
        )
    )
    dashboard_cards.register(
        DashboardCard(
            key="coworking.network",
            title=gettext_lazy("Travailler dans un tiers-lieu"),
            description=gettext_lazy(
                "Les tiers-lieux du réseau sur une carte, leurs équipements et les postes de "
                "travail libres aujourd'hui et demain."
            ),
            url_name="coworking:network",
            order=30,
        )
    )
    dashboard_cards.register(
        DashboardCard(
            key="coworking.passes",
            title=gettext_lazy("Mes passes"),
            description=gettext_lazy(
                "Vos passes de tiers-lieu, les journées qui vous restent et votre carte d'accès."
            ),
            url_name="coworking:my_passes",
            order=31,
            is_visible=_has_passes,
        )
    )


urlpatterns = [
    path("", network, name="network"),
    path("<int:tiers_lieu_id>/", place, name="place"),
]
