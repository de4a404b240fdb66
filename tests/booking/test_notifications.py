"""What people are told about their bookings (booking.notifications): per channel, in French,
SMS in three segments at most, e-mails with an iCalendar invitation, letters for those who
prefer them; nothing when the transaction rolls back; never an error for the booking."""

import datetime as dt
import logging

import icalendar
import pytest
from django.db import transaction

from cybercantal.booking import notifications, services
from cybercantal.booking.models import Booking
from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import Notification
from cybercantal.core.notifications.sms import sms_segments
from tests.accounts.factories import UserFactory
from tests.territory.factories import CommuneFactory, PlaceFactory

from .conftest import NOW, at
from .factories import ResourceFactory, ServiceFactory, agent_of

pytestmark = pytest.mark.django_db

DAY = "2027-03-02"  # Tuesday, 26 hours after NOW
MOBILE = "06 12 34 56 78"


@pytest.fixture
def place():
    commune = CommuneFactory(name="Saint-Flour", postal_codes="15100")
    return PlaceFactory(
        name="Espace France Services",
        address="2 rue du Collège",
        commune=commune,
        phone="04 71 60 00 00",
    )


@pytest.fixture
def room(place):
    return ResourceFactory(place=place, name="Bureau d'accueil")


def book(room, *, actor=None, start="10:00", end="10:30", **kwargs):
    kwargs.setdefault("now", NOW)
    return services.booking_create(
        actor=actor or UserFactory(),
        resources=[room],
        start=at(DAY, start),
        end=at(DAY, end),
        **kwargs,
    )


def calendar_part(message):
    parts = [
        a
        for a in message.attachments
        if hasattr(a, "get_content_type") and a.get_content_type() == "text/calendar"
    ]
    assert len(parts) == 1
    return parts[0], icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


def test_an_account_holder_gets_an_email_with_an_invitation(
    room, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory(first_name="Jeanne", last_name="Martin")
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, actor=person, notes="Diabète, vient avec sa fille")

    assert sms_outbox == []
    [message] = mailoutbox
    assert message.to == [person.email]
    assert message.subject == "Votre réservation est enregistrée"
    assert "Bonjour Jeanne Martin," in message.body
    assert "Votre réservation est confirmée." in message.body
    assert "Quand : mardi 2 mars 2027, de 10h à 10h30" in message.body
    assert "Où : Espace France Services, 2 rue du Collège, 15100 Saint-Flour" in message.body
    assert f"Référence : {booking.reference}" in message.body
    assert "04 71 60 00 00" in message.body
    assert "Diabète" not in message.body

    part, calendar = calendar_part(message)
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "rendez-vous.ics"
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.events
    assert str(event["UID"]) == f"reservation-{booking.pk}@127.0.0.1"  # CYBERCANTAL_SITE_URL
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.start == booking.start and event.start.utcoffset() == dt.timedelta(0)
    assert event.end == booking.end
    assert "DTSTART:20270302T090000Z" in part.get_payload(decode=True).decode()
    assert str(event["LOCATION"]) == ("Espace France Services, 2 rue du Collège, 15100 Saint-Flour")
    assert "Diabète" not in part.get_payload(decode=True).decode()
    assert str(event["ATTENDEE"]) == f"mailto:{person.email}"
    # The whole message is well-formed MIME (what a mail server receives).
    assert b'method="REQUEST"' in message.message().as_bytes()


