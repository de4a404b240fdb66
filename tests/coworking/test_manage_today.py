"""The "Aujourd'hui" page of a place: the day's bookings and arrivals, free desks, checking
someone in by hand (with the services' French refusals), no-show, a new PIN shown once."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.models import Allocation, Booking, Resource
from cybercantal.coworking.models import CheckIn, MemberProfile
from cybercantal.coworking.services.cards import member_by_card
from tests.accounts.factories import UserFactory

from .factories import PassFactory
from .manage_fixtures import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def today_url(w):
    return reverse("coworking:manage_today", args=[w.place.pk])


def booking_now(w, user):
    now = timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - dt.timedelta(hours=1), day_start)
    booking = Booking.objects.create(
        reference=f"T{user.pk:07d}",
        start=start,
        end=start + dt.timedelta(hours=2),
        status=Booking.Status.CONFIRMED,
        place=w.place.place,
        user=user,
    )
    resource = Resource.objects.get(place=w.place.place, kind="desk_pool")
    Allocation.objects.create(
        booking=booking,
        resource=resource,
        blocked_start=booking.start,
        blocked_end=booking.end,
        is_exclusive=False,
    )
    return booking


def test_the_page_shows_the_days_bookings_and_free_desks(client, w):
    booked = UserFactory(first_name="Alix", last_name="Martin")
    booking_now(w, booked)
    client.force_login(w.manager)
    page = client.get(today_url(w)).content.decode()
    assert "Alix Martin" in page
    assert "7</strong> postes libres maintenant" in page  # pool of 8, one booked now
    assert "Personne n'est encore arrivé aujourd'hui." in page


def test_checking_in_by_hand_records_once_with_a_french_refusal_the_second_time(client, w):
    client.force_login(w.manager)
    url = reverse("coworking:manage_check_in", args=[w.place.pk])
    response = client.post(url, {"member": w.member.pk}, follow=True)
    assert "Arrivée de Camille Durand enregistrée." in response.content.decode()
    check_in = CheckIn.objects.get()
    assert (check_in.member, check_in.method, check_in.recorded_by) == (
        w.member,
        "manual",
        w.manager,
    )
    response = client.post(url, {"member": w.member.pk}, follow=True)
    assert "est déjà enregistrée aujourd&#x27;hui" in response.content.decode()
    assert CheckIn.objects.count() == 1
    assert "Camille Durand" in client.get(today_url(w)).content.decode()


def test_someone_without_a_usable_pass_is_refused_in_french(client, w):
    later = PassFactory(
        offer=w.offer, valid_from=timezone.localdate() + dt.timedelta(days=30)
    ).member
    client.force_login(w.manager)
    response = client.post(
        reverse("coworking:manage_check_in", args=[w.place.pk]), {"member": later.pk}, follow=True
    )
    assert "ni pass valable ici aujourd&#x27;hui" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_the_search_finds_the_places_members_only(client, w):
    UserFactory(first_name="Camille", last_name="Inconnue")
    client.force_login(w.manager)
    page = client.get(today_url(w), {"q": "camille"}).content.decode()
    assert "Camille Durand" in page
    assert "Camille Inconnue" not in page
    assert "1 personne trouvée." in page
    page = client.get(today_url(w), {"q": "zzz"}).content.decode()
    assert "Personne ne correspond" in page


def test_a_booking_is_marked_as_a_no_show(client, w):
    booking = booking_now(w, UserFactory())
    client.force_login(w.manager)
    response = client.post(
        reverse("coworking:manage_no_show", args=[w.place.pk, booking.pk]), follow=True
    )
    assert "noté(e) comme absent(e)" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.NO_SHOW
    client.force_login(w.other_manager)
    response = client.post(reverse("coworking:manage_no_show", args=[w.other_place.pk, booking.pk]))
    assert response.status_code == 404


def test_a_new_pin_is_shown_once_and_works(client, w):
    client.force_login(w.manager)
    response = client.post(
        reverse("coworking:manage_pin_set", args=[w.place.pk]), {"member": w.member.pk}
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    pin = response.context["pin"]
    assert pin in response.content.decode()
    assert member_by_card(pin=pin) == w.member
    assert MemberProfile.objects.get(user=w.member).pin_digest != pin
    assert client.get(reverse("coworking:manage_pin_set", args=[w.place.pk])).status_code == 405
