"""Writing the cost ledger of the techno-economic model (CostEntry) and the dated transport
tariffs that price the trips a teleconsultation avoids (TransportTariff).

Who: a site's costs, its coordinators and the Département's telehealth staff; the network's
costs (no site) and the transport tariffs, staff only. Every refusal is a French message and
changes nothing; every write is audited. How entries are spread over months is said in
selectors/economics.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.audit import audit_log

from ..models import CostEntry, Site, TransportMode, TransportTariff
from ..perms import coordinated_site_ids, is_telehealth_staff

MAX_AMOUNT = Decimal("99999999.99")  # CostEntry.amount: 10 digits, 2 decimals
MAX_DEPRECIATION_MONTHS = 600  # 50 years
MAX_FLAT_FEE = Decimal("99999.99")
MAX_PER_KM = Decimal("999.999")


class CostInputError(BookingRuleError):
    """A refusal that concerns one field of the form (`field`), so the page can put the
    message next to it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _day(value: dt.date | None) -> str:
    return date_format(value, "d/m/Y") if value else ""


def _may_edit_costs(actor, site: Site | None) -> bool:
    if is_telehealth_staff(actor):
        return True
    return site is not None and site.pk in coordinated_site_ids(actor)


def _require_editor(actor, site: Site | None) -> None:
    if not _may_edit_costs(actor, site):
        if site is None:
            raise BookingForbidden(
                _("Les coûts du réseau sont tenus par l'équipe télémédecine du Département.")
            )
        raise BookingForbidden(
            _("Seuls les coordinateurs du site et l'équipe télémédecine tiennent ses coûts.")
        )


