"""Offices by the month: the rental is a monthly pass, its invoice and the office closed in the
booking engine, all or nothing (services.offices.office_rent); overlapping rentals and booked
offices are refused; ending early opens the office again; the managers' "Bureaux" page is
scoped to the place; members see the rental as their monthly pass; the public page says
"loué"."""

import datetime as dt
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.errors import BookingRuleError
from cybercantal.booking.models import Booking, Closure
from cybercantal.booking.services import booking_create
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.invoicing.errors import InvoiceError
from cybercantal.coworking.models import Invoice, InvoiceSeries, Pass
from cybercantal.coworking.models.network import OfficeRental
from cybercantal.coworking.services.offices import office_rent, office_rent_end
from tests.accounts.factories import UserFactory
from tests.booking.factories import ResourceFactory

from ._network_helpers import EVERY_DAY, local, open_place
from .factories import OfferFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def office_of(tiers_lieu, **kwargs):
    defaults = {
        "name": "Bureau du Puy",
        "kind": "office",
        "capacity": 1,
        "min_duration_minutes": 60,
        "max_duration_minutes": 540,
        "min_notice_minutes": 0,
        "bookable_by": "accounts",
        "place": tiers_lieu.place,
        "organisation": tiers_lieu.place.organisation,
        "hours": EVERY_DAY,
        "observes_public_holidays": False,
    }
    return ResourceFactory(**(defaults | kwargs))


def monthly(tiers_lieu, **kwargs):
    defaults = {
        "tiers_lieu": tiers_lieu,
        "kind": "monthly",
        "label": "Bureau fermé au mois",
        "price_cents": 25_000,
        "half_days": 0,
        "validity_days": 30,
    }
    return OfferFactory(**(defaults | kwargs))


@pytest.fixture
def w():
    place, _pool = open_place(place__name="La Grange")
    office = office_of(place)
    return {
        "place": place,
        "office": office,
        "offer": monthly(place),
        "manager": manager_of(place),
        "member": UserFactory(first_name="Camille", last_name="Durand"),
    }


def rent(w, *, from_day=None, office=None, offer=None, member=None, actor=None):
    return office_rent(
        actor=actor or w["manager"],
        tiers_lieu=w["place"],
        office=office or w["office"],
        member=member or w["member"],
        offer=offer or w["offer"],
        from_day=from_day or today(),
    )


def nothing_written():
    return (
        not Pass.objects.exists()
        and not Invoice.objects.exists()
        and not Closure.objects.exists()
        and not OfficeRental.objects.exists()
    )


def test_renting_records_the_pass_its_invoice_and_closes_the_office(w):
    rental = rent(w)
    pass_account = rental.pass_account
    assert pass_account.member == w["member"] and pass_account.offer == w["offer"]
    assert (pass_account.valid_from, pass_account.valid_until) == (
        today(),
        today() + dt.timedelta(days=29),
    )
    invoice = Invoice.objects.get()
    assert invoice.lines.get().pass_sold == pass_account
    assert invoice.total_incl_tax_cents == 25_000
    closure = rental.closure
    assert closure.resource == w["office"]
    until = (today() + dt.timedelta(days=29)).strftime("%d/%m/%Y")
    assert closure.reason == f"Loué à C. D. jusqu'au {until}"
    assert "Durand" not in closure.reason
    assert closure.start == local(today(), "00:00")
    assert closure.end == local(today() + dt.timedelta(days=30), "00:00")
    with pytest.raises(BookingRuleError, match=r"Loué à C\. D\."):
        booking_create(
            actor=UserFactory(),
            resources=[w["office"]],
            start=local(today() + dt.timedelta(days=3), "10:00"),
            end=local(today() + dt.timedelta(days=3), "12:00"),
        )


def test_an_overlapping_rental_is_refused_with_nothing_written(w):
    first = rent(w)
    counts = (Pass.objects.count(), Invoice.objects.count(), Closure.objects.count())
    with pytest.raises(CoworkingRuleError, match="« Bureau du Puy » est déjà loué du"):
        rent(w, from_day=today() + dt.timedelta(days=10), member=UserFactory())
    assert (Pass.objects.count(), Invoice.objects.count(), Closure.objects.count()) == counts
    # The day after the rental ends, the office may be rented again.
    second = rent(w, from_day=first.last_day + dt.timedelta(days=1), member=UserFactory())
    assert second.first_day == first.last_day + dt.timedelta(days=1)


