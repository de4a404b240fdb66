"""Import of a CSV file of the national schema: the national example creates a place, a second
import updates it, a bad file writes nothing and says why in French, line by line; only staff
of the Département may import."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from cybercantal.accounts.models import Role
from cybercantal.core.models import AuditLog
from cybercantal.mediation.exports import rows_to_csv, schema_rows
from cybercantal.mediation.models import MediationPlace
from cybercantal.mediation.selectors.places import mediation_place_list
from cybercantal.mediation.services.places import mediation_places_import
from cybercantal.mediation.vocabulary import SERVICES
from cybercantal.territory.models import Place
from tests.accounts.factories import UserFactory
from tests.territory.factories import CommuneFactory, PlaceFactory

from ._places_helpers import EXAMPLE_CSV, MediationPlaceFactory, example_bytes, reims

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(roles=[Role.DEPARTMENT_AGENT])


def example_rows() -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(example_bytes().decode("utf-8")))
    return list(reader.fieldnames), list(reader)


def to_csv(header: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_the_national_example_creates_a_place(agent):
    reims()
    report = mediation_places_import(actor=agent, csv_file=example_bytes())
    assert report.applied, report.messages
    assert [row.name for row in report.created] == ["Anonymal"]
    place = Place.objects.get(name="Anonymal")
    assert place.commune.insee_code == "51454"
    assert place.postal_code == "51100"
    assert place.phone == "+33180059880"
    assert place.email == "contact@laquincaillerie.tl"  # Place holds the first address
    assert place.latitude == 43.52609
    assert set(place.kinds.values_list("code", flat=True)) == {"mediation"}
    mediation = place.mediation
    assert mediation.pivot == "43493312300029"
    assert mediation.itinerance == MediationPlace.Itinerance.ITINERANT
    assert mediation.services == [
        "Maîtrise des outils numériques du quotidien",
        "Insertion professionnelle via le numérique",
        "Loisirs et créations numériques",
    ]
    assert mediation.typologie == ["TIERS_LIEUX", "ASSO"]
    assert mediation.frais_a_charge == ["Gratuit sous condition", "Payant"]
    assert AuditLog.objects.filter(action="mediation.places_import").count() == 1
    assert "1 lieu(x) créé(s)" in report.summary()


def test_reimport_updates_without_duplicating(agent):
    reims()
    mediation_places_import(actor=agent, csv_file=example_bytes())
    header, rows = example_rows()
    rows[0]["horaires"] = "Mo-Fr 10:00-12:00"
    rows[0]["services"] = "Aide aux démarches administratives"
    report = mediation_places_import(actor=agent, csv_file=to_csv(header, rows))
    assert report.applied, report.messages
    assert report.created == [] and [row.name for row in report.updated] == ["Anonymal"]
    assert Place.objects.filter(name="Anonymal").count() == 1
    place = Place.objects.get(name="Anonymal")
    assert place.opening_hours == "Mo-Fr 10:00-12:00"
    assert place.mediation.services == ["Aide aux démarches administratives"]


def test_an_export_reimported_updates_the_same_places(agent):
    aurillac = CommuneFactory(insee_code="15014", name="Aurillac", postal_codes="15000")
    existing = MediationPlaceFactory(place=PlaceFactory(commune=aurillac, name="Point numérique"))
    rows = schema_rows(mediation_place_list(actor=agent))
    rows[0]["nom"] = "Point numérique renommé"  # matched by the exported id, not the name
    report = mediation_places_import(actor=agent, csv_file=rows_to_csv(rows).encode("utf-8"))
    assert report.applied, report.messages
    assert [row.place_id for row in report.updated] == [existing.place.pk]
    existing.place.refresh_from_db()
    assert existing.place.name == "Point numérique renommé"
    assert MediationPlace.objects.count() == 1


def test_a_place_without_description_gets_one(agent):
    commune = reims()
    place = PlaceFactory(commune=commune, name="Anonymal", kinds=["library"])
    report = mediation_places_import(actor=agent, csv_file=example_bytes())
    assert [row.place_id for row in report.updated] == [place.pk]
    assert set(place.kinds.values_list("code", flat=True)) == {"library", "mediation"}


def test_a_bad_file_writes_nothing_and_says_why(agent):
    reims()
    header, rows = example_rows()
    second = dict(rows[0], id="structure-2", nom="Deuxième lieu")
    third = dict(rows[0], id="structure-3", nom="Troisième", code_postal="511", services="Cuisine")
    report = mediation_places_import(actor=agent, csv_file=to_csv(header, [rows[0], second, third]))
    assert not report.applied
    assert report.messages == [
        "Ligne 4, colonne « code_postal » : « 511 » ne respecte pas le format attendu : "
        "5 chiffres.",
        "Ligne 4, colonne « services » : « Cuisine » contient une valeur non reconnue. Valeurs "
        "admises, séparées par « | » : " + " ; ".join(SERVICES) + ".",
    ]
    assert "aucun lieu n'a été enregistré" in report.summary()
    assert not Place.objects.exists() and not MediationPlace.objects.exists()
    assert not AuditLog.objects.filter(action="mediation.places_import").exists()


def test_an_unknown_commune_refuses_the_row_and_the_file(agent):
    reims()
    header, rows = example_rows()
    elsewhere = dict(rows[0], id="structure-2", nom="Ailleurs", code_insee="15999")
    report = mediation_places_import(actor=agent, csv_file=to_csv(header, [rows[0], elsewhere]))
    assert not report.applied
    assert report.messages == [
        "Ligne 3, colonne « code_insee » : aucune commune de code INSEE 15999 n'est chargée "
        "sur la plateforme."
    ]
    assert not Place.objects.exists()


def test_the_same_place_twice_is_refused(agent):
    reims()
    header, rows = example_rows()
    twice = dict(rows[0], id="structure-2")
    report = mediation_places_import(actor=agent, csv_file=to_csv(header, [rows[0], twice]))
    assert report.messages == ["Ligne 3 : ce lieu figure déjà à la ligne 2 du fichier."]
    assert not Place.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Le fichier est vide."),
        ("é".encode("latin-1") * 10, "n'est pas encodé en UTF-8"),
        (b"nom;commune\nA;B\n", "colonnes manquantes : id, pivot"),
        (b"\x00\x01\x02", "colonnes manquantes"),
        (example_bytes().replace(b'"5.41423"', b'"est"'), "n'est pas un nombre"),
        (example_bytes().replace(b'"43.52609"', b'"123"'), "hors des bornes"),
        (example_bytes().replace(b'"43493312300029"', b'""'), "valeur obligatoire manquante"),
        (example_bytes().replace(b'"2024-04-02"', b'"02/04/2024"'), "n'est pas une date"),
        (example_bytes().replace(b'"51454"', b'""'), "code INSEE de la commune est nécessaire"),
        (example_bytes() + b'"x"\n', "valeur absente"),
        (example_bytes().split(b"\n")[0] + b"\n", "ne contient aucun lieu"),
    ],
)
def test_bad_files_are_refused_in_french(agent, content, expected):
    reims()
    report = mediation_places_import(actor=agent, csv_file=content)
    assert not report.applied
    assert report.messages
    assert any(expected in message for message in report.messages), report.messages
    assert not Place.objects.exists()


def test_a_bom_is_accepted(agent):
    reims()
    report = mediation_places_import(actor=agent, csv_file=b"\xef\xbb\xbf" + example_bytes())
    assert report.applied, report.messages


@pytest.mark.parametrize("role", [Role.MEDIATOR, Role.RESIDENT, Role.ELECTED_OFFICIAL])
def test_only_staff_of_the_department_may_import(role):
    reims()
    with pytest.raises(PermissionDenied, match="agents du Département"):
        mediation_places_import(actor=UserFactory(roles=[role]), csv_file=example_bytes())
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        mediation_places_import(actor=AnonymousUser(), csv_file=example_bytes())
    assert not Place.objects.exists()


def test_the_import_page(client, agent):
    reims()
    response = client.get("/mediation/lieux/import/")
    assert response.status_code == 302  # to the login page

    client.force_login(UserFactory(roles=[Role.MEDIATOR]))
    assert client.get("/mediation/lieux/import/").status_code == 403
    upload = SimpleUploadedFile("lieux.csv", example_bytes(), content_type="text/csv")
    assert client.post("/mediation/lieux/import/", {"file": upload}).status_code == 403
    assert not Place.objects.exists()

    client.force_login(agent)
    response = client.get("/mediation/lieux/import/")
    assert response.status_code == 200
    assert "Importer des lieux" in response.content.decode()

    response = client.post("/mediation/lieux/import/", {})
    assert response.status_code == 400
    assert "Choisissez un fichier CSV." in response.content.decode()

    bad = SimpleUploadedFile("lieux.csv", b"a,b\n1,2\n", content_type="text/csv")
    response = client.post("/mediation/lieux/import/", {"file": bad})
    assert response.status_code == 400
    assert "colonnes manquantes" in response.content.decode()

    upload = SimpleUploadedFile("lieux.csv", example_bytes(), content_type="text/csv")
    response = client.post("/mediation/lieux/import/", {"file": upload})
    assert response.status_code == 200
    assert "Ligne 2 : créé — Anonymal" in response.content.decode()
    assert Place.objects.filter(name="Anonymal").exists()


def test_the_management_command(tmp_path, capsys):
    reims()
    call_command("import_mediation_places", str(EXAMPLE_CSV))
    assert "1 lieu(x) créé(s)" in capsys.readouterr().out
    call_command("import_mediation_places", str(EXAMPLE_CSV))
    assert "0 lieu(x) créé(s), 1 mis à jour" in capsys.readouterr().out

    bad = tmp_path / "mauvais.csv"
    bad.write_bytes(example_bytes().replace(b'"51100"', b'"511"'))
    with pytest.raises(CommandError, match="Import refusé"):
        call_command("import_mediation_places", str(bad))
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("import_mediation_places", str(tmp_path / "absent.csv"))