def _site(site: Site | int | str | None) -> Site | None:
    if site is None or isinstance(site, Site):
        return site
    try:
        found = Site.objects.filter(pk=int(site)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise CostInputError(_("Site inconnu : choisissez un site de la liste."), "site")
    return found


def _amount(value) -> Decimal:
    if value is None or value == "":
        raise CostInputError(_("Indiquez le montant en euros."), "amount")
    try:
        amount = Decimal(str(value).replace(",", ".").replace(" ", "").replace("\u202f", ""))
    except (InvalidOperation, ValueError):
        raise CostInputError(_("Le montant doit être un nombre d'euros."), "amount") from None
    if not amount.is_finite():
        raise CostInputError(_("Le montant doit être un nombre d'euros."), "amount")
    if amount <= 0:
        raise CostInputError(
            _(
                "Le montant doit être supérieur à zéro. Une subvention se saisit aussi en "
                "positif : elle vient en déduction des coûts."
            ),
            "amount",
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise CostInputError(
            _("Le montant s'écrit en euros et centimes (deux chiffres après la virgule au plus)."),
            "amount",
        )
    if amount > MAX_AMOUNT:
        raise CostInputError(_("Ce montant est trop élevé."), "amount")
    return amount


def _clean_entry(
    *,
    category: str,
    label: str,
    amount,
    recurrence: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    depreciation_months: int | None,
    funder: str,
) -> dict:
    """The entry's values, checked; CostInputError (French, with its field) otherwise."""
    if category not in CostEntry.Category.values:
        raise CostInputError(_("Catégorie inconnue : choisissez-en une dans la liste."), "category")
    if recurrence not in CostEntry.Recurrence.values:
        raise CostInputError(
            _("Périodicité inconnue : ponctuel, chaque mois ou chaque année."), "recurrence"
        )
    label = " ".join((label or "").split())
    funder = " ".join((funder or "").split())
    if not label:
        raise CostInputError(
            _("Indiquez un libellé (par exemple « Chariot de téléconsultation »)."), "label"
        )
    if len(label) > 200:
        raise CostInputError(_("Le libellé dépasse 200 caractères."), "label")
    if len(funder) > 200:
        raise CostInputError(_("Le nom du financeur dépasse 200 caractères."), "funder")
    amount = _amount(amount)
    if starts_on is None:
        raise CostInputError(_("Indiquez la date (ou le début)."), "starts_on")
    if ends_on is not None and ends_on < starts_on:
        raise CostInputError(
            _("La fin (%(end)s) ne peut pas précéder le début (%(start)s).")
            % {"end": _day(ends_on), "start": _day(starts_on)},
            "ends_on",
        )
    if depreciation_months is not None:
        if recurrence != CostEntry.Recurrence.ONE_OFF:
            raise CostInputError(
                _(
                    "L'amortissement ne s'applique qu'à une dépense ponctuelle (un achat, ou une "
                    "subvention qui le finance), pas à un coût qui revient chaque mois ou chaque "
                    "année : laissez la durée d'amortissement vide."
                ),
                "depreciation_months",
            )
        try:
            depreciation_months = int(depreciation_months)
        except (TypeError, ValueError):
            raise CostInputError(
                _("La durée d'amortissement est un nombre de mois."), "depreciation_months"
            ) from None
        if not 1 <= depreciation_months <= MAX_DEPRECIATION_MONTHS:
            raise CostInputError(
                _("La durée d'amortissement va de 1 à %(max)s mois.")
                % {"max": MAX_DEPRECIATION_MONTHS},
                "depreciation_months",
            )
    if recurrence == CostEntry.Recurrence.ONE_OFF and ends_on is not None:
        raise CostInputError(
            _(
                "Une dépense ponctuelle n'a pas de date de fin. Pour la répartir sur plusieurs "
                "mois, indiquez une durée d'amortissement."
            ),
            "ends_on",
        )
    return {
        "category": category,
        "label": label,
        "funder": funder,
        "amount": amount,
        "recurrence": recurrence,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "depreciation_months": depreciation_months,
    }


def _audit_data(entry: CostEntry) -> dict:
    return {
        "site": entry.site_id,
        "category": entry.category,
        "amount": str(entry.amount),
        "recurrence": entry.recurrence,
        "starts_on": entry.starts_on.isoformat(),
        "ends_on": entry.ends_on.isoformat() if entry.ends_on else None,
        "depreciation_months": entry.depreciation_months,
    }


def cost_record(
    *,
    actor,
    site: Site | int | None,
    category: str,
    label: str,
    amount: Decimal | str,
    recurrence: str = CostEntry.Recurrence.ONE_OFF,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    depreciation_months: int | None = None,
    funder: str = "",
) -> CostEntry:
    """Record a cost or a grant of `site` (None: the network's own, shared among the sites in
    service). Refuses in French, recording nothing: an unknown site, someone who may not keep
    this ledger, an amount not above zero, an end before the start, a depreciation period on a
    recurring cost, an end date on a one-off expense."""
    site = _site(site)
    _require_editor(actor, site)
    values = _clean_entry(
        category=category,
        label=label,
        amount=amount,
        recurrence=recurrence,
        starts_on=starts_on,
        ends_on=ends_on,
        depreciation_months=depreciation_months,
        funder=funder,
    )
    with transaction.atomic():
        entry = CostEntry.objects.create(site=site, recorded_by=actor, **values)
        audit_log(
            actor=actor, action="telehealth.cost_record", target=entry, data=_audit_data(entry)
        )
    return entry


def cost_update(
    *,
    actor,
    entry: CostEntry,
    category: str,
    label: str,
    amount: Decimal | str,
    recurrence: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    depreciation_months: int | None = None,
    funder: str = "",
) -> CostEntry:
    """Change an entry (its site stays). Same checks and refusals as cost_record."""
    _require_editor(actor, entry.site)
    values = _clean_entry(
        category=category,
        label=label,
        amount=amount,
        recurrence=recurrence,
        starts_on=starts_on,
        ends_on=ends_on,
        depreciation_months=depreciation_months,
        funder=funder,
    )
    with transaction.atomic():
        entry = CostEntry.objects.select_for_update().get(pk=entry.pk)
        before = _audit_data(entry)
        for name, value in values.items():
            setattr(entry, name, value)
        entry.recorded_by = actor
        entry.save()
        audit_log(
            actor=actor,
            action="telehealth.cost_update",
            target=entry,
            data={"before": before, "after": _audit_data(entry)},
        )
    return entry


def cost_delete(*, actor, entry: CostEntry) -> None:
    """Remove an entry recorded by mistake (the audit log keeps what it said)."""
    _require_editor(actor, entry.site)
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="telehealth.cost_delete",
            target=entry,
            data=_audit_data(entry) | {"label": entry.label},
        )
        entry.delete()


# --- transport tariffs -------------------------------------------------------------------------


def transport_period_label(tariff: TransportTariff) -> str:
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


def _price(value, *, field: str, places: str, maximum: Decimal, label: str) -> Decimal:
    if value is None or value == "":
        value = "0"
    try:
        price = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError):
        raise CostInputError(
            _("%(label)s doit être un montant en euros.") % {"label": label}, field
        ) from None
    if not price.is_finite() or price < 0:
        raise CostInputError(_("%(label)s ne peut pas être négatif.") % {"label": label}, field)
    if price != price.quantize(Decimal(places)):
        raise CostInputError(
            _("%(label)s a trop de chiffres après la virgule.") % {"label": label}, field
        )
    if price > maximum:
        raise CostInputError(_("%(label)s est trop élevé.") % {"label": label}, field)
    return price


