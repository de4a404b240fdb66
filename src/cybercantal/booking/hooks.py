"""How modules above the engine take part in its bookings without the engine importing them.

- Status listeners follow their bookings (coworking consumes a credit when a desk booking is
  confirmed and gives it back when it is cancelled in time).
- Booking guards veto creating bookings of some resources outside the module's own flow.
- Change guards veto changing an existing booking (cancel, move, confirm, mark, correct the
  attendance) outside that flow, so that the module's record never falls out of step.
- Visibility filters hide bookings from people who may not see what they stand for (a
  teleconsultation from the hospital's other doctors): every read of the engine applies them.
- Booking authorisers vouch for an actor on some resources during the module's own flow (the
  teleconsultation's nurse books the site's cart), so that the module need not make them agents
  of the whole organisation, with its other bookings, to get there.

A module registers its entries in its AppConfig.ready(). Status listeners run inside the
transaction of the change, after the transition is recorded: if one raises a BookingError, the
whole change is rolled back and the person gets that message. The waiting list's temporary
holds are not reported: only real bookings (created, confirmed, cancelled, attended,
no-show)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cybercantal.core.registries import Registry


@dataclass(frozen=True)
class StatusListener:
    key: str
    # on_status(booking, from_status, to_status, actor); from_status is "" at creation.
    on_status: Callable[..., None]
    order: int = 100


status_listeners: Registry[StatusListener] = Registry("booking status listeners")


def notify_status(booking, *, from_status: str, to_status: str, actor) -> None:
    for listener in status_listeners.all():
        listener.on_status(booking, from_status=from_status, to_status=to_status, actor=actor)


@dataclass(frozen=True)
class BookingGuard:
    """A module's veto on creating bookings of some resources outside its own flow (a
    specialist's agenda is booked only as part of a teleconsultation, with the site's cart and
    the nurse). `check(resources, actor=...)` raises BookingForbidden to refuse."""

    key: str
    check: Callable[..., None]
    order: int = 100


booking_guards: Registry[BookingGuard] = Registry("booking guards")


def check_booking_guards(resources, *, actor) -> None:
    for guard in booking_guards.all():
        guard.check(resources, actor=actor)


@dataclass(frozen=True)
class BookingChangeGuard:
    """A module's veto on changing an existing booking outside its own flow.
    `check(booking, actor=..., action=...)` raises BookingForbidden to refuse; `action` is one
    of CHANGE_ACTIONS. The engine calls it inside the change's transaction, with the booking
    locked, before writing anything: a refusal leaves everything as it was."""

    key: str
    check: Callable[..., None]
    order: int = 100


# What booking.services asks the change guards about.
CHANGE_ACTIONS = (
    "cancel",
    "reschedule",
    "confirm",
    "attended",
    "no_show",
    "attendance_correct",
)

booking_change_guards: Registry[BookingChangeGuard] = Registry("booking change guards")


def check_booking_change_guards(booking, *, actor, action: str) -> None:
    for guard in booking_change_guards.all():
        guard.check(booking, actor=actor, action=action)


@dataclass(frozen=True)
class BookingVisibilityFilter:
    """A module's say on who sees which bookings. `hidden(actor)` returns a Q on Booking of
    the bookings to hide from that actor (staff of the Département included: the module
    decides), or None to hide nothing. Applied by every read of the engine that shows
    bookings to a person: booking_list, booking_get, my_bookings, the agenda, the API, the
    calendar feeds and .ics downloads."""

    key: str
    hidden: Callable[..., object]
    order: int = 100


booking_visibility_filters: Registry[BookingVisibilityFilter] = Registry(
    "booking visibility filters"
)


def hide_from(bookings, actor):
    """`bookings` (a Booking queryset) without those a visibility filter hides from `actor`."""
    for entry in booking_visibility_filters.all():
        hidden = entry.hidden(actor)
        if hidden is not None:
            bookings = bookings.exclude(hidden)
    return bookings


@dataclass(frozen=True)
class BookingAuthoriser:
    """A module vouching for an actor on some resources, for one call of the engine made
    during its own flow, after checking its own permissions (the site's nurse books and closes
    a teleconsultation without working for the care home's organisation).
    `authorises(resources, actor=...)` returns True to have the engine treat the actor as an
    agent of all those resources for that call, False to leave the engine's own rule (memberships
    of the resources' organisations) alone. It must return False outside the module's flow, and
    for resources that are not the module's."""

    key: str
    authorises: Callable[..., bool]
    order: int = 100


booking_authorisers: Registry[BookingAuthoriser] = Registry("booking authorisers")


def is_authorised_by_module(resources, *, actor) -> bool:
    """Whether a registered authoriser vouches for `actor` on every one of `resources`."""
    resources = list(resources)
    if not resources:
        return False
    return any(entry.authorises(resources, actor=actor) for entry in booking_authorisers.all())
