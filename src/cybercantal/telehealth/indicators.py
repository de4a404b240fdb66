"""Indicators of teleconsultation for the observatory (core.registries.indicator_providers; the
lead wires `register()` in registrations.py): the year's totals of the whole network, as open
data. Aggregates only, never a patient.

- Teleconsultations done: status "done" or "done with an incident", in the year (to date for
  the current year), counted like the techno-economic model (selectors/economics.py).
- Sites in service: at the end of the period, with the model's rule (marked in service and
  opened by then).
- Kilometres and euros of transport avoided: the model's network totals.
- Share of sessions with an incident: among the sessions closed in the period (done, done
  with an incident, not held), those marked "done with an incident" or with an incident
  logged.
- Median delay from request to consultation: over the teleconsultations done, from the moment
  the need was expressed (`requested_at`) to the scheduled start, in days.

Counts of teleconsultations under PUBLISH_MIN_COUNT are not published (None), nor the figures
derived from them: in a small network, "3 teleconsultations at this care home" may name them.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.core.db_functions import EpochSeconds
from cybercantal.core.registries import Indicator

from .models import Consultation
from .selectors.economics import DONE_STATUSES, network_year_totals

PUBLISH_MIN_COUNT = 5
CLOSED_STATUSES = (*DONE_STATUSES, Consultation.Status.NOT_HELD)


def _window(year: int, last_day: dt.date) -> Q:
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min))
    return Q(scheduled_start__gte=start, scheduled_start__lt=end)


def incident_share(*, year: int, last_day: dt.date) -> tuple[int, int]:
    """(sessions closed, of which with an incident) in [1 January, last_day]."""
    counts = Consultation.objects.filter(
        _window(year, last_day), status__in=CLOSED_STATUSES
    ).aggregate(
        closed=Count("pk", distinct=True),
        with_incident=Count(
            "pk",
            filter=Q(status=Consultation.Status.INCIDENT) | Q(incidents__isnull=False),
            distinct=True,
        ),
    )
    return counts["closed"], counts["with_incident"]


def median_delay_days(*, year: int, last_day: dt.date) -> float | None:
    """The median delay from request to consultation of the teleconsultations done, in days:
    the middle one or two rows of the sorted delays (no row per consultation read)."""
    delays = (
        Consultation.objects.filter(_window(year, last_day), status__in=DONE_STATUSES)
        .annotate(delay=EpochSeconds(F("scheduled_start")) - EpochSeconds(F("requested_at")))
        .order_by("delay")
        .values_list("delay", flat=True)
    )
    count = delays.count()
    if not count:
        return None
    middle = list(delays[(count - 1) // 2 : count // 2 + 1])
    return sum(middle) / len(middle) / 86400


def telehealth_indicators(*, year: int) -> list[Indicator]:
    """The year's headline figures of the teleconsultation network."""
    report = network_year_totals(year=year)
    if report is None:  # a year not begun: nothing to publish
        consultations = sites = km = euros = share = delay = None
    else:
        last_day = report.last_day
        done = report.total.consultations
        publish = done >= PUBLISH_MIN_COUNT
        sites = report.sites_in_service[-1]
        consultations = done if publish else None
        km = round(report.total.km_avoided) if publish else None
        euros = round(report.total.transport_avoided) if publish else None
        closed, with_incident = incident_share(year=year, last_day=last_day)
        share = round(100 * with_incident / closed, 1) if publish and closed else None
        days = median_delay_days(year=year, last_day=last_day) if publish else None
        delay = None if days is None else round(days, 1)
    return [
        Indicator(
            "telehealth.consultations_done",
            _("Téléconsultations réalisées"),
            consultations,
            _("téléconsultations"),
            _(
                "Téléconsultations réalisées (avec ou sans incident) dans l'année, dans tous les "
                "sites du réseau ; l'année en cours jusqu'à ce jour."
            ),
        ),
        Indicator(
            "telehealth.sites_in_service",
            _("Sites de téléconsultation en service"),
            sites,
            _("sites"),
            _("Sites marqués en service et ouverts à la fin de la période."),
        ),
        Indicator(
            "telehealth.km_avoided",
            _("Kilomètres de trajet évités"),
            km,
            "km",
            _(
                "Chaque téléconsultation réalisée évite un aller-retour entre le site et son "
                "hôpital de référence (distance par la route)."
            ),
        ),
        Indicator(
            "telehealth.transport_avoided",
            _("Transport sanitaire évité"),
            euros,
            "€",
            _(
                "Ces allers-retours au tarif de transport en vigueur le jour de la "
                "téléconsultation (ambulance, VSL ou véhicule personnel) : forfait et prix du "
                "kilomètre des tables officielles, à vérifier."
            ),
        ),
        Indicator(
            "telehealth.incident_share",
            _("Séances avec un incident"),
            share,
            "%",
            _(
                "Part des séances clôturées (réalisées ou non tenues) marquées « réalisée avec "
                "incident » ou avec un incident noté (connexion, vidéo, appareil…)."
            ),
        ),
        Indicator(
            "telehealth.median_delay",
            _("Délai médian entre la demande et la téléconsultation"),
            delay,
            _("jours"),
            _(
                "Médiane, sur les téléconsultations réalisées, du temps entre le moment où le "
                "besoin a été exprimé et le début de la téléconsultation."
            ),
        ),
    ]


def register() -> None:
    """Register the provider (called from the app's registrations)."""
    from cybercantal.core.registries import IndicatorProvider, indicator_providers

    indicator_providers.register(
        IndicatorProvider(
            key="telehealth",
            label=gettext_lazy("Téléconsultation"),
            compute=telehealth_indicators,
            order=40,
        )
    )
