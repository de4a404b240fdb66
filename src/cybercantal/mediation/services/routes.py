"""Home visits and the mediator's route of the day.

A home visit books the mediator (a booking.Resource of kind person) for the visit's length
inside a half-day window — 9h–12h or 14h–17h — through booking_create, so that the mediator's
time is never promised twice; the person is promised the window, not the minute (the letter
and the route page say "le matin, entre 9h et 12h").

`day_route` orders the day's visits into a round trip from the mediator's usual place (the
resource's `place`) and back: the morning's visits first, then the afternoon's (no return to
base at lunch). Distances are core.geo.road_km (great circle × ROAD_FACTOR, no road network);
driving time assumes DRIVING_SPEED_KMH = 50 km/h on average, a cautious figure for the
Cantal's winding roads (departmental roads through valleys and over passes, villages, tractors,
winter): it is an estimate to plan a day, not a navigation time.

Ordering: exact for small days (Held-Karp dynamic programming over the visits of each
half-day, chained, when each half-day has at most EXACT_LIMIT visits — a mediator's day
always does), otherwise nearest neighbour then 2-opt improvement (segment reversals within a
half-day, until none shortens the route)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking import selectors as booking_selectors
from cybercantal.booking import services as booking_services
from cybercantal.booking.availability import duration_error
from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking, Resource
from cybercantal.booking.perms import is_resource_agent
from cybercantal.booking.services import PersonDetails
from cybercantal.core.audit import audit_log
from cybercantal.core.geo import ROAD_FACTOR, road_km

from ..models import HomeVisit

DRIVING_SPEED_KMH = 50.0
EXACT_LIMIT = 10  # visits per half-day ordered exactly (2^n·n² steps)
DEFAULT_VISIT_MINUTES = 60
WINDOWS = {
    HomeVisit.Window.MORNING: (dt.time(9, 0), dt.time(12, 0)),
    HomeVisit.Window.AFTERNOON: (dt.time(14, 0), dt.time(17, 0)),
}
WINDOW_ORDER = [HomeVisit.Window.MORNING, HomeVisit.Window.AFTERNOON]

Point = tuple[float, float]


# --- Ordering (pure functions: index 0 is the base, 1..n the visits) ----------------------------


def distance_matrix(points: Sequence[Point]) -> list[list[float]]:
    """Road distance estimates (km) between every two points (latitude, longitude)."""
    return [[road_km(a[0], a[1], b[0], b[1]) for b in points] for a in points]


def route_length(dist: Sequence[Sequence[float]], order: Sequence[int]) -> float:
    """The round trip 0 → order… → 0."""
    stops = [0, *order, 0]
    return sum(dist[a][b] for a, b in itertools.pairwise(stops))


def _exact(dist, groups: Sequence[Sequence[int]]) -> list[int]:
    """Held-Karp over each group in turn: the shortest round trip visiting every group's
    stops before the next group's."""
    # costs: the best cost of the route so far ending at a node; paths: that route.
    costs: dict[int, float] = {0: 0.0}
    paths: dict[int, list[int]] = {0: []}
    for group in groups:
        if not group:
            continue
        n = len(group)
        best: dict[tuple[int, int], tuple[float, int]] = {}
        for j in range(n):
            node = group[j]
            prev = min(costs, key=lambda p: (costs[p] + dist[p][node], p))
            best[(1 << j, j)] = (costs[prev] + dist[prev][node], -1 - prev)
        for mask in range(1, 1 << n):
            for j in range(n):
                if (mask >> j) & 1 == 0 or (mask, j) not in best:
                    continue
                cost_j = best[(mask, j)][0]
                for k in range(n):
                    if (mask >> k) & 1:
                        continue
                    key = (mask | (1 << k), k)
                    candidate = cost_j + dist[group[j]][group[k]]
                    if key not in best or candidate < best[key][0] - 1e-12:
                        best[key] = (candidate, j)
        full = (1 << n) - 1
        new_costs, new_paths = {}, {}
        for j in range(n):
            cost, parent = best[(full, j)]
            mask, last, tail = full, j, []
            while True:
                tail.append(group[last])
                parent = best[(mask, last)][1]
                if parent < 0:
                    head = paths[-1 - parent]
                    break
                mask, last = mask & ~(1 << last), parent
            new_costs[group[j]] = cost
            new_paths[group[j]] = [*head, *reversed(tail)]
        costs, paths = new_costs, new_paths
    end = min(costs, key=lambda p: (costs[p] + dist[p][0], p))
    return paths[end]


