"""Public pages of the territory: places, communes, search and the map data, as a visitor
reaches them (the Django test client, the real 250 communes of the Cantal)."""

import datetime as dt
import html as html_lib
import json

import pytest
from django.urls import reverse

from cybercantal.accounts.models import Membership, Role
from cybercantal.territory.models import OpeningPeriod
from cybercantal.territory.selectors import commune_get
from tests.accounts.factories import UserFactory

from .factories import OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def aurillac(cantal):
    return commune_get("15014")


@pytest.fixture
def saint_flour(cantal):
    return commune_get("15187")


def html(response) -> str:
    """The page as text, entities decoded (Django escapes apostrophes)."""
    return html_lib.unescape(response.content.decode()).replace("\xa0", " ")


# --- Place page ------------------------------------------------------------------------------


def test_place_page_shows_what_a_visitor_needs(client, aurillac):
    organisation = OrganisationFactory(name="Association Le Lien")
    place = PlaceFactory(
        name="Espace numérique du Centre",
        commune=aurillac,
        kinds=["mediation", "library"],
        description="Ateliers et aide aux démarches.",
        address="12 rue des Carmes",
        phone="04 71 46 20 20",
        email="contact@lelien.example",
        accessibility="accessible",
        accessibility_details="Rampe côté parking",
        connectivity="fibre",
        download_mbps=300,
        has_public_wifi=True,
        organisation=organisation,
    )
    OpeningPeriod.objects.create(place=place, weekday=0, opens=dt.time(9), closes=dt.time(12))
    OpeningPeriod.objects.create(place=place, weekday=0, opens=dt.time(13, 30), closes=dt.time(17))

    response = client.get(reverse("territory:place_detail", args=[place.pk]))

    assert response.status_code == 200
    page = html(response)
    assert "<h1>Espace numérique du Centre</h1>" in page
    assert "Médiation numérique" in page and "Médiathèque" in page
    assert "Ateliers et aide aux démarches." in page
    assert "12 rue des Carmes" in page
    assert reverse("territory:commune_detail", args=["15014"]) in page
    assert "Lundi" in page and "de 9 h à 12 h, de 13 h 30 à 17 h" in page
    assert "Mardi" in page and "fermé" in page
    assert "Accessible en fauteuil roulant" in page and "Rampe côté parking" in page
    assert "Fibre optique" in page and "300 Mbit/s" in page
    assert 'href="tel:0471462020"' in page
    assert 'href="mailto:contact@lelien.example"' in page
    assert "Association Le Lien" in page
    assert 'id="carte-lieu"' in page
    assert "Démonstration" not in page


def test_place_page_shows_osm_hours_in_french_when_there_are_no_periods(client, aurillac):
    place = PlaceFactory(commune=aurillac, opening_hours="Mo-Fr 09:00-12:00; Sa off")

    page = html(client.get(reverse("territory:place_detail", args=[place.pk])))

    assert "lun.-ven. 09:00-12:00 ; sam. fermé" in page
    assert "Mo-Fr 09:00-12:00; Sa off" in page  # the raw string, as communicated


def test_place_page_without_any_hours_says_to_call(client, aurillac):
    place = PlaceFactory(commune=aurillac)

    page = html(client.get(reverse("territory:place_detail", args=[place.pk])))

    assert "Horaires non renseignés" in page


def test_demo_place_is_marked(client, aurillac):
    place = PlaceFactory(commune=aurillac, is_demo=True)

    page = html(client.get(reverse("territory:place_detail", args=[place.pk])))

    assert 'class="badge badge--demo"' in page
    assert 'class="demo-banner"' in page


def test_unknown_place_is_404(client, cantal):
    response = client.get(reverse("territory:place_detail", args=[999999]))

    assert response.status_code == 404
    assert "Page introuvable" in html(response)


def test_non_public_place_is_hidden_from_anonymous_and_outsiders(client, aurillac):
    organisation = OrganisationFactory()
    place = PlaceFactory(commune=aurillac, is_public=False, organisation=organisation)
    url = reverse("territory:place_detail", args=[place.pk])

    assert client.get(url).status_code == 404

    outsider = UserFactory()
    Membership.objects.create(user=outsider, organisation=OrganisationFactory(), role=Role.MEDIATOR)
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_non_public_place_is_shown_to_a_member_of_its_organisation(client, aurillac):
    organisation = OrganisationFactory()
    place = PlaceFactory(
        name="Salle de réunion interne",
        commune=aurillac,
        is_public=False,
        organisation=organisation,
    )
    member = UserFactory()
    Membership.objects.create(user=member, organisation=organisation, role=Role.MEDIATOR)
    client.force_login(member)

    response = client.get(reverse("territory:place_detail", args=[place.pk]))

    assert response.status_code == 200
    assert "Salle de réunion interne" in html(response)
    assert "pas ouvert au public" in html(response)


