"""The exports of mediation places (CSV, JSON, API) validate against the national schema,
checked with frictionless straight from data/standards/mediation/; a non-public place is
exported only to those who may see it."""

import csv
import io
import json

import pytest
from frictionless import Resource, Schema

from cybercantal.accounts.models import Role
from cybercantal.mediation import vocabulary
from cybercantal.mediation.exports import rows_to_csv, rows_to_json, schema_rows
from cybercantal.mediation.models import MediationPlace
from cybercantal.mediation.selectors.places import mediation_place_list
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from ._places_helpers import SCHEMA_PATH, MediationPlaceFactory

pytestmark = pytest.mark.django_db


def schema_errors(data) -> list[list]:
    """frictionless's own report: [row, field, type, note] per error."""
    schema = Schema.from_descriptor(json.loads(SCHEMA_PATH.read_text()))
    if isinstance(data, bytes):
        resource = Resource(data=data, format="csv", encoding="utf-8", schema=schema)
    else:
        resource = Resource(data=data, schema=schema)
    report = resource.validate()
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


@pytest.fixture
def places():
    aurillac = CommuneFactory(insee_code="15014", name="Aurillac", postal_codes="15000")
    full = MediationPlaceFactory(
        place=PlaceFactory(
            name="Espace « Numérique », Aurillac",
            commune=aurillac,
            address="2 rue des Carmes",
            address_complement="1er étage",
            phone="04 71 00 00 00",
            email="contact@example.org",
            website="https://example.org/",
            opening_hours="Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00",
            description="Un lieu pour se faire aider.\nSur deux lignes.",
        ),
        pivot="21150014500019",
        itinerance=MediationPlace.Itinerance.ITINERANT,
        typologie=["CD", "RFS"],
        presentation_detail='Texte avec "guillemets", virgules, et\nretours à la ligne.',
        source="CyberCantal",
        structure_parente="Département du Cantal",
        autres_formations_labels="Label local",
        fiche_acces_libre="https://acceslibre.beta.gouv.fr/app/15-aurillac/",
        prise_rdv="https://example.org/rdv",
        **{
            name: list(values)
            for name, values in vocabulary.ENUMERATED_FIELDS.items()
            if name != "itinerance"
        },
    )
    bare = MediationPlaceFactory(
        place=PlaceFactory(name="Lieu sans détails", commune=aurillac, phone="", email=""),
        pivot="W151000123",  # an RNA number
    )
    return full, bare


def test_csv_export_validates(places, client):
    response = client.get("/mediation/lieux/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert schema_errors(response.content) == []
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert len(rows) == 2
    full = next(row for row in rows if row["nom"].startswith("Espace"))
    assert full["id"] == f"cybercantal-15-{places[0].place.pk}"
    assert full["telephone"] == "+33471000000"
    assert full["services"] == "|".join(vocabulary.SERVICES)
    assert full["formations_labels"] == "|".join(vocabulary.FORMATIONS_LABELS)
    assert full["typologie"] == "CD|RFS"
    assert full["itinerance"] == "Itinérant"
    assert full["code_insee"] == "15014"
    bare = next(row for row in rows if row["nom"] == "Lieu sans détails")
    assert bare["telephone"] == bare["courriels"] == bare["frais_a_charge"] == ""
    # Every cell quoted, the header in the schema's order.
    first_line = response.content.decode("utf-8").splitlines()[0]
    names = [field["name"] for field in json.loads(SCHEMA_PATH.read_text())["fields"]]
    assert first_line == ",".join(f'"{name}"' for name in names)


def test_json_export_validates(places, client):
    response = client.get("/mediation/lieux/export.json")
    assert response.status_code == 200
    rows = response.json()
    assert schema_errors(rows) == []
    assert isinstance(rows[0]["latitude"], float)
    assert list(rows[0]) == [
        field["name"] for field in json.loads(SCHEMA_PATH.read_text())["fields"]
    ]


def test_the_validation_catches_a_bad_row(places):
    rows = schema_rows(mediation_place_list(actor=None))
    rows[0]["code_postal"] = "1500"
    rows[1]["services"] = "Aide aux démarches administratives|Cours de cuisine"
    errors = schema_errors(rows_to_csv(rows).encode("utf-8"))
    assert [(row, name) for row, name, *_ in errors] == [(2, "code_postal"), (3, "services")]
    assert schema_errors(json.loads(rows_to_json(rows)))


def test_values_the_schema_refuses_are_left_out(places):
    _, bare = places
    bare.place.phone = "+32 470 12 34 56"  # Belgian: not allowed by the schema
    bare.place.save()
    bare.services = ["Aide aux démarches administratives", "Ancien libellé"]
    bare.save()
    rows = schema_rows(mediation_place_list(actor=None))
    row = next(row for row in rows if row["nom"] == "Lieu sans détails")
    assert row["telephone"] == ""
    assert row["services"] == "Aide aux démarches administratives"
    assert schema_errors(rows) == []


def test_a_non_public_place_is_exported_to_its_staff_only(client):
    organisation = OrganisationFactory()
    hidden = MediationPlaceFactory(
        place=PlaceFactory(name="Salle réservée", is_public=False, organisation=organisation)
    )
    MediationPlaceFactory(place=PlaceFactory(name="Lieu public"))
    names = [row["nom"] for row in client.get("/mediation/lieux/export.json").json()]
    assert names == ["Lieu public"]
    assert b"Salle r" not in client.get("/mediation/lieux/export.csv").content
    assert [row["nom"] for row in client.get("/api/v1/mediation/lieux").json()["items"]] == [
        "Lieu public"
    ]

    resident = MembershipFactory(organisation=organisation, role=Role.RESIDENT).user
    client.force_login(resident)
    assert len(client.get("/mediation/lieux/export.json").json()) == 1

    mediator = MembershipFactory(organisation=organisation, role=Role.MEDIATOR).user
    client.force_login(mediator)
    rows = client.get("/mediation/lieux/export.json").json()
    assert {row["nom"] for row in rows} == {"Lieu public", "Salle réservée"}
    assert schema_errors(rows) == []
    assert hidden.place.pk in {int(row["id"].rsplit("-", 1)[1]) for row in rows}

    agent = UserFactory(roles=[Role.DEPARTMENT_AGENT])
    assert mediation_place_list(actor=agent).count() == 2


def test_api_lists_the_same_rows(places, client):
    body = client.get("/api/v1/mediation/lieux", {"limit": 1}).json()
    assert body["count"] == 2
    assert len(body["items"]) == 1
    assert schema_errors(body["items"]) == []
    assert client.get("/api/v1/mediation/lieux", {"limit": 0}).status_code == 422
    assert client.post("/mediation/lieux/export.csv").status_code == 405


def test_date_maj_is_the_last_change(places):
    from datetime import timedelta

    from django.utils import timezone

    full, _ = places
    later = timezone.now() + timedelta(days=3)
    MediationPlace.objects.filter(pk=full.pk).update(updated_at=later)
    full.refresh_from_db()
    assert schema_rows([full])[0]["date_maj"] == timezone.localdate(later).isoformat()
