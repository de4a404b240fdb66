"""The member pages: "Mes passes" (credit in words, ledger, check-in card) and "Réserver un
poste" (a day, a period, a pass; refusals in French with nothing written)."""

from html import unescape

import pytest
from django.urls import reverse

from cybercantal.booking.models import Booking
from cybercantal.coworking.models import CreditMovement, DeskBooking, MemberProfile
from cybercantal.coworking.services.profiles import member_profile_ensure
from tests.accounts.factories import UserFactory

from ._network_helpers import member_pass, open_place, tomorrow

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    place, pool = open_place(place__name="La Grange")
    member = UserFactory()
    return place, pool, member


def book_url(place):
    return reverse("coworking:book", args=[place.pk])


def post(client, place, pass_account, *, period="journee", day=None):
    return client.post(
        book_url(place),
        {"jour": (day or tomorrow()).isoformat(), "periode": period, "pass": pass_account.pk},
    )


def test_member_pages_need_an_account(client, setup):
    place, _pool, _member = setup
    for url in (reverse("coworking:my_passes"), book_url(place)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_my_passes_shows_credit_ledger_and_the_check_in_card(client, setup):
    place, _pool, member = setup
    pass_account = member_pass(member, place, half_days=7, label="Carnet de test")
    CreditMovement.objects.create(pass_account=pass_account, half_days=-1, reason="correction")
    client.force_login(member)
    response = client.get(reverse("coworking:my_passes"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Carnet de test" in html
    assert "3 journées" in html  # 7 - 1 = 6 half-days
    assert "Achat" in html and "Correction par le gestionnaire" in html
    assert "+\u00a03 journées et demie" in html and "−\u00a0une demi-journée" in html
    profile = MemberProfile.objects.get(user=member)
    assert profile.checkin_code in html and "<svg" in html
    assert 'role="img"' in html and "demandez votre code PIN au gestionnaire" in html
    client.get(reverse("coworking:my_passes"))
    assert MemberProfile.objects.filter(user=member).count() == 1


def test_someone_elses_passes_are_not_shown(client, setup):
    place, _pool, member = setup
    member_pass(UserFactory(), place, label="Pass de quelqu'un d'autre")
    client.force_login(member)
    html = client.get(reverse("coworking:my_passes")).content.decode()
    assert "Pass de quelqu" not in html


def test_member_profile_ensure_is_idempotent():
    user = UserFactory()
    first = member_profile_ensure(user=user)
    assert len(first.checkin_code) >= 20 and not first.pin_digest
    assert member_profile_ensure(user=user) == first


def test_the_booking_page_offers_periods_and_passes(client, setup):
    place, _pool, member = setup
    member_pass(member, place, label="Carnet")
    client.force_login(member)
    response = client.get(book_url(place), {"jour": tomorrow().isoformat()})
    assert response.status_code == 200
    html = response.content.decode().replace("\u00a0", " ")
    assert "Toute la journée" in html and "de 9 h à 18 h" in html
    assert "Le matin" in html and "L&#x27;après-midi" in html
    assert "8 postes libres" in html
    assert "Carnet" in html


def test_booking_a_desk_with_a_pass(client, setup):
    place, pool, member = setup
    pass_account = member_pass(member, place)
    client.force_login(member)
    response = post(client, place, pass_account)
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("coworking:booked", args=[booking.pk])
    assert booking.user == member
    assert DeskBooking.objects.get(booking=booking).pass_account == pass_account
    assert pass_account.movements.filter(reason="booking").get().half_days == -2
    html = client.get(response.url).content.decode()
    assert booking.reference in html and "1 journée" in html
    # It is in booking's "Mes réservations".
    mine = client.get(reverse("booking:my_bookings")).content.decode()
    assert pool.name in mine or place.place.name in mine


def test_a_half_day_costs_half_a_day(client, setup):
    place, _pool, member = setup
    pass_account = member_pass(member, place)
    client.force_login(member)
    assert post(client, place, pass_account, period="matin").status_code == 302
    assert pass_account.movements.filter(reason="booking").get().half_days == -1


def test_someone_elses_pass_is_refused(client, setup):
    place, _pool, member = setup
    others = member_pass(UserFactory(), place)
    member_pass(member, place)
    client.force_login(member)
    response = post(client, place, others)
    assert response.status_code == 400
    assert "Choisissez un de vos passes" in response.content.decode()
    assert not Booking.objects.exists()
    assert others.movements.count() == 1


def test_a_pass_of_another_place_is_refused(client, setup):
    place, _pool, member = setup
    elsewhere, _ = open_place(place__name="Ailleurs")
    pass_account = member_pass(member, elsewhere)
    client.force_login(member)
    response = post(client, place, pass_account)
    assert response.status_code == 422
    html = unescape(response.content.decode())
    assert "Ce pass n'est valable qu'à « Ailleurs »" in html
    assert "Rien n'a été réservé" in html
    assert not Booking.objects.exists() and not DeskBooking.objects.exists()


def test_without_enough_credit_nothing_is_written(client, setup):
    place, _pool, member = setup
    pass_account = member_pass(member, place, half_days=1)
    client.force_login(member)
    response = post(client, place, pass_account, period="journee")
    assert response.status_code == 422
    assert "Il ne reste pas assez de crédit" in response.content.decode()
    assert not Booking.objects.exists()
    assert list(pass_account.movements.values_list("half_days", flat=True)) == [1]


def test_bad_input_is_answered_in_french(client, setup):
    place, _pool, member = setup
    pass_account = member_pass(member, place)
    client.force_login(member)
    response = client.get(book_url(place), {"jour": "pas-une-date"})
    assert response.status_code == 400
    assert "Choisissez un jour parmi les 30 prochains" in response.content.decode()
    response = post(client, place, pass_account, period="nuit")
    assert response.status_code == 400
    assert "Choisissez la journée, le matin ou l&#x27;après-midi" in response.content.decode()
    assert not Booking.objects.exists()


def test_someone_elses_booking_page_is_404(client, setup):
    place, _pool, member = setup
    client.force_login(member)
    response = post(client, place, member_pass(member, place))
    client.force_login(UserFactory())
    assert client.get(response.url).status_code == 404
