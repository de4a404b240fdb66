"""The booking API: catalogue, free slots, nearest-slot search, bookings — grants and refusals.

The API reads the real clock (timezone.now()), so every date is built relative to it: a Monday
a few weeks ahead, without a public holiday in its week."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from cybercantal.accounts.models import Role
from cybercantal.accounts.tokens import api_token_create
from cybercantal.booking import availability as av
from cybercantal.booking.models import Booking, Resource
from cybercantal.booking.services import PersonDetails, booking_create
from cybercantal.territory.models import Commune
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import OrganisationFactory, PlaceFactory

from .factories import ResourceFactory, ServiceFactory

pytestmark = pytest.mark.django_db

PARIS = timezone.get_default_timezone()
TAKEN = (
    "Ce créneau n'est plus disponible pour « Salle Gentiane » : il vient d'être réservé. "
    "Choisissez-en un autre."
)


def upcoming_monday(weeks: int = 3) -> dt.date:
    """A Monday at least `weeks` weeks ahead whose Monday-to-Friday has no public holiday."""
    day = timezone.localdate() + dt.timedelta(weeks=weeks)
    day -= dt.timedelta(days=day.weekday())
    while any(
        day + dt.timedelta(days=n) in av.public_holidays((day + dt.timedelta(days=n)).year)
        for n in range(5)
    ):
        day += dt.timedelta(weeks=1)
    return day


def local(day: dt.date, hhmm: str, days: int = 0) -> dt.datetime:
    return dt.datetime.combine(
        day + dt.timedelta(days=days), dt.time.fromisoformat(hhmm), tzinfo=PARIS
    )


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def bearer(user) -> dict:
    _token, raw = api_token_create(actor=user, name="test")
    return {"Authorization": f"Bearer {raw}"}


def post(client, url: str, body: dict, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def fields(response) -> dict[str, str]:
    return {error["champ"]: error["message"] for error in response.json()["errors"]}


@pytest.fixture
def monday() -> dt.date:
    return upcoming_monday()


@pytest.fixture
def world(cantal):
    """Aurillac and Saint-Flour places; a meeting room (exclusive, open to anyone), a desk pool
    (capacity 3, for account holders), a mediator (itinerant: Aurillac on Monday, Saint-Flour
    on Tuesday), and a teleconsultation cabin at a non-public place, booked by agents only."""
    communes = {c.insee_code: c for c in Commune.objects.filter(insee_code__in=["15014", "15187"])}
    coworking = OrganisationFactory(name="Coopérative Gentiane")
    aurillac = PlaceFactory(
        name="Tiers-lieu d'Aurillac", commune=communes["15014"], organisation=coworking
    )
    saint_flour = PlaceFactory(name="France Services de Saint-Flour", commune=communes["15187"])
    ehpad = OrganisationFactory(name="EHPAD des Tilleuls")
    private = PlaceFactory(
        name="Salle de soins", commune=communes["15187"], organisation=ehpad, is_public=False
    )
    room_service = ServiceFactory(code="meeting_room_hour", label="Salle de réunion")
    desk_service = ServiceFactory(code="coworking_desk_day", label="Poste de travail")
    mediation = ServiceFactory(code="digital_mediation", label="Médiation numérique")
    telehealth = ServiceFactory(code="teleconsultation", label="Téléconsultation")
    mediator_org = OrganisationFactory(name="France Services")
    return {
        "aurillac": aurillac,
        "saint_flour": saint_flour,
        "private": private,
        "room": ResourceFactory(
            name="Salle Gentiane",
            place=aurillac,
            organisation=coworking,
            services=[room_service],
            max_duration_minutes=120,
        ),
        "desks": ResourceFactory(
            name="Bureaux partagés",
            kind=Resource.Kind.DESK_POOL,
            place=aurillac,
            organisation=coworking,
            capacity=3,
            services=[desk_service],
            bookable_by=Resource.BookableBy.ACCOUNT_HOLDERS,
            max_future_bookings_per_person=2,
        ),
        "mediator": ResourceFactory(
            name="Conseillère numérique",
            kind=Resource.Kind.PERSON,
            place=saint_flour,
            organisation=mediator_org,
            services=[mediation],
            min_notice_minutes=120,
            hours=[],
        ),
        "cabin": ResourceFactory(
            name="Cabine de téléconsultation",
            kind=Resource.Kind.CABIN,
            place=private,
            organisation=ehpad,
            services=[telehealth],
            bookable_by=Resource.BookableBy.AGENTS,
        ),
        "services": {
            "room": room_service,
            "desk": desk_service,
            "mediation": mediation,
            "telehealth": telehealth,
        },
    }


@pytest.fixture
def itinerant(world):
    """The mediator's tour: Aurillac on Monday mornings, Saint-Flour on Tuesday mornings."""
    mediator = world["mediator"]
    mediator.availability_rules.create(
        weekday=0, start_time=dt.time(9), end_time=dt.time(12), place=world["aurillac"]
    )
    mediator.availability_rules.create(weekday=1, start_time=dt.time(9), end_time=dt.time(12))
    return mediator


