"""Writes on mediation places: the import of a file of the national schema, and the
description of one place by its structure's mediators (or the Département's staff)."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from stdnum.fr import siret as stdnum_siret

from cybercantal.core.audit import audit_log
from cybercantal.territory.models import Commune, Organisation, Place, PlaceKind

from ..exports import place_id_from_export_id
from ..models import MediationPlace
from ..perms import can_describe_place, can_import_places
from ..standard import TableError, header_problem, validate_table
from ..vocabulary import ENUMERATED_FIELDS, LIST_FIELDS, TYPOLOGIE, split_values

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# Place fields filled from the file's columns (the rest of Place keeps its value).
PLACE_COLUMNS = {
    "nom": "name",
    "adresse": "address",
    "complement_adresse": "address_complement",
    "code_postal": "postal_code",
    "horaires": "opening_hours",
}
MEDIATION_TEXT_COLUMNS = (
    "presentation_resume",
    "presentation_detail",
    "source",
    "structure_parente",
    "autres_formations_labels",
    "fiche_acces_libre",
    "prise_rdv",
)


@dataclass(frozen=True)
class ImportedRow:
    row: int  # line in the file (header = 1)
    place_id: int | None
    name: str


@dataclass
class MediationImportReport:
    """What an import did, or would have done: with any refused row (or an error of the
    whole file) nothing is written (`applied` False) and `created`/`updated` say what the
    valid rows would have done."""

    created: list[ImportedRow] = field(default_factory=list)
    updated: list[ImportedRow] = field(default_factory=list)
    refused: list[TableError] = field(default_factory=list)
    applied: bool = False

    @property
    def messages(self) -> list[str]:
        return [str(error) for error in self.refused]

    def summary(self) -> str:
        if self.applied:
            return _("Import réussi : %(created)s lieu(x) créé(s), %(updated)s mis à jour.") % {
                "created": len(self.created),
                "updated": len(self.updated),
            }
        return _(
            "Import refusé : aucun lieu n'a été enregistré. %(count)s erreur(s) à corriger "
            "dans le fichier."
        ) % {"count": len(self.refused)}


class _Rollback(Exception):
    pass


def _read(csv_file: IO[bytes] | bytes) -> bytes:
    if isinstance(csv_file, bytes):
        return csv_file
    data = csv_file.read(MAX_FILE_BYTES + 1)
    return data.encode("utf-8") if isinstance(data, str) else data


def _decode(data: bytes) -> tuple[str | None, TableError | None]:
    if len(data) > MAX_FILE_BYTES:
        return None, TableError(
            None, "", _("Fichier trop volumineux (5 Mo au plus) : découpez-le en plusieurs.")
        )
    if not data.strip():
        return None, TableError(None, "", _("Le fichier est vide."))
    try:
        # utf-8-sig: a spreadsheet's byte order mark is dropped.
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, TableError(
            None,
            "",
            _(
                "Le fichier n'est pas encodé en UTF-8 : enregistrez-le en « CSV UTF-8 » depuis "
                "votre tableur."
            ),
        )


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        return [
            (name, message) for name, messages in error.message_dict.items() for message in messages
        ]
    return [("", message) for message in error.messages]


# Model fields → the file's columns, to name the column of a model validation error.
_COLUMN_OF = {model_field: column for column, model_field in PLACE_COLUMNS.items()} | {
    "email": "courriels",
    "website": "site_web",
    "phone": "telephone",
    "latitude": "latitude",
    "longitude": "longitude",
}


class _RowRefused(Exception):
    def __init__(self, errors: list[TableError]):
        self.errors = errors


def _coordinate(value: str, row: int, column: str, low: float, high: float) -> float | None:
    if not value.strip():
        return None
    number = float(value)  # the schema's validation has checked it is a number
    if not math.isfinite(number) or not low <= number <= high:
        raise _RowRefused(
            [
                TableError(
                    row,
                    column,
                    _("%(value)s est hors des bornes (de %(low)s à %(high)s).")
                    % {"value": value, "low": int(low), "high": int(high)},
                )
            ]
        )
    return number


def _find_place(values: dict[str, str], commune: Commune) -> tuple[Place | None, bool]:
    """The place a row describes, and whether it already has its mediation description: the
    place this platform exported under that id; else a mediation place of the same structure
    (pivot) with the same name in the commune; else a place of that name in the commune that
    has no mediation description yet (a place created by hand, described now)."""
    place_id = place_id_from_export_id(values["id"])
    if place_id is not None:
        place = Place.objects.filter(pk=place_id, commune=commune).first()
        if place is not None:
            return place, MediationPlace.objects.filter(place=place).exists()
    mediation = (
        MediationPlace.objects.select_related("place")
        .filter(
            pivot=values["pivot"],
            place__commune=commune,
            place__name__iexact=values["nom"].strip(),
        )
        .order_by("pk")
        .first()
    )
    if mediation is not None:
        return mediation.place, True
    place = (
        Place.objects.filter(commune=commune, name__iexact=values["nom"].strip(), mediation=None)
        .order_by("pk")
        .first()
    )
    return place, False


def _write_row(values: dict[str, str], row: int, kinds: dict[str, PlaceKind]) -> tuple[str, Place]:
    """Create or update the place and its mediation description of one valid row. Raises
    _RowRefused with French messages."""
    insee = values["code_insee"].strip()
    if not insee:
        raise _RowRefused(
            [TableError(row, "code_insee", _("le code INSEE de la commune est nécessaire."))]
        )
    commune = Commune.objects.filter(insee_code=insee).first()
    if commune is None:
        raise _RowRefused(
            [
                TableError(
                    row,
                    "code_insee",
                    _("aucune commune de code INSEE %(code)s n'est chargée sur la plateforme.")
                    % {"code": insee},
                )
            ]
        )
    latitude = _coordinate(values["latitude"], row, "latitude", -90, 90)
    longitude = _coordinate(values["longitude"], row, "longitude", -180, 180)
    place, has_mediation = _find_place(values, commune)
    status = "updated" if place is not None else "created"
    if place is None:
        place = Place(commune=commune, is_public=True)
        place.description = values["presentation_resume"] or values["presentation_detail"]
        place.organisation = Organisation.objects.filter(siret=values["pivot"]).first()
    place.commune = commune
    for column, model_field in PLACE_COLUMNS.items():
        setattr(place, model_field, values[column].strip())
    # Without coordinates, the place sits at its commune's reference point.
    place.latitude = latitude if latitude is not None else commune.latitude
    place.longitude = longitude if longitude is not None else commune.longitude
    place.phone = values["telephone"].strip()
    # Place holds one e-mail address and one website: the file's first ones.
    emails, websites = split_values(values["courriels"]), split_values(values["site_web"])
    place.email = emails[0] if emails else ""
    place.website = websites[0] if websites else ""

    mediation = MediationPlace.objects.get(place=place) if has_mediation else MediationPlace()
    mediation.pivot = values["pivot"].strip()
    # The model holds one mode; a place both fixed and itinerant is exported as itinerant.
    modes = split_values(values["itinerance"])
    mediation.itinerance = (
        MediationPlace.Itinerance.ITINERANT
        if MediationPlace.Itinerance.ITINERANT in modes
        else MediationPlace.Itinerance.FIXED
    )
    for column in MEDIATION_TEXT_COLUMNS:
        setattr(mediation, column, values[column].strip())
    for column in LIST_FIELDS:
        setattr(mediation, column, list(dict.fromkeys(split_values(values[column]))))

    errors = []
    try:
        place.full_clean(exclude=["organisation"])
    except ValidationError as error:
        errors += [
            TableError(row, _COLUMN_OF.get(name, name), message)
            for name, message in _messages(error)
        ]
    try:
        mediation.full_clean(exclude=["place"])
    except ValidationError as error:
        errors += [TableError(row, name, message) for name, message in _messages(error)]
    if errors:
        raise _RowRefused(errors)
    place.save()
    wanted = [kinds[code] for code in ("mediation",) if code in kinds]
    if (
        "France Services" in mediation.dispositif_programmes_nationaux
        and "france_services" in kinds
    ):
        wanted.append(kinds["france_services"])
    place.kinds.add(*wanted)
    mediation.place = place
    mediation.save()
    return status, place


def mediation_places_import(*, actor, csv_file: IO[bytes] | bytes) -> MediationImportReport:
    """Import a CSV file of the national schema of mediation places (v1.0.2).

    Staff of the Département only (PermissionDenied otherwise); `actor=None` is the command
    line (`manage.py import_mediation_places`), run by whoever administers the server — views
    always pass the request's user, anonymous included. The file is first validated
    against the schema with frictionless; then each row creates or updates a place and its
    mediation description, matched by the id this platform exported, else by structure
    (pivot), name and commune. A row is refused (with a French message naming its line) when
    its commune (code_insee) is not loaded here, when the same place appears twice, or when a
    value does not fit the platform. All or nothing: with any refusal nothing is written.
    Never raises for a bad file: its problems are in the report."""
    if actor is not None and not can_import_places(actor):
        raise PermissionDenied(_("Seuls les agents du Département peuvent importer des lieux."))
    report = MediationImportReport()
    text, problem = _decode(_read(csv_file))
    if problem is not None:
        report.refused.append(problem)
        return report
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        records = list(reader)
    except csv.Error:
        report.refused.append(
            TableError(
                None, "", _("Fichier illisible : un CSV séparé par des virgules est attendu.")
            )
        )
        return report
    problem = header_problem([name.strip() for name in header])
    if problem is not None:
        report.refused.append(problem)
        return report
    if not any(records):
        report.refused.append(TableError(None, "", _("Le fichier ne contient aucun lieu.")))
        return report
    if len(records) > MAX_ROWS:
        report.refused.append(
            TableError(
                None,
                "",
                _("Trop de lignes (%(max)s au plus) : découpez le fichier.") % {"max": MAX_ROWS},
            )
        )
        return report
    report.refused.extend(validate_table(text.encode("utf-8")))
    if report.refused:
        return report

    kinds = {
        kind.code: kind
        for kind in PlaceKind.objects.filter(code__in=["mediation", "france_services"])
    }
    seen: dict[int, int] = {}
    try:
        with transaction.atomic():
            for number, record in enumerate(records, start=2):
                # Short lines were refused by the validation; padding keeps this loop total.
                padded = record + [""] * (len(header) - len(record))
                values: dict[str, Any] = dict(zip(header, padded, strict=False))
                try:
                    with transaction.atomic():
                        status, place = _write_row(values, number, kinds)
                except _RowRefused as refusal:
                    report.refused.extend(refusal.errors)
                    continue
                if place.pk in seen:
                    report.refused.append(
                        TableError(
                            number,
                            "",
                            _("ce lieu figure déjà à la ligne %(row)s du fichier.")
                            % {"row": seen[place.pk]},
                        )
                    )
                    continue
                seen[place.pk] = number
                # A place created by an earlier line and found again counts once.
                imported = ImportedRow(number, place.pk, place.name)
                (report.created if status == "created" else report.updated).append(imported)
            if report.refused:
                raise _Rollback
            audit_log(
                actor=actor,
                action="mediation.places_import",
                data={
                    "created": [row.place_id for row in report.created],
                    "updated": [row.place_id for row in report.updated],
                },
            )
    except _Rollback:
        report.applied = False
        return report
    report.applied = True
    return report


# The schema's pattern of `pivot`; this platform accepts its two real forms only.
PIVOT_PATTERN = re.compile(r"^[a-zA-Z0-9]{9,14}$")
RNA_PATTERN = re.compile(r"^W[0-9]{9}$")
# The fields of the national schema a structure describes (mediation_place_describe).
DESCRIPTION_TEXT_FIELDS = (
    "pivot",
    "itinerance",
    "presentation_resume",
    "presentation_detail",
    "autres_formations_labels",
    "fiche_acces_libre",
    "prise_rdv",
)
DESCRIPTION_FIELDS = DESCRIPTION_TEXT_FIELDS + LIST_FIELDS


def pivot_error(value: str) -> str | None:
    """Why `value` is not a structure's SIRET (14 digits, valid check key) or RNA number
    (W and 9 digits), in French; None when it is one."""
    if not PIVOT_PATTERN.match(value):
        return _(
            "Le SIRET ou RNA « %(value)s » n'a pas la forme attendue : 14 chiffres (SIRET) ou "
            "W suivi de 9 chiffres (RNA), sans espace."
        ) % {"value": value}
    if value.isdigit() and len(value) == 14:
        if not stdnum_siret.is_valid(value):
            return _(
                "Le SIRET « %(value)s » n'est pas valide : sa clé de contrôle ne correspond pas."
            ) % {"value": value}
        return None
    if RNA_PATTERN.match(value):
        return None
    return _(
        "« %(value)s » n'est ni un SIRET (14 chiffres) ni un numéro RNA (W suivi de 9 chiffres)."
    ) % {"value": value}


def _allowed_values(name: str) -> tuple[str, ...]:
    return tuple(TYPOLOGIE) if name == "typologie" else ENUMERATED_FIELDS[name]


def mediation_place_describe(*, actor, place: Place, **fields) -> MediationPlace:
    """Write the national-schema description of `place` (creating its MediationPlace when it
    has none). The structure operating the place (Place.organisation) describes it: its
    mediators, or the Département's staff; PermissionDenied otherwise.

    `fields` are among DESCRIPTION_FIELDS (TypeError for another name); those not given keep
    their value. Multi-valued fields are lists of the labels of mediation/vocabulary.py
    (typologie: its codes). Raises ValidationError (French messages, by field) when the pivot
    is not a SIRET or RNA number, no service is given, a value is not in the schema's list or
    a text is too long; then nothing is written."""
    if not can_describe_place(actor, place):
        raise PermissionDenied(
            _("Seuls les médiateurs de la structure du lieu peuvent décrire ce lieu.")
        )
    unknown = set(fields) - set(DESCRIPTION_FIELDS)
    if unknown:
        raise TypeError(f"Champs inconnus : {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        locked = Place.objects.select_for_update().get(pk=place.pk)
        mediation = MediationPlace.objects.filter(place=locked).first()
        created = mediation is None
        if created:
            mediation = MediationPlace(place=locked)
        for name in DESCRIPTION_TEXT_FIELDS:
            if name in fields:
                value = fields[name]
                setattr(mediation, name, (value or "").strip())
        if RNA_PATTERN.match(mediation.pivot.upper()):
            mediation.pivot = mediation.pivot.upper()  # "w151000123" → "W151000123"
        for name in LIST_FIELDS:
            if name not in fields:
                continue
            allowed = _allowed_values(name)
            values = list(dict.fromkeys(fields[name] or []))
            wrong = [value for value in values if value not in allowed]
            if wrong:
                errors.setdefault(name, []).append(
                    _("Valeur(s) hors de la liste du schéma national : %(values)s.")
                    % {"values": ", ".join(wrong)}
                )
            # Kept in the order of the schema's list.
            setattr(mediation, name, [value for value in allowed if value in values])
        if not mediation.pivot:
            errors.setdefault("pivot", []).append(
                _("Indiquez le SIRET ou le numéro RNA de la structure qui gère le lieu.")
            )
        else:
            problem = pivot_error(mediation.pivot)
            if problem:
                errors.setdefault("pivot", []).append(problem)
        if not mediation.services:
            errors.setdefault("services", []).append(
                _("Cochez au moins un service proposé dans le lieu.")
            )
        try:
            mediation.full_clean(exclude=["place", *errors])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        mediation.save()
        audit_log(
            actor=actor,
            action="mediation.place_describe",
            target=mediation,
            data={
                "place": locked.pk,
                "created": created,
                "fields": sorted(fields),
            },
        )
    return mediation
