"""Closing a tiers-lieu for some days (snow, holidays, works) and reopening it.

Closing goes through the booking engine (booking.services.bookings_cancel_range): one Closure
for the whole range, so that no slot of those days is offered any more, and every upcoming
booking of those days cancelled, each person told with the next free slots nearby — in one
transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.models import Booking, Closure
from cybercantal.booking.services import bookings_cancel_range
from cybercantal.core.audit import audit_log

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import TiersLieu
from ..models.network import OfficeRental
from ..perms import is_place_manager
from ..selectors.hours import place_closure_get

# Beyond a year, a typing mistake (2052 for 2025) rather than a closure.
MAX_CLOSURE_DAYS = 366


def _check_manager(actor, tiers_lieu: TiersLieu) -> None:
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du lieu peut le fermer ou le rouvrir."))


def place_closure_add(
    *,
    actor,
    tiers_lieu: TiersLieu,
    first_day: dt.date,
    last_day: dt.date,
    reason: str,
    now: dt.datetime | None = None,
) -> tuple[Closure, list[Booking]]:
    """Close the place from `first_day` to `last_day` included. Refused: someone who does not
    manage it, an empty reason (the people are told it), days in the past, a last day before
    the first, more than a year. Returns the closure and the bookings cancelled."""
    _check_manager(actor, tiers_lieu)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise CoworkingRuleError(
            _("Indiquez le motif de la fermeture : il est envoyé aux personnes qui ont réservé.")
        )
    if last_day < first_day:
        raise CoworkingRuleError(_("Le dernier jour de fermeture doit suivre le premier."))
    if first_day < timezone.localdate(now):
        raise CoworkingRuleError(_("Une fermeture ne peut pas commencer dans le passé."))
    if (last_day - first_day).days >= MAX_CLOSURE_DAYS:
        raise CoworkingRuleError(_("Une fermeture dure au plus un an : vérifiez les dates."))
    return bookings_cancel_range(
        actor=actor,
        first_day=first_day,
        last_day=last_day,
        reason=reason,
        place=tiers_lieu.place,
        now=now,
    )


def place_closure_delete(
    *, actor, tiers_lieu: TiersLieu, closure: Closure, now: dt.datetime | None = None
) -> None:
    """Reopen: a closure still to come is deleted; one under way ends now (what was closed
    stays recorded). The bookings it cancelled stay cancelled. Refused for a closure of
    another place, one that is over, and that of a rented office (its rental is ended on the
    offices page, services.offices, so that the rental and the agenda agree)."""
    _check_manager(actor, tiers_lieu)
    now = now or timezone.now()
    if place_closure_get(actor=actor, tiers_lieu=tiers_lieu, closure_id=closure.pk) is None:
        raise CoworkingForbidden(_("Cette fermeture n'est pas celle de ce lieu."))
    if OfficeRental.objects.filter(closure_id=closure.pk).exists():
        raise CoworkingRuleError(
            _(
                "Ce bureau est loué : pour le libérer, terminez la location depuis la page "
                "« Bureaux loués »."
            )
        )
    if closure.end <= now:
        raise CoworkingRuleError(_("Cette fermeture est terminée : il n'y a rien à rouvrir."))
    with transaction.atomic():
        data = {
            "closure": closure.pk,
            "start": closure.start.isoformat(),
            "end": closure.end.isoformat(),
            "reason": closure.reason,
        }
        if closure.start >= now:
            closure.delete()
        else:
            closure.end = now
            closure.save(update_fields=["end"])
        audit_log(actor=actor, action="coworking.closure_delete", target=tiers_lieu, data=data)
