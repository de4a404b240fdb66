"""The telehealth home and its navigation: each person sees their next sessions and their
sites' actions, never another site's; the economics link only for coordinators and staff."""

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.telehealth.factories import make_consultation, make_site, staff_user

pytestmark = pytest.mark.django_db

HOME = reverse("telehealth:home")


@pytest.fixture
def world():
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    mine = make_consultation(site=site)
    other = make_consultation(site=make_site())
    return {"site": site, "coordinator": coordinator, "mine": mine, "other": other}


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def test_the_nurse_sees_her_next_session_and_her_site_only(client, world):
    body = page(client, world["mine"].assistant.user)
    mine_url = reverse("telehealth:consultation_detail", args=[world["mine"].pk])
    other_url = reverse("telehealth:consultation_detail", args=[world["other"].pk])
    assert mine_url in body and other_url not in body
    assert reverse("telehealth:connectivity_test", args=[world["site"].pk]) in body
    assert reverse("telehealth:consultation_book") in body
    # She runs sessions, not the site's accounts.
    assert reverse("telehealth:economics") not in body
    assert reverse("telehealth:economics_site", args=[world["site"].pk]) not in body


def test_the_coordinator_gets_the_site_s_equipment_and_figures(client, world):
    body = page(client, world["coordinator"])
    site = world["site"].pk
    for name in ("network_site_equipment", "economics_site", "costs_site"):
        assert reverse(f"telehealth:{name}", args=[site]) in body
    assert reverse("telehealth:economics") in body
    assert f'href="{reverse("telehealth:network_sites")}"' not in body


def test_staff_get_the_network_links(client, world):
    body = page(client, staff_user())
    assert reverse("telehealth:network_sites") in body
    assert reverse("telehealth:tariffs") in body


def test_someone_with_no_site_is_told_whom_to_ask(client, world):
    body = page(client, UserFactory())
    assert "Aucun site de téléconsultation ne vous est rattaché" in body
    assert reverse("telehealth:consultation_book") not in body
    assert "consultations/" + str(world["mine"].pk) not in body


def test_anonymous_people_are_sent_to_log_in(client):
    assert client.get(HOME).status_code == 302