def test_inactive_membership_does_not_show_a_non_public_place(client, aurillac):
    organisation = OrganisationFactory()
    place = PlaceFactory(commune=aurillac, is_public=False, organisation=organisation)
    former = UserFactory()
    Membership.objects.create(
        user=former, organisation=organisation, role=Role.MEDIATOR, is_active=False
    )
    client.force_login(former)

    assert client.get(reverse("territory:place_detail", args=[place.pk])).status_code == 404


# --- Commune page ----------------------------------------------------------------------------


def test_commune_page(client, saint_flour):
    response = client.get(reverse("territory:commune_detail", args=["15187"]))

    assert response.status_code == 200
    page = html(response)
    assert "<h1>Saint-Flour</h1>" in page
    assert "15100" in page
    assert saint_flour.epci.name in page
    assert "habitants" in page
    assert 'id="carte-commune"' in page
    # The outline is embedded for the map.
    assert '"insee_code": "15187"' in page
    # Neighbouring communes, with links.
    assert "Communes voisines" in page
    assert reverse("territory:commune_detail", args=["15005"]) in page  # Anglards-de-Saint-Flour


def test_unknown_commune_is_404(client, cantal):
    assert client.get(reverse("territory:commune_detail", args=["99999"])).status_code == 404
    assert client.get("/communes/pas-une-commune/").status_code == 404


def test_commune_page_lists_places_within_the_default_20_km_with_distances(client, saint_flour):
    near = PlaceFactory(
        name="France Services de Saint-Flour", commune=saint_flour, kinds=["france_services"]
    )
    # About 25 km east of Saint-Flour's reference point: outside the default radius.
    far = PlaceFactory(
        name="Lieu lointain",
        commune=saint_flour,
        latitude=saint_flour.latitude,
        longitude=saint_flour.longitude + 0.318,
    )

    page = html(client.get(reverse("territory:commune_detail", args=["15187"])))

    assert near.name in page
    assert far.name not in page
    assert "à 0,0 km à vol d'oiseau, environ 1 km par la route" in page
    assert '<option value="20" selected>' in page

    page = html(client.get(reverse("territory:commune_detail", args=["15187"]), {"rayon": "30"}))

    assert far.name in page
    assert "à 25 km à vol d'oiseau, environ 35 km par la route" in page
    assert '<option value="30" selected>' in page


@pytest.mark.parametrize("radius", ["7", "abc", "-20", "1e9", "", "20.5", "٢٠"])
def test_invalid_radius_falls_back_to_20_km_with_a_french_message(client, saint_flour, radius):
    PlaceFactory(name="Lieu proche", commune=saint_flour)

    response = client.get(reverse("territory:commune_detail", args=["15187"]), {"rayon": radius})

    assert response.status_code == 200
    page = html(response)
    assert "Lieu proche" in page
    assert '<option value="20" selected>' in page
    if radius:
        assert "n'est pas proposée : choisissez 5, 10, 20, 30 ou 50 km" in page
        assert "Les lieux sont affichés dans un rayon de 20 km." in page
        assert 'aria-invalid="true"' in page


def test_commune_page_groups_and_filters_by_kind(client, saint_flour):
    PlaceFactory(name="Point numérique", commune=saint_flour, kinds=["mediation"])
    PlaceFactory(name="Maison de santé du Haut", commune=saint_flour, kinds=["health_centre"])
    url = reverse("territory:commune_detail", args=["15187"])

    page = html(client.get(url))
    assert "<h3>Médiation numérique" in page and "<h3>Maison de santé" in page

    page = html(client.get(url, {"type": "health_centre"}))
    assert "Maison de santé du Haut" in page
    assert "Point numérique" not in page

    page = html(client.get(url, {"type": "library"}))  # exists, but none nearby
    assert "Aucun lieu de ce type" in page

    response = client.get(url, {"type": "<script>"})
    assert response.status_code == 200
    assert "Ce type de lieu n'existe pas." in html(response)
    assert "Point numérique" in html(response)


def test_commune_page_hides_non_public_places_from_anonymous(client, saint_flour):
    PlaceFactory(name="Bureau privé", commune=saint_flour, is_public=False)

    assert "Bureau privé" not in html(
        client.get(reverse("territory:commune_detail", args=["15187"]))
    )


