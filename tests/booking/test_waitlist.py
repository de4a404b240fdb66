"""Waiting lists (booking.waitlist, the offer page in booking.feeds): join, a freed slot held
for the first in line, accept, decline, expiry, the next in line, closures lifted."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking import selectors, services, waitlist
from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking, Resource, WaitingListEntry
from cybercantal.booking.services import PersonDetails
from cybercantal.core.notifications.sms import sms_segments
from tests.accounts.factories import UserFactory
from tests.territory.factories import CommuneFactory, PlaceFactory

from .conftest import NOW, at
from .factories import ClosureFactory, ResourceFactory, ServiceFactory, agent_of

pytestmark = pytest.mark.django_db

Status = WaitingListEntry.Status
DAY = "2027-03-02"
PAUL = PersonDetails(name="Paul Vidal", phone="06 12 34 56 78")
LINK = re.compile(r"/reservations/liste-attente/([^/\s]+)/")


class Clock:
    def __init__(self, now):
        self.now = now

    def advance(self, **kwargs):
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch):
    """django.utils.timezone.now frozen at NOW, and moved on by clock.advance()."""
    clock = Clock(NOW)
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def room():
    return ResourceFactory(name="Bureau d'accueil")


def book(room, *, actor=None, start="10:00", end="10:30", **kwargs):
    return services.booking_create(
        actor=actor or UserFactory(),
        resources=[room],
        start=at(DAY, start),
        end=at(DAY, end),
        now=NOW,
        **kwargs,
    )


A_NEW_USER = object()


def join(room=None, *, actor=A_NEW_USER, start="09:00", end="12:00", **kwargs):
    kwargs.setdefault("resource", room)
    return waitlist.waitlist_join(
        actor=UserFactory() if actor is A_NEW_USER else actor,
        window_start=at(DAY, start),
        window_end=at(DAY, end),
        duration=dt.timedelta(minutes=30),
        now=NOW,
        **kwargs,
    )


def free_at(room, time):
    slots = selectors.availability(
        resource=room, start=at(DAY, "00:00"), end=at(DAY, "23:00"), now=NOW
    )
    return at(DAY, time) in {s.start for s in slots}


def token_in(text):
    return LINK.search(text).group(1)


@pytest.fixture
def offered(room, clock, sms_outbox, mailoutbox, django_capture_on_commit_callbacks):
    """A full slot (10:00), Paul (no account) and then Léa (an account) waiting for it; the
    holder cancels: the slot is offered to Paul."""
    holder = UserFactory()
    booking = book(room, actor=holder)
    paul = join(room, actor=agent_of(room), person=PAUL)
    lea = join(room, actor=UserFactory(first_name="Léa"))
    sms_outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(actor=holder, booking=booking, now=NOW)
    paul.refresh_from_db()
    lea.refresh_from_db()
    return paul, lea


def test_a_freed_slot_is_held_for_the_first_in_line(room, offered, sms_outbox, mailoutbox):
    paul, lea = offered
    assert paul.status == Status.OFFERED
    assert lea.status == Status.WAITING
    assert paul.offered_start == at(DAY, "10:00") and paul.offered_end == at(DAY, "10:30")
    assert paul.hold_expires_at == NOW + dt.timedelta(minutes=30)
    hold = paul.hold_booking
    assert hold.status == Booking.Status.PENDING
    assert hold.person_name == "Paul Vidal" and hold.user is None

    # The hold is real: nobody else gets the slot, however they try.
    assert not free_at(room, "10:00")
    with pytest.raises(BookingConflict):
        book(room)

    [sms] = sms_outbox
    assert sms.to == "+33612345678"
    assert sms.text.startswith("CyberCantal : une place s'est libérée le mardi 2 mars à 10h,")
    assert "Pour la prendre avant 8h30 : http://127.0.0.1:8000/reservations/liste-attente/" in (
        sms.text
    )
    assert sms_segments(sms.text) <= 3
    # The person who cancelled was told by e-mail; Léa was told nothing yet.
    assert [m.subject for m in mailoutbox] == ["Votre réservation est annulée"]


def test_accepting_books_the_slot(
    room, offered, client, sms_outbox, django_capture_on_commit_callbacks
):
    paul, _lea = offered
    url = reverse("booking:waitlist_offer", kwargs={"token": token_in(sms_outbox[0].text)})

    page = client.get(url)
    assert page.status_code == 200
    assert "Je prends cette place" in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    paul.refresh_from_db()
    assert paul.status == Status.OFFERED  # a GET (a link preview) changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "accept"})
    assert response.status_code == 200
    assert "Votre rendez-vous est réservé" in response.content.decode()
    paul.refresh_from_db()
    assert paul.status == Status.ACCEPTED
    booking = paul.booking
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.start, booking.person_name, booking.person_phone) == (
        at(DAY, "10:00"),
        "Paul Vidal",
        "+33612345678",
    )
    assert paul.hold_booking.status == Booking.Status.CANCELLED
    assert booking.allocations.get().resource == room
    # Paul's confirmation followed the offer.
    assert sms_outbox[-1].text.startswith("CyberCantal : réservation confirmée le mardi 2 mars")
    assert booking.reference in sms_outbox[-1].text

    # The link cannot be used twice.
    again = client.post(url, {"action": "accept"})
    assert again.status_code == 422
    assert Booking.objects.filter(person_name="Paul Vidal", status="confirmed").count() == 1
    assert "déjà accepté" in client.get(url).content.decode()


def test_an_unanswered_offer_goes_to_the_next_in_line(
    room, offered, clock, mailoutbox, django_capture_on_commit_callbacks
):
    paul, lea = offered
    clock.advance(minutes=29)
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist.waitlist_expire_holds() == 0
    clock.advance(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist.waitlist_expire_holds() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist.waitlist_expire_holds() == 0  # run twice: nothing more

    paul.refresh_from_db()
    lea.refresh_from_db()
    assert paul.status == Status.EXPIRED
    assert paul.hold_booking.status == Booking.Status.CANCELLED
    assert lea.status == Status.OFFERED
    assert lea.hold_booking.user == lea.user
    assert lea.hold_expires_at == clock.now + dt.timedelta(minutes=30)
    offer = mailoutbox[-1]
    assert offer.to == [lea.user.email]
    assert offer.subject.startswith("Une place s'est libérée")
    assert "Bonne nouvelle : une place s'est libérée." in offer.body

    # Paul's old link now says it is too late.
    with pytest.raises(BookingRuleError):
        waitlist.waitlist_accept(token="x" * 24)


def test_declining_passes_the_slot_on_and_keeps_ones_place(
    room, offered, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    paul, lea = offered
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waitlist_decline(token=token_in(sms_outbox[0].text))
    paul.refresh_from_db()
    lea.refresh_from_db()
    assert paul.status == Status.WAITING  # still in line for another slot
    assert lea.status == Status.OFFERED
    token = token_in(mailoutbox[-1].body)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waitlist_decline(token=token)
    lea.refresh_from_db()
    assert lea.status == Status.WAITING
    # Nobody else is waiting: the slot is back for everyone.
    assert free_at(room, "10:00")
    with pytest.raises(BookingRuleError):
        waitlist.waitlist_decline(token=token)


def test_someone_without_an_account_leaves_the_list_from_the_offer(
    room, offered, client, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    paul, lea = offered
    url = reverse("booking:waitlist_offer", kwargs={"token": token_in(sms_outbox[0].text)})
    assert "Je ne veux plus attendre" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "leave"})
    assert response.status_code == 200
    assert "Vous avez quitté la liste d'attente" in response.content.decode()
    paul.refresh_from_db()
    lea.refresh_from_db()
    assert paul.status == Status.CANCELLED  # off the list: no further offer
    assert lea.status == Status.OFFERED  # the slot went to the next in line
    assert mailoutbox[-1].to == [lea.user.email]
    # The link is spent: leaving again, or accepting now, is refused and changes nothing.
    assert client.post(url, {"action": "leave"}).status_code == 404
    with pytest.raises(BookingRuleError):
        waitlist.waitlist_accept(token=token_in(sms_outbox[0].text))
    paul.refresh_from_db()
    assert paul.status == Status.CANCELLED


def test_a_refused_acceptance_changes_nothing(
    room, clock, sms_outbox, django_capture_on_commit_callbacks
):
    room.max_future_bookings_per_person = 1
    room.save()
    lea = UserFactory(prefers_sms=True, phone="+33612345600")
    book(room, actor=lea, start="15:00", end="15:30")
    holder = UserFactory()
    booking = book(room, actor=holder)
    entry = join(room, actor=lea)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(actor=holder, booking=booking, now=NOW)
    token = token_in(sms_outbox[-1].text)
    with pytest.raises(BookingRuleError, match="maximum"):
        waitlist.waitlist_accept(token=token)
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED
    assert entry.hold_booking.status == Booking.Status.PENDING
    assert not free_at(room, "10:00")


def test_an_agent_cancelling_a_hold_withdraws_the_offer(
    room, offered, sms_outbox, django_capture_on_commit_callbacks
):
    paul, lea = offered
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(actor=agent_of(room), booking=paul.hold_booking, now=NOW)
    paul.refresh_from_db()
    lea.refresh_from_db()
    assert paul.status == Status.WAITING and lea.status == Status.WAITING
    assert len(sms_outbox) == 1  # the offer only: no "your booking is cancelled"
    assert free_at(room, "10:00")


def test_an_agent_confirming_a_hold_books_it_for_the_person(
    room, offered, sms_outbox, django_capture_on_commit_callbacks
):
    paul, _lea = offered
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_confirm(actor=agent_of(room), booking=paul.hold_booking, now=NOW)
    paul.refresh_from_db()
    assert paul.status == Status.ACCEPTED and paul.booking == paul.hold_booking
    assert sms_outbox[-1].text.startswith("CyberCantal : réservation confirmée")


def test_leaving_the_list_passes_the_offer_on(room, offered, django_capture_on_commit_callbacks):
    paul, lea = offered
    with pytest.raises(BookingForbidden):
        waitlist.waitlist_leave(actor=UserFactory(), entry=paul)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waitlist_leave(actor=agent_of(room), entry=paul)
    paul.refresh_from_db()
    lea.refresh_from_db()
    assert paul.status == Status.CANCELLED and lea.status == Status.OFFERED
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waitlist_leave(actor=lea.user, entry=lea)
    lea.refresh_from_db()
    assert lea.status == Status.CANCELLED
    assert free_at(room, "10:00")


def test_the_hold_ends_before_the_minimum_notice(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    room = ResourceFactory(min_notice_minutes=120)
    holder = UserFactory()
    day = "2027-03-01"  # NOW is 8:00; the slot is at 10:30
    booking = services.booking_create(
        actor=holder,
        resources=[room],
        start=at(day, "10:30"),
        end=at(day, "11:00"),
        now=at("2027-02-26", "08:00"),
    )
    entry = waitlist.waitlist_join(
        actor=UserFactory(),
        resource=room,
        window_start=at(day, "09:00"),
        window_end=at(day, "12:00"),
        now=NOW,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(actor=agent_of(room), booking=booking, now=NOW)
    entry.refresh_from_db()
    # At 8:30 there are still two hours' notice: the person can book it in time.
    assert entry.hold_expires_at == at(day, "08:30")


def test_a_service_waiting_list_near_a_commune():
    service = ServiceFactory()
    home = CommuneFactory(latitude=45.0, longitude=2.5)
    far_away = ResourceFactory(
        services=[service], place=PlaceFactory(commune=CommuneFactory(latitude=46.0))
    )
    nearby = ResourceFactory(
        services=[service],
        place=PlaceFactory(commune=CommuneFactory(latitude=45.05, longitude=2.5)),
    )
    entry = join(service=service, commune=home, radius_km=15, resource=None)
    freed = {"start": at(DAY, "09:00"), "end": at(DAY, "12:00"), "now": NOW}
    assert waitlist.waitlist_offer_freed_slot(resource=far_away, **freed) == []
    [offer] = waitlist.waitlist_offer_freed_slot(resource=nearby, **freed)
    assert offer.pk == entry.pk
    entry.refresh_from_db()
    assert entry.offered_resource == nearby
    assert entry.offered_start == at(DAY, "09:00")


def test_a_lifted_closure_offers_its_slots(room, clock, django_capture_on_commit_callbacks):
    closure = ClosureFactory(resource=room, start=at(DAY, "00:00"), end=at(DAY, "23:59"))
    entry = join(room)
    with django_capture_on_commit_callbacks(execute=True):
        closure.delete()
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED
    assert entry.offered_start == at(DAY, "09:00")


def test_joining_checks_who_and_how_to_reach_them(room):
    with pytest.raises(BookingRuleError, match="mobile"):
        join(room, actor=None, person=PersonDetails("Paul", "04 71 00 00 00"))
    with pytest.raises(BookingForbidden):
        join(room, actor=UserFactory(), for_user=UserFactory())
    with pytest.raises(BookingRuleError):
        join(room, start="12:00", end="09:00")
    with pytest.raises(BookingRuleError):
        join(None, resource=None)
    anonymous = join(room, actor=None, person=PAUL)
    assert anonymous.person_phone == "+33612345678" and anonymous.created_by is None
    with pytest.raises(BookingRuleError, match="déjà"):
        join(room, actor=None, person=PAUL)
    members_only = ResourceFactory(bookable_by=Resource.BookableBy.ACCOUNT_HOLDERS)
    with pytest.raises(BookingForbidden):
        join(members_only, actor=None, person=PAUL)
    agent = agent_of(room)
    on_behalf = join(room, actor=agent, for_user=UserFactory())
    assert on_behalf.created_by == agent


def test_a_person_sees_their_own_entries_and_agents_those_of_their_resources(room):
    person = UserFactory()
    mine = join(room, actor=person)
    join(ResourceFactory(), actor=UserFactory())
    assert list(waitlist.waitlist_list(actor=person)) == [mine]
    assert list(waitlist.waitlist_list(actor=agent_of(room))) == [mine]
    assert list(waitlist.waitlist_list(actor=None)) == []


def test_an_unknown_offer_link_is_404(client):
    assert client.get("/reservations/liste-attente/inconnu-inconnu-inconnu/").status_code == 404


def test_old_entries_are_purged(room):
    entry = join(room)
    assert waitlist.waitlist_purge(now=at(DAY, "12:00") + dt.timedelta(days=29)) == 0
    assert waitlist.waitlist_purge(now=at(DAY, "12:00") + dt.timedelta(days=31)) == 1
    assert not WaitingListEntry.objects.filter(pk=entry.pk).exists()


def test_personal_data_export_and_erasure(room, offered):
    paul, lea = offered
    [exported] = waitlist.waitlist_personal_data_export(lea.user)
    assert exported["ressource"] == room.name and exported["etat"] == "En attente"
    waitlist.waitlist_personal_data_erase(lea.user)
    assert not WaitingListEntry.objects.filter(user=lea.user).exists()
    assert WaitingListEntry.objects.filter(pk=paul.pk).exists()
    assert list(waitlist.waitlist_held_booking_ids()) == [paul.hold_booking_id]
