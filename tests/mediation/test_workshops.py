"""Collective workshops through their services: creation and its French refusals, registration
(by the person or by an agent), full → waiting list, attendance on the spot with walk-ins,
marks corrected or undone until the closing (refused after it), and the closing that records
one collective activity report, once."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cybercantal.booking import services as booking_services
from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking, BookingTransition, Resource, WaitingListEntry
from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import AuditLog
from cybercantal.mediation.models import Activity, WorkshopSession, WorkshopWalkIn
from cybercantal.mediation.selectors.workshops import workshop_get, workshops_public_near
from cybercantal.mediation.services.activities import beneficiary_create
from cybercantal.mediation.services.workshops import (
    seats_taken,
    workshop_attendance_mark,
    workshop_attendance_unmark,
    workshop_close,
    workshop_create,
    workshop_register,
    workshop_walk_in_add,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)  # Monday 1 March 2027, 08:00
START = dt.datetime(2027, 3, 2, 14, 0, tzinfo=PARIS)
END = dt.datetime(2027, 3, 2, 16, 0, tzinfo=PARIS)
DURING = dt.datetime(2027, 3, 2, 14, 10, tzinfo=PARIS)
AFTER = dt.datetime(2027, 3, 2, 16, 5, tzinfo=PARIS)
MOBILES = ["06 39 98 00 01", "06 39 98 00 02", "06 39 98 00 03", "06 39 98 00 04"]


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """activity_record compares with today: today is the tests' 1 March 2027."""
    from django.utils import timezone

    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"].astimezone(dt.UTC))
    return clock


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


@pytest.fixture
def structure():
    return OrganisationFactory(name="Espace numérique de Murat")


@pytest.fixture
def mediator(structure):
    return mediator_of(structure)


@pytest.fixture
def place():
    return PlaceFactory(commune=CommuneFactory(latitude=45.11, longitude=2.87))


def create(mediator, structure, place, **changes):
    fields = {
        "title": "Premiers pas sur la tablette",
        "theme": "equipement",
        "level": "debutant",
        "place": place,
        "start": START,
        "end": END,
        "capacity": 2,
        "now": NOW,
    }
    return workshop_create(actor=mediator, organisation=structure, **(fields | changes))


def register(session, actor=None, name="Jeanne Martin", phone=MOBILES[0], **kw):
    return workshop_register(
        actor=actor, session=session, person=PersonDetails(name, phone), now=NOW, **kw
    )


@pytest.fixture
def session(mediator, structure, place):
    return create(mediator, structure, place)


def test_a_mediator_creates_a_session_with_its_seats(session, structure, place):
    resource = session.resource
    assert resource.kind == Resource.Kind.WORKSHOP
    assert resource.capacity == session.capacity == 2
    assert resource.organisation == structure
    assert session.level == "debutant" and session.theme == "equipement"
    rule = resource.availability_rules.get()
    assert (rule.valid_from, rule.valid_until, rule.place) == (START.date(), START.date(), place)


def test_a_session_reuses_an_existing_workshop_resource(mediator, structure, place):
    first = create(mediator, structure, place, capacity=6)
    second = create(
        mediator,
        structure,
        place,
        resource=first.resource,
        capacity=None,
        start=START + dt.timedelta(days=7),
        end=END + dt.timedelta(days=7),
    )
    assert second.resource == first.resource and second.capacity == 6
    with pytest.raises(BookingRuleError, match="déjà une séance à ces heures"):
        create(mediator, structure, place, resource=first.resource, capacity=None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"start": NOW - dt.timedelta(hours=2), "end": NOW - dt.timedelta(hours=1)},
            "Cette date est passée",
        ),
        ({"level": "expert"}, "Niveau inconnu : choisissez débutant, intermédiaire ou avancé"),
        ({"capacity": 0}, "Un atelier accueille au moins une personne"),
        ({"theme": "astrologie"}, "Thématique inconnue : astrologie"),
        ({"title": "  "}, "Indiquez le titre"),
        ({"end": START}, "La fin de la séance doit être après son début"),
        ({"end": END + dt.timedelta(days=1)}, "commence et finit le même jour"),
    ],
)
def test_creation_refusals_are_in_french_and_write_nothing(
    mediator, structure, place, changes, message
):
    with pytest.raises(BookingRuleError, match=message):
        create(mediator, structure, place, **changes)
    assert not WorkshopSession.objects.exists()
    assert not Resource.objects.filter(kind=Resource.Kind.WORKSHOP).exists()


