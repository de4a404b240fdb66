"""Communes and EPCI, on the real Cantal reference data (250 communes)."""

import pytest

AURILLAC = "15014"
BASSIN_AURILLAC = "241500230"


def test_list_is_paginated_with_the_total_count(cantal, client):
    response = client.get("/api/v1/communes", {"limit": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 250
    assert len(body["items"]) == 1
    assert set(body["items"][0]) == {
        "insee_code",
        "name",
        "postal_codes",
        "population",
        "epci",
        "latitude",
        "longitude",
        "area_km2",
    }


def test_default_page_is_50_and_offset_reaches_the_end(cantal, client):
    assert len(client.get("/api/v1/communes").json()["items"]) == 50

    body = client.get("/api/v1/communes", {"limit": 10, "offset": 245}).json()

    assert body["count"] == 250
    assert len(body["items"]) == 5


def test_list_items_carry_their_epci_and_postal_codes(cantal, client):
    items = client.get("/api/v1/communes", {"name": "ytrac"}).json()["items"]

    assert items == [
        {
            "insee_code": "15267",
            "name": "Ytrac",
            "postal_codes": ["15000", "15130"],
            "population": 4339,
            "epci": {"siren": BASSIN_AURILLAC, "name": "CA du Bassin d'Aurillac"},
            "latitude": 44.91566,
            "longitude": 2.36581,
            "area_km2": 38.69,
        }
    ]


@pytest.mark.parametrize("query", ["saint flour", "SAINT-FLOUR", "Saint Flour", " saint-flour "])
def test_name_filter_ignores_case_accents_and_hyphens(cantal, client, query):
    names = [c["name"] for c in client.get("/api/v1/communes", {"name": query}).json()["items"]]

    assert "Saint-Flour" in names
    assert all("Saint-Flour" in name for name in names)


def test_name_filter_ignores_accents(cantal, client):
    names = [c["name"] for c in client.get("/api/v1/communes", {"name": "cezens"}).json()["items"]]

    assert names == ["Cézens"]


def test_postal_code_filter(cantal, client):
    body = client.get("/api/v1/communes", {"postal_code": "15000"}).json()

    # Ytrac shares Aurillac's postal code.
    assert {c["name"] for c in body["items"]} == {"Aurillac", "Ytrac"}
    assert body["count"] == 2


def test_epci_filter(cantal, client):
    body = client.get("/api/v1/communes", {"epci": BASSIN_AURILLAC, "limit": 250}).json()

    assert body["count"] == 25
    assert {c["epci"]["siren"] for c in body["items"]} == {BASSIN_AURILLAC}


def test_filters_combine(cantal, client):
    body = client.get("/api/v1/communes", {"epci": BASSIN_AURILLAC, "name": "saint"}).json()

    assert {c["name"] for c in body["items"]} == {
        "Mandailles-Saint-Julien",
        "Saint-Cirgues-de-Jordanne",
        "Saint-Paul-des-Landes",
        "Saint-Simon",
    }


def test_an_empty_filter_is_no_filter(cantal, client):
    assert client.get("/api/v1/communes", {"name": "", "limit": 1}).json()["count"] == 250


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"epci": "999999999"}, "epci"),  # well-formed, but no such EPCI
        ({"epci": "24150"}, "epci"),
        ({"postal_code": "quinze"}, "postal_code"),
        ({"name": "x" * 101}, "name"),
        ({"limit": "abc"}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": 251}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_bad_parameters_answer_422_in_french(cantal, client, params, field):
    response = client.get("/api/v1/communes", params)

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Paramètres invalides."
    assert [error["champ"] for error in body["errors"]] == [field]
    assert body["errors"][0]["message"]


def test_limit_error_message_states_the_bound(cantal, client):
    body = client.get("/api/v1/communes", {"limit": 1000}).json()

    assert body["errors"] == [{"champ": "limit", "message": "Doit être inférieur ou égal à 250."}]


def test_detail_has_the_outline_and_the_epci(cantal, client):
    response = client.get(f"/api/v1/communes/{AURILLAC}")

    assert response.status_code == 200
    commune = response.json()
    assert commune["name"] == "Aurillac"
    assert commune["postal_codes"] == ["15000"]
    assert commune["epci"] == {"siren": BASSIN_AURILLAC, "name": "CA du Bassin d'Aurillac"}
    assert commune["outline"]["type"] in {"Polygon", "MultiPolygon"}
    assert commune["outline"]["coordinates"]


@pytest.mark.parametrize("code", ["99999", "2A004", "abc", "1501"])
def test_unknown_commune_is_a_french_404(cantal, client, code):
    response = client.get(f"/api/v1/communes/{code}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"Commune inconnue : {code}."}


def test_epci_list_with_commune_counts_and_population(
    cantal, client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):  # the count, then one page with its totals
        response = client.get("/api/v1/epci")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 10
    assert sum(e["commune_count"] for e in body["items"]) == 250
    assert sum(e["population"] for e in body["items"]) == 144_196
    bassin = next(e for e in body["items"] if e["siren"] == BASSIN_AURILLAC)
    assert bassin == {
        "siren": BASSIN_AURILLAC,
        "name": "CA du Bassin d'Aurillac",
        "commune_count": 25,
        "population": 54_289,
    }


def test_commune_list_does_not_query_per_commune(cantal, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        client.get("/api/v1/communes", {"limit": 250})
