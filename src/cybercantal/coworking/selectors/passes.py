"""Reads of the tiers-lieux network: passes, their balance and what is still held.

Balances are computed from the ledger (CreditMovement), never stored: the sum of a pass's
movements, in half-days."""

from __future__ import annotations

import datetime as dt

from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cybercantal.booking.models import Booking

from ..models import CreditMovement, DeskBooking, Pass, TiersLieu
from ..perms import managed_tiers_lieux_filter

# Movements that pay for a booking: once one exists, the booking no longer holds credit.
CONSUMING_REASONS = (CreditMovement.Reason.BOOKING, CreditMovement.Reason.CHECK_IN)


def pass_balance(pass_account: Pass) -> int:
    """The credit left on a pass, in half-days (the sum of its ledger)."""
    return pass_account.movements.aggregate(total=Coalesce(Sum("half_days"), 0))["total"]


def held_half_days(pass_account: Pass, *, now: dt.datetime) -> int:
    """Half-days promised to upcoming desk bookings but not yet taken from the ledger: those
    awaiting approval, or (for a pass used on arrival) booked but not yet checked in. Counted
    against the balance so that one credit cannot be booked twice before it is consumed; a
    booking that is over without a check-in stops holding anything."""
    return (
        DeskBooking.objects.filter(
            pass_account=pass_account,
            booking__status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
            booking__end__gt=now,
        )
        .exclude(
            booking__in=CreditMovement.objects.filter(
                pass_account=pass_account, reason__in=CONSUMING_REASONS, booking__isnull=False
            ).values("booking")
        )
        .aggregate(total=Coalesce(Sum("half_days"), 0))["total"]
    )


def available_half_days(pass_account: Pass, *, now: dt.datetime) -> int:
    """What a new booking or arrival may still use: the balance less what is held."""
    return pass_balance(pass_account) - held_half_days(pass_account, now=now)


def _with_balance(passes: QuerySet[Pass]) -> QuerySet[Pass]:
    balance = (
        CreditMovement.objects.filter(pass_account=OuterRef("pk"))
        .order_by()
        .values("pass_account")
        .annotate(total=Sum("half_days"))
        .values("total")
    )
    return passes.annotate(
        balance=Coalesce(Subquery(balance, output_field=IntegerField()), Value(0))
    )


def usable_passes(*, member, tiers_lieu, day: dt.date) -> QuerySet[Pass]:
    """The member's passes that may pay for `day` at `tiers_lieu`: active (proof checked), valid
    that day, sold for this place or for the whole network, with credit left or unlimited.
    Annotated with `balance`; the one that expires first comes first, so it is used first."""
    return (
        _with_balance(
            Pass.objects.filter(
                member=member,
                status=Pass.Status.ACTIVE,
                valid_from__lte=day,
                valid_until__gte=day,
            ).filter(Q(offer__tiers_lieu=tiers_lieu) | Q(offer__tiers_lieu__isnull=True))
        )
        .filter(Q(offer__half_days=0) | Q(balance__gt=0))
        .select_related("offer")
        .order_by("valid_until", "pk")
    )


def member_passes(*, actor, member) -> QuerySet[Pass]:
    """A member's passes as `actor` may see them: all of them for the member themself (and the
    Département's staff), those sold at a place they manage for a manager, none for anyone
    else. Annotated with `balance`."""
    passes = Pass.objects.filter(member=member).select_related("offer", "sold_at__place")
    if actor is None or not getattr(actor, "is_authenticated", False):
        return passes.none()
    if actor.pk != member.pk:
        passes = passes.filter(
            sold_at__in=TiersLieu.objects.filter(managed_tiers_lieux_filter(actor))
        )
    return _with_balance(passes)


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local calendar day, as aware datetimes."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
