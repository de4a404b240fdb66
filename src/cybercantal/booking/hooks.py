"""Status listeners: how modules above the engine follow their bookings without the engine
importing them (coworking consumes a credit when a desk booking is confirmed and gives it back
when it is cancelled in time).

A module registers a listener in its AppConfig.ready(). Listeners run inside the transaction of
the change, after the transition is recorded: if one raises a BookingError, the whole change is
rolled back and the person gets that message. The waiting list's temporary holds are not
reported: only real bookings (created, confirmed, cancelled, attended, no-show)."""

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
