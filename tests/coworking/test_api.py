"""The tiers-lieux endpoints of the API: places with amenities, free seats per space on a day,
offers; 422 in French for a bad parameter, 404 for an unknown or hidden place."""

import datetime as dt

import pytest
from django.utils import timezone

from ._network_helpers import occupy, open_place, tomorrow
from .factories import OfferFactory

pytestmark = pytest.mark.django_db


def test_places_with_their_amenities(client):
    place, _ = open_place(place__name="La Grange", place__download_mbps=500)
    open_place(place__is_public=False)
    body = client.get("/api/v1/tiers-lieux").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == place.pk and item["name"] == "La Grange"
    assert item["amenities"]["download_mbps"] == 500
    assert item["amenities"]["visio_room"] is True


def test_free_seats_per_space_on_a_day(client):
    place, pool = open_place()
    occupy(pool, tomorrow(), "09:00", "13:00", count=3)
    response = client.get(
        f"/api/v1/tiers-lieux/{place.pk}/disponibilites", {"date": tomorrow().isoformat()}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == tomorrow().isoformat()
    assert body["spaces"] == [
        {
            "id": pool.pk,
            "name": pool.name,
            "kind": "desk_pool",
            "capacity": 8,
            "is_open": True,
            "free": 5,
        }
    ]
    today = client.get(f"/api/v1/tiers-lieux/{place.pk}/disponibilites").json()
    assert today["date"] == timezone.localdate().isoformat()


@pytest.mark.parametrize("value", ["demain", "2027-13-01", "1"])
def test_a_bad_date_is_422_in_french(client, value):
    place, _ = open_place()
    response = client.get(f"/api/v1/tiers-lieux/{place.pk}/disponibilites", {"date": value})
    assert response.status_code == 422
    assert response.json()["errors"][0]["champ"] == "date"
    assert "AAAA-MM-JJ" in response.json()["errors"][0]["message"]


def test_a_date_too_far_is_422(client):
    place, _ = open_place()
    far = (timezone.localdate() + dt.timedelta(days=400)).isoformat()
    response = client.get(f"/api/v1/tiers-lieux/{place.pk}/disponibilites", {"date": far})
    assert response.status_code == 422
    assert "Choisissez un jour entre" in response.json()["errors"][0]["message"]


def test_unknown_or_hidden_places_are_404(client):
    hidden, _ = open_place(place__is_public=False)
    for path in ("disponibilites", "offres"):
        for pk in (hidden.pk, 999999):
            response = client.get(f"/api/v1/tiers-lieux/{pk}/{path}")
            assert response.status_code == 404
            assert response.json()["detail"].startswith("Tiers-lieu inconnu")


def test_offers(client):
    place, _ = open_place()
    OfferFactory(tiers_lieu=place, label="Carnet", price_cents=12000, is_reduced=True)
    OfferFactory(tiers_lieu=None, operator=place.place.organisation, label="Pass réseau")
    OfferFactory(label="Ailleurs")
    body = client.get(f"/api/v1/tiers-lieux/{place.pk}/offres").json()
    assert [o["label"] for o in body] == ["Carnet", "Pass réseau"]
    assert body[0]["price_cents"] == 12000 and body[0]["is_reduced"] is True
    assert body[1]["network_wide"] is True
