"""Cancelling a site's or a practitioner's planned teleconsultations over a range of days in
one go (a snow day, a sick doctor, a broken cart, a site closing). The booking engine's own
day closure refuses any day holding a teleconsultation (booking_guard.py): this is the way.

All or nothing: one transaction, each consultation cancelled as services/consultations.py
does it (its booking cancelled inside telehealth_booking_flow(), the slot freed). The engine
notifies nobody (a teleconsultation's booking has no phone or e-mail): the page lists what was
cancelled so that the site's team calls the patients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError

from ..models import Consultation, Practitioner, Site
from ..selectors.cancellations import (
    RangeCancelReason,
    check_range,
    may_cancel_range,
    planned_in_range,
)
from .consultations import planned_cancel_write


def consultations_cancel_range(
    *,
    actor,
    site: Site | None = None,
    practitioner: Practitioner | None = None,
    first_day: dt.date,
    last_day: dt.date,
    reason: str,
    expected_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
) -> list[Consultation]:
    """Cancel every planned consultation of `site` or of `practitioner` (exactly one) starting
    on a local day from `first_day` to `last_day` inclusive; return them, earliest first.

    `expected_ids`: the consultations the person was shown; when the list changed meanwhile
    (one booked, closed or cancelled), nothing is cancelled and they are asked to check again.
    Every refusal is a French message and changes nothing."""
    now = now or timezone.now()
    if (site is None) == (practitioner is None):
        raise BookingRuleError(_("Choisissez un site ou un médecin (l'un des deux)."))
    if not may_cancel_range(actor, site=site, practitioner=practitioner):
        raise BookingForbidden(
            _(
                "Vous ne pouvez pas annuler ces téléconsultations : c'est l'affaire des "
                "coordinateurs du site, du médecin pour son propre agenda, ou de l'équipe "
                "télémédecine du Département."
            )
        )
    if reason not in RangeCancelReason.values:
        raise BookingRuleError(_("Choisissez le motif de l'annulation dans la liste."))
    check_range(first_day, last_day, today=timezone.localdate(now))
    with transaction.atomic():
        # Locked, then re-read: a session closed or cancelled meanwhile is not cancelled twice.
        ids = list(
            planned_in_range(
                site=site, practitioner=practitioner, first_day=first_day, last_day=last_day
            )
            .select_for_update()
            .order_by("scheduled_start", "pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            raise BookingRuleError(
                _("Aucune téléconsultation prévue du %(first)s au %(last)s : rien à annuler.")
                % {"first": f"{first_day:%d/%m/%Y}", "last": f"{last_day:%d/%m/%Y}"}
            )
        if expected_ids is not None and set(expected_ids) != set(ids):
            raise BookingConflict(
                _(
                    "La liste des téléconsultations a changé depuis que vous l'avez vue : "
                    "vérifiez-la de nouveau avant de confirmer."
                )
            )
        consultations = list(
            Consultation.objects.filter(pk__in=ids)
            .select_related("booking", "site__place", "practitioner__user", "patient")
            .order_by("scheduled_start", "pk")
        )
        chosen = RangeCancelReason(reason)
        for consultation in consultations:
            # Without consultation_cancel's per-session check: staff, who do not run
            # sessions, may clear a day; the range's permission was checked above.
            planned_cancel_write(
                actor=actor,
                consultation=consultation,
                reason=str(chosen.label),
                audit_data={"range": True, "reason": chosen.value},
            )
    return consultations
