"""Loading the share of people aged 75 or more per commune (Commune.share_75_plus).

The reference data of a département (communes.csv) has no age structure, and the share of
older people matters to services that go to people (mediation coverage puts first the
communes where more of them live). INSEE publishes it per commune in the census base
"Évolution et structure de la population" (base-cc-evol-struct-pop-<year>), one national CSV:
CODGEO, P21_POP (population), P21_POP75P (aged 75 or more), … where 21 is the census year.
Its figures are weighted estimates, hence decimals. A simpler two-column file
(insee_code, share_75_plus as a fraction 0-1 or a percentage with "%") is accepted too, for
figures from another source.

Only communes already loaded are updated; the other rows of a national file are skipped. All
or nothing: one bad row and nothing is written, with the line in the French message.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log

from .models import Commune

_POP = re.compile(r"^P(\d{2})_POP$", re.IGNORECASE)
_POP_75 = re.compile(r"^P(\d{2})_POP75P$", re.IGNORECASE)
_CODE_COLUMNS = ("codgeo", "insee_code", "code_insee")


class AgeDataError(Exception):
    """The file cannot be read as an age structure; nothing was written."""


@dataclass
class AgeLoadReport:
    year: int | None
    updated: int = 0
    unchanged: int = 0
    skipped_rows: int = 0  # communes of the file not loaded here (other départements)
    missing: list[str] = field(default_factory=list)  # loaded communes absent from the file


@dataclass(frozen=True)
class _Layout:
    code: str
    population: str | None
    aged: str | None
    share: str | None
    year: int | None


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AgeDataError(_("Le fichier n'est ni en UTF-8 ni en Windows-1252."))


def _layout(header: list[str]) -> _Layout:
    by_lower = {name.strip().lower(): name for name in header}
    code = next((by_lower[c] for c in _CODE_COLUMNS if c in by_lower), None)
    if code is None:
        raise AgeDataError(_("Colonne du code commune introuvable (CODGEO ou insee_code)."))
    populations = {m.group(1): name for name in header if (m := _POP.match(name.strip()))}
    aged = {m.group(1): name for name in header if (m := _POP_75.match(name.strip()))}
    years = sorted(set(populations) & set(aged), reverse=True)
    if years:
        yy = years[0]  # the most recent census when a file carries several
        return _Layout(code, populations[yy], aged[yy], None, 2000 + int(yy))
    if "share_75_plus" in by_lower:
        return _Layout(code, None, None, by_lower["share_75_plus"], None)
    raise AgeDataError(
        _(
            "Colonnes introuvables : il faut PAA_POP et PAA_POP75P (base INSEE « Évolution et "
            "structure de la population », AA = année) ou share_75_plus."
        )
    )


def _number(value: str, *, line: int, column: str) -> float:
    text = (value or "").strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise AgeDataError(
            _("Ligne %(line)s : « %(value)s » n'est pas un nombre (colonne %(column)s).")
            % {"line": line, "value": value, "column": column}
        ) from None
    if number < 0:
        raise AgeDataError(
            _("Ligne %(line)s : nombre négatif (colonne %(column)s).")
            % {"line": line, "column": column}
        )
    return number / 100 if text.endswith("%") else number


def _share(row: dict, layout: _Layout, line: int) -> float | None:
    if layout.share:
        share = _number(row[layout.share], line=line, column=layout.share)
    else:
        population = _number(row[layout.population], line=line, column=layout.population)
        aged = _number(row[layout.aged], line=line, column=layout.aged)
        if population == 0:
            return None
        share = aged / population
    if share > 1:
        raise AgeDataError(
            _("Ligne %(line)s : la part des 75 ans et plus dépasse 100 %%.") % {"line": line}
        )
    return round(share, 4)


def commune_ages_load(*, raw: bytes, department_code: str | None = None, actor=None):
    """Set share_75_plus (and the census year) of the loaded communes from an INSEE file.
    `department_code` limits the update to one département's communes."""
    text = _decode(raw)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        raise AgeDataError(_("Séparateur introuvable : le fichier doit être un CSV.")) from None
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    layout = _layout(reader.fieldnames or [])
    communes = Commune.objects.all()
    if department_code:
        communes = communes.filter(department_code=department_code)
    loaded = {
        c.insee_code: c for c in communes.only("pk", "insee_code", "share_75_plus", "age_data_year")
    }
    report = AgeLoadReport(year=layout.year)
    shares: dict[str, float | None] = {}
    for line, row in enumerate(reader, start=2):
        code = (row.get(layout.code) or "").strip().zfill(5)
        if code not in loaded:
            report.skipped_rows += 1
            continue
        if code in shares:
            raise AgeDataError(
                _("Ligne %(line)s : la commune %(code)s apparaît deux fois.")
                % {"line": line, "code": code}
            )
        shares[code] = _share(row, layout, line)
    if not shares:
        raise AgeDataError(_("Aucune commune du fichier n'est chargée sur la plateforme."))
    report.missing = sorted(set(loaded) - set(shares))
    changed = []
    for code, share in shares.items():
        commune = loaded[code]
        if (commune.share_75_plus, commune.age_data_year) == (share, layout.year):
            report.unchanged += 1
            continue
        commune.share_75_plus = share
        commune.age_data_year = layout.year
        changed.append(commune)
    with transaction.atomic():
        Commune.objects.bulk_update(changed, ["share_75_plus", "age_data_year"], batch_size=200)
        report.updated = len(changed)
        if changed:
            audit_log(
                actor=actor,
                action="territory.ages_load",
                data={"updated": report.updated, "year": layout.year},
            )
    return report
