"""Members' check-in cards (coworking.services.cards): a PIN given by a manager, shown once,
stored as an HMAC only, unique; looking a member up by card code or PIN."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from cybercantal.core.models import AuditLog
from cybercantal.coworking.errors import CoworkingForbidden
from cybercantal.coworking.models import MemberProfile
from cybercantal.coworking.services import cards
from cybercantal.coworking.services.cards import member_by_card, member_card_pin_set, pin_digest
from tests.accounts.factories import UserFactory

from .factories import PassFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def manager(place):
    return manager_of(place)


@pytest.fixture
def member(place):
    today = timezone.localdate()
    return PassFactory(offer__tiers_lieu=place, valid_from=today - dt.timedelta(days=1)).member


def test_a_manager_gives_a_pin_shown_once_and_stored_as_an_hmac(place, manager, member):
    pin = member_card_pin_set(actor=manager, member=member, tiers_lieu=place)
    assert re.fullmatch(r"\d{6}", pin)
    profile = MemberProfile.objects.get(user=member)
    assert profile.pin_digest == pin_digest(pin)
    assert len(profile.pin_digest) == 64 and pin not in profile.pin_digest
    assert len(profile.checkin_code) >= 20  # created with a random card code
    assert profile.joined_on == timezone.localdate()
    assert member_by_card(pin=pin) == member
    audit = AuditLog.objects.get(action="coworking.member_pin_set")
    assert audit.actor == manager and pin not in str(audit.data)


def test_a_new_pin_replaces_the_former_one(place, manager, member):
    first = member_card_pin_set(actor=manager, member=member, tiers_lieu=place)
    second = member_card_pin_set(actor=manager, member=member, tiers_lieu=place)
    assert MemberProfile.objects.filter(user=member).count() == 1
    assert member_by_card(pin=second) == member
    if first != second:
        assert member_by_card(pin=first) is None


def test_a_pin_held_by_someone_else_is_never_given(place, manager, member, monkeypatch):
    other = PassFactory(offer__tiers_lieu=place).member
    taken = member_card_pin_set(actor=manager, member=other, tiers_lieu=place)
    draws = iter([taken, taken, "424242"])
    monkeypatch.setattr(cards, "_new_pin", lambda: next(draws))
    assert member_card_pin_set(actor=manager, member=member, tiers_lieu=place) == "424242"
    assert member_by_card(pin=taken) == other
    assert member_by_card(pin="424242") == member


def test_wrong_or_malformed_pin_and_unknown_code_find_nobody(place, manager, member):
    pin = member_card_pin_set(actor=manager, member=member, tiers_lieu=place)
    wrong = f"{(int(pin) + 1) % 1_000_000:06d}"
    assert member_by_card(pin=wrong) is None
    for bad in ("", "12345", "1234567", "abcdef", "12 456", "١٢٣٤٥٦"):
        assert member_by_card(pin=bad) is None
    assert member_by_card(code="pas-un-code") is None
    assert member_by_card(code="") is None
    assert member_by_card() is None
    assert member_by_card(code="x", pin=pin) is None


def test_the_card_code_finds_its_member_unless_the_account_is_closed(place, manager, member):
    member_card_pin_set(actor=manager, member=member, tiers_lieu=place)
    code = MemberProfile.objects.get(user=member).checkin_code
    assert member_by_card(code=code) == member
    assert member_by_card(code=f"  {code} ") == member
    member.is_active = False
    member.save()
    assert member_by_card(code=code) is None


def test_only_a_manager_of_the_place_gives_a_pin(place, member):
    other_place = TiersLieuFactory()
    for actor in (manager_of(other_place), member, UserFactory()):
        with pytest.raises(CoworkingForbidden):
            member_card_pin_set(actor=actor, member=member, tiers_lieu=place)
    assert not MemberProfile.objects.filter(user=member).exists()


def test_no_pin_for_someone_with_nothing_at_the_place(place, manager):
    stranger = UserFactory()
    with pytest.raises(CoworkingForbidden):
        member_card_pin_set(actor=manager, member=stranger, tiers_lieu=place)