@pytest.fixture
def resident():
    return UserFactory(username="lucienne", first_name="Lucienne", last_name="Vidalenc")


@pytest.fixture
def nurse(world):
    user = UserFactory(username="claire")
    MembershipFactory(
        user=user, organisation=world["cabin"].organisation, role=Role.ASSISTING_PROFESSIONAL
    )
    return user


def book(world, monday, user, *, resource="room", start="09:00", end="10:00", **kwargs):
    return booking_create(
        actor=user,
        resources=[world[resource]],
        start=local(monday, start),
        end=local(monday, end),
        **kwargs,
    )


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_lists_the_booking_paths(client):
    paths = json.loads(client.get("/api/v1/openapi.json").content)["paths"]

    assert set(paths) >= {
        "/api/v1/services",
        "/api/v1/resources",
        "/api/v1/resources/{resource_id}",
        "/api/v1/resources/{resource_id}/availability",
        "/api/v1/slots/search",
        "/api/v1/bookings",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/bookings/{booking_id}/cancel",
        "/api/v1/bookings/{booking_id}/reschedule",
    }
    # Anonymous access: the catalogue, free slots, and booking with a name and a phone.
    for path, method in [
        ("/api/v1/resources", "get"),
        ("/api/v1/resources/{resource_id}/availability", "get"),
        ("/api/v1/slots/search", "get"),
        ("/api/v1/bookings", "post"),
    ]:
        assert {} in paths[path][method]["security"], path
    # Someone's bookings: an account is required.
    for path, method in [
        ("/api/v1/bookings", "get"),
        ("/api/v1/bookings/{booking_id}", "get"),
        ("/api/v1/bookings/{booking_id}/cancel", "post"),
        ("/api/v1/bookings/{booking_id}/reschedule", "post"),
    ]:
        assert {} not in paths[path][method]["security"], path
        assert {"ApiTokenAuth": []} in paths[path][method]["security"], path
    assert set(paths["/api/v1/bookings"]["post"]["responses"]) >= {"201", "403", "409", "422"}


# --- Catalogue ------------------------------------------------------------------------------


def test_services(world, client):
    response = client.get("/api/v1/services")

    assert response.status_code == 200
    assert [s["code"] for s in response.json()] == [
        "digital_mediation",
        "coworking_desk_day",
        "meeting_room_hour",
        "teleconsultation",
    ]  # by label
    assert set(response.json()[0]) == {"code", "label", "description", "default_duration_minutes"}


def test_resources_are_paginated_with_a_count(world, client):
    response = client.get("/api/v1/resources", {"limit": 2})

    body = response.json()
    assert response.status_code == 200
    # The cabin is at a non-public place: not listed for an anonymous caller.
    assert body["count"] == 3
    assert [r["name"] for r in body["items"]] == ["Bureaux partagés", "Conseillère numérique"]
    assert [r["name"] for r in client.get("/api/v1/resources", {"offset": 2}).json()["items"]] == [
        "Salle Gentiane"
    ]


def test_resource_shape(world, client):
    item = client.get("/api/v1/resources", {"kind": "desk_pool"}).json()["items"][0]

    assert item["id"] == world["desks"].pk
    assert item["kind"] == "desk_pool"
    assert item["kind_label"] == "Espace de bureaux partagés"
    assert item["capacity"] == 3
    assert item["place"] == {
        "id": world["aurillac"].pk,
        "name": "Tiers-lieu d'Aurillac",
        "commune": {"insee_code": "15014", "name": "Aurillac"},
    }
    assert item["organisation"] == {"name": "Coopérative Gentiane"}
    assert item["services"] == [{"code": "coworking_desk_day", "label": "Poste de travail"}]
    assert item["policy"]["slot_minutes"] == 30
    assert item["policy"]["bookable_by"] == "accounts"
    assert item["policy"]["bookable_by_label"] == "Les personnes ayant un compte"
    assert item["policy"]["max_future_bookings_per_person"] == 2


def test_resource_filters(world, client):
    def names(**params):
        return [r["name"] for r in client.get("/api/v1/resources", params).json()["items"]]

    assert names(kind="person") == ["Conseillère numérique"]
    assert names(service="meeting_room_hour") == ["Salle Gentiane"]
    assert names(place=world["aurillac"].pk) == ["Bureaux partagés", "Salle Gentiane"]
    assert names(place=world["saint_flour"].pk, kind="room") == []
    assert names(kind="", service=" ") == [
        "Bureaux partagés",
        "Conseillère numérique",
        "Salle Gentiane",
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"kind": "spaceship"}, "kind", "Type de ressource inconnu"),
        ({"service": "inconnue"}, "service", "Prestation inconnue : inconnue."),
        ({"place": 999999}, "place", "Lieu inconnu : 999999."),
        ({"place": "abc"}, "place", "Nombre entier attendu."),
        ({"place": 0}, "place", "Doit être supérieur ou égal à 1."),
    ],
)
def test_resource_filters_refuse_unknown_values(world, client, params, field, message):
    response = client.get("/api/v1/resources", params)

    assert response.status_code == 422
    assert response.json()["detail"] == "Paramètres invalides."
    assert message in fields(response)[field]


