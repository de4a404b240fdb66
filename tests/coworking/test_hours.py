"""A place's weekly opening hours: published to the Place (periods, OpenStreetMap string) and
to its spaces' weekly rules from a day on, the past rules ended and kept; what the booking
engine offers follows; the managers' page to change them, its refusals and who may open it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking import selectors as booking_selectors
from cybercantal.booking.models import AvailabilityRule, Resource
from cybercantal.core.models import AuditLog
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.selectors.network import space_free_days
from cybercantal.coworking.services.hours import place_hours_set, space_rules_follow_place
from cybercantal.territory.models import OpeningPeriod
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import ResourceFactory, department_agent

from .factories import TiersLieuFactory, desk_pool, manager_of
from .manage_fixtures import world

pytestmark = pytest.mark.django_db

ONE_DAY = dt.timedelta(days=1)


def t(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def next_weekday(weekday: int, *, after: dt.date | None = None) -> dt.date:
    """The first `weekday` strictly after `after` (today by default)."""
    day = (after or timezone.localdate()) + ONE_DAY
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def rules_of(space) -> list[tuple]:
    return list(
        AvailabilityRule.objects.filter(resource=space)
        .order_by("valid_from", "weekday", "start_time")
        .values_list("weekday", "start_time", "end_time", "valid_from", "valid_until")
    )


MONDAY_AND_TUESDAY = [
    (0, t("09:00"), t("12:00")),
    (0, t("14:00"), t("18:00")),
    (1, t("09:00"), t("12:00")),
]


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def pool(place):
    return desk_pool(place, observes_public_holidays=False)


# --- the service --------------------------------------------------------------------------------


def test_hours_are_published_to_the_place_and_its_spaces(place, pool):
    manager = manager_of(place)
    today = timezone.localdate()
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY_AND_TUESDAY)

    place.place.refresh_from_db()
    assert place.place.opening_hours == "Mo 09:00-12:00,14:00-18:00; Tu 09:00-12:00"
    assert list(
        OpeningPeriod.objects.filter(place=place.place).values_list("weekday", "opens", "closes")
    ) == [tuple(p) for p in MONDAY_AND_TUESDAY]
    new_rules = [r for r in rules_of(pool) if r[3] == today]
    assert new_rules == [(*p, today, None) for p in MONDAY_AND_TUESDAY]
    audit = AuditLog.objects.get(action="coworking.hours_set")
    assert audit.data["hours"] == place.place.opening_hours


def test_past_rules_are_ended_the_day_before_and_kept(place, pool):
    manager = manager_of(place)
    from_day = timezone.localdate() + dt.timedelta(days=10)
    # A rule that would have started after the change: it goes.
    AvailabilityRule.objects.create(
        resource=pool, weekday=5, start_time=t("10:00"), end_time=t("12:00"), valid_from=from_day
    )
    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY_AND_TUESDAY, from_day=from_day)

    rules = rules_of(pool)
    old = [r for r in rules if r[3] is None]
    # The factory's Monday–Friday 9:00–18:00, ended the day before, still there.
    assert len(old) == 5
    assert {r[4] for r in old} == {from_day - ONE_DAY}
    assert [r for r in rules if r[3] is not None] == [
        (*p, from_day, None) for p in MONDAY_AND_TUESDAY
    ]


def test_the_booking_engine_offers_the_new_hours(place, pool):
    manager = manager_of(place)
    wednesday, monday = next_weekday(2), next_weekday(0)
    assert space_free_days([pool], [wednesday])[pool.pk, wednesday].is_open

    place_hours_set(actor=manager, tiers_lieu=place, periods=MONDAY_AND_TUESDAY)

    pool = Resource.objects.get(pk=pool.pk)  # the search reads resources afresh
    free = space_free_days([pool], [wednesday, monday])
    assert not free[pool.pk, wednesday].is_open
    assert free[pool.pk, monday].is_open
    tz = timezone.get_current_timezone()
    slots = booking_selectors.availability(
        resource=pool,
        start=dt.datetime.combine(monday, dt.time(), tzinfo=tz),
        end=dt.datetime.combine(monday + ONE_DAY, dt.time(), tzinfo=tz),
        duration=dt.timedelta(hours=4),
    )
    starts = {timezone.localtime(s.start).time() for s in slots}
    assert t("09:00") not in starts  # 9:00–13:00 crosses the lunch closing
    assert starts == {t("14:00")}


def test_another_organisations_resource_at_the_place_is_left_alone(place, pool):
    visiting = ResourceFactory(place=place.place, kind="room")  # another organisation's room
    before = rules_of(visiting)
    place_hours_set(actor=manager_of(place), tiers_lieu=place, periods=MONDAY_AND_TUESDAY)
    assert rules_of(visiting) == before


def test_a_new_space_follows_the_place(place, pool):
    place_hours_set(actor=manager_of(place), tiers_lieu=place, periods=MONDAY_AND_TUESDAY)
    room = desk_pool(place, name="Salle", kind="room", hours=[])
    space_rules_follow_place(room)
    today = timezone.localdate()
    assert rules_of(room) == [(*p, today, None) for p in MONDAY_AND_TUESDAY]


@pytest.mark.parametrize(
    ("periods", "from_day", "expected"),
    [
        ([(0, t("12:00"), t("09:00"))], None, "doit finir après son début"),
        ([(7, t("09:00"), t("12:00"))], None, "Jour de la semaine inconnu"),
        (MONDAY_AND_TUESDAY, -1, "ne peuvent pas s'appliquer au passé"),
    ],
)
def test_refusals_change_nothing(place, pool, periods, from_day, expected):
    manager = manager_of(place)
    before = rules_of(pool)
    if from_day is not None:
        from_day = timezone.localdate() + dt.timedelta(days=from_day)
    with pytest.raises(CoworkingRuleError) as info:
        place_hours_set(actor=manager, tiers_lieu=place, periods=periods, from_day=from_day)
    assert expected in info.value.message
    assert rules_of(pool) == before
    assert not OpeningPeriod.objects.filter(place=place.place).exists()


def test_only_a_manager_of_the_place_or_the_departments_staff(place, pool):
    other_manager = manager_of(TiersLieuFactory())
    member = MembershipFactory(organisation=place.place.organisation, role="resident").user
    for actor in (other_manager, member, UserFactory(), None):
        with pytest.raises(CoworkingForbidden):
            place_hours_set(actor=actor, tiers_lieu=place, periods=MONDAY_AND_TUESDAY)
    assert not OpeningPeriod.objects.filter(place=place.place).exists()
    place_hours_set(actor=department_agent(), tiers_lieu=place, periods=MONDAY_AND_TUESDAY)
    assert OpeningPeriod.objects.filter(place=place.place).count() == 3


def test_hours_set_by_hand_are_refused_while_they_follow_the_shifts(place, pool):
    place.hours_from_shifts = True
    place.save()
    with pytest.raises(CoworkingRuleError) as info:
        place_hours_set(actor=manager_of(place), tiers_lieu=place, periods=MONDAY_AND_TUESDAY)
    assert "suivent les permanences" in info.value.message


# --- the page -----------------------------------------------------------------------------------


@pytest.fixture
def w():
    return world()


def hours_url(w, place=None):
    return reverse("coworking:manage_hours", args=[(place or w.place).pk])


def week_form(**data):
    """The form posted empty (closed all week) but for `data`: {"j0_am_opens": "09:00"}."""
    form = {"from_day": timezone.localdate().isoformat()}
    for weekday in range(7):
        for part in ("am", "pm"):
            for end in ("opens", "closes"):
                form[f"j{weekday}_{part}_{end}"] = ""
    return form | data


def test_the_page_shows_the_hours_and_prefills_the_form(client, w):
    place_hours_set(actor=w.manager, tiers_lieu=w.place, periods=MONDAY_AND_TUESDAY)
    client.force_login(w.manager)
    response = client.get(hours_url(w))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Mo 09:00-12:00,14:00-18:00; Tu 09:00-12:00" in page
    assert "de 9\u00a0h à 12\u00a0h, de 14\u00a0h à 18\u00a0h" in page
    assert "<legend>Lundi</legend>" in page
    assert 'name="j0_pm_opens" value="14:00"' in page
    # Every time input has its label (the day and part said to screen readers).
    assert '<label for="id_j3_am_opens"><span class="visually-hidden">Jeudi, matin :' in page


def test_posting_the_week_publishes_it(client, w):
    client.force_login(w.manager)
    response = client.post(
        hours_url(w),
        week_form(
            j0_am_opens="09:00",
            j0_am_closes="12:00",
            j0_pm_opens="14h",
            j0_pm_closes="18 h 30",
            j4_am_opens="9h30",
            j4_am_closes="17:00",
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == hours_url(w)
    assert "Horaires enregistrés" in response.content.decode()
    w.place.place.refresh_from_db()
    assert w.place.place.opening_hours == "Mo 09:00-12:00,14:00-18:30; Fr 09:30-17:00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"j0_am_opens": "12:00", "j0_am_closes": "09:00"},
            "Lundi, matin : fermeture</a> : La fermeture doit suivre",
        ),
        (
            {"j2_pm_opens": "14:00"},
            "Mercredi, après-midi : fermeture</a> : Indiquez l&#x27;heure de fermeture",
        ),
        ({"j1_am_opens": "midi", "j1_am_closes": "14:00"}, "Indiquez une heure"),
        (
            {
                "j0_am_opens": "09:00",
                "j0_am_closes": "13:00",
                "j0_pm_opens": "12:00",
                "j0_pm_closes": "18:00",
            },
            "L&#x27;après-midi doit commencer après la fin du matin",
        ),
        ({"from_day": "2001-01-01"}, "ne peuvent pas s&#x27;appliquer au passé"),
        ({"from_day": "demain"}, "Indiquez une date"),
    ],
)
def test_bad_input_is_refused_with_a_french_message_and_changes_nothing(client, w, data, message):
    pool = Resource.objects.get(place=w.place.place)
    before = rules_of(pool)
    client.force_login(w.manager)
    response = client.post(
        hours_url(w), week_form(j3_am_opens="09:00", j3_am_closes="12:00") | data
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'id="erreurs-formulaire"' in page
    assert rules_of(pool) == before
    assert not OpeningPeriod.objects.filter(place=w.place.place).exists()


def test_hours_following_the_shifts_are_not_edited_here(client, w):
    w.place.hours_from_shifts = True
    w.place.save()
    client.force_login(w.manager)
    page = client.get(hours_url(w)).content.decode()
    assert "suivent les permanences des bénévoles" in page
    assert reverse("coworking:manage_shifts", args=[w.place.pk]) in page
    assert 'name="j0_am_opens"' not in page
    response = client.post(hours_url(w), week_form(j0_am_opens="09:00", j0_am_closes="12:00"))
    assert response.status_code == 302
    assert not OpeningPeriod.objects.filter(place=w.place.place).exists()


def test_the_managers_home_links_to_the_hours_pages(client, w):
    client.force_login(w.manager)
    page = client.get(reverse("coworking:manage_home")).content.decode()
    for name in ("manage_hours", "manage_shifts", "manage_closures"):
        assert reverse(f"coworking:{name}", args=[w.place.pk]) in page


# --- who may -----------------------------------------------------------------------------------


def hours_pages(w):
    return [
        reverse(f"coworking:{name}", args=[w.place.pk])
        for name in ("manage_hours", "manage_shifts", "manage_closures")
    ]


def test_a_manager_of_another_place_gets_404_and_changes_nothing(client, w):
    client.force_login(w.other_manager)
    for url in hours_pages(w):
        assert client.get(url).status_code == 404, url
    response = client.post(hours_url(w), week_form(j0_am_opens="09:00", j0_am_closes="12:00"))
    assert response.status_code == 404
    response = client.post(
        reverse("coworking:manage_hours_source", args=[w.place.pk]), {"from_shifts": "on"}
    )
    assert response.status_code == 404
    assert not OpeningPeriod.objects.filter(place=w.place.place).exists()


@pytest.mark.parametrize("who", ["member", "nobody"])
def test_a_member_or_anyone_else_gets_404(client, w, who):
    client.force_login(w.member if who == "member" else UserFactory())
    for url in hours_pages(w):
        assert client.get(url).status_code == 404, url
    response = client.post(hours_url(w), week_form(j0_am_opens="09:00", j0_am_closes="12:00"))
    assert response.status_code == 404


def test_someone_logged_out_is_sent_to_the_login_page(client, w):
    login = reverse("accounts:login")
    for url in hours_pages(w):
        for response in (client.get(url), client.post(url, {})):
            assert response.status_code == 302 and response["Location"].startswith(login), url


def test_the_departments_staff_opens_the_pages(client, w):
    client.force_login(department_agent())
    for url in hours_pages(w):
        assert client.get(url).status_code == 200, url
