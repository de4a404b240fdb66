"""Writes on the territory."""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from cybercantal.core.audit import audit_log

from .models import Commune, Epci

COMMUNE_FIELDS = [
    "name",
    "postal_codes",
    "population",
    "epci_id",
    "department_code",
    "arrondissement",
    "latitude",
    "longitude",
    "area_km2",
    "outline",
]


class TerritoryDataError(Exception):
    """The reference files are missing or malformed; nothing was written."""


@dataclass
class TerritoryLoadReport:
    code: str
    epci_created: int = 0
    epci_updated: int = 0
    communes_created: int = 0
    communes_updated: int = 0
    communes_unchanged: int = 0
    communes_removed: int = 0
    communes_kept_in_use: list[str] = field(default_factory=list)
    total_communes: int = 0
    total_population: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.epci_created
            or self.epci_updated
            or self.communes_created
            or self.communes_updated
            or self.communes_removed
        )


def _read_source(data_dir: Path) -> tuple[list[dict], dict[str, dict]]:
    communes_csv = data_dir / "communes.csv"
    outlines_geojson = data_dir / "communes.geojson"
    if not communes_csv.exists():
        raise TerritoryDataError(f"Fichier introuvable : {communes_csv}")
    with communes_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    outlines: dict[str, dict] = {}
    if outlines_geojson.exists():
        collection = json.loads(outlines_geojson.read_text(encoding="utf-8"))
        for feature in collection.get("features", []):
            outlines[feature["properties"]["insee_code"]] = feature["geometry"]
    return rows, outlines


def _parse_row(row: dict, line: int, department_code: str) -> dict:
    try:
        insee = row["insee_code"].strip()
        if not insee.startswith(department_code):
            raise ValueError(f"le code INSEE {insee} n'appartient pas au département")
        return {
            "insee_code": insee,
            "name": row["name"].strip(),
            "postal_codes": " " + " ".join(row["postal_codes"].split()) + " ",
            "population": int(row["population"]),
            "epci_siren": row["epci_siren"].strip(),
            "epci_name": row["epci_name"].strip(),
            "department_code": department_code,
            "arrondissement": row.get("arrondissement", "").strip(),
            "latitude": float(row["latitude"]),
            "longitude": float(row["longitude"]),
            "area_km2": float(row["area_km2"]) if row.get("area_km2") else None,
        }
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise TerritoryDataError(f"communes.csv, ligne {line} : {exc}") from exc


@transaction.atomic
def territory_load(*, code: str, data_dir: Path | None = None, actor=None) -> TerritoryLoadReport:
    """Load (or refresh) a département's EPCI and communes from data/territories/<code>/.

    Idempotent: a second run with the same files changes nothing. After the files change, it
    updates what changed, adds new communes and removes communes that left the source (e.g.
    merged) unless something still refers to them. All or nothing: on a malformed file no row
    is written."""
    from cybercantal.core.text import normalize_search

    data_dir = data_dir or Path(settings.TERRITORY_DATA_DIR) / code
    rows, outlines = _read_source(data_dir)
    parsed = [_parse_row(row, i, code) for i, row in enumerate(rows, start=2)]
    report = TerritoryLoadReport(code=code)

    epcis = {e.siren: e for e in Epci.objects.all()}
    for row in parsed:
        epci = epcis.get(row["epci_siren"])
        if epci is None:
            epcis[row["epci_siren"]] = Epci.objects.create(
                siren=row["epci_siren"], name=row["epci_name"]
            )
            report.epci_created += 1
        elif epci.name != row["epci_name"]:
            epci.name = row["epci_name"]
            epci.save(update_fields=["name", "updated_at"])
            report.epci_updated += 1

    existing = {c.insee_code: c for c in Commune.objects.filter(department_code=code)}
    to_create, to_update = [], []
    for row in parsed:
        values = {
            "name": row["name"],
            "postal_codes": row["postal_codes"],
            "population": row["population"],
            "epci_id": epcis[row["epci_siren"]].pk,
            "department_code": code,
            "arrondissement": row["arrondissement"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "area_km2": row["area_km2"],
            "outline": outlines.get(row["insee_code"]),
        }
        commune = existing.pop(row["insee_code"], None)
        if commune is None:
            to_create.append(
                Commune(
                    insee_code=row["insee_code"],
                    search_name=normalize_search(row["name"]),
                    **values,
                )
            )
        elif any(getattr(commune, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(commune, key, value)
            commune.search_name = normalize_search(commune.name)
            to_update.append(commune)
        else:
            report.communes_unchanged += 1
    Commune.objects.bulk_create(to_create, batch_size=200)
    Commune.objects.bulk_update(
        to_update, [*COMMUNE_FIELDS, "search_name", "updated_at"], batch_size=200
    )
    report.communes_created, report.communes_updated = len(to_create), len(to_update)

    for commune in existing.values():  # communes no longer in the source
        if commune.places.exists() or commune.organisations.exists():
            report.communes_kept_in_use.append(commune.insee_code)
        else:
            commune.delete()
            report.communes_removed += 1
    Epci.objects.filter(communes__isnull=True).delete()

    department = Commune.objects.filter(department_code=code)
    report.total_communes = department.count()
    report.total_population = sum(department.values_list("population", flat=True))
    if report.changed:
        audit_log(
            actor=actor,
            action="territory.load",
            data={
                "code": code,
                "created": report.communes_created,
                "updated": report.communes_updated,
                "removed": report.communes_removed,
            },
        )
    return report
