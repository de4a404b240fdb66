"""Volunteers' shifts at a tiers-lieu, and the choice of taking the public hours from them.

Each service is one transaction: permission first (a manager of the place, or the
Département's staff), then the rules (CoworkingRuleError, 422, nothing written), the change,
an audit row and — when the place's hours follow the shifts — the hours published again from
today (services.hours), in the same transaction: the public hours and the booking engine never
disagree with the shifts."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import TiersLieu, VolunteerShift
from ..perms import is_place_manager
from .hours import place_hours_from_shifts

ONE_DAY = dt.timedelta(days=1)


def _check_manager(actor, tiers_lieu: TiersLieu) -> None:
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du lieu peut organiser les permanences."))


def _republish(actor, tiers_lieu: TiersLieu) -> None:
    if tiers_lieu.hours_from_shifts:
        place_hours_from_shifts(actor=actor, tiers_lieu=tiers_lieu)


def _shift_data(shift: VolunteerShift) -> dict:
    return {
        "shift": shift.pk,
        "volunteer": shift.volunteer_name,
        "weekday": shift.weekday,
        "start": f"{shift.start_time:%H:%M}",
        "end": f"{shift.end_time:%H:%M}",
        "from": shift.valid_from.isoformat(),
        "until": shift.valid_until.isoformat() if shift.valid_until else None,
    }


def shift_add(
    *,
    actor,
    tiers_lieu: TiersLieu,
    volunteer_name: str,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    volunteer=None,
) -> VolunteerShift:
    """A volunteer keeps the place open every `weekday` from `start_time` to `end_time`,
    from `valid_from` (today by default) to `valid_until` (None: until further notice).
    `volunteer`, optional, is the account of a member of the place's operator."""
    _check_manager(actor, tiers_lieu)
    today = timezone.localdate()
    valid_from = valid_from or today
    volunteer_name = (volunteer_name or "").strip()
    if volunteer is not None and not volunteer_name:
        volunteer_name = volunteer.get_full_name() or volunteer.get_username()
    if not volunteer_name:
        raise CoworkingRuleError(_("Indiquez le nom du ou de la bénévole."))
    if weekday not in range(7):
        raise CoworkingRuleError(_("Jour de la semaine inconnu."))
    if end_time <= start_time:
        raise CoworkingRuleError(_("La permanence doit finir après son début."))
    if valid_from < today:
        raise CoworkingRuleError(_("Une permanence ne peut pas commencer dans le passé."))
    if valid_until is not None and valid_until < valid_from:
        raise CoworkingRuleError(_("Le dernier jour de la permanence doit suivre le premier."))
    if volunteer is not None and not (
        get_user_model()
        .objects.filter(
            pk=volunteer.pk,
            memberships__organisation_id=tiers_lieu.place.organisation_id,
            memberships__is_active=True,
        )
        .exists()
    ):
        raise CoworkingRuleError(_("Ce compte n'est pas membre de l'association du lieu."))
    with transaction.atomic():
        shift = VolunteerShift.objects.create(
            tiers_lieu=tiers_lieu,
            volunteer=volunteer,
            volunteer_name=volunteer_name[:150],
            weekday=weekday,
            start_time=start_time,
            end_time=end_time,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        audit_log(
            actor=actor, action="coworking.shift_add", target=tiers_lieu, data=_shift_data(shift)
        )
        _republish(actor, tiers_lieu)
    return shift


def _check_shift_of(shift: VolunteerShift, tiers_lieu: TiersLieu) -> None:
    if shift.tiers_lieu_id != tiers_lieu.pk:
        raise CoworkingForbidden(_("Cette permanence n'est pas celle de ce lieu."))


def shift_end(
    *, actor, tiers_lieu: TiersLieu, shift: VolunteerShift, last_day: dt.date
) -> VolunteerShift | None:
    """The volunteer keeps the shift until `last_day` included (yesterday at the earliest:
    stopping today). A shift that would end before it begins is deleted (returns None).
    Refused: a day before yesterday, a shift of another place."""
    _check_manager(actor, tiers_lieu)
    _check_shift_of(shift, tiers_lieu)
    yesterday = timezone.localdate() - ONE_DAY
    if last_day < yesterday:
        raise CoworkingRuleError(
            _("Le dernier jour ne peut pas être avant hier : le passé ne se change pas.")
        )
    with transaction.atomic():
        data = _shift_data(shift) | {"last_day": last_day.isoformat()}
        if last_day < shift.valid_from:
            shift.delete()
            shift = None
        else:
            shift.valid_until = last_day
            shift.save(update_fields=["valid_until"])
        audit_log(actor=actor, action="coworking.shift_end", target=tiers_lieu, data=data)
        _republish(actor, tiers_lieu)
    return shift


def shift_delete(*, actor, tiers_lieu: TiersLieu, shift: VolunteerShift) -> None:
    """Delete a shift that has not begun (entered by mistake). One that has begun is ended
    instead (shift_end), so that the hours of the past stay known."""
    _check_manager(actor, tiers_lieu)
    _check_shift_of(shift, tiers_lieu)
    if shift.valid_from <= timezone.localdate():
        raise CoworkingRuleError(
            _("Cette permanence a déjà commencé : indiquez plutôt son dernier jour.")
        )
    with transaction.atomic():
        data = _shift_data(shift)
        shift.delete()
        audit_log(actor=actor, action="coworking.shift_delete", target=tiers_lieu, data=data)
        _republish(actor, tiers_lieu)


def place_hours_source_set(*, actor, tiers_lieu: TiersLieu, from_shifts: bool) -> TiersLieu:
    """Whether the public hours follow the shifts. Switched on, the hours are published from
    the shifts at once (refused while no shift is planned: the place would show as closed
    all week). Switched off, the hours stay as they are, to be changed by hand."""
    _check_manager(actor, tiers_lieu)
    if from_shifts == tiers_lieu.hours_from_shifts:
        return tiers_lieu
    today = timezone.localdate()
    if (
        from_shifts
        and not VolunteerShift.objects.filter(tiers_lieu=tiers_lieu)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .exists()
    ):
        raise CoworkingRuleError(
            _(
                "Aucune permanence n'est prévue : le lieu paraîtrait fermé toute la semaine. "
                "Ajoutez d'abord les permanences."
            )
        )
    with transaction.atomic():
        tiers_lieu.hours_from_shifts = from_shifts
        tiers_lieu.save(update_fields=["hours_from_shifts", "updated_at"])
        audit_log(
            actor=actor,
            action="coworking.hours_source_set",
            target=tiers_lieu,
            data={"from_shifts": from_shifts},
        )
        _republish(actor, tiers_lieu)
    return tiers_lieu
