"""Itinerant tours (mediation.services.tours): a stop makes the mediator bookable at its place
that day; cancelling or moving it removes that, cancels the bookings made there and tells each
person why, the new date and the next stops nearby; the refusals."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cybercantal.booking import selectors as booking_selectors
from cybercantal.booking import services as booking_services
from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import AvailabilityRule, Booking, Resource
from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import AuditLog, Notification
from cybercantal.core.notifications.sms import sms_segments
from cybercantal.mediation.models import MediationPlace, TourStop
from cybercantal.mediation.selectors import tours as selectors
from cybercantal.mediation.services import tours as services
from tests.accounts.factories import UserFactory
from tests.booking.factories import ResourceFactory, ServiceFactory, agent_of
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)  # Monday 1 March 2027, 08:00
TUESDAY = dt.date(2027, 3, 2)
THURSDAY = dt.date(2027, 3, 4)
MOBILE = "06 12 34 56 78"


def at(day: dt.date, time: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(time), tzinfo=PARIS)


def hm(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


class World:
    """A mediator of an organisation, its tour, communes at known distances."""

    def __init__(self):
        self.organisation = OrganisationFactory(name="France Services du Cézallier")
        self.service = ServiceFactory(code="aide-demarches", label="Aide aux démarches")
        # Latitude differences only: 0.1° ≈ 11 km.
        self.murat = CommuneFactory(name="Murat", latitude=45.0, longitude=2.5)
        self.allanche = CommuneFactory(name="Allanche", latitude=45.1, longitude=2.5)
        self.far = CommuneFactory(name="Mauriac", latitude=45.5, longitude=2.5)
        self.home = PlaceFactory(name="Maison France Services", commune=self.murat)
        self.mediator = ResourceFactory(
            name="Camille, médiatrice",
            kind=Resource.Kind.PERSON,
            place=self.home,
            organisation=self.organisation,
            hours=[],
            services=[self.service],
        )
        self.agent = agent_of(self.mediator)
        self.town_hall = PlaceFactory(name="Mairie de Murat", commune=self.murat)
        self.library = PlaceFactory(name="Médiathèque d'Allanche", commune=self.allanche)
        self.bus = PlaceFactory(name="Bus numérique, place du marché", commune=self.far)
        self.tour = services.tour_create(
            actor=self.agent,
            organisation=self.organisation,
            mediator=self.mediator,
            name="Tournée du Cézallier",
        )

    def stop(self, place, day, start="09:00", end="12:00"):
        return services.tour_stop_add(
            actor=self.agent,
            tour=self.tour,
            place=place,
            day=day,
            start_time=hm(start),
            end_time=hm(end),
            now=NOW,
        )

    def book(self, day, start="10:00", end="10:30", person=None, user=None):
        return booking_services.booking_create(
            actor=user or UserFactory(),
            resources=[self.mediator],
            start=at(day, start),
            end=at(day, end),
            service=self.service,
            person=person,
            now=NOW,
        )

    def slots(self, day):
        # The search keeps rules in memory by Resource.rules_version: read the current one,
        # as a page would.
        self.mediator.refresh_from_db()
        return booking_selectors.availability(
            resource=self.mediator, start=at(day, "00:00"), end=at(day, "23:59"), now=NOW
        )


@pytest.fixture
def world():
    return World()


def test_a_stop_makes_the_mediator_bookable_there_that_day_only(world):
    assert world.slots(TUESDAY) == []
    stop = world.stop(world.town_hall, TUESDAY)

    slots = world.slots(TUESDAY)
    assert [s.start for s in slots][:2] == [at(TUESDAY, "09:00"), at(TUESDAY, "09:30")]
    assert slots[-1].end == at(TUESDAY, "12:00")
    assert {s.place_id for s in slots} == {world.town_hall.pk}
    assert world.slots(TUESDAY + dt.timedelta(days=7)) == []  # a dated stop, not weekly
    rule = stop.rule
    assert (rule.weekday, rule.valid_from, rule.valid_until, rule.place) == (
        1,
        TUESDAY,
        TUESDAY,
        world.town_hall,
    )
    # The public search finds it around the commune.
    offers = booking_selectors.slots_search(
        service=world.service,
        commune=world.murat,
        radius_km=10,
        start=NOW,
        end=NOW + dt.timedelta(days=7),
        now=NOW,
    )
    assert offers and {o.place for o in offers} == {world.town_hall}
    booking = world.book(TUESDAY)
    assert booking.place == world.town_hall
    assert AuditLog.objects.filter(action="mediation.tour_stop_add").count() == 1


def test_each_stop_place_is_an_itinerant_mediation_place(world):
    world.organisation.siret = "13002526500013"
    world.organisation.save()
    fixed = MediationPlace.objects.create(place=world.library, pivot="12345678901234")
    world.stop(world.town_hall, TUESDAY)
    world.stop(world.library, THURSDAY)

    created = MediationPlace.objects.get(place=world.town_hall)
    assert created.itinerance == "Itinérant"
    assert created.pivot == "13002526500013"
    assert created.services == ["Aide aux démarches administratives"]
    fixed.refresh_from_db()
    assert fixed.itinerance == "Fixe"  # an existing record is left as it is


@pytest.mark.parametrize(
    ("day", "start", "end", "expected"),
    [
        (dt.date(2027, 2, 26), "09:00", "12:00", "Ce jour est passé"),
        (TUESDAY, "12:00", "09:00", "L'heure de fin doit être après"),
        (TUESDAY, "10:00", "10:00", "L'heure de fin doit être après"),
        (TUESDAY, "11:00", "15:00", "est déjà attendu(e) ailleurs ce jour-là de 9h à 12h"),
    ],
)
def test_a_stop_is_refused_without_writing(world, day, start, end, expected):
    world.stop(world.town_hall, TUESDAY)
    with pytest.raises(BookingRuleError) as info:
        world.stop(world.library, day, start, end)
    assert expected in info.value.message
    assert TourStop.objects.count() == 1
    assert AvailabilityRule.objects.count() == 1


def test_back_to_back_stops_and_other_days_are_fine(world):
    world.stop(world.town_hall, TUESDAY, "09:00", "12:00")
    world.stop(world.library, TUESDAY, "12:00", "17:00")
    world.stop(world.library, THURSDAY, "09:00", "12:00")
    assert TourStop.objects.count() == 3


def test_the_mediators_weekly_hours_elsewhere_count_as_an_overlap(world):
    AvailabilityRule.objects.create(
        resource=world.mediator, weekday=1, start_time=hm("14:00"), end_time=hm("17:00")
    )
    with pytest.raises(BookingRuleError, match="Maison France Services"):
        world.stop(world.library, TUESDAY, "16:00", "18:00")


def test_a_place_not_open_to_the_public_is_refused(world):
    private = PlaceFactory(commune=world.murat, is_public=False, name="Bureau du maire")
    with pytest.raises(BookingRuleError, match="n'est pas un lieu public"):
        world.stop(private, TUESDAY)
    assert not TourStop.objects.exists()


def test_only_agents_of_the_organisation_run_a_tour(world):
    stranger = agent_of(ResourceFactory())  # an agent, but of another organisation
    resident = UserFactory()
    from tests.accounts.factories import MembershipFactory

    MembershipFactory(user=resident, organisation=world.organisation, role="resident")
    for actor in (stranger, resident, None):
        with pytest.raises(BookingForbidden):
            services.tour_stop_add(
                actor=actor,
                tour=world.tour,
                place=world.town_hall,
                day=TUESDAY,
                start_time=hm("09:00"),
                end_time=hm("12:00"),
                now=NOW,
            )
        with pytest.raises(BookingForbidden):
            services.tour_create(
                actor=actor,
                organisation=world.organisation,
                mediator=world.mediator,
                name="Autre tournée",
            )
    stop = world.stop(world.town_hall, TUESDAY)
    with pytest.raises(BookingForbidden):
        services.tour_stop_cancel(actor=stranger, stop=stop, reason="Panne", now=NOW)
    stop.refresh_from_db()
    assert stop.status == "planned" and stop.rule_id is not None


def test_a_tour_needs_a_person_of_the_organisation(world):
    room = ResourceFactory(organisation=world.organisation, kind=Resource.Kind.ROOM)
    other = ResourceFactory(kind=Resource.Kind.PERSON)
    for mediator in (room, other):
        with pytest.raises(BookingRuleError, match="Choisissez un médiateur"):
            services.tour_create(
                actor=world.agent,
                organisation=world.organisation,
                mediator=mediator,
                name="Tournée",
            )


def test_cancelling_a_stop_cancels_its_bookings_and_tells_the_next_stops_nearby(
    world, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    stop = world.stop(world.town_hall, TUESDAY)
    same_day_elsewhere = world.stop(world.library, TUESDAY, "14:00", "17:00")
    world.stop(world.library, THURSDAY)
    world.stop(world.bus, dt.date(2027, 3, 3))  # next by date but 55 km away
    world.stop(world.town_hall, dt.date(2027, 3, 9))
    world.stop(world.town_hall, dt.date(2027, 3, 16))  # a 5th: only 3 are named
    with django_capture_on_commit_callbacks(execute=True):
        by_sms = world.book(TUESDAY, person=PersonDetails("Paul", MOBILE))
        by_mail = world.book(TUESDAY, "11:00", "11:30", user=UserFactory(first_name="Lou"))
        afternoon = world.book(TUESDAY, "14:00", "14:30", person=PersonDetails("Ana", MOBILE))
    mailoutbox.clear()
    sms_outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.tour_stop_cancel(actor=world.agent, stop=stop, reason="Mairie fermée", now=NOW)

    stop.refresh_from_db()
    assert (stop.status, stop.rule, stop.reason) == ("cancelled", None, "Mairie fermée")
    assert AvailabilityRule.objects.filter(place=world.town_hall, valid_from=TUESDAY).count() == 0
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses[by_sms.pk] == statuses[by_mail.pk] == "cancelled"
    assert statuses[afternoon.pk] == "confirmed"  # the other stop that day stands
    assert same_day_elsewhere.rule.pk
    assert {s.place_id for s in world.slots(TUESDAY)} == {world.library.pk}

    [sms] = sms_outbox
    assert sms.to == "+33612345678"
    assert "nous devons annuler votre rendez-vous du mardi 2 mars" in sms.text
    assert "Prochains passages : 2/3 14h Allanche, 4/3 9h Allanche, 9/3 9h Murat." in sms.text
    assert "Mauriac" not in sms.text
    assert sms_segments(sms.text) <= 3
    [mail] = mailoutbox
    assert mail.to == [by_mail.user.email]
    assert "Motif : Mairie fermée" in mail.body
    assert "Prochains passages de la tournée près de chez vous :" in mail.body
    assert "- mardi 2 mars 2027 de 14h à 17h, Médiathèque d'Allanche, Allanche" in mail.body
    assert "- jeudi 4 mars 2027 de 9h à 12h, Médiathèque d'Allanche, Allanche" in mail.body
    assert "- mardi 9 mars 2027 de 9h à 12h, Mairie de Murat, Murat" in mail.body
    assert "16 mars" not in mail.body and "Bus numérique" not in mail.body
    assert Notification.objects.filter(subject="Votre rendez-vous est annulé").count() == 2
    audit = AuditLog.objects.get(action="mediation.tour_stop_cancel")
    assert audit.data == {"reason": "Mairie fermée", "bookings_cancelled": 2}


def test_a_cancelled_stop_cannot_be_booked_nor_cancelled_again(world):
    stop = world.stop(world.town_hall, TUESDAY)
    services.tour_stop_cancel(actor=world.agent, stop=stop, reason="Panne du bus", now=NOW)
    with pytest.raises(BookingRuleError) as info:
        world.book(TUESDAY)
    assert "n'est pas disponible" in info.value.message or "pas ouvert" in info.value.message
    with pytest.raises(BookingRuleError, match="déjà « annulée »"):
        services.tour_stop_cancel(actor=world.agent, stop=stop, reason="Encore", now=NOW)


def test_cancelling_needs_a_reason(world):
    stop = world.stop(world.town_hall, TUESDAY)
    with pytest.raises(BookingRuleError, match="Indiquez le motif"):
        services.tour_stop_cancel(actor=world.agent, stop=stop, reason="  ", now=NOW)
    stop.refresh_from_db()
    assert stop.status == "planned"


def test_moving_a_stop_gives_the_new_date_and_place(
    world, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    stop = world.stop(world.town_hall, TUESDAY)
    with django_capture_on_commit_callbacks(execute=True):
        booking = world.book(TUESDAY, person=PersonDetails("Paul", MOBILE, "paul@example.org"))
    mailoutbox.clear()
    sms_outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        new = services.tour_stop_move(
            actor=world.agent,
            stop=stop,
            day=THURSDAY,
            start_time=hm("14:00"),
            end_time=hm("16:00"),
            place=world.library,
            reason="Salle indisponible",
            now=NOW,
        )

    stop.refresh_from_db()
    assert (stop.status, stop.moved_to, stop.rule) == ("moved", new, None)
    assert (new.status, new.place, new.day) == ("planned", world.library, THURSDAY)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert world.slots(TUESDAY) == []
    assert {s.place_id for s in world.slots(THURSDAY)} == {world.library.pk}
    assert world.slots(THURSDAY)[0].start == at(THURSDAY, "14:00")
    [sms] = sms_outbox
    assert "Permanence déplacée au 4/3 14h Allanche." in sms.text
    [mail] = mailoutbox
    assert (
        "Cette permanence est déplacée : jeudi 4 mars 2027 de 14h à 16h, "
        "Médiathèque d'Allanche, Allanche." in mail.body
    )
    assert "Motif : Salle indisponible" in mail.body


def test_moving_to_the_same_hours_elsewhere_that_day_is_allowed(world):
    stop = world.stop(world.town_hall, TUESDAY)
    new = services.tour_stop_move(
        actor=world.agent,
        stop=stop,
        day=TUESDAY,
        start_time=hm("09:00"),
        end_time=hm("12:00"),
        place=world.library,
        reason="Travaux à la mairie",
        now=NOW,
    )
    assert {s.place_id for s in world.slots(TUESDAY)} == {new.place_id}


def test_a_move_is_refused_when_the_new_hours_clash(world):
    stop = world.stop(world.town_hall, TUESDAY)
    world.stop(world.library, THURSDAY)
    with pytest.raises(BookingRuleError, match="déjà attendu"):
        services.tour_stop_move(
            actor=world.agent,
            stop=stop,
            day=THURSDAY,
            start_time=hm("10:00"),
            end_time=hm("11:00"),
            reason="Travaux",
            now=NOW,
        )
    stop.refresh_from_db()
    assert stop.status == "planned" and stop.rule_id is not None
    assert TourStop.objects.count() == 2


def test_public_stops_near_a_commune_by_date_then_distance(world):
    near_later = world.stop(world.town_hall, THURSDAY)
    near_first = world.stop(world.library, TUESDAY)
    world.stop(world.bus, TUESDAY, "14:00", "16:00")  # 55 km away
    cancelled = world.stop(world.town_hall, dt.date(2027, 3, 3))
    services.tour_stop_cancel(actor=world.agent, stop=cancelled, reason="Panne", now=NOW)

    found = selectors.public_stops_near(commune=world.murat, radius_km=20, today=NOW.date())
    assert [s.stop for s in found] == [near_first, near_later]
    assert found[0].distance_km == pytest.approx(11.1, abs=0.2)
    assert found[1].distance_km == 0
    assert selectors.public_stops_near(commune=world.far, radius_km=5, today=NOW.date())


def test_agents_see_their_organisations_tours_only(world):
    world.stop(world.town_hall, TUESDAY)
    stranger = agent_of(ResourceFactory())
    assert list(selectors.tour_list(actor=world.agent)) == [world.tour]
    assert list(selectors.tour_list(actor=stranger)) == []
    assert selectors.tour_get(actor=stranger, tour_id=world.tour.pk) is None
    assert selectors.organisation_stops_upcoming(actor=stranger, today=NOW.date()).count() == 0
    assert selectors.organisation_stops_upcoming(actor=world.agent, today=NOW.date()).count() == 1
