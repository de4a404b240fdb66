"""Writes of the booking engine (booking.services): rules, conflicts, permissions, people
without accounts, agents, cancellation, rescheduling, the status machine, bulk cancellation,
multi-resource bookings."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from cybercantal.booking import selectors, services
from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError
from cybercantal.booking.models import (
    Allocation,
    AvailabilityRule,
    Booking,
    BookingTransition,
    Closure,
)
from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import AuditLog
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import OrganisationFactory, PlaceFactory

from .conftest import NOW, PARIS, at
from .factories import (
    ClosureFactory,
    ResourceFactory,
    ServiceFactory,
    agent_of,
    department_agent,
)

pytestmark = pytest.mark.django_db

# Tuesday 2 March 2027: a normal working day, more than 24 hours after NOW (Monday 08:00).
DAY = "2027-03-02"
JEANNE = PersonDetails(name="  Jeanne   Martin ", phone="06 12 34 56 78")


A_NEW_USER = object()


def book(resources, start="10:00", end="10:30", *, day=DAY, actor=A_NEW_USER, **kwargs):
    if not isinstance(resources, list | tuple):
        resources = [resources]
    kwargs.setdefault("now", NOW)
    return services.booking_create(
        actor=UserFactory() if actor is A_NEW_USER else actor,
        resources=list(resources),
        start=at(day, start),
        end=at(day, end),
        **kwargs,
    )


def offered(resource, day=DAY):
    slots = selectors.availability(
        resource=resource, start=at(day, "00:00"), end=at(day, "23:59"), now=NOW
    )
    return [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]


def refused(exc_type, call, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    assert info.value.message == str(info.value)
    return info.value.message


# --- booking rules (422) ----------------------------------------------------------------------


def test_a_slot_in_the_past():
    message = refused(
        BookingRuleError, book, ResourceFactory(), day="2027-03-01", start="07:00", end="07:30"
    )
    assert "déjà passé" in message


def test_minimum_notice():
    room = ResourceFactory(min_notice_minutes=120)
    message = refused(BookingRuleError, book, room, day="2027-03-01", start="09:30", end="10:00")
    assert message == "Il faut réserver au moins 120 minutes à l'avance."
    assert book(room, day="2027-03-01", start="10:00", end="10:30").pk


def test_horizon():
    room = ResourceFactory(horizon_days=30)
    message = refused(BookingRuleError, book, room, day="2027-04-06")
    assert message == "On ne peut pas réserver plus de 30 jours à l'avance."
    assert book(room, day="2027-03-30").pk


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("10:00", "10:15", "La durée doit être comprise entre 30 et 240 minutes."),
        ("09:00", "14:30", "La durée doit être comprise entre 30 et 240 minutes."),
        ("10:00", "10:45", "La durée doit être un multiple de 30 minutes."),
    ],
)
def test_duration_bounds_and_multiple(start, end, expected):
    room = ResourceFactory(hours=[(1, "08:00", "18:00")])
    assert refused(BookingRuleError, book, room, start, end) == expected


@pytest.mark.parametrize(
    ("start", "end"), [("12:30", "13:00"), ("11:30", "12:30"), ("10:10", "10:40")]
)
def test_outside_opening_hours_or_off_the_grid(start, end):
    message = refused(BookingRuleError, book, ResourceFactory(name="Salle Cère"), start, end)
    assert message.startswith("« Salle Cère » n'est pas ouvert à ce créneau")


def test_end_before_start_and_naive_datetimes():
    room = ResourceFactory()
    assert "après le début" in refused(BookingRuleError, book, room, "10:30", "10:00")
    with pytest.raises(BookingRuleError, match="fuseau horaire"):
        services.booking_create(
            actor=UserFactory(),
            resources=[room],
            start=dt.datetime(2027, 3, 2, 10),
            end=dt.datetime(2027, 3, 2, 10, 30),
            now=NOW,
        )
    with pytest.raises(BookingRuleError, match="au moins une ressource"):
        services.booking_create(
            actor=UserFactory(), resources=[], start=at(DAY, "10:00"), end=at(DAY, "10:30"), now=NOW
        )


def test_closure_gives_its_reason():
    room = ResourceFactory(name="Salle Cère")
    ClosureFactory(resource=room, start=at(DAY, "00:00"), end=at(DAY, "23:59"), reason="travaux")
    message = refused(BookingRuleError, book, room)
    assert message == "« Salle Cère » est fermé à ce moment-là (travaux)."


def test_closure_of_the_place_and_of_everything():
    place = PlaceFactory()
    room = ResourceFactory(place=place)
    ClosureFactory(place=place, start=at(DAY, "09:00"), end=at(DAY, "12:00"), reason="neige")
    assert "(neige)" in refused(BookingRuleError, book, room)
    ClosureFactory(start=at("2027-03-03", "00:00"), end=at("2027-03-04", "00:00"), reason="grève")
    assert "(grève)" in refused(BookingRuleError, book, room, day="2027-03-03")


def test_public_holiday():
    room = ResourceFactory(name="Salle Cère")
    message = refused(BookingRuleError, book, room, day="2027-03-29")  # Easter Monday
    assert message == "Le 29/03/2027 est un jour férié : « Salle Cère » est fermé."
    room.observes_public_holidays = False
    room.save()
    assert book(room, day="2027-03-29").pk


def test_participants_beyond_capacity():
    workshop = ResourceFactory(name="Atelier tablette", capacity=6, kind="workshop")
    message = refused(BookingRuleError, book, workshop, participants=7)
    assert message == "« Atelier tablette » accueille 6 personne(s) au plus."
    assert book(workshop, participants=6).participants == 6
    assert "au moins 1" in refused(BookingRuleError, book, workshop, participants=0)


def test_inactive_resource():
    room = ResourceFactory(name="Salle Cère", is_active=False)
    assert (
        refused(BookingRuleError, book, room) == "« Salle Cère » n'est pas réservable en ce moment."
    )


def test_service_not_offered_by_the_resource():
    help_desk, other = ServiceFactory(), ServiceFactory()
    mediator = ResourceFactory(services=[help_desk])
    assert book(mediator, service=help_desk).service == help_desk
    message = refused(BookingRuleError, book, mediator, "11:00", "11:30", service=other)
    assert message == "Cette prestation n'est pas proposée par la ressource choisie."


def test_per_person_limit_of_future_bookings():
    room = ResourceFactory(name="Salle Cère", max_future_bookings_per_person=2)
    holder = UserFactory()
    first = book(room, "09:00", "09:30", actor=holder)
    book(room, "09:30", "10:00", actor=holder)
    message = refused(BookingRuleError, book, room, "10:00", "10:30", actor=holder)
    assert "« Salle Cère »" in message and "maximum" in message
    assert book(room, "10:00", "10:30").pk  # someone else
    services.booking_cancel(actor=holder, booking=first, now=NOW)
    assert book(room, "11:00", "11:30", actor=holder).pk
    # Past bookings do not count.
    later = dt.datetime(2027, 3, 2, 12, tzinfo=PARIS)
    assert book(room, "10:00", "10:30", day="2027-03-03", actor=holder, now=later).pk


def test_per_person_limit_counts_people_without_account_by_phone():
    room = ResourceFactory(max_future_bookings_per_person=1)
    book(room, "09:00", "09:30", actor=AnonymousUser(), person=JEANNE)
    same_phone = PersonDetails(name="J. Martin", phone="+33 6 12 34 56 78")
    refused(
        BookingRuleError, book, room, "10:00", "10:30", actor=AnonymousUser(), person=same_phone
    )


# --- conflicts (409) --------------------------------------------------------------------------


def test_a_taken_slot_is_a_conflict_with_a_clear_message():
    room = ResourceFactory(name="Salle Cère")
    book(room, "10:00", "11:00")
    for start, end in (("10:00", "10:30"), ("10:30", "11:00"), ("09:30", "10:30")):
        message = refused(BookingConflict, book, room, start, end)
        assert message == (
            "Ce créneau n'est plus disponible pour « Salle Cère » : il vient d'être réservé. "
            "Choisissez-en un autre."
        )
    assert book(room, "09:30", "10:00").pk
    assert book(room, "11:00", "11:30").pk


def test_buffers_are_enforced_when_booking():
    mediator = ResourceFactory(kind="person", buffer_after_minutes=15)
    book(mediator, "10:00", "10:30")
    refused(BookingConflict, book, mediator, "10:30", "11:00")
    assert book(mediator, "11:00", "11:30").pk
    allocation = Allocation.objects.filter(resource=mediator).order_by("blocked_start").first()
    assert allocation.blocked_end == at(DAY, "10:45")


def test_capacity_n_accepts_n_then_conflicts():
    pool = ResourceFactory(capacity=3, kind="desk_pool")
    for _ in range(3):
        book(pool, "09:00", "12:00")
    refused(BookingConflict, book, pool, "11:30", "12:00")
    # Seats are units: two people need two seats.
    pool2 = ResourceFactory(capacity=3, kind="desk_pool")
    book(pool2, "09:00", "12:00", participants=2)
    refused(BookingConflict, book, pool2, "09:00", "09:30", participants=2)
    assert book(pool2, "09:00", "09:30", participants=1).pk


# --- permissions (403) ------------------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [None, AnonymousUser()])
@pytest.mark.parametrize("policy", ["accounts", "members", "agents"])
def test_anonymous_may_book_only_what_anyone_may(anonymous, policy):
    room = ResourceFactory(name="Salle Cère", bookable_by=policy)
    refused(BookingForbidden, book, room, actor=anonymous, person=JEANNE)
    open_room = ResourceFactory()
    booking = book(open_room, actor=anonymous, person=JEANNE)
    assert booking.user is None and booking.created_by is None


def test_members_only_resource():
    room = ResourceFactory(name="Salle Cère", bookable_by="members")
    outsider = UserFactory()
    message = refused(BookingForbidden, book, room, actor=outsider)
    assert message.startswith("« Salle Cère » est réservé aux membres de")
    # A member in any role — a coworker member, a parent of a school — may book it.
    member = MembershipFactory(organisation=room.organisation, role="resident").user
    assert book(room, actor=member).user == member


def test_agents_only_resource():
    cabin = ResourceFactory(name="Cabine", bookable_by="agents")
    assert (
        refused(BookingForbidden, book, cabin) == "« Cabine » ne se réserve qu'auprès d'un agent."
    )
    nurse = agent_of(cabin, role="assisting_professional")
    resident = UserFactory()
    booking = book(cabin, actor=nurse, for_user=resident, channel=Booking.Channel.DESK)
    assert (booking.user, booking.created_by, booking.channel) == (resident, nurse, "desk")


def test_only_an_agent_books_for_another_person():
    room = ResourceFactory()
    resident, neighbour = UserFactory(), UserFactory()
    message = refused(BookingForbidden, book, room, actor=neighbour, for_user=resident)
    assert message == "Seul un agent peut réserver pour une autre personne."
    refused(BookingForbidden, book, room, actor=AnonymousUser(), for_user=resident)
    refused(BookingForbidden, book, room, actor=None, for_user=resident)
    # An agent of another organisation is not an agent of this resource.
    stranger_agent = agent_of(ResourceFactory())
    refused(BookingForbidden, book, room, actor=stranger_agent, for_user=resident)
    assert book(room, actor=agent_of(room), for_user=resident).user == resident


def test_a_parent_or_pupil_of_the_organisation_is_not_an_agent():
    school = OrganisationFactory()
    kit = ResourceFactory(organisation=school, bookable_by="members", min_notice_minutes=60 * 48)
    parent = MembershipFactory(organisation=school, role="parent").user
    pupil = MembershipFactory(organisation=school, role="pupil").user
    for member in (parent, pupil):
        refused(BookingForbidden, book, kit, actor=member, for_user=UserFactory())
        # Not an agent either for the rules: the minimum notice applies.
        refused(BookingRuleError, book, kit, actor=member)
    director = MembershipFactory(organisation=school, role="school_director").user
    assert book(kit, actor=director, for_user=parent).pk


def test_anonymous_without_person_details():
    message = refused(BookingRuleError, book, ResourceFactory(), actor=AnonymousUser())
    assert "un nom et un numéro de téléphone" in message


# --- people without an account ----------------------------------------------------------------


def test_person_without_account_name_and_phone_are_normalised():
    booking = book(ResourceFactory(), actor=AnonymousUser(), person=JEANNE)
    booking.refresh_from_db()
    assert booking.user is None
    assert (booking.person_name, booking.person_phone) == ("Jeanne Martin", "+33612345678")
    assert booking.display_name == "Jeanne Martin"


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        (
            PersonDetails(name="Jeanne", phone="12"),
            "« 12 » n'est pas un numéro de téléphone valide.",
        ),
        (PersonDetails(name="   ", phone="0612345678"), "Indiquez le nom de la personne."),
        (
            PersonDetails(name="Jeanne", phone="0612345678", email="pas-une-adresse"),
            "L'adresse électronique n'est pas valide.",
        ),
    ],
)
def test_person_without_account_bad_details(person, expected):
    assert refused(BookingRuleError, book, ResourceFactory(), actor=None, person=person) == expected
    assert not Booking.objects.exists()


def test_agent_books_by_phone_for_a_person_without_account():
    room = ResourceFactory()
    agent = agent_of(room)
    booking = book(room, actor=agent, person=JEANNE, channel=Booking.Channel.PHONE)
    assert booking.user is None and booking.created_by == agent
    assert booking.person_phone == "+33612345678"


def test_an_agent_may_book_for_someone_without_phone_the_public_may_not(caplog):
    room = ResourceFactory()
    nobody = PersonDetails(name="Jeanne, résidente", phone="")
    message = refused(BookingRuleError, book, room, actor=None, person=nobody)
    assert "n'est pas un numéro de téléphone valide" in message
    assert not Booking.objects.exists()
    booking = book(room, actor=agent_of(room), person=nobody)
    assert booking.person_phone == "" and booking.person_name == "Jeanne, résidente"
    # Nobody to write to: no message attempted, so no failure naming her in the logs.
    from cybercantal.booking.notifications import booking_event
    from cybercantal.core.models import Notification

    with caplog.at_level("DEBUG"):
        booking_event(booking_id=booking.pk, event="created")
    assert not Notification.objects.exists()
    assert "Jeanne" not in caplog.text


# --- agents are not bound by the public's rules -----------------------------------------------


def test_agents_bypass_notice_horizon_and_limits():
    room = ResourceFactory(
        min_notice_minutes=60 * 24, horizon_days=7, max_future_bookings_per_person=1
    )
    agent, resident = agent_of(room), UserFactory()
    refused(BookingRuleError, book, room, day="2027-03-01", actor=resident)
    refused(BookingRuleError, book, room, day="2027-04-06", actor=resident)
    for day in ("2027-03-01", "2027-04-06", "2027-03-03"):
        assert book(room, day=day, actor=agent, for_user=resident).pk
    # But not the opening hours, nor the past.
    refused(BookingRuleError, book, room, "12:30", "13:00", actor=agent, for_user=resident)
    refused(BookingRuleError, book, room, "07:00", "07:30", day="2027-03-01", actor=agent)


def test_cancellation_deadline_binds_the_holder_not_the_agent():
    room = ResourceFactory(cancellation_deadline_hours=24)
    holder = UserFactory()
    booking = book(room, actor=holder, day="2027-03-01", start="15:00", end="15:30")
    message = refused(
        BookingRuleError, services.booking_cancel, actor=holder, booking=booking, now=NOW
    )
    assert message == (
        "Il est trop tard pour annuler en ligne : c'est possible jusqu'à 24 heures avant. "
        "Appelez le lieu."
    )
    early = book(room, actor=holder)  # Tuesday 10:00, 26 hours ahead
    assert services.booking_cancel(actor=holder, booking=early, now=NOW).status == "cancelled"
    agent = agent_of(room)
    cancelled = services.booking_cancel(actor=agent, booking=booking, reason="malade", now=NOW)
    assert cancelled.status == Booking.Status.CANCELLED


def test_someone_else_may_not_cancel():
    booking = book(ResourceFactory())
    refused(
        BookingForbidden, services.booking_cancel, actor=UserFactory(), booking=booking, now=NOW
    )
    refused(
        BookingForbidden, services.booking_cancel, actor=AnonymousUser(), booking=booking, now=NOW
    )
    refused(
        BookingForbidden,
        services.booking_cancel,
        actor=agent_of(ResourceFactory()),
        booking=booking,
        now=NOW,
    )


def test_cancelling_frees_the_slot_and_twice_is_harmless():
    room = ResourceFactory()
    holder = UserFactory()
    booking = book(room, actor=holder)
    assert "10:00" not in offered(room)
    services.booking_cancel(actor=holder, booking=booking, now=NOW)
    assert "10:00" in offered(room)
    assert not Allocation.objects.filter(booking=booking, is_active=True).exists()
    again = services.booking_cancel(actor=holder, booking=booking, now=NOW)
    assert again.status == Booking.Status.CANCELLED
    assert booking.transitions.filter(to_status="cancelled").count() == 1


# --- rescheduling -----------------------------------------------------------------------------


def test_reschedule_to_a_free_slot_moves_the_allocation():
    room = ResourceFactory(buffer_before_minutes=10)
    holder = UserFactory()
    booking = book(room, "09:00", "09:30", actor=holder)
    moved = services.booking_reschedule(
        actor=holder, booking=booking, start=at(DAY, "14:00"), end=at(DAY, "15:00"), now=NOW
    )
    assert (moved.start, moved.end) == (at(DAY, "14:00"), at(DAY, "15:00"))
    allocation = Allocation.objects.get(booking=booking)
    assert (allocation.blocked_start, allocation.blocked_end) == (
        at(DAY, "13:50"),
        at(DAY, "15:00"),
    )
    assert "09:00" in offered(room) and "14:00" not in offered(room)
    transition = booking.transitions.order_by("id").last()
    assert transition.actor == holder and transition.reason == "Déplacée du 02/03/2027 09:00"
    assert AuditLog.objects.filter(action="booking.reschedule", target_id=str(booking.pk)).exists()


def test_reschedule_may_overlap_its_own_old_slot():
    room = ResourceFactory()
    holder = UserFactory()
    booking = book(room, "09:00", "10:00", actor=holder)
    moved = services.booking_reschedule(
        actor=holder, booking=booking, start=at(DAY, "09:30"), end=at(DAY, "10:30"), now=NOW
    )
    assert moved.start == at(DAY, "09:30")


def test_reschedule_on_conflict_keeps_the_old_slot():
    room = ResourceFactory()
    holder = UserFactory()
    booking = book(room, "09:00", "09:30", actor=holder)
    book(room, "11:00", "11:30")
    refused(
        BookingConflict,
        services.booking_reschedule,
        actor=holder,
        booking=booking,
        start=at(DAY, "11:00"),
        end=at(DAY, "11:30"),
        now=NOW,
    )
    booking.refresh_from_db()
    assert booking.start == at(DAY, "09:00") and booking.status == Booking.Status.CONFIRMED
    assert Allocation.objects.get(booking=booking).blocked_start == at(DAY, "09:00")
    assert "09:00" not in offered(room)
    refused(BookingConflict, book, room, "09:00", "09:30")


def test_reschedule_rules_and_permissions():
    room = ResourceFactory(min_notice_minutes=120)
    holder = UserFactory()
    booking = book(room, "09:00", "09:30", actor=holder)
    new = {"start": at(DAY, "14:00"), "end": at(DAY, "14:30"), "now": NOW}
    refused(
        BookingForbidden, services.booking_reschedule, actor=UserFactory(), booking=booking, **new
    )
    refused(
        BookingRuleError,
        services.booking_reschedule,
        actor=holder,
        booking=booking,
        start=at(DAY, "12:30"),
        end=at(DAY, "13:00"),
        now=NOW,
    )
    refused(
        BookingRuleError,
        services.booking_reschedule,
        actor=holder,
        booking=booking,
        start=at(DAY, "14:30"),
        end=at(DAY, "14:00"),
        now=NOW,
    )
    # Too close to the appointment for the holder (24 h deadline); an agent may, even into the
    # minimum notice.
    late = dt.datetime(2027, 3, 2, 8, tzinfo=PARIS)
    refused(
        BookingRuleError,
        services.booking_reschedule,
        actor=holder,
        booking=booking,
        start=at(DAY, "14:00"),
        end=at(DAY, "14:30"),
        now=late,
    )
    moved = services.booking_reschedule(
        actor=agent_of(room),
        booking=booking,
        start=at(DAY, "09:00"),
        end=at(DAY, "09:30"),
        now=late,
    )
    assert moved.start == at(DAY, "09:00")


def test_a_booking_cancelled_meanwhile_cannot_be_rescheduled():
    room = ResourceFactory()
    holder = UserFactory()
    booking = book(room, "09:00", "09:30", actor=holder)
    stale = Booking.objects.get(pk=booking.pk)
    services.booking_cancel(actor=holder, booking=booking, now=NOW)
    message = refused(
        BookingRuleError,
        services.booking_reschedule,
        actor=holder,
        booking=stale,
        start=at(DAY, "14:00"),
        end=at(DAY, "14:30"),
        now=NOW,
    )
    assert message == "Seule une réservation à venir peut être déplacée."
    booking.refresh_from_db()
    assert booking.start == at(DAY, "09:00")
    assert "14:00" in offered(room)


# --- status machine ---------------------------------------------------------------------------


def test_approval_required_makes_a_pending_booking_that_an_agent_confirms():
    room = ResourceFactory(approval_required=True)
    holder = UserFactory()
    booking = book(room, actor=holder)
    assert booking.status == Booking.Status.PENDING
    assert "10:00" not in offered(room)  # a pending booking holds its slot
    refused(BookingForbidden, services.booking_confirm, actor=holder, booking=booking, now=NOW)
    agent = agent_of(room)
    confirmed = services.booking_confirm(actor=agent, booking=booking, now=NOW)
    assert confirmed.status == Booking.Status.CONFIRMED
    message = refused(
        BookingRuleError, services.booking_confirm, actor=agent, booking=booking, now=NOW
    )
    assert message == "Une réservation « Confirmée » ne peut pas passer à « Confirmée »."


def test_attended_and_no_show():
    room = ResourceFactory()
    agent = agent_of(room)
    booking = book(room)
    message = refused(
        BookingRuleError, services.booking_mark_attended, actor=agent, booking=booking, now=NOW
    )
    assert message == "Le rendez-vous n'a pas encore commencé."
    during = at(DAY, "10:05")
    refused(
        BookingForbidden,
        services.booking_mark_attended,
        actor=booking.user,
        booking=booking,
        now=during,
    )
    refused(
        BookingForbidden,
        services.booking_mark_no_show,
        actor=UserFactory(),
        booking=booking,
        now=during,
    )
    assert services.booking_mark_attended(actor=agent, booking=booking, now=during).status == (
        Booking.Status.ATTENDED
    )
    refused(
        BookingRuleError, services.booking_mark_no_show, actor=agent, booking=booking, now=during
    )
    refused(BookingRuleError, services.booking_cancel, actor=agent, booking=booking, now=during)

    other = book(room, "11:00", "11:30")
    after = at(DAY, "12:00")
    assert services.booking_mark_no_show(actor=agent, booking=other, now=after).status == "no_show"
    # Attended and no-show bookings still hold their (past) slot.
    assert Allocation.objects.filter(booking__in=[booking, other], is_active=True).count() == 2


def test_a_pending_booking_cannot_be_marked():
    room = ResourceFactory(approval_required=True)
    agent = agent_of(room)
    booking = book(room)
    refused(
        BookingRuleError,
        services.booking_mark_no_show,
        actor=agent,
        booking=booking,
        now=at(DAY, "11:00"),
    )
    assert services.booking_cancel(actor=agent, booking=booking, now=NOW).status == "cancelled"


def test_every_transition_is_logged_with_actor_and_reason_and_audited():
    room = ResourceFactory(approval_required=True)
    agent, holder = agent_of(room), UserFactory()
    booking = book(room, actor=holder)
    services.booking_confirm(actor=agent, booking=booking, now=NOW)
    services.booking_cancel(actor=agent, booking=booking, reason="Neige", now=NOW)
    log = [
        (t.from_status, t.to_status, t.actor, t.reason)
        for t in BookingTransition.objects.filter(booking=booking).order_by("id")
    ]
    assert log == [
        ("", "pending", holder, "Réservation créée (En ligne)"),
        ("pending", "confirmed", agent, "Validée"),
        ("confirmed", "cancelled", agent, "Neige"),
    ]
    actions = list(
        AuditLog.objects.filter(target_id=str(booking.pk), target_type="booking.booking")
        .order_by("id")
        .values_list("action", "actor")
    )
    assert actions == [
        ("booking.create", holder.pk),
        ("booking.confirmed", agent.pk),
        ("booking.cancel", agent.pk),
    ]


def test_anonymous_creation_is_logged_without_actor():
    booking = book(ResourceFactory(), actor=AnonymousUser(), person=JEANNE)
    transition = booking.transitions.get()
    assert transition.actor is None and transition.to_status == "confirmed"
    assert AuditLog.objects.get(action="booking.create").actor_repr == "système"


def test_notifications_are_scheduled_after_commit_only_on_success(
    django_capture_on_commit_callbacks,
):
    room = ResourceFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        booking = book(room)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(BookingConflict):
        book(room)
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        services.booking_cancel(actor=agent_of(room), booking=booking, now=NOW)
    assert len(callbacks) == 1


# --- cancelling a whole day -------------------------------------------------------------------


def test_cancel_a_day_of_a_resource():
    room, other_room = ResourceFactory(), ResourceFactory()
    agent = agent_of(room)
    morning = book(room, "09:00", "09:30")
    afternoon = book(room, "14:00", "14:30", actor=agent, person=JEANNE)
    gone = book(room, "10:00", "10:30")
    services.booking_cancel(actor=agent, booking=gone, now=NOW)
    next_day = book(room, day="2027-03-03")
    other = book(other_room)
    cancelled = services.bookings_cancel_day(
        actor=agent, day=dt.date(2027, 3, 2), reason="Neige", resource=room, now=NOW
    )
    assert sorted(b.pk for b in cancelled) == sorted([morning.pk, afternoon.pk])
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses[next_day.pk] == statuses[other.pk] == "confirmed"
    assert all(
        b.transitions.filter(to_status="cancelled", reason="Neige").exists() for b in cancelled
    )
    # The day is closed: its slots are not offered again; the next day is untouched.
    assert offered(room) == []
    assert offered(room, day="2027-03-03") == [
        t for t in offered(ResourceFactory(), day="2027-03-03") if t != "10:00"
    ]
    assert Closure.objects.get(resource=room).reason == "Neige"
    audit = AuditLog.objects.get(action="booking.cancel_day")
    assert audit.data == {"day": "2027-03-02", "count": 2, "reason": "Neige"}


def test_cancel_a_day_uses_the_local_day():
    # Open all day: 23:00 on Tuesday is 22:00 UTC, 00:30 on Wednesday is 23:30 UTC Tuesday.
    room = ResourceFactory(hours=[(d, "00:00", "23:59") for d in range(7)])
    agent = agent_of(room)
    late = book(room, "23:00", "23:30")
    night = book(room, "00:30", "01:00", day="2027-03-03")
    cancelled = services.bookings_cancel_day(
        actor=agent, day=dt.date(2027, 3, 2), reason="Panne", resource=room, now=NOW
    )
    assert [b.pk for b in cancelled] == [late.pk]
    night.refresh_from_db()
    assert night.status == "confirmed"


def test_cancel_a_day_leaves_what_has_already_started():
    room = ResourceFactory()
    agent = agent_of(room)
    done = book(room, "09:00", "09:30")
    to_come = book(room, "11:00", "11:30")
    cancelled = services.bookings_cancel_day(
        actor=agent,
        day=dt.date(2027, 3, 2),
        reason="Malade",
        resource=room,
        now=at(DAY, "10:15"),
    )
    assert [b.pk for b in cancelled] == [to_come.pk]
    done.refresh_from_db()
    assert done.status == "confirmed"


def test_cancel_a_day_at_a_place():
    place, village = PlaceFactory(), PlaceFactory()
    room = ResourceFactory(place=place)
    # A mediator based at the place, but in the village on Tuesdays: not affected by snow at
    # the place. Another mediator, based elsewhere, holds Tuesdays at the place: affected.
    based_here = ResourceFactory(place=place, kind="person", hours=[])
    AvailabilityRule.objects.create(
        resource=based_here, weekday=1, start_time=dt.time(9), end_time=dt.time(12), place=village
    )
    visiting = ResourceFactory(kind="person", hours=[])
    AvailabilityRule.objects.create(
        resource=visiting, weekday=1, start_time=dt.time(9), end_time=dt.time(12), place=place
    )
    in_room = book(room)
    on_tour = book(based_here)
    visit = book(visiting)
    assert (on_tour.place, visit.place) == (village, place)

    staff = department_agent()
    cancelled = services.bookings_cancel_day(
        actor=staff, day=dt.date(2027, 3, 2), reason="Neige", place=place, now=NOW
    )
    assert sorted(b.pk for b in cancelled) == sorted([in_room.pk, visit.pk])
    on_tour.refresh_from_db()
    assert on_tour.status == "confirmed"


def test_the_manager_of_a_place_cancels_its_day_even_for_visiting_resources():
    manager_org = OrganisationFactory()
    place = PlaceFactory(organisation=manager_org)
    visiting = ResourceFactory(kind="person", hours=[])  # another organisation's mediator
    AvailabilityRule.objects.create(
        resource=visiting, weekday=1, start_time=dt.time(9), end_time=dt.time(12), place=place
    )
    visit = book(visiting)
    manager = MembershipFactory(organisation=manager_org, role="tiers_lieu_manager").user
    cancelled = services.bookings_cancel_day(
        actor=manager, day=dt.date(2027, 3, 2), reason="Neige", place=place, now=NOW
    )
    assert [b.pk for b in cancelled] == [visit.pk]


def test_cancel_a_day_is_for_agents_only():
    place = PlaceFactory(organisation=OrganisationFactory())
    room = ResourceFactory(place=place)
    booking = book(room)
    resident = UserFactory()
    member = MembershipFactory(organisation=room.organisation, role="resident").user
    for actor in (resident, member, AnonymousUser(), None, agent_of(ResourceFactory())):
        for target in ({"resource": room}, {"place": place}):
            refused(
                BookingForbidden,
                services.bookings_cancel_day,
                actor=actor,
                day=dt.date(2027, 3, 2),
                reason="Neige",
                now=NOW,
                **target,
            )
            # Even on a day without any booking.
            refused(
                BookingForbidden,
                services.bookings_cancel_day,
                actor=actor,
                day=dt.date(2027, 3, 9),
                reason="Neige",
                now=NOW,
                **target,
            )
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert not AuditLog.objects.filter(action="booking.cancel_day").exists()


def test_cancel_a_day_needs_a_reason_and_one_target():
    room = ResourceFactory()
    agent = agent_of(room)
    refused(
        BookingRuleError,
        services.bookings_cancel_day,
        actor=agent,
        day=dt.date(2027, 3, 2),
        reason="  ",
        resource=room,
        now=NOW,
    )
    refused(
        BookingRuleError,
        services.bookings_cancel_day,
        actor=agent,
        day=dt.date(2027, 3, 2),
        reason="Neige",
        now=NOW,
    )


# --- several resources at once ----------------------------------------------------------------


def test_multi_resource_booking_is_all_or_nothing():
    cabin = ResourceFactory(kind="cabin")
    practitioner = ResourceFactory(kind="person")
    book(practitioner, "10:00", "10:30")
    before = (
        Booking.objects.count(),
        Allocation.objects.count(),
        BookingTransition.objects.count(),
        AuditLog.objects.count(),
    )
    message = refused(BookingConflict, book, [cabin, practitioner], "10:00", "10:30")
    assert practitioner.name in message
    after = (
        Booking.objects.count(),
        Allocation.objects.count(),
        BookingTransition.objects.count(),
        AuditLog.objects.count(),
    )
    assert before == after
    assert "10:00" in offered(cabin)

    booking = book([cabin, practitioner], "11:00", "11:30")
    assert set(booking.allocations.values_list("resource_id", flat=True)) == {
        cabin.pk,
        practitioner.pk,
    }
    assert "11:00" not in offered(cabin) and "11:00" not in offered(practitioner)


def test_multi_resource_booking_happens_where_the_cabin_is():
    # The practitioner (created first, so first by id) is based at their surgery; the
    # teleconsultation takes place in the cabin's place.
    practitioner = ResourceFactory(kind="person", place=PlaceFactory())
    cabin_place = PlaceFactory()
    cabin = ResourceFactory(kind="cabin", place=cabin_place)
    booking = book([practitioner, cabin])
    assert booking.place == cabin_place


def test_multi_resource_booking_with_a_rule_error_on_one_resource():
    cabin = ResourceFactory(kind="cabin")
    practitioner = ResourceFactory(kind="person", hours=[(1, "14:00", "17:00")])
    refused(BookingRuleError, book, [cabin, practitioner], "10:00", "10:30")
    assert not Booking.objects.exists()


def test_the_nurse_of_the_cabin_manages_a_teleconsultation():
    cabin = ResourceFactory(kind="cabin", bookable_by="agents")
    practitioner = ResourceFactory(kind="person")  # another organisation
    nurse = agent_of(cabin, role="assisting_professional")
    resident = UserFactory()
    booking = book([cabin, practitioner], actor=nurse, for_user=resident)
    assert booking.created_by == nurse and booking.user == resident
    during = at(DAY, "10:05")
    assert services.booking_mark_attended(actor=nurse, booking=booking, now=during).status == (
        "attended"
    )
    other = book([cabin, practitioner], "11:00", "11:30", actor=nurse, for_user=resident)
    assert services.booking_cancel(actor=nurse, booking=other, now=NOW).status == "cancelled"


def test_the_nurse_is_still_bound_by_the_practitioners_rules():
    cabin = ResourceFactory(kind="cabin")
    practitioner = ResourceFactory(kind="person", min_notice_minutes=60 * 48)
    nurse = agent_of(cabin, role="assisting_professional")
    refused(BookingRuleError, book, [cabin, practitioner], actor=nurse, person=JEANNE)
    assert book([cabin], actor=nurse, person=JEANNE, day="2027-03-01").pk