def test_only_a_mediator_of_the_structure_creates_a_session(structure, place):
    other = mediator_of(OrganisationFactory())
    manager = UserFactory()
    MembershipFactory(user=manager, organisation=structure, role="place_manager")
    for actor in (other, manager, UserFactory()):
        with pytest.raises(BookingForbidden, match="Seuls les médiateurs de cette structure"):
            create(actor, structure, place)
    assert not WorkshopSession.objects.exists()


def test_registration_books_one_seat_for_a_person_without_an_account(session):
    registration = register(session)
    booking = registration.booking
    assert not registration.is_waiting
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.person_name, booking.person_phone) == ("Jeanne Martin", "+33639980001")
    assert booking.allocations.get().resource == session.resource
    assert (booking.start, booking.end, booking.participants) == (START, END, 1)
    assert seats_taken(session) == 1


def test_an_agent_registers_someone_from_a_phone_call(session, mediator):
    booking = register(session, actor=mediator, channel=Booking.Channel.PHONE).booking
    assert booking.channel == Booking.Channel.PHONE
    assert booking.created_by == mediator


def test_an_account_holder_registers_themselves(session):
    user = UserFactory()
    registration = workshop_register(actor=user, session=session, now=NOW)
    assert registration.booking.user == user


def test_the_same_person_cannot_register_twice(session):
    register(session)
    with pytest.raises(BookingRuleError, match="déjà inscrite"):
        register(session, name="Jeanne M.", phone="+33639980001")
    assert seats_taken(session) == 1


def test_a_full_session_puts_the_next_person_on_its_waiting_list(session):
    register(session, name="Un", phone=MOBILES[0])
    register(session, name="Deux", phone=MOBILES[1])
    registration = register(session, name="Trois", phone=MOBILES[2])
    assert registration.is_waiting
    entry = registration.waiting
    assert entry.resource == session.resource
    assert (entry.window_start, entry.window_end) == (START, END)
    assert entry.status == WaitingListEntry.Status.WAITING
    assert seats_taken(session) == 2
    with pytest.raises(BookingConflict):
        register(session, name="Quatre", phone=MOBILES[3], waitlist=False)


def test_a_freed_seat_is_offered_to_the_waiting_list(session, mediator):
    first = register(session, name="Un", phone=MOBILES[0]).booking
    register(session, name="Deux", phone=MOBILES[1])
    entry = register(session, name="Trois", phone=MOBILES[2]).waiting
    from cybercantal.booking.waitlist import waitlist_booking_cancelled

    booking_services.booking_cancel(actor=mediator, booking=first, reason="Malade", now=NOW)
    waitlist_booking_cancelled(booking_id=first.pk, now=NOW)
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.OFFERED
    assert entry.hold_booking.start == START


def test_registration_closes_when_the_session_starts(session, frozen):
    with pytest.raises(BookingRuleError, match="les inscriptions sont closes"):
        workshop_register(
            actor=None, session=session, person=PersonDetails("Paul", MOBILES[1]), now=DURING
        )


def take_attendance(session, mediator):
    present = register(session, name="Présente", phone=MOBILES[0]).booking
    absent = register(session, name="Absent", phone=MOBILES[1]).booking
    workshop_attendance_mark(
        actor=mediator, session=session, booking=present, present=True, now=DURING
    )
    workshop_attendance_mark(
        actor=mediator, session=session, booking=absent, present=False, now=DURING
    )
    return present, absent


def test_attendance_marks_the_bookings(session, mediator):
    present, absent = take_attendance(session, mediator)
    present.refresh_from_db()
    absent.refresh_from_db()
    assert present.status == Booking.Status.ATTENDED
    assert absent.status == Booking.Status.NO_SHOW
    before = BookingTransition.objects.count()
    again = workshop_attendance_mark(
        actor=mediator, session=session, booking=absent, present=False, now=DURING
    )
    assert again.status == Booking.Status.NO_SHOW  # the same mark twice: nothing new
    assert BookingTransition.objects.count() == before


def mark(mediator, session, booking, present, now=DURING):
    return workshop_attendance_mark(
        actor=mediator, session=session, booking=booking, present=present, now=now
    ).status


