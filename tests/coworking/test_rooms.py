"""Meeting rooms by the hour: the member's page (free times, durations within the room's
policy, the price at the place's hourly rate, refusals in French with nothing written), the
booking in the booking engine's "Mes réservations", and the manager invoicing it once
(services.rooms.invoice_for_booking and the "Salles réservées" page), scoped to the place."""

import datetime as dt
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from cybercantal.booking.models import Booking
from cybercantal.booking.services import booking_cancel, booking_create
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.models import Invoice
from cybercantal.coworking.models.invoices import RoomBookingInvoice
from cybercantal.coworking.services.invoices import invoice_credit
from cybercantal.coworking.services.rooms import invoice_for_booking
from tests.accounts.factories import UserFactory
from tests.booking.factories import ResourceFactory, ServiceFactory

from ._network_helpers import EVERY_DAY, local, open_place, tomorrow
from .factories import OfferFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def meeting_room(tiers_lieu, **kwargs):
    service = ServiceFactory(code="meeting_room_hour", label="Salle de réunion (à l'heure)")
    defaults = {
        "name": "Salle Volcan",
        "kind": "room",
        "capacity": 1,
        "slot_minutes": 30,
        "min_duration_minutes": 60,
        "max_duration_minutes": 240,
        "min_notice_minutes": 0,
        "bookable_by": "accounts",
        "place": tiers_lieu.place,
        "organisation": tiers_lieu.place.organisation,
        "services": [service],
        "hours": EVERY_DAY,
        "observes_public_holidays": False,
    }
    return ResourceFactory(**(defaults | kwargs))


def room_offer(tiers_lieu, price_cents=1500):
    return OfferFactory(
        tiers_lieu=tiers_lieu,
        kind="room_hour",
        label="Salle de réunion, l'heure",
        price_cents=price_cents,
        half_days=0,
        validity_days=1,
    )


@pytest.fixture
def setup():
    place, _pool = open_place(place__name="La Grange")
    room = meeting_room(place)
    return place, room, UserFactory(first_name="Camille", last_name="Durand")


def room_url(place, room):
    return reverse("coworking:room", args=[place.pk, room.pk])


def post(client, place, room, *, start="10:00", minutes=120, day=None, **extra):
    data = {"jour": (day or tomorrow()).isoformat(), "duree": minutes, "debut": start} | extra
    return client.post(room_url(place, room), data)


def book(member, room, start="10:00", end="12:00", day=None):
    day = day or tomorrow()
    return booking_create(
        actor=member, resources=[room], start=local(day, start), end=local(day, end)
    )


# --- The member's page -------------------------------------------------------------------------


def test_the_place_page_links_each_room_to_its_booking_page(client, setup):
    place, room, _member = setup
    html = unescape(client.get(reverse("coworking:place", args=[place.pk])).content.decode())
    assert "Réserver la salle" in html
    assert room_url(place, room) in html
    assert html.count("Réserver la salle") == 1  # not for the desk pool


def test_anyone_sees_the_free_times_but_booking_needs_an_account(client, setup):
    place, room, _member = setup
    response = client.get(room_url(place, room), {"jour": tomorrow().isoformat(), "duree": 60})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert 'value="09:00"' in html and 'value="17:00"' in html
    assert 'value="17:30"' not in html  # one hour from 17:30 ends after closing time
    assert "Connectez-vous pour réserver" in html
    response = post(client, place, room)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not Booking.objects.exists()


def test_a_member_books_a_room_and_sees_its_price(client, setup):
    place, room, member = setup
    room_offer(place)
    client.force_login(member)
    page = unescape(client.get(room_url(place, room), {"duree": 120}).content.decode())
    assert f"15{NBSP}€ TTC de l'heure" in page
    assert f"Pour 2 h : 30{NBSP}€ TTC" in page
    response = post(client, place, room, start="10:00", minutes=120)
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert response.url == reverse("coworking:room_booked", args=[booking.pk])
    assert booking.user == member and booking.status == Booking.Status.CONFIRMED
    assert (booking.start, booking.end) == (local(tomorrow(), "10:00"), local(tomorrow(), "12:00"))
    assert booking.service.code == "meeting_room_hour"
    assert list(booking.allocations.values_list("resource", flat=True)) == [room.pk]
    html = unescape(client.get(response.url).content.decode())
    assert "Votre salle est réservée" in html and booking.reference in html
    assert f"30{NBSP}€ TTC (15{NBSP}€ TTC de l'heure)" in html
    assert "Le tiers-lieu vous facture la salle" in html


