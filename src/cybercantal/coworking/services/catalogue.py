"""The offers of a place, and of the network: creating, changing, withdrawing from sale, putting
back on sale, deleting.

Guarantees:

- A place's offers are written by a manager of the place (or the Département's staff); the
  network's offers (valid in every place, `tiers_lieu` empty) by the Département's staff only.
  The check comes first; a refusal is a CoworkingForbidden (403) in French.
- An offer is consistent with its kind (KIND_RULES): a day gives one day of credit, a
  half-day half a day, a book at least one day, a subscription is unlimited during its
  validity (or counted), a meeting room's hourly price (ROOM_HOUR) is a price without credit,
  reduced rate nor funder, a network pass is for the network, never for one place; a
  discovery offer names its funder; a reduced rate says for whom; the VAT rate is one of the
  French rates the invoices accept (invoicing.amounts.ALLOWED_VAT_RATES). Otherwise a
  CoworkingRuleError (422) in French, and nothing is written.
- A pass keeps the price, credits and validity it was sold with (Pass.price_cents, its ledger,
  its dates): changing an offer only changes future sales. The kind of an offer already sold
  does not change (its passes would read as something else).
- An offer with passes is never deleted: it is withdrawn from sale (`is_active`), and can be
  put back on sale. An offer never sold may be deleted.
- Each write is one transaction with its audit row (core.audit)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log
from cybercantal.territory.models import Organisation

from ..errors import CoworkingForbidden, CoworkingRuleError
from ..invoicing.amounts import ALLOWED_VAT_RATES, normalize_vat_rate
from ..models import Offer, TiersLieu
from ..perms import is_network_staff, is_place_manager

Kind = Offer.Kind

MAX_PRICE_CENTS = 10_000_000  # 100 000 €: beyond, a typing mistake
MAX_VALIDITY_DAYS = 3 * 366
MAX_HALF_DAYS = 2 * 366
MIN_MONTHLY_VALIDITY_DAYS = 28
LABEL_MAX_LENGTH = Offer._meta.get_field("label").max_length
REDUCED_FOR_MAX_LENGTH = Offer._meta.get_field("reduced_for").max_length
# The kinds the network sells (valid in every place of the network).
NETWORK_KINDS = (Kind.NETWORK_PASS, Kind.DISCOVERY)


@dataclass(frozen=True)
class KindRule:
    """What an offer of a kind gives by default, and what it may give: `half_days` fixed (None:
    free within [min_half_days, MAX_HALF_DAYS], 0 allowed only if `unlimited_allowed`)."""

    half_days: int
    validity_days: int
    fixed_half_days: bool = False
    min_half_days: int = 1
    unlimited_allowed: bool = False
    min_validity_days: int = 1
    # A price, not a pass (the hour of meeting room): no credit, no validity, no reduced rate.
    price_only: bool = False


KIND_RULES: dict[str, KindRule] = {
    Kind.DAY: KindRule(half_days=2, validity_days=1, fixed_half_days=True),
    Kind.HALF_DAY: KindRule(half_days=1, validity_days=1, fixed_half_days=True),
    Kind.BOOK: KindRule(half_days=20, validity_days=365, min_half_days=2),
    Kind.MONTHLY: KindRule(
        half_days=0,
        validity_days=30,
        unlimited_allowed=True,
        min_validity_days=MIN_MONTHLY_VALIDITY_DAYS,
    ),
    Kind.NETWORK_PASS: KindRule(half_days=20, validity_days=365, min_half_days=1),
    Kind.DISCOVERY: KindRule(half_days=2, validity_days=60, min_half_days=1),
    Kind.ROOM_HOUR: KindRule(half_days=0, validity_days=1, unlimited_allowed=True, price_only=True),
}


def kind_defaults(kind: str) -> dict:
    """The credits (half-days) and validity an offer of `kind` gets when none are given."""
    rule = KIND_RULES.get(kind)
    if rule is None:
        return {}
    return {"half_days": rule.half_days, "validity_days": rule.validity_days}


def network_operators():
    """Who may invoice a network offer: the Département (organisations of that kind)."""
    return Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).order_by("name")


# --- Checks -----------------------------------------------------------------------------------


def _check_may_write(actor, tiers_lieu: TiersLieu | None) -> None:
    if tiers_lieu is None:
        if not is_network_staff(actor):
            raise CoworkingForbidden(
                _("Seuls les agents du Département gèrent les offres valables dans tout le réseau.")
            )
    elif not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du tiers-lieu peut gérer ses offres."))


def _checked(tiers_lieu: TiersLieu | None, fields: dict) -> dict:
    """The offer's fields once every rule holds (vat_rate normalised), or a French refusal."""
    label = (fields.get("label") or "").strip()
    if not label:
        raise CoworkingRuleError(_("Donnez un intitulé à l'offre."))
    if len(label) > LABEL_MAX_LENGTH:
        raise CoworkingRuleError(
            _("L'intitulé compte %(max)d caractères au plus.") % {"max": LABEL_MAX_LENGTH}
        )
    kind = fields.get("kind")
    rule = KIND_RULES.get(kind)
    if rule is None:
        raise CoworkingRuleError(_("Choisissez le type de l'offre."))
    if tiers_lieu is None and kind not in NETWORK_KINDS:
        raise CoworkingRuleError(
            _("Une offre valable dans tout le réseau est un pass réseau ou une journée découverte.")
        )
    if tiers_lieu is not None and kind == Kind.NETWORK_PASS:
        raise CoworkingRuleError(
            _(
                "Un pass réseau vaut dans tout le réseau : il ne se crée pas pour un seul lieu. "
                "Demandez-le au Département, ou choisissez un carnet de journées."
            )
        )
    price = fields.get("price_cents")
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        raise CoworkingRuleError(_("Indiquez un prix positif ou nul, en euros."))
    if price > MAX_PRICE_CENTS:
        raise CoworkingRuleError(_("Ce prix est trop élevé."))
    vat_rate = normalize_vat_rate(fields.get("vat_rate"))
    if vat_rate is None:
        rates = ", ".join(f"{r.normalize():f}".replace(".", ",") for r in ALLOWED_VAT_RATES)
        raise CoworkingRuleError(
            _("Le taux de TVA doit être l'un des taux français : %(rates)s %%.") % {"rates": rates}
        )
    half_days = fields.get("half_days")
    validity = fields.get("validity_days")
    if not isinstance(half_days, int) or half_days < 0 or half_days > MAX_HALF_DAYS:
        raise CoworkingRuleError(
            _("Le crédit va de 0 à %(max)d journées.") % {"max": MAX_HALF_DAYS // 2}
        )
    if not isinstance(validity, int) or not 1 <= validity <= MAX_VALIDITY_DAYS:
        raise CoworkingRuleError(
            _("La validité va de 1 à %(max)d jours.") % {"max": MAX_VALIDITY_DAYS}
        )
    if rule.price_only:
        _check_price_only(half_days, fields)
        validity = rule.validity_days  # a price has no validity: the column wants one
    _check_kind(kind, rule, half_days, validity)
    consumed_on = fields.get("consumed_on") or Offer.ConsumedOn.BOOKING
    if consumed_on not in Offer.ConsumedOn.values:
        raise CoworkingRuleError(_("Choisissez quand le crédit est utilisé."))
    is_reduced = bool(fields.get("is_reduced"))
    reduced_for = (fields.get("reduced_for") or "").strip()
    if is_reduced and not reduced_for:
        raise CoworkingRuleError(
            _("Un tarif réduit dit pour qui il est (par exemple « demandeurs d'emploi »).")
        )
    if len(reduced_for) > REDUCED_FOR_MAX_LENGTH:
        raise CoworkingRuleError(
            _("« Tarif réduit pour » compte %(max)d caractères au plus.")
            % {"max": REDUCED_FOR_MAX_LENGTH}
        )
    funder = fields.get("funder")
    if kind == Kind.DISCOVERY and funder is None:
        raise CoworkingRuleError(
            _("Une journée découverte est offerte par un financeur : choisissez-le.")
        )
    return {
        "label": label,
        "kind": kind,
        "price_cents": price,
        "vat_rate": vat_rate,
        "half_days": half_days,
        "validity_days": validity,
        "consumed_on": consumed_on,
        "is_reduced": is_reduced,
        "reduced_for": reduced_for if is_reduced else "",
        "funder": funder,
    }


def _check_price_only(half_days: int, fields: dict) -> None:
    if half_days:
        raise CoworkingRuleError(
            _("Un tarif de salle à l'heure ne donne pas de crédit : laissez le crédit à 0.")
        )
    if fields.get("is_reduced") or fields.get("funder") is not None:
        raise CoworkingRuleError(
            _(
                "Un tarif de salle à l'heure se facture avec la réservation : il n'a ni tarif "
                "réduit ni financeur."
            )
        )


def _check_kind(kind: str, rule: KindRule, half_days: int, validity: int) -> None:
    label = Kind(kind).label
    if rule.fixed_half_days and half_days != rule.half_days:
        raise CoworkingRuleError(
            _("Une offre « %(kind)s » donne %(credit)s de crédit.")
            % {
                "kind": label,
                "credit": _("une journée") if rule.half_days == 2 else _("une demi-journée"),
            }
        )
    if half_days == 0 and not rule.unlimited_allowed:
        raise CoworkingRuleError(
            _(
                "Seul un abonnement mensuel peut être sans limite de journées : indiquez le "
                "crédit de l'offre « %(kind)s »."
            )
            % {"kind": label}
        )
    if half_days and half_days < rule.min_half_days:
        raise CoworkingRuleError(
            _("Une offre « %(kind)s » donne au moins une journée de crédit.") % {"kind": label}
        )
    if validity < rule.min_validity_days:
        raise CoworkingRuleError(
            _("Un abonnement mensuel dure au moins %(days)d jours.")
            % {"days": rule.min_validity_days}
        )


def _check_operator(tiers_lieu: TiersLieu | None, operator: Organisation | None) -> Organisation:
    if tiers_lieu is not None:
        if tiers_lieu.place.organisation_id is None:
            raise CoworkingRuleError(
                _("Ce lieu n'a pas d'exploitant : personne ne pourrait facturer ses offres.")
            )
        return tiers_lieu.place.organisation
    if operator is None or operator.kind != Organisation.Kind.DEPARTMENT:
        raise CoworkingRuleError(_("Une offre du réseau est facturée par le Département."))
    return operator


def _snapshot(offer: Offer) -> dict:
    return {
        "label": offer.label,
        "kind": offer.kind,
        "price_cents": offer.price_cents,
        "vat_rate": str(Decimal(offer.vat_rate).normalize()),
        "half_days": offer.half_days,
        "validity_days": offer.validity_days,
        "consumed_on": offer.consumed_on,
        "is_reduced": offer.is_reduced,
        "reduced_for": offer.reduced_for,
        "funder": offer.funder_id,
        "is_active": offer.is_active,
    }


def _lock(offer: Offer) -> Offer:
    locked = Offer.objects.select_for_update().filter(pk=offer.pk).first()
    if locked is None:
        raise CoworkingRuleError(_("Cette offre n'existe plus."))
    return locked


# --- Services ---------------------------------------------------------------------------------


def offer_create(
    *,
    actor,
    tiers_lieu: TiersLieu | None,
    label: str,
    kind: str,
    price_cents: int,
    vat_rate: Decimal | int | str = Decimal("20"),
    half_days: int | None = None,
    validity_days: int | None = None,
    consumed_on: str = Offer.ConsumedOn.BOOKING,
    is_reduced: bool = False,
    reduced_for: str = "",
    funder: Organisation | None = None,
    operator: Organisation | None = None,
) -> Offer:
    """A new offer on sale at `tiers_lieu` (None: in the whole network, the Département's staff
    only, invoiced by `operator`, an organisation of kind Département). A place's offers are
    invoiced by the place's operator. Credits and validity left out take the kind's defaults
    (KIND_RULES)."""
    _check_may_write(actor, tiers_lieu)
    defaults = kind_defaults(kind)
    fields = _checked(
        tiers_lieu,
        {
            "label": label,
            "kind": kind,
            "price_cents": price_cents,
            "vat_rate": vat_rate,
            "half_days": defaults.get("half_days") if half_days is None else half_days,
            "validity_days": (
                defaults.get("validity_days") if validity_days is None else validity_days
            ),
            "consumed_on": consumed_on,
            "is_reduced": is_reduced,
            "reduced_for": reduced_for,
            "funder": funder,
        },
    )
    operator = _check_operator(tiers_lieu, operator)
    with transaction.atomic():
        offer = Offer.objects.create(tiers_lieu=tiers_lieu, operator=operator, **fields)
        audit_log(actor=actor, action="coworking.offer_create", target=offer, data=_snapshot(offer))
    return offer


def offer_update(*, actor, offer: Offer, **changes) -> Offer:
    """Change an offer's label, price, VAT rate, credits, validity, how its credit is used,
    its reduced rate or its funder (and, for a network offer, its operator). Passes already
    sold keep what they were sold with; the kind of an offer already sold does not change."""
    _check_may_write(actor, offer.tiers_lieu)
    allowed = {
        "label",
        "kind",
        "price_cents",
        "vat_rate",
        "half_days",
        "validity_days",
        "consumed_on",
        "is_reduced",
        "reduced_for",
        "funder",
        "operator",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"offer_update() got unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = _lock(offer)
        before = _snapshot(locked)
        current = {name: getattr(locked, name) for name in allowed - {"operator"}}
        fields = _checked(locked.tiers_lieu, current | changes)
        if fields["kind"] != locked.kind and locked.passes.exists():
            raise CoworkingRuleError(
                _(
                    "Cette offre a déjà été vendue : son type ne change plus. Retirez-la de la "
                    "vente et créez une nouvelle offre."
                )
            )
        operator = _check_operator(locked.tiers_lieu, changes.get("operator", locked.operator))
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.operator = operator
        locked.save()
        audit_log(
            actor=actor,
            action="coworking.offer_update",
            target=locked,
            data={"before": before, "after": _snapshot(locked)},
        )
    return locked


def _set_on_sale(*, actor, offer: Offer, on_sale: bool, action: str) -> Offer:
    _check_may_write(actor, offer.tiers_lieu)
    with transaction.atomic():
        locked = _lock(offer)
        if locked.is_active == on_sale:
            return locked
        locked.is_active = on_sale
        locked.save(update_fields=["is_active", "updated_at"])
        audit_log(actor=actor, action=action, target=locked)
    return locked


def offer_withdraw(*, actor, offer: Offer) -> Offer:
    """Withdraw the offer from sale: no new pass; passes sold stay valid. Idempotent."""
    return _set_on_sale(actor=actor, offer=offer, on_sale=False, action="coworking.offer_withdraw")


def offer_restore(*, actor, offer: Offer) -> Offer:
    """Put a withdrawn offer back on sale (at its current price). Idempotent."""
    return _set_on_sale(actor=actor, offer=offer, on_sale=True, action="coworking.offer_restore")


def offer_delete(*, actor, offer: Offer) -> None:
    """Delete an offer that was never sold; one with passes is refused (withdraw it)."""
    _check_may_write(actor, offer.tiers_lieu)
    with transaction.atomic():
        locked = _lock(offer)
        if locked.passes.exists():
            raise CoworkingRuleError(
                _(
                    "L'offre « %(offer)s » a déjà été vendue : elle ne peut pas être supprimée, "
                    "retirez-la de la vente."
                )
                % {"offer": locked.label}
            )
        audit_log(
            actor=actor, action="coworking.offer_delete", target=locked, data=_snapshot(locked)
        )
        locked.delete()
