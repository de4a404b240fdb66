"""Garbage on every endpoint: the API answers a 4xx in JSON, never a 500."""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybercantal.accounts.tokens import api_token_create
from tests.accounts.factories import UserFactory
from tests.territory.factories import CommuneFactory, PlaceFactory

pytestmark = pytest.mark.django_db

GARBAGE = [
    "",
    " ",
    "x" * 5000,
    "é" * 300,
    "😀🏔️ Saint-Flour",
    "\u202e15014",  # right-to-left override
    "\x00",
    "15014\x00",
    "\t\n",
    "' OR 1=1 --",
    '"; DROP TABLE territory_commune; --',
    "%",
    "_",
    "\\",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "-1",
    "0",
    "-0",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999999999999999",
    "-99999999999999999999999999999999",
    "0x10",
    "1_000",
    "null",
    "true",
    "[]",
    "{}",
]

QUERY_ENDPOINTS = {
    "/api/v1/communes": ["name", "postal_code", "epci", "limit", "offset"],
    "/api/v1/places": ["kind", "commune", "near", "radius_km", "limit", "offset"],
    "/api/v1/epci": ["limit", "offset"],
    "/api/v1/place-kinds": ["limit"],
    "/api/v1/me": ["x"],
    "/api/v1/me/tokens": ["x"],
}
PATH_ENDPOINTS = [
    ("get", "/api/v1/communes/{}"),
    ("get", "/api/v1/places/{}"),
    ("delete", "/api/v1/me/tokens/{}"),
    ("get", "/api/v1/{}"),
]


@pytest.fixture
def data():
    commune = CommuneFactory(insee_code="15014", name="Aurillac", latitude=44.92, longitude=2.44)
    PlaceFactory(commune=commune, kinds=["tiers_lieu"])
    PlaceFactory(commune=commune, is_public=False)


@pytest.fixture
def raw_token(data):
    _token, raw = api_token_create(actor=UserFactory(), name="fuzz")
    return raw


def assert_json_client_error(response, what):
    assert response.status_code < 500, what
    assert response["Content-Type"].startswith("application/json"), what
    response.json()  # parses


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "token"])
@pytest.mark.parametrize("url", list(QUERY_ENDPOINTS))
def test_garbage_query_parameters(client, raw_token, url, authenticated):
    headers = {"Authorization": f"Bearer {raw_token}"} if authenticated else {}
    for parameter in QUERY_ENDPOINTS[url]:
        for value in GARBAGE:
            response = client.get(url, {parameter: value}, headers=headers)
            assert_json_client_error(response, (url, parameter, value))
        # Repeated and combined parameters.
        response = client.get(url, {parameter: ["1", "2"], "near": "15014"}, headers=headers)
        assert_json_client_error(response, (url, parameter, "repeated"))


@pytest.mark.parametrize(("method", "template"), PATH_ENDPOINTS)
def test_garbage_path_segments(client, raw_token, method, template):
    headers = {"Authorization": f"Bearer {raw_token}"}
    for value in GARBAGE:
        if not value.strip():
            continue
        url = template.format(quote(value, safe=""))
        response = getattr(client, method)(url, headers=headers)
        assert_json_client_error(response, (url, value))


@pytest.mark.parametrize("url", ["/api/v1/communes", "/api/v1/me", "/api/v1/places/1"])
def test_garbage_authorization_headers(client, data, url):
    for value in [*GARBAGE, "Bearer", "Bearer  ", "Token", "Basic", "Basic !!!", "Digest x"]:
        for header in (value, f"Bearer {value}", f"Token {value}", f"Bearer cc_{value}"):
            if "\x00" in header or "\n" in header:
                continue  # not representable in an HTTP header
            response = client.get(url, headers={"Authorization": header})
            assert_json_client_error(response, (url, header))


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_unexpected_methods_and_bodies(client, data, method):
    for url in ["/api/v1/communes", "/api/v1/places/1", "/api/v1/me", "/api/v1/"]:
        response = getattr(client, method)(url, data="{not json", content_type="application/json")
        assert_json_client_error(response, (method, url))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(max_size=120),
    postal_code=st.text(max_size=8),
    near=st.text(max_size=8),
    radius=st.one_of(st.floats(allow_nan=True), st.text(max_size=6)),
    limit=st.one_of(st.integers(), st.text(max_size=4)),
)
def test_random_parameters_never_break_the_api(
    client, data, name, postal_code, near, radius, limit
):
    communes = client.get(
        "/api/v1/communes", {"name": name, "postal_code": postal_code, "limit": limit}
    )
    places = client.get(
        "/api/v1/places", {"near": near, "radius_km": radius, "kind": name, "offset": limit}
    )
    detail = client.get("/api/v1/communes/" + quote(name, safe="") if name.strip() else "/api/v1/")

    for response in (communes, places, detail):
        assert_json_client_error(response, (name, postal_code, near, radius, limit))
