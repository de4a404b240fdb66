"""The activity dashboard of digital mediation: what was done over a calendar year, month by
month, for one mediator (their own reports), one structure, or the whole territory.

Scopes and who may ask (a refusal is BookingForbidden with a French message):
- "mine": a mediator's own reports in the structures where they are still a mediator;
- "structure": every report of one structure the actor mediates for;
- "territory": every report of every structure, for the Département's staff only
  (booking.perms.TERRITORY_STAFF_ROLES). The result holds counts, theme and commune names,
  never a person: the same holds for the two other scopes.

Definitions (the page and the CSV say them in French):
- accompaniment: an individual report; workshop session: a collective one; participants: the
  people present (1 for an accompaniment, `participants_count` for a session); hours: the
  reports' durations added up (a two-hour workshop counts two hours, whatever its size).
- themes: a report with several themes counts once under each, so the theme rows add up to
  more than the reports; "skills" and "procedures" count the reports with at least one theme of
  the group (activity_vocabulary.SKILL_THEMES, PROCEDURE_THEMES).
- people helped: the distinct named beneficiaries of the reports, plus the distinct anonymous
  beneficiary records (each one is one person, counted, never named), plus the participants
  counted without a record (an accompaniment without a beneficiary, the people of a workshop
  beyond those named): these last cannot be told apart, so one who came back twice without a
  record counts twice.
- autonomy gained: among the people (records) with an autonomy noted on at least two reports of
  the period, the share whose last autonomy (latest day; the latest report on the same day) is
  higher than the first, on the scale "fait pour" < "fait avec" < "a fait seule".
- communes: people helped where they live when their record says it, otherwise where they were
  helped (a person without a residence recorded, helped in two communes, counts in each);
  remote help without a commune is counted under "commune non renseignée".

A bounded number of aggregate queries (about ten) whatever the number of reports: rows come
back per month, per theme combination, per commune or per person followed, never per report."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, ExtractMonth, Substr
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden
from cybercantal.territory.models import Commune, Organisation

from ..activity_vocabulary import PROCEDURE_THEMES, REDIRECTIONS, SKILL_THEMES, THEMES
from ..models import Activity
from ..perms import is_territory_staff
from ..structures import mediator_organisation_ids

SCOPES = ("mine", "structure", "territory")
# The autonomy scale, lowest first; its rank is written as one digit in the SQL below.
AUTONOMY_SCALE = (
    Activity.Autonomy.DONE_FOR,
    Activity.Autonomy.GUIDED,
    Activity.Autonomy.ALONE,
)
Through = Activity.beneficiaries.through


@dataclass
class MonthFigures:
    month: dt.date  # first day of the month
    accompaniments: int = 0
    workshops: int = 0
    participants: int = 0
    minutes: int = 0

    @property
    def reports(self) -> int:
        return self.accompaniments + self.workshops

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


@dataclass
class ThemeRow:
    code: str
    label: str
    group: str  # "skills" or "procedures"
    months: list[int]  # 12 counts of reports, January first

    @property
    def total(self) -> int:
        return sum(self.months)


@dataclass
class PeopleHelped:
    named: int = 0  # distinct named beneficiaries
    anonymous: int = 0  # distinct anonymous beneficiary records
    unrecorded: int = 0  # participants counted without a record

    @property
    def total(self) -> int:
        return self.named + self.anonymous + self.unrecorded


@dataclass
class AutonomyGained:
    followed: int = 0  # people with an autonomy noted on two reports or more
    gained: int = 0  # of whom the last autonomy is higher than the first

    @property
    def rate(self) -> float | None:
        return self.gained / self.followed if self.followed else None


@dataclass
class CommuneFigures:
    insee_code: str
    name: str
    latitude: float | None
    longitude: float | None
    people: int


@dataclass
class Dashboard:
    year: int
    scope: str
    organisation: Organisation | None
    months: list[MonthFigures]
    themes: list[ThemeRow]
    # Reports with at least one theme of the group, per month.
    skills_months: list[int]
    procedures_months: list[int]
    people: PeopleHelped
    # Accompaniments (individual) per autonomy noted, the scale's order; and those without.
    autonomy: list[tuple[str, str, int]]
    autonomy_unrecorded: int
    autonomy_gained: AutonomyGained
    redirections: list[tuple[str, str, int]]  # (code, label, reports), most first
    communes: list[CommuneFigures]  # most people first
    people_without_commune: int
    structures: list[tuple[str, int, int]] = field(default_factory=list)  # territory only

    @property
    def total(self) -> MonthFigures:
        total = MonthFigures(month=dt.date(self.year, 1, 1))
        for month in self.months:
            total.accompaniments += month.accompaniments
            total.workshops += month.workshops
            total.participants += month.participants
            total.minutes += month.minutes
        return total


def dashboard_scope_activities(
    *, actor, scope: str, organisation: Organisation | None = None
) -> QuerySet[Activity]:
    """The reports the actor may count in `scope`; BookingForbidden otherwise."""
    if scope == "territory":
        if not is_territory_staff(actor):
            raise BookingForbidden(
                _("Le tableau de bord du territoire est réservé aux agents du Département.")
            )
        return Activity.objects.all()
    organisation_ids = mediator_organisation_ids(actor)
    if not organisation_ids:
        raise BookingForbidden(_("Ce tableau de bord est réservé aux médiateurs numériques."))
    if scope == "mine":
        return Activity.objects.filter(mediator=actor, organisation_id__in=organisation_ids)
    if scope == "structure":
        if organisation is None or organisation.pk not in organisation_ids:
            raise BookingForbidden(
                _("Seuls les médiateurs de cette structure voient son tableau de bord.")
            )
        return Activity.objects.filter(organisation=organisation)
    raise BookingForbidden(_("Vue inconnue."))


def _month_of_day():
    """The month of `day` as a number. SQLite keeps dates as "YYYY-MM-DD" text, and Django's
    ExtractMonth calls a Python function per row there: cut the text instead."""
    if connection.vendor == "sqlite":
        return Cast(Substr("day", 6, 2), IntegerField())
    return ExtractMonth("day")


def _months(activities: QuerySet[Activity], year: int) -> list[MonthFigures]:
    months = [MonthFigures(month=dt.date(year, m, 1)) for m in range(1, 13)]
    rows = (
        activities.annotate(m=_month_of_day())
        .values("m", "kind")
        .annotate(n=Count("id"), people=Sum("participants_count"), minutes=Sum("duration_minutes"))
        .order_by()
    )
    for row in rows:
        month = months[row["m"] - 1]
        if row["kind"] == Activity.Kind.COLLECTIVE:
            month.workshops += row["n"]
        else:
            month.accompaniments += row["n"]
        month.participants += row["people"] or 0
        month.minutes += row["minutes"] or 0
    return months


def _themes(activities: QuerySet[Activity]) -> tuple[list[ThemeRow], list[int], list[int]]:
    # Grouped by the list of themes itself: as many rows as combinations used, not reports.
    rows = (
        activities.annotate(m=_month_of_day())
        .values("m", "themes")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    skills, procedures = [0] * 12, [0] * 12
    for row in rows:
        codes = set(row["themes"] or [])
        index = row["m"] - 1
        for code in codes:
            counts[code][index] += row["n"]
        if codes & SKILL_THEMES.keys():
            skills[index] += row["n"]
        if codes & PROCEDURE_THEMES.keys():
            procedures[index] += row["n"]
    themes = [
        ThemeRow(code, str(label), group, counts[code])
        for group, vocabulary in (("skills", SKILL_THEMES), ("procedures", PROCEDURE_THEMES))
        for code, label in vocabulary.items()
        if code in counts
    ]
    # Codes no longer in the vocabulary still count, under their code.
    themes += [
        ThemeRow(code, code, "procedures", months)
        for code, months in counts.items()
        if code not in THEMES
    ]
    return themes, skills, procedures


def _people(activities: QuerySet[Activity], participants: int) -> PeopleHelped:
    links = Through.objects.filter(activity__in=activities)
    people = PeopleHelped()
    recorded_links = 0
    for row in (
        links.values("beneficiary__is_anonymous")
        .annotate(people=Count("beneficiary_id", distinct=True), links=Count("id"))
        .order_by()
    ):
        recorded_links += row["links"]
        if row["beneficiary__is_anonymous"]:
            people.anonymous = row["people"]
        else:
            people.named = row["people"]
    people.unrecorded = max(participants - recorded_links, 0)
    return people


def _autonomy(activities: QuerySet[Activity]) -> tuple[list[tuple[str, str, int]], int]:
    counts = dict(
        activities.filter(kind=Activity.Kind.INDIVIDUAL)
        .values("autonomy")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("autonomy", "n")
    )
    rows = [(str(code), str(code.label), counts.get(code, 0)) for code in AUTONOMY_SCALE]
    return rows, counts.get("", 0)


def _autonomy_gained(activities: QuerySet[Activity]) -> AutonomyGained:
    """Per person seen twice or more with an autonomy noted, the first and the last (day, then
    report) autonomy as the smallest and largest of "YYYY-MM-DD" + report id + rank."""
    rank = Case(
        *(
            When(activity__autonomy=code, then=Value(str(position)))
            for position, code in enumerate(AUTONOMY_SCALE, start=1)
        ),
        default=Value("0"),
        output_field=CharField(),
    )
    # The report id as 13 digits without a function SQLite would run in Python (LPad).
    key = Concat(
        Cast("activity__day", CharField()),
        Cast(F("activity_id") + 10**12, CharField()),
        rank,
        output_field=CharField(),
    )
    rows = (
        Through.objects.filter(activity__in=activities.exclude(autonomy=""))
        .values("beneficiary_id")
        .annotate(n=Count("id"), first=Min(key), last=Max(key))
        .filter(n__gte=2)
        .order_by()
        .values_list("first", "last")
    )
    result = AutonomyGained()
    for first, last in rows:
        result.followed += 1
        if last[-1] > first[-1]:
            result.gained += 1
    return result


def _redirections(activities: QuerySet[Activity]) -> list[tuple[str, str, int]]:
    rows = (
        activities.exclude(redirected_to="")
        .values("redirected_to")
        .annotate(n=Count("id"))
        .order_by("-n", "redirected_to")
        .values_list("redirected_to", "n")
    )
    return [(code, str(REDIRECTIONS.get(code, code)), n) for code, n in rows]


def _communes(activities: QuerySet[Activity]) -> tuple[list[CommuneFigures], int]:
    people: Counter = Counter()
    links = Through.objects.filter(activity__in=activities)
    for commune_id, n in (
        links.annotate(where=Coalesce("beneficiary__commune_id", "activity__commune_id"))
        .values("where")
        .annotate(n=Count("beneficiary_id", distinct=True))
        .order_by()
        .values_list("where", "n")
    ):
        people[commune_id] += n
    # Participants without a record: where they were helped.
    for commune_id, n in (
        activities.values("commune_id")
        .annotate(n=Sum("participants_count"))
        .order_by()
        .values_list("commune_id", "n")
    ):
        people[commune_id] += n or 0
    for commune_id, n in (
        links.values("activity__commune_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("activity__commune_id", "n")
    ):
        people[commune_id] -= n
    without = max(people.pop(None, 0), 0)
    communes = Commune.objects.filter(pk__in=[pk for pk, n in people.items() if n > 0]).values(
        "pk", "insee_code", "name", "latitude", "longitude"
    )
    rows = [
        CommuneFigures(c["insee_code"], c["name"], c["latitude"], c["longitude"], people[c["pk"]])
        for c in communes
    ]
    rows.sort(key=lambda c: (-c.people, c.name))
    return rows, without


def _structures(activities: QuerySet[Activity]) -> list[tuple[str, int, int]]:
    """Per structure (territory scope): its name, reports and participants."""
    rows = (
        activities.values("organisation__name")
        .annotate(n=Count("id"), people=Sum("participants_count"))
        .order_by("-n", "organisation__name")
    )
    return [(r["organisation__name"], r["n"], r["people"] or 0) for r in rows]


def activity_dashboard(
    *, actor, year: int, scope: str, organisation: Organisation | None = None
) -> Dashboard:
    """The year's dashboard (calendar `year`) in `scope` (see the module's docstring);
    BookingForbidden when the actor may not see it. `organisation`: the structure, for the
    "structure" scope (ignored otherwise)."""
    if scope not in SCOPES:
        raise BookingForbidden(_("Vue inconnue."))
    activities = dashboard_scope_activities(actor=actor, scope=scope, organisation=organisation)
    activities = activities.filter(
        day__gte=dt.date(year, 1, 1), day__lte=dt.date(year, 12, 31)
    ).order_by()
    months = _months(activities, year)
    themes, skills, procedures = _themes(activities)
    participants = sum(m.participants for m in months)
    autonomy, autonomy_unrecorded = _autonomy(activities)
    communes, without = _communes(activities)
    return Dashboard(
        year=year,
        scope=scope,
        organisation=organisation if scope == "structure" else None,
        months=months,
        themes=themes,
        skills_months=skills,
        procedures_months=procedures,
        people=_people(activities, participants),
        autonomy=autonomy,
        autonomy_unrecorded=autonomy_unrecorded,
        autonomy_gained=_autonomy_gained(activities),
        redirections=_redirections(activities),
        communes=communes,
        people_without_commune=without,
        structures=_structures(activities) if scope == "territory" else [],
    )


def dashboard_structures(*, actor) -> list[Organisation]:
    """The structures whose dashboard the actor may open (where they are a mediator)."""
    return list(
        Organisation.objects.filter(pk__in=mediator_organisation_ids(actor)).order_by("name")
    )
