"""The coded-acts endpoints of the API (telehealth/api.py, /api/v1/telesante/actes): a person
only (401 without authentication), exactly the acts the list page and the CSV export show each
person (404 for any other act, like an unknown id), the patient by reference and never by name,
the filters with 422 in French for bad values, audit rows, and a page of acts in a constant
number of queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Act, ActTariff
from cybercantal.telehealth.services.acts import act_code
from cybercantal.telehealth.services.expertise import expertise_answer, expertise_create
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_consultation,
    make_practitioner,
    make_site,
    make_specialty,
    staff_user,
)
from tests.telehealth.test_acts import close
from tests.telehealth.test_api import bearer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/telesante/actes"


def detail(act) -> str:
    return f"{LIST}/{act.pk}"


def ids(client, user, query=None) -> list[int]:
    response = client.get(LIST, query or {}, headers=bearer(user))
    assert response.status_code == 200
    return [item["id"] for item in response.json()["items"]]


def act_views(act) -> int:
    return AuditLog.objects.filter(action="telehealth.act_view", target_id=str(act.pk)).count()


@pytest.fixture
def billed():
    """A closed consultation at a care home with TCG (its doctor) and TLL (its nurse), a TCG
    at another site, and a téléexpertise of January 2026 for the same patient: TE2 for the
    expert, RQD for the requesting doctor."""
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    consultation = close(make_consultation(site=site))
    tcg = act_code(actor=coordinator, consultation=consultation, code="TCG")
    tll = act_code(actor=coordinator, consultation=consultation, code="TLL")
    elsewhere = close(make_consultation())
    other = act_code(actor=elsewhere.practitioner.user, consultation=elsewhere, code="TCG")
    expert = make_practitioner(specialties=[make_specialty()])
    request = expertise_create(
        actor=consultation.practitioner.user,
        expert=expert,
        specialty=make_specialty(),
        patient=consultation.patient,
        question="Avis ?",
        now=timezone.make_aware(dt.datetime(2026, 1, 12, 9)),
    )
    answer = expertise_answer(
        actor=expert.user,
        request=request,
        answer="Avis.",
        now=timezone.make_aware(dt.datetime(2026, 1, 15, 9)),
    )
    return {
        "consultation": consultation,
        "coordinator": coordinator,
        "site": site,
        "elsewhere": elsewhere,
        "expert": expert,
        "tcg": tcg,
        "tll": tll,
        "other": other,
        "te2": next(a for a in answer.acts if a.code == "TE2"),
        "rqd": next(a for a in answer.acts if a.code == "RQD"),
    }


def outsiders(billed) -> list:
    """A stranger, the coordinator of another site, another practitioner."""
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    other_doctor = make_practitioner(specialties=[make_specialty()]).user
    return [UserFactory(), other_coordinator, other_doctor]


# --- authentication ----------------------------------------------------------------------------


def test_anonymous_callers_get_a_401(client, billed):
    for url in (LIST, detail(billed["tcg"])):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentification requise."}
    response = client.get(LIST, headers={"Authorization": "Bearer faux-jeton"})
    assert response.status_code == 401
    assert act_views(billed["tcg"]) == 0
    assert not AuditLog.objects.filter(action="telehealth.acts_export").exists()


def test_the_session_authenticates_too(client, billed):
    client.force_login(billed["coordinator"])
    assert client.get(detail(billed["tcg"])).status_code == 200
    assert client.get(LIST).json()["count"] == 2


# --- scope: the same as the acts page and its export -------------------------------------------


def test_the_list_is_the_scope_of_the_acts_page(client, billed):
    consultation = billed["consultation"]
    b = billed
    for user, expected in (
        # The practitioner: their TCG and their RQD as requesting doctor.
        (consultation.practitioner.user, {b["tcg"].pk, b["rqd"].pk}),
        (consultation.assistant.user, {b["tll"].pk}),
        (b["expert"].user, {b["te2"].pk}),
        # The coordinator: the site's consultations, not the téléexpertise of its patient.
        (b["coordinator"], {b["tcg"].pk, b["tll"].pk}),
        (staff_user(), {b[k].pk for k in ("tcg", "tll", "other", "te2", "rqd")}),
        *((user, set()) for user in outsiders(billed)),
    ):
        body = client.get(LIST, headers=bearer(user)).json()
        assert {item["id"] for item in body["items"]} == expected
        assert body["count"] == len(expected)


def test_participants_coordinators_and_staff_read_an_act_and_it_is_audited(client, billed):
    tcg = billed["tcg"]
    for user in (tcg.professional, billed["coordinator"], staff_user()):
        before = act_views(tcg)
        response = client.get(detail(tcg), headers=bearer(user))
        assert response.status_code == 200
        assert response.json()["id"] == tcg.pk
        assert act_views(tcg) == before + 1
    assert AuditLog.objects.filter(action="telehealth.act_view", data__page="api").count() == 3


def test_an_act_outside_ones_scope_is_a_404_like_an_unknown_one(client, billed):
    tcg = billed["tcg"]
    refused = [
        *((user, tcg) for user in outsiders(billed)),
        (billed["consultation"].assistant.user, tcg),  # the nurse sees her own act only
        (billed["coordinator"], billed["te2"]),  # a téléexpertise stays with its doctors
        (billed["coordinator"], billed["other"]),  # another site's act
    ]
    for user, act in refused:
        response = client.get(detail(act), headers=bearer(user))
        assert response.status_code == 404
        assert response.json() == {"detail": f"Acte inconnu : {act.pk}."}
    response = client.get(f"{LIST}/999999", headers=bearer(staff_user()))
    assert response.status_code == 404
    assert response.json() == {"detail": "Acte inconnu : 999999."}
    assert not AuditLog.objects.filter(action="telehealth.act_view").exists()


# --- what an act shows -------------------------------------------------------------------------


def test_an_act_has_its_billing_fields_and_the_patient_reference(client, billed):
    tcg, consultation = billed["tcg"], billed["consultation"]
    body = client.get(detail(tcg), headers=bearer(billed["coordinator"])).json()
    assert body == {
        "id": tcg.pk,
        "code": "TCG",
        "label": ActTariff.objects.get(code="TCG").label,
        "role": "medecin",
        "role_label": "Médecin téléconsultant",
        "amount": "25.00",
        "performed_on": timezone.localdate(consultation.scheduled_start).isoformat(),
        "professional": consultation.practitioner.user.get_full_name(),
        "patient_reference": consultation.patient.reference,
        "site_id": billed["site"].pk,
        "site": billed["site"].place.name,
        "consultation_id": consultation.pk,
        "expertise_id": None,
        "coded_at": body["coded_at"],
    }
    # JSON carries milliseconds.
    coded_at = tcg.coded_at.replace(microsecond=tcg.coded_at.microsecond // 1000 * 1000)
    assert dt.datetime.fromisoformat(body["coded_at"]) == coded_at


def test_a_teleexpertise_act_counts_at_the_patients_site(client, billed):
    te2 = billed["te2"]
    body = client.get(detail(te2), headers=bearer(billed["expert"].user)).json()
    assert body["consultation_id"] is None and body["expertise_id"] == te2.expertise_id
    assert (body["site_id"], body["performed_on"]) == (billed["site"].pk, "2026-01-15")
    assert body["amount"] == "23.00" and body["role"] == "expert"


def test_the_patient_name_never_appears(client, billed):
    name = billed["consultation"].patient.display_name
    headers = bearer(staff_user())
    listed = client.get(LIST, headers=headers).content.decode()
    assert billed["consultation"].patient.reference in listed
    assert name not in listed
    for key in ("tcg", "te2"):
        body = client.get(detail(billed[key]), headers=headers).json()
        assert name not in json.dumps(body, ensure_ascii=False)
        assert "patient" not in body


# --- order, filters, pagination ----------------------------------------------------------------


def test_newest_first(client, billed):
    acts = Act.objects.all()
    expected = [a.pk for a in sorted(acts, key=lambda a: (a.performed_on, a.pk), reverse=True)]
    assert ids(client, staff_user()) == expected
    assert ids(client, staff_user(), {"limit": 1, "offset": 1}) == expected[1:2]


def test_filters(client, billed):
    b, staff = billed, staff_user()
    day = timezone.localdate(b["consultation"].scheduled_start)
    assert set(ids(client, staff, {"year": 2026, "month": 1})) == {b["te2"].pk, b["rqd"].pk}
    assert set(ids(client, staff, {"year": day.year, "month": day.month})) == {
        b["tcg"].pk,
        b["tll"].pk,
        b["other"].pk,
    }
    assert ids(client, staff, {"year": 2019}) == []
    assert set(ids(client, staff, {"code": "tcg"})) == {b["tcg"].pk, b["other"].pk}
    assert ids(client, staff, {"role": "infirmier"}) == [b["tll"].pk]
    assert set(ids(client, staff, {"site_id": b["site"].pk})) == {
        b[k].pk for k in ("tcg", "tll", "te2", "rqd")
    }
    assert ids(client, staff, {"site_id": b["elsewhere"].site.pk}) == [b["other"].pk]
    query = {"site_id": b["site"].pk, "code": "TCG", "role": "medecin"}
    assert ids(client, staff, query) == [b["tcg"].pk]
    # Filters narrow the caller's scope, never widen it.
    assert ids(client, b["consultation"].assistant.user, {"code": "TCG"}) == []


def test_a_list_is_audited_like_an_export(client, billed):
    ids(client, billed["coordinator"], {"year": 2026, "code": "tcg", "role": "medecin"})
    row = AuditLog.objects.get(action="telehealth.acts_export")
    assert row.actor == billed["coordinator"]
    assert row.data == {
        "page": "api",
        "year": 2026,
        "month": None,
        "site": None,
        "code": "TCG",
        "role": "medecin",
    }


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"year": 2026, "month": 13}, "month", "Doit être inférieur ou égal à 12."),
        ({"year": 2026, "month": 0}, "month", "Doit être supérieur ou égal à 1."),
        ({"month": 3}, "month", "Indiquez l'année (year) avec le mois."),
        ({"year": "abc"}, "year", "Nombre entier attendu."),
        ({"year": 1999}, "year", "Doit être supérieur ou égal à 2000."),
        ({"year": 10**30}, "year", "Doit être inférieur ou égal à 2100."),
        ({"role": "inconnu"}, "role", "Valeur non reconnue."),
        ({"code": "<script>"}, "code", "Format invalide."),
        ({"code": "TROPLONGCODE"}, "code", "Format invalide."),
        ({"site_id": "abc"}, "site_id", "Nombre entier attendu."),
        ({"site_id": 0}, "site_id", "Doit être supérieur ou égal à 1."),
        ({"site_id": 10**30}, "site_id", "Doit être inférieur ou égal à 2147483647."),
    ],
)
def test_a_bad_filter_is_a_422_in_french(client, billed, query, field, message):
    response = client.get(LIST, query, headers=bearer(billed["coordinator"]))
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Paramètres invalides."
    assert body["errors"] == [{"champ": field, "message": message}]
    assert not AuditLog.objects.filter(action="telehealth.acts_export").exists()


def test_a_site_outside_ones_sites_is_refused_as_on_the_page(client, billed):
    for user, site_id in (
        (billed["coordinator"], billed["elsewhere"].site.pk),
        (UserFactory(), billed["site"].pk),
        (staff_user(), 999999),
    ):
        response = client.get(LIST, {"site_id": site_id}, headers=bearer(user))
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"champ": "site_id", "message": "Ce site ne fait pas partie de vos sites."}
        ]


def test_out_of_range_ids_are_a_404_never_a_500(client, billed):
    response = client.get(f"{LIST}/{10**30}", headers=bearer(staff_user()))
    assert response.status_code == 404


# --- queries -----------------------------------------------------------------------------------


def add_acts(consultation, count: int) -> None:
    """`count` acts on one session, each billed by a different professional so that any
    per-act lookup shows. Written directly: through act_code they would need as many
    sessions and professionals with their own roles."""
    tariff = ActTariff.objects.get(code="TCG")
    for _ in range(count):
        Act.objects.create(
            consultation=consultation,
            patient=consultation.patient,
            professional=UserFactory(),
            tariff=tariff,
            code=tariff.code,
            role=tariff.role,
            amount=tariff.amount,
            performed_on=timezone.localdate(consultation.scheduled_start),
        )


def test_a_page_of_acts_costs_the_same_queries_as_one(client, django_assert_max_num_queries):
    coordinator = UserFactory()
    consultation = close(make_consultation(site=make_site(coordinators=[coordinator])))
    headers = bearer(coordinator)
    add_acts(consultation, 1)
    client.get(LIST, headers=headers)  # the first use of a token may write its last use
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST, headers=headers).json()["count"] == 1
    add_acts(consultation, 19)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(LIST, headers=headers).json()["items"]) == 20


# --- documentation -----------------------------------------------------------------------------


def test_the_endpoints_are_documented_in_french(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    listing = paths["/api/v1/telesante/actes"]["get"]
    assert listing["summary"] == "Mes actes codés"
    assert "jamais par son nom" in listing["description"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert {"year", "month", "code", "site_id", "role", "limit", "offset"} <= names
    assert paths["/api/v1/telesante/actes/{act_id}"]["get"]["summary"] == "Acte codé"
