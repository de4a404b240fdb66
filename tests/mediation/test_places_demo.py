"""The demo gives every demo France Services and mediation place its description in the
national schema; seeding twice changes nothing; the demo's export validates."""

import json

import pytest
from frictionless import Resource, Schema

from cybercantal.core.demo import demo_seed
from cybercantal.mediation.exports import rows_to_csv, schema_rows
from cybercantal.mediation.models import MediationPlace
from cybercantal.mediation.selectors.places import mediation_place_list
from cybercantal.territory.models import Place

from ._places_helpers import SCHEMA_PATH


@pytest.mark.django_db
def test_demo_mediation_places(cantal):
    demo_seed()
    described = set(MediationPlace.objects.values_list("place_id", flat=True))
    expected = set(
        Place.objects.filter(
            is_demo=True, kinds__code__in=["mediation", "france_services"]
        ).values_list("pk", flat=True)
    )
    assert described == expected and len(described) >= 4

    saint_flour = MediationPlace.objects.get(
        place__name="Espace France Services de Saint-Flour (démo)"
    )
    assert "France Services" in saint_flour.dispositif_programmes_nationaux
    assert "Aide aux démarches administratives" in saint_flour.services
    assert saint_flour.frais_a_charge == ["Gratuit"]
    assert len(saint_flour.pivot) == 14 and saint_flour.is_demo

    report = demo_seed()
    assert report.created["mediation.MediationPlace"] == 0
    assert report.updated["mediation.MediationPlace"] == 0
    assert report.unchanged["mediation.MediationPlace"] == len(described)

    rows = schema_rows(mediation_place_list(actor=None))
    schema = Schema.from_descriptor(json.loads(SCHEMA_PATH.read_text()))
    resource = Resource(data=rows_to_csv(rows).encode("utf-8"), format="csv", schema=schema)
    assert resource.validate().flatten(["rowNumber", "fieldName", "note"]) == []
    assert all(row["telephone"].startswith("+33") for row in rows)
