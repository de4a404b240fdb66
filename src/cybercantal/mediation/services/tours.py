"""Every write of itinerant tours.

A stop holds the booking.AvailabilityRule that puts the mediator at its place that day (weekday,
hours, valid_from = valid_until = the day): adding a stop makes the mediator bookable there,
cancelling or moving it deletes the rule and cancels the bookings made there in its hours
(booking.services.bookings_cancel_window), each person being told why, the next stops of the
tour nearby and, for a moved stop, its new date. Each service is one transaction, checks
permission first (an agent of the mediator's organisation, or staff of the Département) and
writes an audit row; messages go after commit (booking's notification task)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking import services as booking_services
from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.ical import absolute_url
from cybercantal.booking.intervals import week_of_month_matches
from cybercantal.booking.models import AvailabilityRule, Resource
from cybercantal.booking.notifications import day_text, hour_text
from cybercantal.booking.perms import TERRITORY_STAFF_ROLES, is_resource_agent
from cybercantal.core.audit import audit_log
from cybercantal.territory.models import Organisation, Place

from ..models import MediationPlace, Tour, TourStop
from ..selectors.tours import next_stops_near

DEFAULT_SERVICES = ["Aide aux démarches administratives"]


def _is_authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _works_for(actor, organisation_id: int) -> bool:
    from cybercantal.booking.perms import agent_organisation_ids

    if not _is_authenticated(actor):
        return False
    if actor.has_role(*TERRITORY_STAFF_ROLES):
        return True
    return agent_organisation_ids(actor).filter(organisation_id=organisation_id).exists()


def _check_may_run(actor, tour: Tour) -> None:
    if not (is_resource_agent(actor, tour.mediator) or _works_for(actor, tour.organisation_id)):
        raise BookingForbidden(_("Seul un agent de la structure peut modifier cette tournée."))


def tour_create(
    *, actor, organisation: Organisation, mediator: Resource, name: str, description: str = ""
) -> Tour:
    """A new tour of a mediator (a resource of kind person) of the organisation."""
    if not _works_for(actor, organisation.pk):
        raise BookingForbidden(_("Seul un agent de la structure peut créer une tournée."))
    name = " ".join((name or "").split())
    if not name:
        raise BookingRuleError(_("Indiquez le nom de la tournée."))
    if len(name) > 200:
        raise BookingRuleError(_("Le nom est trop long (200 caractères au plus)."))
    if mediator.kind != Resource.Kind.PERSON or mediator.organisation_id != organisation.pk:
        raise BookingRuleError(
            _("Choisissez un médiateur ou une médiatrice de la structure « %(org)s ».")
            % {"org": organisation.name}
        )
    with transaction.atomic():
        tour = Tour.objects.create(
            organisation=organisation,
            mediator=mediator,
            name=name,
            description=(description or "").strip(),
        )
        audit_log(actor=actor, action="mediation.tour_create", target=tour)
    return tour


def _hours(start_time: dt.time, end_time: dt.time) -> str:
    def fmt(t: dt.time) -> str:
        return f"{t.hour}h{t.minute:02d}" if t.minute else f"{t.hour}h"

    return _("de %(start)s à %(end)s") % {"start": fmt(start_time), "end": fmt(end_time)}


def _check_stop(
    *,
    tour: Tour,
    place: Place,
    day: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    today: dt.date,
    ignore: TourStop | None = None,
) -> None:
    if day < today:
        raise BookingRuleError(_("Ce jour est passé : choisissez un jour à venir."))
    if end_time <= start_time:
        raise BookingRuleError(_("L'heure de fin doit être après l'heure de début."))
    if not place.is_public:
        raise BookingRuleError(
            _("« %(place)s » n'est pas un lieu public : choisissez un lieu ouvert au public.")
            % {"place": place.name}
        )
    # Any rule of the mediator that opens that day and overlaps: another stop, of this tour or
    # another, or their usual weekly hours elsewhere — one person cannot be in two places.
    rules = (
        AvailabilityRule.objects.filter(
            resource=tour.mediator,
            weekday=day.weekday(),
            start_time__lt=end_time,
            end_time__gt=start_time,
        )
        .exclude(valid_from__gt=day)
        .exclude(valid_until__lt=day)
    )
    if ignore is not None and ignore.rule_id is not None:
        rules = rules.exclude(pk=ignore.rule_id)
    for rule in rules.select_related("place"):
        if week_of_month_matches(day, rule.week_numbers):
            where = rule.place or tour.mediator.place
            raise BookingRuleError(
                _(
                    "%(name)s est déjà attendu(e) ailleurs ce jour-là %(hours)s%(where)s : "
                    "choisissez d'autres horaires."
                )
                % {
                    "name": tour.mediator.name,
                    "hours": _hours(rule.start_time, rule.end_time),
                    "where": f" ({where.name})" if where is not None else "",
                }
            )


def _ensure_mediation_place(tour: Tour, place: Place) -> MediationPlace:
    """Each stop's place is a place of the national schema of its own, with itinerance
    « Itinérant ». A place already described (a fixed France Services receiving a bus) keeps its
    record: it is right about the place, and the schema holds one itinerance per place."""
    mediation_place, _created = MediationPlace.objects.get_or_create(
        place=place,
        defaults={
            "pivot": tour.organisation.siret or "",
            "itinerance": MediationPlace.Itinerance.ITINERANT,
            "services": list(DEFAULT_SERVICES),
        },
    )
    return mediation_place


def _create_stop(
    *, tour: Tour, place: Place, day: dt.date, start_time: dt.time, end_time: dt.time
) -> TourStop:
    rule = AvailabilityRule.objects.create(
        resource=tour.mediator,
        weekday=day.weekday(),
        start_time=start_time,
        end_time=end_time,
        valid_from=day,
        valid_until=day,
        place=place,
    )
    _ensure_mediation_place(tour, place)
    return TourStop.objects.create(
        tour=tour, place=place, day=day, start_time=start_time, end_time=end_time, rule=rule
    )


def _lock_mediator(tour: Tour) -> None:
    # Two agents adding stops at the same moment: the second sees the first's rule.
    list(Resource.objects.select_for_update().filter(pk=tour.mediator_id))


def tour_stop_add(
    *,
    actor,
    tour: Tour,
    place: Place,
    day: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    now: dt.datetime | None = None,
) -> TourStop:
    """A new dated stop: the mediator becomes bookable at the place that day, in those hours.
    Refused for a past day, hours ending before they start, a place not open to the public,
    or hours when the mediator is expected elsewhere."""
    _check_may_run(actor, tour)
    today = timezone.localdate(now) if now else timezone.localdate()
    _check_stop(
        tour=tour, place=place, day=day, start_time=start_time, end_time=end_time, today=today
    )
    with transaction.atomic():
        _lock_mediator(tour)
        _check_stop(
            tour=tour, place=place, day=day, start_time=start_time, end_time=end_time, today=today
        )
        stop = _create_stop(
            tour=tour, place=place, day=day, start_time=start_time, end_time=end_time
        )
        audit_log(
            actor=actor,
            action="mediation.tour_stop_add",
            target=stop,
            data={"place": place.pk, "day": day.isoformat()},
        )
    return stop


def _window(stop: TourStop) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(stop.day, stop.start_time, tzinfo=tz),
        dt.datetime.combine(stop.day, stop.end_time, tzinfo=tz),
    )


def _stop_label(stop: TourStop, *, year: bool = True) -> str:
    start, _end = _window(stop)
    return _("%(day)s %(hours)s, %(place)s, %(commune)s") % {
        "day": day_text(start, year=year),
        "hours": _hours(stop.start_time, stop.end_time),
        "place": stop.place.name,
        "commune": stop.place.commune.name,
    }


def _short_stop(stop: TourStop) -> str:
    """ "4/3 9h Murat": a stop in an SMS."""
    start, _end = _window(stop)
    return f"{stop.day.day}/{stop.day.month} {hour_text(start)} {stop.place.commune.name}"


def _public_page_url() -> str:
    from django.urls import NoReverseMatch, reverse

    for name in ("mediation:tour_stops_public", "booking:start"):
        try:
            return absolute_url(reverse(name))
        except NoReverseMatch:
            continue
    return ""


def _messages(stop: TourStop, *, new_stop: TourStop | None) -> tuple[str, str]:
    """The text added to the booked people's e-mail (and letter) and SMS: the new date of a
    moved stop, the next stops of the tour nearby, where to book again."""
    nearby = next_stops_near(stop, exclude=(new_stop.pk,) if new_stop else ())
    lines: list[str] = []
    sms: list[str] = []
    if new_stop is not None:
        lines.append(
            _("Cette permanence est déplacée : %(stop)s.") % {"stop": _stop_label(new_stop)}
        )
        sms.append(_("Permanence déplacée au %(stop)s.") % {"stop": _short_stop(new_stop)})
    if nearby:
        lines.append(_("Prochains passages de la tournée près de chez vous :"))
        lines += [f"- {_stop_label(s.stop)}" for s in nearby]
        sms.append(
            _("Prochains passages : %(stops)s.")
            % {"stops": ", ".join(_short_stop(s.stop) for s in nearby)}
        )
    url = _public_page_url()
    if url:
        lines.append(_("Pour reprendre rendez-vous : %(url)s") % {"url": url})
    return "\n".join(lines), " ".join(sms)


def _end_stop(
    *,
    actor,
    stop: TourStop,
    status: str,
    reason: str,
    new_stop: TourStop | None,
    now: dt.datetime | None,
) -> list:
    """Delete the stop's rule, cancel its bookings with the message, set its status."""
    extra, extra_sms = _messages(stop, new_stop=new_stop)
    start, end = _window(stop)
    cancelled = booking_services.bookings_cancel_window(
        actor=actor,
        resource=stop.tour.mediator,
        start=start,
        end=end,
        place=stop.place,
        reason=reason,
        extra=extra,
        extra_sms=extra_sms,
        now=now,
    )
    rule = stop.rule
    stop.status = status
    stop.reason = reason[:300]
    stop.rule = None
    stop.moved_to = new_stop
    stop.save(update_fields=["status", "reason", "rule", "moved_to", "updated_at"])
    if rule is not None:
        rule.delete()  # bumps the mediator's rules_version (booking.rules_cache)
    return cancelled


