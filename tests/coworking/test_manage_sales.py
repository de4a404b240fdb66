"""Passes and invoices for managers: a sale records the pass and its invoice together (a
refused invoice rolls the pass back), proofs, cancelling, payments, credit notes, exports."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.coworking.invoicing.errors import InvoiceError
from cybercantal.coworking.models import Invoice, Pass, Payment
from cybercantal.coworking.services.sales import pass_sell
from tests.accounts.factories import UserFactory

from .factories import OfferFactory, PassFactory
from .manage_fixtures import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def passes_url(w):
    return reverse("coworking:manage_passes", args=[w.place.pk])


def sale(w, **data):
    return {
        "contact": "camille@example.org",
        "offer": w.offer.pk,
        "valid_from": timezone.localdate().isoformat(),
    } | data


def test_a_sale_records_the_pass_and_its_invoice(client, w):
    buyer = UserFactory(email="Camille@Example.org", first_name="Camille", last_name="Petit")
    client.force_login(w.manager)
    response = client.post(passes_url(w), sale(w), follow=True)
    page = response.content.decode()
    assert "enregistré pour Camille Petit ; facture F-" in page
    pass_ = Pass.objects.get(member=buyer)
    assert pass_.sold_at == w.place and pass_.recorded_by == w.manager
    assert Invoice.objects.filter(lines__pass_sold=pass_).count() == 1


def test_a_sale_by_phone_number(client, w):
    buyer = UserFactory(phone="+33612345678")
    client.force_login(w.manager)
    client.post(passes_url(w), sale(w, contact="06 12 34 56 78"))
    assert Pass.objects.filter(member=buyer).exists()


def test_an_unknown_contact_is_refused_without_listing_accounts(client, w):
    client.force_login(w.manager)
    response = client.post(passes_url(w), sale(w, contact="personne@example.org"))
    assert response.status_code == 400
    assert "Aucun compte ne porte exactement cette adresse" in response.content.decode()
    assert Pass.objects.count() == 2


def test_another_places_offer_is_not_for_sale_here(client, w):
    UserFactory(email="camille@example.org")
    client.force_login(w.manager)
    response = client.post(passes_url(w), sale(w, offer=w.other_pass.offer.pk))
    assert response.status_code == 400
    assert "Cette offre n&#x27;est pas en vente ici." in response.content.decode()


def test_a_refused_invoice_rolls_the_pass_back(client, w):
    # A VAT rate invoices refuse: the pass would be valid, its invoice is not.
    odd = OfferFactory(tiers_lieu=w.place, vat_rate=7)
    buyer = UserFactory(email="camille@example.org")
    client.force_login(w.manager)
    response = client.post(passes_url(w), sale(w, offer=odd.pk))
    assert response.status_code == 422
    assert "TVA" in response.content.decode()
    assert not Pass.objects.filter(member=buyer).exists()
    with pytest.raises(InvoiceError):
        pass_sell(
            actor=w.manager,
            member=buyer,
            offer=odd,
            sold_at=w.place,
            valid_from=timezone.localdate(),
        )
    assert not Pass.objects.filter(member=buyer).exists()


def test_a_reduced_rate_proof_is_accepted_or_refused(client, w):
    reduced = OfferFactory(tiers_lieu=w.place, is_reduced=True, reduced_for="Étudiants")
    accepted = PassFactory(offer=reduced, status=Pass.Status.PENDING_PROOF)
    refused = PassFactory(offer=reduced, status=Pass.Status.PENDING_PROOF)
    client.force_login(w.manager)
    assert "Justificatifs à vérifier" in client.get(passes_url(w)).content.decode()
    url = "coworking:manage_pass_proof"
    client.post(reverse(url, args=[w.place.pk, accepted.pk]), {"decision": "accepter"})
    client.post(reverse(url, args=[w.place.pk, refused.pk]), {"decision": "refuser"})
    response = client.post(
        reverse(url, args=[w.place.pk, accepted.pk]), {"decision": "accepter"}, follow=True
    )
    assert "Ce pass n&#x27;attend pas de justificatif." in response.content.decode()
    accepted.refresh_from_db()
    refused.refresh_from_db()
    assert (accepted.status, refused.status) == (Pass.Status.ACTIVE, Pass.Status.CANCELLED)


def test_cancelling_a_pass_asks_for_a_reason(client, w):
    client.force_login(w.manager)
    url = reverse("coworking:manage_pass_cancel", args=[w.place.pk, w.pass_.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Indiquez le motif." in response.content.decode()
    client.post(url, {"reason": "Départ de la région"})
    w.pass_.refresh_from_db()
    assert w.pass_.status == Pass.Status.CANCELLED


def test_a_payment_is_recorded_and_a_bad_amount_refused(client, w):
    client.force_login(w.manager)
    url = reverse("coworking:manage_invoice_payment", args=[w.place.pk, w.invoice.pk])
    today = timezone.localdate().isoformat()
    for amount, message in (
        ("douze", "Indiquez un montant"),
        ("-3", "Indiquez un montant positif"),
        ("1,234", "au plus deux chiffres"),
        ("1000,00", "dépasse ce qui reste dû"),
    ):
        response = client.post(url, {"amount": amount, "method": "cash", "received_on": today})
        assert response.status_code in (400, 422), amount
        assert message in response.content.decode(), amount
    response = client.post(url, {"amount": "100,00", "method": "card", "received_on": today})
    assert response.status_code == 302
    w.invoice.refresh_from_db()
    assert w.invoice.status == Invoice.Status.PAID
    assert Payment.objects.get().amount_cents == 10_000


def test_a_credit_note_cancels_an_invoice(client, w):
    client.force_login(w.manager)
    url = reverse("coworking:manage_invoice_credit", args=[w.place.pk, w.invoice.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "Erreur de tarif"}, follow=True)
    assert "Avoir F-" in response.content.decode()
    w.invoice.refresh_from_db()
    assert w.invoice.status == Invoice.Status.CREDITED
    assert Invoice.objects.filter(corrects=w.invoice).count() == 1


def test_pdf_and_exports_download(client, w):
    client.force_login(w.manager)
    pk, year = w.place.pk, w.invoice.issued_on.year
    pdf = client.get(reverse("coworking:manage_invoice_pdf", args=[pk, w.invoice.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    csv = client.get(reverse("coworking:manage_invoices_csv", args=[pk]), {"annee": year})
    text = csv.content.decode("utf-8-sig")
    assert w.invoice.number in text and w.member.last_name in text
    assert w.other_pass.member.last_name not in text
    fec = client.get(reverse("coworking:manage_invoices_fec", args=[pk]), {"annee": year})
    assert fec.status_code == 200 and "FEC" in fec["Content-Disposition"]
    assert fec.content.decode().startswith("JournalCode|")
    response = client.get(reverse("coworking:manage_invoices_fec", args=[pk]), {"annee": "x"})
    assert response.status_code == 302


def test_the_invoice_list_shows_the_operators_invoices_only(client, w):
    other = w.other_invoice
    client.force_login(w.manager)
    page = client.get(reverse("coworking:manage_invoices", args=[w.place.pk])).content.decode()
    assert w.invoice.number in page
    assert f"/factures/{other.pk}/" not in page
    assert (
        client.get(
            reverse("coworking:manage_invoices", args=[w.place.pk]), {"annee": "abc"}
        ).status_code
        == 200
    )


def test_a_sale_dated_too_early_is_refused_in_french(client, w):
    UserFactory(email="camille@example.org")
    client.force_login(w.manager)
    early = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    response = client.post(passes_url(w), sale(w, valid_from=early))
    assert response.status_code == 422
    assert "ne peut pas commencer avant hier" in response.content.decode()
