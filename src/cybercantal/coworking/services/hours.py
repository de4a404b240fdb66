"""Opening hours of a tiers-lieu, and what follows from them: the Place's opening periods and
OpenStreetMap string (public pages, census, API) and the weekly rules of its spaces (what the
booking engine offers).

New hours apply from a day on: the spaces' rules valid before that day are ended the day
before, not rewritten, so that past occupancy rates (booked hours against open hours) keep
the hours that were open then.

When the hours come from the volunteers' shifts, a shift may start or end later on (Marie
stops at the end of June): the spaces then get one set of rules per stretch of days with the
same shifts, each with its validity dates, so that the booking engine never offers a slot
nobody will keep open.

The Place's periods and string always say the hours of today. The booking engine learns of a
later change at once (rules with validity dates); the public text changes on the day itself:
place_hours_publish_due, run every hour by the scheduler (coworking/tasks.py), writes the
shifts valid today for a place that follows them, and for a place whose hours were set by
hand from a later day the hours kept for that day in TiersLieu.hours_to_come. They are kept
there rather than read back from the spaces' rules because a place may have no space (or
spaces whose rules were edited in the admin): what was published is the reference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

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

ONE_DAY = dt.timedelta(days=1)


class Stretch(NamedTuple):
    """Weekly hours that hold from `first_day` to `last_day` (None: from then on)."""

    first_day: dt.date
    last_day: dt.date | None
    periods: list[Period]


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


def _check_manager(actor, tiers_lieu: TiersLieu) -> None:
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du lieu peut changer ses horaires."))


def _check_from_day(from_day: dt.date | None) -> dt.date:
    from_day = from_day or timezone.localdate()
    if from_day < timezone.localdate():
        raise CoworkingRuleError(_("Les nouveaux horaires ne peuvent pas s'appliquer au passé."))
    return from_day


def place_hours_set(
    *,
    actor,
    tiers_lieu: TiersLieu,
    periods: Iterable[tuple[int, dt.time, dt.time]],
    from_day: dt.date | None = None,
) -> list[Period]:
    """Make `periods` the weekly opening hours of the place from `from_day` (today by
    default): the Place's periods and OpenStreetMap string, and the rules of its spaces.
    Refused while the place takes its hours from the volunteers' shifts."""
    _check_manager(actor, tiers_lieu)
    if tiers_lieu.hours_from_shifts:
        raise CoworkingRuleError(
            _(
                "Les horaires de ce lieu suivent les permanences des bénévoles : changez les "
                "permanences, ou cessez de faire suivre les horaires aux permanences."
            )
        )
    merged = check_periods(periods)
    from_day = _check_from_day(from_day)
    with transaction.atomic():
        publish_hours(
            actor=actor, tiers_lieu=tiers_lieu, stretches=[Stretch(from_day, None, merged)]
        )
    return merged


def publish_hours(
    *, actor, tiers_lieu: TiersLieu, stretches: list[Stretch], today: dt.date | None = None
) -> None:
    """Write `stretches` (consecutive, the first one starting the day the change applies
    from): the spaces' rules from that day on are replaced; the Place's periods become those
    of today (the shifts valid today for a place that follows them, the first stretch's when
    it has begun), and hours set by hand from a later day wait in `hours_to_come` for
    place_hours_publish_due. To call inside the caller's transaction, permission checked."""
    today = today or timezone.localdate()
    from_day = stretches[0].first_day
    if tiers_lieu.hours_from_shifts:
        _write_place_periods(tiers_lieu, shifts_periods(tiers_lieu, today))
        _set_hours_to_come(tiers_lieu, [])
    elif from_day <= today:
        _write_place_periods(tiers_lieu, stretches[0].periods)
        _set_hours_to_come(tiers_lieu, [])
    else:
        kept = [h for h in tiers_lieu.hours_to_come if h["from"] < from_day.isoformat()]
        _set_hours_to_come(tiers_lieu, [*kept, _to_come(from_day, stretches[0].periods)])
    space_ids = list(place_spaces(tiers_lieu).values_list("pk", flat=True))
    for space_id in space_ids:
        _replace_space_rules(space_id, tiers_lieu.place_id, stretches)
    rules_changed(space_ids)
    audit_log(
        actor=actor,
        action="coworking.hours_set",
        target=tiers_lieu,
        data={
            "from": from_day.isoformat(),
            "hours": osm_from_periods(stretches[0].periods),
            "published": tiers_lieu.place.opening_hours,
            "from_shifts": tiers_lieu.hours_from_shifts,
            "later": [
                {"from": s.first_day.isoformat(), "hours": osm_from_periods(s.periods)}
                for s in stretches[1:]
            ],
        },
    )


