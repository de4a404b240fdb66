"""Writing the dated tariff tables of acts (ActTariff). The staff of the Département keep them
in line with the official schedule; the starting values are loaded by a data migration with
their source and must be checked.

A code's periods never overlap, so that exactly one tariff is in force on a given day. An act
copies the amount of its tariff when it is coded: editing a tariff never changes the past."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.audit import audit_log

from ..models import ActRole, ActTariff
from ..perms import is_telehealth_staff

CODE_PATTERN = re.compile(r"^[A-Z0-9]{2,8}$")
MAX_AMOUNT = Decimal("99999.99")


def _day(value: dt.date | None) -> str:
    return date_format(value, "d/m/Y") if value else ""


def period_label(tariff: ActTariff) -> str:
    """« du 01/01/2026 au 31/12/2026 », « à partir du 01/01/2026 »."""
    if tariff.valid_until is None:
        return _("à partir du %(start)s") % {"start": _day(tariff.valid_from)}
    return _("du %(start)s au %(end)s") % {
        "start": _day(tariff.valid_from),
        "end": _day(tariff.valid_until),
    }


def _overlaps(
    start: dt.date, end: dt.date | None, other_start: dt.date, other_end: dt.date | None
) -> bool:
    return (other_end is None or start <= other_end) and (end is None or other_start <= end)


def tariff_save(
    *,
    actor,
    tariff: ActTariff | None = None,
    code: str,
    label: str,
    role: str,
    amount: Decimal | str,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    yearly_cap_per_patient: int | None = None,
    source: str = "",
) -> ActTariff:
    """Create a tariff (tariff=None) or edit one. Staff only. Refuses in French, changing
    nothing: an unknown role, a negative amount, an end before the start, a period that
    overlaps another of the same code (the code's rows are locked while checking, so two
    editors cannot slip overlapping periods in at once), a code billed by another role on its
    other periods, and a change of code or role of a tariff that acts already use."""
    if not is_telehealth_staff(actor):
        raise BookingForbidden(_("Les tarifs sont tenus par l'équipe télémédecine du Département."))
    code = (code or "").strip().upper()
    label = " ".join((label or "").split())
    source = (source or "").strip()
    if not CODE_PATTERN.match(code):
        raise BookingRuleError(
            _("Le code d'acte s'écrit en 2 à 8 lettres majuscules ou chiffres (par exemple TCG).")
        )
    if not label:
        raise BookingRuleError(_("Indiquez le libellé de l'acte."))
    if role not in ActRole.values:
        raise BookingRuleError(_("Choisissez qui facture cet acte."))
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise BookingRuleError(_("Le tarif doit être un montant en euros.")) from None
    if amount < 0:
        raise BookingRuleError(_("Le tarif ne peut pas être négatif."))
    if amount > MAX_AMOUNT:
        raise BookingRuleError(_("Ce tarif est trop élevé pour un acte."))
    if valid_from is None:
        raise BookingRuleError(_("Indiquez la date d'entrée en vigueur."))
    if valid_until is not None and valid_until < valid_from:
        raise BookingRuleError(_("La date de fin ne peut pas précéder la date de début."))
    if yearly_cap_per_patient is not None and not 1 <= int(yearly_cap_per_patient) <= 366:
        raise BookingRuleError(_("Le plafond annuel doit être compris entre 1 et 366 actes."))
    if len(label) > 200 or len(source) > 300:
        raise BookingRuleError(_("Le libellé (200) ou la source (300 caractères) est trop long."))

    with transaction.atomic():
        # Serialise the editors of one code: lock its periods (and, on PostgreSQL, the code
        # itself, for a code that has no row yet), then read them again: in READ COMMITTED a
        # new statement sees what the previous lock holder committed.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"telehealth.tariff.{code}"]
                )
        list(ActTariff.objects.select_for_update().filter(code=code).values_list("pk"))
        siblings = list(ActTariff.objects.filter(code=code).order_by("valid_from"))
        before = None
        if tariff is not None:
            tariff = ActTariff.objects.select_for_update().get(pk=tariff.pk)
            before = {
                "code": tariff.code,
                "role": tariff.role,
                "amount": str(tariff.amount),
                "valid_from": tariff.valid_from.isoformat(),
                "valid_until": tariff.valid_until.isoformat() if tariff.valid_until else None,
                "cap": tariff.yearly_cap_per_patient,
            }
            if (tariff.code != code or tariff.role != role) and tariff.acts.exists():
                raise BookingRuleError(
                    _(
                        "Ce tarif a déjà servi à coder des actes : son code et son rôle ne se "
                        "changent plus. Terminez sa période et créez un nouveau tarif."
                    )
                )
        others = [t for t in siblings if tariff is None or t.pk != tariff.pk]
        for other in others:
            if other.role != role:
                raise BookingRuleError(
                    _(
                        "Le code %(code)s est facturé par « %(role)s » sur ses autres périodes : "
                        "un code garde le même rôle."
                    )
                    % {"code": code, "role": other.get_role_display()}
                )
            if _overlaps(valid_from, valid_until, other.valid_from, other.valid_until):
                raise BookingRuleError(
                    _(
                        "Cette période chevauche celle du tarif %(code)s %(period)s "
                        "(%(amount)s €). Terminez d'abord l'autre période ou changez les dates."
                    )
                    % {
                        "code": code,
                        "period": period_label(other),
                        "amount": f"{other.amount:.2f}".replace(".", ","),
                    }
                )
        if tariff is None:
            tariff = ActTariff()
        tariff.code = code
        tariff.label = label
        tariff.role = role
        tariff.amount = amount
        tariff.valid_from = valid_from
        tariff.valid_until = valid_until
        tariff.yearly_cap_per_patient = (
            int(yearly_cap_per_patient) if yearly_cap_per_patient is not None else None
        )
        tariff.source = source
        tariff.updated_by = actor
        tariff.save()
        audit_log(
            actor=actor,
            action="telehealth.tariff_create" if before is None else "telehealth.tariff_edit",
            target=tariff,
            data={
                "before": before,
                "after": {
                    "code": code,
                    "role": role,
                    "amount": str(amount),
                    "valid_from": valid_from.isoformat(),
                    "valid_until": valid_until.isoformat() if valid_until else None,
                    "cap": tariff.yearly_cap_per_patient,
                },
            },
        )
    return tariff