def test_resources_of_a_non_public_place_for_its_staff_only(world, client, nurse):
    private = {"place": world["private"].pk}

    # Anonymous: the place itself is unknown to the caller.
    assert client.get("/api/v1/resources", private).status_code == 422
    assert client.get(f"/api/v1/resources/{world['cabin'].pk}").status_code == 404
    assert client.get(f"/api/v1/resources/{world['cabin'].pk}/availability").status_code == 404

    headers = bearer(nurse)
    listed = client.get("/api/v1/resources", private, headers=headers).json()
    assert [r["name"] for r in listed["items"]] == ["Cabine de téléconsultation"]
    detail = client.get(f"/api/v1/resources/{world['cabin'].pk}", headers=headers)
    assert detail.status_code == 200
    other = bearer(UserFactory())
    assert client.get(f"/api/v1/resources/{world['cabin'].pk}", headers=other).status_code == 404


def test_resource_detail_gives_the_weekly_tour(itinerant, world, client):
    response = client.get(f"/api/v1/resources/{itinerant.pk}")

    assert response.status_code == 200
    hours = response.json()["weekly_hours"]
    assert [(h["day"], h["start"], h["end"], h["place"]["name"]) for h in hours] == [
        ("lundi", "09:00:00", "12:00:00", "Tiers-lieu d'Aurillac"),
        # No place on the rule: the resource's usual place.
        ("mardi", "09:00:00", "12:00:00", "France Services de Saint-Flour"),
    ]
    assert hours[0]["weeks_of_month"] == []


def test_unknown_resource_is_404_in_french(world, client):
    for url in ["/api/v1/resources/999999", "/api/v1/resources/999999/availability"]:
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Ressource inconnue : 999999."}


# --- Availability ---------------------------------------------------------------------------


def test_availability_shape_and_local_times(world, client, monday):
    response = client.get(
        f"/api/v1/resources/{world['room'].pk}/availability",
        {"start": iso(local(monday, "00:00")), "end": iso(local(monday, "23:59"))},
    )

    assert response.status_code == 200
    slots = response.json()
    offset = local(monday, "09:00").strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    assert slots[0] == {
        "start": f"{monday.isoformat()}T09:00:00{offset}",
        "end": f"{monday.isoformat()}T09:30:00{offset}",
        "place_id": world["aurillac"].pk,
    }
    assert len(slots) == 12  # 9:00-12:00 and 14:00-17:00, every 30 minutes


def test_availability_reads_naive_times_in_paris_and_accepts_utc(world, client, monday):
    url = f"/api/v1/resources/{world['room'].pk}/availability"
    aware = client.get(
        url, {"start": iso(local(monday, "10:00")), "end": iso(local(monday, "12:00"))}
    )
    naive = client.get(url, {"start": f"{monday}T10:00", "end": f"{monday}T12:00"})
    utc = client.get(
        url,
        {
            "start": local(monday, "10:00").astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "end": local(monday, "12:00").astimezone(dt.UTC).isoformat(),
        },
    )
    # "+" sent unencoded in a query string arrives as a space: read as the offset it was.
    offset = local(monday, "10:00").strftime("%z")
    spaced = client.get(
        url + f"?start={monday}T10:00:00%20{offset[1:3]}:{offset[3:]}&end={monday}T12:00"
    )

    assert aware.status_code == naive.status_code == utc.status_code == spaced.status_code == 200
    assert aware.json() == naive.json() == utc.json() == spaced.json()
    assert len(aware.json()) == 4


def test_availability_with_a_duration_and_a_booking(world, client, monday, resident):
    book(world, monday, resident, start="10:00", end="11:00")

    slots = client.get(
        f"/api/v1/resources/{world['room'].pk}/availability",
        {"start": f"{monday}T08:00", "end": f"{monday}T12:00", "duration": 60},
    ).json()

    assert [s["start"][11:16] for s in slots] == ["09:00", "11:00"]
    assert [s["end"][11:16] for s in slots] == ["10:00", "12:00"]


def test_availability_of_a_shared_resource_for_several_places(world, client, monday, resident):
    url = f"/api/v1/resources/{world['desks'].pk}/availability"
    window = {"start": f"{monday}T09:00", "end": f"{monday}T09:01"}
    book(world, monday, resident, resource="desks", start="09:00", end="10:00", participants=2)

    assert len(client.get(url, {**window, "participants": 1}).json()) == 1
    assert client.get(url, {**window, "participants": 2}).json() == []
    too_many = client.get(url, {**window, "participants": 4})
    assert too_many.status_code == 422
    assert (
        fields(too_many)["participants"] == "« Bureaux partagés » accueille 3 personne(s) au plus."
    )


def test_availability_gives_the_place_of_each_day(itinerant, world, client, monday):
    slots = client.get(
        f"/api/v1/resources/{itinerant.pk}/availability",
        {"start": f"{monday}T00:00", "end": f"{monday + dt.timedelta(days=2)}T00:00"},
    ).json()

    by_day = {s["start"][:10]: s["place_id"] for s in slots}
    assert by_day == {
        monday.isoformat(): world["aurillac"].pk,
        (monday + dt.timedelta(days=1)).isoformat(): world["saint_flour"].pk,
    }