def test_moving_then_cancelling_updates_the_same_calendar_event(
    room, mailoutbox, django_capture_on_commit_callbacks
):
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, actor=person)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_reschedule(
            actor=person, booking=booking, start=at(DAY, "11:00"), end=at(DAY, "11:30"), now=NOW
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(actor=person, booking=booking, now=NOW)

    created, moved, cancelled = mailoutbox
    assert moved.subject == "Votre rendez-vous a été déplacé"
    assert "de 11h à 11h30" in moved.body
    assert cancelled.subject == "Votre réservation est annulée"
    events = [calendar_part(m)[1] for m in (created, moved, cancelled)]
    assert [c["METHOD"] for c in events] == ["REQUEST", "REQUEST", "CANCEL"]
    uids = {str(c.events[0]["UID"]) for c in events}
    assert len(uids) == 1
    assert [c.events[0]["SEQUENCE"] for c in events] == [0, 1, 2]
    assert events[1].events[0].start == at(DAY, "11:00")
    assert events[2].events[0]["STATUS"] == "CANCELLED"
    assert calendar_part(cancelled)[0].get_param("method") == "CANCEL"


def test_a_person_without_an_account_gets_an_sms_and_an_email_if_given(
    room, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    agent = agent_of(room)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(
            room,
            actor=agent,
            person=PersonDetails(name="Paul Vidal", phone=MOBILE),
            channel=Booking.Channel.PHONE,
        )
    [sms] = sms_outbox
    assert sms.to == "+33612345678"
    assert sms.text.startswith("CyberCantal : réservation confirmée le mardi 2 mars à 10h,")
    assert booking.reference in sms.text
    assert sms_segments(sms.text) <= 3
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        book(
            room,
            actor=agent,
            start="11:00",
            end="11:30",
            person=PersonDetails(name="Léa Roux", phone=MOBILE, email="lea@example.org"),
        )
    assert len(sms_outbox) == 2
    [message] = mailoutbox
    assert message.to == ["lea@example.org"]
    assert "Bonjour Léa Roux," in message.body
    calendar_part(message)


def test_sms_for_those_who_prefer_it(
    room, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory(phone="+33612345679", prefers_sms=True)
    with django_capture_on_commit_callbacks(execute=True):
        book(room, actor=person)
    assert mailoutbox == []
    [sms] = sms_outbox
    assert sms.to == "+33612345679"


def test_a_letter_for_those_who_prefer_it(
    room, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory(
        prefers_letter=True, postal_address="Lieu-dit Le Bourg\n15300 Murat", phone=""
    )
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, actor=person)
    assert mailoutbox == [] and sms_outbox == []
    [letter] = Notification.objects.filter(channel=Notification.Channel.LETTER)
    assert letter.status == Notification.Status.SENT
    assert letter.letter_pdf  # ready for the agent to print
    assert letter.recipient_address == "Lieu-dit Le Bourg\n15300 Murat"
    assert letter.body.startswith("Madame, Monsieur,")
    assert booking.reference in letter.body
    assert "salutations distinguées" in letter.body


def test_a_long_place_name_still_fits_in_three_sms(mailoutbox, sms_outbox):
    place = PlaceFactory(
        name="Maison des services au public et de la médiation numérique " * 3,
        address="Avenue du Général de Gaulle, bâtiment B, deuxième étage " * 2,
        commune=CommuneFactory(name="Saint-Martin-sous-Vigouroux"),
    )
    room = ResourceFactory(place=place)
    booking = book(room, person=PersonDetails(name="Paul", phone=MOBILE), actor=agent_of(room))
    booking.refresh_from_db()
    for event in ("created", "confirmed", "rescheduled", "cancelled", "reminder"):
        text = notifications.booking_texts(booking, event, now=NOW).sms
        assert sms_segments(text) <= 3, (event, text)
        assert booking.reference in text or "Prévenez" in text


def test_a_cancelled_day_tells_why_and_suggests_the_next_free_slots(
    room, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    agent = agent_of(room)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, actor=agent, person=PersonDetails(name="Paul", phone=MOBILE))
    with django_capture_on_commit_callbacks(execute=True):
        services.bookings_cancel_day(
            actor=agent, day=dt.date(2027, 3, 2), reason="Routes enneigées", resource=room, now=NOW
        )
    sms = sms_outbox[-1].text
    assert sms.startswith("CyberCantal : nous devons annuler votre rendez-vous du mardi 2 mars")
    assert "Motif : Routes enneigées." in sms
    assert "Prochain créneau libre : mercredi 3 mars à 9h" in sms
    assert sms_segments(sms) <= 3
    booking.refresh_from_db()
    texts = notifications.booking_texts(booking, "cancelled_day", now=NOW)
    assert "Motif : Routes enneigées" in texts.email
    assert "Prochains créneaux libres :" in texts.email
    assert "- mercredi 3 mars 2027 à 9h, Espace France Services, Saint-Flour" in texts.email


def test_suggestions_come_from_nearby_places_offering_the_service(room, place):
    service = ServiceFactory(label="Aide aux démarches en ligne")
    room.services.set([service])
    other = ResourceFactory(place=PlaceFactory(commune=place.commune), services=[service])
    agent = agent_of(room)
    booking = book(room, actor=agent, service=service, person=PersonDetails("Paul", MOBILE))
    services.bookings_cancel_day(
        actor=agent, day=dt.date(2027, 3, 2), reason="Agent malade", resource=room, now=NOW
    )
    booking.refresh_from_db()
    email = notifications.booking_texts(booking, "cancelled_day", now=NOW).email
    assert email.count("- mercredi 3 mars 2027 à 9h,") == 2  # both places, same time
    assert other.place.name in email


def test_a_pending_booking_then_its_confirmation(
    place, mailoutbox, django_capture_on_commit_callbacks
):
    room = ResourceFactory(place=place, approval_required=True)
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, actor=person)
    assert "Un agent va l'examiner" in mailoutbox[0].body
    assert calendar_part(mailoutbox[0])[1].events[0]["STATUS"] == "TENTATIVE"
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_confirm(actor=agent_of(room), booking=booking, now=NOW)
    assert mailoutbox[1].subject == "Votre réservation est confirmée"
    event = calendar_part(mailoutbox[1])[1].events[0]
    assert event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(
    room, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        book(room, actor=agent_of(room), person=PersonDetails("Paul", MOBILE))
        raise Abort
    assert callbacks == []
    assert not Booking.objects.exists()
    assert not Notification.objects.exists()
    assert mailoutbox == [] and sms_outbox == []


def test_a_failing_notification_never_fails_the_booking(
    room, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("fournisseur en panne")

    monkeypatch.setattr(notifications, "notification_send", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        booking = book(room)
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert "could not be queued" in caplog.text


def test_someone_unreachable_is_booked_without_a_message(
    room, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    # A landline and no e-mail: the agent on the phone told the person.
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, actor=agent_of(room), person=PersonDetails("Paul", "04 71 00 00 00"))
    assert booking.status == Booking.Status.CONFIRMED
    assert mailoutbox == [] and sms_outbox == []
    assert not Notification.objects.exists()


def test_each_event_is_sent_once(room, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.booking_event(booking_id=booking.pk, event="created")
    assert len(mailoutbox) == 1
