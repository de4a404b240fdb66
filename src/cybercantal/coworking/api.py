"""Tiers-lieux endpoints of the API, read-only: the network's places with their amenities, the
free desks of each space of a place on a day, a place's offers.

Mounted by config/api.py with the public authentication (anonymous allowed, token or session
accepted). Reads go through coworking.selectors, scoped to the caller: a place the caller may
not see answers 404 exactly like one that does not exist. A bad parameter answers 422 with a
French message (the API's common error shape)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import field_validator

from cybercantal.booking.schemas import ErrorOut, InvalidOut
from cybercantal.core.api_errors import parameter_error
from cybercantal.territory.api import Pagination

from .models import Offer, TiersLieu
from .selectors.network import offer_list, space_free_days, space_list, tiers_lieu_get
from .selectors.network import tiers_lieu_list as _tiers_lieu_list

router = Router(tags=["Tiers-lieux"])

PUBLIC = {"security": [{}]}
PUBLIC_NOTE = (
    "\n\nAccès libre, sans authentification. Avec un jeton ou une session, la réponse inclut "
    "aussi les lieux non publics des structures de ce compte."
)
# How far ahead (or back) availability may be asked: the booking horizon of a desk is shorter.
MAX_DAYS_AHEAD = 365
MAX_DAYS_BACK = 31


class CommuneOut(Schema):
    insee_code: str
    name: str


class AmenitiesOut(Schema):
    connectivity: str = Field(description="Type de connexion à internet.")
    download_mbps: int | None = Field(description="Débit descendant (Mbit/s), s'il est connu.")
    wifi: bool
    visio_room: bool
    printing: bool
    kitchen: bool
    accessibility: str = Field(description="Accessibilité aux personnes à mobilité réduite.")
    parking: bool
    public_transport: str
    lodging_nearby: str


class TiersLieuOut(Schema):
    id: int
    place_id: int
    # The place's own fields, read through the tiers-lieu (ninja resolves dotted aliases).
    name: str = Field(alias="place.name")
    typology: str
    commune: CommuneOut = Field(alias="place.commune")
    address: str = Field(alias="place.address")
    postal_code: str = Field(alias="place.postal_code")
    latitude: float = Field(alias="place.latitude")
    longitude: float = Field(alias="place.longitude")
    phone: str = Field(alias="place.phone")
    opening_hours: str = Field(
        alias="place.opening_hours", description="Horaires au format OpenStreetMap."
    )
    desk_capacity: int
    amenities: AmenitiesOut
    is_demo: bool = Field(alias="place.is_demo")

    @staticmethod
    def resolve_typology(obj: TiersLieu) -> str:
        return str(obj.get_typology_display())

    @staticmethod
    def resolve_amenities(obj: TiersLieu) -> dict:
        place = obj.place
        return {
            "connectivity": str(place.get_connectivity_display()),
            "download_mbps": place.download_mbps,
            "wifi": place.has_public_wifi,
            "visio_room": obj.has_visio_room,
            "printing": obj.has_printing,
            "kitchen": obj.has_kitchen,
            "accessibility": str(place.get_accessibility_display()),
            "parking": obj.has_parking,
            "public_transport": obj.public_transport,
            "lodging_nearby": obj.lodging_nearby,
        }


class SpaceFreeOut(Schema):
    id: int = Field(description="Identifiant de la ressource (voir /api/v1/resources/{id}).")
    name: str
    kind: str
    capacity: int
    is_open: bool = Field(description="Faux : fermé ce jour-là.")
    free: int | None = Field(
        description="Places libres pendant toutes les heures d'ouverture du jour (aujourd'hui : "
        "ce qu'il en reste). Vide quand c'est fermé."
    )


class AvailabilityOut(Schema):
    tiers_lieu_id: int
    date: dt.date
    spaces: list[SpaceFreeOut]


class AvailabilityQuery(Schema):
    date: str | None = Field(None, description="Le jour (AAAA-MM-JJ) ; par défaut aujourd'hui.")

    @field_validator("date")
    @classmethod
    def _iso_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                _("Date attendue au format AAAA-MM-JJ, par exemple 2027-03-01.")
            ) from None
        return value.strip()


class OfferOut(Schema):
    id: int
    label: str
    kind: str
    kind_label: str
    price_cents: int = Field(description="Prix TTC en centimes.")
    vat_rate: float
    half_days: int = Field(description="Crédit en demi-journées ; 0 : sans limite (abonnement).")
    validity_days: int
    consumed_on: str = Field(description="booking : à la réservation ; check_in : à l'arrivée.")
    is_reduced: bool = Field(description="Tarif réduit, sur justificatif.")
    reduced_for: str
    funder: str | None = Field(description="Offert par ce financeur, le cas échéant.")
    network_wide: bool = Field(description="Valable dans tout le réseau.")

    @staticmethod
    def resolve_kind_label(obj: Offer) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_funder(obj: Offer) -> str | None:
        return obj.funder.name if obj.funder_id else None

    @staticmethod
    def resolve_network_wide(obj: Offer) -> bool:
        return obj.is_network_wide


def _tiers_lieu_or_404(request: HttpRequest, tiers_lieu_id: int) -> TiersLieu:
    tiers_lieu = tiers_lieu_get(actor=request.auth, tiers_lieu_id=tiers_lieu_id)
    if tiers_lieu is None:
        raise HttpError(404, _("Tiers-lieu inconnu : %(id)s.") % {"id": tiers_lieu_id})
    return tiers_lieu


@router.get(
    "/tiers-lieux",
    response=list[TiersLieuOut],
    summary="Tiers-lieux du réseau",
    description="Les tiers-lieux du réseau, avec leurs équipements (connexion et débit, wifi, "
    "salle de visioconférence, impression, cuisine, accessibilité, stationnement, transports, "
    "hébergement à proximité), par commune puis par nom." + PUBLIC_NOTE,
    openapi_extra=PUBLIC,
)
@paginate(Pagination)
def tiers_lieux(request: HttpRequest):
    return _tiers_lieu_list(actor=request.auth)


@router.get(
    "/tiers-lieux/{int:tiers_lieu_id}/disponibilites",
    response={200: AvailabilityOut, 404: ErrorOut, 422: InvalidOut},
    summary="Places libres d'un tiers-lieu un jour donné",
    description="Pour chaque espace du tiers-lieu (espace de bureaux partagés, bureau, salle), "
    "les places libres pendant toutes ses heures d'ouverture du jour `date` (par défaut "
    f"aujourd'hui ; de {MAX_DAYS_BACK} jours avant à {MAX_DAYS_AHEAD} jours après), ou "
    "fermé." + PUBLIC_NOTE,
    openapi_extra=PUBLIC,
)
def tiers_lieu_availability(
    request: HttpRequest, tiers_lieu_id: int, query: Query[AvailabilityQuery]
):
    tiers_lieu = _tiers_lieu_or_404(request, tiers_lieu_id)
    today = timezone.localdate()
    day = dt.date.fromisoformat(query.date) if query.date else today
    if (
        not today - dt.timedelta(days=MAX_DAYS_BACK)
        <= day
        <= today + dt.timedelta(days=MAX_DAYS_AHEAD)
    ):
        raise parameter_error(
            "date",
            _("Choisissez un jour entre %(start)s et %(end)s.")
            % {
                "start": (today - dt.timedelta(days=MAX_DAYS_BACK)).isoformat(),
                "end": (today + dt.timedelta(days=MAX_DAYS_AHEAD)).isoformat(),
            },
        )
    spaces = space_list(actor=request.auth, places=[tiers_lieu.place])
    # The whole day's opening hours, today included (not only what is left of them).
    start_of_day = dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())
    free = space_free_days(spaces, [day], now=start_of_day)
    return {
        "tiers_lieu_id": tiers_lieu.pk,
        "date": day,
        "spaces": [
            {
                "id": space.pk,
                "name": space.name,
                "kind": space.kind,
                "capacity": space.capacity,
                "is_open": free[space.pk, day].is_open,
                "free": free[space.pk, day].free,
            }
            for space in spaces
        ],
    }


@router.get(
    "/tiers-lieux/{int:tiers_lieu_id}/offres",
    response={200: list[OfferOut], 404: ErrorOut},
    summary="Offres d'un tiers-lieu",
    description="Ce qui est en vente dans ce tiers-lieu : ses offres (journée, demi-journée, "
    "carnet, abonnement, tarif réduit sur justificatif) puis les passes valables dans tout le "
    "réseau. Prix TTC en centimes." + PUBLIC_NOTE,
    openapi_extra=PUBLIC,
)
def tiers_lieu_offers(request: HttpRequest, tiers_lieu_id: int):
    return list(offer_list(tiers_lieu=_tiers_lieu_or_404(request, tiers_lieu_id)))
