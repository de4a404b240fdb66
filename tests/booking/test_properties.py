"""Property-based tests of the booking engine (hypothesis).

Random sequences of create / cancel / reschedule on a few resources of capacity 1 to 3, with
buffers, several participants and multi-resource bookings, checked against a model that is
too simple to be wrong: a list of bookings and, for a candidate, the largest usage over its
blocked interval. After every step:

- no resource is ever over capacity at any instant, counted from the Allocation rows;
- the active allocations are exactly the model's bookings;
- the engine accepts exactly what the model says fits (no overbooking, no false conflict);
- `availability` offers exactly the slots the model says are free, and booking one of them
  succeeds.

Each example runs in a transaction rolled back at its end, on data created once per test."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cybercantal.booking import selectors, services
from cybercantal.booking.errors import BookingConflict, BookingRuleError
from cybercantal.booking.models import Allocation, Booking
from tests.accounts.factories import UserFactory
from tests.territory.factories import OrganisationFactory, PlaceFactory

from .conftest import NOW, at
from .factories import ResourceFactory

pytestmark = pytest.mark.django_db

DAY = "2027-03-03"  # a Wednesday, more than the cancellation deadline after NOW
STEP = dt.timedelta(minutes=30)
OPENINGS = [(at(DAY, "09:00"), at(DAY, "12:00")), (at(DAY, "14:00"), at(DAY, "17:00"))]
GRID = [opens + i * STEP for opens, closes in OPENINGS for i in range((closes - opens) // STEP)]


@dataclass
class ModelResource:
    pk: int
    capacity: int
    before: dt.timedelta
    after: dt.timedelta

    def units(self, participants: int) -> int:
        return 1 if self.capacity == 1 else participants


@dataclass
class ModelBooking:
    resources: tuple[int, ...]  # indexes into the machine's resources
    start: dt.datetime
    end: dt.datetime
    participants: int


def in_opening_hours(start: dt.datetime, end: dt.datetime) -> bool:
    return any(opens <= start and end <= closes for opens, closes in OPENINGS)


class BookingMachine(RuleBasedStateMachine):
    users: list = []
    place = None
    organisation = None

    def __init__(self):
        super().__init__()
        # One transaction per example, rolled back in teardown(): examples never see each
        # other's resources or bookings.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.resources: list[ModelResource] = []
        self.db_resources = []
        self.bookings: dict[int, ModelBooking] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize(
        specs=st.lists(
            st.tuples(
                st.integers(1, 3), st.sampled_from([0, 15, 30]), st.sampled_from([0, 15, 30])
            ),
            min_size=2,
            max_size=3,
        )
    )
    def make_resources(self, specs):
        for capacity, before, after in specs:
            resource = ResourceFactory(
                place=self.place,
                organisation=self.organisation,
                capacity=capacity,
                buffer_before_minutes=before,
                buffer_after_minutes=after,
                max_duration_minutes=180,
                hours=[(2, "09:00", "12:00"), (2, "14:00", "17:00")],  # Wednesdays
            )
            self.db_resources.append(resource)
            self.resources.append(
                ModelResource(
                    resource.pk, capacity, dt.timedelta(minutes=before), dt.timedelta(minutes=after)
                )
            )

    # --- the model ------------------------------------------------------------------------

    def fits(self, index, start, end, participants, *, ignore=None) -> bool:
        resource = self.resources[index]
        lo, hi = start - resource.before, end + resource.after
        held = [
            (b.start - resource.before, b.end + resource.after, resource.units(b.participants))
            for pk, b in self.bookings.items()
            if index in b.resources and pk != ignore
        ]
        held = [(s, e, u) for s, e, u in held if s < hi and e > lo]
        instants = [lo] + [s for s, _, _ in held if s > lo]
        peak = max(sum(u for s, e, u in held if s <= t < e) for t in instants)
        return peak + resource.units(participants) <= resource.capacity

    def expected(self, indexes, start, end, participants, *, ignore=None):
        if participants > min(self.resources[i].capacity for i in indexes):
            return BookingRuleError
        if not in_opening_hours(start, end):
            return BookingRuleError
        if all(self.fits(i, start, end, participants, ignore=ignore) for i in indexes):
            return None
        return BookingConflict

    # --- operations -----------------------------------------------------------------------

    @rule(data=st.data())
    def create(self, data):
        count = data.draw(st.integers(1, min(2, len(self.resources))))
        indexes = tuple(
            sorted(
                data.draw(
                    st.sets(st.integers(0, len(self.resources) - 1), min_size=count, max_size=count)
                )
            )
        )
        start = data.draw(st.sampled_from(GRID))
        end = start + data.draw(st.integers(1, 4)) * STEP
        participants = data.draw(st.integers(1, 3))
        holder = data.draw(st.sampled_from(self.users))
        outcome = self.expected(indexes, start, end, participants)
        try:
            booking = services.booking_create(
                actor=holder,
                resources=[self.db_resources[i] for i in indexes],
                start=start,
                end=end,
                participants=participants,
                now=NOW,
            )
        except (BookingRuleError, BookingConflict) as exc:
            assert type(exc) is outcome, (exc.message, outcome)
            return
        assert outcome is None, f"accepted, the model expected {outcome.__name__}"
        self.bookings[booking.pk] = ModelBooking(indexes, start, end, participants)

    @precondition(lambda self: self.bookings)
    @rule(data=st.data())
    def cancel(self, data):
        pk = data.draw(st.sampled_from(sorted(self.bookings)))
        booking = Booking.objects.get(pk=pk)
        services.booking_cancel(actor=booking.user, booking=booking, now=NOW)
        del self.bookings[pk]

    @precondition(lambda self: self.bookings)
    @rule(data=st.data())
    def reschedule(self, data):
        pk = data.draw(st.sampled_from(sorted(self.bookings)))
        model = self.bookings[pk]
        start = data.draw(st.sampled_from(GRID))
        end = start + (model.end - model.start)
        outcome = self.expected(model.resources, start, end, model.participants, ignore=pk)
        booking = Booking.objects.get(pk=pk)
        try:
            services.booking_reschedule(
                actor=booking.user, booking=booking, start=start, end=end, now=NOW
            )
        except (BookingRuleError, BookingConflict) as exc:
            assert type(exc) is outcome, (exc.message, outcome)
            return
        assert outcome is None, f"moved, the model expected {outcome.__name__}"
        model.start, model.end = start, end

    @rule(data=st.data())
    def book_an_offered_slot(self, data):
        index = data.draw(st.integers(0, len(self.resources) - 1))
        resource = self.resources[index]
        participants = data.draw(st.integers(1, resource.capacity))
        duration = data.draw(st.integers(1, 3)) * STEP
        slots = selectors.availability(
            resource=self.db_resources[index],
            start=at(DAY, "00:00"),
            end=at(DAY, "23:59"),
            duration=duration,
            units=resource.units(participants),
            now=NOW,
        )
        free = [
            s
            for s in GRID
            if in_opening_hours(s, s + duration) and self.fits(index, s, s + duration, participants)
        ]
        assert [slot.start for slot in slots] == free
        assert all(slot.end - slot.start == duration for slot in slots)
        if not slots:
            return
        slot = data.draw(st.sampled_from(slots))
        booking = services.booking_create(
            actor=data.draw(st.sampled_from(self.users)),
            resources=[self.db_resources[index]],
            start=slot.start,
            end=slot.end,
            participants=participants,
            now=NOW,
        )
        self.bookings[booking.pk] = ModelBooking((index,), slot.start, slot.end, participants)

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def allocations_match_the_model_and_never_exceed_capacity(self):
        # One query per step: the active allocations of this example's resources.
        actual = sorted(
            Allocation.objects.filter(
                is_active=True, resource_id__in=[r.pk for r in self.resources]
            ).values_list("booking_id", "resource_id", "blocked_start", "blocked_end", "units")
        )
        for resource in self.resources:
            rows = [(s, e, u) for _, pk, s, e, u in actual if pk == resource.pk]
            # Ends sort before starts at the same instant: back-to-back is not overlap.
            events = sorted([(s, u) for s, _, u in rows] + [(e, -u) for _, e, u in rows])
            usage = 0
            for _, delta in events:
                usage += delta
                assert usage <= resource.capacity
        expected = sorted(
            (
                pk,
                self.resources[i].pk,
                b.start - self.resources[i].before,
                b.end + self.resources[i].after,
                self.resources[i].units(b.participants),
            )
            for pk, b in self.bookings.items()
            for i in b.resources
        )
        assert actual == expected


def test_random_sequences_against_a_model():
    BookingMachine.users = [UserFactory() for _ in range(3)]
    BookingMachine.organisation = OrganisationFactory()
    BookingMachine.place = PlaceFactory()
    run_state_machine_as_test(
        BookingMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
