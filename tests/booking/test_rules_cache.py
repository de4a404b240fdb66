"""The search keeps rules in memory (booking.rules_cache): every way of changing them shows in
the next search, in this process and in any other (they all read Resource.rules_version)."""

import datetime as dt

import pytest

from cybercantal.booking import rules_cache
from cybercantal.booking.models import AvailabilityRule, Resource

from .factories import ResourceFactory
from .test_selectors import help_desk, home, place_at, search, summary  # noqa: F401

pytestmark = pytest.mark.django_db


def first_times(service, commune):
    return [t for t, _, _ in summary(search(service, commune, limit=2))]


@pytest.fixture
def desk(help_desk):  # noqa: F811
    return ResourceFactory(
        name="Guichet", place=place_at(3), services=[help_desk], hours=[(1, "09:00", "12:00")]
    )


def test_a_saved_rule_shows_in_the_next_search(home, help_desk, desk):  # noqa: F811
    assert first_times(help_desk, home) == ["02 09:00", "02 09:30"]
    rule = desk.availability_rules.get()
    rule.start_time = dt.time(10)
    rule.save()
    assert first_times(help_desk, home) == ["02 10:00", "02 10:30"]


def test_a_deleted_rule_shows_in_the_next_search(home, help_desk, desk):  # noqa: F811
    assert first_times(help_desk, home)
    desk.availability_rules.all().delete()
    assert first_times(help_desk, home) == []


def test_rules_written_in_bulk_show_once_said_so(home, help_desk, desk):  # noqa: F811
    assert first_times(help_desk, home) == ["02 09:00", "02 09:30"]
    AvailabilityRule.objects.bulk_create(
        [AvailabilityRule(resource=desk, weekday=1, start_time=dt.time(8), end_time=dt.time(9))]
    )
    version = Resource.objects.get(pk=desk.pk).rules_version
    rules_cache.rules_changed([desk.pk])
    assert Resource.objects.get(pk=desk.pk).rules_version == version + 1
    assert first_times(help_desk, home) == ["02 08:00", "02 08:30"]


def test_moving_the_resource_moves_the_rules_without_a_place(home, help_desk, desk):  # noqa: F811
    assert first_times(help_desk, home)
    desk.place = place_at(60)  # out of the 40 km radius
    desk.save()
    assert first_times(help_desk, home) == []


def test_the_cache_is_used_and_bounded(home, help_desk, desk, django_assert_num_queries):  # noqa: F811
    search(help_desk, home)
    # Places, resources, closures and bookings (one statement), places shown: no rule.
    with django_assert_num_queries(4):
        search(help_desk, home)
    saved, rules_cache.MAX_RESOURCES = rules_cache.MAX_RESOURCES, 1
    try:
        # A second resource would make two: the cache starts again with it alone…
        ResourceFactory(place=place_at(4), services=[help_desk], hours=[(1, "09:00", "12:00")])
        search(help_desk, home)
        assert len(rules_cache._rules) == 1
        # …so the first one's rules are read again.
        with django_assert_num_queries(5):
            search(help_desk, home)
    finally:
        rules_cache.MAX_RESOURCES = saved