def _nearest_neighbour(dist, groups: Sequence[Sequence[int]]) -> list[int]:
    order: list[int] = []
    current = 0
    for group in groups:
        left = list(group)
        while left:
            current = min(left, key=lambda k: (dist[current][k], k))
            left.remove(current)
            order.append(current)
    return order


def _two_opt(dist, order: list[int], groups: Sequence[Sequence[int]]) -> list[int]:
    """Reverse segments lying within one group while that shortens the round trip."""
    group_of = {node: g for g, group in enumerate(groups) for node in group}
    tour = [0, *order, 0]
    improved = True
    while improved:
        improved = False
        for i in range(1, len(tour) - 2):
            for j in range(i + 1, len(tour) - 1):
                if group_of[tour[i]] != group_of[tour[j]]:
                    break  # groups are contiguous: no segment from i reaches further
                a, b, c, d = tour[i - 1], tour[i], tour[j], tour[j + 1]
                if dist[a][c] + dist[b][d] < dist[a][b] + dist[c][d] - 1e-9:
                    tour[i : j + 1] = reversed(tour[i : j + 1])
                    improved = True
    return tour[1:-1]


def order_stops(
    dist: Sequence[Sequence[float]],
    groups: Sequence[Sequence[int]],
    *,
    exact_limit: int = EXACT_LIMIT,
) -> list[int]:
    """The order of the stops (indices 1..n of `dist`) for the shortest round trip from 0,
    each group's stops (a half-day's) before the next group's: exact when every group has at
    most `exact_limit` stops, else nearest neighbour improved by 2-opt."""
    groups = [list(g) for g in groups if g]
    if all(len(g) <= exact_limit for g in groups):
        return _exact(dist, groups)
    return _two_opt(dist, _nearest_neighbour(dist, groups), groups)


# --- Home visits ---------------------------------------------------------------------------------


def _window_bounds(day: dt.date, window: str) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    opens, closes = WINDOWS[window]
    return dt.datetime.combine(day, opens, tzinfo=tz), dt.datetime.combine(day, closes, tzinfo=tz)


def _check_runs(actor, mediator: Resource) -> None:
    if mediator.kind != Resource.Kind.PERSON:
        raise BookingRuleError(_("Choisissez un médiateur ou une médiatrice."))
    is_self = getattr(actor, "is_authenticated", False) and mediator.person_id == actor.pk
    if not (is_self or is_resource_agent(actor, mediator)):
        raise BookingForbidden(_("Seul un agent de la structure du médiateur peut faire cela."))


def home_visit_book(
    *,
    actor,
    mediator: Resource,
    day: dt.date,
    window: str,
    address: str,
    commune,
    person: PersonDetails | None = None,
    for_user=None,
    duration_minutes: int = DEFAULT_VISIT_MINUTES,
    latitude: float | None = None,
    longitude: float | None = None,
    now: dt.datetime | None = None,
) -> HomeVisit:
    """Book a home visit of `mediator` on a half-day (an agent of the mediator's structure,
    from a phone call): the first free `duration_minutes` of the mediator inside the window
    are held, the visit's address kept (its commune's reference point when no coordinates are
    given). Refused when the window is full, past, or the address missing."""
    now = now or timezone.now()
    _check_runs(actor, mediator)
    if window not in WINDOWS:
        raise BookingRuleError(_("Choisissez le matin ou l'après-midi."))
    address = " ".join((address or "").split())
    if not address:
        raise BookingRuleError(_("Indiquez l'adresse de la personne."))
    if len(address) > 300:
        raise BookingRuleError(_("L'adresse est trop longue (300 caractères au plus)."))
    if commune is None:
        raise BookingRuleError(_("Indiquez la commune de la personne."))
    if not 15 <= int(duration_minutes) <= 180:
        raise BookingRuleError(_("Une visite à domicile dure de 15 minutes à 3 heures."))
    window_start, window_end = _window_bounds(day, window)
    if window_end <= now:
        raise BookingRuleError(_("Cette demi-journée est passée : choisissez-en une à venir."))
    duration = dt.timedelta(minutes=int(duration_minutes))
    if error := duration_error(mediator, duration):
        raise BookingRuleError(error)
    slot = next(
        (
            s
            for s in booking_selectors.availability(
                resource=mediator,
                start=max(window_start, now),
                end=window_end,
                duration=duration,
                now=now,
            )
            if s.end <= window_end
        ),
        None,
    )
    if slot is None:
        raise BookingRuleError(
            _(
                "%(name)s n'a plus de temps libre pour une visite %(window)s : choisissez "
                "une autre demi-journée."
            )
            % {"name": mediator.name, "window": HomeVisit.Window(window).label.lower()}
        )
    with transaction.atomic():
        booking = booking_services.booking_create(
            actor=actor,
            resources=[mediator],
            start=slot.start,
            end=slot.end,
            person=person,
            for_user=for_user,
            channel=Booking.Channel.PHONE,
            notes=_("Visite à domicile : %(address)s, %(commune)s")
            % {"address": address, "commune": commune.name},
            location=f"{address}, {commune.name}",
            now=now,
        )
        visit = HomeVisit.objects.create(
            booking=booking,
            window=window,
            address=address,
            commune=commune,
            latitude=commune.latitude if latitude is None else latitude,
            longitude=commune.longitude if longitude is None else longitude,
        )
        audit_log(actor=actor, action="mediation.home_visit_book", target=visit)
    return visit


