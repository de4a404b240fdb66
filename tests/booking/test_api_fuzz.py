"""Garbage on every booking endpoint: the API answers a 4xx in JSON, never a 500."""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybercantal.accounts.tokens import api_token_create
from tests.accounts.factories import UserFactory
from tests.api.test_fuzz import GARBAGE, assert_json_client_error
from tests.territory.factories import CommuneFactory, PlaceFactory

from .factories import ResourceFactory, ServiceFactory

pytestmark = pytest.mark.django_db

DATE_GARBAGE = [
    "2027-02-30T09:00",
    "2027-13-01",
    "2027-03-01T25:00",
    "2027-03-01T09:00+25:00",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59+14:00",
    "0001-01-01T00:00-14:00",
    "2027-03-01T09:00:00 01:00",
    "2027-03-01T09:00:00 99:99",
    "+002027-03-01",
    "2027-03-01T09:00Z[Europe/Paris]",
    "1700000000",
    "1e10",
    "P1D",
    "now",
]
WINDOW_ENDPOINTS = {
    "/api/v1/resources/{room}/availability": ["start", "end", "duration", "participants"],
    "/api/v1/slots/search": [
        "service",
        "commune",
        "radius_km",
        "start",
        "end",
        "duration",
        "limit",
    ],
    "/api/v1/resources": ["place", "kind", "service", "limit", "offset"],
    "/api/v1/bookings": ["start", "end", "place", "limit", "offset"],
    "/api/v1/services": ["x"],
}
PATH_ENDPOINTS = [
    ("get", "/api/v1/resources/{}"),
    ("get", "/api/v1/resources/{}/availability"),
    ("get", "/api/v1/bookings/{}"),
    ("post", "/api/v1/bookings/{}/cancel"),
    ("post", "/api/v1/bookings/{}/reschedule"),
]
SEARCH = {"service": "digital_mediation", "commune": "99001", "radius_km": "50"}


@pytest.fixture
def data(settings):
    settings.CYBERCANTAL_BOOKING_ANONYMOUS_RATE = "100000/h"
    commune = CommuneFactory(insee_code="99001", latitude=45.0, longitude=2.5)
    place = PlaceFactory(commune=commune)
    service = ServiceFactory(code="digital_mediation")
    room = ResourceFactory(place=place, services=[service])
    _token, raw = api_token_create(actor=UserFactory(), name="fuzz")
    return {"room": room, "headers": {"Authorization": f"Bearer {raw}"}}


def post_json(client, url, body, **kwargs):
    return client.post(url, data=json.dumps(body), content_type="application/json", **kwargs)


@pytest.mark.parametrize("url", list(WINDOW_ENDPOINTS))
def test_garbage_query_parameters(client, data, url):
    address = url.format(room=data["room"].pk)
    for parameter in WINDOW_ENDPOINTS[url]:
        for value in [*GARBAGE, *DATE_GARBAGE]:
            base = SEARCH if "search" in url else {}
            response = client.get(address, {**base, parameter: value}, headers=data["headers"])
            assert_json_client_error(response, (url, parameter, value))
        response = client.get(address, {parameter: ["1", "2"]}, headers=data["headers"])
        assert_json_client_error(response, (url, parameter, "repeated"))


@pytest.mark.parametrize(("method", "template"), PATH_ENDPOINTS)
def test_garbage_path_segments(client, data, method, template):
    for value in [*GARBAGE, "0", "999999", str(2**63), str(2**64 + 1)]:
        if not value.strip():
            continue
        url = template.format(quote(value, safe=""))
        response = getattr(client, method)(url, headers=data["headers"])
        assert_json_client_error(response, (url, value))


