"""Mediation places as rows of the national schema (data/standards/mediation/), for the CSV and
JSON exports and the API.

Every row validates against the schema (tests/mediation/test_schema_export.py checks it with
frictionless): values the schema would refuse are left empty when the field is optional (a
phone number that is not French, a label no longer in the vocabulary) rather than published
wrong. `id` is stable, "cybercantal-<département>-<place id>", so that the national map
recognises a place from one export to the next; `date_maj` is the day the place or its
mediation description last changed."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone

from cybercantal.core.notifications.sms import normalize_phone

from .models import MediationPlace
from .standard import field_names, schema_fields
from .vocabulary import ENUMERATED_FIELDS, LIST_FIELDS, join_values

ID_PREFIX = "cybercantal"
_TYPOLOGY_CODE = re.compile(r"^[A-Za-z0-9_]+$")


def place_export_id(place_id: int) -> str:
    return f"{ID_PREFIX}-{settings.CYBERCANTAL_TERRITORY_CODE}-{place_id}"


def place_id_from_export_id(value: str) -> int | None:
    """The place id of an id this platform exported, None for anyone else's."""
    prefix = f"{ID_PREFIX}-{settings.CYBERCANTAL_TERRITORY_CODE}-"
    rest = (value or "").strip()
    if rest.startswith(prefix) and rest[len(prefix) :].isdigit():
        number = int(rest[len(prefix) :])
        return number if 0 < number < 2**31 else None
    return None


def _pattern(field: str) -> re.Pattern | None:
    pattern = schema_fields()[field].get("constraints", {}).get("pattern")
    return re.compile(pattern) if pattern else None


def schema_phone(value: str) -> str:
    """The place's phone as the schema wants it (+33 then 9 digits, no spaces), "" if it is
    not a French number (the schema accepts only France and its overseas codes)."""
    if not value:
        return ""
    try:
        e164 = normalize_phone(value)
    except ValueError:
        return ""
    return e164 if _pattern("telephone").match(e164) else ""


def _checked(field: str, value: str) -> str:
    """An optional value kept only if it matches the field's pattern."""
    pattern = _pattern(field)
    return value if not value or pattern is None or pattern.match(value) else ""


def _list_value(mediation: MediationPlace, field: str) -> str:
    values = [str(value) for value in (getattr(mediation, field) or [])]
    if field in ENUMERATED_FIELDS:
        allowed = set(ENUMERATED_FIELDS[field])
        values = [value for value in values if value in allowed]
    elif field == "typologie":
        values = [value for value in values if _TYPOLOGY_CODE.match(value)]
    return join_values(list(dict.fromkeys(values)))


def schema_row(mediation: MediationPlace) -> dict[str, Any]:
    """One place as a dict of the schema's fields, in its order: strings, except latitude and
    longitude (numbers); an absent optional value is ""."""
    place = mediation.place
    changed = max(place.updated_at, mediation.updated_at)
    row: dict[str, Any] = {
        "id": place_export_id(place.pk),
        "pivot": mediation.pivot,
        "nom": place.name,
        "commune": place.commune.name,
        "code_postal": place.postal_code,
        "code_insee": _checked("code_insee", place.commune.insee_code),
        "adresse": place.address,
        "complement_adresse": place.address_complement,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "telephone": schema_phone(place.phone),
        "courriels": place.email,
        "site_web": place.website,
        "horaires": place.opening_hours,
        "presentation_resume": (mediation.presentation_resume or place.description)[:280],
        "presentation_detail": mediation.presentation_detail,
        "source": mediation.source,
        "itinerance": _checked("itinerance", mediation.itinerance),
        "structure_parente": mediation.structure_parente,
        "date_maj": timezone.localdate(changed).isoformat(),
        "autres_formations_labels": mediation.autres_formations_labels,
        "fiche_acces_libre": mediation.fiche_acces_libre,
        "prise_rdv": mediation.prise_rdv,
    }
    for field in LIST_FIELDS:
        row[field] = _list_value(mediation, field)
    return {name: row[name] for name in field_names()}


def schema_rows(mediations: Iterable[MediationPlace]) -> list[dict[str, Any]]:
    """Rows of places a selector returned (already scoped to the actor)."""
    return [schema_row(mediation) for mediation in mediations]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest exact form, decimal point: "44.926"
    return str(value)


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """The schema's CSV: UTF-8 (no BOM), comma-separated, every cell quoted, its header in the
    schema's order, like the national example file."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(field_names())
    for row in rows:
        writer.writerow([_csv_cell(row[name]) for name in field_names()])
    return out.getvalue()


def rows_to_json(rows: list[dict[str, Any]]) -> str:
    """A JSON list of objects with the CSV's keys; latitude and longitude are numbers."""
    return json.dumps(rows, ensure_ascii=False, indent=1)