def test_availability_defaults_to_the_next_seven_days(world, client):
    slots = client.get(f"/api/v1/resources/{world['room'].pk}/availability").json()

    assert slots
    starts = [dt.datetime.fromisoformat(s["start"]) for s in slots]
    assert timezone.now() <= min(starts)
    assert max(starts) <= timezone.now() + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "demain"}, "start", "Date et heure attendues au format ISO 8601"),
        ({"start": "1700000000"}, "start", "Date et heure attendues au format ISO 8601"),
        ({"start": "2027-02-30T09:00"}, "start", "Date et heure attendues au format ISO 8601"),
        ({"end": "9999-12-31T23:59"}, "end", "Date hors des limites acceptées"),
        ({"start": "0001-01-01"}, "start", "Date hors des limites acceptées"),
        ({"duration": "-30"}, "duration", "Doit être strictement supérieur à 0."),
        ({"duration": "0"}, "duration", "Doit être strictement supérieur à 0."),
        ({"duration": "100000"}, "duration", "Doit être inférieur ou égal à 1440."),
        ({"duration": "45"}, "duration", "La durée doit être un multiple de 30 minutes."),
        ({"duration": "300"}, "duration", "La durée doit être comprise entre 30 et 120 minutes."),
        ({"participants": "0"}, "participants", "Doit être supérieur ou égal à 1."),
        ({"participants": "2"}, "participants", "accueille 1 personne(s) au plus."),
    ],
)
def test_availability_refuses_bad_parameters(world, client, params, field, message):
    response = client.get(f"/api/v1/resources/{world['room'].pk}/availability", params)

    assert response.status_code == 422
    assert message in fields(response)[field]


def test_availability_refuses_reversed_and_huge_windows(world, client, monday):
    url = f"/api/v1/resources/{world['room'].pk}/availability"

    reversed_ = client.get(url, {"start": f"{monday}T12:00", "end": f"{monday}T09:00"})
    empty = client.get(url, {"start": f"{monday}T12:00", "end": f"{monday}T12:00"})
    huge = client.get(url, {"start": f"{monday}", "end": f"{monday + dt.timedelta(days=63)}"})
    longest = client.get(url, {"start": f"{monday}", "end": f"{monday + dt.timedelta(days=62)}"})

    assert fields(reversed_) == {"end": "La fin doit être après le début."}
    assert fields(empty) == {"end": "La fin doit être après le début."}
    assert fields(huge) == {"end": "La période demandée dépasse 62 jours : découpez-la."}
    assert longest.status_code == 200


# --- Nearest-slot search ---------------------------------------------------------------------


def test_slots_search_shape_and_order(itinerant, world, client, monday):
    response = client.get(
        "/api/v1/slots/search",
        {
            "service": "digital_mediation",
            "commune": "15014",
            "radius_km": 100,
            "start": f"{monday}T00:00",
            "end": f"{monday + dt.timedelta(days=2)}T00:00",
            "limit": 8,
        },
    )

    assert response.status_code == 200
    offers = response.json()
    assert len(offers) == 8
    first = offers[0]
    assert set(first) == {"start", "end", "resource", "place", "distance_km", "road_km"}
    assert first["start"].startswith(f"{monday}T09:00:00")
    assert first["resource"] == {"id": itinerant.pk, "name": "Conseillère numérique"}
    assert first["place"] == {
        "id": world["aurillac"].pk,
        "name": "Tiers-lieu d'Aurillac",
        "commune": {"insee_code": "15014", "name": "Aurillac"},
    }
    assert first["distance_km"] < 1
    assert first["road_km"] >= first["distance_km"]
    starts = [offer["start"] for offer in offers]
    assert starts == sorted(starts)


def test_slots_search_respects_the_radius(itinerant, world, client, monday):
    params = {
        "service": "digital_mediation",
        "commune": "15187",
        "start": f"{monday}T00:00",
        "end": f"{monday + dt.timedelta(days=2)}T00:00",
        "limit": 50,
    }

    near = client.get("/api/v1/slots/search", {**params, "radius_km": 10}).json()
    far = client.get("/api/v1/slots/search", {**params, "radius_km": 100}).json()

    # Saint-Flour is about 52 km from Aurillac: within 10 km, only the Tuesday at Saint-Flour.
    assert {o["place"]["name"] for o in near} == {"France Services de Saint-Flour"}
    assert {o["place"]["name"] for o in far} == {
        "France Services de Saint-Flour",
        "Tiers-lieu d'Aurillac",
    }
    assert all(
        45 < o["distance_km"] < 60 for o in far if o["place"]["commune"]["name"] == "Aurillac"
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"service": "rien"}, "service", "Prestation inconnue : rien."),
        ({"commune": "99999"}, "commune", "Commune inconnue : 99999."),
        ({"commune": "Aurillac"}, "commune", "Code INSEE attendu"),
        ({"radius_km": "0"}, "radius_km", "Doit être strictement supérieur à 0."),
        ({"radius_km": "201"}, "radius_km", "Doit être inférieur ou égal à 200."),
        ({"radius_km": "nan"}, "radius_km", "Nombre fini attendu."),
        ({"limit": "51"}, "limit", "Doit être inférieur ou égal à 50."),
        ({"limit": "0"}, "limit", "Doit être supérieur ou égal à 1."),
        ({"duration": "-1"}, "duration", "Doit être strictement supérieur à 0."),
        ({"start": "hier"}, "start", "Date et heure attendues au format ISO 8601"),
    ],
)
def test_slots_search_refuses_bad_parameters(world, client, params, field, message):
    base = {"service": "digital_mediation", "commune": "15014", "radius_km": 30}

    response = client.get("/api/v1/slots/search", {**base, **params})

    assert response.status_code == 422
    assert message in fields(response)[field]


