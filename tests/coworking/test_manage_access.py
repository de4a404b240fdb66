"""Who may open the managers' pages: the place's manager (200), a manager of another place
(404: the place is not theirs), a member or someone who manages nothing (403 on the home page,
404 on a place's pages), someone logged out (to the login page). And objects of another place
reached through one's own place's URLs: 404."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from cybercantal.coworking.models import CheckIn
from tests.accounts.factories import UserFactory
from tests.booking.factories import department_agent

from .manage_fixtures import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def place_pages(w, place=None):
    pk = (place or w.place).pk
    return [
        reverse("coworking:manage_today", args=[pk]),
        reverse("coworking:manage_tablet", args=[pk]),
        reverse("coworking:manage_passes", args=[pk]),
        reverse("coworking:manage_pass_cancel", args=[pk, w.pass_.pk]),
        reverse("coworking:manage_invoices", args=[pk]),
        reverse("coworking:manage_invoices_csv", args=[pk]),
        reverse("coworking:manage_invoices_fec", args=[pk]) + f"?annee={w.invoice.issued_on.year}",
        reverse("coworking:manage_invoice_pdf", args=[pk, w.invoice.pk]),
        reverse("coworking:manage_invoice_payment", args=[pk, w.invoice.pk]),
        reverse("coworking:manage_invoice_credit", args=[pk, w.invoice.pk]),
        reverse("coworking:manage_members", args=[pk]),
        reverse("coworking:manage_member", args=[pk, w.member.pk]),
    ]


def test_the_manager_opens_every_page(client, w):
    client.force_login(w.manager)
    response = client.get(reverse("coworking:manage_home"))
    assert response.status_code == 200
    assert escape(w.place.place.name) in response.content.decode()
    assert escape(w.other_place.place.name) not in response.content.decode()
    for url in place_pages(w):
        assert client.get(url).status_code == 200, url


def test_the_departments_staff_opens_every_place(client, w):
    client.force_login(department_agent())
    for url in place_pages(w):
        assert client.get(url).status_code == 200, url


def test_a_manager_of_another_place_gets_404(client, w):
    client.force_login(w.other_manager)
    assert client.get(reverse("coworking:manage_home")).status_code == 200
    for url in place_pages(w):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", ["member", "nobody"])
def test_a_member_or_anyone_else_is_refused(client, w, who):
    client.force_login(w.member if who == "member" else UserFactory())
    assert client.get(reverse("coworking:manage_home")).status_code == 403
    for url in place_pages(w):
        assert client.get(url).status_code == 404, url


def test_someone_logged_out_is_sent_to_the_login_page(client, w):
    login = reverse("accounts:login")
    for url in [reverse("coworking:manage_home"), *place_pages(w)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url


def test_another_operators_invoice_or_pass_through_my_place_is_404(client, w):
    client.force_login(w.manager)
    pk = w.place.pk
    for url in (
        reverse("coworking:manage_invoice_pdf", args=[pk, w.other_invoice.pk]),
        reverse("coworking:manage_invoice_payment", args=[pk, w.other_invoice.pk]),
        reverse("coworking:manage_invoice_credit", args=[pk, w.other_invoice.pk]),
        reverse("coworking:manage_pass_cancel", args=[pk, w.other_pass.pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("coworking:manage_pass_proof", args=[pk, w.other_pass.pk]),
        {"decision": "accepter"},
    )
    assert response.status_code == 404


def test_another_places_member_cannot_be_checked_in_or_given_a_pin_here(client, w):
    client.force_login(w.manager)
    for name in ("manage_check_in", "manage_pin_set"):
        response = client.post(
            reverse(f"coworking:{name}", args=[w.place.pk]), {"member": w.other_pass.member.pk}
        )
        assert response.status_code == 404
    response = client.post(
        reverse("coworking:manage_check_in", args=[w.place.pk]), {"member": "pas-un-nombre"}
    )
    assert response.status_code == 404
    assert not CheckIn.objects.exists()


def test_another_manager_cannot_post_to_my_place(client, w):
    client.force_login(w.other_manager)
    response = client.post(
        reverse("coworking:manage_check_in", args=[w.place.pk]), {"member": w.member.pk}
    )
    assert response.status_code == 404
    assert not CheckIn.objects.exists()
