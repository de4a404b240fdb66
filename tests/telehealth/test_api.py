"""The teleconsultation endpoints of the API (telehealth/api.py): a person only (401 without
authentication), the consultations each person may see and nobody else's (404 for strangers,
coordinators of another site and other practitioners, exactly like an unknown id), an audit
row for every consultation read, 422 in French for a bad filter."""

from __future__ import annotations

import pytest
from django.test import override_settings

from cybercantal.accounts.tokens import api_token_create
from cybercantal.core.models import AuditLog
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import staff_user
from tests.telehealth.test_sessions import book, book_past, build_network, strangers

pytestmark = pytest.mark.django_db

LIST = "/api/v1/telesante/consultations"


@pytest.fixture
def net():
    return build_network()


def bearer(user) -> dict:
    _token, raw = api_token_create(actor=user, name="test")
    return {"Authorization": f"Bearer {raw}"}


def detail(consultation) -> str:
    return f"{LIST}/{consultation.pk}"


def api_views(consultation) -> int:
    return AuditLog.objects.filter(
        action="telehealth.consultation_view", target_id=str(consultation.pk)
    ).count()


def test_anonymous_callers_get_a_401(client, net):
    consultation = book(net)
    for url in (LIST, detail(consultation)):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentification requise."}
    response = client.get(LIST, headers={"Authorization": "Bearer faux-jeton"})
    assert response.status_code == 401
    assert api_views(consultation) == 0


def test_the_list_is_scoped_to_the_caller(client, net):
    here = book(net)
    past = book_past(net)
    other = build_network()
    elsewhere = book(other)
    for user, expected in (
        (net.coordinator, {here.pk, past.pk}),
        (net.doctor.user, {here.pk, past.pk}),
        (net.nurse.user, {here.pk, past.pk}),
        (other.coordinator, {elsewhere.pk}),
        (staff_user(), {here.pk, past.pk, elsewhere.pk}),
        (UserFactory(), set()),
    ):
        body = client.get(LIST, headers=bearer(user)).json()
        assert {item["id"] for item in body["items"]} == expected
        assert body["count"] == len(expected)


def test_the_list_filters_and_paginates(client, net):
    here = book(net)
    past = book_past(net)
    other = build_network()
    book(other)
    headers = bearer(staff_user())
    body = client.get(LIST, {"site": net.site.pk}, headers=headers).json()
    assert {item["id"] for item in body["items"]} == {here.pk, past.pk}
    body = client.get(LIST, {"site": net.site.pk, "limit": 1}, headers=headers).json()
    assert body["count"] == 2 and [item["id"] for item in body["items"]] == [here.pk]
    body = client.get(LIST, {"status": "annulee"}, headers=headers).json()
    assert body["count"] == 0
    body = client.get(LIST, {"site": 999999}, headers=headers).json()
    assert body["count"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [({"status": "inventé"}, "status"), ({"site": "abc"}, "site"), ({"site": 0}, "site")],
)
def test_a_bad_filter_is_a_422_in_french(client, net, query, field):
    response = client.get(LIST, query, headers=bearer(net.coordinator))
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Paramètres invalides."
    assert body["errors"][0]["champ"] == field


def test_participants_coordinators_and_staff_read_a_consultation(client, net):
    consultation = book(net)
    for user in (net.doctor.user, net.nurse.user, net.coordinator, staff_user()):
        before = api_views(consultation)
        response = client.get(detail(consultation), headers=bearer(user))
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == consultation.pk
        assert body["patient"] == {"display_name": "Mme Jeanne Martin", "birth_year": 1938}
        assert body["specialty"] == "Dermatologie"
        assert body["status"] == "prevue" and body["checklist_complete"] is False
        assert api_views(consultation) == before + 1


def test_the_session_authenticates_too(client, net):
    consultation = book(net)
    client.force_login(net.coordinator)
    assert client.get(detail(consultation)).status_code == 200


def test_strangers_other_coordinators_and_other_doctors_get_a_404(client, net):
    consultation = book(net)
    for user in strangers(net):
        response = client.get(detail(consultation), headers=bearer(user))
        assert response.status_code == 404
        assert response.json() == {"detail": f"Téléconsultation inconnue : {consultation.pk}."}
    response = client.get(f"{LIST}/999999", headers=bearer(net.coordinator))
    assert response.status_code == 404
    assert response.json() == {"detail": "Téléconsultation inconnue : 999999."}
    assert api_views(consultation) == 0


def test_the_patient_is_only_a_name_and_a_birth_year(client, net):
    consultation = book(net)
    body = client.get(detail(consultation), headers=bearer(net.coordinator)).json()
    assert set(body["patient"]) == {"display_name", "birth_year"}
    assert consultation.patient.reference not in response_text(body)


def response_text(body) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


def test_the_video_link_goes_to_the_people_who_run_the_session(client, net):
    consultation = book(net)
    with override_settings(TELEHEALTH_VIDEO_BASE_URL="https://visio.example.org"):
        body = client.get(detail(consultation), headers=bearer(net.doctor.user)).json()
        assert body["video_url"] == f"https://visio.example.org/{consultation.video_room}"
        body = client.get(detail(consultation), headers=bearer(staff_user())).json()
        assert body["video_url"] is None
        assert consultation.video_room not in response_text(body)


def test_the_endpoints_are_documented(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/telesante/consultations" in paths
    assert "/api/v1/telesante/consultations/{consultation_id}" in paths