def unmark(mediator, session, booking, now=DURING):
    return workshop_attendance_unmark(
        actor=mediator, session=session, booking=booking, now=now
    ).status


def frozen_state(*bookings):
    """What a refused correction must leave as it was."""
    for booking in bookings:
        booking.refresh_from_db()
    return (
        [b.status for b in bookings],
        BookingTransition.objects.count(),
        AuditLog.objects.count(),
        Activity.objects.count(),
    )


def test_a_mark_is_corrected_both_ways_and_undone(session, mediator):
    present, absent = take_attendance(session, mediator)
    assert mark(mediator, session, present, False) == Booking.Status.NO_SHOW
    assert mark(mediator, session, absent, True) == Booking.Status.ATTENDED
    assert mark(mediator, session, present, True) == Booking.Status.ATTENDED
    assert unmark(mediator, session, absent) == Booking.Status.CONFIRMED
    assert unmark(mediator, session, absent) == Booking.Status.CONFIRMED  # nothing to undo
    log = list(
        BookingTransition.objects.filter(booking=present)
        .order_by("id")
        .values_list("from_status", "to_status", "actor", "reason")
    )[1:]
    assert log == [
        ("confirmed", "attended", mediator.pk, "Personne venue"),
        ("attended", "no_show", mediator.pk, "Correction de l'appel : personne absente"),
        ("no_show", "attended", mediator.pk, "Correction de l'appel : personne venue"),
    ]
    corrections = list(
        AuditLog.objects.filter(action="mediation.workshop_attendance_correct")
        .order_by("id")
        .values_list("target_id", "data")
    )
    assert corrections == [
        (str(session.pk), {"booking": present.pk, "from": "attended", "to": "no_show"}),
        (str(session.pk), {"booking": absent.pk, "from": "no_show", "to": "attended"}),
        (str(session.pk), {"booking": present.pk, "from": "no_show", "to": "attended"}),
        (str(session.pk), {"booking": absent.pk, "from": "attended", "to": "confirmed"}),
    ]
    assert AuditLog.objects.filter(action="booking.attendance_correct").count() == 4


def test_corrections_are_possible_until_the_closing_then_refused(session, mediator, frozen):
    present, absent = take_attendance(session, mediator)
    frozen["now"] = AFTER  # the session is over, not yet closed: still correctable
    assert unmark(mediator, session, absent, now=AFTER) == Booking.Status.CONFIRMED
    with pytest.raises(BookingRuleError, match=r"Faites l'appel.*Absent"):
        workshop_close(actor=mediator, session=session, now=AFTER)
    assert mark(mediator, session, absent, True, now=AFTER) == Booking.Status.ATTENDED
    assert mark(mediator, session, present, False, now=AFTER) == Booking.Status.NO_SHOW
    session = workshop_close(actor=mediator, session=session, now=AFTER)
    assert session.activity.participants_count == 1  # the corrected marks are the ones counted

    before = frozen_state(present, absent)
    for attempt in (
        lambda: mark(mediator, session, present, True, now=AFTER),
        lambda: mark(mediator, session, absent, False, now=AFTER),
        lambda: unmark(mediator, session, absent, now=AFTER),
        lambda: workshop_walk_in_add(actor=mediator, session=session, name="Tardif", now=AFTER),
    ):
        with pytest.raises(BookingRuleError) as refusal:
            attempt()
        assert refusal.value.message == (
            "Cet atelier est clôturé : son compte rendu est enregistré, l'appel ne peut plus "
            "être modifié."
        )
    assert frozen_state(present, absent) == before
    assert not WorkshopWalkIn.objects.exists()
    session.activity.refresh_from_db()
    assert session.activity.participants_count == 1


def test_a_closing_seen_late_still_refuses_the_correction(session, mediator, frozen):
    """The closing may happen between the page's reading and the correction: the service
    reads the session again (under its lock), not the caller's copy."""
    present, _absent = take_attendance(session, mediator)
    stale = WorkshopSession.objects.get(pk=session.pk)
    frozen["now"] = AFTER
    workshop_close(actor=mediator, session=session, now=AFTER)
    assert stale.closed_at is None
    with pytest.raises(BookingRuleError, match="clôturé"):
        mark(mediator, stale, present, False, now=AFTER)
    present.refresh_from_db()
    assert present.status == Booking.Status.ATTENDED


