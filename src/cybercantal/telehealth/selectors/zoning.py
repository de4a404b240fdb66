"""Reading the priority zones (zones d'intervention prioritaire) kept as dated rows
(PriorityZoneCommune): which communes are in a zone on a given day, for the eligibility helper
and for the staff pages that keep the zoning.

A "zoning" is the set of communes in zone from a date on: saving one closes the rows of the
communes leaving (the day before) and opens rows for those entering, so the rows of a commune
never overlap and the history stays."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from cybercantal.core.text import normalize_search
from cybercantal.territory.models import Commune

from ..models import PriorityZoneCommune
from ..perms import is_telehealth_staff

ONE_DAY = dt.timedelta(days=1)
# A commune's INSEE code: five digits, or 2A/2B and three digits in Corsica.
INSEE_PATTERN = re.compile(r"\b(\d{5}|2[AB]\d{3})\b", re.IGNORECASE)


def in_force_on(day: dt.date) -> Q:
    """The rows in force on `day` (valid_until is inclusive, empty when open)."""
    return Q(valid_from__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))


def territory_communes() -> QuerySet[Commune]:
    """The communes of the département the platform serves (the Cantal by default)."""
    return Commune.objects.filter(department_code=settings.CYBERCANTAL_TERRITORY_CODE)


# --- for the eligibility helper -----------------------------------------------------------


@dataclass(frozen=True)
class ZoneLookup:
    """The whole dated table, read once: `in_zone(commune_id, day)` answers without another
    query, so that a list of consultations costs one query, not one per row."""

    periods: dict[int, tuple[tuple[dt.date, dt.date | None], ...]] = field(default_factory=dict)
    known: bool = False

    def in_zone(self, commune_id: int | None, day: dt.date) -> bool | None:
        """True or False on `day`; None when the platform has not been told any zoning."""
        if not self.known:
            return None
        return any(
            start <= day and (end is None or day <= end)
            for start, end in self.periods.get(commune_id, ())
        )


def priority_zone_lookup() -> ZoneLookup:
    """One query. The table is small (a département's communes times a few zonings)."""
    periods: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    rows = PriorityZoneCommune.objects.order_by().values_list(
        "commune_id", "valid_from", "valid_until"
    )
    for commune_id, start, end in rows:
        periods[commune_id].append((start, end))
    return ZoneLookup(
        periods={pk: tuple(spans) for pk, spans in periods.items()}, known=bool(periods)
    )


# --- for the staff pages ------------------------------------------------------------------


def _territory_rows() -> QuerySet[PriorityZoneCommune]:
    return PriorityZoneCommune.objects.filter(
        commune__department_code=settings.CYBERCANTAL_TERRITORY_CODE
    )


def zone_communes_on(*, actor, day: dt.date) -> QuerySet[PriorityZoneCommune]:
    """The territory's communes in zone on `day`, by name, with their row (dates, source).
    Nothing for anyone but the telehealth staff."""
    if not is_telehealth_staff(actor):
        return PriorityZoneCommune.objects.none()
    return (
        _territory_rows()
        .filter(in_force_on(day))
        .select_related("commune", "updated_by")
        .order_by("commune__name")
    )


def latest_zoning_start() -> dt.date | None:
    """The day the latest zoning took effect: the latest day a commune entered or left the
    zone (a zoning that only removes communes opens no row, it closes some). None before the
    first zoning."""
    starts = list(_territory_rows().values_list("valid_from", "valid_until"))
    days = [start for start, _end in starts] + [end + ONE_DAY for _start, end in starts if end]
    return max(days) if days else None


@dataclass(frozen=True)
class ZoningChange:
    """One zoning in the history: from `start`, who entered and who left, and its source."""

    start: dt.date
    source: str
    entered: tuple[str, ...]
    left: tuple[str, ...]


def zoning_history(*, actor) -> list[ZoningChange]:
    """Every zoning, newest first, rebuilt from the rows (one query). Staff only."""
    if not is_telehealth_staff(actor):
        return []
    entered: dict[dt.date, list[str]] = defaultdict(list)
    left: dict[dt.date, list[str]] = defaultdict(list)
    sources: dict[dt.date, str] = {}
    rows = _territory_rows().select_related("commune").order_by("commune__name")
    for row in rows:
        entered[row.valid_from].append(row.commune.name)
        sources.setdefault(row.valid_from, row.source)
        if row.valid_until is not None:
            left[row.valid_until + ONE_DAY].append(row.commune.name)
    return [
        ZoningChange(
            start=day,
            source=sources.get(day, ""),
            entered=tuple(entered.get(day, ())),
            left=tuple(left.get(day, ())),
        )
        for day in sorted(set(entered) | set(left), reverse=True)
    ]


@dataclass(frozen=True)
class CommuneResolution:
    communes: tuple[Commune, ...]
    unknown: tuple[str, ...]
    ambiguous: tuple[str, ...]


def _tokens(text: str) -> list[str]:
    parts = re.split(r"[\n;,]+", text or "")
    return [part.strip() for part in parts if part.strip()]


def communes_from_text(text: str) -> CommuneResolution:
    """The territory's communes named in `text`: one per line (or separated by ; or ,), each
    an INSEE code, a name (accents and case do not matter) or « Nom (code) » as the page
    writes them. What matches no commune of the territory is listed in `unknown`, a name
    shared by several communes in `ambiguous` (give the code). Two queries."""
    # Each token with its key (an INSEE code or a normalised name), in the order written.
    keyed: list[tuple[str, str, bool]] = []
    for token in _tokens(text):
        match = INSEE_PATTERN.search(token)
        if match:
            keyed.append((token, match.group(1).upper(), True))
        else:
            keyed.append((token, normalize_search(token), False))
    codes = {key for _token, key, is_code in keyed if is_code}
    names = {key for _token, key, is_code in keyed if not is_code}
    by_code = {c.insee_code: [c] for c in territory_communes().filter(insee_code__in=codes)}
    by_name: dict[str, list[Commune]] = defaultdict(list)
    for commune in territory_communes().filter(search_name__in=names):
        by_name[commune.search_name].append(commune)
    found: dict[int, Commune] = {}
    unknown, ambiguous = [], []
    for token, key, is_code in keyed:
        matches = (by_code if is_code else by_name).get(key, [])
        if not matches:
            unknown.append(token)
        elif len(matches) > 1:
            ambiguous.append(token)
        else:
            found[matches[0].pk] = matches[0]
    return CommuneResolution(
        communes=tuple(sorted(found.values(), key=lambda c: c.search_name)),
        unknown=tuple(dict.fromkeys(unknown)),
        ambiguous=tuple(dict.fromkeys(ambiguous)),
    )


def zoning_text(rows) -> str:
    """The communes of `rows` as the form's text area shows them, one « Nom (code) » a line."""
    return "\n".join(f"{row.commune.name} ({row.commune.insee_code})" for row in rows)
