"""The API as a whole: its documents, its root, and JSON answers for what matches no endpoint."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document_is_json_and_lists_every_path(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"]["title"] == "API CyberCantal"
    assert "Authentification" in document["info"]["description"]
    assert set(document["paths"]) >= {
        "/api/v1/communes",
        "/api/v1/communes/{insee_code}",
        "/api/v1/epci",
        "/api/v1/place-kinds",
        "/api/v1/places",
        "/api/v1/places/{place_id}",
        "/api/v1/me",
        "/api/v1/me/tokens",
        "/api/v1/me/tokens/{token_id}",
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiTokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"


def test_openapi_marks_public_endpoints_as_open_and_me_as_protected(client):
    paths = json.loads(client.get("/api/v1/openapi.json").content)["paths"]

    # An empty requirement means "no authentication needed" (OpenAPI 3).
    assert {} in paths["/api/v1/communes"]["get"]["security"]
    assert {} in paths["/api/v1/places/{place_id}"]["get"]["security"]
    assert {} not in paths["/api/v1/me"]["get"]["security"]
    assert {"ApiTokenAuth": []} in paths["/api/v1/me"]["get"]["security"]


def test_interactive_documentation_is_served(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_root_points_to_the_documentation(client):
    response = client.get("/api/v1/")

    assert response.status_code == 200
    assert response.json()["openapi"].endswith("/api/v1/openapi.json")


@pytest.mark.parametrize(
    "url", ["/api/v1/nothing-here", "/api/v1/communes/", "/api/v1/places/abc", "/api/v1/x/y/z"]
)
def test_unknown_route_answers_json_404(client, url):
    response = client.get(url)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "Adresse inconnue" in response.json()["detail"]


def test_unknown_route_with_an_unsafe_method_is_json_404_not_a_csrf_page(client):
    response = client.post("/api/v1/nothing-here", data="{}", content_type="application/json")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_wrong_method_answers_json_405_with_allow_header(client):
    response = client.post("/api/v1/communes", data="{}", content_type="application/json")

    assert response.status_code == 405
    assert response.json() == {"detail": "Méthode non autorisée."}
    assert response["Allow"] == "GET"


def test_an_unexpected_exception_becomes_a_french_500_and_is_logged(client, monkeypatch, caplog):
    """The safety net itself: a bug in a selector must still answer JSON (and be logged)."""
    from cybercantal.territory import api as territory_api

    def broken(**kwargs):
        raise RuntimeError("bogue simulé")

    monkeypatch.setattr(territory_api, "commune_list", broken)

    with caplog.at_level("ERROR", logger="cybercantal.api"):
        response = client.get("/api/v1/communes")

    assert response.status_code == 500
    assert response.json()["detail"].startswith("Erreur interne du serveur")
    assert "bogue simulé" not in response.content.decode()
    assert any("bogue simulé" in (record.exc_text or "") for record in caplog.records)
