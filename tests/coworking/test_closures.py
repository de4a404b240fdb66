"""Closing a tiers-lieu for some days: one closure for the whole range, the bookings of those
days cancelled (and their people told), nothing bookable then; reopening; the refusals; the
managers' page and who may use it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.models import Allocation, Booking, Closure, Resource
from cybercantal.core.models import AuditLog
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.selectors.network import space_free_days
from cybercantal.coworking.services.closures import place_closure_add, place_closure_delete
from tests.accounts.factories import UserFactory

from .factories import desk_pool
from .manage_fixtures import world
from .test_hours import next_weekday

pytestmark = pytest.mark.django_db

ONE_DAY = dt.timedelta(days=1)


@pytest.fixture
def w():
    return world()


def pool_of(tiers_lieu) -> Resource:
    return Resource.objects.get(place=tiers_lieu.place, kind="desk_pool")


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def booked(tiers_lieu, day: dt.date, *, user=None, resource=None) -> Booking:
    """A confirmed desk booking, 9:00–13:00 on `day` (written directly: the pass rules are
    not what is tested here)."""
    resource = resource or pool_of(tiers_lieu)
    booking = Booking.objects.create(
        reference=f"C{Booking.objects.count():07d}",
        start=at(day, 9),
        end=at(day, 13),
        status=Booking.Status.CONFIRMED,
        place=resource.place,
        user=user or UserFactory(),
    )
    Allocation.objects.create(
        booking=booking,
        resource=resource,
        blocked_start=booking.start,
        blocked_end=booking.end,
        is_exclusive=False,
    )
    return booking


def status(booking) -> str:
    booking.refresh_from_db()
    return booking.status


# --- services ---------------------------------------------------------------------------------


def test_a_closure_cancels_the_bookings_of_its_days_and_closes_them(w):
    monday = next_weekday(0)
    before, first, last, after = (
        booked(w.place, monday - dt.timedelta(days=3)),  # the Friday before
        booked(w.place, monday),
        booked(w.place, monday + dt.timedelta(days=2)),
        booked(w.place, monday + dt.timedelta(days=3)),
    )
    other_place = booked(w.other_place, monday, resource=desk_pool(w.other_place))

    closure, cancelled = place_closure_add(
        actor=w.manager,
        tiers_lieu=w.place,
        first_day=monday,
        last_day=monday + dt.timedelta(days=2),
        reason="Congés",
    )

    assert sorted(b.pk for b in cancelled) == sorted([first.pk, last.pk])
    assert (status(first), status(last)) == ("cancelled", "cancelled")
    assert {status(before), status(after), status(other_place)} == {"confirmed"}
    assert first.transitions.filter(to_status="cancelled", reason="Congés").exists()
    assert Closure.objects.get() == closure
    assert closure.place == w.place.place
    assert (closure.start, closure.end) == (at(monday, 0), at(monday + dt.timedelta(days=3), 0))
    # The booking engine no longer offers those days; the next day is open.
    pool = pool_of(w.place)
    free = space_free_days([pool], [monday, monday + dt.timedelta(days=3)])
    assert not free[pool.pk, monday].is_open
    assert free[pool.pk, monday + dt.timedelta(days=3)].is_open


def test_people_are_told_after_commit(w, django_capture_on_commit_callbacks):
    monday = next_weekday(0)
    booked(w.place, monday)
    with django_capture_on_commit_callbacks() as callbacks:
        place_closure_add(
            actor=w.manager, tiers_lieu=w.place, first_day=monday, last_day=monday, reason="Neige"
        )
    assert callbacks  # the booking's notification task, queued once committed


@pytest.mark.parametrize(
    ("first", "last", "reason", "expected"),
    [
        (5, 3, "Neige", "doit suivre le premier"),
        (-3, 2, "Neige", "ne peut pas commencer dans le passé"),
        (3, 5, "   ", "Indiquez le motif"),
        (3, 500, "Travaux", "au plus un an"),
    ],
)
def test_refusals_change_nothing(w, first, last, reason, expected):
    today = timezone.localdate()
    booking = booked(w.place, today + dt.timedelta(days=4))
    with pytest.raises(CoworkingRuleError) as info:
        place_closure_add(
            actor=w.manager,
            tiers_lieu=w.place,
            first_day=today + dt.timedelta(days=first),
            last_day=today + dt.timedelta(days=last),
            reason=reason,
        )
    assert expected in info.value.message
    assert not Closure.objects.exists()
    assert status(booking) == "confirmed"


def test_only_the_places_managers_close_or_reopen_it(w):
    today = timezone.localdate()
    booking = booked(w.place, today + dt.timedelta(days=4))
    for actor in (w.other_manager, w.member, UserFactory(), None):
        with pytest.raises(CoworkingForbidden):
            place_closure_add(
                actor=actor,
                tiers_lieu=w.place,
                first_day=today + ONE_DAY,
                last_day=today + dt.timedelta(days=5),
                reason="Neige",
            )
    assert not Closure.objects.exists()
    assert status(booking) == "confirmed"
    closure, _ = place_closure_add(
        actor=w.manager, tiers_lieu=w.place, first_day=today, last_day=today, reason="Neige"
    )
    with pytest.raises(CoworkingForbidden):
        place_closure_delete(actor=w.other_manager, tiers_lieu=w.place, closure=closure)
    with pytest.raises(CoworkingForbidden):  # through one's own place
        place_closure_delete(actor=w.other_manager, tiers_lieu=w.other_place, closure=closure)
    assert Closure.objects.filter(pk=closure.pk).exists()


def test_reopening_deletes_a_closure_to_come_and_ends_one_under_way(w):
    now = timezone.now()
    future = Closure.objects.create(
        place=w.place.place, start=now + dt.timedelta(days=2), end=now + dt.timedelta(days=3)
    )
    under_way = Closure.objects.create(
        place=w.place.place, start=now - dt.timedelta(hours=2), end=now + dt.timedelta(days=1)
    )
    over = Closure.objects.create(
        place=w.place.place, start=now - dt.timedelta(days=3), end=now - dt.timedelta(days=2)
    )
    place_closure_delete(actor=w.manager, tiers_lieu=w.place, closure=future)
    assert not Closure.objects.filter(pk=future.pk).exists()
    place_closure_delete(actor=w.manager, tiers_lieu=w.place, closure=under_way, now=now)
    under_way.refresh_from_db()
    assert under_way.end == now
    with pytest.raises(CoworkingRuleError):
        place_closure_delete(actor=w.manager, tiers_lieu=w.place, closure=over)
    assert AuditLog.objects.filter(action="coworking.closure_delete").count() == 2


# --- pages ------------------------------------------------------------------------------------


def closures_url(w):
    return reverse("coworking:manage_closures", args=[w.place.pk])


def test_the_page_closes_the_place_and_says_how_many_bookings_were_cancelled(client, w):
    monday = next_weekday(0)
    bookings = [booked(w.place, monday), booked(w.place, monday + ONE_DAY)]
    client.force_login(w.manager)
    response = client.post(
        closures_url(w),
        {
            "first_day": monday.isoformat(),
            "last_day": (monday + ONE_DAY).isoformat(),
            "reason": "Neige",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Fermeture enregistrée" in page
    assert "2 réservations annulées" in page
    assert {status(b) for b in bookings} == {"cancelled"}
    assert Closure.objects.count() == 1
    assert "Neige" in page  # listed among the closures to come
    # One day only when the last day is left empty.
    client.post(
        closures_url(w),
        {"first_day": (monday + dt.timedelta(days=7)).isoformat(), "reason": "Travaux"},
    )
    closure = Closure.objects.get(reason="Travaux")
    assert closure.end - closure.start == dt.timedelta(days=1)


def test_the_list_shows_a_closure_of_one_of_the_spaces_not_another_places(client, w):
    now = timezone.now()
    Closure.objects.create(
        resource=pool_of(w.place),
        start=now + ONE_DAY,
        end=now + dt.timedelta(days=2),
        reason="Peinture de l'open space",
    )
    Closure.objects.create(
        place=w.other_place.place,
        start=now + ONE_DAY,
        end=now + dt.timedelta(days=2),
        reason="Ailleurs",
    )
    client.force_login(w.manager)
    page = client.get(closures_url(w)).content.decode()
    assert "Peinture de l&#x27;open space" in page
    assert "Ailleurs" not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Indiquez le motif de la fermeture."),
        ({"first_day": "2001-01-01"}, "ne peut pas commencer dans le passé"),
        ({"last_day": "today"}, "Indiquez une date"),
        ({"first_day": "+5", "last_day": "+2"}, "doit suivre le premier"),
    ],
)
def test_bad_closures_are_refused_with_400(client, w, data, message):
    today = timezone.localdate()

    def day(value):
        return (today + dt.timedelta(days=int(value[1:]))).isoformat()

    form = {"first_day": day("+1"), "last_day": day("+2"), "reason": "Neige"}
    form |= {k: day(v) if v.startswith("+") else v for k, v in data.items()}
    booking = booked(w.place, today + ONE_DAY)
    client.force_login(w.manager)
    response = client.post(closures_url(w), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Closure.objects.exists()
    assert status(booking) == "confirmed"


def test_reopening_from_the_page(client, w):
    now = timezone.now()
    closure = Closure.objects.create(
        place=w.place.place, start=now + ONE_DAY, end=now + dt.timedelta(days=2), reason="Neige"
    )
    other = Closure.objects.create(
        place=w.other_place.place, start=now + ONE_DAY, end=now + dt.timedelta(days=2)
    )
    client.force_login(w.manager)
    url = reverse("coworking:manage_closure_delete", args=[w.place.pk, other.pk])
    assert client.post(url).status_code == 404
    url = reverse("coworking:manage_closure_delete", args=[w.place.pk, closure.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "de nouveau réservables" in response.content.decode()
    assert list(Closure.objects.all()) == [other]


def test_others_cannot_close_or_reopen_my_place(client, w):
    now = timezone.now()
    closure = Closure.objects.create(
        place=w.place.place, start=now + ONE_DAY, end=now + dt.timedelta(days=2)
    )
    data = {"first_day": (timezone.localdate() + ONE_DAY).isoformat(), "reason": "Neige"}
    for user in (w.other_manager, w.member, UserFactory()):
        client.force_login(user)
        assert client.post(closures_url(w), data).status_code == 404
        url = reverse("coworking:manage_closure_delete", args=[w.place.pk, closure.pk])
        assert client.post(url).status_code == 404
    client.logout()
    response = client.post(closures_url(w), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert list(Closure.objects.all()) == [closure]
