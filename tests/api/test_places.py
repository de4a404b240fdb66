"""Places: filters, distance search, and visibility scoped to the caller."""

from datetime import time

import pytest

from cybercantal.accounts.models import Role
from cybercantal.accounts.tokens import api_token_create
from cybercantal.territory.models import Commune, OpeningPeriod, Organisation, Place
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.territory.factories import PlaceFactory


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def places(cantal):
    """Three public places: in Aurillac, in Ytrac (about 6 km west) and in Saint-Flour
    (about 52 km north-east)."""
    communes = {
        c.insee_code: c for c in Commune.objects.filter(insee_code__in=["15014", "15267", "15187"])
    }
    return {
        "aurillac": PlaceFactory(
            name="Tiers-lieu d'Aurillac", commune=communes["15014"], kinds=["tiers_lieu"]
        ),
        "ytrac": PlaceFactory(
            name="Médiathèque d'Ytrac", commune=communes["15267"], kinds=["library", "mediation"]
        ),
        "saint_flour": PlaceFactory(
            name="France Services de Saint-Flour",
            commune=communes["15187"],
            postal_code="15100",
            kinds=["france_services", "mediation"],
        ),
    }


@pytest.fixture
def hidden_place(places):
    """A place not open to the public, run by an organisation with one member."""
    organisation = OrganisationFactory(name="Coopérative du Carladès")
    place = PlaceFactory(
        name="Atelier réservé",
        commune=places["aurillac"].commune,
        organisation=organisation,
        is_public=False,
        kinds=["tiers_lieu"],
    )
    return place


def member_token(place: Place, role: str = Role.TIERS_LIEU_MANAGER) -> str:
    membership = MembershipFactory(organisation=place.organisation, role=role)
    _token, raw = api_token_create(actor=membership.user, name="test")
    return raw


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


def test_list_is_ordered_by_name_and_counted(places, client):
    response = client.get("/api/v1/places")

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert names(response) == [
        "France Services de Saint-Flour",
        "Médiathèque d'Ytrac",
        "Tiers-lieu d'Aurillac",
    ]


def test_list_item_shape(places, client):
    item = client.get("/api/v1/places", {"commune": "15014"}).json()["items"][0]

    assert item["id"] == places["aurillac"].pk
    assert item["kinds"] == [{"code": "tiers_lieu", "label": "Tiers-lieu"}]
    assert item["address"]["commune"] == {"insee_code": "15014", "name": "Aurillac"}
    assert item["is_public"] is True
    assert item["distance_km"] is None  # only for a distance search


def test_kind_filter(places, client):
    assert names(client.get("/api/v1/places", {"kind": "mediation"})) == [
        "France Services de Saint-Flour",
        "Médiathèque d'Ytrac",
    ]


def test_commune_filter(places, client):
    assert names(client.get("/api/v1/places", {"commune": "15187"})) == [
        "France Services de Saint-Flour"
    ]


def test_near_orders_by_distance_with_distances(places, client):
    body = client.get("/api/v1/places", {"near": "15014", "radius_km": 100}).json()

    assert body["count"] == 3
    assert [item["name"] for item in body["items"]] == [
        "Tiers-lieu d'Aurillac",
        "Médiathèque d'Ytrac",
        "France Services de Saint-Flour",
    ]
    distances = [item["distance_km"] for item in body["items"]]
    assert distances == sorted(distances)
    assert distances[0] == 0
    assert 5 < distances[1] < 8
    assert 45 < distances[2] < 60
    for item in body["items"]:
        # The road estimate is longer than the straight line, never shorter.
        assert item["road_km"] >= item["distance_km"]
    assert body["items"][2]["road_km"] > body["items"][2]["distance_km"]


def test_near_respects_the_radius(places, client):
    body = client.get("/api/v1/places", {"near": "15014", "radius_km": 20}).json()

    assert [item["name"] for item in body["items"]] == [
        "Tiers-lieu d'Aurillac",
        "Médiathèque d'Ytrac",
    ]
    assert body["count"] == 2


def test_near_combines_with_kind_and_commune(places, client):
    near = {"near": "15014", "radius_km": 100}

    assert names(client.get("/api/v1/places", {**near, "kind": "mediation"})) == [
        "Médiathèque d'Ytrac",
        "France Services de Saint-Flour",
    ]
    assert names(client.get("/api/v1/places", {**near, "commune": "15187"})) == [
        "France Services de Saint-Flour"
    ]


