"""The members pages of a place: the list and its search, one member's sheet limited to what
happened at the place, and the profile (newcomer, usual trip) recorded by the manager or by
the member; refusals change nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from cybercantal.coworking.errors import CoworkingForbidden
from cybercantal.coworking.models import CheckIn, MemberProfile
from cybercantal.coworking.services.profiles import member_profile_update
from tests.accounts.factories import UserFactory

from .factories import OfferFactory, PassFactory
from .manage_fixtures import world

pytestmark = pytest.mark.django_db

PROFILE = {
    "previous_departement": "69",
    "usual_workplace": "Lyon, Part-Dieu",
    "usual_commute_km": "45",
    "commute_mode": "train",
}


@pytest.fixture
def w():
    return world()


def members_url(w, place=None):
    return reverse("coworking:manage_members", args=[(place or w.place).pk])


def member_url(w, member=None, place=None):
    return reverse("coworking:manage_member", args=[(place or w.place).pk, (member or w.member).pk])


def test_the_list_shows_the_places_members_only(client, w):
    CheckIn.objects.create(
        tiers_lieu=w.place,
        member=w.member,
        day=dt.date.today(),
        at=dt.datetime.now(dt.UTC),
        method="manual",
    )
    client.force_login(w.manager)
    page = client.get(members_url(w)).content.decode()
    assert "Camille Durand" in page
    assert escape(w.other_pass.member.get_full_name()) not in page
    assert f"{dt.date.today():%d/%m/%Y}" in page  # last visit here


def test_the_search_filters_and_refuses_a_too_long_query(client, w):
    other = PassFactory(offer=w.offer, member=UserFactory(first_name="Zoé", last_name="Martin"))
    client.force_login(w.manager)
    page = client.get(members_url(w), {"q": "durand"}).content.decode()
    assert "Camille Durand" in page and escape(other.member.get_full_name()) not in page
    response = client.get(members_url(w), {"q": "x" * 101})
    assert response.status_code == 400
    assert "100 caractères" in response.content.decode()


def test_the_sheet_shows_what_happened_here_only(client, w):
    elsewhere = PassFactory(
        offer=OfferFactory(tiers_lieu=w.other_place, label="Carnet d'ailleurs"), member=w.member
    )
    client.force_login(w.manager)
    page = client.get(member_url(w)).content.decode()
    assert "Carnet de 10 journées" in page
    assert elsewhere.offer.label not in page and escape(elsewhere.offer.label) not in page


def test_someone_who_is_not_a_member_here_has_no_sheet(client, w):
    client.force_login(w.manager)
    assert client.get(member_url(w, member=w.other_pass.member)).status_code == 404
    assert client.get(member_url(w, member=UserFactory())).status_code == 404


def test_the_manager_records_the_profile(client, w):
    client.force_login(w.manager)
    response = client.post(member_url(w), PROFILE)
    assert response.status_code == 302
    profile = MemberProfile.objects.get(user=w.member)
    assert (profile.previous_departement, profile.usual_commute_km, profile.commute_mode) == (
        "69",
        45,
        "train",
    )
    assert profile.is_newcomer


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"previous_departement": "96"}, 422, "n&#x27;est pas un numéro de département"),
        ({"usual_commute_km": "-3"}, 400, "La distance ne peut pas être négative."),
        ({"usual_commute_km": "beaucoup"}, 400, "nombre entier de kilomètres"),
        ({"commute_mode": "fusée"}, 400, "Sélectionnez un choix valide"),
    ],
)
def test_bad_profile_input_changes_nothing(client, w, change, status, message):
    client.force_login(w.manager)
    response = client.post(member_url(w), PROFILE | change)
    assert response.status_code == status
    assert message in response.content.decode()
    assert not MemberProfile.objects.filter(user=w.member, previous_departement="69").exists()


def test_another_places_manager_can_neither_see_nor_change(client, w):
    client.force_login(w.other_manager)
    assert client.get(members_url(w)).status_code == 404
    assert client.get(member_url(w)).status_code == 404
    assert client.post(member_url(w), PROFILE).status_code == 404
    # Through their own place's URL: the person is not their member.
    assert client.post(member_url(w, place=w.other_place), PROFILE).status_code == 404
    assert not MemberProfile.objects.filter(user=w.member, previous_departement="69").exists()
    with pytest.raises(CoworkingForbidden):
        member_profile_update(
            actor=w.other_manager,
            member=w.member,
            tiers_lieu=w.other_place,
            previous_departement="69",
            usual_workplace="",
            usual_commute_km=None,
            commute_mode="car",
        )


def test_the_member_fills_in_their_own_profile(client, w):
    url = reverse("coworking:my_profile")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(w.member)
    assert client.get(url).status_code == 200
    assert client.post(url, PROFILE | {"previous_departement": "2a"}).status_code == 302
    assert MemberProfile.objects.get(user=w.member).previous_departement == "2A"
    response = client.post(url, PROFILE | {"previous_departement": "ZZ"})
    assert response.status_code == 422
    assert MemberProfile.objects.get(user=w.member).previous_departement == "2A"
