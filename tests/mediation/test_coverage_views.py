"""The coverage page (/mediation/couverture/) and its CSV: the Département's staff only; the
radius and the proposed stops from the address; bad input answered in French with a 400."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.mediation.models import TourStop
from tests.accounts.factories import UserFactory
from tests.booking.factories import ResourceFactory, agent_of, department_agent
from tests.mediation.test_coverage import Territory

pytestmark = pytest.mark.django_db

URL = reverse("mediation:coverage")
CSV_URL = reverse("mediation:coverage_csv")


@pytest.fixture
def territory():
    return Territory(timezone.localdate())


@pytest.fixture
def staff_client(client):
    client.force_login(department_agent())
    return client


def test_staff_see_the_coverage(staff_client, territory):
    response = staff_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Bilan à 15 km" in body
    assert "3 sur 8" in body  # communes covered
    uncovered = [item["row"].name for item in response.context["uncovered"]]
    assert uncovered == ["Annulée", "Passée", "Lointaine", "Voisine", "Privée"]
    assert response.context["suggestions"][0]["suggestion"].commune.name == "Annulée"
    assert 'id="carte-couverture"' in body


def test_radius_and_sort_from_the_address(staff_client, territory):
    response = staff_client.get(URL, {"rayon": "5", "tri": "nom"})
    assert response.status_code == 200
    names = [item["row"].name for item in response.context["uncovered"]]
    assert "Proche" in names
    assert names == sorted(names)


def test_proposed_stops_show_their_effect_and_write_nothing(staff_client, territory):
    stops = TourStop.objects.count()
    response = staff_client.get(URL, {"ajout": ["99003"]})
    assert response.status_code == 200
    assert TourStop.objects.count() == stops
    assert response.context["result"].newly_covered_people == 380
    [proposed] = response.context["proposed"]
    assert proposed["gain"].people == 380
    body = response.content.decode()
    assert "380 habitants couverts en plus" in body
    assert "Voisine" not in [item["row"].name for item in response.context["uncovered"]]


def test_mediator_and_resident_are_refused(client, territory):
    client.force_login(agent_of(ResourceFactory()))
    assert client.get(URL).status_code == 403
    assert client.get(CSV_URL).status_code == 403
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"] or "login" in response["Location"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rayon": "3"}, "La distance va de 5 à 50 km."),
        ({"rayon": "51"}, "La distance va de 5 à 50 km."),
        ({"rayon": "quinze"}, "La distance est un nombre entier de kilomètres"),
        ({"ajout": "00000"}, "Commune inconnue : 00000."),
        ({"ajout": "<script>"}, "Code de commune illisible"),
    ],
)
def test_bad_input_is_a_400_in_french(staff_client, territory, params, message):
    response = staff_client.get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert staff_client.get(CSV_URL, params).status_code == 400


def test_too_many_proposed_stops(staff_client, territory):
    codes = [f"990{n:02d}" for n in range(1, 13)]
    response = staff_client.get(URL, {"ajout": codes})
    assert response.status_code == 400
    assert "Au plus 10 étapes envisagées" in response.content.decode()


def test_csv_export(staff_client, territory):
    response = staff_client.get(CSV_URL, {"rayon": "15", "ajout": "99003"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["code_insee", "commune", "population"]
    by_code = {row[0]: row for row in rows[1:]}
    assert len(by_code) == 8
    assert by_code["99003"][5:7] == ["oui", "non"]  # covered thanks to the proposed stop
    assert by_code["99004"][5] == "non"
    assert by_code["99002"][8] == "10,0"


AGES_URL = reverse("mediation:coverage_ages")


def test_staff_load_the_share_of_older_people(staff_client, territory):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "ages.csv", b"CODGEO;P21_POP;P21_POP75P\n99006;120;108\n", content_type="text/csv"
    )
    response = staff_client.post(AGES_URL, {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0] == URL
    body = response.content.decode()
    assert "1 commune mise à jour" in body
    assert "part connue pour 1 communes sur 8" in body
    uncovered = [item["row"].name for item in response.context["uncovered"]]
    assert uncovered[:3] == ["Annulée", "Lointaine", "Passée"]


def test_bad_ages_file_answers_400_in_french(staff_client, territory):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("ages.csv", b"a;b\n1;2\n", content_type="text/csv")
    response = staff_client.post(AGES_URL, {"file": upload})
    assert response.status_code == 400
    assert "Colonne du code commune introuvable" in response.content.decode()
    assert staff_client.post(AGES_URL, {}).status_code == 400


def test_only_staff_load_ages(client, territory):
    assert client.get(AGES_URL).status_code == 302  # to the login page
    client.force_login(UserFactory())
    assert client.get(AGES_URL).status_code == 403
    client.force_login(agent_of(ResourceFactory()))
    assert client.post(AGES_URL, {}).status_code == 403
