"""Reads on the territory, scoped to the actor.

Communes and EPCI are public reference data. Places are public unless `is_public` is False: a
non-public place (a teleconsultation room inside a care home) is visible to the staff of its
operating organisation — members holding a working role there, not the parents, pupils or
residents attached to it — and to the staff who oversee the territory (agents of the
Département, platform administrators). Elected officials read figures, not places."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from cybercantal.core.geo import bounding_box, great_circle_km, road_km
from cybercantal.core.text import normalize_search

from .models import Commune, Epci, Place, PlaceKind

# Role codes (accounts.Role). Kept as strings: territory sits below accounts and does not
# import it; tests/territory/test_selectors.py checks they are real role codes.
ROLES_SEEING_ALL_PLACES = ("department_agent", "platform_admin")
# Members attached to an organisation without working there.
ROLES_NOT_STAFF = ("resident", "parent", "pupil")


@dataclass(frozen=True)
class PlaceWithDistance:
    place: Place
    distance_km: float  # great-circle
    road_km: float  # estimated road distance (core.geo.ROAD_FACTOR)


def epci_list() -> QuerySet[Epci]:
    return Epci.objects.order_by("name")


def epci_list_with_totals() -> QuerySet[Epci]:
    """EPCI with commune_count and population, aggregated by the database in one query."""
    return epci_list().annotate(
        commune_count=Count("communes"),
        population=Coalesce(Sum("communes__population"), 0),
    )


def place_kind_list() -> QuerySet[PlaceKind]:
    return PlaceKind.objects.order_by("order", "label")


def commune_list(
    *, name: str | None = None, postal_code: str | None = None, epci_siren: str | None = None
) -> QuerySet[Commune]:
    """Communes, filtered by a name fragment (accent- and case-insensitive), a postal code
    (exact or prefix) and an EPCI's SIREN. Outlines are deferred: list views do not need them."""
    communes = Commune.objects.select_related("epci").defer("outline")
    if name:
        communes = communes.filter(search_name__contains=normalize_search(name))
    if postal_code:
        communes = communes.filter(postal_codes__contains=" " + postal_code.strip())
    if epci_siren:
        communes = communes.filter(epci__siren=epci_siren)
    return communes.order_by("name")


def commune_search(query: str, *, limit: int = 20) -> list[Commune]:
    """Search by name or postal code, tolerant of accents, case, hyphens and apostrophes.
    Names that start with the query come first ("Aurillac" before "Saint-Simon" for "aur")."""
    query = (query or "").strip()
    if not query:
        return []
    if query.replace(" ", "").isdigit():
        return list(commune_list(postal_code=query.replace(" ", ""))[:limit])
    needle = normalize_search(query)
    if not needle:
        return []
    matches = list(commune_list(name=query)[: limit * 5])
    matches.sort(key=lambda c: (not c.search_name.startswith(needle), c.search_name))
    return matches[:limit]


def commune_get(insee_code: str) -> Commune | None:
    return Commune.objects.select_related("epci").filter(insee_code=insee_code).first()


def _staff_organisation_ids(actor):
    """The organisations where the actor holds an active working role (a subquery)."""
    return (
        actor.memberships.filter(is_active=True)
        .exclude(role__in=ROLES_NOT_STAFF)
        .values("organisation_id")
    )


def place_visibility_filter(actor) -> Q:
    if actor is not None and getattr(actor, "is_authenticated", False):
        if actor.has_role(*ROLES_SEEING_ALL_PLACES):
            return Q()
        staff_of = _staff_organisation_ids(actor)
        return Q(is_public=True) | Q(organisation_id__in=staff_of)
    return Q(is_public=True)


def place_list(
    *, actor, kind: str | None = None, commune: Commune | None = None
) -> QuerySet[Place]:
    """Places the actor may see, optionally of a kind (PlaceKind.code) or in a commune."""
    places = (
        Place.objects.filter(place_visibility_filter(actor))
        .select_related("commune", "organisation")
        .prefetch_related("kinds")
    )
    if kind:
        places = places.filter(kinds__code=kind)
    if commune is not None:
        places = places.filter(commune=commune)
    return places.distinct().order_by("name")


def place_get(*, actor, place_id: int) -> Place | None:
    return place_list(actor=actor).prefetch_related("opening_periods").filter(pk=place_id).first()


def places_near(
    *, actor, latitude: float, longitude: float, radius_km: float, kind: str | None = None
) -> list[PlaceWithDistance]:
    """Places within radius_km (great-circle) of a point, nearest first.

    One query: a bounding box pre-filters in the database (indexed on latitude, longitude),
    then the exact distance is computed in Python on the few rows left."""
    box = bounding_box(latitude, longitude, radius_km)
    candidates = place_list(actor=actor, kind=kind).filter(
        latitude__gte=box.min_lat,
        latitude__lte=box.max_lat,
        longitude__gte=box.min_lon,
        longitude__lte=box.max_lon,
    )
    results = []
    for place in candidates:
        distance = great_circle_km(latitude, longitude, place.latitude, place.longitude)
        if distance <= radius_km:
            results.append(
                PlaceWithDistance(
                    place,
                    round(distance, 1),
                    round(road_km(latitude, longitude, place.latitude, place.longitude), 1),
                )
            )
    results.sort(key=lambda r: (r.distance_km, r.place.name))
    return results


def places_near_commune(
    *, actor, commune: Commune, radius_km: float, kind: str | None = None
) -> list[PlaceWithDistance]:
    """Places within radius_km of a commune's reference point (its coordinates)."""
    return places_near(
        actor=actor,
        latitude=commune.latitude,
        longitude=commune.longitude,
        radius_km=radius_km,
        kind=kind,
    )


def communes_near(*, commune: Commune, radius_km: float) -> list[tuple[Commune, float]]:
    box = bounding_box(commune.latitude, commune.longitude, radius_km)
    candidates = (
        Commune.objects.defer("outline")
        .filter(
            latitude__gte=box.min_lat,
            latitude__lte=box.max_lat,
            longitude__gte=box.min_lon,
            longitude__lte=box.max_lon,
        )
        .exclude(pk=commune.pk)
    )
    results = []
    for other in candidates:
        distance = great_circle_km(
            commune.latitude, commune.longitude, other.latitude, other.longitude
        )
        if distance <= radius_km:
            results.append((other, round(distance, 1)))
    results.sort(key=lambda r: r[1])
    return results
