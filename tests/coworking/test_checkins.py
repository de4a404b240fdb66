"""Members' arrivals at a tiers-lieu (coworking.services.checkins.check_in_record): who may
record them, when the place is closed, the day paid once, the tablet's offline replays."""

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser

from cybercantal.booking.models import Booking
from cybercantal.booking.services import booking_create
from cybercantal.core.models import AuditLog
from cybercantal.coworking import selectors
from cybercantal.coworking.errors import (
    CoworkingConflict,
    CoworkingForbidden,
    CoworkingRuleError,
)
from cybercantal.coworking.models import CheckIn, CreditMovement, Offer
from cybercantal.coworking.services.checkins import check_in_record
from cybercantal.coworking.services.credits import desk_book
from tests.accounts.factories import UserFactory
from tests.booking.conftest import NOW, at
from tests.booking.factories import ClosureFactory, ResourceFactory, department_agent

from .factories import PassFactory, TiersLieuFactory, desk_pool, manager_of

pytestmark = pytest.mark.django_db

DAY = "2027-03-02"
ON_ARRIVAL = Offer.ConsumedOn.CHECK_IN


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def manager(place):
    return manager_of(place)


def arrive(place, member, *, actor, time="09:10", day=DAY, now=None, **kwargs):
    moment = at(day, time)
    return check_in_record(
        actor=actor,
        tiers_lieu=place,
        member=member,
        method=kwargs.pop("method", "qr"),
        at=moment,
        now=now or moment,
        **kwargs,
    )


def ledger(pass_) -> list[tuple[str, int]]:
    return list(pass_.movements.values_list("reason", "half_days"))


def desk_day(pass_, place, *, start="09:00", end="18:00", day=DAY):
    return desk_book(
        actor=pass_.member,
        member=pass_.member,
        pass_account=pass_,
        resource=desk_pool(place),
        start=at(day, start),
        end=at(day, end),
        now=NOW,
    )


# --- walking in with a pass ---------------------------------------------------------------------


def test_a_walk_in_on_a_pass_used_on_arrival_pays_a_day(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__consumed_on=ON_ARRIVAL)
    check_in = arrive(place, pass_.member, actor=manager, method="pin")
    check_in.refresh_from_db()
    assert (check_in.day.isoformat(), check_in.at) == (DAY, at(DAY, "09:10"))
    assert (check_in.method, check_in.pass_used, check_in.booking) == ("pin", pass_, None)
    assert check_in.recorded_by == manager
    assert ledger(pass_) == [("purchase", 20), ("check_in", -2)]
    assert pass_.movements.get(reason="check_in").check_in == check_in
    assert AuditLog.objects.filter(action="coworking.check_in").count() == 1


def test_a_walk_in_on_a_pass_used_on_booking_pays_a_day_too(place, manager):
    # No booking paid for that day: the arrival does.
    pass_ = PassFactory(offer__tiers_lieu=place)
    arrive(place, pass_.member, actor=manager)
    assert selectors.pass_balance(pass_) == 18


def test_a_walk_in_with_a_last_half_day_uses_it(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=1)
    arrive(place, pass_.member, actor=manager)
    assert ledger(pass_) == [("purchase", 1), ("check_in", -1)]


def test_a_walk_in_on_an_unlimited_subscription_counts_nothing(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=0, offer__kind="monthly")
    check_in = arrive(place, pass_.member, actor=manager)
    assert check_in.pass_used == pass_
    assert not CreditMovement.objects.exists()


def test_credit_promised_to_a_booking_does_not_pay_a_walk_in(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=2, offer__consumed_on=ON_ARRIVAL)
    desk_day(pass_, place, day="2027-03-03")
    with pytest.raises(CoworkingRuleError) as info:
        arrive(place, pass_.member, actor=manager)
    assert "plus de crédit" in info.value.message
    assert not CheckIn.objects.exists()
    assert ledger(pass_) == [("purchase", 2)]


