"""The public hours say today's hours: set by hand from a later day, or following shifts that
start or end later, the Place's periods and OpenStreetMap string change on the day itself
(services.hours.place_hours_publish_due, the scheduler's hourly job), not when published;
the booking engine has them from the start; nothing is written when nothing changed."""

import datetime as dt

import pytest
from django.utils import timezone

from cybercantal.booking.models import AvailabilityRule
from cybercantal.core.models import AuditLog
from cybercantal.core.scheduler import periodic_jobs
from cybercantal.coworking import tasks
from cybercantal.coworking.services.hours import (
    place_hours_publish_due,
    place_hours_set,
    space_rules_follow_place,
)
from cybercantal.coworking.services.shifts import place_hours_source_set, shift_add, shift_end
from cybercantal.territory.models import OpeningPeriod

from .factories import TiersLieuFactory, desk_pool, manager_of
from .test_hours import t

pytestmark = pytest.mark.django_db

ONE_DAY = dt.timedelta(days=1)
MONDAY = [(0, t("09:00"), t("12:00"))]
TUESDAY = [(1, t("14:00"), t("18:00"))]


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def pool(place):
    return desk_pool(place, observes_public_holidays=False)


@pytest.fixture
def manager(place):
    return manager_of(place)


def published(place) -> tuple[str, list]:
    place.place.refresh_from_db()
    periods = list(
        OpeningPeriod.objects.filter(place=place.place)
        .order_by("weekday", "opens")
        .values_list("weekday", "opens", "closes")
    )
    return place.place.opening_hours, periods


def audits() -> int:
    return AuditLog.objects.filter(action="coworking.hours_published").count()


def test_hours_set_from_a_later_day_are_published_on_that_day(place, pool, manager):
    today = timezone.localdate()
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY)
    later = today + dt.timedelta(days=10)
    place_hours_set(actor=manager, tiers_lieu=place, periods=TUESDAY, from_day=later)
    # Today's hours stay public; the booking engine already has the new ones from that day.
    assert published(place) == ("Mo 09:00-12:00", MONDAY)
    assert AvailabilityRule.objects.filter(resource=pool, valid_from=later, weekday=1).exists()

    assert place_hours_publish_due(today=later - ONE_DAY) == []
    assert published(place) == ("Mo 09:00-12:00", MONDAY)
    assert [p.pk for p in place_hours_publish_due(today=later)] == [place.pk]
    assert published(place) == ("Tu 14:00-18:00", TUESDAY)
    place.refresh_from_db()
    assert place.hours_to_come == []
    assert audits() == 1


def test_the_run_is_idempotent_and_writes_nothing_when_nothing_changed(place, pool, manager):
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY)
    later = timezone.localdate() + dt.timedelta(days=3)
    place_hours_set(actor=manager, tiers_lieu=place, periods=TUESDAY, from_day=later)
    place_hours_publish_due(today=later)
    place.place.refresh_from_db()
    stamp = place.place.updated_at
    assert place_hours_publish_due(today=later) == []
    assert place_hours_publish_due(today=later + ONE_DAY) == []
    place.place.refresh_from_db()
    assert place.place.updated_at == stamp and audits() == 1


def test_two_changes_to_come_are_published_each_on_its_day(place, pool, manager):
    today = timezone.localdate()
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY)
    first, second = today + dt.timedelta(days=5), today + dt.timedelta(days=20)
    place_hours_set(actor=manager, tiers_lieu=place, periods=TUESDAY, from_day=first)
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY + TUESDAY, from_day=second)
    place_hours_publish_due(today=first)
    assert published(place)[0] == "Tu 14:00-18:00"
    place_hours_publish_due(today=second)
    assert published(place)[0] == "Mo 09:00-12:00; Tu 14:00-18:00"


def test_hours_set_from_today_replace_those_to_come(place, pool, manager):
    later = timezone.localdate() + dt.timedelta(days=5)
    place_hours_set(actor=manager, tiers_lieu=place, periods=TUESDAY, from_day=later)
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY)
    place.refresh_from_db()
    assert place.hours_to_come == []
    assert place_hours_publish_due(today=later) == []
    assert published(place)[0] == "Mo 09:00-12:00"


def test_a_new_space_gets_the_hours_to_come_as_well(place, pool, manager):
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY)
    later = timezone.localdate() + dt.timedelta(days=5)
    place_hours_set(actor=manager, tiers_lieu=place, periods=TUESDAY, from_day=later)
    room = desk_pool(place, name="Salle", kind="room", hours=[])
    space_rules_follow_place(room)
    rules = set(
        AvailabilityRule.objects.filter(resource=room).values_list(
            "weekday", "valid_from", "valid_until"
        )
    )
    assert rules == {(0, timezone.localdate(), later - ONE_DAY), (1, later, None)}


def _add(manager, place, name, weekday, start, end, **kwargs):
    return shift_add(
        actor=manager,
        tiers_lieu=place,
        volunteer_name=name,
        weekday=weekday,
        start_time=t(start),
        end_time=t(end),
        **kwargs,
    )


def test_shifts_starting_and_ending_later_change_the_public_hours_on_their_day(
    place, pool, manager
):
    today = timezone.localdate()
    _add(manager, place, "Marie", 0, "09:00", "12:00")
    place_hours_source_set(actor=manager, tiers_lieu=place, from_shifts=True)
    starts, ends = today + dt.timedelta(days=4), today + dt.timedelta(days=9)
    _add(manager, place, "Lina", 1, "14:00", "18:00", valid_from=starts)
    paul = _add(manager, place, "Paul", 4, "16:00", "19:00")
    shift_end(actor=manager, tiers_lieu=place, shift=paul, last_day=ends - ONE_DAY)
    assert published(place)[0] == "Mo 09:00-12:00; Fr 16:00-19:00"

    assert place_hours_publish_due(today=today) == []
    place_hours_publish_due(today=starts)
    assert published(place)[0] == "Mo 09:00-12:00; Tu 14:00-18:00; Fr 16:00-19:00"
    place_hours_publish_due(today=ends)
    assert published(place)[0] == "Mo 09:00-12:00; Tu 14:00-18:00"
    assert audits() == 2
    assert place_hours_publish_due(today=ends) == []


def test_places_with_hours_set_by_hand_and_nothing_to_come_are_left_alone(place, pool, manager):
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY)
    OpeningPeriod.objects.filter(place=place.place).delete()  # edited in the admin, say
    assert place_hours_publish_due() == []
    assert published(place)[1] == []


def test_the_job_is_registered_hourly_and_runs():
    job = periodic_jobs.get("coworking.hours_publish_due")
    assert job.every == dt.timedelta(hours=1)
    assert job.task is tasks.hours_publish_due_task
    assert tasks.hours_publish_due_task.call() == 0