def test_slots_search_requires_a_service_and_a_commune(world, client):
    response = client.get("/api/v1/slots/search")

    assert response.status_code == 422
    assert fields(response) == {
        "service": "Ce paramètre est obligatoire.",
        "commune": "Ce paramètre est obligatoire.",
    }


# --- Booking --------------------------------------------------------------------------------


def booking_body(world, monday, resource="room", start="09:00", end="10:00", **extra) -> dict:
    return {
        "resource_ids": [world[resource].pk],
        "start": iso(local(monday, start)),
        "end": iso(local(monday, end)),
        **extra,
    }


def test_book_with_a_token(world, client, monday, resident):
    response = post(
        client,
        "/api/v1/bookings",
        booking_body(world, monday, service="meeting_room_hour", notes="Réunion d'équipe"),
        headers=bearer(resident),
    )

    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get()
    assert body["id"] == booking.pk
    assert body["reference"] == booking.reference
    assert body["status"] == "confirmed"
    assert body["status_label"] == "Confirmée"
    assert dt.datetime.fromisoformat(body["start"]) == local(monday, "09:00")
    assert dt.datetime.fromisoformat(body["end"]) == local(monday, "10:00")
    assert body["service"] == {"code": "meeting_room_hour", "label": "Salle de réunion"}
    assert body["place"]["name"] == "Tiers-lieu d'Aurillac"
    assert body["resources"] == [{"id": world["room"].pk, "name": "Salle Gentiane", "kind": "room"}]
    assert body["holder_name"] == "Lucienne Vidalenc"
    assert body["has_account"] is True
    assert body["person"] is None
    assert body["channel"] == "api"
    assert body["notes"] == "Réunion d'équipe"
    assert booking.user == resident
    assert booking.created_by == resident
    assert booking.channel == Booking.Channel.API


def test_book_without_an_account_with_a_name_and_a_phone(world, client, monday, sms_outbox):
    response = post(
        client,
        "/api/v1/bookings",
        booking_body(
            world, monday, person={"name": "  Jeanne   Martin ", "phone": "06 39 98 00 42"}
        ),
    )

    assert response.status_code == 201
    body = response.json()
    assert body["has_account"] is False
    assert body["holder_name"] == "Jeanne Martin"
    assert body["person"] == {"name": "Jeanne Martin", "phone": "+33639980042", "email": ""}
    booking = Booking.objects.get()
    assert booking.user is None and booking.created_by is None


def test_anonymous_booking_needs_a_person(world, client, monday):
    response = post(client, "/api/v1/bookings", booking_body(world, monday))

    assert response.status_code == 422
    assert "indiquez pour qui est la réservation" in fields(response)["payload.person"]
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("desks", "« Bureaux partagés » se réserve avec un compte : connectez-vous."),
        ("cabin", None),  # at a non-public place: unknown to an anonymous caller
    ],
)
def test_anonymous_booking_only_of_resources_open_to_anyone(
    world, client, monday, resource, message
):
    person = {"name": "Jeanne Martin", "phone": "0639980042"}

    response = post(
        client, "/api/v1/bookings", booking_body(world, monday, resource, person=person)
    )

    if message:
        assert response.status_code == 403
        assert response.json() == {"detail": message}
    else:
        assert response.status_code == 422
        assert fields(response)["payload.resource_ids"].startswith("Ressource inconnue")
    assert not Booking.objects.exists()


def test_agent_only_resource_booked_by_its_staff_for_a_resident(world, client, monday, nurse):
    body = booking_body(
        world,
        monday,
        "cabin",
        start="09:00",
        end="09:30",
        person={"name": "Marcel Roux", "phone": "0639980050"},
        service="teleconsultation",
    )

    refused = post(client, "/api/v1/bookings", body, headers=bearer(UserFactory()))
    granted = post(client, "/api/v1/bookings", body, headers=bearer(nurse))

    assert refused.status_code == 422  # the place is not public: not even listed
    assert granted.status_code == 201
    assert granted.json()["person"]["name"] == "Marcel Roux"
    booking = Booking.objects.get()
    assert booking.created_by == nurse and booking.user is None