# --- Search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["saint flour", "SAINT-FLOUR", "Saint Flour", "saint-flour", "  sáint  flóur "]
)
def test_search_is_tolerant_of_accents_case_and_hyphens(client, cantal, query):
    response = client.get(reverse("territory:search"), {"q": query})

    assert response.status_code == 200
    assert 'href="/communes/15187/">Saint-Flour</a>' in html(response)


def test_search_by_postal_code(client, cantal):
    page = html(client.get(reverse("territory:search"), {"q": "15000"}))

    assert "Aurillac" in page
    assert reverse("territory:commune_detail", args=["15014"]) in page


def test_single_result_is_offered_prominently(client, cantal):
    page = html(client.get(reverse("territory:search"), {"q": "aurillac"}))

    assert "panel--highlight" in page
    assert "Voir ce qui existe près de Aurillac" in page


def test_no_result_gives_a_helpful_message(client, cantal):
    page = html(client.get(reverse("territory:search"), {"q": "Paris"}))
    assert "Aucune commune ne correspond à « Paris »" in page
    assert "Vérifiez l'orthographe" in page

    page = html(client.get(reverse("territory:search"), {"q": "75001"}))
    assert "Vérifiez le code postal" in page


@pytest.mark.parametrize("query", ["", "x" * 500, "saint\x00flour", "%", "'; DROP TABLE"])
def test_search_never_fails_on_odd_input(client, cantal, query):
    response = client.get(reverse("territory:search"), {"q": query})

    assert response.status_code == 200
    if len(query) > 100:
        assert "Votre recherche est trop longue" in html(response)


def test_search_suggestions_fragment(client, cantal):
    response = client.get(
        reverse("territory:search_suggestions"), {"q": "saint fl"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    page = html(response)
    assert "<html" not in page
    assert 'href="/communes/15187/"' in page
    assert 'hx-swap-oob="innerHTML"' in page
    assert "suggérée" in page

    one_letter = html(client.get(reverse("territory:search_suggestions"), {"q": "s"}))
    assert "/communes/" not in one_letter


# --- Map data --------------------------------------------------------------------------------


def test_communes_geojson(client, cantal, django_assert_max_num_queries):
    url = reverse("territory:communes_geojson")
    with django_assert_max_num_queries(2):  # the ETag stamp, then the data in one query
        response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "max-age=3600" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 250
    saint_flour = next(f for f in data["features"] if f["properties"]["insee_code"] == "15187")
    assert saint_flour["properties"] == {
        "insee_code": "15187",
        "name": "Saint-Flour",
        "population": saint_flour["properties"]["population"],
        "url": "/communes/15187/",
    }
    assert saint_flour["geometry"]["type"] in {"Polygon", "MultiPolygon"}

    with django_assert_max_num_queries(1):
        again = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_places_geojson_is_scoped_to_the_visitor(client, aurillac):
    organisation = OrganisationFactory()
    public = PlaceFactory(name="Public", commune=aurillac, kinds=["mediation"])
    private = PlaceFactory(
        name="Privé",
        commune=aurillac,
        kinds=["tiers_lieu"],
        is_public=False,
        organisation=organisation,
    )
    url = reverse("territory:places_geojson")

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "private" in response["Cache-Control"]
    names = {f["properties"]["name"] for f in json.loads(response.content)["features"]}
    assert names == {"Public"}
    feature = json.loads(response.content)["features"][0]
    assert feature["geometry"] == {
        "type": "Point",
        "coordinates": [public.longitude, public.latitude],
    }
    assert feature["properties"]["kinds"][0]["code"] == "mediation"
    assert feature["properties"]["color"] == feature["properties"]["kinds"][0]["color"]
    assert feature["properties"]["url"] == f"/lieux/{public.pk}/"

    member = UserFactory()
    Membership.objects.create(user=member, organisation=organisation, role=Role.MEDIATOR)
    client.force_login(member)
    names = {f["properties"]["name"] for f in json.loads(client.get(url).content)["features"]}
    assert names == {"Public", private.name}

    by_kind = json.loads(client.get(url, {"type": "tiers_lieu"}).content)
    assert [f["properties"]["name"] for f in by_kind["features"]] == ["Privé"]
    both = json.loads(client.get(url, {"type": ["tiers_lieu", "mediation"]}).content)
    assert len(both["features"]) == 2


def test_places_geojson_etag_and_bad_input(client, aurillac):
    PlaceFactory(commune=aurillac)
    url = reverse("territory:places_geojson")
    first = client.get(url)

    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304

    bad = client.get(url, {"type": "<script>"})
    assert bad.status_code == 400
    assert "invalide" in bad.json()["error"]
    assert client.get(url, {"type": ["a"] * 31}).status_code == 400
