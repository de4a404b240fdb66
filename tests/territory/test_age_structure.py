"""Loading the share of people aged 75+ per commune (territory.age_structure) from INSEE's census
base or a two-column file: all or nothing, French messages, only loaded communes updated."""

import pytest
from django.core.management import CommandError, call_command

from cybercantal.core.models import AuditLog
from cybercantal.territory.age_structure import AgeDataError, commune_ages_load
from cybercantal.territory.models import Commune
from tests.territory.factories import CommuneFactory

pytestmark = pytest.mark.django_db

INSEE = (
    "CODGEO;P21_POP;P21_POP6074;P21_POP75P;P15_POP;P15_POP75P\n"
    "15001;773.0;120.5;154.6;790;140\n"
    "15002;224;40;22.4;230;20\n"
    "75056;2133111;200000;150000;2190000;140000\n"
)


@pytest.fixture
def communes():
    return (
        CommuneFactory(insee_code="15001", name="Allanche", department_code="15"),
        CommuneFactory(insee_code="15002", name="Alleuze", department_code="15"),
        CommuneFactory(insee_code="15003", name="Anglards-de-Salers", department_code="15"),
    )


def test_insee_file_sets_the_most_recent_census_share(communes):
    report = commune_ages_load(raw=INSEE.encode())
    allanche, alleuze, anglards = (Commune.objects.get(pk=c.pk) for c in communes)
    assert allanche.share_75_plus == pytest.approx(0.2, abs=1e-4)
    assert alleuze.share_75_plus == pytest.approx(0.1, abs=1e-4)
    assert allanche.age_data_year == 2021
    assert anglards.share_75_plus is None  # not in the file: unknown, not zero
    assert report.updated == 2
    assert report.skipped_rows == 1  # Paris, not loaded here
    assert report.missing == ["15003"]
    assert AuditLog.objects.filter(action="territory.ages_load").count() == 1


def test_second_run_changes_nothing(communes):
    commune_ages_load(raw=INSEE.encode())
    report = commune_ages_load(raw=INSEE.encode())
    assert (report.updated, report.unchanged) == (0, 2)
    assert AuditLog.objects.filter(action="territory.ages_load").count() == 1


def test_two_column_file_with_percentages_and_commas(communes):
    raw = 'insee_code,share_75_plus\n15001,"18,5%"\n15002,0.12\n'.encode("cp1252")
    commune_ages_load(raw=raw)
    assert Commune.objects.get(insee_code="15001").share_75_plus == pytest.approx(0.185)
    assert Commune.objects.get(insee_code="15002").share_75_plus == pytest.approx(0.12)
    assert Commune.objects.get(insee_code="15001").age_data_year is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("code;population\n15001;773\n", "Colonne du code commune introuvable"),
        ("CODGEO;P21_POP\n15001;773\n", "Colonnes introuvables"),
        ("CODGEO;P21_POP;P21_POP75P\n15002;224;22\n15001;773;beaucoup\n", "Ligne 3 : « beaucoup »"),
        ("CODGEO;P21_POP;P21_POP75P\n15002;224;22\n15001;773;900\n", "dépasse 100 %"),
        ("CODGEO;P21_POP;P21_POP75P\n15002;224;22\n15001;773;-1\n", "nombre négatif"),
        ("CODGEO;P21_POP;P21_POP75P\n15001;773;100\n15001;773;90\n", "apparaît deux fois"),
        ("CODGEO;P21_POP;P21_POP75P\n75056;10;1\n", "Aucune commune du fichier"),
    ],
)
def test_bad_file_is_refused_in_french_and_writes_nothing(communes, raw, message):
    # A good line before the bad one is not written either: all or nothing.
    with pytest.raises(AgeDataError, match=message):
        commune_ages_load(raw=raw.encode())
    assert not Commune.objects.filter(share_75_plus__isnull=False).exists()


def test_department_filter_leaves_other_departements_alone(communes):
    other = CommuneFactory(insee_code="63001", department_code="63")
    raw = "CODGEO;P21_POP;P21_POP75P\n15001;100;10\n63001;100;30\n"
    commune_ages_load(raw=raw.encode(), department_code="15")
    assert Commune.objects.get(pk=other.pk).share_75_plus is None
    assert Commune.objects.get(insee_code="15001").share_75_plus == pytest.approx(0.1)


def test_command_reports_and_refuses(communes, tmp_path, capsys):
    path = tmp_path / "base-cc-evol-struct-pop-2021.csv"
    path.write_text(INSEE, encoding="utf-8")
    call_command("load_commune_ages", str(path), "--departement", "15")
    out = capsys.readouterr().out
    assert "recensement 2021" in out and "2 communes mises à jour" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("x;y\n1;2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Colonne du code commune"):
        call_command("load_commune_ages", str(bad))
    with pytest.raises(CommandError, match="Lecture impossible"):
        call_command("load_commune_ages", str(tmp_path / "absent.csv"))
