"""Loading the Cantal reference data: counts, idempotence, refresh, all-or-nothing."""

import csv
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from cybercantal.core.models import AuditLog
from cybercantal.territory.models import Commune, Epci, Place
from cybercantal.territory.services import TerritoryDataError, territory_load

pytestmark = pytest.mark.django_db

SOURCE = Path(settings.TERRITORY_DATA_DIR) / "15"


@pytest.fixture
def source_copy(tmp_path) -> Path:
    """A copy of data/territories/15 that a test may edit."""
    target = tmp_path / "15"
    shutil.copytree(SOURCE, target)
    return target


def read_rows(data_dir: Path) -> tuple[list[str], list[dict]]:
    with (data_dir / "communes.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(data_dir: Path, fieldnames: list[str], rows: list[dict]) -> None:
    with (data_dir / "communes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)


def test_the_cantal_is_loaded_whole(cantal):
    assert cantal.communes_created == 250
    assert cantal.total_communes == 250
    assert cantal.total_population == 144_196
    assert cantal.epci_created == 10
    assert Commune.objects.count() == 250
    assert Epci.objects.count() == 10
    aurillac = Commune.objects.get(insee_code="15014")
    assert aurillac.name == "Aurillac"
    assert aurillac.postal_code_list == ["15000"]
    assert aurillac.epci.name == "CA du Bassin d'Aurillac"
    assert aurillac.outline["type"] in {"Polygon", "MultiPolygon"}
    # Every commune has its outline and a point in the département.
    assert not Commune.objects.filter(outline__isnull=True).exists()
    assert not Commune.objects.exclude(latitude__range=(44.5, 45.6)).exists()


def test_a_second_run_changes_nothing(cantal):
    updated_at = dict(Commune.objects.values_list("insee_code", "updated_at"))
    audit_rows = AuditLog.objects.count()

    report = territory_load(code="15")

    assert (report.communes_created, report.communes_updated, report.communes_removed) == (0, 0, 0)
    assert (report.epci_created, report.epci_updated) == (0, 0)
    assert report.communes_unchanged == 250
    assert not report.changed
    assert dict(Commune.objects.values_list("insee_code", "updated_at")) == updated_at
    assert AuditLog.objects.count() == audit_rows


def test_the_command_says_what_it_did(cantal):
    out = StringIO()
    call_command("load_territory", "15", stdout=out)
    assert "250 communes" in out.getvalue()
    assert "0 créées, 0 mises à jour, 250 inchangées, 0 supprimées" in out.getvalue()


def test_a_changed_source_updates_and_removes(cantal, source_copy):
    fieldnames, rows = read_rows(source_copy)
    for row in rows:
        if row["insee_code"] == "15014":
            row["population"] = "26300"
    removed = next(row for row in rows if row["insee_code"] == "15002")  # Alleuze
    rows.remove(removed)
    write_rows(source_copy, fieldnames, rows)

    report = territory_load(code="15", data_dir=source_copy)

    assert report.communes_updated == 1
    assert report.communes_removed == 1
    assert report.communes_created == 0
    assert report.total_communes == 249
    assert report.total_population == 144_196 + (26_300 - 26_214) - int(removed["population"])
    assert Commune.objects.get(insee_code="15014").population == 26_300
    assert not Commune.objects.filter(insee_code="15002").exists()
    assert AuditLog.objects.filter(action="territory.load").count() == 2


def test_a_commune_still_used_is_kept_and_reported(cantal, source_copy):
    alleuze = Commune.objects.get(insee_code="15002")
    Place.objects.create(
        name="Salle communale",
        address="Le bourg",
        postal_code="15100",
        commune=alleuze,
        latitude=alleuze.latitude,
        longitude=alleuze.longitude,
    )
    fieldnames, rows = read_rows(source_copy)
    write_rows(source_copy, fieldnames, [row for row in rows if row["insee_code"] != "15002"])

    report = territory_load(code="15", data_dir=source_copy)

    assert report.communes_removed == 0
    assert report.communes_kept_in_use == ["15002"]
    assert Commune.objects.filter(insee_code="15002").exists()


@pytest.mark.parametrize(
    ("column", "value"),
    [("population", "beaucoup"), ("latitude", ""), ("insee_code", "63113"), ("longitude", "est")],
)
def test_a_malformed_file_writes_nothing(cantal, source_copy, column, value):
    fieldnames, rows = read_rows(source_copy)
    rows[0]["population"] = "999999"  # a valid change before the bad row: must not be written
    rows[100][column] = value
    write_rows(source_copy, fieldnames, rows)
    before = (Commune.objects.count(), Epci.objects.count(), AuditLog.objects.count())
    population = Commune.objects.get(insee_code=rows[0]["insee_code"]).population

    with pytest.raises(TerritoryDataError, match="ligne 102"):
        territory_load(code="15", data_dir=source_copy)

    assert (Commune.objects.count(), Epci.objects.count(), AuditLog.objects.count()) == before
    assert Commune.objects.get(insee_code=rows[0]["insee_code"]).population == population


def test_a_truncated_row_on_an_empty_database_writes_nothing(source_copy):
    fieldnames, rows = read_rows(source_copy)
    write_rows(source_copy, fieldnames, rows)
    with (source_copy / "communes.csv").open("a", encoding="utf-8") as handle:
        handle.write("15999,Commune tronquée,15000\n")  # a row with missing columns

    with pytest.raises(TerritoryDataError, match="ligne 252"):
        territory_load(code="15", data_dir=source_copy)

    assert Commune.objects.count() == 0
    assert Epci.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TerritoryDataError, match="introuvable"):
        territory_load(code="15", data_dir=tmp_path)


def test_the_command_turns_errors_into_a_french_message(settings, tmp_path):
    settings.TERRITORY_DATA_DIR = tmp_path
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("load_territory", "15", stdout=StringIO())
