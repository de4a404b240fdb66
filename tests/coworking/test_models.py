"""Integrity the database itself keeps for the tiers-lieux network."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from cybercantal.coworking.models import CheckIn, CreditMovement

from .factories import PassFactory, TiersLieuFactory

pytestmark = pytest.mark.django_db


def test_a_pass_is_credited_with_its_offer():
    pass_ = PassFactory(offer__half_days=20)
    assert sum(pass_.movements.values_list("half_days", flat=True)) == 20


def test_one_check_in_per_member_place_and_day():
    pass_ = PassFactory()
    place = TiersLieuFactory()
    at = dt.datetime(2027, 3, 2, 9, tzinfo=dt.UTC)
    CheckIn.objects.create(tiers_lieu=place, member=pass_.member, day=at.date(), at=at, method="qr")
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckIn.objects.create(
            tiers_lieu=place, member=pass_.member, day=at.date(), at=at, method="pin"
        )


def test_a_check_in_consumes_credit_once():
    pass_ = PassFactory()
    at = dt.datetime(2027, 3, 2, 9, tzinfo=dt.UTC)
    check_in = CheckIn.objects.create(
        tiers_lieu=pass_.sold_at, member=pass_.member, day=at.date(), at=at, method="qr"
    )
    CreditMovement.objects.create(
        pass_account=pass_, half_days=-2, reason="check_in", check_in=check_in
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditMovement.objects.create(
            pass_account=pass_, half_days=-2, reason="check_in", check_in=check_in
        )
