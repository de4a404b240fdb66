"""/mediation/tableau-de-bord/: the page and its CSV for a mediator (self, structure), the
Département (territory, numbers only), and the French refusals (403, 400)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.mediation.services.activities import activity_record, beneficiary_create
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import department_agent
from tests.territory.factories import CommuneFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1
URL = "/mediation/tableau-de-bord/"


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


@pytest.fixture
def world():
    a, b = OrganisationFactory(name="Structure Alpha"), OrganisationFactory(name="Structure Bêta")
    mediator, other = mediator_of(a), mediator_of(b)
    commune = CommuneFactory(name="Saint-Essai")
    person = beneficiary_create(
        actor=mediator, organisation=a, consent=True, first_name="Philomène", commune=commune
    )
    for month in (1, 1, 5):
        activity_record(
            actor=mediator, organisation=a, kind="individuel", day=dt.date(YEAR, month, 3),
            duration_minutes=30, place_type="domicile", commune=commune,
            themes=["papiers", "courriel"], autonomy="accompagne", beneficiaries=[person],
        )  # fmt: skip
    return {"a": a, "b": b, "mediator": mediator, "other": other}


def test_url_name():
    assert reverse("mediation:dashboard") == URL


def test_a_mediator_sees_their_structure(client, world):
    client.force_login(world["mediator"])
    response = client.get(URL, {"annee": YEAR})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Structure Alpha" in text and "Structure Bêta" not in text
    assert 'role="img"' in text and "<desc" in text  # charts with a text alternative
    assert "Saint-Essai" in text and "carte-personnes-donnees" in text
    assert "Papiers, élections, citoyenneté" in text
    assert "Philomène" not in text
    mine = client.get(URL, {"annee": YEAR, "vue": "moi"})
    assert mine.status_code == 200


def test_months_and_themes_csv(client, world):
    client.force_login(world["mediator"])
    response = client.get(reverse("mediation:dashboard_months_csv"), {"annee": YEAR})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("mois;accompagnements_individuels;seances_atelier")
    assert lines[1] == f"{YEAR}-01;2;0;2;1.00;2;2"
    assert len(lines) == 13
    themes = client.get(reverse("mediation:dashboard_themes_csv"), {"annee": YEAR})
    rows = themes.content.decode("utf-8-sig").splitlines()
    papiers = next(r for r in rows if ";papiers;" in r)
    assert papiers.startswith("demarches;papiers;") and papiers.endswith(";3")


def test_refusals(client, world):
    client.force_login(world["mediator"])
    territory = client.get(URL, {"vue": "territoire"})
    assert territory.status_code == 403
    other = client.get(URL, {"vue": "structure", "structure": world["b"].pk})
    assert other.status_code == 403
    other_csv = client.get(
        reverse("mediation:dashboard_months_csv"), {"vue": "structure", "structure": world["b"].pk}
    )
    assert other_csv.status_code == 403
    for bad in ("abc", "1999", "20255"):
        response = client.get(URL, {"annee": bad})
        assert response.status_code == 400
        assert "pas une année" in response.content.decode()
    assert client.get(URL, {"vue": "tout"}).status_code == 400
    assert client.get(URL, {"vue": "structure", "structure": "x"}).status_code == 400

    client.force_login(UserFactory())  # neither mediator nor staff
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"vue": "structure"}).status_code == 403
    assert client.get(URL, {"vue": "territoire"}).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302


def test_the_departement_sees_the_territory_without_names(client, world):
    client.force_login(department_agent())
    response = client.get(URL, {"annee": YEAR})  # the territory by default
    assert response.status_code == 200
    text = response.content.decode()
    assert "Structure par structure" in text and "Structure Alpha" in text
    assert "Philomène" not in text
    assert client.get(URL, {"vue": "structure"}).status_code == 403
    assert client.get(URL, {"vue": "moi"}).status_code == 403
    csv = client.get(
        reverse("mediation:dashboard_months_csv"), {"annee": YEAR, "vue": "territoire"}
    )
    assert csv.status_code == 200 and "territoire" in csv["Content-Disposition"]