def _check_changeable(stop: TourStop, reason: str, today: dt.date) -> str:
    if stop.status != TourStop.Status.PLANNED:
        raise BookingRuleError(
            _("Cette étape est déjà « %(status)s ».")
            % {"status": TourStop.Status(stop.status).label.lower()}
        )
    if stop.day < today:
        raise BookingRuleError(_("Cette étape est passée : elle ne peut plus changer."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise BookingRuleError(
            _("Indiquez le motif du changement : il est envoyé aux personnes inscrites.")
        )
    return reason


def _locked_stop(stop: TourStop) -> TourStop:
    return (
        TourStop.objects.select_for_update(of=("self",))
        .select_related("tour__mediator", "tour__organisation", "place__commune", "rule")
        .get(pk=stop.pk)
    )


def tour_stop_cancel(
    *, actor, stop: TourStop, reason: str, now: dt.datetime | None = None
) -> TourStop:
    """Cancel a planned stop: its rule is deleted (nobody can book it any more) and the
    bookings made there in its hours are cancelled, each person told why and offered the next
    stops of the tour within 30 km."""
    _check_may_run(actor, stop.tour)
    today = timezone.localdate(now) if now else timezone.localdate()
    reason = _check_changeable(stop, reason, today)
    with transaction.atomic():
        stop = _locked_stop(stop)
        reason = _check_changeable(stop, reason, today)
        cancelled = _end_stop(
            actor=actor,
            stop=stop,
            status=TourStop.Status.CANCELLED,
            reason=reason,
            new_stop=None,
            now=now,
        )
        audit_log(
            actor=actor,
            action="mediation.tour_stop_cancel",
            target=stop,
            data={"reason": reason, "bookings_cancelled": len(cancelled)},
        )
    return stop


def tour_stop_move(
    *,
    actor,
    stop: TourStop,
    day: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    reason: str,
    place: Place | None = None,
    now: dt.datetime | None = None,
) -> TourStop:
    """Move a planned stop to another day, hours or place: a new stop is made (the old one's
    `moved_to`), the old one's rule deleted and its bookings cancelled, each person told the
    new date and place. Returns the new stop. The people are not moved automatically: the
    new hours may not suit them."""
    _check_may_run(actor, stop.tour)
    today = timezone.localdate(now) if now else timezone.localdate()
    reason = _check_changeable(stop, reason, today)
    place = place or stop.place
    if (place.pk, day, start_time, end_time) == (
        stop.place_id,
        stop.day,
        stop.start_time,
        stop.end_time,
    ):
        raise BookingRuleError(_("Indiquez un autre jour, d'autres horaires ou un autre lieu."))
    check = {
        "tour": stop.tour,
        "place": place,
        "day": day,
        "start_time": start_time,
        "end_time": end_time,
        "today": today,
        "ignore": stop,
    }
    _check_stop(**check)
    with transaction.atomic():
        _lock_mediator(stop.tour)
        stop = _locked_stop(stop)
        reason = _check_changeable(stop, reason, today)
        _check_stop(**{**check, "tour": stop.tour, "ignore": stop})
        new_stop = _create_stop(
            tour=stop.tour, place=place, day=day, start_time=start_time, end_time=end_time
        )
        cancelled = _end_stop(
            actor=actor,
            stop=stop,
            status=TourStop.Status.MOVED,
            reason=reason,
            new_stop=new_stop,
            now=now,
        )
        audit_log(
            actor=actor,
            action="mediation.tour_stop_move",
            target=stop,
            data={
                "to": new_stop.pk,
                "place": place.pk,
                "day": day.isoformat(),
                "reason": reason,
                "bookings_cancelled": len(cancelled),
            },
        )
    return new_stop