def _to_come(from_day: dt.date, periods: list[Period]) -> dict:
    return {
        "from": from_day.isoformat(),
        "periods": [[p.weekday, f"{p.opens:%H:%M}", f"{p.closes:%H:%M}"] for p in periods],
    }


def _periods_of(entry: dict) -> list[Period]:
    return merge_periods(
        (weekday, dt.time.fromisoformat(opens), dt.time.fromisoformat(closes))
        for weekday, opens, closes in entry["periods"]
    )


def _set_hours_to_come(tiers_lieu: TiersLieu, entries: list[dict]) -> None:
    if tiers_lieu.hours_to_come != entries:
        tiers_lieu.hours_to_come = entries
        tiers_lieu.save(update_fields=["hours_to_come", "updated_at"])


def _published_periods(tiers_lieu: TiersLieu) -> list[Period]:
    return merge_periods(
        OpeningPeriod.objects.filter(place_id=tiers_lieu.place_id).values_list(
            "weekday", "opens", "closes"
        )
    )


def place_hours_publish_due(*, today: dt.date | None = None) -> list[TiersLieu]:
    """The scheduler's part (coworking/tasks.py): make each place's public hours those of
    `today` (today by default) — the shifts valid today for a place that follows them, the
    latest of its `hours_to_come` that has begun for a place whose hours were set by hand
    from a later day. Idempotent: a place whose public hours are already right is not
    written (no row, no audit). Each place in its own transaction, its row locked so that a
    manager publishing at the same moment comes before or after. Returns the places
    written."""
    today = today or timezone.localdate()
    written = []
    candidates = TiersLieu.objects.order_by("pk").values_list(
        "pk", "hours_from_shifts", "hours_to_come"
    )
    for pk, from_shifts, to_come in candidates:
        if not from_shifts and not any(h["from"] <= today.isoformat() for h in to_come):
            continue
        with transaction.atomic():
            tiers_lieu = TiersLieu.objects.select_for_update().select_related("place").get(pk=pk)
            if tiers_lieu.hours_from_shifts:
                periods = shifts_periods(tiers_lieu, today)
                left = []
            else:
                due = [h for h in tiers_lieu.hours_to_come if h["from"] <= today.isoformat()]
                if not due:
                    continue
                periods = _periods_of(due[-1])
                left = [h for h in tiers_lieu.hours_to_come if h["from"] > today.isoformat()]
            _set_hours_to_come(tiers_lieu, left)
            if periods == _published_periods(tiers_lieu):
                continue
            previous = tiers_lieu.place.opening_hours
            _write_place_periods(tiers_lieu, periods)
            audit_log(
                actor=None,
                action="coworking.hours_published",
                target=tiers_lieu,
                data={
                    "day": today.isoformat(),
                    "from": previous,
                    "to": tiers_lieu.place.opening_hours,
                    "from_shifts": tiers_lieu.hours_from_shifts,
                },
            )
            written.append(tiers_lieu)
    return written


def space_rules_follow_place(space: Resource, *, from_day: dt.date | None = None) -> None:
    """Give a space the place's current weekly hours from `from_day` (a new space); those that
    follow from the shifts, with their later changes, when the place takes them from there."""
    from_day = from_day or timezone.localdate()
    tiers_lieu = TiersLieu.objects.filter(place_id=space.place_id).first()
    if tiers_lieu is not None and tiers_lieu.hours_from_shifts:
        stretches = shifts_stretches(tiers_lieu, from_day)
    elif tiers_lieu is not None:
        stretches = _by_hand_stretches(tiers_lieu, from_day)
    else:
        periods = merge_periods(
            OpeningPeriod.objects.filter(place_id=space.place_id).values_list(
                "weekday", "opens", "closes"
            )
        )
        stretches = [Stretch(from_day, None, periods)]
    _replace_space_rules(space.pk, space.place_id, stretches)
    rules_changed([space.pk])