def test_agent_only_resource_at_a_public_place_is_403(world, client, monday):
    world["room"].bookable_by = Resource.BookableBy.AGENTS
    world["room"].save()

    response = post(
        client, "/api/v1/bookings", booking_body(world, monday), headers=bearer(UserFactory())
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "« Salle Gentiane » ne se réserve qu'auprès d'un agent."}


def test_double_booking_is_409_in_french(world, client, monday, resident):
    first = post(client, "/api/v1/bookings", booking_body(world, monday), headers=bearer(resident))
    second = post(
        client,
        "/api/v1/bookings",
        booking_body(world, monday, start="09:30", end="10:30"),
        headers=bearer(UserFactory()),
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json() == {"detail": TAKEN}
    assert Booking.objects.count() == 1


def test_shared_resource_accepts_up_to_its_capacity(world, client, monday):
    body = booking_body(world, monday, "desks", participants=2)

    assert post(client, "/api/v1/bookings", body, headers=bearer(UserFactory())).status_code == 201
    one_more = {**body, "participants": 1}
    assert (
        post(client, "/api/v1/bookings", one_more, headers=bearer(UserFactory())).status_code == 201
    )
    full = post(client, "/api/v1/bookings", one_more, headers=bearer(UserFactory()))
    assert full.status_code == 409


def test_per_person_limit_is_422(world, client, monday, resident):
    headers = bearer(resident)
    for day in (0, 1):
        body = booking_body(world, monday + dt.timedelta(days=day), "desks")
        assert post(client, "/api/v1/bookings", body, headers=headers).status_code == 201

    third = post(
        client,
        "/api/v1/bookings",
        booking_body(world, monday + dt.timedelta(days=2), "desks"),
        headers=headers,
    )

    assert third.status_code == 422
    assert "c'est le maximum" in fields(third)[""]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("12:30", "13:00", "« Salle Gentiane » n'est pas ouvert à ce créneau"),  # lunch break
        ("09:10", "09:40", "« Salle Gentiane » n'est pas ouvert à ce créneau"),  # not on a slot
        ("09:00", "09:45", "La durée doit être un multiple de 30 minutes."),
        ("09:00", "12:00", "La durée doit être comprise entre 30 et 120 minutes."),
    ],
)
def test_booking_rules_are_422(world, client, monday, resident, start, end, message):
    response = post(
        client,
        "/api/v1/bookings",
        booking_body(world, monday, start=start, end=end),
        headers=bearer(resident),
    )

    assert response.status_code == 422
    assert response.json()["detail"] == "Paramètres invalides."
    assert message in fields(response)[""]


def test_booking_too_late_is_422(itinerant, world, client, resident):
    past = post(
        client,
        "/api/v1/bookings",
        {
            "resource_ids": [itinerant.pk],
            "start": iso(local(timezone.localdate() - dt.timedelta(days=7), "09:00")),
            "end": iso(local(timezone.localdate() - dt.timedelta(days=7), "09:30")),
        },
        headers=bearer(resident),
    )
    # The mediator needs two hours' notice: a slot starting within the hour is refused.
    soon = timezone.localtime() + dt.timedelta(minutes=30)
    within_notice = post(
        client,
        "/api/v1/bookings",
        {
            "resource_ids": [itinerant.pk],
            "start": iso(soon),
            "end": iso(soon + dt.timedelta(minutes=30)),
        },
        headers=bearer(resident),
    )

    assert past.status_code == 422
    assert fields(past)[""] == "Ce créneau est déjà passé."
    assert within_notice.status_code == 422
    assert fields(within_notice)[""] == "Il faut réserver au moins 120 minutes à l'avance."


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"resource_ids": []}, "payload.resource_ids", None),
        ({"resource_ids": [999999]}, "payload.resource_ids", "Ressource inconnue : 999999."),
        (
            {"resource_ids": [1, 1]},
            "payload.resource_ids",
            "Une même ressource est demandée deux fois.",
        ),
        ({"resource_ids": [2**70]}, "payload.resource_ids", "Identifiants de ressources attendus"),
        ({"start": "lundi"}, "payload.start", "Date et heure attendues au format ISO 8601"),
        ({"start": 1700000000}, "payload.start", "Date et heure attendues au format ISO 8601"),
        ({"end": None}, "payload.end", "Date et heure attendues au format ISO 8601"),
        ({"service": "inconnue"}, "payload.service", "Prestation inconnue : inconnue."),
        ({"service": "digital_mediation"}, "", "n'est pas proposée par la ressource choisie"),
        ({"participants": 0}, "payload.participants", "Doit être supérieur ou égal à 1."),
        ({"participants": 2}, "", "« Salle Gentiane » accueille 1 personne(s) au plus."),
        ({"notes": "x" * 2001}, "payload.notes", "2000 caractères au plus."),
        ({"notes": "a\x00b"}, "payload.notes", "Caractères de contrôle non autorisés."),
        ({"person": {"name": "A"}}, "payload.person.phone", "Ce paramètre est obligatoire."),
        ({"person": {"name": "A", "phone": "12"}}, "", None),
        (
            {"person": {"name": "A", "phone": "0639980042", "email": "x@"}},
            "",
            "adresse électronique",
        ),
        ({"person": "Jeanne"}, "payload.person.name", None),
    ],
)
def test_invalid_booking_requests_are_422(world, client, monday, resident, change, field, message):
    body = {**booking_body(world, monday), **change}
    if body["resource_ids"] == [1, 1]:
        body["resource_ids"] = [world["room"].pk, world["room"].pk]

    response = post(client, "/api/v1/bookings", body, headers=bearer(resident))

    assert response.status_code == 422, response.content
    assert field in fields(response)
    if message:
        assert message in fields(response)[field]
    assert not Booking.objects.exists()