def test_a_booked_office_is_not_rented(w):
    day = today() + dt.timedelta(days=5)
    booking_create(
        actor=UserFactory(),
        resources=[w["office"]],
        start=local(day, "10:00"),
        end=local(day, "12:00"),
    )
    with pytest.raises(CoworkingRuleError, match="a 1 réservation\\(s\\) pendant cette période"):
        rent(w)
    assert nothing_written()


def test_an_office_closed_for_works_is_not_rented(w):
    Closure.objects.create(
        resource=w["office"],
        start=local(today() + dt.timedelta(days=3), "00:00"),
        end=local(today() + dt.timedelta(days=6), "00:00"),
        reason="Travaux",
    )
    with pytest.raises(CoworkingRuleError, match=r"fermé à partir du .* \(Travaux\)"):
        rent(w)
    assert Pass.objects.count() == 0 and OfficeRental.objects.count() == 0


def test_a_failing_invoice_leaves_no_pass_and_no_closure(w, monkeypatch):
    def refuse(**kwargs):
        raise InvoiceError("Facture refusée pour le test.")

    monkeypatch.setattr("cybercantal.coworking.services.sales.invoice_for_pass", refuse)
    with pytest.raises(InvoiceError):
        rent(w)
    assert nothing_written()


def test_a_failure_after_the_sale_undoes_the_sale(w, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr("cybercantal.coworking.services.offices.audit_log", boom)
    with pytest.raises(RuntimeError):
        rent(w)
    assert nothing_written()
    # The invoice number taken is given back.
    assert not InvoiceSeries.objects.filter(last_number__gt=0).exists()


def test_rental_refusals(w):
    place = w["place"]
    other_place = TiersLieuFactory()
    with pytest.raises(CoworkingRuleError, match="abonnement mensuel de ce lieu"):
        rent(w, offer=OfferFactory(tiers_lieu=place, kind="book"))
    with pytest.raises(CoworkingRuleError, match="abonnement mensuel de ce lieu"):
        rent(w, offer=monthly(other_place))
    with pytest.raises(CoworkingRuleError, match="pas un bureau fermé de ce lieu"):
        rent(w, office=office_of(other_place))
    with pytest.raises(CoworkingRuleError, match="pas un bureau fermé de ce lieu"):
        rent(w, office=place.place.resources.get(kind="desk_pool"))
    with pytest.raises(CoworkingRuleError, match="ne peut pas commencer avant"):
        rent(w, from_day=today() - dt.timedelta(days=5))
    for actor in (manager_of(other_place), w["member"], UserFactory()):
        with pytest.raises(CoworkingForbidden):
            rent(w, actor=actor)
    assert nothing_written()


def test_ending_early_opens_the_office_again(w):
    rental = rent(w)
    last = today() + dt.timedelta(days=4)
    office_rent_end(actor=w["manager"], rental=rental, last_day=last)
    rental.refresh_from_db()
    assert rental.last_day == last and rental.ended_early_at is not None
    closure = Closure.objects.get()
    assert closure.end == local(last + dt.timedelta(days=1), "00:00")
    assert closure.reason.endswith(last.strftime("%d/%m/%Y"))
    after = last + dt.timedelta(days=2)
    booking_create(
        actor=UserFactory(),
        resources=[w["office"]],
        start=local(after, "10:00"),
        end=local(after, "12:00"),
    )
    with pytest.raises(BookingRuleError):
        booking_create(
            actor=UserFactory(),
            resources=[w["office"]],
            start=local(last, "10:00"),
            end=local(last, "12:00"),
        )


def test_ending_early_refusals(w):
    rental = rent(w)
    for day in (rental.last_day, rental.last_day + dt.timedelta(days=3)):
        with pytest.raises(CoworkingRuleError, match="pendant la location"):
            office_rent_end(actor=w["manager"], rental=rental, last_day=day)
    with pytest.raises(CoworkingForbidden):
        office_rent_end(
            actor=manager_of(TiersLieuFactory()), rental=rental, last_day=rental.first_day
        )
    rental.refresh_from_db()
    assert rental.last_day == today() + dt.timedelta(days=29)
    assert Closure.objects.get().end == local(today() + dt.timedelta(days=30), "00:00")


def test_the_member_sees_the_rental_as_a_monthly_pass(client, w):
    rent(w)
    client.force_login(w["member"])
    html = unescape(client.get(reverse("coworking:my_passes")).content.decode())
    assert "Bureau fermé au mois" in html


def test_the_public_page_says_the_office_is_rented(client, w):
    page = reverse("coworking:place", args=[w["place"].pk])
    html = unescape(client.get(page).content.decode())
    assert "Bureau du Puy" in html and "loué" not in html
    rent(w)
    html = unescape(client.get(page).content.decode())
    row = html.split("Bureau du Puy", 1)[1].split("</tr>", 1)[0]
    assert row.count("<td>loué</td>") == 2


# --- The managers' page ------------------------------------------------------------------------


def offices_url(place):
    return reverse("coworking:manage_offices", args=[place.pk])


def end_url(place, rental):
    return reverse("coworking:manage_office_rent_end", args=[place.pk, rental.pk])


def form_data(w, **extra):
    return {
        "contact": w["member"].email,
        "office": w["office"].pk,
        "offer": w["offer"].pk,
        "from_day": today().isoformat(),
    } | extra


def test_the_manager_rents_an_office_from_the_page(client, w):
    place = w["place"]
    client.force_login(w["manager"])
    assert offices_url(place) in client.get(reverse("coworking:manage_home")).content.decode()
    html = unescape(client.get(offices_url(place)).content.decode())
    assert "Bureau du Puy" in html and "libre" in html
    response = client.post(offices_url(place), form_data(w), follow=True)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "« Bureau du Puy » loué à Camille Durand" in html
    rental = OfficeRental.objects.get()
    assert end_url(place, rental) in html
    last = today() + dt.timedelta(days=2)
    response = client.post(end_url(place, rental), {"last_day": last.isoformat()}, follow=True)
    assert "se termine le" in unescape(response.content.decode())
    rental.refresh_from_db()
    assert rental.last_day == last


def test_the_page_shows_refusals_in_french_with_nothing_written(client, w):
    place = w["place"]
    client.force_login(w["manager"])
    response = client.post(offices_url(place), form_data(w, contact="personne@inconnu.fr"))
    assert response.status_code == 400
    assert "Aucun compte ne porte exactement" in unescape(response.content.decode())
    response = client.post(offices_url(place), form_data(w, offer="abc", office="999999"))
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Cet abonnement n'est pas en vente ici." in html
    assert "Ce bureau n'est pas un bureau de ce lieu." in html
    assert 'role="alert"' in html
    other_office = office_of(TiersLieuFactory())
    response = client.post(offices_url(place), form_data(w, office=other_office.pk))
    assert response.status_code == 400
    assert nothing_written()
    rent(w)
    response = client.post(offices_url(place), form_data(w, contact=UserFactory().email))
    assert response.status_code == 422
    assert "est déjà loué du" in unescape(response.content.decode())
    assert Pass.objects.count() == 1
    rental = OfficeRental.objects.get()
    response = client.post(end_url(place, rental), {"last_day": "hier"}, follow=True)
    assert "Indiquez une date" in unescape(response.content.decode())
    response = client.post(end_url(place, rental), {"last_day": "2001-01-01"}, follow=True)
    assert "pendant la location" in unescape(response.content.decode())


def test_the_offices_pages_are_scoped_to_the_places_managers(client, w):
    place = w["place"]
    rental = rent(w)
    other_place = TiersLieuFactory()
    other_manager = manager_of(other_place)
    login = reverse("accounts:login")
    for response in (
        client.get(offices_url(place)),
        client.post(offices_url(place), form_data(w)),
        client.post(end_url(place, rental), {"last_day": today().isoformat()}),
    ):
        assert response.status_code == 302 and response["Location"].startswith(login)
    for person in (w["member"], UserFactory(), other_manager):
        client.force_login(person)
        assert client.get(offices_url(place)).status_code == 404
        assert client.post(offices_url(place), form_data(w)).status_code == 404
        response = client.post(end_url(place, rental), {"last_day": today().isoformat()})
        assert response.status_code == 404
    client.force_login(other_manager)
    # Through one's own place's address: another place's rental or office.
    response = client.post(end_url(other_place, rental), {"last_day": today().isoformat()})
    assert response.status_code == 404
    response = client.post(offices_url(other_place), form_data(w))
    assert response.status_code == 400  # the office is not one of this place's
    assert OfficeRental.objects.count() == 1 and Pass.objects.count() == 1
    rental.refresh_from_db()
    assert rental.ended_early_at is None
    assert not Booking.objects.exists()


# --- Cancelling the pass of a rental; the closures page ------------------------------------------


def test_cancelling_the_pass_ends_the_rental_and_frees_the_office_from_today(w):
    from cybercantal.coworking.services.passes import pass_cancel

    rental = rent(w, from_day=today() - dt.timedelta(days=1))
    pass_cancel(actor=w["manager"], pass_account=rental.pass_account, reason="Départ")
    rental.refresh_from_db()
    assert rental.last_day == today() - dt.timedelta(days=1)
    assert rental.ended_early_at is not None
    closure = Closure.objects.get()
    assert closure.end == local(today(), "00:00")
    assert closure.reason.endswith(rental.last_day.strftime("%d/%m/%Y"))
    # Free from today on: a booking today is accepted, and the office can be rented again.
    later = today() + dt.timedelta(days=1)
    booking_create(
        actor=UserFactory(),
        resources=[w["office"]],
        start=local(later, "10:00"),
        end=local(later, "12:00"),
    )
    assert Booking.objects.count() == 1


def test_cancelling_the_pass_of_a_rental_to_come_deletes_its_closure(w):
    from cybercantal.coworking.services.passes import pass_cancel

    rental = rent(w, from_day=today() + dt.timedelta(days=3))
    pass_cancel(actor=w["manager"], pass_account=rental.pass_account, reason="Erreur")
    rental.refresh_from_db()
    assert rental.closure_id is None and rental.ended_early_at is not None
    assert not Closure.objects.exists()
    again = rent(w, from_day=today() + dt.timedelta(days=3), member=UserFactory())
    assert again.closure_id is not None


def test_a_refused_cancellation_leaves_the_rental_as_it_was(w):
    from cybercantal.coworking.services.passes import pass_cancel

    rental = rent(w)
    with pytest.raises(CoworkingForbidden):
        pass_cancel(
            actor=manager_of(TiersLieuFactory()), pass_account=rental.pass_account, reason="x"
        )
    rental.refresh_from_db()
    assert rental.last_day == today() + dt.timedelta(days=29) and rental.ended_early_at is None
    assert Closure.objects.get().end == local(today() + dt.timedelta(days=30), "00:00")


def test_a_failure_while_freeing_the_office_undoes_the_cancellation(w, monkeypatch):
    from cybercantal.coworking.services import offices
    from cybercantal.coworking.services.passes import pass_cancel

    rental = rent(w)

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(offices, "office_rental_release", boom)
    with pytest.raises(RuntimeError):
        pass_cancel(actor=w["manager"], pass_account=rental.pass_account, reason="Départ")
    assert Pass.objects.get().status == Pass.Status.ACTIVE
    assert Closure.objects.get().end == local(today() + dt.timedelta(days=30), "00:00")


def test_the_closures_page_sends_a_rented_office_to_the_offices_page(client, w):
    from cybercantal.coworking.services.closures import place_closure_delete

    rental = rent(w)
    client.force_login(w["manager"])
    html = unescape(
        client.get(reverse("coworking:manage_closures", args=[w["place"].pk])).content.decode()
    )
    assert (
        "Bureau loué" in html and reverse("coworking:manage_offices", args=[w["place"].pk]) in html
    )
    delete_url = reverse("coworking:manage_closure_delete", args=[w["place"].pk, rental.closure_id])
    assert delete_url not in html
    with pytest.raises(CoworkingRuleError, match="Bureaux loués"):
        place_closure_delete(actor=w["manager"], tiers_lieu=w["place"], closure=rental.closure)
    response = client.post(delete_url, follow=True)
    assert "Bureaux loués" in unescape(response.content.decode())
    assert Closure.objects.filter(pk=rental.closure_id).exists()


def test_an_ordinary_closure_of_an_office_can_still_be_reopened(client, w):
    from cybercantal.coworking.services.closures import place_closure_delete

    day = today() + dt.timedelta(days=2)
    closure = Closure.objects.create(
        resource=w["office"], start=local(day, "00:00"), end=local(day, "23:00"), reason="Travaux"
    )
    client.force_login(w["manager"])
    html = client.get(reverse("coworking:manage_closures", args=[w["place"].pk])).content.decode()
    assert reverse("coworking:manage_closure_delete", args=[w["place"].pk, closure.pk]) in html
    place_closure_delete(actor=w["manager"], tiers_lieu=w["place"], closure=closure)
    assert not Closure.objects.exists()


def test_a_refused_proof_frees_the_office_as_a_cancellation_does(w):
    from cybercantal.coworking.services.passes import pass_check_proof

    reduced = monthly(w["place"], label="Bureau au mois, tarif réduit", is_reduced=True)
    rental = rent(w, offer=reduced, from_day=today() + dt.timedelta(days=1))
    assert rental.pass_account.status == Pass.Status.PENDING_PROOF
    pass_check_proof(actor=w["manager"], pass_account=rental.pass_account, accepted=False)
    rental.refresh_from_db()
    assert rental.closure_id is None and not Closure.objects.exists()
