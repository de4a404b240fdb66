"""Members download their invoices as PDF from "Mes passes": the same printed invoice as the
managers' (invoicing.pdf), for the invoice's customer only — the member of the pass or of the
room booking it bills; anyone else gets 404, an anonymous visitor the login page."""

from html import unescape

import pytest
from django.urls import reverse

from cybercantal.coworking.invoicing.pdf import invoice_pdf
from cybercantal.coworking.services.invoices import invoice_credit, invoice_for_pass
from cybercantal.coworking.services.rooms import invoice_for_booking
from tests.accounts.factories import UserFactory

from .factories import OfferFactory, PassFactory
from .manage_fixtures import world
from .test_rooms import book, meeting_room, room_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def pdf_url(invoice) -> str:
    return reverse("coworking:my_invoice_pdf", args=[invoice.pk])


def test_the_member_downloads_the_invoice_of_their_pass(client, w):
    client.force_login(w.member)
    html = unescape(client.get(reverse("coworking:my_passes")).content.decode())
    assert pdf_url(w.invoice) in html and pdf_url(w.other_invoice) not in html
    response = client.get(pdf_url(w.invoice))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{w.invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    # The member is no manager: the managers' link stays closed to them.
    manager_pdf = reverse("coworking:manage_invoice_pdf", args=[w.place.pk, w.invoice.pk])
    assert client.get(manager_pdf).status_code == 404
    # The managers' renderer: the same document, up to its creation date.
    assert abs(len(response.content) - len(invoice_pdf(w.invoice))) < 50


def test_a_credit_note_is_downloaded_too(client, w):
    note = invoice_credit(actor=w.manager, invoice=w.invoice, reason="Erreur de tarif")
    client.force_login(w.member)
    assert client.get(pdf_url(note)).status_code == 200


def test_the_member_of_a_room_booking_downloads_its_invoice(client, w):
    room = meeting_room(w.place)
    room_offer(w.place)
    booker = UserFactory()
    invoice = invoice_for_booking(actor=w.manager, booking=book(booker, room))
    client.force_login(booker)
    assert client.get(pdf_url(invoice)).status_code == 200
    client.force_login(w.member)
    assert client.get(pdf_url(invoice)).status_code == 404


def test_anyone_else_gets_404(client, w):
    for someone in (w.other_pass.member, UserFactory(), w.manager, w.other_manager):
        client.force_login(someone)
        assert client.get(pdf_url(w.invoice)).status_code == 404
    client.force_login(w.member)
    assert client.get(pdf_url(w.other_invoice)).status_code == 404
    assert client.get(reverse("coworking:my_invoice_pdf", args=[999_999])).status_code == 404


def test_an_invoice_paid_by_a_funder_is_not_the_members(client, w):
    funder = w.other_place.place.organisation
    offer = OfferFactory(tiers_lieu=w.place, label="Journée financée", funder=funder)
    funded = PassFactory(offer=offer, member=w.member, funder=funder, valid_from=w.pass_.valid_from)
    invoice = invoice_for_pass(actor=w.manager, pass_account=funded)
    assert invoice.buyer_user is None and invoice.buyer_organisation == funder
    client.force_login(w.member)
    assert client.get(pdf_url(invoice)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, w):
    response = client.get(pdf_url(w.invoice))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login")) and "next=" in response.url


def test_only_get(client, w):
    client.force_login(w.member)
    assert client.post(pdf_url(w.invoice)).status_code == 405
