"""The spaces of a place (booking.Resource rows: desk pools, desks, closed offices, meeting
rooms): creating, changing, making bookable or not, deleting one never booked.

Guarantees:

- Only a manager of the place (or the Département's staff) writes; the check comes first
  (CoworkingForbidden, 403). A space of another place is not reachable (`place_spaces`).
- A space belongs to the place and to its operator (so that `services.hours.place_spaces`,
  the hours pages and the public network pages find it), delivers the booking service of its
  kind (SPACE_SERVICES: an existing Service with that code, created if missing) and opens at
  the place's current weekly hours (`services.hours.space_rules_follow_place`).
- Its booking policy is one the booking engine can honour: durations are multiples of the slot
  step, the shortest no longer than the longest, at most a day (a booking never spans a
  closing time: an office is therefore booked by the day, not by the month). A desk, an office
  and a room are booked by one party at a time (capacity 1: the room's number of seats goes in
  its description); a desk pool has one seat per desk.
- A space's capacity never drops below what its bookings to come already hold at one time.
- A space with bookings is never deleted: it is made unbookable (`is_active`), and can be made
  bookable again; its bookings stay. A space never booked may be deleted.
- Each write is one transaction, under the lock of the space's row (the one the booking
  services take), with its audit row (core.audit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.models import Allocation, Resource, Service
from cybercantal.core.audit import audit_log

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import TiersLieu
from ..perms import is_place_manager
from ..selectors.network import SPACE_KINDS, peak_usage
from .hours import place_spaces, space_rules_follow_place

Kind, BookableBy = Resource.Kind, Resource.BookableBy

NAME_MAX_LENGTH = Resource._meta.get_field("name").max_length
MAX_DESK_POOL_CAPACITY = 500
LONGEST_BOOKING_MINUTES = 24 * 60
MAX_HORIZON_DAYS = 2 * 366
MAX_NOTICE_MINUTES = 30 * 24 * 60
MAX_CANCELLATION_HOURS = 30 * 24
MAX_FUTURE_BOOKINGS = 100


@dataclass(frozen=True)
class SpacePolicy:
    """The booking policy fields a manager sets (the others keep the engine's defaults)."""

    slot_minutes: int
    min_duration_minutes: int
    max_duration_minutes: int
    min_notice_minutes: int
    horizon_days: int
    cancellation_deadline_hours: int
    approval_required: bool = False
    bookable_by: str = BookableBy.ANYONE
    max_future_bookings_per_person: int = 0
    observes_public_holidays: bool = True


POLICY_FIELDS = tuple(SpacePolicy.__dataclass_fields__)

# A desk by the half-day (4 h) up to the day (9 h); a room by the hour up to 8 h; a closed
# office by the day like a desk (the booking engine books within one day's opening hours, so
# a month's rent is a pass, not one booking).
DEFAULT_POLICIES: dict[str, SpacePolicy] = {
    Kind.DESK_POOL: SpacePolicy(30, 240, 540, 30, 60, 12),
    Kind.DESK: SpacePolicy(30, 240, 540, 30, 60, 12),
    Kind.OFFICE: SpacePolicy(30, 240, 540, 60, 90, 24, bookable_by=BookableBy.ACCOUNT_HOLDERS),
    Kind.ROOM: SpacePolicy(30, 60, 480, 60, 90, 24, bookable_by=BookableBy.ACCOUNT_HOLDERS),
}


@dataclass(frozen=True)
class SpaceService:
    code: str
    label: str
    description: str
    default_duration_minutes: int


# The booking services the spaces deliver, by code (the same rows as booking.demo's: the
# nearest-slot search looks spaces up by these).
DESK_DAY = SpaceService(
    "coworking_desk_day",
    "Poste de travail en tiers-lieu (à la journée)",
    "Un bureau dans l'espace partagé d'un tiers-lieu, pour une journée ou quelques heures.",
    480,
)
MEETING_ROOM_HOUR = SpaceService(
    "meeting_room_hour",
    "Salle de réunion (à l'heure)",
    "Une salle fermée avec écran et visioconférence, réservée à l'heure.",
    60,
)
OFFICE_DAY = SpaceService(
    "coworking_office_day",
    "Bureau fermé en tiers-lieu (à la journée)",
    "Un bureau fermé dans un tiers-lieu, pour une demi-journée ou une journée.",
    480,
)
SPACE_SERVICES: dict[str, SpaceService] = {
    Kind.DESK_POOL: DESK_DAY,
    Kind.DESK: DESK_DAY,
    Kind.OFFICE: OFFICE_DAY,
    Kind.ROOM: MEETING_ROOM_HOUR,
}


def default_policy(kind: str) -> dict:
    """The booking policy a new space of `kind` gets for the fields left out."""
    policy = DEFAULT_POLICIES.get(kind)
    return asdict(policy) if policy else {}


def space_service(kind: str) -> Service:
    """The booking Service a space of `kind` delivers: the existing row with its code, or a
    new one."""
    spec = SPACE_SERVICES[kind]
    service, _created = Service.objects.get_or_create(
        code=spec.code,
        defaults={
            "label": spec.label,
            "description": spec.description,
            "default_duration_minutes": spec.default_duration_minutes,
        },
    )
    return service


# --- Checks -----------------------------------------------------------------------------------


def _check_manager(actor, tiers_lieu: TiersLieu) -> None:
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du tiers-lieu peut gérer ses espaces."))


def _whole(value, *, low: int, high: int, message: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CoworkingRuleError(message)
    return value


def _checked(fields: dict) -> dict:
    """The space's fields once every rule holds, or a French refusal."""
    name = (fields.get("name") or "").strip()
    if not name:
        raise CoworkingRuleError(_("Donnez un nom à l'espace."))
    if len(name) > NAME_MAX_LENGTH:
        raise CoworkingRuleError(
            _("Le nom compte %(max)d caractères au plus.") % {"max": NAME_MAX_LENGTH}
        )
    kind = fields.get("kind")
    if kind not in SPACE_KINDS:
        raise CoworkingRuleError(
            _("Choisissez le type d'espace : bureaux partagés, bureau, bureau fermé ou salle.")
        )
    capacity = fields.get("capacity")
    if kind == Kind.DESK_POOL:
        capacity = _whole(
            capacity,
            low=1,
            high=MAX_DESK_POOL_CAPACITY,
            message=_("Un espace de bureaux partagés compte de 1 à %(max)d postes.")
            % {"max": MAX_DESK_POOL_CAPACITY},
        )
    elif capacity != 1:
        raise CoworkingRuleError(
            _(
                "Un bureau, un bureau fermé ou une salle se réserve pour une seule réservation à "
                "la fois : sa capacité est 1. Indiquez le nombre de places dans la description."
            )
        )
    slot = _whole(
        fields.get("slot_minutes"),
        low=5,
        high=240,
        message=_("Le pas des créneaux va de 5 à 240 minutes."),
    )
    shortest = _whole(
        fields.get("min_duration_minutes"),
        low=slot,
        high=LONGEST_BOOKING_MINUTES,
        message=_("La durée minimale va du pas des créneaux (%(slot)d min) à 24 heures.")
        % {"slot": slot},
    )
    longest = _whole(
        fields.get("max_duration_minutes"),
        low=shortest,
        high=LONGEST_BOOKING_MINUTES,
        message=_("La durée maximale va de la durée minimale (%(min)d min) à 24 heures.")
        % {"min": shortest},
    )
    if shortest % slot or longest % slot:
        raise CoworkingRuleError(
            _(
                "Les durées minimale et maximale sont des multiples du pas des créneaux "
                "(%(slot)d min)."
            )
            % {"slot": slot}
        )
    checked = {
        "name": name,
        "kind": kind,
        "capacity": capacity,
        "description": (fields.get("description") or "").strip(),
        "slot_minutes": slot,
        "min_duration_minutes": shortest,
        "max_duration_minutes": longest,
        "min_notice_minutes": _whole(
            fields.get("min_notice_minutes"),
            low=0,
            high=MAX_NOTICE_MINUTES,
            message=_("Le délai de prévenance va de 0 à %(max)d minutes (30 jours).")
            % {"max": MAX_NOTICE_MINUTES},
        ),
        "horizon_days": _whole(
            fields.get("horizon_days"),
            low=1,
            high=MAX_HORIZON_DAYS,
            message=_("On réserve de 1 à %(max)d jours à l'avance.") % {"max": MAX_HORIZON_DAYS},
        ),
        "cancellation_deadline_hours": _whole(
            fields.get("cancellation_deadline_hours"),
            low=0,
            high=MAX_CANCELLATION_HOURS,
            message=_("Le délai d'annulation va de 0 à %(max)d heures.")
            % {"max": MAX_CANCELLATION_HOURS},
        ),
        "max_future_bookings_per_person": _whole(
            fields.get("max_future_bookings_per_person"),
            low=0,
            high=MAX_FUTURE_BOOKINGS,
            message=_("Le nombre de réservations à venir par personne va de 0 à %(max)d.")
            % {"max": MAX_FUTURE_BOOKINGS},
        ),
        "approval_required": bool(fields.get("approval_required")),
        "observes_public_holidays": bool(fields.get("observes_public_holidays")),
    }
    bookable_by = fields.get("bookable_by")
    if bookable_by not in BookableBy.values:
        raise CoworkingRuleError(_("Choisissez qui peut réserver l'espace."))
    checked["bookable_by"] = bookable_by
    return checked


def _snapshot(space: Resource) -> dict:
    fields = ("name", "kind", "capacity", "is_active", *POLICY_FIELDS)
    return {name: getattr(space, name) for name in fields}


def _future_peak(space: Resource, now: dt.datetime) -> int:
    """The most seats the bookings to come hold at one time."""
    allocations = list(
        Allocation.objects.filter(resource=space, is_active=True, blocked_end__gt=now).values_list(
            "blocked_start", "blocked_end", "units"
        )
    )
    if not allocations:
        return 0
    end = max(e for _, e, _ in allocations)
    return peak_usage(allocations, now, end)


def _lock(space: Resource, tiers_lieu: TiersLieu) -> Resource:
    locked = place_spaces(tiers_lieu).select_for_update().filter(pk=space.pk).first()
    if locked is None:
        raise CoworkingRuleError(_("Cet espace n'existe plus, ou il n'est pas dans ce lieu."))
    return locked


def _set_services(space: Resource) -> None:
    """The space delivers its kind's service, and no other space kind's."""
    others = [s.code for kind, s in SPACE_SERVICES.items() if kind != space.kind]
    space.services.remove(*space.services.filter(code__in=others))
    space.services.add(space_service(space.kind))


# --- Services ---------------------------------------------------------------------------------


def space_create(
    *,
    actor,
    tiers_lieu: TiersLieu,
    name: str,
    kind: str,
    capacity: int = 1,
    description: str = "",
    from_day: dt.date | None = None,
    **policy,
) -> Resource:
    """A new bookable space at the place, for its operator, delivering its kind's service and
    open at the place's weekly hours from `from_day` (today by default). Policy fields left out
    (or None) take the kind's defaults (DEFAULT_POLICIES)."""
    _check_manager(actor, tiers_lieu)
    unknown = set(policy) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"space_create() got unexpected fields: {sorted(unknown)}")
    if tiers_lieu.place.organisation_id is None:
        raise CoworkingRuleError(
            _("Ce lieu n'a pas d'exploitant : ses espaces ne peuvent pas être réservés.")
        )
    given = {k: v for k, v in policy.items() if v is not None}
    fields = _checked(
        default_policy(kind)
        | given
        | {"name": name, "kind": kind, "capacity": capacity, "description": description}
    )
    with transaction.atomic():
        space = Resource.objects.create(
            place_id=tiers_lieu.place_id,
            organisation_id=tiers_lieu.place.organisation_id,
            is_active=True,
            **fields,
        )
        space.services.add(space_service(kind))
        space_rules_follow_place(space, from_day=from_day or timezone.localdate())
        audit_log(actor=actor, action="coworking.space_create", target=space, data=_snapshot(space))
    return space


def space_update(
    *, actor, tiers_lieu: TiersLieu, space: Resource, now: dt.datetime | None = None, **changes
) -> Resource:
    """Change a space's name, kind, capacity, description or booking policy. Bookings already
    made keep their times; a capacity below what the bookings to come hold is refused."""
    _check_manager(actor, tiers_lieu)
    allowed = {"name", "kind", "capacity", "description", *POLICY_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"space_update() got unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = _lock(space, tiers_lieu)
        before = _snapshot(locked)
        current = {name: getattr(locked, name) for name in allowed}
        fields = _checked(current | {k: v for k, v in changes.items() if v is not None})
        if fields["capacity"] < locked.capacity:
            held = _future_peak(locked, now or timezone.now())
            if fields["capacity"] < held:
                raise CoworkingRuleError(
                    _(
                        "Des réservations à venir occupent déjà %(held)d places en même temps : "
                        "la capacité ne peut pas descendre en dessous."
                    )
                    % {"held": held}
                )
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
        if before["kind"] != locked.kind:
            _set_services(locked)
        audit_log(
            actor=actor,
            action="coworking.space_update",
            target=locked,
            data={"before": before, "after": _snapshot(locked)},
        )
    return locked


def _set_bookable(*, actor, tiers_lieu: TiersLieu, space: Resource, bookable: bool) -> Resource:
    _check_manager(actor, tiers_lieu)
    with transaction.atomic():
        locked = _lock(space, tiers_lieu)
        if locked.is_active == bookable:
            return locked
        locked.is_active = bookable
        locked.save(update_fields=["is_active", "updated_at"])
        audit_log(
            actor=actor,
            action="coworking.space_reactivate" if bookable else "coworking.space_deactivate",
            target=locked,
        )
    return locked


def space_deactivate(*, actor, tiers_lieu: TiersLieu, space: Resource) -> Resource:
    """Make the space unbookable: no new booking; bookings already made stay. Idempotent."""
    return _set_bookable(actor=actor, tiers_lieu=tiers_lieu, space=space, bookable=False)


def space_reactivate(*, actor, tiers_lieu: TiersLieu, space: Resource) -> Resource:
    """Make the space bookable again. Idempotent."""
    return _set_bookable(actor=actor, tiers_lieu=tiers_lieu, space=space, bookable=True)


def space_delete(*, actor, tiers_lieu: TiersLieu, space: Resource) -> None:
    """Delete a space never booked (a mistake); one with bookings is refused (make it
    unbookable instead)."""
    _check_manager(actor, tiers_lieu)
    refusal = CoworkingRuleError(
        _(
            "L'espace « %(name)s » a déjà été réservé : il ne peut pas être supprimé, rendez-le "
            "non réservable."
        )
        % {"name": space.name}
    )
    with transaction.atomic():
        locked = _lock(space, tiers_lieu)
        if Allocation.objects.filter(resource=locked).exists():
            raise refusal
        audit_log(
            actor=actor, action="coworking.space_delete", target=locked, data=_snapshot(locked)
        )
        try:
            with transaction.atomic():
                locked.delete()
        except ProtectedError:
            raise refusal from None