def test_huge_windows_and_negative_durations(client, data):
    url = f"/api/v1/resources/{data['room'].pk}/availability"
    for params in [
        {"start": "2000-01-01", "end": "2099-12-31"},
        {"start": "2099-12-31T23:59", "end": "2099-12-31T23:59:59"},
        {"start": "2000-01-01T00:00+14:00", "end": "2000-01-01T00:30-14:00"},
        {"start": "2099-12-31T23:00-14:00", "end": "2099-12-31T23:30-14:00", "duration": 60},
        {"duration": -1},
        {"duration": 10**30},
        {"participants": -5},
        {"participants": 10**30},
    ]:
        for endpoint, extra in ((url, {}), ("/api/v1/slots/search", SEARCH)):
            response = client.get(endpoint, {**extra, **params})
            assert_json_client_error(response, params)
            if "2099-12-31T23:00" in str(params.get("start")):
                assert response.status_code == 200  # far ahead, but a valid request


BODY_GARBAGE = [
    None,
    "",
    "x" * 5000,
    "\x00",
    -1,
    0,
    2**70,
    1e308,
    True,
    [],
    {},
    [None],
    ["1"],
    [2**63],
    {"name": "\x00"},
    "2027-02-30T09:00",
    "9999-12-31T23:59",
]


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "token"])
def test_garbage_booking_bodies(client, data, authenticated):
    headers = data["headers"] if authenticated else {}
    valid = {
        "resource_ids": [data["room"].pk],
        "start": "2027-03-01T09:00",
        "end": "2027-03-01T09:30",
        "person": {"name": "Jeanne", "phone": "0639980042"},
    }
    for field in ["resource_ids", "start", "end", "service", "participants", "notes", "person"]:
        for value in BODY_GARBAGE:
            response = post_json(
                client, "/api/v1/bookings", {**valid, field: value}, headers=headers
            )
            assert_json_client_error(response, (field, value))
    for person_field in ["name", "phone", "email"]:
        for value in [*BODY_GARBAGE, "+33 6 39 98 00 42 poste 12", "a@b", "x@" + "y" * 300]:
            person = {**valid["person"], person_field: value}
            response = post_json(
                client, "/api/v1/bookings", {**valid, "person": person}, headers=headers
            )
            assert_json_client_error(response, (person_field, value))
    for raw in ["{not json", "[]", "null", "1", '"x"', "\x00", "{" * 1000 + "}" * 1000]:
        response = client.post(
            "/api/v1/bookings", data=raw, content_type="application/json", headers=headers
        )
        assert_json_client_error(response, raw)
    response = client.post("/api/v1/bookings", {"resource_ids": "1"}, headers=headers)  # a form
    assert_json_client_error(response, "form")


def test_garbage_cancel_and_reschedule_bodies(client, data):
    headers = data["headers"]
    for url in ["/api/v1/bookings/1/cancel", "/api/v1/bookings/1/reschedule"]:
        for value in BODY_GARBAGE:
            for body in ({"reason": value}, {"start": value, "end": value}, value):
                response = post_json(client, url, body, headers=headers)
                assert_json_client_error(response, (url, body))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "resource_ids": st.one_of(st.lists(st.integers(), max_size=6), json_values),
            "start": st.one_of(st.datetimes().map(lambda d: d.isoformat()), json_values),
            "end": st.one_of(st.datetimes().map(lambda d: d.isoformat()), json_values),
            "service": json_values,
            "participants": st.one_of(st.integers(), json_values),
            "notes": json_values,
            "person": st.one_of(
                st.fixed_dictionaries(
                    {"name": st.text(max_size=40), "phone": st.text(max_size=20)},
                    optional={"email": st.text(max_size=40)},
                ),
                json_values,
            ),
        },
    ),
    query=st.dictionaries(
        st.sampled_from(["start", "end", "duration", "participants", "radius_km", "limit"]),
        st.one_of(st.text(max_size=30), st.integers().map(str), st.datetimes().map(str)),
        max_size=4,
    ),
)
def test_random_requests_never_break_the_api(client, data, body, query):
    created = post_json(client, "/api/v1/bookings", body, headers=data["headers"])
    slots = client.get(f"/api/v1/resources/{data['room'].pk}/availability", query)
    search = client.get("/api/v1/slots/search", {**SEARCH, **query})
    for response in (created, slots, search):
        assert_json_client_error(response, (body, query))
