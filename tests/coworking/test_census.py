"""The return to the national census of tiers-lieux: its columns, a place's row, the network's."""

import csv
import datetime as dt
import io
import uuid

import pytest

from cybercantal.coworking.errors import CoworkingForbidden
from cybercantal.coworking.exports import CENSUS_HEADER, census_csv
from cybercantal.coworking.models import CheckIn, Offer
from tests.accounts.factories import UserFactory
from tests.booking.conftest import at
from tests.booking.factories import department_agent

from .factories import OfferFactory, PassFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_census_header_and_rows():
    place = TiersLieuFactory(
        surface_m2=120,
        desk_capacity=10,
        typology="multi",
        legal_form="scic",
        public_services_hosted="Permanence France Services",
        place__opening_hours="Mo-Fr 08:30-18:30",
        place__connectivity="fibre",
        place__download_mbps=500,
    )
    TiersLieuFactory(surface_m2=80, desk_capacity=6)
    monthly = OfferFactory(tiers_lieu=place, kind=Offer.Kind.MONTHLY, half_days=0)
    day = OfferFactory(tiers_lieu=place, kind=Offer.Kind.DAY, half_days=2, is_reduced=True)
    for offer, when in ((monthly, "2027-03-02"), (day, "2027-03-03"), (monthly, "2027-03-04")):
        pass_ = PassFactory(offer=offer, valid_from=dt.date(2027, 3, 1))
        CheckIn.objects.create(
            tiers_lieu=place,
            member=pass_.member,
            day=dt.date.fromisoformat(when),
            at=at(when, "09:00"),
            method="qr",
            pass_used=pass_,
            client_uuid=uuid.uuid4(),
        )
    text = census_csv(actor=department_agent(), year=2027)
    assert text.splitlines()[0] == ";".join(CENSUS_HEADER)
    by_name = {row["nom"]: row for row in rows(text)}
    row = by_name[place.place.name]
    assert (row["typologie"], row["forme_juridique"], row["implantation"]) == (
        "Tiers-lieu multi-activités",
        "SCIC",
        "Rural",
    )
    assert (row["surface_m2"], row["postes_de_travail"], row["connexion"]) == (
        "120",
        "10",
        "Fibre optique",
    )
    assert row["horaires_ouverture"] == "Mo-Fr 08:30-18:30"
    assert row["services_publics_accueillis"] == "Permanence France Services"
    assert (row["usagers_uniques"], row["usagers_abonnes"], row["usagers_occasionnels"]) == (
        "3",
        "2",
        "1",
    )
    assert (row["usagers_tarif_reduit"], row["journees_poste"]) == ("1", "3")
    network = by_name["Réseau (2 lieux)"]
    assert (network["surface_m2"], network["postes_de_travail"], network["usagers_uniques"]) == (
        "200",
        "16",
        "3",
    )


def test_census_is_scoped():
    place, other = TiersLieuFactory(), TiersLieuFactory()
    names = [row["nom"] for row in rows(census_csv(actor=manager_of(place), year=2027))]
    assert names == [place.place.name, "Réseau (1 lieux)"]
    assert other.place.name not in names
    with pytest.raises(CoworkingForbidden):
        census_csv(actor=UserFactory(), year=2027)