def test_reversed_interval_is_422(world, client, monday, resident):
    body = booking_body(world, monday, start="10:00", end="09:00")

    response = post(client, "/api/v1/bookings", body, headers=bearer(resident))

    assert response.status_code == 422
    assert fields(response) == {"payload.end": "La fin doit être après le début."}


def test_session_booking_needs_the_csrf_token(world, monday, resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)

    refused = post(client, "/api/v1/bookings", booking_body(world, monday))
    client.get("/compte/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    granted = post(client, "/api/v1/bookings", booking_body(world, monday), HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert granted.status_code == 201
    assert Booking.objects.get().user == resident


def test_anonymous_bookings_are_rate_limited(world, client, monday, settings):
    settings.CYBERCANTAL_BOOKING_ANONYMOUS_RATE = "2/h"
    person = {"name": "Jeanne Martin", "phone": "0639980042"}
    bodies = [
        booking_body(world, monday, start=f"{hour}:00", end=f"{hour}:30", person=person)
        for hour in ("09", "10", "11")
    ]

    answers = [post(client, "/api/v1/bookings", body).status_code for body in bodies]
    with_token = post(
        client,
        "/api/v1/bookings",
        booking_body(world, monday, start="14:00", end="14:30"),
        headers=bearer(UserFactory()),
    )

    assert answers == [201, 201, 429]
    assert with_token.status_code == 201
    third = post(client, "/api/v1/bookings", bodies[2])
    assert third.json() == {"detail": "Trop de requêtes : réessayez dans quelques instants."}
    assert int(third["Retry-After"]) > 0


# --- Reading bookings -----------------------------------------------------------------------


def test_listing_bookings_needs_an_account(client):
    response = client.get("/api/v1/bookings")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentification requise."}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_each_person_lists_their_own_bookings(world, client, monday, resident):
    mine = book(world, monday, resident)
    book(world, monday, UserFactory(), start="10:00", end="11:00")
    book(
        world,
        monday,
        None,
        start="11:00",
        end="11:30",
        person=PersonDetails(name="Jeanne", phone="0639980042"),
    )

    body = client.get("/api/v1/bookings", headers=bearer(resident)).json()

    assert body["count"] == 1
    assert [b["id"] for b in body["items"]] == [mine.pk]
    assert client.get("/api/v1/bookings", headers=bearer(UserFactory())).json()["count"] == 0


def test_an_agent_lists_the_bookings_of_their_organisation(world, client, monday, resident):
    for start, end in (("09:00", "10:00"), ("10:00", "11:00"), ("14:00", "15:00")):
        book(world, monday, UserFactory(), start=start, end=end)
    book(world, monday + dt.timedelta(days=1), resident)
    manager = UserFactory()
    MembershipFactory(
        user=manager, organisation=world["room"].organisation, role=Role.TIERS_LIEU_MANAGER
    )
    headers = bearer(manager)

    everything = client.get("/api/v1/bookings", headers=headers).json()
    page = client.get("/api/v1/bookings", {"limit": 2, "offset": 2}, headers=headers).json()
    monday_morning = client.get(
        "/api/v1/bookings",
        {"start": f"{monday}T09:30", "end": f"{monday}T12:00"},
        headers=headers,
    ).json()
    at_the_place = client.get(
        "/api/v1/bookings", {"place": world["aurillac"].pk}, headers=headers
    ).json()

    assert everything["count"] == 4
    starts = [b["start"] for b in everything["items"]]
    assert starts == sorted(starts)
    assert page["count"] == 4 and len(page["items"]) == 2
    assert monday_morning["count"] == 2
    assert at_the_place["count"] == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"place": 999999}, "place"),
        ({"start": "n'importe quand"}, "start"),
        ({"start": "2027-03-02T00:00", "end": "2027-03-01T00:00"}, "end"),
        ({"limit": 0}, "limit"),
    ],
)
def test_booking_list_refuses_bad_filters(world, client, resident, params, field):
    response = client.get("/api/v1/bookings", params, headers=bearer(resident))

    assert response.status_code == 422
    assert field in fields(response)


