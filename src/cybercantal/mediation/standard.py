"""The national schema of digital mediation places (LaMednum standard-mediation-num, Table
Schema v1.0.2), read from data/standards/mediation/, and the validation of a table against it
with `frictionless`, whose errors are turned into French messages naming the line and column.

frictionless is imported when a table is validated, not at start-up: it is heavy and only the
import of a file (and the tests) need it."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .vocabulary import ENUMERATED_FIELDS

SCHEMA_VERSION = "v1.0.2"
SCHEMA_FILE = "mediation-places-schema-v1.0.2.json"


def standard_dir() -> Path:
    return Path(settings.BASE_DIR) / "data" / "standards" / "mediation"


def schema_path() -> Path:
    return standard_dir() / SCHEMA_FILE


@functools.cache
def schema_descriptor() -> dict[str, Any]:
    """The schema file as a dict (read once per process)."""
    return json.loads(schema_path().read_text(encoding="utf-8"))


def schema_fields() -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in schema_descriptor()["fields"]}


def field_names() -> list[str]:
    """The columns of the schema, in its order: the CSV's header."""
    return [field["name"] for field in schema_descriptor()["fields"]]


@dataclass(frozen=True)
class TableError:
    """One problem of a table: `row` is the line of the file (the header is line 1), None for
    a problem of the whole file or of its header; `field` the column, "" if none."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.field:
            return _("Ligne %(row)s, colonne « %(field)s » : %(message)s") % {
                "row": self.row,
                "field": self.field,
                "message": self.message,
            }
        return _("Ligne %(row)s : %(message)s") % {"row": self.row, "message": self.message}


def _constraint_message(field: str, cell: Any, note: str) -> str:
    definition = schema_fields().get(field, {})
    constraints = definition.get("constraints", {})
    if note.startswith('constraint "required"'):
        return _("valeur obligatoire manquante.")
    if note.startswith('constraint "maxLength"'):
        return _("texte trop long (%(max)s caractères au plus).") % {
            "max": constraints.get("maxLength")
        }
    if note.startswith('constraint "unique"'):
        return _("« %(value)s » figure déjà sur une autre ligne.") % {"value": cell}
    if note.startswith('constraint "pattern"'):
        if field in ENUMERATED_FIELDS:
            return _(
                "« %(value)s » contient une valeur non reconnue. Valeurs admises, séparées "
                "par « | » : %(allowed)s."
            ) % {"value": cell, "allowed": " ; ".join(ENUMERATED_FIELDS[field])}
        hints = {
            "pivot": _("un SIRET (14 chiffres) ou un numéro RNA, de 9 à 14 lettres ou chiffres"),
            "code_postal": _("5 chiffres"),
            "code_insee": _("un code INSEE de commune, 5 caractères (ex. 15014)"),
            "telephone": _("le format international sans espaces, ex. +33471000000"),
        }
        hint = hints.get(field, _("le format défini par le schéma"))
        return _("« %(value)s » ne respecte pas le format attendu : %(hint)s.") % {
            "value": cell,
            "hint": hint,
        }
    return _("« %(value)s » ne respecte pas le schéma.") % {"value": cell}


def _type_message(field: str, cell: Any) -> str:
    kind = schema_fields().get(field, {}).get("type")
    if kind == "number":
        return _("« %(value)s » n'est pas un nombre (ex. 44.9264).") % {"value": cell}
    if kind == "date":
        return _("« %(value)s » n'est pas une date AAAA-MM-JJ.") % {"value": cell}
    return _("« %(value)s » n'est pas du type attendu.") % {"value": cell}


def _french(error) -> TableError:
    """A frictionless error (5.x) as a TableError in French."""
    kind = error.type
    row = getattr(error, "row_number", None)
    field = getattr(error, "field_name", "") or ""
    cell = getattr(error, "cell", "")
    note = getattr(error, "note", "") or ""
    if kind == "constraint-error":
        return TableError(row, field, _constraint_message(field, cell, note))
    if kind == "type-error":
        return TableError(row, field, _type_message(field, cell))
    if kind in ("unique-error", "primary-key"):
        return TableError(
            row,
            field or "id",
            _("« %(value)s » figure déjà sur une autre ligne : chaque lieu a son identifiant.")
            % {"value": cell or field},
        )
    if kind == "blank-row":
        return TableError(row, "", _("ligne vide."))
    if kind == "extra-cell":
        return TableError(row, "", _("plus de valeurs que de colonnes."))
    if kind == "missing-cell":
        return TableError(row, field, _("valeur absente (ligne trop courte)."))
    if kind in (
        "extra-label",
        "missing-label",
        "incorrect-label",
        "blank-label",
        "duplicate-label",
    ):
        return TableError(
            None,
            "",
            _(
                "L'en-tête du fichier ne correspond pas au schéma national. Colonnes "
                "attendues, dans cet ordre : %(columns)s."
            )
            % {"columns": ", ".join(field_names())},
        )
    return TableError(
        row,
        field,
        _("Fichier illisible : un CSV encodé en UTF-8, séparé par des virgules, est attendu."),
    )


def validate_table(data: bytes | list[dict[str, Any]], *, limit: int = 200) -> list[TableError]:
    """Check a table against the schema: CSV bytes (UTF-8) or a list of rows (dicts, as the
    JSON export). Returns the problems found (at most `limit`), in French; [] if valid."""
    from frictionless import Dialect, Resource, Schema, system

    schema = Schema.from_descriptor(schema_descriptor())
    if isinstance(data, bytes):
        resource = Resource(data=data, format="csv", encoding="utf-8", schema=schema)
        resource.dialect = Dialect(header_rows=[1])
    else:
        resource = Resource(data=data, schema=schema)
    # No network and no file beyond what is given: the table is inline, the schema a dict.
    with system.use_context(trusted=False):
        report = resource.validate(limit_errors=limit)
    errors = [_french(error) for task in report.tasks for error in task.errors]
    errors += [_french(error) for error in report.errors]
    # One message for the header, however many of its columns are wrong.
    unique = list(
        dict.fromkeys(
            error if error.row else TableError(None, "", error.message) for error in errors
        )
    )
    return unique[:limit]


def header_problem(header: list[str]) -> TableError | None:
    """The header of a CSV compared with the schema's columns: None if identical, else one
    French message naming the missing and unexpected columns."""
    expected = field_names()
    if header == expected:
        return None
    missing = [name for name in expected if name not in header]
    unexpected = [name for name in header if name not in expected]
    parts = []
    if missing:
        parts.append(_("colonnes manquantes : %(names)s") % {"names": ", ".join(missing)})
    if unexpected:
        parts.append(_("colonnes inconnues : %(names)s") % {"names": ", ".join(unexpected)})
    if not parts:
        parts.append(_("colonnes dans le désordre"))
    return TableError(
        None,
        "",
        _(
            "L'en-tête du fichier ne suit pas le schéma national (%(problems)s). Colonnes "
            "attendues, dans cet ordre : %(columns)s."
        )
        % {"problems": " ; ".join(parts), "columns": ", ".join(expected)},
    )
