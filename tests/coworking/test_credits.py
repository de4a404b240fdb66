"""Desk bookings paid with a pass (coworking.services.credits.desk_book) and the credits that
follow the booking's status (credits_follow_booking, a booking status listener)."""

import datetime as dt

import pytest
from django.db.models import Sum

from cybercantal.booking.errors import BookingError, BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.booking.services import booking_cancel, booking_confirm, booking_create
from cybercantal.core.models import AuditLog
from cybercantal.coworking import selectors
from cybercantal.coworking.errors import CoworkingForbidden, CoworkingRuleError
from cybercantal.coworking.models import CreditMovement, DeskBooking, Offer, Pass
from cybercantal.coworking.services.credits import credits_follow_booking, desk_book
from tests.accounts.factories import UserFactory
from tests.booking.conftest import NOW, at
from tests.booking.factories import ResourceFactory
from tests.concurrency import run_concurrently
from tests.territory.factories import OrganisationFactory

from .factories import OfferFactory, PassFactory, TiersLieuFactory, desk_pool, manager_of

pytestmark = pytest.mark.django_db

DAY = "2027-03-02"  # Tuesday, 25 hours after NOW: the holder may still cancel


@pytest.fixture
def place():
    return TiersLieuFactory()


@pytest.fixture
def desks(place):
    return desk_pool(place)


THE_MEMBER = object()


def book(pass_, resource, *, day=DAY, start="09:00", end="18:00", actor=THE_MEMBER, now=NOW):
    return desk_book(
        actor=pass_.member if actor is THE_MEMBER else actor,
        member=pass_.member,
        pass_account=pass_,
        resource=resource,
        start=at(day, start),
        end=at(day, end),
        now=now,
    )


def ledger(pass_) -> list[tuple[str, int]]:
    return list(pass_.movements.values_list("reason", "half_days"))


def balance(pass_) -> int:
    return selectors.pass_balance(pass_)


# --- desk_book ----------------------------------------------------------------------------------


