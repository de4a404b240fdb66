"""Shapes of the territory API: query filters (validated, French messages) and responses."""

import re
from datetime import time

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

# Two characters for the département (digits, or 2A/2B in Corsica), three for the commune.
INSEE_CODE_RE = re.compile(r"[0-9][0-9AB][0-9]{3}")
SIREN_RE = re.compile(r"[0-9]{9}")
POSTAL_CODE_RE = re.compile(r"[0-9]{2,5}")
KIND_RE = re.compile(r"[-a-zA-Z0-9_]{1,40}")
SEARCH_MAX_LENGTH = 100
RADIUS_MAX_KM = 200


def is_insee_code(value: str) -> bool:
    return bool(INSEE_CODE_RE.fullmatch(value))


def _blank_to_none(value):
    """`?name=` means "no filter", the way HTML forms send an empty field."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _refuse_control_characters(value: str | None) -> str | None:
    # A NUL byte reaches PostgreSQL as an error, not as "no match": refuse it here.
    if value is not None and any(ord(c) < 32 for c in value):
        raise ValueError(_("Caractères de contrôle non autorisés."))
    return value


def _insee_code(value: str | None) -> str | None:
    if value is not None and not is_insee_code(value.upper()):
        raise ValueError(_("Code INSEE attendu : 5 caractères, par exemple 15014."))
    return value.upper() if value is not None else None


class CommuneFilters(Schema):
    name: str | None = Field(
        None,
        description="Fragment du nom, sans tenir compte des accents, de la casse ni des tirets "
        "(« saint flour » trouve Saint-Flour).",
    )
    postal_code: str | None = Field(None, description="Code postal, complet (15000) ou début (15).")
    epci: str | None = Field(None, description="SIREN de l'EPCI (9 chiffres).")

    _blank = field_validator("name", "postal_code", "epci", mode="before")(_blank_to_none)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        value = _refuse_control_characters(value)
        if value is not None and len(value) > SEARCH_MAX_LENGTH:
            raise ValueError(
                _("%(max)d caractères au plus.") % {"max": SEARCH_MAX_LENGTH},
            )
        return value

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str | None) -> str | None:
        if value is not None and not POSTAL_CODE_RE.fullmatch(value):
            raise ValueError(_("Code postal attendu : de 2 à 5 chiffres, par exemple 15000."))
        return value

    @field_validator("epci")
    @classmethod
    def _epci(cls, value: str | None) -> str | None:
        if value is not None and not SIREN_RE.fullmatch(value):
            raise ValueError(_("SIREN attendu : 9 chiffres."))
        return value


class PlaceFilters(Schema):
    kind: str | None = Field(
        None, description="Code d'un type de lieu (voir /place-kinds), par exemple tiers_lieu."
    )
    commune: str | None = Field(None, description="Code INSEE de la commune du lieu.")
    near: str | None = Field(
        None,
        description="Code INSEE d'une commune : lieux autour de son point de référence, du plus "
        "proche au plus lointain. Exige radius_km.",
    )
    radius_km: float | None = Field(
        None,
        gt=0,
        le=RADIUS_MAX_KM,
        allow_inf_nan=False,
        description=f"Rayon en kilomètres à vol d'oiseau (0 < r ≤ {RADIUS_MAX_KM}), avec near.",
    )

    _blank = field_validator("kind", "commune", "near", "radius_km", mode="before")(_blank_to_none)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        if value is not None and not KIND_RE.fullmatch(value):
            raise ValueError(_("Type de lieu inconnu. Consultez /api/v1/place-kinds."))
        return value

    @field_validator("commune", "near")
    @classmethod
    def _commune(cls, value: str | None) -> str | None:
        return _insee_code(_refuse_control_characters(value))


# --- Responses ------------------------------------------------------------------------------


class EpciRef(Schema):
    siren: str
    name: str


class EpciOut(EpciRef):
    commune_count: int = Field(description="Nombre de communes membres.")
    population: int = Field(description="Population municipale cumulée des communes.")


class CommuneOut(Schema):
    insee_code: str
    name: str
    postal_codes: list[str]
    population: int
    epci: EpciRef
    latitude: float
    longitude: float
    area_km2: float | None

    @staticmethod
    def resolve_postal_codes(obj) -> list[str]:
        return obj.postal_code_list


class CommuneDetail(CommuneOut):
    department_code: str
    arrondissement: str
    outline: dict | None = Field(
        description="Contour de la commune : géométrie GeoJSON (WGS84, simplifiée)."
    )


class CommuneRef(Schema):
    insee_code: str
    name: str


class PlaceKindOut(Schema):
    code: str
    label: str


class AddressOut(Schema):
    street: str
    complement: str
    postal_code: str
    commune: CommuneRef


def _address(place) -> dict:
    return {
        "street": place.address,
        "complement": place.address_complement,
        "postal_code": place.postal_code,
        "commune": place.commune,
    }


class PlaceOut(Schema):
    id: int
    name: str
    kinds: list[PlaceKindOut]
    address: AddressOut
    latitude: float
    longitude: float
    is_public: bool
    distance_km: float | None = Field(
        None, description="Distance à vol d'oiseau depuis la commune `near` (km)."
    )
    road_km: float | None = Field(
        None,
        description="Estimation de la distance par la route (km) : distance à vol d'oiseau "
        "multipliée par un coefficient de détour. Sert à classer, ce n'est pas un itinéraire.",
    )

    @staticmethod
    def resolve_kinds(obj) -> list:
        return list(obj.kinds.all())  # prefetched by the selector

    @staticmethod
    def resolve_address(obj) -> dict:
        return _address(obj)

    @staticmethod
    def resolve_distance_km(obj) -> float | None:
        return getattr(obj, "distance_km", None)

    @staticmethod
    def resolve_road_km(obj) -> float | None:
        return getattr(obj, "road_km", None)


class OpeningPeriodOut(Schema):
    weekday: int = Field(description="0 = lundi … 6 = dimanche.")
    day: str
    opens: time
    closes: time

    @staticmethod
    def resolve_day(obj) -> str:
        return str(obj.get_weekday_display())


class OpeningHoursOut(Schema):
    osm: str = Field(description="Horaires au format OpenStreetMap opening_hours.")
    periods: list[OpeningPeriodOut]


class LabelledCode(Schema):
    code: str
    label: str


class AccessibilityOut(LabelledCode):
    details: str


class ConnectivityOut(LabelledCode):
    download_mbps: int | None
    has_public_wifi: bool


class ContactOut(Schema):
    phone: str
    email: str
    website: str


class OrganisationRef(Schema):
    name: str


class PlaceDetail(Schema):
    id: int
    name: str
    description: str
    kinds: list[PlaceKindOut]
    address: AddressOut
    latitude: float
    longitude: float
    is_public: bool
    opening_hours: OpeningHoursOut
    accessibility: AccessibilityOut
    connectivity: ConnectivityOut
    contact: ContactOut
    organisation: OrganisationRef | None

    @staticmethod
    def resolve_kinds(obj) -> list:
        return list(obj.kinds.all())

    @staticmethod
    def resolve_address(obj) -> dict:
        return _address(obj)

    @staticmethod
    def resolve_opening_hours(obj) -> dict:
        return {"osm": obj.opening_hours, "periods": list(obj.opening_periods.all())}

    @staticmethod
    def resolve_accessibility(obj) -> dict:
        return {
            "code": obj.accessibility,
            "label": str(obj.get_accessibility_display()),
            "details": obj.accessibility_details,
        }

    @staticmethod
    def resolve_connectivity(obj) -> dict:
        return {
            "code": obj.connectivity,
            "label": str(obj.get_connectivity_display()),
            "download_mbps": obj.download_mbps,
            "has_public_wifi": obj.has_public_wifi,
        }

    @staticmethod
    def resolve_contact(obj) -> dict:
        return {"phone": obj.phone, "email": obj.email, "website": obj.website}
