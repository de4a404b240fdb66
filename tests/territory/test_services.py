"""Organisations: the SIRET is checked (14 digits and the Luhn key), and optional."""

import pytest
from django.core.exceptions import ValidationError

from cybercantal.territory.models import Organisation

pytestmark = pytest.mark.django_db


def organisation(siret: str) -> Organisation:
    return Organisation(name="Association des amis du buron", kind="association", siret=siret)


@pytest.mark.parametrize(
    "siret",
    [
        "",  # optional
        "73282932000074",
        "35600000000048",  # La Poste: its establishments follow another rule
    ],
)
def test_valid_siret_is_accepted(siret):
    organisation(siret).full_clean()


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000075",  # wrong key
        "7328293200007",  # 13 digits
        "7328293200007A",
        "732 829 320 00074",  # spaces: too long for the field, stored without them
    ],
)
def test_invalid_siret_is_refused_in_french(siret):
    with pytest.raises(ValidationError) as error:
        organisation(siret).full_clean()
    assert "siret" in error.value.message_dict
    message = " ".join(error.value.message_dict["siret"])
    assert "SIRET" in message or "caractères" in message


def test_the_siret_message_names_the_value():
    with pytest.raises(ValidationError) as error:
        organisation("73282932000075").full_clean()
    assert error.value.message_dict["siret"] == [
        "Le SIRET « 73282932000075 » n'est pas valide : 14 chiffres avec une clé de contrôle."
    ]


def test_two_organisations_cannot_share_a_siret():
    organisation("73282932000074").save()
    other = Organisation(name="Autre structure", kind="company", siret="73282932000074")
    with pytest.raises(ValidationError):
        other.full_clean()
    # Without a SIRET, any number of organisations may exist.
    Organisation.objects.create(name="Sans SIRET 1", kind="association")
    Organisation(name="Sans SIRET 2", kind="association").full_clean()
