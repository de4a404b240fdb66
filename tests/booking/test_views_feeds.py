"""The calendar-feed pages: "Mon agenda sur mon téléphone" on "Mes réservations" (create,
list, revoke a personal feed) and the agents' feeds of a resource on the agenda page. The
secret address is shown once; it answers text/calendar until it is revoked, then 404. Each
permission is tested for its refusal as well as its grant.

Views use timezone.now(): dates here are relative to it."""

import re

import pytest
from django.urls import reverse

from cybercantal.accounts.models import Role
from cybercantal.booking import ical, services
from cybercantal.booking.models import CalendarFeedToken
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import OrganisationFactory, PlaceFactory

from .factories import ResourceFactory
from .test_views import EVERY_DAY, local_at, text

pytestmark = pytest.mark.django_db

FEED_PATH = re.compile(r"/reservations/agenda/([A-Za-z0-9_-]{20,100})\.ics")


@pytest.fixture
def organisation():
    return OrganisationFactory(name="France Services du Lioran")


@pytest.fixture
def desk(organisation):
    return ResourceFactory(
        name="Accueil numérique",
        place=PlaceFactory(organisation=organisation),
        organisation=organisation,
        hours=EVERY_DAY,
        observes_public_holidays=False,
    )


@pytest.fixture
def agent(organisation):
    return MembershipFactory(organisation=organisation, role=Role.MEDIATOR).user


def secret_of(response) -> str:
    tokens = set(FEED_PATH.findall(text(response)))
    assert len(tokens) == 1, tokens
    return tokens.pop()


def feed_url(raw: str) -> str:
    return reverse("booking:feed_ics", kwargs={"token": raw})


def test_my_bookings_offers_a_personal_feed(client):
    client.force_login(UserFactory())
    page = text(client.get(reverse("booking:my_bookings")))
    assert "Mon agenda sur mon téléphone" in page
    assert reverse("booking:my_feed_create") in page


def test_create_shows_the_address_once_it_works_and_revoke_kills_it(client, desk):
    me = UserFactory()
    booking = services.booking_create(
        actor=me, resources=[desk], start=local_at(2, 10), end=local_at(2, 10, 30)
    )
    client.force_login(me)
    back = client.get(reverse("booking:my_feed_create"))  # e.g. back from the login page
    assert back.status_code == 302 and back.url.startswith(reverse("booking:my_bookings"))
    assert not CalendarFeedToken.objects.exists()

    response = client.post(reverse("booking:my_feed_create"), {"name": "Mon téléphone"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    raw = secret_of(response)
    assert "n'est affichée qu'une seule fois" in page
    assert f"webcal://{ical.site_url().split('://', 1)[1]}{feed_url(raw)}" in page
    assert f"{ical.site_url()}{feed_url(raw)}" in page
    feed = CalendarFeedToken.objects.get()
    assert feed.owner == me and feed.resource is None and feed.name == "Mon téléphone"

    # The list shows it (name, created, last used), never the secret again.
    mine = text(client.get(reverse("booking:my_bookings")))
    assert "Mon téléphone" in mine and raw not in mine
    assert "jamais" in mine
    assert reverse("booking:feed_revoke", args=[feed.pk]) in mine

    # The address works, without a session.
    anonymous = client.__class__()
    calendar = anonymous.get(feed_url(raw))
    assert calendar.status_code == 200
    assert calendar["Content-Type"].startswith("text/calendar")
    assert ical.booking_uid(booking) in calendar.content.decode()
    assert (
        "jamais"
        not in text(client.get(reverse("booking:my_bookings"))).split(
            "Mon agenda sur mon téléphone"
        )[1]
    )

    # Revoke: a confirmation step, then the address answers 404.
    revoke_url = reverse("booking:feed_revoke", args=[feed.pk])
    assert "Oui, révoquer cette adresse" in text(client.get(revoke_url))
    assert anonymous.get(feed_url(raw)).status_code == 200  # a GET changes nothing
    response = client.post(revoke_url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("booking:my_bookings"))
    assert anonymous.get(feed_url(raw)).status_code == 404
    mine = text(client.get(reverse("booking:my_bookings")))
    assert "« Mon téléphone » est révoqué" in mine  # the message, and no longer in the list
    assert revoke_url not in mine
    assert client.post(revoke_url).status_code == 404  # already revoked


def test_feeds_need_an_account_and_are_their_owners_only(client):
    response = client.post(reverse("booking:my_feed_create"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not CalendarFeedToken.objects.exists()

    owner = UserFactory()
    feed, raw = ical.calendar_feed_create(actor=owner)
    client.force_login(UserFactory())
    revoke_url = reverse("booking:feed_revoke", args=[feed.pk])
    assert client.get(revoke_url).status_code == 404
    assert client.post(revoke_url).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert client.get(feed_url(raw)).status_code == 200


def test_a_name_too_long_is_a_message(client):
    client.force_login(UserFactory())
    response = client.post(reverse("booking:my_feed_create"), {"name": "x" * 101}, follow=True)
    assert "100 caractères au plus" in text(response)
    assert not CalendarFeedToken.objects.exists()


# --- Agents: the feed of a resource ------------------------------------------------------------


def test_an_agent_publishes_and_revokes_a_resources_feed(client, desk, agent):
    someone = UserFactory()
    booking = services.booking_create(
        actor=someone, resources=[desk], start=local_at(1, 9), end=local_at(1, 9, 30)
    )
    client.force_login(agent)
    agenda = text(client.get(reverse("booking:agenda"), {"cible": f"ressource-{desk.pk}"}))
    assert "Agenda d'une ressource sur votre téléphone" in agenda
    assert reverse("booking:agenda_feed_create") in agenda

    response = client.post(
        reverse("booking:agenda_feed_create"), {"resource": desk.pk, "name": "Accueil"}
    )
    assert response.status_code == 200
    raw = secret_of(response)
    feed = CalendarFeedToken.objects.get()
    assert feed.owner == agent and feed.resource == desk

    calendar = client.__class__().get(feed_url(raw))
    assert calendar.status_code == 200
    assert calendar["Content-Type"].startswith("text/calendar")
    assert ical.booking_uid(booking) in calendar.content.decode()

    agenda = text(client.get(reverse("booking:agenda")))
    assert "Accueil" in agenda and raw not in agenda
    response = client.post(reverse("booking:feed_revoke", args=[feed.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("booking:agenda"))
    assert client.get(feed_url(raw)).status_code == 404


def test_a_resident_cannot_publish_a_resources_feed(client, desk):
    resident = MembershipFactory(organisation=desk.organisation, role=Role.RESIDENT).user
    client.force_login(resident)
    response = client.post(reverse("booking:agenda_feed_create"), {"resource": desk.pk})
    assert response.status_code == 403
    assert not CalendarFeedToken.objects.exists()


def test_an_agent_of_another_organisation_cannot(client, desk):
    other_agent = MembershipFactory(role=Role.MEDIATOR).user
    ResourceFactory(organisation=other_agent.memberships.get().organisation)
    client.force_login(other_agent)
    response = client.post(reverse("booking:agenda_feed_create"), {"resource": desk.pk})
    assert response.status_code == 403
    assert not CalendarFeedToken.objects.exists()

    # Nor revoke the feed of one who may.
    owner = MembershipFactory(organisation=desk.organisation, role=Role.MEDIATOR).user
    feed, raw = ical.calendar_feed_create(actor=owner, resource=desk)
    assert client.post(reverse("booking:feed_revoke", args=[feed.pk])).status_code == 404
    assert client.get(feed_url(raw)).status_code == 200
