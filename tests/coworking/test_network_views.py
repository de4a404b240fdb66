"""The network page (map and list, free desks today and tomorrow, near a commune) and a
tiers-lieu's page (spaces, offers, passes)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cybercantal.core.registries import dashboard_cards, main_nav_links
from cybercantal.coworking.models import Offer
from cybercantal.coworking.views.network import half_days_text, price_text
from tests.territory.factories import OrganisationFactory

from ._network_helpers import occupy, open_place, tomorrow
from .factories import OfferFactory, TiersLieuFactory, desk_pool

pytestmark = pytest.mark.django_db
URL = "/tiers-lieux/"


def test_the_network_page_lists_places_amenities_and_the_map(client):
    place, _pool = open_place(
        place__name="La Grange numérique",
        place__download_mbps=300,
        place__has_public_wifi=True,
        place__accessibility="accessible",
        has_kitchen=True,
        lodging_nearby="Gîte à 200 m",
    )
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "La Grange numérique" in html
    assert place.place.commune.name in html
    assert "300 Mbit/s" in html
    for amenity in ("Wifi", "Salle de visioconférence", "Cuisine", "Gîte à 200 m"):
        assert amenity in html
    assert "Accessible en fauteuil roulant" in html
    assert 'id="carte-tiers-lieux-donnees"' in html  # the map's data, embedded
    assert reverse("coworking:book", args=[place.pk]) in html
    assert "Demain : 8 postes libres sur 8" in html


def test_free_desks_are_capacity_minus_the_peak_of_the_day(client):
    _place, pool = open_place()
    day = tomorrow()
    occupy(pool, day, "09:00", "13:00", count=3)
    occupy(pool, day, "14:00", "18:00", count=2)
    occupy(pool, day, "10:00", "17:00", count=1)  # with the morning ones: 4 at 10:00
    html = client.get(URL).content.decode()
    assert "Demain : 4 postes libres sur 8" in html


def test_a_full_day_and_a_closed_day(client):
    _place, pool = open_place()
    occupy(pool, tomorrow(), "09:00", "18:00", count=8)
    closed = TiersLieuFactory(place__name="Le Moulin fermé")
    other_days = [(d, "09:00", "18:00") for d in range(7) if d not in _weekdays()]
    desk_pool(closed, hours=other_days, observes_public_holidays=False)
    html = client.get(URL).content.decode()
    assert "Demain : complet" in html
    moulin = html[html.index("Le Moulin fermé") :]
    assert "Aujourd&#x27;hui : fermé" in moulin and "Demain : fermé" in moulin


def _weekdays():
    return {tomorrow().weekday(), (tomorrow().weekday() - 1) % 7}  # tomorrow and today


def test_near_a_commune_keeps_the_places_within_the_distance(client):
    near, _ = open_place(place__name="Tout près")
    _far, _ = open_place(
        place__name="Très loin",
        place__latitude=near.place.latitude + 1.5,  # ~170 km north
    )
    response = client.get(URL, {"insee": near.place.commune.insee_code, "rayon": "10"})
    html = response.content.decode()
    assert "Tout près" in html and "Très loin" not in html
    assert "par la route" in html
    # A distance that is not offered: a French message, not an error page.
    response = client.get(URL, {"insee": near.place.commune.insee_code, "rayon": "7"})
    assert response.status_code == 200
    assert "Cette distance n&#x27;est pas proposée" in response.content.decode()


def test_an_unknown_commune_says_so(client):
    open_place()
    html = client.get(URL, {"commune": "Zzzzville"}).content.decode()
    assert "Aucune commune ne correspond" in html


def test_the_number_of_queries_does_not_grow_with_the_places(client, django_assert_max_num_queries):
    _place, pool = open_place()
    occupy(pool, tomorrow(), "09:00", "13:00")
    client.get(URL)  # warm what is cached once per process
    with CaptureQueriesContext(connection) as one_place:
        client.get(URL)
    for _ in range(5):
        _other, other_pool = open_place()
        occupy(other_pool, tomorrow(), "09:00", "13:00")
    with django_assert_max_num_queries(len(one_place)):
        response = client.get(URL)
    assert response.content.decode().count('class="tl-card"') == 6
    assert len(one_place) <= 5  # places, opening periods, desk pools, rules, bookings


def test_the_place_page_shows_spaces_offers_and_network_passes(client):
    place, _pool = open_place(place__name="L'Atelier")
    OfferFactory(tiers_lieu=place, label="Carnet de 10 journées", price_cents=12000)
    OfferFactory(
        tiers_lieu=place,
        label="Journée, tarif réduit",
        price_cents=850,
        half_days=2,
        validity_days=1,
        is_reduced=True,
        reduced_for="demandeurs d'emploi",
    )
    department = OrganisationFactory(name="Département du Cantal", siret="")
    OfferFactory(
        tiers_lieu=None,
        operator=department,
        funder=department,
        kind=Offer.Kind.DISCOVERY,
        label="Journée découverte",
        price_cents=1500,
        half_days=2,
    )
    OfferFactory(
        tiers_lieu=None,
        operator=department,
        kind=Offer.Kind.NETWORK_PASS,
        label="Pass réseau",
        price_cents=14000,
    )
    OfferFactory(tiers_lieu=place, label="Ancienne offre", is_active=False)
    response = client.get(reverse("coworking:place", args=[place.pk]))
    assert response.status_code == 200
    html = response.content.decode().replace("\u00a0", " ")
    assert "Open space — L&#x27;Atelier" in html
    assert "120 € TTC" in html
    assert "8,50 € TTC" in html
    assert "tarif réduit sur justificatif (demandeurs d&#x27;emploi)" in html
    assert "Offert par Département du Cantal" in html
    assert "Pass réseau" in html and "140 € TTC" in html
    assert "Ancienne offre" not in html
    assert reverse("coworking:book", args=[place.pk]) in html


def test_an_unknown_or_hidden_place_answers_404(client):
    hidden, _ = open_place(place__is_public=False)
    assert client.get(reverse("coworking:place", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("coworking:place", args=[999999])).status_code == 404
    assert 'class="tl-card"' not in client.get(URL).content.decode()


def test_words():
    assert half_days_text(7) == "3 journées et demie"
    assert half_days_text(1) == "une demi-journée"
    assert half_days_text(2) == "1 journée"
    assert half_days_text(0) == "aucune journée"
    assert price_text(850).replace("\u00a0", " ") == "8,50 €"


def test_home_entries_are_registered():
    assert "coworking.network" in main_nav_links
    assert "coworking.network" in dashboard_cards
    assert "coworking.passes" in dashboard_cards
