"""Shapes of the booking API: query filters and request bodies (validated, French messages) and
responses.

Dates and times are ISO 8601. One with an offset (`2027-03-01T09:00:00+01:00`, or `Z`) is taken
as it is; one without (`2027-03-01T09:00`, `2027-03-01`) is read in the territory's time zone
(Europe/Paris). Answers give local times with their offset."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

from cybercantal.territory.schemas import CommuneRef, is_insee_code

from .models import Resource

# The widest window a single availability or search request may cover.
MAX_WINDOW_DAYS = 62
# Beyond these years no booking makes sense, and date arithmetic near the limits of Python's
# datetime would overflow.
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_DURATION_MINUTES = 24 * 60
MAX_RESOURCES_PER_BOOKING = 5
MAX_PARTICIPANTS = 500
SEARCH_RADIUS_MAX_KM = 200
SEARCH_LIMIT_MAX = 50
SERVICE_CODE_RE = re.compile(r"[-a-zA-Z0-9_]{1,60}")
# "2027-03-01T09:00:00 01:00": the "+" of the offset, sent unencoded in a query string, arrives
# as a space. Put back, since the intent is plain.
UNENCODED_PLUS_RE = re.compile(
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)"
)
DATETIME_HELP = (
    "Date et heure ISO 8601, avec décalage horaire (2027-03-01T09:00:00+01:00) ou sans "
    "(heure de Paris)."
)


def parse_datetime(value):
    """An aware datetime from an ISO 8601 string; naive values are local (Europe/Paris)."""
    if value is None or isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if match := UNENCODED_PLUS_RE.fullmatch(text):
            text = f"{match[1]}+{match[2]}"
        if not text or len(text) > 40 or any(ord(c) < 32 for c in text):
            raise ValueError(_date_format_message())
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(_date_format_message()) from None
    else:
        # Numbers (Unix timestamps), lists, objects: refused rather than guessed.
        raise ValueError(_date_format_message())
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.get_default_timezone())
    if not MIN_YEAR <= parsed.year < MAX_YEAR:
        raise ValueError(
            _("Date hors des limites acceptées (de %(min)d à %(max)d).")
            % {"min": MIN_YEAR, "max": MAX_YEAR - 1}
        )
    return parsed


def parse_required_datetime(value):
    if value is None:
        raise ValueError(_date_format_message())
    return parse_datetime(value)


def _date_format_message() -> str:
    return _("Date et heure attendues au format ISO 8601, par exemple 2027-03-01T09:00:00+01:00.")


def _blank_to_none(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _clean_code(value: str | None, message: str) -> str | None:
    if value is not None and not SERVICE_CODE_RE.fullmatch(value):
        raise ValueError(message)
    return value


def _service_code(value: str | None) -> str | None:
    return _clean_code(value, _("Code de prestation inconnu. Consultez /api/v1/services."))


def _single_line(value: str, *, max_length: int) -> str:
    if any(ord(c) < 32 for c in value):
        raise ValueError(_("Caractères de contrôle non autorisés."))
    if len(value) > max_length:
        raise ValueError(_("%(max)d caractères au plus.") % {"max": max_length})
    return value


def _multi_line(value: str, *, max_length: int) -> str:
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise ValueError(_("Caractères de contrôle non autorisés."))
    if len(value) > max_length:
        raise ValueError(_("%(max)d caractères au plus.") % {"max": max_length})
    return value


# --- Query filters --------------------------------------------------------------------------


class ResourceFilters(Schema):
    place: int | None = Field(None, ge=1, description="Identifiant d'un lieu (voir /places).")
    kind: str | None = Field(
        None,
        description="Type de ressource : "
        + ", ".join(f"{value} ({label})" for value, label in Resource.Kind.choices)
        + ".",
    )
    service: str | None = Field(
        None, description="Code d'une prestation (voir /services), par exemple poste-coworking."
    )

    _blank = field_validator("place", "kind", "service", mode="before")(_blank_to_none)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        if value is not None and value not in Resource.Kind.values:
            raise ValueError(
                _("Type de ressource inconnu. Types connus : %(kinds)s.")
                % {"kinds": ", ".join(Resource.Kind.values)}
            )
        return value

    @field_validator("service")
    @classmethod
    def _service(cls, value: str | None) -> str | None:
        return _service_code(value)


class WindowQuery(Schema):
    start: dt.datetime | None = Field(None, description=DATETIME_HELP + " Par défaut : maintenant.")
    end: dt.datetime | None = Field(
        None,
        description=DATETIME_HELP
        + f" Après start, {MAX_WINDOW_DAYS} jours au plus après lui. Par défaut : start + 7 jours.",
    )
    duration: int | None = Field(
        None,
        gt=0,
        le=MAX_DURATION_MINUTES,
        description="Durée du rendez-vous en minutes. Par défaut : la durée minimale de la "
        "ressource.",
    )

    _blank = field_validator("start", "end", "duration", mode="before")(_blank_to_none)
    _dates = field_validator("start", "end", mode="before")(parse_datetime)


class AvailabilityQuery(WindowQuery):
    participants: int = Field(
        1,
        ge=1,
        le=MAX_PARTICIPANTS,
        description="Nombre de places voulues (ressources partagées : espace de bureaux, atelier).",
    )

    _blank_participants = field_validator("participants", mode="before")(
        lambda value: 1 if _blank_to_none(value) is None else value
    )


class SlotSearchQuery(WindowQuery):
    service: str = Field(description="Code de la prestation cherchée (voir /services).")
    commune: str = Field(description="Code INSEE de la commune de départ, par exemple 15014.")
    radius_km: float = Field(
        30,
        gt=0,
        le=SEARCH_RADIUS_MAX_KM,
        allow_inf_nan=False,
        description=f"Rayon en kilomètres à vol d'oiseau (0 < r ≤ {SEARCH_RADIUS_MAX_KM}).",
    )
    limit: int = Field(
        10, ge=1, le=SEARCH_LIMIT_MAX, description="Nombre de créneaux (50 au plus)."
    )

    @field_validator("service", mode="before")
    @classmethod
    def _service(cls, value):
        value = _blank_to_none(value)
        if value is None:
            raise ValueError(_("Ce paramètre est obligatoire."))
        return _service_code(value) if isinstance(value, str) else value

    @field_validator("commune", mode="before")
    @classmethod
    def _commune(cls, value):
        value = _blank_to_none(value)
        if value is None:
            raise ValueError(_("Ce paramètre est obligatoire."))
        if not isinstance(value, str) or not is_insee_code(value.upper()):
            raise ValueError(_("Code INSEE attendu : 5 caractères, par exemple 15014."))
        return value.upper()

    _blank_numbers = field_validator("radius_km", "limit", mode="before")(
        lambda value: _blank_to_none(value)
    )


class BookingFilters(Schema):
    start: dt.datetime | None = Field(
        None, description="Réservations qui finissent après cet instant. " + DATETIME_HELP
    )
    end: dt.datetime | None = Field(
        None, description="Réservations qui commencent avant cet instant. " + DATETIME_HELP
    )
    place: int | None = Field(None, ge=1, description="Identifiant d'un lieu.")

    _blank = field_validator("start", "end", "place", mode="before")(_blank_to_none)
    _dates = field_validator("start", "end", mode="before")(parse_datetime)


# --- Request bodies -------------------------------------------------------------------------


class PersonIn(Schema):
    name: str = Field(description="Nom et prénom de la personne.")
    phone: str = Field(description="Numéro de téléphone (06 12 34 56 78 ou +33 6 12 34 56 78).")
    email: str = Field("", description="Adresse électronique, facultative.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = _single_line(value, max_length=200).strip()
        if not value:
            raise ValueError(_("Indiquez le nom de la personne."))
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        value = _single_line(value, max_length=30).strip()
        if not value:
            raise ValueError(_("Indiquez un numéro de téléphone."))
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _single_line(value, max_length=254).strip()


class BookingIn(Schema):
    resource_ids: list[int] = Field(
        description="Les ressources à réserver ensemble (une salle, ou une cabine et un "
        f"médecin…) : {MAX_RESOURCES_PER_BOOKING} au plus.",
        min_length=1,
        max_length=MAX_RESOURCES_PER_BOOKING,
    )
    start: dt.datetime = Field(description=DATETIME_HELP)
    end: dt.datetime = Field(description=DATETIME_HELP)
    service: str | None = Field(None, description="Code de la prestation (voir /services).")
    participants: int = Field(
        1, ge=1, le=MAX_PARTICIPANTS, description="Nombre de places (ressources partagées)."
    )
    notes: str = Field("", description="Remarques pour le lieu (2000 caractères au plus).")
    person: PersonIn | None = Field(
        None,
        description="Pour une personne sans compte : nom, téléphone, courriel facultatif. "
        "Obligatoire sans authentification ; avec un jeton ou une session, absent, la "
        "réservation est pour le compte authentifié.",
    )

    _dates = field_validator("start", "end", mode="before")(parse_required_datetime)

    @field_validator("resource_ids")
    @classmethod
    def _resource_ids(cls, value: list[int]) -> list[int]:
        if any(not 1 <= pk < 2**63 for pk in value):
            raise ValueError(_("Identifiants de ressources attendus (nombres entiers positifs)."))
        if len(set(value)) != len(value):
            raise ValueError(_("Une même ressource est demandée deux fois."))
        return value

    @field_validator("service", mode="before")
    @classmethod
    def _service(cls, value):
        value = _blank_to_none(value)
        return _service_code(value) if isinstance(value, str) else value

    @field_validator("notes")
    @classmethod
    def _notes(cls, value: str) -> str:
        return _multi_line(value, max_length=2000).strip()


class CancelIn(Schema):
    reason: str = Field("", description="Motif, facultatif (300 caractères au plus).")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _multi_line(value, max_length=300).strip()


class RescheduleIn(Schema):
    start: dt.datetime = Field(description=DATETIME_HELP)
    end: dt.datetime = Field(description=DATETIME_HELP)

    _dates = field_validator("start", "end", mode="before")(parse_required_datetime)


# --- Responses ------------------------------------------------------------------------------


def local(moment: dt.datetime) -> dt.datetime:
    """Local time with its offset: what a person in the territory reads."""
    return timezone.localtime(moment)


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    champ: str
    message: str


class InvalidOut(Schema):
    detail: str
    errors: list[FieldErrorOut]


class ServiceOut(Schema):
    code: str
    label: str
    description: str
    default_duration_minutes: int


class ServiceRef(Schema):
    code: str
    label: str


class PlaceRef(Schema):
    id: int
    name: str
    commune: CommuneRef


class OrganisationRef(Schema):
    name: str


class PolicyOut(Schema):
    slot_minutes: int = Field(description="Les créneaux commencent tous les N minutes.")
    min_duration_minutes: int
    max_duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int = Field(description="Délai minimal entre la demande et le début.")
    horizon_days: int = Field(description="Réservable jusqu'à N jours à l'avance.")
    cancellation_deadline_hours: int = Field(
        description="Annulation en ligne possible jusqu'à N heures avant le début."
    )
    approval_required: bool = Field(
        description="Chaque réservation attend la validation d'un agent."
    )
    bookable_by: str = Field(
        description="anyone (même sans compte), accounts (avec un compte), members (membres de "
        "la structure) ou agents (auprès d'un agent seulement)."
    )
    bookable_by_label: str
    max_future_bookings_per_person: int = Field(description="0 : sans limite.")
    observes_public_holidays: bool


class ResourceOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    description: str
    capacity: int = Field(description="1 : une réservation à la fois ; N : N places en même temps.")
    place: PlaceRef | None = Field(description="Lieu habituel (une tournée peut en changer).")
    organisation: OrganisationRef
    services: list[ServiceRef]
    policy: PolicyOut

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_services(obj) -> list:
        return list(obj.services.all())  # prefetched by the handler

    @staticmethod
    def resolve_policy(obj) -> dict:
        fields = PolicyOut.model_fields.keys() - {"bookable_by_label"}
        return {
            **{name: getattr(obj, name) for name in fields},
            "bookable_by_label": str(obj.get_bookable_by_display()),
        }


class WeeklyHoursOut(Schema):
    weekday: int = Field(description="0 = lundi … 6 = dimanche.")
    day: str
    start: dt.time
    end: dt.time
    weeks_of_month: list[int] = Field(
        description="Semaines du mois (1 à 5 ; -1 : la dernière) ; vide : toutes les semaines."
    )
    valid_from: dt.date | None
    valid_until: dt.date | None
    place: PlaceRef | None

    @staticmethod
    def resolve_day(obj) -> str:
        return str(obj.get_weekday_display())

    @staticmethod
    def resolve_start(obj) -> dt.time:
        return obj.start_time

    @staticmethod
    def resolve_end(obj) -> dt.time:
        return obj.end_time

    @staticmethod
    def resolve_weeks_of_month(obj) -> list[int]:
        return sorted(obj.week_numbers)

    @staticmethod
    def resolve_place(obj):
        return obj.place or obj.resource.place


class ResourceDetail(ResourceOut):
    weekly_hours: list[WeeklyHoursOut] = Field(
        description="Ouverture de chaque semaine, et où (une personne itinérante change de lieu "
        "selon le jour). Jours fériés et fermetures en moins : voir /availability."
    )

    @staticmethod
    def resolve_weekly_hours(obj) -> list:
        return list(obj.availability_rules.all())  # prefetched by the handler


class SlotOut(Schema):
    start: dt.datetime
    end: dt.datetime
    place_id: int | None

    @staticmethod
    def resolve_start(obj) -> dt.datetime:
        return local(obj.start)

    @staticmethod
    def resolve_end(obj) -> dt.datetime:
        return local(obj.end)


class ResourceRef(Schema):
    id: int
    name: str


class ResourceKindRef(ResourceRef):
    kind: str


class SlotOfferOut(Schema):
    start: dt.datetime
    end: dt.datetime
    resource: ResourceRef
    place: PlaceRef
    distance_km: float = Field(description="Distance à vol d'oiseau depuis la commune (km).")
    road_km: float = Field(
        description="Estimation de la distance par la route (km) : distance à vol d'oiseau "
        "multipliée par un coefficient de détour. Sert à classer, ce n'est pas un itinéraire."
    )

    @staticmethod
    def resolve_start(obj) -> dt.datetime:
        return local(obj.slot.start)

    @staticmethod
    def resolve_end(obj) -> dt.datetime:
        return local(obj.slot.end)


class PersonOut(Schema):
    name: str
    phone: str
    email: str


class BookingOut(Schema):
    id: int
    reference: str = Field(description="Référence à donner au lieu (8 caractères).")
    status: str = Field(
        description="pending (en attente de validation), confirmed, cancelled, attended "
        "(honorée) ou no_show (absence)."
    )
    status_label: str
    start: dt.datetime
    end: dt.datetime
    service: ServiceRef | None
    place: PlaceRef | None
    resources: list[ResourceKindRef]
    participants: int
    holder_name: str = Field(description="Pour qui est la réservation.")
    has_account: bool = Field(description="La personne a un compte sur la plateforme.")
    person: PersonOut | None = Field(
        description="Coordonnées d'une personne sans compte ; vide pour un compte."
    )
    channel: str
    notes: str
    created_at: dt.datetime

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_start(obj) -> dt.datetime:
        return local(obj.start)

    @staticmethod
    def resolve_end(obj) -> dt.datetime:
        return local(obj.end)

    @staticmethod
    def resolve_created_at(obj) -> dt.datetime:
        return local(obj.created_at)

    @staticmethod
    def resolve_resources(obj) -> list:
        return [allocation.resource for allocation in obj.allocations.all()]

    @staticmethod
    def resolve_holder_name(obj) -> str:
        return obj.display_name

    @staticmethod
    def resolve_has_account(obj) -> bool:
        return obj.user_id is not None

    @staticmethod
    def resolve_person(obj) -> dict | None:
        if obj.user_id is not None:
            return None
        return {"name": obj.person_name, "phone": obj.person_phone, "email": obj.person_email}
