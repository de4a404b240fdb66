"""Desk bookings paid with a pass, and the credits that follow them.

Credits are half-days (a day is 2). A pass whose offer is used "on booking" pays when the
booking is confirmed (at once, or when an agent approves it) and is given back when the booking
is cancelled; a pass used "on arrival" pays at check-in (services.checkins). Until it is paid,
a desk booking *holds* its half-days (selectors.held_half_days), so that the same credit is
never promised twice.

Lock order, to never deadlock with the booking engine: resources, then the booking, then the
pass (booking_create and booking_cancel lock the first two; this module locks the pass last)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.models import Booking, Resource
from cybercantal.booking.perms import is_resource_agent
from cybercantal.booking.services import booking_create
from cybercantal.core.audit import audit_log

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import CreditMovement, DeskBooking, Offer, Pass, TiersLieu
from ..selectors import available_half_days

# A booking up to 4 h 30 is a half-day; anything longer is a day.
HALF_DAY_MAX = dt.timedelta(hours=4, minutes=30)


def half_days_for(start: dt.datetime, end: dt.datetime) -> int:
    return 1 if end - start <= HALF_DAY_MAX else 2


def check_pass_usable(
    pass_account: Pass, *, member, tiers_lieu: TiersLieu, day: dt.date, half_days: int, now
) -> None:
    """Raise CoworkingRuleError unless `pass_account` may pay `half_days` for `member` at
    `tiers_lieu` on `day`. The credit check is only exact under a lock on the pass row."""
    offer = pass_account.offer
    if pass_account.member_id != member.pk:
        raise CoworkingRuleError(_("Ce pass appartient à une autre personne."))
    if pass_account.status == Pass.Status.PENDING_PROOF:
        raise CoworkingRuleError(
            _(
                "Ce pass à tarif réduit attend la vérification de son justificatif par le "
                "tiers-lieu : il ne peut pas encore être utilisé."
            )
        )
    if pass_account.status != Pass.Status.ACTIVE:
        raise CoworkingRuleError(_("Ce pass est annulé."))
    if not pass_account.valid_from <= day <= pass_account.valid_until:
        raise CoworkingRuleError(
            _("Ce pass est valable du %(start)s au %(end)s : pas le %(day)s.")
            % {
                "start": pass_account.valid_from.strftime("%d/%m/%Y"),
                "end": pass_account.valid_until.strftime("%d/%m/%Y"),
                "day": day.strftime("%d/%m/%Y"),
            }
        )
    if offer.tiers_lieu_id is not None and offer.tiers_lieu_id != tiers_lieu.pk:
        raise CoworkingRuleError(
            _("Ce pass n'est valable qu'à « %(place)s ».") % {"place": offer.tiers_lieu}
        )
    if offer.half_days and available_half_days(pass_account, now=now) < half_days:
        raise CoworkingRuleError(
            _(
                "Il ne reste pas assez de crédit sur ce pass (il faut %(needed)s). "
                "Rechargez-le auprès du tiers-lieu."
            )
            % {"needed": _describe(half_days)}
        )


def _describe(half_days: int) -> str:
    if half_days == 1:
        return _("une demi-journée")
    if half_days % 2:
        return _("%(count)d demi-journées") % {"count": half_days}
    return _("%(count)d journée(s)") % {"count": half_days // 2}


def _tiers_lieu_of(resource: Resource) -> TiersLieu:
    tiers_lieu = TiersLieu.objects.filter(place_id=resource.place_id).first()
    if tiers_lieu is None:
        raise CoworkingRuleError(
            _("« %(name)s » n'est pas un espace d'un tiers-lieu : il ne se paie pas avec un pass.")
            % {"name": resource.name}
        )
    return tiers_lieu


def desk_book(
    *,
    actor,
    member,
    pass_account: Pass,
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
) -> Booking:
    """Book a space of a tiers-lieu for `member`, paid with `pass_account` (by the member, or by
    an agent of the space on their behalf). A booking up to 4 h 30 costs a half-day, longer a
    day; an unlimited subscription always has enough.

    Guarantees, in one transaction: the booking engine's own (booking_create: rules, 409 when
    full…); the pass is the member's, active, valid on the booking's local day, for this place
    or the whole network, and has the credit — checked under a lock on the pass row, so that
    concurrent bookings never spend the same credit twice; a DeskBooking row ties the booking to
    the pass; a confirmed booking on a pass used "on booking" is paid at once (BOOKING movement),
    otherwise its half-days are held until it is. Nothing is written when anything is refused."""
    now = now or timezone.now()
    if actor is None or not (
        actor.pk == getattr(member, "pk", None) or is_resource_agent(actor, resource)
    ):
        raise CoworkingForbidden(
            _("Seul le titulaire du pass ou un agent du tiers-lieu peut réserver avec ce pass.")
        )
    if member is None or member.pk is None:
        raise CoworkingRuleError(_("Indiquez le titulaire du pass."))
    if start.tzinfo is None or end.tzinfo is None:
        raise CoworkingRuleError(_("Les dates doivent indiquer leur fuseau horaire."))
    if end <= start:
        raise CoworkingRuleError(_("La fin doit être après le début."))
    tiers_lieu = _tiers_lieu_of(resource)
    day = timezone.localtime(start).date()
    half_days = half_days_for(start, end)
    # Everything but the credit, before any lock: a plain refusal costs no lock.
    check_pass_usable(
        pass_account, member=member, tiers_lieu=tiers_lieu, day=day, half_days=half_days, now=now
    )
    with transaction.atomic():
        # The engine locks the resource; the pass is locked after it (lock order above).
        booking = booking_create(
            actor=actor, resources=[resource], start=start, end=end, for_user=member, now=now
        )
        locked = Pass.objects.select_for_update().select_related("offer").get(pk=pass_account.pk)
        check_pass_usable(
            locked, member=member, tiers_lieu=tiers_lieu, day=day, half_days=half_days, now=now
        )
        DeskBooking.objects.create(booking=booking, pass_account=locked, half_days=half_days)
        paid = (
            booking.status == Booking.Status.CONFIRMED
            and locked.offer.consumed_on == Offer.ConsumedOn.BOOKING
        )
        if paid:
            _consume(locked, booking, half_days=half_days, actor=actor)
        audit_log(
            actor=actor,
            action="coworking.desk_book",
            target=booking,
            data={"pass": locked.pk, "half_days": half_days, "paid": paid},
        )
    return booking


def _consume(pass_account: Pass, booking: Booking, *, half_days: int, actor) -> None:
    if pass_account.offer.half_days == 0:
        return  # unlimited: nothing to count
    CreditMovement.objects.create(
        pass_account=pass_account,
        half_days=-half_days,
        reason=CreditMovement.Reason.BOOKING,
        booking=booking,
        actor=_person(actor),
    )


def _person(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def credits_follow_booking(booking: Booking, *, from_status: str, to_status: str, actor) -> None:
    """Booking status listener (coworking.credits), run inside the engine's transaction for
    every booking of the platform.

    - Not a desk booking: nothing, after at most one query on DeskBooking's unique booking
      column (none at creation: desk_book pays a new booking itself, after the engine).
    - pending → confirmed, pass used "on booking": paid once (BOOKING movement; the ledger's
      unique (booking, reason) constraint is the backstop). The credit was held since the
      booking was made, so no balance check here.
    - → cancelled, after it was paid: given back once (REFUND). The engine has already refused a
      holder's late cancellation, so every cancellation reaching here is allowed. Given back to
      an expired pass too: the ledger stays true, and the credit is unusable since the pass is
      no longer valid. Not given back to a cancelled pass, whose credits were zeroed on purpose
      (a refund would revive a closed account).
    - attended, no-show: nothing (a pass used "on arrival" pays at check-in)."""
    if not from_status or to_status not in (Booking.Status.CONFIRMED, Booking.Status.CANCELLED):
        return
    desk = DeskBooking.objects.filter(booking_id=booking.pk).first()
    if desk is None:
        return
    pass_account = (
        Pass.objects.select_for_update().select_related("offer").get(pk=desk.pass_account_id)
    )
    movements = CreditMovement.objects.filter(booking=booking, pass_account=pass_account)
    if to_status == Booking.Status.CONFIRMED:
        if (
            pass_account.offer.consumed_on == Offer.ConsumedOn.BOOKING
            and not movements.filter(reason=CreditMovement.Reason.BOOKING).exists()
        ):
            _consume(pass_account, booking, half_days=desk.half_days, actor=actor)
        return
    paid = movements.filter(reason=CreditMovement.Reason.BOOKING).first()
    if (
        paid is None
        or pass_account.status == Pass.Status.CANCELLED
        or movements.filter(reason=CreditMovement.Reason.REFUND).exists()
    ):
        return
    CreditMovement.objects.create(
        pass_account=pass_account,
        half_days=-paid.half_days,
        reason=CreditMovement.Reason.REFUND,
        booking=booking,
        actor=_person(actor),
    )