def test_a_day_booked_with_a_pass_costs_two_half_days(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.user == pass_.member
    desk = DeskBooking.objects.get(booking=booking)
    assert (desk.pass_account, desk.half_days) == (pass_, 2)
    assert ledger(pass_) == [("purchase", 20), ("booking", -2)]
    assert pass_.movements.get(reason="booking").booking == booking
    assert balance(pass_) == 18
    assert AuditLog.objects.get(action="coworking.desk_book").data == {
        "pass": pass_.pk,
        "half_days": 2,
        "paid": True,
    }


@pytest.mark.parametrize(
    ("start", "end", "cost"),
    [("09:00", "13:00", 1), ("09:00", "13:30", 1), ("09:00", "14:00", 2), ("13:00", "18:00", 2)],
)
def test_up_to_four_hours_and_a_half_is_a_half_day(place, desks, start, end, cost):
    pass_ = PassFactory(offer__tiers_lieu=place)
    book(pass_, desks, start=start, end=end)
    assert balance(pass_) == 20 - cost


def test_a_network_pass_books_at_any_place(place, desks):
    network = OfferFactory(tiers_lieu=None, operator=OrganisationFactory())
    pass_ = PassFactory(offer=network, sold_at=TiersLieuFactory())
    book(pass_, desks)
    assert balance(pass_) == 18


def test_an_unlimited_subscription_books_without_counting(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=0, offer__kind="monthly")
    booking = book(pass_, desks)
    assert DeskBooking.objects.get(booking=booking).half_days == 2
    assert ledger(pass_) == []


def test_a_manager_books_for_the_member(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks, actor=manager_of(place))
    assert booking.user == pass_.member
    assert balance(pass_) == 18


def test_nobody_else_books_with_someone_elses_pass(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    for stranger in (UserFactory(), manager_of(TiersLieuFactory()), None):
        with pytest.raises(CoworkingForbidden):
            book(pass_, desks, actor=stranger)
    # The same refusal is a BookingForbidden for code that only knows the engine.
    with pytest.raises(BookingForbidden):
        book(pass_, desks, actor=UserFactory())
    assert not Booking.objects.exists()
    assert balance(pass_) == 20


def refused_booking(pass_, resource, **kwargs) -> str:
    with pytest.raises(CoworkingRuleError) as info:
        book(pass_, resource, **kwargs)
    assert not Booking.objects.exists()
    assert not DeskBooking.objects.exists()
    return info.value.message


def test_not_enough_credit_for_a_day(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=1)
    message = refused_booking(pass_, desks)
    assert message == (
        "Il ne reste pas assez de crédit sur ce pass (il faut 1 journée(s)). "
        "Rechargez-le auprès du tiers-lieu."
    )
    assert ledger(pass_) == [("purchase", 1)]
    # A half-day fits.
    book(pass_, desks, start="14:00", end="18:00")
    assert balance(pass_) == 0


def test_a_pass_awaiting_its_proof(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place, status=Pass.Status.PENDING_PROOF)
    assert "justificatif" in refused_booking(pass_, desks)


def test_a_cancelled_pass(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place, status=Pass.Status.CANCELLED)
    assert refused_booking(pass_, desks) == "Ce pass est annulé."


def test_a_day_outside_the_pass_validity(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__validity_days=1)
    assert refused_booking(pass_, desks) == (
        "Ce pass est valable du 01/03/2027 au 01/03/2027 : pas le 02/03/2027."
    )


def test_a_pass_of_another_place(desks):
    pass_ = PassFactory()
    assert refused_booking(pass_, desks) == (
        f"Ce pass n'est valable qu'à « {pass_.offer.tiers_lieu} »."
    )


def test_a_pass_of_another_member(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    with pytest.raises(CoworkingRuleError) as info:
        desk_book(
            actor=manager_of(place),
            member=UserFactory(),
            pass_account=pass_,
            resource=desks,
            start=at(DAY, "09:00"),
            end=at(DAY, "18:00"),
            now=NOW,
        )
    assert info.value.message == "Ce pass appartient à une autre personne."
    assert not Booking.objects.exists()


def test_a_space_outside_any_tiers_lieu(place):
    pass_ = PassFactory(offer__tiers_lieu=place)
    room = ResourceFactory(hours=[(d, "09:00", "18:00") for d in range(5)])
    assert "n'est pas un espace d'un tiers-lieu" in refused_booking(pass_, room)


def test_the_engines_refusals_write_nothing(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    with pytest.raises(BookingRuleError):
        book(pass_, desks, start="19:00", end="23:00")  # closed
    assert not Booking.objects.exists()
    assert not DeskBooking.objects.exists()
    assert balance(pass_) == 20


# --- credits follow the booking -----------------------------------------------------------------


def test_cancelling_in_time_gives_the_credit_back_once(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks)
    booking_cancel(actor=pass_.member, booking=booking, now=NOW)
    booking_cancel(actor=pass_.member, booking=booking, now=NOW)  # a second click
    # Even if the listener were called again for the same change.
    credits_follow_booking(booking, from_status="confirmed", to_status="cancelled", actor=None)
    assert ledger(pass_) == [("purchase", 20), ("booking", -2), ("refund", 2)]
    assert balance(pass_) == 20


def test_a_late_cancellation_by_the_holder_is_refused_and_keeps_the_credit_used(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks)
    with pytest.raises(BookingRuleError):
        booking_cancel(actor=pass_.member, booking=booking, now=at("2027-03-01", "12:00"))
    assert balance(pass_) == 18


def test_a_late_cancellation_by_the_place_gives_the_credit_back(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks)
    booking_cancel(actor=manager_of(place), booking=booking, now=at(DAY, "08:30"))
    assert balance(pass_) == 20


def test_credit_given_back_to_an_expired_pass_is_recorded_but_unusable(place, desks):
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=2, offer__validity_days=2)
    booking = book(pass_, desks)
    assert balance(pass_) == 0
    # The place cancels it afterwards, once the pass has expired (2 March was its last day).
    booking_cancel(actor=manager_of(place), booking=booking, now=at("2027-03-05", "10:00"))
    assert balance(pass_) == 2
    day = dt.date(2027, 3, 5)
    assert not selectors.usable_passes(member=pass_.member, tiers_lieu=place, day=day).exists()


def test_no_credit_is_given_back_to_a_cancelled_pass(place, desks):
    from cybercantal.coworking.services.passes import pass_cancel

    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks)
    manager = manager_of(place)
    pass_cancel(actor=manager, pass_account=pass_, reason="Départ")
    booking_cancel(actor=manager, booking=booking, now=NOW)
    assert ledger(pass_) == [("purchase", 20), ("booking", -2), ("correction", -18)]
    assert balance(pass_) == 0


def test_a_booking_awaiting_approval_holds_its_credit_and_is_paid_when_confirmed(place):
    desks = desk_pool(place, approval_required=True)
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=3)
    booking = book(pass_, desks)
    assert booking.status == Booking.Status.PENDING
    assert ledger(pass_) == [("purchase", 3)]
    assert selectors.held_half_days(pass_, now=NOW) == 2
    # 3 half-days, 2 held: another day is refused, a half-day is not.
    with pytest.raises(CoworkingRuleError):
        book(pass_, desks, day="2027-03-03")
    book(pass_, desks, day="2027-03-03", start="09:00", end="13:00")
    manager = manager_of(place)
    booking_confirm(actor=manager, booking=booking, now=NOW)
    credits_follow_booking(booking, from_status="pending", to_status="confirmed", actor=manager)
    assert ledger(pass_) == [("purchase", 3), ("booking", -2)]
    assert selectors.held_half_days(pass_, now=NOW) == 1  # the half-day, still pending


def test_a_pending_booking_cancelled_gives_nothing_back(place):
    desks = desk_pool(place, approval_required=True)
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks)
    booking_cancel(actor=pass_.member, booking=booking, now=NOW)
    assert ledger(pass_) == [("purchase", 20)]
    assert selectors.held_half_days(pass_, now=NOW) == 0