def transport_tariff_save(
    *,
    actor,
    tariff: TransportTariff | None = None,
    mode: str,
    flat_fee: Decimal | str,
    per_km: Decimal | str,
    valid_from: dt.date | None,
    valid_until: dt.date | None = None,
    source: str = "",
) -> TransportTariff:
    """Create a transport tariff (tariff=None) or edit one. Staff only. Refuses in French,
    changing nothing: an unknown mode, a negative or empty price, an end before the start, a
    period overlapping another of the same mode (the mode's rows are locked while checking, so
    two editors cannot slip overlapping periods in at once)."""
    if not is_telehealth_staff(actor):
        raise BookingForbidden(
            _("Les tarifs de transport sont tenus par l'équipe télémédecine du Département.")
        )
    if mode not in TransportMode.values:
        raise CostInputError(_("Mode de transport inconnu."), "mode")
    flat_fee = _price(
        flat_fee, field="flat_fee", places="0.01", maximum=MAX_FLAT_FEE, label=_("Le forfait")
    )
    per_km = _price(
        per_km, field="per_km", places="0.001", maximum=MAX_PER_KM, label=_("Le prix du kilomètre")
    )
    if flat_fee == 0 and per_km == 0:
        raise CostInputError(
            _("Indiquez au moins un forfait ou un prix du kilomètre supérieur à zéro."), "per_km"
        )
    if valid_from is None:
        raise CostInputError(_("Indiquez la date d'entrée en vigueur."), "valid_from")
    if valid_until is not None and valid_until < valid_from:
        raise CostInputError(
            _("La date de fin ne peut pas précéder la date d'entrée en vigueur."), "valid_until"
        )
    source = (source or "").strip()
    if len(source) > 300:
        raise CostInputError(_("La source dépasse 300 caractères."), "source")

    with transaction.atomic():
        siblings = list(
            TransportTariff.objects.select_for_update().filter(mode=mode).order_by("valid_from")
        )
        before = None
        if tariff is not None:
            tariff = TransportTariff.objects.select_for_update().get(pk=tariff.pk)
            before = {
                "mode": tariff.mode,
                "flat_fee": str(tariff.flat_fee),
                "per_km": str(tariff.per_km),
                "valid_from": tariff.valid_from.isoformat(),
                "valid_until": tariff.valid_until.isoformat() if tariff.valid_until else None,
            }
        for other in siblings:
            if tariff is not None and other.pk == tariff.pk:
                continue
            if _overlaps(valid_from, valid_until, other.valid_from, other.valid_until):
                raise CostInputError(
                    _(
                        "Cette période chevauche celle du tarif « %(mode)s » %(period)s. "
                        "Indiquez d'abord une date de fin à l'autre tarif, ou changez les dates."
                    )
                    % {"mode": other.get_mode_display(), "period": transport_period_label(other)},
                    "valid_from",
                )
        if tariff is None:
            tariff = TransportTariff()
        tariff.mode = mode
        tariff.flat_fee = flat_fee
        tariff.per_km = per_km
        tariff.valid_from = valid_from
        tariff.valid_until = valid_until
        tariff.source = source
        tariff.save()
        audit_log(
            actor=actor,
            action=(
                "telehealth.transport_tariff_create"
                if before is None
                else "telehealth.transport_tariff_edit"
            ),
            target=tariff,
            data={
                "before": before,
                "after": {
                    "mode": mode,
                    "flat_fee": str(flat_fee),
                    "per_km": str(per_km),
                    "valid_from": valid_from.isoformat(),
                    "valid_until": valid_until.isoformat() if valid_until else None,
                },
            },
        )
    return tariff
