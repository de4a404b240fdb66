"""Indicators of digital mediation for the observatory, registered in
core.registries.indicator_providers (MediationConfig.ready): the year's totals of the whole
territory, as open data.

- People helped: the distinct people recorded in the year's activity reports (a record merged
  into another counts once, as the one kept; an anonymous record is a person too), plus the
  participants counted without a record (a workshop's `participants_count` beyond its named
  participants, an individual accompaniment noted without a person). Those unnamed
  participants cannot be told apart: each one counts once per activity, so someone who came
  to three workshops without giving a name counts three times. An upper bound, said so.
- Accompaniments: individual activity reports; workshop sessions: collective ones.
- Coverage: communes with a fixed public mediation place, or a public tour stop during the
  year, within DEFAULT_RADIUS_KM by road (selectors/coverage.py says how it is estimated), and
  the population of the others (census population, public data, published whatever its size).

Counts of people and activities under PUBLISH_MIN_COUNT are not published (None): in a small
territory "3 people helped" may name them.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cybercantal.core.registries import Indicator

from .models import Activity, Beneficiary
from .selectors.coverage import DEFAULT_RADIUS_KM, coverage

PUBLISH_MIN_COUNT = 5


def _small(count: int) -> int | None:
    return count if count >= PUBLISH_MIN_COUNT else None


def people_helped(*, start: dt.date, end: dt.date) -> int:
    """Distinct recorded people plus unnamed participants of the activities of [start, end]."""
    activities = Activity.objects.filter(day__gte=start, day__lte=end)
    recorded = (
        Beneficiary.objects.filter(activities__in=activities)
        .annotate(person=Coalesce("merged_into_id", "pk"))
        .values("person")
        .distinct()
        .count()
    )
    participants = activities.aggregate(total=Sum("participants_count"))["total"] or 0
    links = Activity.beneficiaries.through.objects.filter(activity__in=activities).count()
    # participants_count is at least the number of named participants (services/activities).
    return recorded + max(participants - links, 0)


def mediation_indicators(*, year: int) -> list[Indicator]:
    """The year's headline figures of digital mediation in the whole territory."""
    start = dt.date(year, 1, 1)
    end = dt.date(year, 12, 31)
    counts = Activity.objects.filter(day__gte=start, day__lte=end).aggregate(
        individual=Count("pk", filter=Q(kind=Activity.Kind.INDIVIDUAL)),
        collective=Count("pk", filter=Q(kind=Activity.Kind.COLLECTIVE)),
    )
    days = 366 if calendar.isleap(year) else 365
    covered = coverage(radius_km=DEFAULT_RADIUS_KM, today=start, upcoming_days=days)
    share = covered.covered_share
    return [
        Indicator(
            "mediation.people_helped",
            _("Personnes aidées"),
            _small(people_helped(start=start, end=end)),
            _("personnes"),
            _(
                "Personnes distinctes notées dans les comptes rendus de l'année, plus les "
                "participants comptés sans être nommés (chacun une fois par activité : un "
                "majorant)."
            ),
        ),
        Indicator(
            "mediation.accompaniments",
            _("Accompagnements individuels"),
            _small(counts["individual"]),
            _("accompagnements"),
            _("Comptes rendus d'accompagnement individuel de l'année."),
        ),
        Indicator(
            "mediation.workshop_sessions",
            _("Séances d'ateliers collectifs"),
            _small(counts["collective"]),
            _("séances"),
            _("Comptes rendus d'atelier collectif de l'année : une séance chacun."),
        ),
        Indicator(
            "mediation.communes_covered",
            _("Communes couvertes par la médiation numérique"),
            None if share is None else round(share * 100, 1),
            "%",
            _(
                "Communes à moins de %(km)d km par la route (estimation : ligne droite × "
                "facteur de détour) d'un lieu de médiation fixe ouvert au public ou d'une "
                "étape de tournée de l'année."
            )
            % {"km": DEFAULT_RADIUS_KM},
        ),
        Indicator(
            "mediation.population_not_covered",
            _("Habitants sans médiation numérique à proximité"),
            covered.uncovered_people if covered.communes else None,
            _("habitants"),
            _(
                "Population municipale des communes non couvertes au sens de l'indicateur "
                "précédent."
            ),
        ),
    ]