def test_a_pass_used_on_arrival_holds_credit_at_booking(place, desks):
    pass_ = PassFactory(
        offer__tiers_lieu=place, offer__half_days=2, offer__consumed_on=Offer.ConsumedOn.CHECK_IN
    )
    book(pass_, desks)
    assert ledger(pass_) == [("purchase", 2)]
    # The day is promised: it cannot be booked a second time before it is used.
    with pytest.raises(CoworkingRuleError):
        book(pass_, desks, day="2027-03-03")
    # A booking that is over without an arrival stops holding anything.
    assert selectors.held_half_days(pass_, now=at("2027-03-03", "08:00")) == 0


def test_the_ledger_refuses_a_second_payment_of_a_booking(place, desks):
    from django.db import IntegrityError, transaction

    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = book(pass_, desks)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditMovement.objects.create(
            pass_account=pass_, half_days=-2, reason="booking", booking=booking
        )
    assert balance(pass_) == 18


# --- bookings that are not desk bookings --------------------------------------------------------


def test_a_booking_without_a_pass_is_left_alone(place, desks, django_assert_num_queries):
    pass_ = PassFactory(offer__tiers_lieu=place)
    booking = booking_create(
        actor=pass_.member,
        resources=[desks],
        start=at(DAY, "09:00"),
        end=at(DAY, "18:00"),
        now=NOW,
    )
    booking_cancel(actor=pass_.member, booking=booking, now=NOW)
    assert not DeskBooking.objects.exists()
    assert ledger(pass_) == [("purchase", 20)]
    # The listener's cost for every other booking of the platform: nothing at creation, one
    # indexed query on a change.
    with django_assert_num_queries(0):
        credits_follow_booking(booking, from_status="", to_status="confirmed", actor=None)
    with django_assert_num_queries(1):
        credits_follow_booking(booking, from_status="confirmed", to_status="cancelled", actor=None)


def test_coworking_errors_are_booking_errors():
    assert issubclass(CoworkingRuleError, BookingError)
    assert CoworkingRuleError("x").status_code == 422
    assert CoworkingForbidden("x").status_code == 403


# --- concurrency (PostgreSQL) -------------------------------------------------------------------

WEEKDAYS = [
    "2027-03-02", "2027-03-03", "2027-03-04", "2027-03-05", "2027-03-08",
    "2027-03-09", "2027-03-10", "2027-03-11", "2027-03-12", "2027-03-15",
]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_never_spend_the_same_credit_twice():
    """Two days of credit, ten bookings of a day at once, each on its own desk pool and day so
    that the engine's resource locks do not serialise them: only the pass row's lock does."""
    place = TiersLieuFactory()
    pools = [desk_pool(place, name=f"Bureau {i}") for i in range(len(WEEKDAYS))]
    pass_ = PassFactory(offer__tiers_lieu=place, offer__half_days=4)

    outcomes = run_concurrently(lambda i: book(pass_, pools[i], day=WEEKDAYS[i]), len(WEEKDAYS))

    successes = [o for o in outcomes if isinstance(o, Booking)]
    failures = [o for o in outcomes if not isinstance(o, Booking)]
    assert len(successes) == 2
    assert all(isinstance(f, CoworkingRuleError) for f in failures), failures
    assert all("pas assez de crédit" in f.message for f in failures)
    assert Booking.objects.count() == 2
    assert DeskBooking.objects.count() == 2
    assert pass_.movements.aggregate(total=Sum("half_days"))["total"] == 0
