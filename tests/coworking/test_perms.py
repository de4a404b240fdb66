"""Who manages a tiers-lieu (coworking.perms): grants and refusals."""

import pytest
from django.contrib.auth.models import AnonymousUser

from cybercantal.coworking.models import TiersLieu
from cybercantal.coworking.perms import (
    is_network_staff,
    is_place_manager,
    managed_tiers_lieux_filter,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import department_agent

from .factories import TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db


def managed(user) -> set[int]:
    return set(
        TiersLieu.objects.filter(managed_tiers_lieux_filter(user)).values_list("pk", flat=True)
    )


def test_a_manager_manages_their_place_only():
    mine, other = TiersLieuFactory(), TiersLieuFactory()
    manager = manager_of(mine)
    assert is_place_manager(manager, mine) is True
    assert is_place_manager(manager, other) is False
    assert managed(manager) == {mine.pk}


def test_the_departments_staff_manages_every_place():
    places = {TiersLieuFactory().pk, TiersLieuFactory().pk}
    staff = department_agent()
    assert is_place_manager(staff, TiersLieu.objects.get(pk=min(places))) is True
    assert managed(staff) == places


def test_another_role_of_the_operator_is_not_a_manager():
    place = TiersLieuFactory()
    mediator = MembershipFactory(organisation=place.place.organisation, role="mediator").user
    resident = MembershipFactory(organisation=place.place.organisation, role="resident").user
    for user in (mediator, resident):
        assert is_place_manager(user, place) is False
        assert managed(user) == set()


def test_an_inactive_membership_manages_nothing():
    place = TiersLieuFactory()
    former = MembershipFactory(
        organisation=place.place.organisation, role="tiers_lieu_manager", is_active=False
    ).user
    assert is_place_manager(former, place) is False
    assert managed(former) == set()


@pytest.mark.parametrize("who", [None, AnonymousUser()])
def test_nobody_anonymous_manages_anything(who):
    place = TiersLieuFactory()
    assert is_place_manager(who, place) is False
    assert managed(who) == set()


def test_a_plain_user_manages_nothing():
    TiersLieuFactory()
    assert managed(UserFactory()) == set()


def test_only_the_departments_staff_writes_the_networks_offers():
    assert is_network_staff(department_agent()) is True
    for someone in (manager_of(TiersLieuFactory()), UserFactory(), AnonymousUser(), None):
        assert is_network_staff(someone) is False
