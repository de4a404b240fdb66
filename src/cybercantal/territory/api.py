"""Territory endpoints of the API: communes, EPCI, places and their kinds.

The router knows nothing of authentication: config/api.py mounts it with the public
authentication (anonymous allowed, token or session accepted), and every handler reads the
caller from `request.auth` (the user, or AnonymousUser). Reads go through the selectors, which
scope places to what the caller may see.
"""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from cybercantal.core.api_errors import parameter_error

from .schemas import (
    CommuneDetail,
    CommuneFilters,
    CommuneOut,
    EpciOut,
    PlaceDetail,
    PlaceFilters,
    PlaceKindOut,
    PlaceOut,
    is_insee_code,
)
from .selectors import (
    commune_get,
    commune_list,
    epci_list,
    epci_list_with_totals,
    place_get,
    place_kind_list,
    place_list,
    places_near_commune,
)

router = Router(tags=["Territoire"])

# Anonymous access is allowed: OpenAPI says so with an empty security requirement, added to
# the token and session schemes the router is mounted with.
PUBLIC = {"security": [{}]}
PUBLIC_ACCESS_NOTE = (
    "\n\nAccès libre, sans authentification. Avec un jeton (`Authorization: Bearer …`) ou une "
    "session, la réponse inclut aussi ce que ce compte peut voir en plus (lieux non publics de "
    "ses structures). Un jeton invalide ou révoqué est refusé (401) au lieu d'être ignoré : un "
    "script dont le jeton a expiré doit l'apprendre, pas recevoir en silence des résultats "
    "incomplets."
)


class Pagination(LimitOffsetPagination):
    """limit (1-250, 50 by default) and offset; the response carries the total count."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=250, description="Nombre d'éléments (250 au plus).")
        # Bounded so that the database never receives an offset beyond its integer range.
        offset: int = Field(0, ge=0, le=1_000_000, description="Éléments à sauter.")


def _actor(request: HttpRequest):
    return request.auth  # the user, or AnonymousUser: set by the public authentication


def _existing_commune(field: str, insee_code: str):
    # From the list selector, which defers the outline: a filter needs only the coordinates.
    commune = commune_list().filter(insee_code=insee_code).first()
    if commune is None:
        raise parameter_error(field, _("Commune inconnue : %(code)s.") % {"code": insee_code})
    return commune


@router.get(
    "/communes",
    response=list[CommuneOut],
    summary="Communes",
    description="Communes du territoire, par ordre alphabétique, avec filtres sur le nom, le "
    "code postal et l'EPCI. Un SIREN d'EPCI inconnu est une erreur (422)." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
@paginate(Pagination)
def communes(request: HttpRequest, filters: Query[CommuneFilters]):
    if filters.epci and not epci_list().filter(siren=filters.epci).exists():
        raise parameter_error("epci", _("EPCI inconnu : %(siren)s.") % {"siren": filters.epci})
    return commune_list(name=filters.name, postal_code=filters.postal_code, epci_siren=filters.epci)


@router.get(
    "/communes/{insee_code}",
    response=CommuneDetail,
    summary="Commune",
    description="Une commune, avec son contour (géométrie GeoJSON) et son EPCI."
    + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
def commune_detail(request: HttpRequest, insee_code: str):
    # A malformed code cannot name a commune: answered without a query.
    commune = commune_get(insee_code.upper()) if is_insee_code(insee_code.upper()) else None
    if commune is None:
        raise HttpError(404, _("Commune inconnue : %(code)s.") % {"code": insee_code[:20]})
    return commune


@router.get(
    "/epci",
    response=list[EpciOut],
    summary="EPCI",
    description="Les EPCI (communautés de communes et d'agglomération), avec leur nombre de "
    "communes et leur population." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
@paginate(Pagination)
def epcis(request: HttpRequest):
    return epci_list_with_totals()


@router.get(
    "/place-kinds",
    response=list[PlaceKindOut],
    summary="Types de lieux",
    description="Les codes acceptés par le filtre `kind` de /places." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
def place_kinds(request: HttpRequest):
    return place_kind_list()


@router.get(
    "/places",
    response=list[PlaceOut],
    summary="Lieux",
    description="Lieux (tiers-lieux, points de médiation numérique, France Services…) visibles "
    "par l'appelant : les lieux publics pour tous, et pour un compte les lieux non publics de "
    "ses structures. Filtres : `kind` (type de lieu), `commune` (code INSEE), "
    "`near` + `radius_km` (autour d'une commune, du plus proche au plus lointain, avec "
    "`distance_km` et `road_km`). Un type ou une commune inconnus sont une erreur (422), "
    "comme tout paramètre invalide : le filtre est faux, ce n'est pas une ressource absente."
    + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
@paginate(Pagination)
def places(request: HttpRequest, filters: Query[PlaceFilters]):
    if filters.near and filters.radius_km is None:
        raise parameter_error("radius_km", _("Indiquez un rayon (radius_km) avec near."))
    if filters.radius_km is not None and not filters.near:
        raise parameter_error("near", _("Indiquez la commune de départ (near) avec radius_km."))
    if filters.kind and filters.kind not in (
        codes := list(place_kind_list().values_list("code", flat=True))
    ):
        raise parameter_error(
            "kind",
            _("Type de lieu inconnu : %(kind)s. Types connus : %(codes)s.")
            % {"kind": filters.kind, "codes": ", ".join(codes)},
        )
    commune = _existing_commune("commune", filters.commune) if filters.commune else None
    actor = _actor(request)
    if not filters.near:
        return place_list(actor=actor, kind=filters.kind, commune=commune)
    origin = _existing_commune("near", filters.near)
    results = []
    for found in places_near_commune(
        actor=actor, commune=origin, radius_km=filters.radius_km, kind=filters.kind
    ):
        if commune is not None and found.place.commune_id != commune.pk:
            continue
        found.place.distance_km = found.distance_km
        found.place.road_km = found.road_km
        results.append(found.place)
    return results


@router.get(
    "/places/{int:place_id}",
    response=PlaceDetail,
    summary="Lieu",
    description="Un lieu : types, adresse, coordonnées, horaires (chaîne OpenStreetMap et "
    "plages structurées), accessibilité, connexion, contact, structure gestionnaire. Un lieu "
    "que l'appelant ne peut pas voir répond 404, comme un lieu inexistant." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
def place_detail(request: HttpRequest, place_id: int):
    place = place_get(actor=_actor(request), place_id=place_id)
    if place is None:
        raise HttpError(404, _("Lieu inconnu : %(id)s.") % {"id": place_id})
    return place