# --- The day's route -----------------------------------------------------------------------------


@dataclass
class RouteStop:
    visit: HomeVisit
    booking: Booking
    km_from_previous: float
    drive_minutes: int
    arrival: dt.datetime  # estimated
    window_label: str
    late: bool  # the estimated arrival misses the promised window


@dataclass
class DayRoute:
    mediator: Resource
    day: dt.date
    base: object  # territory.Place
    stops: list[RouteStop] = field(default_factory=list)
    km_back: float = 0.0
    total_km: float = 0.0
    drive_minutes: int = 0
    speed_kmh: float = DRIVING_SPEED_KMH
    road_factor: float = ROAD_FACTOR


def _drive_minutes(km: float) -> int:
    return math.ceil(km / DRIVING_SPEED_KMH * 60)


def day_route(*, actor, mediator: Resource, day: dt.date) -> DayRoute:
    """The mediator's home visits of `day` (not cancelled) in route order from their usual
    place and back, with estimated kilometres, driving time and arrival times (each visit
    lasting its booking's length, no one visited before the window opens). For the mediator
    and the agents of their structure (BookingForbidden otherwise)."""
    _check_runs(actor, mediator)
    base = mediator.place
    if base is None:
        raise BookingRuleError(
            _("Indiquez le lieu habituel de %(name)s : la tournée part de là et y revient.")
            % {"name": mediator.name}
        )
    tz = timezone.get_current_timezone()
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    visits = list(
        HomeVisit.objects.filter(
            booking__allocations__resource=mediator,
            booking__start__gte=day_start,
            booking__start__lt=day_start + dt.timedelta(days=1),
            booking__status__in=Booking.ACTIVE_STATUSES,
        )
        .select_related("booking__user", "commune")
        .distinct()
        .order_by("booking__start", "pk")
    )
    points = [(base.latitude, base.longitude)] + [(v.latitude, v.longitude) for v in visits]
    dist = distance_matrix(points)
    groups = [
        [i for i, v in enumerate(visits, start=1) if v.window == window] for window in WINDOW_ORDER
    ]
    order = order_stops(dist, groups)
    route = DayRoute(mediator=mediator, day=day, base=base)
    previous, clock = 0, None
    for index in order:
        visit = visits[index - 1]
        km = dist[previous][index]
        minutes = _drive_minutes(km)
        window_start, window_end = _window_bounds(day, visit.window)
        reached = clock + dt.timedelta(minutes=minutes) if clock else window_start
        arrival = max(reached, window_start)
        route.stops.append(
            RouteStop(
                visit=visit,
                booking=visit.booking,
                km_from_previous=round(km, 1),
                drive_minutes=minutes,
                arrival=arrival,
                window_label=visit.get_window_display(),
                late=arrival >= window_end,
            )
        )
        clock = arrival + (visit.booking.end - visit.booking.start)
        previous = index
    route.km_back = round(dist[previous][0], 1) if order else 0.0
    route.total_km = round(route_length(dist, order), 1)
    route.drive_minutes = sum(s.drive_minutes for s in route.stops) + (
        _drive_minutes(dist[previous][0]) if order else 0
    )
    return route
