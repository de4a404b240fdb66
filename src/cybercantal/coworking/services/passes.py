"""Selling passes, checking reduced-rate proofs, cancelling passes.

Each service is one transaction: permission first (a manager of the place that sells or sold
the pass, or the Département's staff), then the rules (CoworkingRuleError, 422, nothing
written), then the pass, its ledger movement and an audit row."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import CreditMovement, Offer, Pass, TiersLieu
from ..models.network import OfficeRental
from ..perms import is_place_manager
from ..selectors import pass_balance

# A sale recorded the day after (the manager types in yesterday's sales) may start yesterday.
BACKDATING_DAYS = 1


def pass_record(
    *,
    actor,
    member,
    offer: Offer,
    sold_at: TiersLieu,
    valid_from: dt.date,
    now: dt.datetime | None = None,
) -> Pass:
    """A manager of `sold_at` records that `member` bought `offer` there.

    Guarantees: a place's offer is sold only at that place, a network pass at any place of the
    network; the pass is valid `offer.validity_days` days from `valid_from` included; a reduced
    rate waits for its proof (PENDING_PROOF: its credits are in the ledger but cannot be used);
    a funded offer records its funder; the ledger receives the offer's half-days (nothing for
    an unlimited subscription). Refused with nothing written otherwise."""
    if not is_place_manager(actor, sold_at):
        raise CoworkingForbidden(_("Seul un gestionnaire du tiers-lieu peut enregistrer un pass."))
    today = timezone.localdate(now or timezone.now())
    if member is None or member.pk is None or not member.is_active or member.erased_at:
        raise CoworkingRuleError(
            _("Le pass s'enregistre au nom d'une personne qui a un compte : créez-le d'abord.")
        )
    if not offer.is_active:
        raise CoworkingRuleError(
            _("L'offre « %(offer)s » n'est plus en vente.") % {"offer": offer.label}
        )
    if offer.kind == Offer.Kind.ROOM_HOUR:
        raise CoworkingRuleError(
            _("« %(offer)s » est un tarif de salle : il se facture avec la réservation.")
            % {"offer": offer.label}
        )
    if offer.tiers_lieu_id is None:
        if not sold_at.is_in_network:
            raise CoworkingRuleError(
                _("Le pass réseau ne se vend que dans les tiers-lieux du réseau.")
            )
    elif offer.tiers_lieu_id != sold_at.pk:
        raise CoworkingRuleError(
            _("L'offre « %(offer)s » ne se vend qu'à « %(place)s ».")
            % {"offer": offer.label, "place": offer.tiers_lieu}
        )
    if valid_from < today - dt.timedelta(days=BACKDATING_DAYS):
        raise CoworkingRuleError(
            _("Le pass ne peut pas commencer avant hier : choisissez une date à partir du %(day)s.")
            % {"day": (today - dt.timedelta(days=BACKDATING_DAYS)).strftime("%d/%m/%Y")}
        )
    with transaction.atomic():
        pass_account = Pass.objects.create(
            member=member,
            offer=offer,
            sold_at=sold_at,
            valid_from=valid_from,
            valid_until=valid_from + dt.timedelta(days=offer.validity_days - 1),
            status=Pass.Status.PENDING_PROOF if offer.is_reduced else Pass.Status.ACTIVE,
            price_cents=offer.price_cents,
            funder=offer.funder,
            recorded_by=actor,
        )
        if offer.half_days:
            CreditMovement.objects.create(
                pass_account=pass_account,
                half_days=offer.half_days,
                reason=CreditMovement.Reason.PURCHASE,
                actor=actor,
            )
        audit_log(
            actor=actor,
            action="coworking.pass_record",
            target=pass_account,
            data={
                "offer": offer.pk,
                "sold_at": sold_at.pk,
                "member": member.pk,
                "half_days": offer.half_days,
                "status": pass_account.status,
            },
        )
    return pass_account


def _lock_for_manager(actor, pass_account: Pass, *, refusal: str) -> Pass:
    if not is_place_manager(actor, pass_account.sold_at):
        raise CoworkingForbidden(refusal)
    return Pass.objects.select_for_update().select_related("offer").get(pk=pass_account.pk)


def _zero_credits(pass_account: Pass, *, actor, note: str) -> int:
    """Write the CORRECTION that brings the balance to zero; returns what was removed."""
    balance = pass_balance(pass_account)
    if balance:
        CreditMovement.objects.create(
            pass_account=pass_account,
            half_days=-balance,
            reason=CreditMovement.Reason.CORRECTION,
            actor=actor,
            note=note[:300],
        )
    return balance


def _release_office(pass_account: Pass, *, actor, now: dt.datetime, reason: str) -> None:
    """A cancelled pass rented an office: the office is free from today on."""
    # services.offices builds on this module (pass_sell, BACKDATING_DAYS): imported here.
    from .offices import office_rental_release

    rental = OfficeRental.objects.filter(pass_account=pass_account).first()
    if rental is not None:
        office_rental_release(
            actor=actor, rental=rental, from_day=timezone.localdate(now), now=now, reason=reason
        )


def pass_check_proof(
    *, actor, pass_account: Pass, accepted: bool, now: dt.datetime | None = None
) -> Pass:
    """A manager of the place that sold a reduced-rate pass checks its proof: accepted, the
    pass becomes ACTIVE; refused, it is CANCELLED and its credits are zeroed (CORRECTION), and
    the office it rented, if any, is free from today on (as pass_cancel)."""
    now = now or timezone.now()
    with transaction.atomic():
        pass_account = _lock_for_manager(
            actor,
            pass_account,
            refusal=_(
                "Seul un gestionnaire du tiers-lieu qui a vendu le pass vérifie le justificatif."
            ),
        )
        if pass_account.status != Pass.Status.PENDING_PROOF:
            raise CoworkingRuleError(_("Ce pass n'attend pas de justificatif."))
        pass_account.proof_checked_by = actor
        pass_account.proof_checked_at = now
        removed = 0
        if accepted:
            pass_account.status = Pass.Status.ACTIVE
        else:
            pass_account.status = Pass.Status.CANCELLED
            removed = _zero_credits(pass_account, actor=actor, note=_("Justificatif refusé"))
            _release_office(pass_account, actor=actor, now=now, reason=_("Justificatif refusé"))
        pass_account.save(
            update_fields=["status", "proof_checked_by", "proof_checked_at", "updated_at"]
        )
        audit_log(
            actor=actor,
            action="coworking.pass_proof_accepted" if accepted else "coworking.pass_proof_refused",
            target=pass_account,
            data={"removed_half_days": removed},
        )
    return pass_account


def pass_cancel(*, actor, pass_account: Pass, reason: str, now: dt.datetime | None = None) -> Pass:
    """A manager of the place that sold the pass cancels it: CANCELLED, what was left zeroed by
    a CORRECTION carrying the reason. Cancelling a cancelled pass changes nothing. Desk
    bookings already made with it are left as they are (the manager cancels them if needed;
    their credits are not given back to a cancelled pass, see services.credits).

    The pass of an office rental (services.offices): the rental ends and the office is free
    again in the booking engine from the day of the cancellation on, in the same
    transaction (services.offices.office_rental_release)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise CoworkingRuleError(_("Indiquez le motif de l'annulation du pass."))
    now = now or timezone.now()
    with transaction.atomic():
        pass_account = _lock_for_manager(
            actor,
            pass_account,
            refusal=_("Seul un gestionnaire du tiers-lieu qui a vendu le pass peut l'annuler."),
        )
        if pass_account.status == Pass.Status.CANCELLED:
            return pass_account
        pass_account.status = Pass.Status.CANCELLED
        pass_account.save(update_fields=["status", "updated_at"])
        removed = _zero_credits(pass_account, actor=actor, note=reason)
        _release_office(pass_account, actor=actor, now=now, reason=reason)
        audit_log(
            actor=actor,
            action="coworking.pass_cancel",
            target=pass_account,
            data={"reason": reason, "removed_half_days": removed},
        )
    return pass_account
