"""Selling passes, checking proofs, cancelling (coworking.services.passes) and reading them
(coworking.selectors): grants, refusals, the ledger."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from cybercantal.core.models import AuditLog
from cybercantal.coworking import selectors
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.models import CreditMovement, Offer, Pass
from cybercantal.coworking.services.passes import pass_cancel, pass_check_proof, pass_record
from tests.accounts.factories import UserFactory
from tests.booking.conftest import NOW
from tests.booking.factories import department_agent
from tests.territory.factories import OrganisationFactory

from .factories import OfferFactory, PassFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

TODAY = NOW.date()  # Monday 1 March 2027


def record(offer, *, actor=None, member=None, sold_at=None, valid_from=TODAY):
    sold_at = sold_at or offer.tiers_lieu
    return pass_record(
        actor=actor or manager_of(sold_at),
        member=member if member is not None else UserFactory(),
        offer=offer,
        sold_at=sold_at,
        valid_from=valid_from,
        now=NOW,
    )


def refused(exc_type, call, **kwargs) -> str:
    with pytest.raises(exc_type) as info:
        call(**kwargs)
    return info.value.message


def reasons(pass_account) -> list[tuple[str, int]]:
    return list(pass_account.movements.values_list("reason", "half_days"))


# --- pass_record --------------------------------------------------------------------------------


def test_a_manager_records_a_book_of_ten_days():
    offer = OfferFactory(half_days=20, validity_days=365, price_cents=15_000)
    manager = manager_of(offer.tiers_lieu)
    member = UserFactory()
    pass_ = record(offer, actor=manager, member=member, valid_from=dt.date(2027, 3, 3))
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.ACTIVE
    assert pass_.member == member
    assert pass_.sold_at == offer.tiers_lieu
    assert pass_.valid_from == dt.date(2027, 3, 3)
    assert pass_.valid_until == dt.date(2028, 3, 1)
    assert pass_.price_cents == 15_000
    assert pass_.recorded_by == manager
    assert pass_.funder is None
    assert reasons(pass_) == [("purchase", 20)]
    assert selectors.pass_balance(pass_) == 20
    log = AuditLog.objects.get(action="coworking.pass_record")
    assert log.actor == manager
    assert log.target_id == str(pass_.pk)


def test_a_one_day_pass_is_valid_that_day_only():
    offer = OfferFactory(kind=Offer.Kind.DAY, half_days=2, validity_days=1)
    pass_ = record(offer, valid_from=dt.date(2027, 3, 4))
    assert (pass_.valid_from, pass_.valid_until) == (dt.date(2027, 3, 4), dt.date(2027, 3, 4))


def test_an_unlimited_subscription_has_no_purchase_movement():
    offer = OfferFactory(kind=Offer.Kind.MONTHLY, half_days=0, validity_days=30)
    pass_ = record(offer)
    assert reasons(pass_) == []
    assert selectors.pass_balance(pass_) == 0
    # Unlimited: usable although its balance is zero.
    assert list(
        selectors.usable_passes(member=pass_.member, tiers_lieu=offer.tiers_lieu, day=TODAY)
    ) == [pass_]


def test_a_reduced_rate_waits_for_its_proof_and_cannot_be_used():
    offer = OfferFactory(is_reduced=True, reduced_for="demandeurs d'emploi")
    pass_ = record(offer)
    assert pass_.status == Pass.Status.PENDING_PROOF
    assert selectors.pass_balance(pass_) == 20
    assert not selectors.usable_passes(member=pass_.member, tiers_lieu=offer.tiers_lieu, day=TODAY)


def test_a_funded_offer_records_its_funder():
    funder = OrganisationFactory(name="Communauté de communes")
    offer = OfferFactory(funder=funder)
    assert record(offer).funder == funder


def test_a_network_pass_is_sold_by_any_place_of_the_network():
    place = TiersLieuFactory()
    offer = OfferFactory(tiers_lieu=None, operator=OrganisationFactory(), kind="network_pass")
    pass_ = record(offer, sold_at=place)
    assert pass_.sold_at == place
    assert selectors.pass_balance(pass_) == 20


def test_a_network_pass_is_not_sold_outside_the_network():
    place = TiersLieuFactory(is_in_network=False)
    offer = OfferFactory(tiers_lieu=None, operator=OrganisationFactory(), kind="network_pass")
    message = refused(CoworkingRuleError, record, offer=offer, sold_at=place)
    assert "réseau" in message
    assert not Pass.objects.exists()


def test_a_places_offer_is_sold_at_that_place_only():
    offer = OfferFactory()
    elsewhere = TiersLieuFactory()
    message = refused(CoworkingRuleError, record, offer=offer, sold_at=elsewhere)
    assert message == f"L'offre « {offer.label} » ne se vend qu'à « {offer.tiers_lieu} »."
    assert not Pass.objects.exists()
    assert not CreditMovement.objects.exists()


def test_a_manager_of_another_place_may_not_record():
    offer = OfferFactory()
    other_manager = manager_of(TiersLieuFactory())
    message = refused(CoworkingForbidden, record, offer=offer, actor=other_manager)
    assert "gestionnaire" in message
    assert not Pass.objects.exists()


def test_a_member_may_not_record_their_own_pass():
    offer = OfferFactory()
    member = UserFactory()
    refused(CoworkingForbidden, record, offer=offer, actor=member, member=member)
    refused(CoworkingForbidden, record, offer=offer, actor=AnonymousUser())
    assert not Pass.objects.exists()


def test_the_departments_staff_may_record():
    offer = OfferFactory()
    assert record(offer, actor=department_agent()).status == Pass.Status.ACTIVE


def test_an_offer_no_longer_sold():
    offer = OfferFactory(is_active=False, label="Carnet 2026")
    assert refused(CoworkingRuleError, record, offer=offer) == (
        "L'offre « Carnet 2026 » n'est plus en vente."
    )
    assert not Pass.objects.exists()


def test_a_pass_may_start_yesterday_but_not_before():
    offer = OfferFactory()
    assert record(offer, valid_from=TODAY - dt.timedelta(days=1)).valid_from == dt.date(2027, 2, 28)
    message = refused(
        CoworkingRuleError, record, offer=offer, valid_from=TODAY - dt.timedelta(days=2)
    )
    assert "28/02/2027" in message
    assert Pass.objects.count() == 1


@pytest.mark.parametrize("member", ["none", "inactive", "erased"])
def test_a_pass_needs_a_member_with_an_account(member):
    offer = OfferFactory()
    person = {
        "none": None,
        "inactive": UserFactory(is_active=False),
        "erased": UserFactory(erased_at=NOW),
    }[member]
    manager = manager_of(offer.tiers_lieu)
    with pytest.raises(CoworkingRuleError) as info:
        pass_record(
            actor=manager,
            member=person,
            offer=offer,
            sold_at=offer.tiers_lieu,
            valid_from=TODAY,
            now=NOW,
        )
    assert "compte" in info.value.message
    assert not Pass.objects.exists()


# --- pass_check_proof ---------------------------------------------------------------------------


def test_an_accepted_proof_activates_the_pass():
    offer = OfferFactory(is_reduced=True)
    manager = manager_of(offer.tiers_lieu)
    pass_ = record(offer, actor=manager)
    pass_check_proof(actor=manager, pass_account=pass_, accepted=True, now=NOW)
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.ACTIVE
    assert pass_.proof_checked_by == manager
    assert pass_.proof_checked_at == NOW
    assert selectors.pass_balance(pass_) == 20
    assert list(
        selectors.usable_passes(member=pass_.member, tiers_lieu=offer.tiers_lieu, day=TODAY)
    ) == [pass_]
    assert AuditLog.objects.filter(action="coworking.pass_proof_accepted").count() == 1


def test_a_refused_proof_cancels_the_pass_and_zeroes_its_credits():
    offer = OfferFactory(is_reduced=True, half_days=10)
    manager = manager_of(offer.tiers_lieu)
    pass_ = record(offer, actor=manager)
    pass_check_proof(actor=manager, pass_account=pass_, accepted=False, now=NOW)
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.CANCELLED
    assert reasons(pass_) == [("purchase", 10), ("correction", -10)]
    assert selectors.pass_balance(pass_) == 0
    assert AuditLog.objects.filter(action="coworking.pass_proof_refused").count() == 1


def test_the_proof_is_checked_by_a_manager_of_the_place_that_sold_the_pass():
    offer = OfferFactory(is_reduced=True)
    pass_ = record(offer)
    for stranger in (manager_of(TiersLieuFactory()), pass_.member):
        refused(
            CoworkingForbidden,
            pass_check_proof,
            actor=stranger,
            pass_account=pass_,
            accepted=True,
            now=NOW,
        )
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.PENDING_PROOF


def test_a_pass_without_proof_to_check():
    pass_ = PassFactory()
    message = refused(
        CoworkingRuleError,
        pass_check_proof,
        actor=manager_of(pass_.sold_at),
        pass_account=pass_,
        accepted=False,
        now=NOW,
    )
    assert message == "Ce pass n'attend pas de justificatif."
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.ACTIVE
    assert selectors.pass_balance(pass_) == 20


# --- pass_cancel --------------------------------------------------------------------------------


def test_cancelling_a_pass_zeroes_what_is_left_once():
    pass_ = PassFactory(offer__half_days=20)
    CreditMovement.objects.create(pass_account=pass_, half_days=-3, reason="booking")
    manager = manager_of(pass_.sold_at)
    pass_cancel(actor=manager, pass_account=pass_, reason="  Remboursé   au départ ")
    pass_cancel(actor=manager, pass_account=pass_, reason="Deuxième clic")
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.CANCELLED
    assert reasons(pass_) == [("purchase", 20), ("booking", -3), ("correction", -17)]
    assert pass_.movements.get(reason="correction").note == "Remboursé au départ"
    assert selectors.pass_balance(pass_) == 0
    assert AuditLog.objects.filter(action="coworking.pass_cancel").count() == 1


def test_cancelling_needs_a_reason_and_a_manager_of_the_place_that_sold_it():
    pass_ = PassFactory()
    refused(
        CoworkingRuleError,
        pass_cancel,
        actor=manager_of(pass_.sold_at),
        pass_account=pass_,
        reason="  ",
    )
    for stranger in (manager_of(TiersLieuFactory()), pass_.member, None):
        refused(CoworkingForbidden, pass_cancel, actor=stranger, pass_account=pass_, reason="x")
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.ACTIVE
    assert selectors.pass_balance(pass_) == 20


# --- selectors ----------------------------------------------------------------------------------


def test_usable_passes_are_valid_that_day_here_and_have_credit_left():
    place = TiersLieuFactory()
    member = UserFactory()
    here = PassFactory(member=member, offer__tiers_lieu=place)
    network = PassFactory(
        member=member,
        offer=OfferFactory(tiers_lieu=None, operator=OrganisationFactory()),
        sold_at=TiersLieuFactory(),
        valid_from=dt.date(2027, 2, 1),
    )
    PassFactory(member=member)  # another place's offer
    PassFactory(member=member, offer__tiers_lieu=place, valid_from=dt.date(2027, 3, 2))  # later
    PassFactory(member=member, offer__tiers_lieu=place, status=Pass.Status.CANCELLED)
    PassFactory(member=member, offer__tiers_lieu=place, credited=False)  # no credit
    PassFactory(offer__tiers_lieu=place)  # someone else's
    usable = list(selectors.usable_passes(member=member, tiers_lieu=place, day=TODAY))
    # The one that expires first is used first.
    assert usable == [network, here]
    assert [p.balance for p in usable] == [20, 20]


def test_member_passes_are_seen_by_the_member_and_the_managers_of_the_place_that_sold_them():
    member = UserFactory()
    mine = PassFactory(member=member)
    theirs = PassFactory(member=member)
    assert set(selectors.member_passes(actor=member, member=member)) == {mine, theirs}
    manager = manager_of(mine.sold_at)
    assert list(selectors.member_passes(actor=manager, member=member)) == [mine]
    assert selectors.member_passes(actor=manager, member=member).get().balance == 20
    assert set(selectors.member_passes(actor=department_agent(), member=member)) == {mine, theirs}
    for stranger in (manager_of(TiersLieuFactory()), UserFactory(), AnonymousUser(), None):
        assert list(selectors.member_passes(actor=stranger, member=member)) == []
