"""A place's and the network's offers (coworking.services.catalogue): who may write them, the
rules of each kind, a price change that leaves passes sold alone, withdrawing and deleting."""

from decimal import Decimal

import pytest

from cybercantal.core.models import AuditLog
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.models import Offer, Pass
from cybercantal.coworking.services.catalogue import (
    offer_create,
    offer_delete,
    offer_restore,
    offer_update,
    offer_withdraw,
)
from cybercantal.territory.models import Organisation
from tests.accounts.factories import UserFactory
from tests.booking.factories import department_agent
from tests.territory.factories import OrganisationFactory

from .factories import OfferFactory, PassFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

Kind = Offer.Kind


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def manager(place):
    return manager_of(place)


@pytest.fixture
def department():
    return OrganisationFactory(name="Département du Cantal", kind=Organisation.Kind.DEPARTMENT)


def create(actor, tiers_lieu, **fields):
    return offer_create(
        actor=actor,
        tiers_lieu=tiers_lieu,
        **({"label": "Carnet", "kind": Kind.BOOK, "price_cents": 12000} | fields),
    )


def refusal(exc_type, call, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    return info.value.message


# --- Creating ---------------------------------------------------------------------------------


def test_a_manager_creates_an_offer_of_their_place_with_the_kinds_defaults(place, manager):
    offer = create(manager, place, kind=Kind.DAY, label="Journée", price_cents=1500)
    assert offer.tiers_lieu == place and offer.operator == place.place.organisation
    assert (offer.half_days, offer.validity_days, offer.is_active) == (2, 1, True)
    assert offer.vat_rate == Decimal("20")
    audit = AuditLog.objects.get(action="coworking.offer_create")
    assert audit.actor == manager and audit.data["price_cents"] == 1500


@pytest.mark.parametrize(
    ("kind", "half_days", "validity"),
    [
        (Kind.DAY, 2, 1),
        (Kind.HALF_DAY, 1, 1),
        (Kind.BOOK, 20, 365),
        (Kind.MONTHLY, 0, 30),
        (Kind.DISCOVERY, 2, 60),
    ],
)
def test_each_kind_has_its_defaults(place, manager, kind, half_days, validity):
    funder = OrganisationFactory() if kind == Kind.DISCOVERY else None
    offer = create(manager, place, kind=kind, funder=funder)
    assert (offer.half_days, offer.validity_days) == (half_days, validity)


def test_a_manager_of_another_place_or_a_member_cannot_create(place):
    other = manager_of(TiersLieuFactory())
    for actor in (other, UserFactory(), None):
        message = refusal(CoworkingForbidden, create, actor, place)
        assert "gestionnaire du tiers-lieu" in message
    assert not Offer.objects.exists()


def test_the_departments_staff_may_write_a_places_offers(place):
    offer = create(department_agent(), place)
    assert offer.operator == place.place.organisation


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": Kind.NETWORK_PASS}, "Un pass réseau vaut dans tout le réseau"),
        ({"kind": Kind.DAY, "half_days": 4}, "donne une journée de crédit"),
        ({"kind": Kind.HALF_DAY, "half_days": 2}, "donne une demi-journée de crédit"),
        ({"kind": Kind.BOOK, "half_days": 0}, "Seul un abonnement mensuel peut être sans limite"),
        ({"kind": Kind.BOOK, "half_days": 1}, "au moins une journée"),
        ({"kind": Kind.MONTHLY, "validity_days": 7}, "au moins 28 jours"),
        ({"kind": Kind.DISCOVERY}, "choisissez-le"),
        ({"is_reduced": True, "reduced_for": "  "}, "Un tarif réduit dit pour qui"),
        ({"vat_rate": 7}, "l'un des taux français : 0, 2,1, 5,5, 10, 20 %"),
        ({"price_cents": -1}, "prix positif ou nul"),
        ({"price_cents": 10_000_001}, "trop élevé"),
        ({"validity_days": 0}, "La validité va de 1"),
        ({"label": "   "}, "Donnez un intitulé"),
        ({"kind": "weekly"}, "Choisissez le type"),
        ({"consumed_on": "never"}, "Choisissez quand le crédit est utilisé"),
    ],
)
def test_inconsistent_offers_are_refused_in_french(place, manager, fields, words):
    message = refusal(CoworkingRuleError, create, manager, place, **fields)
    assert words in message
    assert not Offer.objects.exists()


def test_a_monthly_subscription_may_be_unlimited_or_counted(place, manager):
    assert create(manager, place, kind=Kind.MONTHLY).half_days == 0
    assert create(manager, place, kind=Kind.MONTHLY, half_days=16).half_days == 16


def test_every_french_vat_rate_is_accepted(place, manager):
    for rate in ("0", "2.1", "5.5", "10", "20"):
        assert create(manager, place, vat_rate=rate).vat_rate == Decimal(rate)


def test_a_reduced_rate_keeps_its_public(place, manager):
    offer = create(manager, place, is_reduced=True, reduced_for="étudiants")
    assert offer.is_reduced and offer.reduced_for == "étudiants"
    plain = create(manager, place, is_reduced=False, reduced_for="oublié")
    assert plain.reduced_for == ""


# --- The network's offers ---------------------------------------------------------------------


def test_only_the_departments_staff_creates_network_offers(place, manager, department):
    message = refusal(
        CoworkingForbidden,
        create,
        manager,
        None,
        kind=Kind.NETWORK_PASS,
        operator=department,
    )
    assert "agents du Département" in message
    offer = create(department_agent(), None, kind=Kind.NETWORK_PASS, operator=department)
    assert offer.is_network_wide and offer.operator == department
    assert offer.half_days == 20


