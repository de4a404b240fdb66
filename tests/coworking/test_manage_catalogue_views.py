"""The managers' "Offres et tarifs" and "Espaces" pages, and the network's offers page: who may
open and post to them (the place's manager and the Département's staff; 404 for another place's
manager or a member, 403 on the network page for anyone but the staff, the login page when
logged out), what a posted form does, and that bad input changes nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from cybercantal.booking.models import Resource
from cybercantal.booking.services import booking_create
from cybercantal.coworking.models import Offer, Pass
from cybercantal.territory.models import OpeningPeriod, Organisation
from tests.accounts.factories import UserFactory
from tests.booking.factories import department_agent
from tests.territory.factories import OrganisationFactory

from ._network_helpers import local, tomorrow
from .factories import PassFactory, desk_pool
from .manage_fixtures import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    w = world()
    w.space = Resource.objects.get(place=w.place.place)
    w.other_space = desk_pool(w.other_place)
    OpeningPeriod.objects.bulk_create(
        OpeningPeriod(place=w.place.place, weekday=d, opens=dt.time(9), closes=dt.time(18))
        for d in range(7)
    )
    return w


def url(name, *args):
    return reverse(f"coworking:{name}", args=args)


def offer_data(**data):
    return {
        "label": "Journée",
        "kind": "day",
        "price": "15,50",
        "vat_rate": "20",
        "credit_days": "",
        "validity_days": "",
        "consumed_on": "check_in",
        "reduced_for": "",
        "funder": "",
    } | data


def space_data(**data):
    return {
        "name": "Salle du Puy Mary",
        "kind": "room",
        "capacity": "1",
        "description": "8 places, écran.",
        "observes_public_holidays": "on",
    } | data


def get_pages(w, place=None):
    place = place or w.place
    offer = w.offer if place == w.place else w.other_pass.offer
    space = w.space if place == w.place else w.other_space
    pk = place.pk
    return [
        url("manage_offers", pk),
        url("manage_offer_create", pk),
        url("manage_offer_edit", pk, offer.pk),
        url("manage_offer_delete", pk, offer.pk),
        url("manage_spaces", pk),
        url("manage_space_create", pk),
        url("manage_space_edit", pk, space.pk),
        url("manage_space_delete", pk, space.pk),
    ]


def post_pages(w):
    pk = w.place.pk
    return [
        (url("manage_offer_create", pk), offer_data()),
        (url("manage_offer_edit", pk, w.offer.pk), offer_data(kind="book", price="1,00")),
        (url("manage_offer_withdraw", pk, w.offer.pk), {}),
        (url("manage_offer_restore", pk, w.offer.pk), {}),
        (url("manage_offer_delete", pk, w.offer.pk), {}),
        (url("manage_space_create", pk), space_data()),
        (url("manage_space_edit", pk, w.space.pk), space_data(kind="desk_pool", capacity="2")),
        (url("manage_space_deactivate", pk, w.space.pk), {}),
        (url("manage_space_reactivate", pk, w.space.pk), {}),
        (url("manage_space_delete", pk, w.space.pk), {}),
    ]


def network_pages(offer=None):
    pages = [url("manage_network_offers"), url("manage_network_offer_create")]
    if offer is not None:
        pages += [
            url("manage_network_offer_edit", offer.pk),
            url("manage_network_offer_delete", offer.pk),
        ]
    return pages


def unchanged(w):
    """What the refused posts must leave as it was."""
    w.offer.refresh_from_db()
    w.space.refresh_from_db()
    return (
        Offer.objects.count(),
        Resource.objects.count(),
        (w.offer.label, w.offer.price_cents, w.offer.is_active),
        (w.space.name, w.space.capacity, w.space.is_active),
    )


# --- Who may --------------------------------------------------------------------------------


def test_the_manager_opens_every_page_and_the_home_page_links_them(client, w):
    client.force_login(w.manager)
    for page in get_pages(w):
        assert client.get(page).status_code == 200, page
    home = client.get(url("manage_home")).content.decode()
    assert url("manage_offers", w.place.pk) in home and "Offres et tarifs" in home
    assert url("manage_spaces", w.place.pk) in home and "Espaces" in home


def test_the_departments_staff_opens_every_place_and_the_network_page(client, w):
    client.force_login(department_agent())
    for page in get_pages(w) + get_pages(w, w.other_place) + network_pages():
        assert client.get(page).status_code == 200, page


def test_a_manager_of_another_place_gets_404_on_every_page_and_post(client, w):
    client.force_login(w.other_manager)
    before = unchanged(w)
    for page in get_pages(w):
        assert client.get(page).status_code == 404, page
    for page, data in post_pages(w):
        assert client.post(page, data).status_code == 404, page
    assert unchanged(w) == before


def test_another_places_offer_or_space_through_my_place_is_404(client, w):
    client.force_login(w.manager)
    pk = w.place.pk
    theirs = [
        url("manage_offer_edit", pk, w.other_pass.offer.pk),
        url("manage_offer_delete", pk, w.other_pass.offer.pk),
        url("manage_space_edit", pk, w.other_space.pk),
        url("manage_space_delete", pk, w.other_space.pk),
    ]
    for page in theirs:
        assert client.get(page).status_code == 404, page
    assert client.post(url("manage_offer_withdraw", pk, w.other_pass.offer.pk)).status_code == 404
    assert client.post(url("manage_space_deactivate", pk, w.other_space.pk)).status_code == 404
    w.other_space.refresh_from_db()
    assert w.other_pass.offer.is_active and w.other_space.is_active


@pytest.mark.parametrize("who", ["member", "nobody"])
def test_a_member_or_anyone_else_is_refused(client, w, who):
    client.force_login(w.member if who == "member" else UserFactory())
    before = unchanged(w)
    for page in get_pages(w):
        assert client.get(page).status_code == 404, page
    for page, data in post_pages(w):
        assert client.post(page, data).status_code == 404, page
    for page in network_pages():
        assert client.get(page).status_code == 403, page
    assert unchanged(w) == before


def test_someone_logged_out_is_sent_to_the_login_page(client, w):
    login = reverse("accounts:login")
    before = unchanged(w)
    for page in get_pages(w) + network_pages():
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith(login), page
    for page, data in post_pages(w):
        response = client.post(page, data)
        assert response.status_code == 302 and response["Location"].startswith(login), page
    assert unchanged(w) == before


def test_a_places_manager_is_refused_the_network_offers(client, w):
    network_offer = Offer.objects.create(
        tiers_lieu=None,
        operator=OrganisationFactory(kind=Organisation.Kind.DEPARTMENT),
        label="Pass réseau",
        kind="network_pass",
        price_cents=14000,
        half_days=20,
        validity_days=365,
    )
    client.force_login(w.manager)
    for page in network_pages(network_offer):
        assert client.get(page).status_code == 403, page
    response = client.post(url("manage_network_offer_withdraw", network_offer.pk))
    assert response.status_code == 403
    response = client.post(
        url("manage_network_offer_create"), offer_data(kind="network_pass", label="Pirate")
    )
    assert response.status_code == 403
    network_offer.refresh_from_db()
    assert network_offer.is_active and not Offer.objects.filter(label="Pirate").exists()
    # The place's page lists the network's offers, without the link to manage them.
    page = client.get(url("manage_offers", w.place.pk)).content.decode()
    assert "Pass réseau" in page
    assert url("manage_network_offers") not in page


# --- Offers -----------------------------------------------------------------------------------


def test_the_offers_page_shows_prices_vat_credits_and_sales(client, w):
    Offer.objects.create(
        tiers_lieu=w.place,
        operator=w.place.place.organisation,
        label="Demi-journée réduite",
        kind="half_day",
        price_cents=450,
        vat_rate="5.5",
        half_days=1,
        validity_days=1,
        is_reduced=True,
        reduced_for="étudiants",
        is_active=False,
    )
    client.force_login(w.manager)
    page = client.get(url("manage_offers", w.place.pk)).content.decode()
    assert "Carnet de 10 journées" in page and "100\u00a0€" in page and "20 %" in page
    assert "10 journées" in page and "365 jours" in page
    assert "Retirées de la vente" in page and "4,50\u00a0€" in page and "5,5 %" in page
    assert "une demi-journée" in page and "Tarif réduit : étudiants" in page
    assert "ventes à venir" in page
    # One pass sold: no delete button for it, one for the other.
    assert url("manage_offer_delete", w.place.pk, w.offer.pk) not in page
    assert escape(w.other_pass.offer.label) not in page


def test_an_offer_is_created_from_a_price_with_a_comma(client, w):
    client.force_login(w.manager)
    response = client.post(url("manage_offer_create", w.place.pk), offer_data(), follow=True)
    assert "Offre « Journée » créée et mise en vente." in response.content.decode()
    offer = Offer.objects.get(label="Journée")
    assert offer.price_cents == 1550 and offer.tiers_lieu == w.place
    assert (offer.half_days, offer.validity_days, offer.consumed_on) == (2, 1, "check_in")


def test_the_create_form_is_prefilled_for_a_kind(client, w):
    client.force_login(w.manager)
    response = client.get(url("manage_offer_create", w.place.pk) + "?type=monthly")
    form = response.context["form"]
    assert form.initial["kind"] == "monthly"
    assert (form.initial["credit_days"], form.initial["validity_days"]) == ("0", 30)
    page = response.content.decode()
    assert 'aria-describedby="id_price_helptext"' in page
    assert '<label for="id_price"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"price": "quinze"}, "Indiquez un prix en euros, par exemple 15,00."),
        ({"price": "15,505"}, "au plus deux chiffres après la virgule"),
        ({"price": "-3"}, "au plus deux chiffres après la virgule"),
        ({"vat_rate": "7"}, "Choisissez l&#x27;un des taux de TVA proposés."),
        ({"credit_days": "0,3"}, "par journée ou demi-journée (0,5)"),
        ({"validity_days": "deux"}, "Indiquez un nombre entier de 1 à"),
        ({"label": ""}, "Donnez un intitulé à l&#x27;offre."),
        ({"kind": "network_pass"}, "Ce type d&#x27;offre ne se crée pas pour un lieu"),
    ],
)
def test_bad_input_answers_400_in_french_and_changes_nothing(client, w, data, message):
    client.force_login(w.manager)
    before = unchanged(w)
    response = client.post(url("manage_offer_create", w.place.pk), offer_data(**data))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Le formulaire contient des erreurs" in page
    assert unchanged(w) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "discovery"}, "Une journée découverte est offerte par un financeur"),
        ({"is_reduced": "on"}, "Un tarif réduit dit pour qui il est"),
        ({"kind": "day", "credit_days": "3"}, "donne une journée de crédit"),
    ],
)
def test_a_refused_offer_says_why_and_changes_nothing(client, w, data, message):
    client.force_login(w.manager)
    before = unchanged(w)
    response = client.post(url("manage_offer_create", w.place.pk), offer_data(**data))
    assert response.status_code == 422
    assert escape(message) in response.content.decode()
    assert unchanged(w) == before


def test_a_discovery_offer_with_its_funder(client, w):
    funder = OrganisationFactory(name="Commune de Salers")
    client.force_login(w.manager)
    client.post(
        url("manage_offer_create", w.place.pk),
        offer_data(kind="discovery", label="Découverte", funder=str(funder.pk)),
    )
    offer = Offer.objects.get(label="Découverte")
    assert offer.funder == funder and (offer.half_days, offer.validity_days) == (2, 60)


def test_a_new_price_leaves_the_passes_sold_alone(client, w):
    client.force_login(w.manager)
    page = client.get(url("manage_offer_edit", w.place.pk, w.offer.pk))
    assert page.context["form"].initial["price"] == "100,00"
    assert page.context["form"].fields["kind"].disabled
    response = client.post(
        url("manage_offer_edit", w.place.pk, w.offer.pk),
        offer_data(label="Carnet de 10 journées", kind="book", price="110", credit_days="10"),
        follow=True,
    )
    assert "Les passes déjà vendus gardent leur prix." in response.content.decode()
    w.offer.refresh_from_db()
    w.pass_.refresh_from_db()
    assert w.offer.price_cents == 11000 and w.pass_.price_cents == 10000


def test_withdraw_restore_and_delete(client, w):
    client.force_login(w.manager)
    pk = w.place.pk
    response = client.post(url("manage_offer_withdraw", pk, w.offer.pk), follow=True)
    assert "est retirée de la vente" in response.content.decode()
    w.offer.refresh_from_db()
    assert not w.offer.is_active
    assert client.get(url("manage_offer_withdraw", pk, w.offer.pk)).status_code == 405
    client.post(url("manage_offer_restore", pk, w.offer.pk))
    w.offer.refresh_from_db()
    assert w.offer.is_active
    # Sold: the delete page says so, a post is refused.
    page = client.get(url("manage_offer_delete", pk, w.offer.pk)).content.decode()
    assert "ne se supprime pas" in page
    response = client.post(url("manage_offer_delete", pk, w.offer.pk))
    assert response.status_code == 422
    assert Offer.objects.filter(pk=w.offer.pk).exists()
    # Never sold: deleted.
    client.post(url("manage_offer_create", pk), offer_data(label="Essai"))
    trial = Offer.objects.get(label="Essai")
    client.post(url("manage_offer_delete", pk, trial.pk))
    assert not Offer.objects.filter(pk=trial.pk).exists()
    assert Pass.objects.filter(offer=w.offer).exists()


def test_the_staff_manage_the_network_offers(client, w):
    department = OrganisationFactory(kind=Organisation.Kind.DEPARTMENT, name="Département")
    client.force_login(department_agent())
    response = client.post(
        url("manage_network_offer_create"),
        offer_data(
            kind="network_pass",
            label="Pass réseau",
            price="140,00",
            credit_days="10",
            validity_days="365",
            operator=str(department.pk),
        ),
    )
    assert response.status_code == 302
    offer = Offer.objects.get(label="Pass réseau")
    assert offer.is_network_wide and offer.operator == department and offer.half_days == 20
    PassFactory(offer=offer, sold_at=w.place)
    page = client.get(url("manage_network_offers")).content.decode()
    assert "Pass réseau" in page and "140\u00a0€" in page
    client.post(url("manage_network_offer_withdraw", offer.pk))
    offer.refresh_from_db()
    assert not offer.is_active
    # A place's offer is not reachable through the network's pages.
    assert client.get(url("manage_network_offer_edit", w.offer.pk)).status_code == 404
    # A network offer is a network pass or a discovery day.
    response = client.post(
        url("manage_network_offer_create"),
        offer_data(kind="book", operator=str(department.pk)),
    )
    assert response.status_code == 400
    assert "pass réseau ou une journée découverte" in response.content.decode()


# --- Spaces -----------------------------------------------------------------------------------


def test_the_spaces_page_lists_kind_capacity_and_todays_hours(client, w):
    client.force_login(w.manager)
    page = client.get(url("manage_spaces", w.place.pk)).content.decode()
    assert escape(w.space.name) in page and "8 postes" in page
    assert escape(w.other_space.name) not in page


def test_a_space_is_created_with_its_kinds_defaults(client, w):
    client.force_login(w.manager)
    form = client.get(url("manage_space_create", w.place.pk) + "?type=room").context["form"]
    assert (form.initial["kind"], form.initial["min_duration_minutes"]) == ("room", 60)
    response = client.post(url("manage_space_create", w.place.pk), space_data(), follow=True)
    assert "Espace « Salle du Puy Mary » créé" in response.content.decode()
    room = Resource.objects.get(name="Salle du Puy Mary")
    assert room.place == w.place.place and room.kind == "room" and room.capacity == 1
    assert (room.slot_minutes, room.min_duration_minutes, room.max_duration_minutes) == (
        30,
        60,
        480,
    )
    assert room.availability_rules.count() == 7
    page = client.get(url("manage_spaces", w.place.pk)).content.decode()
    assert "Salle du Puy Mary" in page and "9\u00a0h – 18\u00a0h" in page


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"capacity": "beaucoup"}, 400, "Indiquez un nombre entier de 1 à 500."),
        ({"kind": "cabin"}, 400, "Choisissez l'un des types d'espace proposés."),
        ({"name": ""}, 400, "Donnez un nom à l'espace."),
        ({"slot_minutes": "2"}, 400, "Indiquez un nombre entier de 5 à 240."),
        ({"capacity": "8"}, 422, "sa capacité est 1"),
        ({"min_duration_minutes": "45"}, 422, "multiples du pas des créneaux"),
    ],
)
def test_a_bad_space_answers_in_french_and_changes_nothing(client, w, data, status, message):
    client.force_login(w.manager)
    before = unchanged(w)
    response = client.post(url("manage_space_create", w.place.pk), space_data(**data))
    assert response.status_code == status
    assert escape(message) in response.content.decode()
    assert unchanged(w) == before


def test_a_space_is_changed_made_unbookable_and_bookable_again(client, w):
    client.force_login(w.manager)
    pk = w.place.pk
    client.post(
        url("manage_space_edit", pk, w.space.pk),
        space_data(name="Open space", kind="desk_pool", capacity="10", min_duration_minutes="240"),
    )
    w.space.refresh_from_db()
    assert (w.space.name, w.space.capacity) == ("Open space", 10)
    response = client.post(url("manage_space_deactivate", pk, w.space.pk), follow=True)
    assert "n&#x27;est plus réservable" in response.content.decode()
    w.space.refresh_from_db()
    assert not w.space.is_active
    client.post(url("manage_space_reactivate", pk, w.space.pk))
    w.space.refresh_from_db()
    assert w.space.is_active


def test_only_a_space_never_booked_is_deleted(client, w):
    client.force_login(w.manager)
    pk = w.place.pk
    client.post(url("manage_space_create", pk), space_data())
    room = Resource.objects.get(name="Salle du Puy Mary")
    assert client.post(url("manage_space_delete", pk, room.pk)).status_code == 302
    assert not Resource.objects.filter(pk=room.pk).exists()
    # A space with a booking stays (the world's desk pool opens from Monday to Friday).
    day = tomorrow()
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    booking_create(
        actor=UserFactory(), resources=[w.space], start=local(day, "09:00"), end=local(day, "13:00")
    )
    page = client.get(url("manage_space_delete", pk, w.space.pk)).content.decode()
    assert "ne se supprime pas" in page
    response = client.post(url("manage_space_delete", pk, w.space.pk))
    assert response.status_code == 422
    assert Resource.objects.filter(pk=w.space.pk).exists()


def test_a_meeting_rooms_hourly_price(client, w):
    client.force_login(w.manager)
    response = client.post(
        url("manage_offer_create", w.place.pk),
        offer_data(kind="room_hour", label="Salle de réunion", price="20,00"),
    )
    assert response.status_code == 302
    offer = Offer.objects.get(label="Salle de réunion")
    assert (offer.price_cents, offer.half_days) == (2000, 0)
    page = client.get(url("manage_offers", w.place.pk)).content.decode()
    assert "20\u00a0€ de l&#x27;heure" in page and "facturé avec la réservation" in page
