"""Opening hours of a tiers-lieu, and what follows from them: the Place's opening periods and
OpenStreetMap string (public pages, census, API) and the weekly rules of its spaces (what the
booking engine offers).

New hours apply from a day on: the spaces' rules valid before that day are ended the day
before, not rewritten, so that past occupancy rates (booked hours against open hours) keep
the hours that were open then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.models import AvailabilityRule, Resource
from cybercantal.booking.rules_cache import rules_changed
from cybercantal.core.audit import audit_log
from cybercantal.territory.models import OpeningPeriod
from cybercantal.territory.opening_hours import Period, merge_periods, osm_from_periods

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..models import TiersLieu, VolunteerShift
from ..perms import is_place_manager
from ..selectors.network import SPACE_KINDS


def place_spaces(tiers_lieu: TiersLieu):
    """The spaces the place rents out (its operator's desk pools, desks, offices, rooms)."""
    return Resource.objects.filter(
        place_id=tiers_lieu.place_id,
        organisation_id=tiers_lieu.place.organisation_id,
        kind__in=SPACE_KINDS,
    )


def check_periods(periods: Iterable[tuple[int, dt.time, dt.time]]) -> list[Period]:
    """The periods merged, or a French refusal for a weekday out of range or a period that
    closes before it opens."""
    periods = list(periods)
    for weekday, opens, closes in periods:
        if weekday not in range(7):
            raise CoworkingRuleError(_("Jour de la semaine inconnu."))
        if closes <= opens:
            raise CoworkingRuleError(
                _("Une plage d'ouverture doit finir après son début (%(opens)s–%(closes)s).")
                % {"opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}"}
            )
    return merge_periods(periods)


def place_hours_set(
    *,
    actor,
    tiers_lieu: TiersLieu,
    periods: Iterable[tuple[int, dt.time, dt.time]],
    from_day: dt.date | None = None,
) -> list[Period]:
    """Make `periods` the weekly opening hours of the place from `from_day` (today by
    default): the Place's periods and OpenStreetMap string, and the rules of its spaces."""
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du lieu peut changer ses horaires."))
    merged = check_periods(periods)
    from_day = from_day or timezone.localdate()
    if from_day < timezone.localdate():
        raise CoworkingRuleError(_("Les nouveaux horaires ne peuvent pas s'appliquer au passé."))
    with transaction.atomic():
        _write_place_periods(tiers_lieu, merged)
        space_ids = list(place_spaces(tiers_lieu).values_list("pk", flat=True))
        for space_id in space_ids:
            _replace_space_rules(space_id, tiers_lieu.place_id, merged, from_day)
        rules_changed(space_ids)
        audit_log(
            actor=actor,
            action="coworking.hours_set",
            target=tiers_lieu,
            data={"from": from_day.isoformat(), "hours": tiers_lieu.place.opening_hours},
        )
    return merged


def space_rules_follow_place(space: Resource, *, from_day: dt.date | None = None) -> None:
    """Give a space the place's current weekly hours from `from_day` (a new space)."""
    periods = merge_periods(
        OpeningPeriod.objects.filter(place_id=space.place_id).values_list(
            "weekday", "opens", "closes"
        )
    )
    _replace_space_rules(space.pk, space.place_id, periods, from_day or timezone.localdate())
    rules_changed([space.pk])


def shifts_periods(tiers_lieu: TiersLieu, day: dt.date) -> list[Period]:
    """The weekly hours the volunteers' shifts valid on `day` keep open (merged)."""
    shifts = VolunteerShift.objects.filter(tiers_lieu=tiers_lieu, valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )
    return merge_periods(shifts.values_list("weekday", "start_time", "end_time"))


def place_hours_from_shifts(
    *, actor, tiers_lieu: TiersLieu, from_day: dt.date | None = None
) -> list[Period]:
    """Publish the hours the shifts valid on `from_day` keep open (see place_hours_set)."""
    from_day = from_day or timezone.localdate()
    return place_hours_set(
        actor=actor,
        tiers_lieu=tiers_lieu,
        periods=shifts_periods(tiers_lieu, from_day),
        from_day=from_day,
    )


def _write_place_periods(tiers_lieu: TiersLieu, periods: list[Period]) -> None:
    place = tiers_lieu.place
    place.opening_periods.all().delete()
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(place=place, weekday=p.weekday, opens=p.opens, closes=p.closes)
        for p in periods
    )
    place.opening_hours = osm_from_periods(periods)
    place.save(update_fields=["opening_hours", "updated_at"])


def _replace_space_rules(
    space_id: int, place_id: int, periods: list[Period], from_day: dt.date
) -> None:
    """Rules at the place starting on or after `from_day` go; those running across it end the
    day before; the new periods start on `from_day`. Rules elsewhere (none for a space, but a
    rule may name another place) are left alone."""
    at_place = AvailabilityRule.objects.filter(resource_id=space_id).filter(
        Q(place__isnull=True) | Q(place_id=place_id)
    )
    at_place.filter(valid_from__gte=from_day).delete()
    at_place.filter(Q(valid_from__isnull=True) | Q(valid_from__lt=from_day)).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=from_day)
    ).update(valid_until=from_day - dt.timedelta(days=1))
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(
            resource_id=space_id,
            weekday=p.weekday,
            start_time=p.opens,
            end_time=p.closes,
            valid_from=from_day,
        )
        for p in periods
    )