def test_neither_a_pass_nor_a_booking(place, manager):
    member = UserFactory(first_name="Jeanne", last_name="Martin")
    PassFactory(member=member)  # valid at another place only
    PassFactory(member=member, offer__tiers_lieu=place, credited=False)  # used up
    with pytest.raises(CoworkingRuleError) as info:
        arrive(place, member, actor=manager)
    assert info.value.message == (
        "Jeanne Martin n'a ni pass valable ici aujourd'hui ni réservation confirmée : "
        "proposez-lui un pass."
    )
    assert not CheckIn.objects.exists()


# --- arriving with a booking --------------------------------------------------------------------


def test_a_desk_booking_paid_on_booking_is_not_paid_again(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = desk_day(pass_, place)
    check_in = arrive(place, pass_.member, actor=manager)
    booking.refresh_from_db()
    assert check_in.booking == booking
    assert check_in.pass_used == pass_
    assert booking.status == Booking.Status.ATTENDED
    assert ledger(pass_) == [("purchase", 20), ("booking", -2)]


def test_an_arrival_before_the_booking_starts_links_it_without_marking_it(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = desk_day(pass_, place, start="09:30")
    check_in = arrive(place, pass_.member, actor=manager, time="09:10")
    booking.refresh_from_db()
    assert check_in.booking == booking
    assert booking.status == Booking.Status.CONFIRMED


def test_a_desk_booking_on_a_pass_used_on_arrival_is_paid_at_arrival(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__consumed_on=ON_ARRIVAL)
    booking = desk_day(pass_, place)
    assert selectors.held_half_days(pass_, now=NOW) == 2
    check_in = arrive(place, pass_.member, actor=manager)
    movement = pass_.movements.get(reason="check_in")
    assert (movement.half_days, movement.booking, movement.check_in) == (-2, booking, check_in)
    assert selectors.pass_balance(pass_) == 18
    assert selectors.held_half_days(pass_, now=NOW) == 0


def test_two_half_days_booked_are_both_paid_at_arrival(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__consumed_on=ON_ARRIVAL)
    morning = desk_day(pass_, place, start="09:00", end="13:00")
    afternoon = desk_day(pass_, place, start="14:00", end="18:00")
    check_in = arrive(place, pass_.member, actor=manager)
    assert check_in.booking == morning
    paid = {m.booking: m.half_days for m in pass_.movements.filter(reason="check_in")}
    assert paid == {morning: -1, afternoon: -1}
    assert selectors.pass_balance(pass_) == 18


def test_a_room_booking_admits_without_a_pass(place, manager):
    member = UserFactory()
    room = ResourceFactory(place=place.place, organisation=place.place.organisation)
    booking = booking_create(
        actor=member, resources=[room], start=at(DAY, "09:00"), end=at(DAY, "10:00"), now=NOW
    )
    check_in = arrive(place, member, actor=manager)
    assert (check_in.booking, check_in.pass_used) == (booking, None)
    assert not CreditMovement.objects.exists()


# --- once a day, offline replays ----------------------------------------------------------------


def test_a_second_scan_the_same_day_is_refused(place, manager):
    member = UserFactory(first_name="Jeanne", last_name="Martin")
    pass_ = PassFactory(member=member, offer__tiers_lieu=place, offer__consumed_on=ON_ARRIVAL)
    arrive(place, member, actor=manager)
    with pytest.raises(CoworkingConflict) as info:
        arrive(place, member, actor=manager, time="14:00")
    assert info.value.status_code == 409
    assert info.value.message == "L'arrivée de Jeanne Martin est déjà enregistrée aujourd'hui."
    assert CheckIn.objects.count() == 1
    assert ledger(pass_) == [("purchase", 20), ("check_in", -2)]
    # The next day is another day.
    arrive(place, member, actor=manager, day="2027-03-03")
    assert selectors.pass_balance(pass_) == 16


def test_an_offline_replay_returns_the_arrival_already_recorded(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__consumed_on=ON_ARRIVAL)
    client_uuid = uuid.uuid4()
    first = arrive(place, pass_.member, actor=manager, client_uuid=client_uuid)
    again = arrive(
        place, pass_.member, actor=manager, client_uuid=client_uuid, now=at(DAY, "11:00")
    )
    assert again.pk == first.pk
    assert first.client_uuid == client_uuid
    assert CheckIn.objects.count() == 1
    assert ledger(pass_) == [("purchase", 20), ("check_in", -2)]
    assert AuditLog.objects.filter(action="coworking.check_in").count() == 1


def test_a_client_uuid_of_another_arrival_is_refused(place, manager):
    first, second = (PassFactory(offer__tiers_lieu=place) for _ in range(2))
    client_uuid = uuid.uuid4()
    arrive(place, first.member, actor=manager, client_uuid=client_uuid)
    with pytest.raises(CoworkingConflict):
        arrive(place, second.member, actor=manager, client_uuid=client_uuid)
    assert CheckIn.objects.count() == 1
    assert selectors.pass_balance(second) == 20


# --- closed place -------------------------------------------------------------------------------


def test_a_public_holiday(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place)
    with pytest.raises(CoworkingRuleError) as info:
        arrive(place, pass_.member, actor=manager, day="2027-07-14")
    assert (
        info.value.message == f"Le 14/07/2027 est un jour férié : « {place.place.name} » est fermé."
    )
    assert not CheckIn.objects.exists()
    assert selectors.pass_balance(pass_) == 20


def test_a_public_holiday_at_a_place_open_on_holidays(place, manager):
    desk_pool(place, observes_public_holidays=False)
    pass_ = PassFactory(offer__tiers_lieu=place)
    arrive(place, pass_.member, actor=manager, day="2027-07-14")
    assert selectors.pass_balance(pass_) == 18


@pytest.mark.parametrize("scope", ["place", "everything"])
def test_a_closure(place, manager, scope):
    pass_ = PassFactory(offer__tiers_lieu=place)
    ClosureFactory(
        place=place.place if scope == "place" else None,
        start=at(DAY, "00:00"),
        end=at("2027-03-03", "00:00"),
        reason="Neige",
    )
    with pytest.raises(CoworkingRuleError) as info:
        arrive(place, pass_.member, actor=manager)
    assert info.value.message == f"« {place.place.name} » est fermé à ce moment-là (Neige)."
    assert not CheckIn.objects.exists()
    assert selectors.pass_balance(pass_) == 20


def test_a_closure_of_another_place_or_of_one_space_does_not_close_the_place(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place)
    ClosureFactory(place=TiersLieuFactory().place, start=at(DAY, "00:00"), end=at(DAY, "23:00"))
    ClosureFactory(resource=desk_pool(place), start=at(DAY, "00:00"), end=at(DAY, "23:00"))
    assert arrive(place, pass_.member, actor=manager).pass_used == pass_


# --- who may record, and what ------------------------------------------------------------------


def test_only_a_manager_of_the_place_records_an_arrival(place):
    pass_ = PassFactory(offer__tiers_lieu=place)
    for stranger in (manager_of(TiersLieuFactory()), pass_.member, AnonymousUser(), None):
        with pytest.raises(CoworkingForbidden):
            arrive(place, pass_.member, actor=stranger)
    assert not CheckIn.objects.exists()
    assert arrive(place, pass_.member, actor=department_agent()).recorded_by is not None


def test_an_arrival_in_the_future_or_by_an_unknown_method(place, manager):
    pass_ = PassFactory(offer__tiers_lieu=place)
    with pytest.raises(CoworkingRuleError):
        arrive(place, pass_.member, actor=manager, time="10:00", now=at(DAY, "09:00"))
    with pytest.raises(CoworkingRuleError):
        arrive(place, pass_.member, actor=manager, method="face")
    assert not CheckIn.objects.exists()
    # A tablet a few minutes ahead is tolerated.
    arrive(place, pass_.member, actor=manager, time="09:03", now=at(DAY, "09:00"))
    assert CheckIn.objects.count() == 1
