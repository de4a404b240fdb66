"""Coverage of the territory by digital mediation: for every commune, the nearest help (a fixed
public mediation place, or a place where an itinerant tour stops in the coming days) and whether
it is within `radius_km` by road; the communes and people left without help; what adding tour
stops would change ("what if we stop here"), and the best communes for the next stops.

The same answer for every actor: it reads public places and public stops only. The page that
shows it is the Département's (views/coverage.py).

How distances are computed. A commune is its reference point (territory.Commune latitude and
longitude, near the town hall), a help is its place's coordinates. Road distance is estimated as
core.geo.road_km does: the straight line times ROAD_FACTOR. The straight line is computed with
the equirectangular approximation at the pair's mean latitude (cosine averaged over the two
points) instead of the haversine: over a département (< 200 km) it differs from the haversine by
less than 0.05 %, and it is a few multiplications per pair, so that 250 communes × 50 helps
(nearest help) and 250 candidates × the uncovered communes (suggestions) stay well under the
page's budget in pure Python. A commune's inhabitants are treated as living at its reference
point: a large commune can be partly covered; the map says it.

Priority. An uncovered commune's priority is population × (1 + share of people aged 75 or more),
so that among communes of equal size the older one comes first. The share comes from INSEE's
census (territory.age_structure, loaded with `load_commune_ages`); where it is unknown the
priority is the population alone and the page says the share is unknown.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Min
from django.utils import timezone

from cybercantal.core.geo import EARTH_RADIUS_KM, ROAD_FACTOR
from cybercantal.territory.models import Commune

from ..models import MediationPlace, TourStop

DEFAULT_RADIUS_KM = 15
MIN_RADIUS_KM = 5
MAX_RADIUS_KM = 50
DEFAULT_UPCOMING_DAYS = 90

_KM_PER_DEGREE = math.radians(1) * EARTH_RADIUS_KM


class HelpKind:
    PLACE = "lieu"
    STOP = "etape"
    PROPOSED = "envisagee"


@dataclass(frozen=True)
class HelpPoint:
    """A place where help is found: a fixed mediation place, a place where tours stop
    (`visits` stops in the window, the first on `next_day`), or a proposed stop."""

    kind: str
    name: str
    commune_name: str
    latitude: float
    longitude: float
    place_id: int | None = None
    visits: int = 0
    next_day: dt.date | None = None


@dataclass
class CommuneCoverage:
    insee_code: str
    name: str
    population: int
    latitude: float
    longitude: float
    share_75: float | None
    priority: float
    # The nearest existing help (None when there is none at all) and its road distance.
    nearest: HelpPoint | None = None
    distance_km: float | None = None
    # The nearest proposed stop, when closer than every existing help.
    proposed: HelpPoint | None = None
    proposed_km: float | None = None
    covered_before: bool = False  # by existing helps only
    covered: bool = False  # existing helps and proposed stops

    @property
    def newly_covered(self) -> bool:
        return self.covered and not self.covered_before

    @property
    def best_help(self) -> HelpPoint | None:
        return self.proposed if self.proposed is not None else self.nearest

    @property
    def best_km(self) -> float | None:
        return self.proposed_km if self.proposed is not None else self.distance_km


@dataclass
class Coverage:
    radius_km: float
    today: dt.date
    upcoming_days: int
    communes: list[CommuneCoverage]
    helps: list[HelpPoint]
    proposed: list[HelpPoint]
    _cos: list[float] = field(default_factory=list, repr=False)

    @property
    def population(self) -> int:
        return sum(c.population for c in self.communes)

    @property
    def uncovered(self) -> list[CommuneCoverage]:
        """Communes without help within the radius (proposed stops included), by priority."""
        rows = [c for c in self.communes if not c.covered]
        rows.sort(key=lambda c: (-c.priority, -c.population, c.name))
        return rows

    @property
    def uncovered_people(self) -> int:
        return sum(c.population for c in self.communes if not c.covered)

    @property
    def uncovered_before_people(self) -> int:
        return sum(c.population for c in self.communes if not c.covered_before)

    @property
    def covered_count(self) -> int:
        return sum(1 for c in self.communes if c.covered)

    @property
    def newly_covered(self) -> list[CommuneCoverage]:
        return [c for c in self.communes if c.newly_covered]

    @property
    def newly_covered_people(self) -> int:
        return sum(c.population for c in self.newly_covered)

    @property
    def covered_share(self) -> float | None:
        """Share of communes covered (0-1), None for a territory without communes."""
        return self.covered_count / len(self.communes) if self.communes else None

    def commune(self, insee_code: str) -> CommuneCoverage | None:
        for row in self.communes:
            if row.insee_code == insee_code:
                return row
        return None


@dataclass(frozen=True)
class Gain:
    """What one more stop in `commune` would cover that is not covered yet."""

    commune: CommuneCoverage
    communes: tuple[CommuneCoverage, ...]
    people: int
    priority: float


@dataclass(frozen=True)
class Suggestion(Gain):
    cumulative_people: int = 0


def _priority(population: int, share_75: float | None) -> float:
    return population * (1 + (share_75 or 0.0))


def _straight_limit(radius_km: float) -> float:
    """The straight-line distance whose road estimate is radius_km, squared."""
    return (radius_km / ROAD_FACTOR) ** 2


def _d2(lat1: float, lon1: float, cos1: float, lat2: float, lon2: float, cos2: float) -> float:
    """Squared straight-line distance in km² (equirectangular at the mean latitude)."""
    dx = (lon1 - lon2) * (cos1 + cos2) * 0.5
    dy = lat1 - lat2
    return (dx * dx + dy * dy) * _KM_PER_DEGREE * _KM_PER_DEGREE


def _road(d2: float) -> float:
    return round(math.sqrt(d2) * ROAD_FACTOR, 1)


def _commune_rows() -> list[CommuneCoverage]:
    rows = []
    for code, name, population, lat, lon, share in Commune.objects.order_by(
        "name", "insee_code"
    ).values_list("insee_code", "name", "population", "latitude", "longitude", "share_75_plus"):
        rows.append(
            CommuneCoverage(
                insee_code=code,
                name=name,
                population=population,
                latitude=lat,
                longitude=lon,
                share_75=share,
                priority=_priority(population, share),
            )
        )
    return rows


def help_points(*, today: dt.date, upcoming_days: int) -> list[HelpPoint]:
    """Fixed public mediation places, then the public places where planned stops of active
    tours fall in [today, today + upcoming_days), one point per place (a place that is also a
    fixed mediation place counts once, as fixed). Two queries."""
    fixed = list(
        MediationPlace.objects.filter(
            itinerance=MediationPlace.Itinerance.FIXED, place__is_public=True
        )
        .order_by("place__name", "place_id")
        .values_list(
            "place_id", "place__name", "place__commune__name", "place__latitude", "place__longitude"
        )
    )
    points = [
        HelpPoint(HelpKind.PLACE, name, commune, lat, lon, place_id=place_id)
        for place_id, name, commune, lat, lon in fixed
    ]
    fixed_ids = {p.place_id for p in points}
    stops = (
        TourStop.objects.filter(
            status=TourStop.Status.PLANNED,
            tour__is_active=True,
            place__is_public=True,
            day__gte=today,
            day__lt=today + dt.timedelta(days=upcoming_days),
        )
        .values(
            "place_id",
            "place__name",
            "place__commune__name",
            "place__latitude",
            "place__longitude",
        )
        .annotate(visits=Count("pk"), next_day=Min("day"))
        .order_by("place__name", "place_id")
    )
    for row in stops:
        if row["place_id"] in fixed_ids:
            continue
        points.append(
            HelpPoint(
                HelpKind.STOP,
                row["place__name"],
                row["place__commune__name"],
                row["place__latitude"],
                row["place__longitude"],
                place_id=row["place_id"],
                visits=row["visits"],
                next_day=row["next_day"],
            )
        )
    return points


def _proposed_points(extra_points: Iterable[Sequence]) -> list[HelpPoint]:
    points = []
    for item in extra_points:
        if isinstance(item, HelpPoint):
            points.append(item)
            continue
        latitude, longitude, *rest = item
        label = str(rest[0]) if rest else ""
        points.append(HelpPoint(HelpKind.PROPOSED, label, label, float(latitude), float(longitude)))
    return points


def _nearest(
    commune: CommuneCoverage, cos_c: float, points: list[HelpPoint], cos_p: list[float]
) -> tuple[HelpPoint | None, float]:
    best, best_d2 = None, math.inf
    lat, lon = commune.latitude, commune.longitude
    for point, cos_point in zip(points, cos_p, strict=True):
        dx = (lon - point.longitude) * (cos_c + cos_point) * 0.5
        dy = lat - point.latitude
        d2 = dx * dx + dy * dy
        if d2 < best_d2:
            best, best_d2 = point, d2
    return best, best_d2 * _KM_PER_DEGREE * _KM_PER_DEGREE


def coverage(
    *,
    radius_km: float,
    upcoming_days: int = DEFAULT_UPCOMING_DAYS,
    extra_points: Iterable[Sequence | HelpPoint] = (),
    today: dt.date | None = None,
) -> Coverage:
    """Every commune's nearest help and whether it is within radius_km by road (estimate),
    with and without the proposed stops `extra_points` ((latitude, longitude[, label]) or
    HelpPoint). Three queries; nothing is written."""
    today = today or timezone.localdate()
    communes = _commune_rows()
    helps = help_points(today=today, upcoming_days=upcoming_days)
    proposed = _proposed_points(extra_points)
    limit = _straight_limit(radius_km)
    cos_communes = [math.cos(math.radians(c.latitude)) for c in communes]
    cos_helps = [math.cos(math.radians(p.latitude)) for p in helps]
    cos_proposed = [math.cos(math.radians(p.latitude)) for p in proposed]
    for commune, cos_c in zip(communes, cos_communes, strict=True):
        point, d2 = _nearest(commune, cos_c, helps, cos_helps)
        if point is not None:
            commune.nearest, commune.distance_km = point, _road(d2)
        commune.covered_before = commune.covered = d2 <= limit
        if proposed:
            extra, extra_d2 = _nearest(commune, cos_c, proposed, cos_proposed)
            if extra_d2 < d2:
                commune.proposed, commune.proposed_km = extra, _road(extra_d2)
                commune.covered = commune.covered or extra_d2 <= limit
    return Coverage(
        radius_km=radius_km,
        today=today,
        upcoming_days=upcoming_days,
        communes=communes,
        helps=helps,
        proposed=proposed,
        _cos=cos_communes,
    )


def _reach(result: Coverage, targets: list[int]) -> dict[int, list[int]]:
    """For every commune (as a candidate stop), the indexes among `targets` within the
    radius of its reference point."""
    communes, cos = result.communes, result._cos
    limit = _straight_limit(result.radius_km) / (_KM_PER_DEGREE * _KM_PER_DEGREE)
    targets_data = [(t, communes[t].latitude, communes[t].longitude, cos[t]) for t in targets]
    reach = {}
    for i, candidate in enumerate(communes):
        lat, lon, cos_c = candidate.latitude, candidate.longitude, cos[i]
        near = []
        for t, t_lat, t_lon, t_cos in targets_data:
            dx = (lon - t_lon) * (cos_c + t_cos) * 0.5
            dy = lat - t_lat
            if dx * dx + dy * dy <= limit:
                near.append(t)
        if near:
            reach[i] = near
    return reach


def _gain(result: Coverage, candidate: int, covered_idx: list[int]) -> Gain:
    rows = tuple(result.communes[t] for t in covered_idx)
    return Gain(
        commune=result.communes[candidate],
        communes=tuple(sorted(rows, key=lambda c: (-c.population, c.name))),
        people=sum(c.population for c in rows),
        priority=sum(c.priority for c in rows),
    )


def communes_by_code(codes: Iterable[str]) -> dict[str, Commune]:
    """The communes of these INSEE codes (outline left out), by code. One query."""
    codes = list(codes)
    if not codes:
        return {}
    communes = Commune.objects.filter(insee_code__in=codes).only(
        "insee_code", "name", "latitude", "longitude", "population"
    )
    return {c.insee_code: c for c in communes}


def stop_gain(result: Coverage, *, insee_code: str, baseline: bool = False) -> Gain | None:
    """The communes and people still uncovered in `result` that a stop in the commune
    `insee_code` would cover (with `baseline`, uncovered by existing helps, the proposed
    stops left aside: what this stop adds on its own); None for an unknown commune. No
    query."""
    index = next((i for i, c in enumerate(result.communes) if c.insee_code == insee_code), None)
    if index is None:
        return None
    targets = [
        i
        for i, c in enumerate(result.communes)
        if not (c.covered_before if baseline else c.covered)
    ]
    limit = _straight_limit(result.radius_km)
    cos = result._cos
    me = result.communes[index]
    near = [
        t
        for t in targets
        if _d2(
            me.latitude,
            me.longitude,
            cos[index],
            result.communes[t].latitude,
            result.communes[t].longitude,
            cos[t],
        )
        <= limit
    ]
    return _gain(result, index, near)


def best_candidates(result: Coverage, *, k: int = 5) -> list[Suggestion]:
    """Up to k communes where successive stops would cover the most priority (population,
    weighted by the share of people aged 75+ when known), chosen greedily: each one given
    what the previous ones already cover. No query; about 250 × uncovered comparisons.
    Greedy is within (1 - 1/e) of the best set for this kind of problem (maximum coverage),
    and it explains itself: each step says what it adds."""
    targets = [i for i, c in enumerate(result.communes) if not c.covered]
    if not targets or k <= 0:
        return []
    reach = _reach(result, targets)
    remaining = set(targets)
    chosen: list[Suggestion] = []
    cumulative = 0
    for _ in range(k):
        best, best_key, best_near = None, None, None
        for candidate, near in reach.items():
            gained = [t for t in near if t in remaining]
            if not gained:
                continue
            # Ties go to the first commune by name (reach follows the communes' order).
            key = (
                sum(result.communes[t].priority for t in gained),
                sum(result.communes[t].population for t in gained),
            )
            if best_key is None or key > best_key:
                best, best_key, best_near = candidate, key, gained
        if best is None:
            break
        gain = _gain(result, best, best_near)
        cumulative += gain.people
        chosen.append(
            Suggestion(
                commune=gain.commune,
                communes=gain.communes,
                people=gain.people,
                priority=gain.priority,
                cumulative_people=cumulative,
            )
        )
        remaining.difference_update(best_near)
    return chosen