def test_a_booking_is_shown_to_its_holder_and_its_agents_only(world, client, monday, resident):
    booking = book(world, monday, resident)
    url = f"/api/v1/bookings/{booking.pk}"
    manager = UserFactory()
    MembershipFactory(
        user=manager, organisation=world["room"].organisation, role=Role.TIERS_LIEU_MANAGER
    )
    agent = UserFactory(roles=[Role.DEPARTMENT_AGENT])

    assert client.get(url, headers=bearer(resident)).json()["reference"] == booking.reference
    assert client.get(url, headers=bearer(manager)).status_code == 200
    assert client.get(url, headers=bearer(agent)).status_code == 200

    stranger = client.get(url, headers=bearer(UserFactory()))
    missing = client.get("/api/v1/bookings/999999", headers=bearer(UserFactory()))
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json() == {"detail": f"Réservation inconnue : {booking.pk}."}
    # Another mediator's organisation does not count.
    teacher = UserFactory()
    MembershipFactory(user=teacher, role=Role.TEACHER)
    assert client.get(url, headers=bearer(teacher)).status_code == 404
    assert client.get(url).status_code == 401


# --- Cancelling and rescheduling ------------------------------------------------------------


def test_the_holder_cancels_and_the_slot_is_free_again(world, client, monday, resident):
    booking = book(world, monday, resident)
    availability = f"/api/v1/resources/{world['room'].pk}/availability"
    window = {"start": f"{monday}T09:00", "end": f"{monday}T09:01"}
    assert client.get(availability, window).json() == []

    response = post(
        client,
        f"/api/v1/bookings/{booking.pk}/cancel",
        {"reason": "Empêchée"},
        headers=bearer(resident),
    )
    again = client.post(
        f"/api/v1/bookings/{booking.pk}/cancel",
        content_type="application/json",
        headers=bearer(resident),
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert again.status_code == 200  # no body at all: the reason is optional; twice is harmless
    assert len(client.get(availability, window).json()) == 1
    booking.refresh_from_db()
    assert booking.transitions.last().reason == "Empêchée"


def test_cancelling_someone_elses_booking_is_404(world, client, monday, resident):
    booking = book(world, monday, resident)

    response = post(
        client, f"/api/v1/bookings/{booking.pk}/cancel", {}, headers=bearer(UserFactory())
    )
    anonymous = post(client, f"/api/v1/bookings/{booking.pk}/cancel", {})

    assert response.status_code == 404
    assert anonymous.status_code == 401
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancelling_after_the_deadline_is_422_for_the_person_not_for_an_agent(
    world, client, monday, resident
):
    world["room"].cancellation_deadline_hours = 24 * 60  # beyond the Monday weeks ahead
    world["room"].save()
    booking = book(world, monday, resident)
    manager = UserFactory()
    MembershipFactory(
        user=manager, organisation=world["room"].organisation, role=Role.TIERS_LIEU_MANAGER
    )

    late = post(client, f"/api/v1/bookings/{booking.pk}/cancel", {}, headers=bearer(resident))
    by_agent = post(client, f"/api/v1/bookings/{booking.pk}/cancel", {}, headers=bearer(manager))

    assert late.status_code == 422
    assert "Il est trop tard pour annuler en ligne" in fields(late)[""]
    assert by_agent.status_code == 200
    assert by_agent.json()["status"] == "cancelled"


def test_reschedule(world, client, monday, resident):
    booking = book(world, monday, resident)

    response = post(
        client,
        f"/api/v1/bookings/{booking.pk}/reschedule",
        {"start": f"{monday}T14:00", "end": f"{monday}T15:00"},
        headers=bearer(resident),
    )

    assert response.status_code == 200
    assert dt.datetime.fromisoformat(response.json()["start"]) == local(monday, "14:00")
    booking.refresh_from_db()
    assert booking.start == local(monday, "14:00")


def test_reschedule_onto_a_taken_slot_is_409_and_changes_nothing(world, client, monday, resident):
    booking = book(world, monday, resident)
    book(world, monday, UserFactory(), start="14:00", end="15:00")

    response = post(
        client,
        f"/api/v1/bookings/{booking.pk}/reschedule",
        {"start": f"{monday}T14:30", "end": f"{monday}T15:30"},
        headers=bearer(resident),
    )

    assert response.status_code == 409
    assert response.json() == {"detail": TAKEN}
    booking.refresh_from_db()
    assert booking.start == local(monday, "09:00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "{monday}T15:00", "end": "{monday}T14:00"}, "payload.end"),
        ({"start": "{monday}T12:30", "end": "{monday}T13:00"}, ""),
        ({"start": "demain"}, "payload.start"),
        ({}, "payload.start"),
    ],
)
def test_reschedule_refusals_are_422(world, client, monday, resident, body, field):
    booking = book(world, monday, resident)
    body = {key: value.format(monday=monday) for key, value in body.items()}

    response = post(
        client, f"/api/v1/bookings/{booking.pk}/reschedule", body, headers=bearer(resident)
    )

    assert response.status_code == 422
    assert field in fields(response)


def test_rescheduling_someone_elses_booking_is_404(world, client, monday, resident):
    booking = book(world, monday, resident)

    response = post(
        client,
        f"/api/v1/bookings/{booking.pk}/reschedule",
        {"start": f"{monday}T14:00", "end": f"{monday}T15:00"},
        headers=bearer(UserFactory()),
    )

    assert response.status_code == 404