def test_near_paginates_with_the_total_count(places, client):
    body = client.get(
        "/api/v1/places", {"near": "15014", "radius_km": 100, "limit": 1, "offset": 1}
    ).json()

    assert body["count"] == 3
    assert [item["name"] for item in body["items"]] == ["Médiathèque d'Ytrac"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "15014"}, "radius_km"),  # radius required with near
        ({"radius_km": 10}, "near"),  # and near with radius
        ({"near": "15014", "radius_km": 0}, "radius_km"),
        ({"near": "15014", "radius_km": -5}, "radius_km"),
        ({"near": "15014", "radius_km": 200.5}, "radius_km"),
        ({"near": "15014", "radius_km": "abc"}, "radius_km"),
        ({"near": "15014", "radius_km": "nan"}, "radius_km"),
        ({"near": "15014", "radius_km": "inf"}, "radius_km"),
        ({"near": "99999", "radius_km": 10}, "near"),  # unknown commune
        ({"near": "Aurillac", "radius_km": 10}, "near"),  # a name is not a code
        ({"kind": "piscine"}, "kind"),
        ({"kind": "tiers lieu!"}, "kind"),
        ({"commune": "99999"}, "commune"),
        ({"commune": "abcde"}, "commune"),
        ({"limit": "dix"}, "limit"),
    ],
)
def test_bad_parameters_answer_422_in_french(places, client, params, field):
    response = client.get("/api/v1/places", params)

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Paramètres invalides."
    assert [error["champ"] for error in body["errors"]] == [field]


def test_bad_radius_message(places, client):
    body = client.get("/api/v1/places", {"near": "15014", "radius_km": 250}).json()

    assert body["errors"] == [
        {"champ": "radius_km", "message": "Doit être inférieur ou égal à 200."}
    ]


def test_unknown_kind_message_lists_the_known_kinds(places, client):
    message = client.get("/api/v1/places", {"kind": "piscine"}).json()["errors"][0]["message"]

    assert message.startswith("Type de lieu inconnu : piscine.")
    assert "tiers_lieu" in message


def test_radius_at_the_maximum_is_accepted(places, client):
    assert client.get("/api/v1/places", {"near": "15014", "radius_km": 200}).status_code == 200


def test_detail_has_everything_a_visitor_needs(places, client):
    place = places["ytrac"]
    place.description = "Espace numérique ouvert à tous."
    place.address_complement = "Rez-de-chaussée"
    place.opening_hours = "Tu,Th 09:00-12:00"
    place.accessibility = Place.Accessibility.ACCESSIBLE
    place.accessibility_details = "Rampe côté parking"
    place.connectivity = Place.Connectivity.FIBRE
    place.download_mbps = 500
    place.has_public_wifi = True
    place.phone = "0471000000"
    place.email = "mediatheque@example.org"
    place.website = "https://example.org/mediatheque"
    place.organisation = OrganisationFactory(name="Commune d'Ytrac", kind=Organisation.Kind.COMMUNE)
    place.save()
    OpeningPeriod.objects.create(place=place, weekday=1, opens=time(9), closes=time(12))
    OpeningPeriod.objects.create(place=place, weekday=3, opens=time(9), closes=time(12))

    response = client.get(f"/api/v1/places/{place.pk}")

    assert response.status_code == 200
    detail = response.json()
    assert detail["name"] == "Médiathèque d'Ytrac"
    assert {k["code"] for k in detail["kinds"]} == {"library", "mediation"}
    assert detail["address"] == {
        "street": place.address,
        "complement": "Rez-de-chaussée",
        "postal_code": "15000",
        "commune": {"insee_code": "15267", "name": "Ytrac"},
    }
    assert (detail["latitude"], detail["longitude"]) == (place.latitude, place.longitude)
    assert detail["opening_hours"] == {
        "osm": "Tu,Th 09:00-12:00",
        "periods": [
            {"weekday": 1, "day": "mardi", "opens": "09:00:00", "closes": "12:00:00"},
            {"weekday": 3, "day": "jeudi", "opens": "09:00:00", "closes": "12:00:00"},
        ],
    }
    assert detail["accessibility"] == {
        "code": "accessible",
        "label": "Accessible en fauteuil roulant",
        "details": "Rampe côté parking",
    }
    assert detail["connectivity"] == {
        "code": "fibre",
        "label": "Fibre optique",
        "download_mbps": 500,
        "has_public_wifi": True,
    }
    assert detail["contact"] == {
        "phone": "0471000000",
        "email": "mediatheque@example.org",
        "website": "https://example.org/mediatheque",
    }
    assert detail["organisation"] == {"name": "Commune d'Ytrac"}
    assert detail["description"] == "Espace numérique ouvert à tous."


