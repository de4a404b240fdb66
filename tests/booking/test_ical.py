"""iCalendar feeds at secret addresses (booking.ical, booking.feeds) and the single-booking
download: token authentication, revocation, who may create a feed, what each feed shows."""

import datetime as dt
import hashlib

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking import ical, services
from cybercantal.booking.errors import BookingForbidden
from cybercantal.booking.models import CalendarFeedToken
from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import AuditLog
from tests.accounts.factories import UserFactory

from .conftest import NOW, at
from .factories import ResourceFactory, ServiceFactory, agent_of, department_agent

pytestmark = pytest.mark.django_db

DAY = "2027-03-02"


@pytest.fixture
def clock(monkeypatch):
    """Freeze django.utils.timezone.now at NOW (the feed shows bookings around "now")."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def book(room, *, actor=None, start="10:00", end="10:30", day=DAY, **kwargs):
    return services.booking_create(
        actor=actor or UserFactory(),
        resources=[room],
        start=at(day, start),
        end=at(day, end),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def read(client, raw):
    response = client.get(reverse("booking:feed_ics", kwargs={"token": raw}))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    return icalendar.Calendar.from_ical(response.content)


def test_a_personal_feed_shows_only_the_owners_bookings(client, clock):
    room = ResourceFactory()
    me, other = UserFactory(), UserFactory()
    mine = book(room, actor=me, notes="Allergie aux acariens")
    book(room, actor=other, start="11:00", end="11:30")
    gone = book(room, actor=me, start="14:00", end="14:30")
    services.booking_cancel(actor=me, booking=gone, now=NOW)
    # Six weeks ago: too old for the feed.
    old = book(room, actor=me, day="2027-01-19", now=at("2027-01-18", "08:00"))

    feed, raw = ical.calendar_feed_create(actor=me)
    assert feed.name == "Mes rendez-vous" and feed.resource is None
    calendar = read(client, raw)
    [event] = calendar.events
    assert str(event["UID"]) == ical.booking_uid(mine)
    assert event.start == mine.start
    assert str(event["SUMMARY"]).startswith("Rendez-vous — ")
    assert "Allergie" not in calendar.to_ical().decode()
    assert "METHOD" not in calendar
    assert ical.booking_uid(old) not in {str(e["UID"]) for e in calendar.events}
    assert CalendarFeedToken.objects.get(pk=feed.pk).last_used_at == NOW


def test_the_token_is_stored_hashed_and_unknown_or_revoked_tokens_get_404(client, clock):
    me = UserFactory()
    feed, raw = ical.calendar_feed_create(actor=me, name="Téléphone")
    stored = CalendarFeedToken.objects.get(pk=feed.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.token_prefix, stored.token_hash, stored.name}
    assert raw.startswith(stored.token_prefix)
    assert AuditLog.objects.filter(action="booking.calendar_feed_create").exists()

    read(client, raw)
    assert (
        client.get(reverse("booking:feed_ics", kwargs={"token": raw[:-1] + "x"})).status_code == 404
    )
    assert client.get("/reservations/agenda/court.ics").status_code == 404

    with pytest.raises(BookingForbidden):
        ical.calendar_feed_revoke(actor=UserFactory(), feed=feed)
    read(client, raw)
    ical.calendar_feed_revoke(actor=me, feed=feed)
    ical.calendar_feed_revoke(actor=me, feed=feed)  # twice: nothing more
    assert AuditLog.objects.filter(action="booking.calendar_feed_revoke").count() == 1
    assert client.get(reverse("booking:feed_ics", kwargs={"token": raw})).status_code == 404
    assert list(ical.calendar_feed_list(actor=me)) == [feed]
    assert list(ical.calendar_feed_list(actor=UserFactory())) == []


def test_a_feed_dies_with_its_owners_account(client, clock):
    me = UserFactory()
    _feed, raw = ical.calendar_feed_create(actor=me)
    me.is_active = False
    me.save()
    assert client.get(reverse("booking:feed_ics", kwargs={"token": raw})).status_code == 404


def test_only_an_agent_of_the_resource_may_publish_its_feed(clock):
    room = ResourceFactory()
    with pytest.raises(BookingForbidden):
        ical.calendar_feed_create(actor=UserFactory(), resource=room)
    with pytest.raises(BookingForbidden):
        ical.calendar_feed_create(actor=agent_of(ResourceFactory()), resource=room)
    with pytest.raises(BookingForbidden):
        ical.calendar_feed_create(actor=None)
    feed, _raw = ical.calendar_feed_create(actor=agent_of(room), resource=room)
    assert feed.name == room.name
    ical.calendar_feed_create(actor=department_agent(), resource=room)


def test_a_resource_feed_shows_what_its_agents_need_and_no_more(client, clock):
    room = ResourceFactory()
    service = ServiceFactory(label="Aide aux démarches")
    room.services.set([service])
    agent = agent_of(room)
    booked = book(
        room,
        actor=agent,
        service=service,
        notes="Dossier de surendettement",
        person=PersonDetails("Paul Vidal", "06 12 34 56 78", "paul@example.org"),
    )
    book(ResourceFactory(), start="11:00", end="11:30")  # another resource
    services.booking_reschedule(
        actor=agent,
        booking=booking_fresh(booked),
        start=at(DAY, "11:00"),
        end=at(DAY, "11:30"),
        now=NOW,
    )
    _feed, raw = ical.calendar_feed_create(actor=agent, resource=room)
    calendar = read(client, raw)
    [event] = calendar.events
    text = calendar.to_ical().decode()
    assert str(event["SUMMARY"]) == "Paul Vidal — Aide aux démarches"
    assert "Téléphone : 06 12 34 56 78" in str(event["DESCRIPTION"])
    assert booked.reference in str(event["DESCRIPTION"])
    assert "surendettement" not in text and "paul@example.org" not in text
    assert event["SEQUENCE"] == 1  # moved once
    assert event.start == at(DAY, "11:00")

    # An agent who leaves the organisation loses the feed.
    agent.memberships.update(is_active=False)
    assert client.get(reverse("booking:feed_ics", kwargs={"token": raw})).status_code == 404


def booking_fresh(booking):
    booking.refresh_from_db()
    return booking


def test_the_holder_downloads_one_booking(client, clock):
    room = ResourceFactory()
    holder = UserFactory()
    booking = book(room, actor=holder)
    url = reverse("booking:booking_ics", args=[booking.pk])

    assert client.get(url).status_code == 302  # log in first
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404  # someone else's: as if it did not exist
    client.force_login(holder)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="rendez-vous-{booking.reference}.ics"' in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.events
    assert str(event["UID"]) == ical.booking_uid(booking)
    assert event.end - event.start == dt.timedelta(minutes=30)

    client.force_login(agent_of(room))
    response = client.get(url)
    assert response.status_code == 200
    assert holder.get_full_name() in response.content.decode()


def test_personal_data_export_never_shows_the_secret_and_erasure_kills_the_feeds(client, clock):
    me = UserFactory()
    _feed, raw = ical.calendar_feed_create(actor=me, name="Téléphone")
    [exported] = ical.calendar_feeds_personal_data_export(me)
    assert exported["nom"] == "Téléphone"
    assert raw not in str(exported)
    ical.calendar_feeds_personal_data_erase(me)
    assert client.get(reverse("booking:feed_ics", kwargs={"token": raw})).status_code == 404