def _by_hand_stretches(tiers_lieu: TiersLieu, from_day: dt.date) -> list[Stretch]:
    """The hours set by hand from `from_day` on: those published, then those to come."""
    stretches = [Stretch(from_day, None, _published_periods(tiers_lieu))]
    for entry in tiers_lieu.hours_to_come:
        first_day = dt.date.fromisoformat(entry["from"])
        periods = _periods_of(entry)
        if first_day <= from_day:
            stretches = [Stretch(from_day, None, periods)]
        else:
            stretches[-1] = stretches[-1]._replace(last_day=first_day - ONE_DAY)
            stretches.append(Stretch(first_day, None, periods))
    return stretches


def _valid_on(shift: VolunteerShift, day: dt.date) -> bool:
    return shift.valid_from <= day and (shift.valid_until is None or shift.valid_until >= day)


def shifts_periods(tiers_lieu: TiersLieu, day: dt.date) -> list[Period]:
    """The weekly hours the volunteers' shifts valid on `day` keep open (merged)."""
    shifts = VolunteerShift.objects.filter(tiers_lieu=tiers_lieu, valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )
    return merge_periods(shifts.values_list("weekday", "start_time", "end_time"))


def shifts_stretches(tiers_lieu: TiersLieu, from_day: dt.date) -> list[Stretch]:
    """The weekly hours the shifts keep open from `from_day` on, one stretch per run of days
    with the same hours (a shift starting or ending later opens a new stretch)."""
    shifts = list(
        VolunteerShift.objects.filter(tiers_lieu=tiers_lieu).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=from_day)
        )
    )
    changes = {from_day}
    for shift in shifts:
        if shift.valid_from > from_day:
            changes.add(shift.valid_from)
        if shift.valid_until is not None and shift.valid_until + ONE_DAY > from_day:
            changes.add(shift.valid_until + ONE_DAY)
    stretches: list[Stretch] = []
    for day in sorted(changes):
        periods = merge_periods(
            (s.weekday, s.start_time, s.end_time) for s in shifts if _valid_on(s, day)
        )
        if stretches and stretches[-1].periods == periods:
            continue
        if stretches:
            stretches[-1] = stretches[-1]._replace(last_day=day - ONE_DAY)
        stretches.append(Stretch(day, None, periods))
    return stretches


def place_hours_from_shifts(
    *, actor, tiers_lieu: TiersLieu, from_day: dt.date | None = None
) -> list[Period]:
    """Publish the hours the shifts keep open from `from_day` on (today by default), later
    starts and ends of shifts included; returns those of `from_day`. One transaction (or part
    of the caller's)."""
    _check_manager(actor, tiers_lieu)
    from_day = _check_from_day(from_day)
    stretches = shifts_stretches(tiers_lieu, from_day)
    with transaction.atomic():
        publish_hours(actor=actor, tiers_lieu=tiers_lieu, stretches=stretches)
    return stretches[0].periods


def _write_place_periods(tiers_lieu: TiersLieu, periods: list[Period]) -> None:
    place = tiers_lieu.place
    place.opening_periods.all().delete()
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(place=place, weekday=p.weekday, opens=p.opens, closes=p.closes)
        for p in periods
    )
    place.opening_hours = osm_from_periods(periods)
    place.save(update_fields=["opening_hours", "updated_at"])


def _replace_space_rules(space_id: int, place_id: int, stretches: list[Stretch]) -> None:
    """Rules at the place starting on or after the first stretch's day go; those running
    across it end the day before; each stretch's periods are valid over its days. Rules
    elsewhere (none for a space, but a rule may name another place) are left alone."""
    from_day = stretches[0].first_day
    at_place = AvailabilityRule.objects.filter(resource_id=space_id).filter(
        Q(place__isnull=True) | Q(place_id=place_id)
    )
    at_place.filter(valid_from__gte=from_day).delete()
    at_place.filter(Q(valid_from__isnull=True) | Q(valid_from__lt=from_day)).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=from_day)
    ).update(valid_until=from_day - ONE_DAY)
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(
            resource_id=space_id,
            weekday=p.weekday,
            start_time=p.opens,
            end_time=p.closes,
            valid_from=stretch.first_day,
            valid_until=stretch.last_day,
        )
        for stretch in stretches
        for p in stretch.periods
    )
