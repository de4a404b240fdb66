"""The tablet's JSON endpoint (/tiers-lieux/gestion/<pk>/tablette/arrivees/) and its
no-JavaScript form: item by item answers, an item sent twice recorded once, a replayed batch
writes nothing, malformed input answered 400 in French, never 500, scoped to the place."""

import datetime as dt
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.core.models import AuditLog
from cybercantal.coworking.models import CheckIn, CreditMovement, MemberProfile
from cybercantal.coworking.services.cards import member_card_pin_set
from tests.accounts.factories import UserFactory

from .factories import PassFactory
from .manage_fixtures import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def endpoint(place):
    return reverse("coworking:manage_tablet_check_ins", args=[place.pk])


def post(client, place, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(endpoint(place), data=data, content_type="application/json")


def item(method="pin", **fields):
    return {"client_uuid": str(uuid.uuid4()), "method": method, **fields}


@pytest.fixture
def pins(w):
    second = PassFactory(offer=w.offer, valid_from=timezone.localdate()).member
    return (
        member_card_pin_set(actor=w.manager, member=w.member, tiers_lieu=w.place),
        second,
        member_card_pin_set(actor=w.manager, member=second, tiers_lieu=w.place),
    )


def test_a_batch_with_a_duplicate_and_a_refusal_then_replayed(client, w, pins):
    pin, second, second_pin = pins
    client.force_login(w.manager)
    first = item(pin=pin, at=timezone.now().isoformat())
    code = MemberProfile.objects.get(user=second).checkin_code
    by_qr = item("qr", code=code)
    wrong = next(p for p in ("000000", "111111", "222222") if p not in (pin, second_pin))
    batch = [first, dict(first), by_qr, item(pin=wrong)]
    response = post(client, w.place, {"items": batch})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["ok", "duplicate", "ok", "refused"]
    assert [r["client_uuid"] for r in results] == [i["client_uuid"] for i in batch]
    assert results[0]["message"] == "Bonjour Camille ! Votre arrivée est enregistrée."
    assert "Carte ou code PIN inconnu" in results[3]["message"]
    assert CheckIn.objects.filter(member=w.member, method="pin").count() == 1
    assert CheckIn.objects.filter(member=second, method="qr").count() == 1
    rows = (CheckIn.objects.count(), CreditMovement.objects.count(), AuditLog.objects.count())

    replay = post(client, w.place, {"items": batch}).json()["results"]
    assert [r["status"] for r in replay] == ["duplicate", "duplicate", "duplicate", "refused"]
    assert (
        CheckIn.objects.count(),
        CreditMovement.objects.count(),
        AuditLog.objects.count(),
    ) == rows


def test_a_second_arrival_the_same_day_is_refused_in_french(client, w, pins):
    client.force_login(w.manager)
    post(client, w.place, {"items": [item(pin=pins[0])]})
    result = post(client, w.place, {"items": [item(pin=pins[0])]}).json()["results"][0]
    assert result["status"] == "refused"
    assert result["message"] == "L'arrivée de Camille Durand est déjà enregistrée aujourd'hui."
    assert CheckIn.objects.count() == 1


def test_someone_without_a_usable_pass_is_refused(client, w):
    expired = PassFactory(offer=w.offer, valid_from=dt.date(2020, 1, 1)).member
    pin = member_card_pin_set(actor=w.manager, member=expired, tiers_lieu=w.place)
    client.force_login(w.manager)
    result = post(client, w.place, {"items": [item(pin=pin)]}).json()["results"][0]
    assert result["status"] == "refused"
    assert "ni pass valable ici aujourd'hui" in result["message"]


@pytest.mark.parametrize(
    "body",
    [
        "{pas du json",
        b"\xff\xfe",
        "[]",
        "null",
        json.dumps({"items": []}),
        json.dumps({"items": "x"}),
        json.dumps({"items": [{}] * 101}),
    ],
)
def test_malformed_requests_get_400_in_french(client, w, body):
    client.force_login(w.manager)
    response = post(client, w.place, body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(("Requête illisible", "Trop d'arrivées"))


def test_malformed_items_are_refused_one_by_one(client, w, pins):
    client.force_login(w.manager)
    items = [
        "texte",
        {"client_uuid": "pas-un-uuid", "method": "pin", "pin": pins[0]},
        item(pin="12"),
        item(pin=123456),
        item("qr", code=""),
        item("qr", code="x" * 41),
        item("manual", member=w.member.pk),
        item(pin=pins[0], at="hier"),
        item(pin=pins[0], at=(timezone.now() + dt.timedelta(hours=2)).isoformat()),
        item(pin=pins[0], at=(timezone.now() - dt.timedelta(days=30)).isoformat()),
        {"client_uuid": None},
    ]
    response = post(client, w.place, {"items": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(items)
    assert {r["status"] for r in results} == {"refused"}
    assert all(r["message"] for r in results)
    assert not CheckIn.objects.exists()


def test_the_endpoint_is_scoped_to_the_place(client, w, pins):
    batch = {"items": [item(pin=pins[0])]}
    assert post(client, w.place, batch).status_code == 401
    client.force_login(w.other_manager)
    response = post(client, w.place, batch)
    assert response.status_code == 404
    assert "gestionnaire" in response.json()["error"]
    client.force_login(w.member)
    assert post(client, w.place, batch).status_code == 404
    # Another place's manager: the member has nothing usable there.
    client.force_login(w.other_manager)
    result = post(client, w.other_place, batch).json()["results"][0]
    assert result["status"] == "refused"
    assert not CheckIn.objects.exists()


def test_an_identifier_used_at_another_place_is_refused(client, w, pins):
    client.force_login(w.manager)
    used = item(pin=pins[0])
    post(client, w.place, {"items": [used]})
    client.force_login(w.other_manager)
    result = post(client, w.other_place, {"items": [used]}).json()["results"][0]
    assert result["status"] == "refused"
    assert CheckIn.objects.count() == 1


def test_the_endpoint_needs_the_csrf_token(w, pins):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(w.manager)
    assert post(client, w.place, {"items": [item(pin=pins[0])]}).status_code == 403
    assert client.get(endpoint(w.place)).status_code == 405


def test_the_form_without_javascript(client, w, pins):
    client.force_login(w.manager)
    url = reverse("coworking:manage_tablet_card", args=[w.place.pk])
    page = client.post(url, {"pin": "12"}, follow=True).content.decode()
    assert "Le code PIN compte 6 chiffres." in page
    page = client.post(url, {"code": "inconnu"}, follow=True).content.decode()
    assert "Carte ou code PIN inconnu" in page
    page = client.post(url, {"pin": pins[0]}, follow=True).content.decode()
    assert "Bonjour Camille ! Votre arrivée est enregistrée." in page
    assert CheckIn.objects.get().method == "pin"
    client.force_login(UserFactory())
    assert client.post(url, {"pin": pins[0]}).status_code == 404


def test_too_many_wrong_cards_stop_the_lookups_for_a_while(client, w, pins):
    from cybercantal.coworking.views.manage_tablet import WRONG_CARDS_LIMIT

    client.force_login(w.manager)
    wrong = [item("qr", code=f"faux-{n}") for n in range(WRONG_CARDS_LIMIT)]
    results = post(client, w.place, {"items": wrong}).json()["results"]
    assert all("inconnu" in r["message"] for r in results)
    result = post(client, w.place, {"items": [item(pin=pins[0])]}).json()["results"][0]
    assert result["status"] == "refused"
    assert result["message"].startswith("Trop de codes erronés sur cette tablette")
    assert not CheckIn.objects.exists()
    # Another place's tablet is not concerned.
    client.force_login(w.other_manager)
    result = post(client, w.other_place, {"items": [item(pin=pins[0])]}).json()["results"][0]
    assert not result["message"].startswith("Trop de codes")