def test_the_booking_is_in_my_bookings_where_it_can_be_cancelled(client, setup):
    place, room, member = setup
    client.force_login(member)
    post(client, place, room)
    booking = Booking.objects.get()
    html = unescape(client.get(reverse("booking:my_bookings")).content.decode())
    assert f"{booking.reference[:4]}{NBSP}{booking.reference[4:]}" in html
    assert "Salle Volcan" in html and "Salle de réunion (à l'heure)" in html
    assert reverse("booking:booking_ics", args=[booking.pk]) in html
    assert reverse("booking:my_booking_cancel", args=[booking.pk]) in html
    assert reverse("booking:my_booking_reschedule", args=[booking.pk]) in html
    assert reverse("booking:my_feed_create") in html
    response = client.post(reverse("booking:my_booking_cancel", args=[booking.pk]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_without_a_price_offer_the_place_gives_its_price(client, setup):
    place, room, member = setup
    client.force_login(member)
    assert "Tarif communiqué par le lieu" in client.get(room_url(place, room)).content.decode()
    response = post(client, place, room)
    html = unescape(client.get(response.url).content.decode())
    assert "tarif communiqué par le lieu" in html


@pytest.mark.parametrize("minutes", [30, 300, 90 + 15])
def test_a_duration_outside_the_rooms_policy_is_refused_in_french(client, setup, minutes):
    place, room, member = setup
    client.force_login(member)
    response = post(client, place, room, minutes=minutes)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    if minutes % 30:
        assert "La durée doit être un multiple de 30 minutes." in html
    else:
        assert "La durée doit être comprise entre 60 et 240 minutes." in html
    assert not Booking.objects.exists()


def test_a_taken_slot_is_not_offered_and_is_refused(client, setup):
    place, room, member = setup
    book(UserFactory(), room, "10:00", "12:00")
    client.force_login(member)
    page = client.get(room_url(place, room), {"jour": tomorrow().isoformat(), "duree": 60})
    html = page.content.decode()
    assert 'value="09:00"' in html and 'value="12:00"' in html
    assert 'value="10:00"' not in html and 'value="11:00"' not in html
    response = post(client, place, room, start="11:00", minutes=60)
    assert response.status_code == 409
    html = unescape(response.content.decode())
    assert "Ce créneau n'est plus disponible pour « Salle Volcan »" in html
    assert "Rien n'a été réservé." in html
    assert Booking.objects.filter(user=member).count() == 0


def test_a_fully_booked_day_reads_complet(client, setup):
    place, room, _member = setup
    book(UserFactory(), room, "09:00", "13:00")
    book(UserFactory(), room, "13:00", "17:00")
    book(UserFactory(), room, "17:00", "18:00")
    html = unescape(
        client.get(
            room_url(place, room), {"jour": tomorrow().isoformat(), "duree": 60}
        ).content.decode()
    )
    assert "— complet" in html and "Aucun horaire libre ce jour-là (complet)" in html


def test_a_room_that_needs_approval_gives_a_pending_booking(client, setup):
    place, _room, member = setup
    room = meeting_room(place, name="Salle du conseil", approval_required=True)
    client.force_login(member)
    response = post(client, place, room)
    assert response.status_code == 302
    assert Booking.objects.get().status == Booking.Status.PENDING
    assert "Votre demande est enregistrée" in unescape(client.get(response.url).content.decode())


def test_the_number_of_people_is_asked_only_when_the_room_takes_several(client, setup):
    place, room, member = setup
    client.force_login(member)
    assert 'name="personnes"' not in client.get(room_url(place, room)).content.decode()
    shared = meeting_room(place, name="Grande salle", capacity=3)
    assert 'name="personnes"' in client.get(room_url(place, shared)).content.decode()
    response = post(client, place, shared, personnes=4)
    assert response.status_code == 400
    assert "Cette salle accueille 3 personne(s) au plus." in unescape(response.content.decode())
    assert post(client, place, shared, personnes=2).status_code == 302
    assert Booking.objects.get().participants == 2


@pytest.mark.parametrize(
    "data",
    [
        {"jour": "demain", "duree": "60", "debut": "10:00"},
        {"jour": "2001-01-01", "duree": "60", "debut": "10:00"},
        {"duree": "une heure", "debut": "10:00"},
        {"duree": "99999999999999999999", "debut": "10:00"},
        {"duree": "60", "debut": "25:99"},
        {"duree": "60", "debut": ""},
        {"duree": "60", "debut": "10:00", "personnes": "-3"},
        {"duree": "60", "debut": "10:00", "personnes": "x" * 50},
    ],
)
def test_bad_input_is_answered_in_french_without_booking(client, setup, data):
    place, room, member = setup
    client.force_login(member)
    data = {"jour": tomorrow().isoformat()} | data
    response = client.post(room_url(place, room), data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Booking.objects.exists()
    assert client.get(room_url(place, room), data).status_code in (200, 400)


def test_an_unknown_room_or_another_places_room_is_404(client, setup):
    place, room, member = setup
    other = TiersLieuFactory()
    desk = room.place.resources.get(kind="desk_pool")
    client.force_login(member)
    assert client.get(reverse("coworking:room", args=[other.pk, room.pk])).status_code == 404
    assert client.get(reverse("coworking:room", args=[place.pk, desk.pk])).status_code == 404
    assert client.get(reverse("coworking:room", args=[place.pk, 999999])).status_code == 404


def test_someone_elses_room_booking_page_is_404(client, setup):
    _place, room, member = setup
    booking = book(member, room)
    client.force_login(UserFactory())
    assert client.get(reverse("coworking:room_booked", args=[booking.pk])).status_code == 404
    client.force_login(member)
    assert client.get(reverse("coworking:room_booked", args=[booking.pk])).status_code == 200


# --- Invoicing a room booking ------------------------------------------------------------------


@pytest.fixture
def billed(setup):
    place, room, member = setup
    member.postal_address = "1 rue du Lac\n15000 Aurillac"
    member.save()
    offer = room_offer(place)
    return place, room, member, offer, manager_of(place), book(member, room, "10:00", "11:30")


def test_the_manager_invoices_a_room_booking_once(billed):
    place, _room, member, _offer, manager, booking = billed
    invoice = invoice_for_booking(actor=manager, booking=booking, tiers_lieu=place)
    assert invoice.buyer_user == member and invoice.buyer_name == "Camille Durand"
    assert invoice.total_incl_tax_cents == 2250  # 1 h 30 at 15 €
    line = invoice.lines.get()
    day = tomorrow().strftime("%d/%m/%Y")
    assert line.label == f"Salle Volcan, le {day}, de 10 h à 11 h 30"
    assert line.quantity == Decimal("1.50") and line.vat_rate == Decimal("20")
    assert RoomBookingInvoice.objects.get().invoice == invoice
    with pytest.raises(CoworkingRuleError, match=f"déjà facturée \\(facture {invoice.number}\\)"):
        invoice_for_booking(actor=manager, booking=booking)
    assert Invoice.objects.filter(kind="invoice").count() == 1
    # Once credited, it may be invoiced again.
    invoice_credit(actor=manager, invoice=invoice, reason="Erreur d'horaire")
    again = invoice_for_booking(actor=manager, booking=booking)
    assert again.pk != invoice.pk


def test_invoicing_refusals_write_nothing(billed):
    place, room, member, offer, manager, booking = billed
    booking_cancel(actor=member, booking=booking, reason="Plus besoin")
    with pytest.raises(CoworkingRuleError, match="annulée ne se facture pas"):
        invoice_for_booking(actor=manager, booking=booking)
    pending = book(member, meeting_room(place, name="Salle B", approval_required=True))
    with pytest.raises(CoworkingRuleError, match="attend d'être validée"):
        invoice_for_booking(actor=manager, booking=pending)
    desk = book(member, place.place.resources.get(kind="desk_pool"), "09:00", "13:00")
    with pytest.raises(CoworkingForbidden):
        invoice_for_booking(actor=manager, booking=desk)
    other_place = TiersLieuFactory()
    with pytest.raises(CoworkingRuleError, match="pas celle d'une salle de ce lieu"):
        invoice_for_booking(
            actor=manager_of(other_place, manager),
            booking=book(member, room, "14:00", "15:00"),
            tiers_lieu=other_place,
        )
    offer.is_active = False
    offer.save()
    with pytest.raises(CoworkingRuleError, match="pas de tarif de salle à l'heure"):
        invoice_for_booking(actor=manager, booking=book(member, room, "16:00", "17:00"))
    assert not Invoice.objects.exists() and not RoomBookingInvoice.objects.exists()


def test_only_the_places_manager_invoices(billed):
    _place, _room, member, _offer, _manager, booking = billed
    other_manager = manager_of(TiersLieuFactory())
    for actor in (other_manager, member, UserFactory(), None):
        with pytest.raises(CoworkingForbidden):
            invoice_for_booking(actor=actor, booking=booking)
    assert not Invoice.objects.exists()


def rooms_url(place):
    return reverse("coworking:manage_rooms", args=[place.pk])


def invoice_url(place, booking):
    return reverse("coworking:manage_room_invoice", args=[place.pk, booking.pk])


def test_the_rooms_page_lists_bookings_and_invoices_them(client, billed):
    place, _room, _member, _offer, manager, booking = billed
    client.force_login(manager)
    assert rooms_url(place) in client.get(reverse("coworking:manage_home")).content.decode()
    html = unescape(client.get(rooms_url(place)).content.decode())
    assert booking.reference in html and "Camille Durand" in html
    assert f"22,50{NBSP}€" in html and invoice_url(place, booking) in html
    response = client.post(invoice_url(place, booking), follow=True)
    invoice = Invoice.objects.get()
    html = unescape(response.content.decode())
    assert f"facturée : facture {invoice.number}" in html
    assert invoice_url(place, booking) not in html  # no second "Facturer"
    response = client.post(invoice_url(place, booking), follow=True)
    assert "déjà facturée" in unescape(response.content.decode())
    assert Invoice.objects.count() == 1


def test_the_rooms_pages_are_scoped_to_the_places_managers(client, billed):
    place, _room, member, _offer, _manager, booking = billed
    other_place = TiersLieuFactory()
    other_manager = manager_of(other_place)
    login = reverse("accounts:login")
    for url in (rooms_url(place),):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login)
    response = client.post(invoice_url(place, booking))
    assert response.status_code == 302 and response["Location"].startswith(login)
    for person in (member, UserFactory(), other_manager):
        client.force_login(person)
        assert client.get(rooms_url(place)).status_code == 404
        assert client.post(invoice_url(place, booking)).status_code == 404
    # Through one's own place's address: the booking is not of a room there.
    client.force_login(other_manager)
    assert client.post(invoice_url(other_place, booking)).status_code == 404
    assert client.get(invoice_url(place, booking)).status_code == 405
    assert not Invoice.objects.exists()


def test_a_room_price_offer_is_not_sold_as_a_pass(billed):
    from cybercantal.coworking.selectors.manage import offers_for_sale
    from cybercantal.coworking.services.passes import pass_record

    place, _room, member, offer, manager, _booking = billed
    assert offer not in offers_for_sale(tiers_lieu=place)
    with pytest.raises(CoworkingRuleError, match="tarif de salle"):
        pass_record(actor=manager, member=member, offer=offer, sold_at=place, valid_from=tomorrow())


def test_a_duration_off_the_hour_grid_is_invoiced_at_its_rounded_price(setup):
    place, _room, member = setup
    room = meeting_room(place, name="Salle C", slot_minutes=20, min_duration_minutes=40)
    room_offer(place, price_cents=1000)
    booking = book(member, room, "09:00", "09:40")
    invoice = invoice_for_booking(actor=manager_of(place), booking=booking)
    line = invoice.lines.get()
    assert invoice.total_incl_tax_cents == 667 and line.quantity == 1
    assert "(40 min)" in line.label
    assert dt.timedelta(minutes=40) == booking.end - booking.start
