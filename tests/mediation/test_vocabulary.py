"""The vocabulary written out in mediation/vocabulary.py is exactly the schema file's: a new
version of the schema that changes a list fails here, not in the national map's validator."""

import json

import pytest

from cybercantal.mediation import vocabulary

from ._places_helpers import SCHEMA_PATH


def schema_fields():
    return {field["name"]: field for field in json.loads(SCHEMA_PATH.read_text())["fields"]}


@pytest.mark.parametrize("name", sorted(vocabulary.ENUMERATED_FIELDS))
def test_each_list_is_the_schema_pattern(name):
    pattern = schema_fields()[name]["constraints"]["pattern"]
    assert vocabulary.pattern_values(pattern) == vocabulary.ENUMERATED_FIELDS[name]


def test_every_enumeration_of_the_schema_is_listed():
    enumerated = {
        name
        for name, field in schema_fields().items()
        if field.get("constraints", {}).get("pattern", "").startswith("(?:(?:^|\\|)(")
    }
    assert enumerated == set(vocabulary.ENUMERATED_FIELDS)


def test_list_fields_are_schema_fields_and_model_fields():
    from cybercantal.mediation.models import MediationPlace

    model_fields = {field.name for field in MediationPlace._meta.get_fields()}
    assert set(vocabulary.LIST_FIELDS) <= set(schema_fields())
    assert set(vocabulary.LIST_FIELDS) <= model_fields


def test_typologie_has_no_pattern_but_the_example_codes_are_known():
    field = schema_fields()["typologie"]
    assert "pattern" not in field.get("constraints", {})
    assert set(vocabulary.split_values(field["example"])) <= set(vocabulary.TYPOLOGIE)


def test_a_pattern_of_another_shape_is_an_error():
    with pytest.raises(ValueError, match="inattendu"):
        vocabulary.pattern_values("^\\d{5}$")


def test_split_and_join():
    assert vocabulary.split_values(" Jeunes | Femmes||") == ["Jeunes", "Femmes"]
    assert vocabulary.join_values(["Jeunes", "", "Femmes"]) == "Jeunes|Femmes"
