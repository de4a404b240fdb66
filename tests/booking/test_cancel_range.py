"""Cancelling several days at once (booking.services.bookings_cancel_range): one closure for
the whole range, the bookings of those days cancelled, the days around untouched; and the
refusals it shares with bookings_cancel_day."""

import datetime as dt

import pytest

from cybercantal.booking import selectors, services
from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking, Closure
from cybercantal.core.models import AuditLog
from tests.accounts.factories import UserFactory
from tests.territory.factories import OrganisationFactory, PlaceFactory

from .conftest import NOW, PARIS, at
from .factories import ResourceFactory, agent_of

pytestmark = pytest.mark.django_db


def book(resource, day, start="10:00", end="10:30"):
    return services.booking_create(
        actor=UserFactory(),
        resources=[resource],
        start=at(day, start),
        end=at(day, end),
        now=NOW,
    )


def offered(resource, day):
    slots = selectors.availability(
        resource=resource, start=at(day, "00:00"), end=at(day, "23:59"), now=NOW
    )
    return [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]


def test_a_range_at_a_place_makes_one_closure_and_cancels_its_days():
    place = PlaceFactory(organisation=OrganisationFactory())
    room = ResourceFactory(place=place, organisation=place.organisation)
    elsewhere = ResourceFactory()
    agent = agent_of(room)
    before = book(room, "2027-03-01")  # Monday, before the range
    inside = [book(room, "2027-03-02"), book(room, "2027-03-04", "14:00", "14:30")]
    after = book(room, "2027-03-05")  # the day after the range
    other = book(elsewhere, "2027-03-03")

    closure, cancelled = services.bookings_cancel_range(
        actor=agent,
        first_day=dt.date(2027, 3, 2),
        last_day=dt.date(2027, 3, 4),
        reason="Congés",
        place=place,
        now=NOW,
    )

    assert sorted(b.pk for b in cancelled) == sorted(b.pk for b in inside)
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert {statuses[b.pk] for b in (before, after, other)} == {"confirmed"}
    assert Closure.objects.get() == closure
    assert (closure.place, closure.resource, closure.reason) == (place, None, "Congés")
    assert (closure.start, closure.end) == (at("2027-03-02", "00:00"), at("2027-03-05", "00:00"))
    assert offered(room, "2027-03-03") == []
    assert offered(room, "2027-03-05")  # still bookable (but for the booked slot)
    audit = AuditLog.objects.get(action="booking.cancel_range")
    assert audit.data == {
        "from": "2027-03-02",
        "until": "2027-03-04",
        "count": 2,
        "reason": "Congés",
    }


def test_a_range_that_has_begun_closes_from_now():
    room = ResourceFactory()
    closure, _ = services.bookings_cancel_range(
        actor=agent_of(room),
        first_day=dt.date(2027, 3, 1),
        last_day=dt.date(2027, 3, 2),
        reason="Neige",
        resource=room,
        now=NOW,
    )
    assert closure.start == NOW


@pytest.mark.parametrize(
    ("first", "last", "reason", "expected"),
    [
        (dt.date(2027, 3, 4), dt.date(2027, 3, 2), "Neige", "Le dernier jour doit être"),
        (dt.date(2027, 2, 20), dt.date(2027, 2, 28), "Neige", "Ces jours sont passés"),
        (dt.date(2027, 3, 2), dt.date(2027, 3, 3), " ", "Indiquez le motif"),
    ],
)
def test_a_range_is_refused_without_writing(first, last, reason, expected):
    room = ResourceFactory()
    booking = book(room, "2027-03-02")
    with pytest.raises(BookingRuleError) as info:
        services.bookings_cancel_range(
            actor=agent_of(room),
            first_day=first,
            last_day=last,
            reason=reason,
            resource=room,
            now=NOW,
        )
    assert expected in info.value.message
    assert not Closure.objects.exists()
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_a_range_is_for_agents_only():
    room = ResourceFactory()
    with pytest.raises(BookingForbidden):
        services.bookings_cancel_range(
            actor=UserFactory(),
            first_day=dt.date(2027, 3, 2),
            last_day=dt.date(2027, 3, 3),
            reason="Neige",
            resource=room,
            now=NOW,
        )
    assert not Closure.objects.exists()


def test_cancelling_a_past_day_is_refused_rather_than_failing():
    # A closure starting "now" would end before it starts: refused with a message instead of
    # breaking the database constraint.
    room = ResourceFactory()
    with pytest.raises(BookingRuleError):
        services.bookings_cancel_day(
            actor=agent_of(room), day=dt.date(2027, 2, 26), reason="Neige", resource=room, now=NOW
        )
    assert not Closure.objects.exists()


def test_a_window_cancels_one_visit_of_a_resource_and_tells_the_extra_text(
    sms_outbox, django_capture_on_commit_callbacks
):
    from cybercantal.booking.services import PersonDetails

    room = ResourceFactory()
    elsewhere = PlaceFactory()
    agent = agent_of(room)
    with django_capture_on_commit_callbacks(execute=True):
        inside = services.booking_create(
            actor=agent,
            resources=[room],
            start=at("2027-03-02", "10:00"),
            end=at("2027-03-02", "10:30"),
            person=PersonDetails("Paul", "06 12 34 56 78"),
            now=NOW,
        )
    later = book(room, "2027-03-02", "14:00", "14:30")
    sms_outbox.clear()

    with pytest.raises(BookingForbidden):
        services.bookings_cancel_window(
            actor=UserFactory(),
            resource=room,
            start=at("2027-03-02", "09:00"),
            end=at("2027-03-02", "12:00"),
            reason="Panne",
            now=NOW,
        )
    # At another place: nothing of this resource happens there.
    assert (
        services.bookings_cancel_window(
            actor=agent,
            resource=room,
            start=at("2027-03-02", "09:00"),
            end=at("2027-03-02", "12:00"),
            reason="Panne",
            place=elsewhere,
            now=NOW,
        )
        == []
    )
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = services.bookings_cancel_window(
            actor=agent,
            resource=room,
            start=at("2027-03-02", "09:00"),
            end=at("2027-03-02", "12:00"),
            reason="Panne",
            place=room.place,
            extra="Nouvelle date : jeudi.",
            extra_sms="Reportée à jeudi 9h.",
            now=NOW,
        )
    assert [b.pk for b in cancelled] == [inside.pk]
    later.refresh_from_db()
    assert later.status == "confirmed"
    assert not Closure.objects.exists()  # the rest of the day stays bookable
    [sms] = sms_outbox
    assert "Reportée à jeudi 9h. Motif : Panne." in sms.text
    audits = AuditLog.objects.filter(action="booking.cancel_window").order_by("pk")
    assert [a.data["count"] for a in audits] == [0, 1]
