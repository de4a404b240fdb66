"""Telehealth's indicators for the observatory (indicators.py): exact yearly figures of a small
network, nothing published under the threshold, nothing for a year not begun, and the
provider registered in core's registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cybercantal.core.registries import collect_indicators, indicator_providers
from cybercantal.telehealth.indicators import PUBLISH_MIN_COUNT, register, telehealth_indicators
from cybercantal.telehealth.models import Consultation, Incident, Site
from tests.telehealth.factories import make_site, staff_user
from tests.telehealth.test_economics import held, set_tariffs, team_at

pytestmark = pytest.mark.django_db

YEAR = 2024


def values(year: int) -> dict:
    return {indicator.key: indicator.value for indicator in telehealth_indicators(year=year)}


def incident(consultation: Consultation, kind: str = "reseau") -> Incident:
    return Incident.objects.create(
        consultation=consultation,
        kind=kind,
        fallback="telephone",
        cause="Coupure de la box",
        occurred_at=consultation.scheduled_start,
    )


@pytest.fixture
def network():
    set_tariffs(staff_user())
    site = make_site(distance_km=Decimal("53.0"), travel_minutes=45, opened_on=dt.date(2023, 1, 1))
    make_site(opened_on=dt.date(YEAR, 4, 1))
    closed = make_site(opened_on=dt.date(2022, 1, 1))
    Site.objects.filter(pk=closed.pk).update(is_active=False)
    team = team_at(site)
    first = held(team, dt.date(YEAR, 3, 11), requested_days=3)
    incident(first)
    incident(first, "video")  # two incidents, one session
    held(team, dt.date(YEAR, 3, 12), requested_days=5)
    held(team, dt.date(YEAR, 7, 10), requested_days=1)
    held(team, dt.date(YEAR, 7, 16), requested_days=7)
    held(team, dt.date(YEAR, 9, 9), requested_days=2)
    held(team, dt.date(YEAR, 9, 16), requested_days=10, status=Consultation.Status.INCIDENT)
    not_held = held(team, dt.date(YEAR, 9, 10), status=Consultation.Status.NOT_HELD)
    incident(not_held, "patient")
    held(team, dt.date(YEAR, 10, 8), status=Consultation.Status.CANCELLED)
    return team


def test_the_year_figures_of_the_network(network):
    figures = values(YEAR)
    assert figures["telehealth.consultations_done"] == 6
    assert figures["telehealth.sites_in_service"] == 2  # the closed site does not count
    assert figures["telehealth.km_avoided"] == 636  # 6 × 2 × 53
    # VSL round trips: 3 × 120 € before 15 July, 3 × 174 € after.
    assert figures["telehealth.transport_avoided"] == 882
    # Closed sessions: 6 done and 1 not held; with an incident: the first (twice), the one
    # marked "with incident", the one not held.
    assert figures["telehealth.incident_share"] == round(100 * 3 / 7, 1)
    # Delays 1, 2, 3, 5, 7, 10 days: median (3 + 5) / 2.
    assert figures["telehealth.median_delay"] == 4.0


def test_nothing_about_consultations_is_published_under_the_threshold(network):
    Consultation.objects.filter(
        scheduled_start__gte=timezone.make_aware(dt.datetime(YEAR, 7, 1))
    ).delete()
    assert Consultation.objects.filter(status__in=["realisee", "incident"]).count() == 2
    assert PUBLISH_MIN_COUNT > 2
    figures = values(YEAR)
    for key in (
        "telehealth.consultations_done",
        "telehealth.km_avoided",
        "telehealth.transport_avoided",
        "telehealth.incident_share",
        "telehealth.median_delay",
    ):
        assert figures[key] is None, key
    assert figures["telehealth.sites_in_service"] == 2


def test_a_year_not_begun_publishes_nothing(network):
    figures = values(timezone.localdate().year + 1)
    assert set(figures.values()) == {None}


def test_indicators_say_how_they_are_counted_and_name_nobody(network):
    indicators = telehealth_indicators(year=YEAR)
    assert len({i.key for i in indicators}) == 6
    for indicator in indicators:
        assert indicator.label and indicator.description and indicator.unit
        assert network["patient"].display_name not in indicator.description
        assert not isinstance(indicator.value, (list, dict))


def test_register_plugs_the_provider_into_the_observatory(network):
    was_there = "telehealth" in indicator_providers
    try:
        register()
        provider = indicator_providers.get("telehealth")
        assert provider.compute is telehealth_indicators
        answers = {a.provider.key: a.indicators for a in collect_indicators(year=YEAR)}
        done = {i.key: i.value for i in answers["telehealth"]}
        assert done["telehealth.consultations_done"] == 6
    finally:
        if not was_there:
            indicator_providers.unregister("telehealth")