def test_unknown_place_is_a_french_404(places, client):
    response = client.get("/api/v1/places/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Lieu inconnu : 999999."}


# --- Visibility ----------------------------------------------------------------------------


def test_non_public_place_is_hidden_from_anonymous_callers(hidden_place, client):
    assert "Atelier réservé" not in names(client.get("/api/v1/places", {"limit": 250}))
    assert "Atelier réservé" not in names(
        client.get("/api/v1/places", {"near": "15014", "radius_km": 10})
    )

    response = client.get(f"/api/v1/places/{hidden_place.pk}")

    # The same answer as for a place that does not exist: its existence is not revealed.
    assert response.status_code == 404
    assert response.json() == {"detail": f"Lieu inconnu : {hidden_place.pk}."}


def test_non_public_place_is_visible_with_a_members_token(hidden_place, client):
    raw = member_token(hidden_place)

    listed = client.get("/api/v1/places", {"commune": "15014"}, headers=bearer(raw))
    near = client.get("/api/v1/places", {"near": "15014", "radius_km": 5}, headers=bearer(raw))
    detail = client.get(f"/api/v1/places/{hidden_place.pk}", headers=bearer(raw))

    assert "Atelier réservé" in names(listed)
    assert "Atelier réservé" in names(near)
    assert detail.status_code == 200
    assert detail.json()["is_public"] is False
    assert detail.json()["organisation"] == {"name": "Coopérative du Carladès"}


def test_non_public_place_is_visible_in_a_members_session(hidden_place, client):
    membership = MembershipFactory(organisation=hidden_place.organisation, role=Role.MEDIATOR)
    client.force_login(membership.user)

    assert client.get(f"/api/v1/places/{hidden_place.pk}").status_code == 200


def test_non_public_place_stays_hidden_from_a_non_member(hidden_place, client):
    outsider = MembershipFactory(role=Role.TIERS_LIEU_MANAGER).user  # another organisation
    _token, raw = api_token_create(actor=outsider, name="test")

    response = client.get(f"/api/v1/places/{hidden_place.pk}", headers=bearer(raw))

    assert response.status_code == 404
    assert "Atelier réservé" not in names(
        client.get("/api/v1/places", {"limit": 250}, headers=bearer(raw))
    )


def test_non_public_place_is_hidden_from_a_former_member(hidden_place, client):
    membership = MembershipFactory(organisation=hidden_place.organisation, is_active=False)
    _token, raw = api_token_create(actor=membership.user, name="test")

    assert client.get(f"/api/v1/places/{hidden_place.pk}", headers=bearer(raw)).status_code == 404


def test_department_agent_sees_every_place(hidden_place, client):
    agent = UserFactory(roles=[Role.DEPARTMENT_AGENT])
    _token, raw = api_token_create(actor=agent, name="test")

    assert client.get(f"/api/v1/places/{hidden_place.pk}", headers=bearer(raw)).status_code == 200


def test_list_and_detail_do_not_query_per_place(places, client, django_assert_max_num_queries):
    for _ in range(10):
        PlaceFactory(commune=places["aurillac"].commune, kinds=["mediation", "library"])

    with django_assert_max_num_queries(3):  # count, page, kinds of the page
        client.get("/api/v1/places", {"limit": 250})
    with django_assert_max_num_queries(4):  # the commune, then places and their kinds
        client.get("/api/v1/places", {"near": "15014", "radius_km": 50})
    with django_assert_max_num_queries(3):  # the place, its kinds, its opening periods
        client.get(f"/api/v1/places/{places['aurillac'].pk}")
