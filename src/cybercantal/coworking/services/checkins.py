"""Recording a member's arrival at a tiers-lieu (check-in), by a manager: on the tablet (QR code,
PIN) or by hand. Verifying the QR code or PIN comes with the tablet page; here the member is
already identified."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking import availability as av
from cybercantal.booking.models import Booking, Closure
from cybercantal.booking.perms import can_manage_booking
from cybercantal.booking.services import booking_mark_attended
from cybercantal.core.audit import audit_log

from ..errors import CoworkingConflict, CoworkingForbidden, CoworkingRuleError
from ..models import CheckIn, CreditMovement, DeskBooking, Offer, Pass, TiersLieu
from ..perms import is_place_manager
from ..selectors import available_half_days, local_day_bounds, usable_passes

# The tablet's clock may run a little ahead of the server's.
CLOCK_TOLERANCE = dt.timedelta(minutes=5)
A_DAY = 2


def check_in_record(
    *,
    actor,
    tiers_lieu: TiersLieu,
    member,
    method: str,
    at: dt.datetime | None = None,
    client_uuid: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> CheckIn:
    """A manager of `tiers_lieu` records that `member` arrived there at `at` (default: now).

    Guarantees:
    - the same `client_uuid` sent again (the tablet's offline queue replayed) returns the
      check-in already recorded, without writing anything;
    - refused (nothing written) when the place is closed at `at` — a French public holiday
      (unless one of the place's spaces opens on public holidays), or a booking Closure of the
      place or of everything covering `at`; when the member has neither a confirmed booking
      there that day nor a usable pass; and, as a conflict (409), when their arrival there is
      already recorded that day;
    - the day is paid once: desk bookings of that day paid "on booking" are already paid; those
      paid "on arrival" are paid now (CHECK_IN, their half-days); without a desk booking, a
      usable pass pays a day (CHECK_IN −2, or its last half-day if that is all it has left;
      nothing for an unlimited subscription) — a pass used "on booking" too, since no booking
      paid for that day. The pass row is locked, as in desk_book;
    - the day's desk booking is linked, and marked attended if it has started."""
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(
            _("Seul un gestionnaire du tiers-lieu peut enregistrer une arrivée.")
        )
    now = now or timezone.now()
    at = at or now
    if member is None or member.pk is None:
        raise CoworkingRuleError(_("Identifiez la personne qui arrive."))
    if method not in CheckIn.Method.values:
        raise CoworkingRuleError(_("Méthode d'enregistrement inconnue."))
    if client_uuid is not None:
        replayed = CheckIn.objects.filter(client_uuid=client_uuid).first()
        if replayed is not None:
            if replayed.tiers_lieu_id != tiers_lieu.pk or replayed.member_id != member.pk:
                raise CoworkingConflict(
                    _("Cet identifiant d'arrivée a déjà servi pour une autre arrivée.")
                )
            return replayed
    if at > now + CLOCK_TOLERANCE:
        raise CoworkingRuleError(_("L'heure d'arrivée ne peut pas être dans le futur."))
    day = timezone.localtime(at).date()
    _check_open(tiers_lieu, at=at, day=day)
    _check_not_yet_recorded(tiers_lieu, member=member, day=day)
    bookings = _bookings_of_the_day(tiers_lieu, member=member, day=day)
    if not bookings and not usable_passes(member=member, tiers_lieu=tiers_lieu, day=day).exists():
        raise CoworkingRuleError(
            _(
                "%(name)s n'a ni pass valable ici aujourd'hui ni réservation confirmée : "
                "proposez-lui un pass."
            )
            % {"name": _name(member)}
        )
    with transaction.atomic():
        linked = bookings[0] if bookings else None
        if (
            linked is not None
            and linked.status == Booking.Status.CONFIRMED
            and now >= linked.start
            # A manager of the place may run none of the booked resources (another operator's
            # room there): the booking then stays as it is.
            and can_manage_booking(actor, linked)
        ):
            # Locks the booking before any pass (lock order of services.credits).
            linked = booking_mark_attended(actor=actor, booking=linked, now=now)
        charges = _charges(bookings, member=member, tiers_lieu=tiers_lieu, day=day, now=now)
        try:
            with transaction.atomic():
                check_in = CheckIn.objects.create(
                    tiers_lieu=tiers_lieu,
                    member=member,
                    day=day,
                    at=at,
                    method=method,
                    pass_used=charges[0][0] if charges else None,
                    booking=linked,
                    client_uuid=client_uuid or uuid.uuid4(),
                    recorded_by=actor,
                )
        except IntegrityError as exc:
            # The same member scanned at the same moment on another tablet.
            raise CoworkingConflict(_already_recorded(member)) from exc
        for index, (pass_account, booking, half_days) in enumerate(charges):
            if half_days:
                CreditMovement.objects.create(
                    pass_account=pass_account,
                    half_days=-half_days,
                    reason=CreditMovement.Reason.CHECK_IN,
                    booking=booking,
                    # One movement per check-in (ledger constraint): the first carries it.
                    check_in=check_in if index == 0 else None,
                    actor=actor,
                )
        audit_log(
            actor=actor,
            action="coworking.check_in",
            target=check_in,
            data={
                "method": method,
                "booking": linked.pk if linked else None,
                "charges": [[p.pk, h] for p, _b, h in charges],
            },
        )
    return check_in


def _name(member) -> str:
    return member.get_full_name() or member.username


def _already_recorded(member) -> str:
    return _("L'arrivée de %(name)s est déjà enregistrée aujourd'hui.") % {"name": _name(member)}


def _check_open(tiers_lieu: TiersLieu, *, at: dt.datetime, day: dt.date) -> None:
    place = tiers_lieu.place
    if (
        day in av.public_holidays(day.year)
        and not place.resources.filter(is_active=True, observes_public_holidays=False).exists()
    ):
        raise CoworkingRuleError(
            _("Le %(day)s est un jour férié : « %(name)s » est fermé.")
            % {"day": day.strftime("%d/%m/%Y"), "name": place.name}
        )
    closure = (
        Closure.objects.filter(start__lte=at, end__gt=at)
        .filter(Q(place=place) | Q(place__isnull=True, resource__isnull=True))
        .first()
    )
    if closure is not None:
        raise CoworkingRuleError(
            _("« %(name)s » est fermé à ce moment-là (%(reason)s).")
            % {"name": place.name, "reason": closure.reason or _("fermeture")}
        )


def _check_not_yet_recorded(tiers_lieu: TiersLieu, *, member, day: dt.date) -> None:
    if CheckIn.objects.filter(tiers_lieu=tiers_lieu, member=member, day=day).exists():
        raise CoworkingConflict(_already_recorded(member))


def _bookings_of_the_day(tiers_lieu: TiersLieu, *, member, day: dt.date) -> list[Booking]:
    """The member's confirmed (or already attended) bookings at the place that day, desk
    bookings first, then by start."""
    start, end = local_day_bounds(day)
    bookings = list(
        Booking.objects.filter(
            user=member,
            place_id=tiers_lieu.place_id,
            status__in=(Booking.Status.CONFIRMED, Booking.Status.ATTENDED),
            start__lt=end,
            end__gt=start,
        )
        .select_related("desk__pass_account__offer")
        .order_by("start")
    )
    return sorted(bookings, key=lambda b: _desk_of(b) is None)


def _desk_of(booking: Booking) -> DeskBooking | None:
    try:
        return booking.desk
    except DeskBooking.DoesNotExist:
        return None


def _charges(
    bookings: list[Booking], *, member, tiers_lieu: TiersLieu, day: dt.date, now
) -> list[tuple[Pass, Booking | None, int]]:
    """What the arrival costs, as (locked pass, booking paid, half-days) — half-days 0 when
    already paid or unlimited. Raises if nothing may pay for the day."""
    desks = [d for d in map(_desk_of, bookings) if d is not None]
    if desks:
        charges = []
        for desk in desks:
            pass_account = _lock(desk.pass_account_id)
            charges.append((pass_account, desk.booking, _unpaid(desk, pass_account)))
        return charges
    if bookings:
        return []  # a room booked and invoiced, say: the booking is what admits them
    for candidate in usable_passes(member=member, tiers_lieu=tiers_lieu, day=day):
        pass_account = _lock(candidate.pk)
        if pass_account.status != Pass.Status.ACTIVE:
            continue
        if pass_account.offer.half_days == 0:
            return [(pass_account, None, 0)]
        available = available_half_days(pass_account, now=now)
        if available > 0:
            return [(pass_account, None, min(A_DAY, available))]
    raise CoworkingRuleError(
        _("Il ne reste plus de crédit sur les pass de %(name)s : proposez-lui de recharger.")
        % {"name": _name(member)}
    )


def _lock(pass_id: int) -> Pass:
    return Pass.objects.select_for_update().select_related("offer").get(pk=pass_id)


def _unpaid(desk: DeskBooking, pass_account: Pass) -> int:
    """Half-days a desk booking still owes on arrival: none if its pass is used "on booking"
    (paid at confirmation), unlimited, cancelled (credits zeroed) or already charged."""
    if (
        pass_account.offer.consumed_on != Offer.ConsumedOn.CHECK_IN
        or pass_account.offer.half_days == 0
        or pass_account.status == Pass.Status.CANCELLED
        or CreditMovement.objects.filter(
            booking_id=desk.booking_id, reason=CreditMovement.Reason.CHECK_IN
        ).exists()
    ):
        return 0
    return desk.half_days
