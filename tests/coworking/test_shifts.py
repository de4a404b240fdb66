"""Volunteers' shifts: adding, ending, deleting; the public hours that follow from them (the
union of the shifts, published again at each change when the place takes its hours from
them, later starts and ends included); switching that on and off; the managers' page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.models import AvailabilityRule, Resource
from cybercantal.core.models import AuditLog
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.models import VolunteerShift
from cybercantal.coworking.selectors.network import space_free_days
from cybercantal.coworking.services.hours import place_hours_set
from cybercantal.coworking.services.shifts import (
    place_hours_source_set,
    shift_add,
    shift_delete,
    shift_end,
)
from cybercantal.territory.models import OpeningPeriod
from tests.accounts.factories import MembershipFactory, UserFactory

from .factories import TiersLieuFactory, desk_pool, manager_of
from .manage_fixtures import world
from .test_hours import next_weekday, t

pytestmark = pytest.mark.django_db

ONE_DAY = dt.timedelta(days=1)


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def pool(place):
    return desk_pool(place, observes_public_holidays=False)


@pytest.fixture
def manager(place):
    return manager_of(place)


def add(manager, place, name, weekday, start, end, **kwargs):
    return shift_add(
        actor=manager,
        tiers_lieu=place,
        volunteer_name=name,
        weekday=weekday,
        start_time=t(start),
        end_time=t(end),
        **kwargs,
    )


def osm(place) -> str:
    place.place.refresh_from_db()
    return place.place.opening_hours


def follow_shifts(manager, place):
    add(manager, place, "Marie", 0, "09:00", "12:00")
    place_hours_source_set(actor=manager, tiers_lieu=place, from_shifts=True)


# --- services ---------------------------------------------------------------------------------


def test_switching_on_publishes_the_union_of_the_shifts(place, pool, manager):
    add(manager, place, "Marie", 0, "09:00", "12:00")
    add(manager, place, "Paul", 0, "11:00", "14:00")
    add(manager, place, "Lina", 2, "14:00", "17:00")
    assert osm(place) == ""  # nothing published while the hours are set by hand
    place_hours_source_set(actor=manager, tiers_lieu=place, from_shifts=True)
    assert osm(place) == "Mo 09:00-14:00; We 14:00-17:00"
    assert OpeningPeriod.objects.filter(place=place.place).count() == 2
    pool = Resource.objects.get(pk=pool.pk)
    monday, tuesday = next_weekday(0), next_weekday(1)
    free = space_free_days([pool], [monday, tuesday])
    assert free[pool.pk, monday].is_open and not free[pool.pk, tuesday].is_open
    assert AuditLog.objects.filter(action="coworking.hours_source_set").exists()


def test_each_change_publishes_again_when_the_hours_follow_the_shifts(place, pool, manager):
    follow_shifts(manager, place)
    paul = add(manager, place, "Paul", 4, "16:00", "19:00")
    assert osm(place) == "Mo 09:00-12:00; Fr 16:00-19:00"
    # Paul stops after yesterday: from today, his Friday is closed.
    shift_end(
        actor=manager,
        tiers_lieu=place,
        shift=paul,
        last_day=timezone.localdate() - ONE_DAY,
    )
    assert osm(place) == "Mo 09:00-12:00"


def test_a_shift_ending_later_closes_its_hours_in_the_booking_engine_from_then(
    place, pool, manager
):
    follow_shifts(manager, place)
    last_day = timezone.localdate() + dt.timedelta(days=20)
    paul = add(manager, place, "Paul", 4, "16:00", "19:00")
    shift_end(actor=manager, tiers_lieu=place, shift=paul, last_day=last_day)
    assert osm(place) == "Mo 09:00-12:00; Fr 16:00-19:00"  # still held today
    fridays = AvailabilityRule.objects.filter(resource=pool, weekday=4, start_time=t("16:00"))
    assert list(fridays.values_list("valid_until", flat=True)) == [last_day]
    pool = Resource.objects.get(pk=pool.pk)
    friday_before, friday_after = (
        next_weekday(4, after=last_day - dt.timedelta(days=7)),
        (next_weekday(4, after=last_day)),
    )
    free = space_free_days([pool], [friday_before, friday_after])
    assert free[pool.pk, friday_before].is_open
    assert not free[pool.pk, friday_after].is_open


def test_a_shift_starting_later_opens_its_hours_from_then(place, pool, manager):
    follow_shifts(manager, place)
    first_day = timezone.localdate() + dt.timedelta(days=15)
    add(manager, place, "Lina", 2, "14:00", "17:00", valid_from=first_day)
    assert osm(place) == "Mo 09:00-12:00"
    wednesdays = AvailabilityRule.objects.filter(resource=pool, weekday=2, valid_from=first_day)
    assert wednesdays.count() == 1


def test_nothing_is_published_while_the_hours_are_set_by_hand(place, pool, manager):
    place_hours_set(actor=manager, tiers_lieu=place, periods=[(1, t("10:00"), t("12:00"))])
    add(manager, place, "Marie", 0, "09:00", "12:00")
    assert osm(place) == "Tu 10:00-12:00"


def test_ending_a_shift_that_has_not_begun_deletes_it(place, pool, manager):
    later = timezone.localdate() + dt.timedelta(days=10)
    shift = add(manager, place, "Lina", 2, "14:00", "17:00", valid_from=later)
    assert shift_end(actor=manager, tiers_lieu=place, shift=shift, last_day=later - ONE_DAY) is None
    assert not VolunteerShift.objects.exists()
    shift = add(manager, place, "Lina", 2, "14:00", "17:00", valid_from=later)
    shift_delete(actor=manager, tiers_lieu=place, shift=shift)
    assert not VolunteerShift.objects.exists()


def test_a_shift_that_has_begun_is_ended_not_deleted(place, pool, manager):
    shift = add(manager, place, "Marie", 0, "09:00", "12:00")
    with pytest.raises(CoworkingRuleError) as info:
        shift_delete(actor=manager, tiers_lieu=place, shift=shift)
    assert "déjà commencé" in info.value.message
    assert VolunteerShift.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"start_time": t("12:00"), "end_time": t("09:00")}, "doit finir après son début"),
        ({"weekday": 7}, "Jour de la semaine inconnu"),
        ({"volunteer_name": "  "}, "Indiquez le nom"),
        ({"valid_from": dt.date(2001, 1, 1)}, "dans le passé"),
        (
            {"valid_until": timezone.localdate() - ONE_DAY},
            "Le dernier jour de la permanence doit suivre le premier",
        ),
        ({"volunteer": "stranger"}, "pas membre de l'association"),
    ],
)
def test_shift_refusals_write_nothing(place, pool, manager, kwargs, expected):
    follow_shifts(manager, place)
    if kwargs.get("volunteer") == "stranger":
        kwargs["volunteer"] = UserFactory()
    data = {
        "actor": manager,
        "tiers_lieu": place,
        "volunteer_name": "Paul",
        "weekday": 1,
        "start_time": t("09:00"),
        "end_time": t("12:00"),
    } | kwargs
    with pytest.raises(CoworkingRuleError) as info:
        shift_add(**data)
    assert expected in info.value.message
    assert VolunteerShift.objects.count() == 1
    assert osm(place) == "Mo 09:00-12:00"


def test_a_member_of_the_association_may_be_named_by_account(place, manager):
    volunteer = MembershipFactory(
        organisation=place.place.organisation,
        role="resident",
        user=UserFactory(first_name="Marie", last_name="Dupont"),
    ).user
    shift = add(manager, place, "", 0, "09:00", "12:00", volunteer=volunteer)
    assert (shift.volunteer, shift.volunteer_name) == (volunteer, "Marie Dupont")


def test_ending_in_the_past_is_refused(place, manager):
    shift = add(manager, place, "Marie", 0, "09:00", "12:00")
    with pytest.raises(CoworkingRuleError):
        shift_end(
            actor=manager,
            tiers_lieu=place,
            shift=shift,
            last_day=timezone.localdate() - dt.timedelta(days=2),
        )
    shift.refresh_from_db()
    assert shift.valid_until is None


def test_only_the_places_managers(place, manager):
    shift = add(manager, place, "Marie", 0, "09:00", "12:00")
    other_place = TiersLieuFactory()
    other_manager = manager_of(other_place)
    for actor in (other_manager, UserFactory(), None):
        with pytest.raises(CoworkingForbidden):
            add(actor, place, "Paul", 1, "09:00", "12:00")
        with pytest.raises(CoworkingForbidden):
            shift_end(actor=actor, tiers_lieu=place, shift=shift, last_day=timezone.localdate())
        with pytest.raises(CoworkingForbidden):
            place_hours_source_set(actor=actor, tiers_lieu=place, from_shifts=True)
    # Through one's own place, another place's shift is refused too.
    with pytest.raises(CoworkingForbidden):
        shift_end(
            actor=other_manager,
            tiers_lieu=other_place,
            shift=shift,
            last_day=timezone.localdate(),
        )
    shift.refresh_from_db()
    assert shift.valid_until is None
    place.refresh_from_db()
    assert not place.hours_from_shifts


def test_switching_on_without_shifts_is_refused_and_off_keeps_the_hours(place, pool, manager):
    with pytest.raises(CoworkingRuleError) as info:
        place_hours_source_set(actor=manager, tiers_lieu=place, from_shifts=True)
    assert "Aucune permanence" in info.value.message
    place.refresh_from_db()
    assert not place.hours_from_shifts
    follow_shifts(manager, place)
    place_hours_source_set(actor=manager, tiers_lieu=place, from_shifts=False)
    place.refresh_from_db()
    assert not place.hours_from_shifts
    assert osm(place) == "Mo 09:00-12:00"
    add(manager, place, "Paul", 4, "16:00", "19:00")
    assert osm(place) == "Mo 09:00-12:00"


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def w():
    return world()


def shifts_url(w):
    return reverse("coworking:manage_shifts", args=[w.place.pk])


def shift_form(**data):
    return {
        "volunteer_name": "Marie",
        "volunteer": "",
        "weekday": "0",
        "start_time": "09:00",
        "end_time": "12:00",
        "valid_from": timezone.localdate().isoformat(),
        "valid_until": "",
    } | data


def test_the_page_adds_a_shift_and_shows_the_hours_that_follow(client, w):
    client.force_login(w.manager)
    response = client.post(shifts_url(w), shift_form(), follow=True)
    page = response.content.decode()
    assert "Permanence de Marie ajoutée : lundi de 9\u00a0h à 12\u00a0h." in page
    assert "Horaires publics qui en découlent" in page
    assert '<code class="osm-hours">Mo 09:00-12:00</code>' in page
    client.post(
        shifts_url(w),
        shift_form(volunteer_name="Paul", weekday="2", start_time="14h", end_time="17h"),
    )
    assert VolunteerShift.objects.filter(tiers_lieu=w.place).count() == 2
    # Switch on from the page: published at once.
    response = client.post(
        reverse("coworking:manage_hours_source", args=[w.place.pk]),
        {"from_shifts": "on", "retour": "permanences"},
    )
    assert response["Location"] == shifts_url(w)
    assert osm(w.place) == "Mo 09:00-12:00; We 14:00-17:00"
    page = client.get(reverse("coworking:manage_hours", args=[w.place.pk])).content.decode()
    assert "suivent les permanences" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"end_time": "08:00"}, "La permanence doit finir après son début."),
        ({"weekday": "9"}, "Jour de la semaine inconnu."),
        ({"volunteer_name": ""}, "Indiquez le nom du ou de la bénévole."),
        ({"valid_from": "2001-01-01"}, "ne peut pas commencer dans le passé"),
        ({"valid_until": "2001-01-01"}, "Le dernier jour doit suivre le premier."),
        ({"volunteer": "999999"}, "pas membre de l&#x27;association"),
    ],
)
def test_bad_shifts_are_refused_with_400(client, w, data, message):
    client.force_login(w.manager)
    response = client.post(shifts_url(w), shift_form(**data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not VolunteerShift.objects.exists()


def test_the_end_and_delete_pages(client, w):
    client.force_login(w.manager)
    shift = add(w.manager, w.place, "Marie", 0, "09:00", "12:00")
    url = reverse("coworking:manage_shift_end", args=[w.place.pk, shift.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"last_day": "2001-01-01"})
    assert response.status_code == 422
    assert "avant hier" in response.content.decode()
    response = client.post(url, {"last_day": "pas une date"})
    assert response.status_code == 400
    shift.refresh_from_db()
    assert shift.valid_until is None
    last_day = timezone.localdate() + dt.timedelta(days=30)
    response = client.post(url, {"last_day": last_day.isoformat()}, follow=True)
    assert "s&#x27;arrête après le" in response.content.decode()
    shift.refresh_from_db()
    assert shift.valid_until == last_day

    later = add(w.manager, w.place, "Lina", 2, "14:00", "17:00", valid_from=last_day)
    response = client.post(
        reverse("coworking:manage_shift_delete", args=[w.place.pk, later.pk]), follow=True
    )
    assert "est supprimée" in response.content.decode()
    assert not VolunteerShift.objects.filter(pk=later.pk).exists()


def test_another_places_shift_through_my_place_is_404(client, w):
    shift = add(w.other_manager, w.other_place, "Marie", 0, "09:00", "12:00")
    client.force_login(w.manager)
    assert (
        client.get(reverse("coworking:manage_shift_end", args=[w.place.pk, shift.pk])).status_code
        == 404
    )
    response = client.post(reverse("coworking:manage_shift_delete", args=[w.place.pk, shift.pk]))
    assert response.status_code == 404
    client.force_login(w.other_manager)
    for name in ("manage_shift_end", "manage_shift_delete"):
        response = client.post(
            reverse(f"coworking:{name}", args=[w.place.pk, shift.pk]),
            {"last_day": timezone.localdate().isoformat()},
        )
        assert response.status_code == 404
    assert VolunteerShift.objects.get(pk=shift.pk).valid_until is None


def test_another_manager_cannot_add_a_shift_to_my_place(client, w):
    client.force_login(w.other_manager)
    assert client.post(shifts_url(w), shift_form()).status_code == 404
    client.force_login(w.member)
    assert client.post(shifts_url(w), shift_form()).status_code == 404
    assert not VolunteerShift.objects.exists()