def test_a_network_offer_is_a_network_pass_or_a_discovery_day_invoiced_by_the_department(
    department,
):
    staff = department_agent()
    message = refusal(CoworkingRuleError, create, staff, None, kind=Kind.BOOK, operator=department)
    assert "pass réseau ou une journée découverte" in message
    association = OrganisationFactory()
    message = refusal(
        CoworkingRuleError, create, staff, None, kind=Kind.NETWORK_PASS, operator=association
    )
    assert "facturée par le Département" in message
    discovery = create(staff, None, kind=Kind.DISCOVERY, operator=department, funder=department)
    assert discovery.funder == department


def test_a_manager_cannot_change_withdraw_or_delete_a_network_offer(manager, department):
    offer = create(department_agent(), None, kind=Kind.NETWORK_PASS, operator=department)
    for call, kwargs in (
        (offer_update, {"price_cents": 1}),
        (offer_withdraw, {}),
        (offer_delete, {}),
    ):
        refusal(CoworkingForbidden, call, actor=manager, offer=offer, **kwargs)
    offer.refresh_from_db()
    assert offer.price_cents == 12000 and offer.is_active


# --- Changing ---------------------------------------------------------------------------------


def test_a_new_price_applies_to_future_sales_only(place, manager):
    offer = create(manager, place, price_cents=12000)
    sold = PassFactory(offer=offer)
    assert sold.price_cents == 12000
    offer_update(actor=manager, offer=offer, price_cents=13500, half_days=24)
    offer.refresh_from_db()
    sold.refresh_from_db()
    assert offer.price_cents == 13500 and offer.half_days == 24
    assert sold.price_cents == 12000
    assert sold.movements.get().half_days == 20
    audit = AuditLog.objects.get(action="coworking.offer_update")
    assert audit.data["before"]["price_cents"] == 12000
    assert audit.data["after"]["price_cents"] == 13500


def test_an_update_keeps_the_rules(place, manager):
    offer = create(manager, place, kind=Kind.DAY)
    message = refusal(CoworkingRuleError, offer_update, actor=manager, offer=offer, half_days=3)
    assert "donne une journée de crédit" in message
    offer.refresh_from_db()
    assert offer.half_days == 2


def test_the_kind_of_an_offer_already_sold_does_not_change(place, manager):
    offer = create(manager, place, kind=Kind.BOOK)
    message_free = offer_update(actor=manager, offer=offer, kind=Kind.MONTHLY, half_days=0)
    assert message_free.kind == Kind.MONTHLY
    PassFactory(offer=offer)
    message = refusal(
        CoworkingRuleError, offer_update, actor=manager, offer=offer, kind=Kind.BOOK, half_days=20
    )
    assert "déjà été vendue" in message
    offer.refresh_from_db()
    assert offer.kind == Kind.MONTHLY


def test_another_places_manager_cannot_change_an_offer(place):
    offer = OfferFactory(tiers_lieu=place, price_cents=5000)
    other = manager_of(TiersLieuFactory())
    refusal(CoworkingForbidden, offer_update, actor=other, offer=offer, price_cents=1)
    offer.refresh_from_db()
    assert offer.price_cents == 5000


# --- Withdrawing, putting back, deleting ------------------------------------------------------


def test_withdraw_and_restore(place, manager):
    offer = create(manager, place)
    sold = PassFactory(offer=offer)
    offer_withdraw(actor=manager, offer=offer)
    offer.refresh_from_db()
    assert not offer.is_active
    assert Pass.objects.get(pk=sold.pk).status == Pass.Status.ACTIVE
    offer_withdraw(actor=manager, offer=offer)  # idempotent: no second audit row
    assert AuditLog.objects.filter(action="coworking.offer_withdraw").count() == 1
    offer_restore(actor=manager, offer=offer)
    offer.refresh_from_db()
    assert offer.is_active
    assert AuditLog.objects.filter(action="coworking.offer_restore").count() == 1


def test_an_offer_with_passes_is_never_deleted(place, manager):
    offer = create(manager, place)
    PassFactory(offer=offer)
    message = refusal(CoworkingRuleError, offer_delete, actor=manager, offer=offer)
    assert "retirez-la de la vente" in message
    assert Offer.objects.filter(pk=offer.pk).exists()


def test_an_offer_never_sold_may_be_deleted(place, manager):
    offer = create(manager, place)
    other = manager_of(TiersLieuFactory())
    refusal(CoworkingForbidden, offer_delete, actor=other, offer=offer)
    offer_delete(actor=manager, offer=offer)
    assert not Offer.objects.filter(pk=offer.pk).exists()
    assert AuditLog.objects.get(action="coworking.offer_delete").data["label"] == "Carnet"


# --- A meeting room's hourly price ------------------------------------------------------------


def test_a_room_hour_price_has_no_credit_reduced_rate_nor_funder(place, manager):
    offer = create(manager, place, kind=Kind.ROOM_HOUR, label="Salle", price_cents=2000)
    assert (offer.half_days, offer.validity_days) == (0, 1)
    # A validity typed in is meaningless for a price: kept at 1.
    assert create(manager, place, kind=Kind.ROOM_HOUR, validity_days=30).validity_days == 1
    for fields, words in (
        ({"half_days": 2}, "ne donne pas de crédit"),
        ({"is_reduced": True, "reduced_for": "étudiants"}, "ni tarif réduit ni financeur"),
        ({"funder": OrganisationFactory()}, "ni tarif réduit ni financeur"),
    ):
        message = refusal(CoworkingRuleError, create, manager, place, kind=Kind.ROOM_HOUR, **fields)
        assert words in message
    assert Offer.objects.filter(kind=Kind.ROOM_HOUR).count() == 2
