"""booking_attendance_correct: an agent corrects an attendance mark (attended ↔ no-show, or back
to confirmed), recorded as a transition with its reason, seen by the status listeners and
audited; refusals (not an agent, before the start, nothing marked, a target that is not a mark)
are in French and change nothing; the normal status machine keeps the marks final."""

import pytest

from cybercantal.booking import services
from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.hooks import StatusListener, status_listeners
from cybercantal.booking.models import Allocation, Booking, BookingTransition
from cybercantal.core.models import AuditLog
from tests.accounts.factories import UserFactory

from .conftest import NOW, at
from .factories import ResourceFactory, agent_of
from .test_services import DAY, book, refused

pytestmark = pytest.mark.django_db

DURING = at(DAY, "10:05")  # book() takes 10:00–10:30
ATTENDED, NO_SHOW, CONFIRMED = (
    Booking.Status.ATTENDED,
    Booking.Status.NO_SHOW,
    Booking.Status.CONFIRMED,
)


@pytest.fixture
def room():
    return ResourceFactory()


@pytest.fixture
def agent(room):
    return agent_of(room)


@pytest.fixture
def marked(room, agent):
    booking = book(room)
    return services.booking_mark_attended(actor=agent, booking=booking, now=DURING)


def correct(agent, booking, to_status, **kwargs):
    kwargs.setdefault("now", DURING)
    return services.booking_attendance_correct(
        actor=agent, booking=booking, to_status=to_status, **kwargs
    )


def state(booking):
    """What a refusal must leave untouched."""
    booking.refresh_from_db()
    return (
        booking.status,
        BookingTransition.objects.filter(booking=booking).count(),
        AuditLog.objects.count(),
    )


def test_a_mark_is_corrected_both_ways_and_undone(agent, marked):
    assert correct(agent, marked, NO_SHOW).status == NO_SHOW
    assert correct(agent, marked, ATTENDED, reason="Arrivée en retard").status == ATTENDED
    assert correct(agent, marked, CONFIRMED).status == CONFIRMED
    marked.refresh_from_db()
    assert marked.status == CONFIRMED
    # Undone: the mark is taken again by the normal machine.
    assert services.booking_mark_no_show(actor=agent, booking=marked, now=DURING).status == NO_SHOW
    log = [
        (t.from_status, t.to_status, t.actor, t.reason)
        for t in BookingTransition.objects.filter(booking=marked).order_by("id")
    ][1:]
    assert log == [
        ("confirmed", "attended", agent, "Personne venue"),
        ("attended", "no_show", agent, "Correction de l'appel : personne absente"),
        ("no_show", "attended", agent, "Arrivée en retard"),
        ("attended", "confirmed", agent, "Correction de l'appel : marque annulée"),
        ("confirmed", "no_show", agent, "Personne absente"),
    ]
    audits = list(
        AuditLog.objects.filter(action="booking.attendance_correct")
        .order_by("id")
        .values_list("actor", "data")
    )
    assert audits == [
        (agent.pk, {"from": "attended", "to": "no_show"}),
        (agent.pk, {"from": "no_show", "to": "attended"}),
        (agent.pk, {"from": "attended", "to": "confirmed"}),
    ]
    # The seat stays held whatever the mark.
    assert Allocation.objects.get(booking=marked).is_active


def test_correcting_to_the_current_mark_changes_nothing(agent, marked):
    before = state(marked)
    assert correct(agent, marked, ATTENDED).status == ATTENDED
    assert state(marked) == before


def test_only_an_agent_of_the_resource_corrects(room, marked):
    before = state(marked)
    other_agent = agent_of(ResourceFactory())
    for actor in (marked.user, UserFactory(), other_agent, None):
        message = refused(BookingForbidden, correct, actor, marked, NO_SHOW)
        assert message == "Seul un agent du lieu peut corriger l'appel."
    assert state(marked) == before


def test_a_booking_not_marked_is_not_corrected(room, agent):
    booking = book(room)
    before = state(booking)
    message = refused(BookingRuleError, correct, agent, booking, NO_SHOW)
    assert message == (
        "Seule une présence ou une absence déjà notée se corrige : cette réservation est "
        "« Confirmée »."
    )
    assert state(booking) == before
    services.booking_cancel(actor=agent, booking=booking, now=NOW)
    before = state(booking)
    assert "« Annulée »" in refused(BookingRuleError, correct, agent, booking, ATTENDED)
    assert state(booking) == before


def test_a_pending_booking_is_not_corrected():
    room = ResourceFactory(approval_required=True)
    booking = book(room)
    assert booking.status == Booking.Status.PENDING
    message = refused(BookingRuleError, correct, agent_of(room), booking, ATTENDED)
    assert "« En attente de validation »" in message


@pytest.mark.parametrize("target", ["cancelled", "pending", "", "present"])
def test_a_correction_is_a_mark_or_its_undoing(agent, marked, target):
    before = state(marked)
    message = refused(BookingRuleError, correct, agent, marked, target)
    assert message == (
        "Une correction de l'appel note la personne venue, absente, ou pas encore notée."
    )
    assert state(marked) == before


def test_no_correction_before_the_start(room, agent):
    booking = book(room, "11:00", "11:30")
    message = refused(BookingRuleError, correct, agent, booking, NO_SHOW, now=DURING)
    assert message == "Le rendez-vous n'a pas encore commencé."


def test_the_status_machine_still_keeps_marks_final(agent, marked):
    correct(agent, marked, NO_SHOW)
    for call in (services.booking_confirm, services.booking_cancel, services.booking_mark_attended):
        assert "ne peut pas passer" in refused(
            BookingRuleError, call, actor=agent, booking=marked, now=DURING
        )
    marked.refresh_from_db()
    assert marked.status == NO_SHOW


def test_listeners_see_the_correction_and_may_refuse_it(
    agent, marked, django_capture_on_commit_callbacks
):
    seen = []

    def on_status(booking, *, from_status, to_status, actor):
        seen.append((from_status, to_status, actor))
        if to_status == CONFIRMED:
            raise BookingRuleError("Refusé par un module.")

    status_listeners.register(StatusListener(key="tests.attendance", on_status=on_status))
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            correct(agent, marked, NO_SHOW)
        assert seen == [("attended", "no_show", agent)]
        assert callbacks == []  # the person is not told
        before = state(marked)
        assert refused(BookingRuleError, correct, agent, marked, CONFIRMED) == (
            "Refusé par un module."
        )
        assert state(marked) == before  # the whole correction is rolled back
    finally:
        status_listeners.unregister("tests.attendance")