def test_only_the_structure_corrects_its_registrants(session, mediator, structure, place):
    present, _absent = take_attendance(session, mediator)
    other = mediator_of(OrganisationFactory())
    before = frozen_state(present)
    with pytest.raises(BookingForbidden):
        mark(other, session, present, False)
    with pytest.raises(BookingForbidden):
        unmark(other, session, present)
    assert frozen_state(present) == before
    # A registrant of another session of the structure is not this session's to correct.
    later = create(
        mediator,
        structure,
        place,
        title="Mes courriels",
        start=START + dt.timedelta(days=7),
        end=END + dt.timedelta(days=7),
    )
    elsewhere = register(later, name="Ailleurs", phone=MOBILES[2]).booking
    with pytest.raises(BookingRuleError, match="pas inscrite à cet atelier"):
        unmark(mediator, session, elsewhere)


def test_attendance_is_taken_on_the_spot_not_the_day_before(session, mediator):
    booking = register(session).booking
    with pytest.raises(BookingRuleError, match="pas avant"):
        workshop_attendance_mark(
            actor=mediator, session=session, booking=booking, present=True, now=NOW
        )


def test_close_records_one_collective_activity_with_those_present(
    session, mediator, structure, frozen
):
    known = beneficiary_create(
        actor=mediator, organisation=structure, consent=True, first_name="Rose", phone=MOBILES[0]
    )
    take_attendance(session, mediator)
    workshop_walk_in_add(actor=mediator, session=session, name="Sans inscription", now=DURING)
    workshop_walk_in_add(actor=mediator, session=session, name="Autre", now=DURING)
    frozen["now"] = AFTER
    session = workshop_close(actor=mediator, session=session, now=AFTER)
    activity = Activity.objects.get()
    assert session.activity == activity and session.closed_at == AFTER
    assert activity.kind == Activity.Kind.COLLECTIVE
    assert activity.participants_count == 3  # one registrant present, two walk-ins
    assert (activity.title, activity.level, activity.themes) == (
        "Premiers pas sur la tablette",
        "debutant",
        ["equipement"],
    )
    assert activity.day == START.date() and activity.duration_minutes == 120
    assert activity.place == session.place
    assert list(activity.beneficiaries.all()) == [known]  # the absent one is not counted

    with pytest.raises(BookingRuleError, match="déjà clôturé"):
        workshop_close(actor=mediator, session=session, now=AFTER)
    assert Activity.objects.count() == 1


def test_close_waits_for_every_registrant_to_be_marked(session, mediator, frozen):
    register(session, name="Pas encore notée")
    frozen["now"] = AFTER
    with pytest.raises(BookingRuleError, match=r"Faites l'appel.*Pas encore notée"):
        workshop_close(actor=mediator, session=session, now=AFTER)
    assert not Activity.objects.exists()


def test_close_is_refused_before_the_start(session, mediator):
    with pytest.raises(BookingRuleError, match="pas encore commencé"):
        workshop_close(actor=mediator, session=session, now=NOW)


def test_another_structure_cannot_take_attendance_nor_close(session, frozen):
    booking = register(session).booking
    other = mediator_of(OrganisationFactory())
    with pytest.raises(BookingForbidden):
        workshop_attendance_mark(
            actor=other, session=session, booking=booking, present=True, now=DURING
        )
    with pytest.raises(BookingForbidden):
        workshop_walk_in_add(actor=other, session=session, name="X", now=DURING)
    frozen["now"] = AFTER
    with pytest.raises(BookingForbidden):
        workshop_close(actor=other, session=session, now=AFTER)
    assert workshop_get(actor=other, session_id=session.pk) is None
    assert Activity.objects.count() == 0


def test_public_list_shows_seats_left_near_a_commune(session, mediator, structure, place):
    far = PlaceFactory(commune=CommuneFactory(latitude=44.0, longitude=1.0))
    create(mediator, structure, far, title="Loin d'ici")
    register(session)
    near = workshops_public_near(commune=place.commune, radius_km=20, now=NOW)
    assert [(p.session.title, p.seats_left) for p in near] == [("Premiers pas sur la tablette", 1)]
    register(session, name="Deux", phone=MOBILES[1])
    assert workshops_public_near(commune=place.commune, radius_km=20, now=NOW)[0].seats_left == 0
    assert (
        workshops_public_near(commune=place.commune, radius_km=20, now=NOW, with_full=False) == []
    )
