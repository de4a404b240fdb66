"""Writing the priority zones (PriorityZoneCommune): the telehealth staff record the ARS's
zoning from the day it takes effect. The rows already in force are never rewritten: communes
leaving have their row closed the day before, communes entering get a new row, so the
eligibility of a past consultation keeps reading the zoning of its day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.audit import audit_log
from cybercantal.territory.models import Commune

from ..models import PriorityZoneCommune
from ..perms import is_telehealth_staff
from ..selectors.zoning import ONE_DAY, latest_zoning_start

MAX_SOURCE_LENGTH = 300
# Zonings of the ARS date from 2017 on; an earlier day is a typing slip (and day one of the
# calendar has no eve to close rows on).
EARLIEST_START = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class ZoningSaved:
    valid_from: dt.date
    entered: tuple[str, ...]
    left: tuple[str, ...]
    stayed: int


def _day(value: dt.date) -> str:
    return date_format(value, "d/m/Y")


def _lock_zoning() -> None:
    """Serialise the editors of the zoning: on PostgreSQL an advisory lock (it also covers a
    first zoning, when there is no row to lock yet), then the rows themselves."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["telehealth.zoning"])
    list(PriorityZoneCommune.objects.select_for_update().values_list("pk"))


def zoning_save(
    *, actor, communes: Iterable[Commune], valid_from: dt.date | None, source: str
) -> ZoningSaved:
    """From `valid_from` on, exactly `communes` are in a priority zone. Staff only; one
    transaction. Refuses in French, changing nothing: no commune, a commune outside the
    territory, no date or no source, a date before the latest zoning's start (the past is
    kept as it was), and a zoning that changes nothing.

    The same start as the latest zoning corrects it: a commune it had brought in and that
    leaves again loses that row; a commune it had taken out and that comes back keeps its
    row as if it had never left."""
    if not is_telehealth_staff(actor):
        raise BookingForbidden(_("Le zonage est tenu par l'équipe télémédecine du Département."))
    communes = {commune.pk: commune for commune in communes}
    source = " ".join((source or "").split())
    if valid_from is None:
        raise BookingRuleError(_("Indiquez la date à laquelle ce zonage prend effet."))
    if valid_from < EARLIEST_START:
        raise BookingRuleError(
            _("Un zonage ne peut pas prendre effet avant le %(day)s : vérifiez l'année.")
            % {"day": _day(EARLIEST_START)}
        )
    if not source:
        raise BookingRuleError(
            _("Indiquez la source du zonage, par exemple l'arrêté de l'ARS et sa date.")
        )
    if len(source) > MAX_SOURCE_LENGTH:
        raise BookingRuleError(_("La source ne doit pas dépasser 300 caractères."))
    if not communes:
        raise BookingRuleError(_("Indiquez au moins une commune en zone prioritaire."))
    territory = settings.CYBERCANTAL_TERRITORY_CODE
    outside = sorted(c.name for c in communes.values() if c.department_code != territory)
    if outside:
        raise BookingRuleError(
            _("Ces communes ne sont pas dans le territoire : %(names)s.")
            % {"names": ", ".join(outside)}
        )

    with transaction.atomic():
        _lock_zoning()
        latest = latest_zoning_start()
        if latest is not None and valid_from < latest:
            raise BookingRuleError(
                _(
                    "Le dernier zonage enregistré prend effet le %(latest)s : un nouveau zonage "
                    "ne peut pas commencer avant cette date (l'historique est conservé tel "
                    "quel). Choisissez le %(latest)s ou une date postérieure."
                )
                % {"latest": _day(latest)}
            )
        # From the latest start on, only open rows can be in force (every closed row ends
        # before it), so the zoning in force from `valid_from` is the open rows.
        open_rows = {
            row.commune_id: row
            for row in PriorityZoneCommune.objects.filter(
                commune__department_code=territory, valid_until__isnull=True
            ).select_related("commune")
        }
        # Rows a correction of the same start had closed the day before: a commune coming back
        # reopens its row rather than starting a new one.
        closed_eve = {
            row.commune_id: row
            for row in PriorityZoneCommune.objects.filter(
                commune__department_code=territory, valid_until=valid_from - ONE_DAY
            )
        }
        leaving = [row for pk, row in open_rows.items() if pk not in communes]
        entering = [c for pk, c in communes.items() if pk not in open_rows]
        restamped = [
            row
            for pk, row in open_rows.items()
            if pk in communes and row.valid_from == valid_from and row.source != source
        ]
        if not leaving and not entering and not restamped:
            raise BookingRuleError(
                _(
                    "Ce zonage est identique à celui en vigueur le %(day)s : rien n'a été "
                    "enregistré."
                )
                % {"day": _day(valid_from)}
            )
        for row in leaving:
            if row.valid_from == valid_from:
                row.delete()  # brought in by the zoning being corrected, never in force
            else:
                row.valid_until = valid_from - ONE_DAY
                row.updated_by = actor
                row.save(update_fields=["valid_until", "updated_by", "updated_at"])
        for row in restamped:
            row.source = source
            row.updated_by = actor
            row.save(update_fields=["source", "updated_by", "updated_at"])
        new_rows = []
        for commune in entering:
            row = closed_eve.get(commune.pk)
            if row is not None:
                row.valid_until = None
                row.updated_by = actor
                row.save(update_fields=["valid_until", "updated_by", "updated_at"])
            else:
                new_rows.append(
                    PriorityZoneCommune(
                        commune=commune, valid_from=valid_from, source=source, updated_by=actor
                    )
                )
        PriorityZoneCommune.objects.bulk_create(new_rows)
        saved = ZoningSaved(
            valid_from=valid_from,
            entered=tuple(sorted(c.insee_code for c in entering)),
            left=tuple(sorted(row.commune.insee_code for row in leaving)),
            stayed=len(communes) - len(entering),
        )
        audit_log(
            actor=actor,
            action="telehealth.zoning_save",
            data={
                "valid_from": valid_from.isoformat(),
                "source": source,
                "entered": list(saved.entered),
                "left": list(saved.left),
                "in_zone": len(communes),
            },
        )
    return saved
