"""Renting an office by the month, and ending a rental early.

An office (booking.Resource of kind office) is rented to a member as one of the place's
monthly subscriptions: the pass and its invoice (services.sales.pass_sell), the office closed
in the booking engine for the pass's validity (a booking.Closure on the office, so that nobody
books it by the day and the public page shows it taken), and the rental that ties them
(OfficeRental) — in one transaction, under the lock booking_create takes on the office's row:
a booking made at the same moment either committed before (and the rental is refused) or sees
the closure."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.models import Closure, Resource
from cybercantal.core.audit import audit_log

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import Offer, Pass, TiersLieu
from ..models.network import OfficeRental
from ..perms import is_place_manager
from ..selectors.rooms import day_bounds, office_conflicts
from .passes import BACKDATING_DAYS
from .sales import pass_sell


def _initials(member) -> str:
    """ "C. D." — the public reason of the closure names nobody in full."""
    parts = [p for p in (member.first_name, member.last_name) if p and p.strip()]
    if not parts:
        parts = [member.get_username() or "?"]
    return " ".join(f"{p.strip()[0].upper()}." for p in parts)


def _check_manager(actor, tiers_lieu: TiersLieu) -> None:
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du tiers-lieu peut louer ses bureaux."))


def _lock_office(office: Resource, tiers_lieu: TiersLieu) -> Resource:
    locked = (
        Resource.objects.select_for_update()
        .filter(pk=office.pk, place_id=tiers_lieu.place_id, kind=Resource.Kind.OFFICE)
        .first()
    )
    if locked is None:
        raise CoworkingRuleError(_("Ce bureau n'est pas un bureau fermé de ce lieu."))
    return locked


def _day(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def _rented_reason(member, last_day: dt.date) -> str:
    return _("Loué à %(initials)s jusqu'au %(day)s") % {
        "initials": _initials(member),
        "day": _day(last_day),
    }


def office_rental_release(
    *, actor, rental: OfficeRental, from_day: dt.date, now: dt.datetime, reason: str
) -> None:
    """The pass of `rental` is being cancelled: the office is free again from `from_day` on.
    A rental under way ends the day before (its closure ends at midnight before `from_day`);
    one that had not begun loses its closure (its days stay recorded as they were, and it no
    longer holds: its pass is cancelled); one already over is left alone. To call inside the
    caller's transaction (services.passes.pass_cancel), permission checked; the office's row
    is locked as booking_create and office_rent lock it."""
    Resource.objects.select_for_update().filter(pk=rental.office_id).first()
    locked = OfficeRental.objects.select_for_update().get(pk=rental.pk)
    if locked.last_day < from_day:
        return
    previous = locked.last_day
    closure = Closure.objects.filter(pk=locked.closure_id).first() if locked.closure_id else None
    if locked.first_day >= from_day:
        if closure is not None:
            closure.delete()  # post_delete offers the freed days to the waiting list
        locked.closure = None
    else:
        locked.last_day = from_day - dt.timedelta(days=1)
        if closure is not None:
            closure.end = day_bounds(from_day)[0]
            closure.reason = _rented_reason(locked.pass_account.member, locked.last_day)
            closure.save(update_fields=["end", "reason"])
    locked.ended_early_at = now
    locked.save(update_fields=["last_day", "closure", "ended_early_at", "updated_at"])
    audit_log(
        actor=actor,
        action="coworking.office_rent_end",
        target=locked,
        data={
            "from": previous.isoformat(),
            "to": locked.last_day.isoformat(),
            "free_from": from_day.isoformat(),
            "pass_cancelled": reason,
        },
    )


def office_rent(
    *,
    actor,
    tiers_lieu: TiersLieu,
    office: Resource,
    member,
    offer: Offer,
    from_day: dt.date,
    now: dt.datetime | None = None,
) -> OfficeRental:
    """A manager of `tiers_lieu` rents `office` to `member` from `from_day` for the validity of
    `offer`, one of the place's monthly subscriptions.

    Refused with nothing written (CoworkingForbidden, CoworkingRuleError, or what pass_sell
    refuses): someone who does not manage the place, an office of another place or not an
    office, an offer that is not a monthly subscription of this place, an office already
    rented, closed or booked during those days."""
    _check_manager(actor, tiers_lieu)
    now = now or timezone.now()
    if offer.kind != Offer.Kind.MONTHLY or offer.tiers_lieu_id != tiers_lieu.pk:
        raise CoworkingRuleError(
            _("Un bureau se loue avec un abonnement mensuel de ce lieu : choisissez-en un.")
        )
    if not isinstance(from_day, dt.date) or isinstance(from_day, dt.datetime):
        raise CoworkingRuleError(_("Indiquez le premier jour de la location."))
    earliest = timezone.localdate(now) - dt.timedelta(days=BACKDATING_DAYS)
    if from_day < earliest:
        raise CoworkingRuleError(
            _("La location ne peut pas commencer avant le %(day)s.") % {"day": _day(earliest)}
        )
    last_day = from_day + dt.timedelta(days=offer.validity_days - 1)
    start, _unused = day_bounds(from_day)
    _unused, end = day_bounds(last_day)
    with transaction.atomic():
        locked = _lock_office(office, tiers_lieu)
        rentals, closures, bookings = office_conflicts(locked, start, end, now=now)
        rental = rentals.first()
        if rental is not None:
            raise CoworkingRuleError(
                _("« %(office)s » est déjà loué du %(first)s au %(last)s.")
                % {
                    "office": locked.name,
                    "first": _day(rental.first_day),
                    "last": _day(rental.last_day),
                }
            )
        closure = closures.first()
        if closure is not None:
            raise CoworkingRuleError(
                _("« %(office)s » est fermé à partir du %(day)s (%(reason)s).")
                % {
                    "office": locked.name,
                    "day": _day(timezone.localtime(max(closure.start, start)).date()),
                    "reason": closure.reason or _("fermeture"),
                }
            )
        count = bookings.count()
        if count:
            raise CoworkingRuleError(
                _(
                    "« %(office)s » a %(count)d réservation(s) pendant cette période (la "
                    "première le %(day)s) : déplacez-les ou annulez-les d'abord."
                )
                % {
                    "office": locked.name,
                    "count": count,
                    "day": _day(timezone.localtime(bookings.first().start).date()),
                }
            )
        pass_account, invoice = pass_sell(
            actor=actor,
            member=member,
            offer=offer,
            sold_at=tiers_lieu,
            valid_from=from_day,
            now=now,
        )
        closure = Closure.objects.create(
            resource=locked,
            start=start,
            end=day_bounds(pass_account.valid_until)[1],
            reason=_rented_reason(member, pass_account.valid_until),
        )
        rental = OfficeRental.objects.create(
            office=locked,
            pass_account=pass_account,
            closure=closure,
            first_day=pass_account.valid_from,
            last_day=pass_account.valid_until,
            recorded_by=actor,
        )
        audit_log(
            actor=actor,
            action="coworking.office_rent",
            target=rental,
            data={
                "office": locked.pk,
                "member": member.pk,
                "pass": pass_account.pk,
                "invoice": invoice.number,
                "from": rental.first_day.isoformat(),
                "until": rental.last_day.isoformat(),
            },
        )
    return rental


def office_rent_end(
    *,
    actor,
    rental: OfficeRental,
    last_day: dt.date,
    now: dt.datetime | None = None,
) -> OfficeRental:
    """End a rental early: its last day becomes `last_day` (from yesterday on, within the
    rental) and the office opens again in the booking engine the day after. The pass and its
    invoice are left as they are (a refund is a credit note, on the invoices page).

    Refused with nothing written: someone who does not manage the office's place, a rental
    whose pass was cancelled, a day outside the rental or before yesterday."""
    office = rental.office
    tiers_lieu = TiersLieu.objects.filter(place_id=office.place_id).first()
    if tiers_lieu is None:
        raise CoworkingForbidden(_("Seul un gestionnaire du tiers-lieu peut louer ses bureaux."))
    _check_manager(actor, tiers_lieu)
    now = now or timezone.now()
    if not isinstance(last_day, dt.date) or isinstance(last_day, dt.datetime):
        raise CoworkingRuleError(_("Indiquez le dernier jour de la location."))
    earliest = timezone.localdate(now) - dt.timedelta(days=BACKDATING_DAYS)
    with transaction.atomic():
        _lock_office(office, tiers_lieu)
        locked = OfficeRental.objects.select_for_update().get(pk=rental.pk)
        if Pass.objects.filter(pk=locked.pass_account_id, status=Pass.Status.CANCELLED).exists():
            raise CoworkingRuleError(_("Le pass de cette location est annulé."))
        if not locked.first_day <= last_day < locked.last_day:
            raise CoworkingRuleError(
                _(
                    "Le nouveau dernier jour doit tomber pendant la location, avant le "
                    "%(last)s (elle commence le %(first)s)."
                )
                % {"first": _day(locked.first_day), "last": _day(locked.last_day)}
            )
        if last_day < earliest:
            raise CoworkingRuleError(
                _("Le dernier jour ne peut pas précéder le %(day)s.") % {"day": _day(earliest)}
            )
        previous = locked.last_day
        locked.last_day = last_day
        locked.ended_early_at = now
        locked.save(update_fields=["last_day", "ended_early_at", "updated_at"])
        if locked.closure_id:
            Closure.objects.filter(pk=locked.closure_id).update(
                end=day_bounds(last_day)[1],
                reason=_rented_reason(locked.pass_account.member, last_day),
            )
        audit_log(
            actor=actor,
            action="coworking.office_rent_end",
            target=locked,
            data={"from": previous.isoformat(), "to": last_day.isoformat()},
        )
    return locked
