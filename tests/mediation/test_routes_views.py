"""The route of the day page: the visits in route order with addresses and phones, a
printable letter for each person without e-mail, booking a home visit from the page, and the
page refused outside the mediator's structure."""

import datetime as dt
import html

import pytest
from django.urls import reverse

from cybercantal.booking.services import PersonDetails
from cybercantal.mediation.models import HomeVisit
from cybercantal.mediation.services.routes import day_route, home_visit_book
from tests.accounts.factories import UserFactory
from tests.booking.factories import ResourceFactory, agent_of

from .test_routes import NOW, TUESDAY, World

pytestmark = pytest.mark.django_db
URL = reverse("mediation:day_route")


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))


@pytest.fixture
def world():
    world = World()
    world.visit("Allanche", "matin", phone="06 39 98 00 01")
    world.visit("Dienne", "matin", phone="06 39 98 00 02")
    home_visit_book(
        actor=world.agent,
        mediator=world.mediator,
        day=TUESDAY,
        window="apres_midi",
        address="5 place de l'Église",
        commune=world.communes["Neussargues"],
        person=PersonDetails("Lucie Avec-Courriel", "06 39 98 00 03", "lucie@example.org"),
        now=NOW,
    )
    return world


def page(client, user, **params):
    client.force_login(user)
    return client.get(URL, {"jour": TUESDAY.isoformat(), **params})


def test_the_page_lists_the_visits_in_route_order_with_letters(client, world):
    response = page(client, world.agent, mediateur=world.mediator.pk)
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    route = day_route(actor=world.agent, mediator=world.mediator, day=TUESDAY)
    names = [s.booking.display_name for s in route.stops]
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions)  # in route order
    assert "2 rue du Four, Dienne" in text and "06 39 98 00 02" in text
    total = f"{route.total_km:.1f}".replace(".", ",")
    assert f"Environ {total} km et {route.drive_minutes} minutes de route" in text
    # A letter for each person without e-mail; Lucie gets hers by e-mail.
    assert text.count("Confirmation de votre rendez-vous à domicile") == 2
    assert "Courrier pour Habitant de Dienne" in text
    assert "Courrier pour Lucie" not in text
    assert "viendra chez vous le mardi 2 mars 2027, le matin (9h–12h)" in text


def test_the_mediator_sees_their_own_route_by_default(client, world):
    world.mediator.person = UserFactory()
    world.mediator.save()
    response = page(client, world.mediator.person)
    assert response.status_code == 200
    assert "Habitant de Allanche" in html.unescape(response.content.decode())


def test_another_structure_gets_404_and_outsiders_403(client, world):
    stranger = agent_of(ResourceFactory(kind="person", name="Autre médiateur"))
    response = page(client, stranger, mediateur=world.mediator.pk)
    assert response.status_code == 404
    response = page(client, stranger)
    text = html.unescape(response.content.decode())
    assert response.status_code == 200 and "Habitant de" not in text
    assert page(client, UserFactory()).status_code == 403


def test_booking_a_home_visit_from_the_page(client, world):
    client.force_login(world.agent)
    response = client.post(
        f"{URL}?jour={TUESDAY.isoformat()}&mediateur={world.mediator.pk}",
        {
            "day": TUESDAY.isoformat(),
            "window": "apres_midi",
            "name": "Henri Sans-Courriel",
            "phone": "06 39 98 00 09",
            "address": "Le Bourg",
            "commune": "Virargues",
            "duration_minutes": 60,
        },
    )
    assert response.status_code == 302
    visit = HomeVisit.objects.get(booking__person_name="Henri Sans-Courriel")
    assert visit.window == "apres_midi" and visit.commune.name == "Virargues"
    response = client.post(
        f"{URL}?jour={TUESDAY.isoformat()}&mediateur={world.mediator.pk}",
        {
            "day": TUESDAY.isoformat(),
            "window": "apres_midi",
            "name": "Sans adresse",
            "phone": "06 39 98 00 08",
            "address": "Le Bourg",
            "commune": "Nulle-Part-sur-Rien",
            "duration_minutes": 60,
        },
    )
    assert response.status_code == 400
    assert "Nous ne trouvons pas cette commune" in html.unescape(response.content.decode())


def test_a_bad_day_falls_back_to_today(client, world):
    client.force_login(world.agent)
    response = client.get(URL, {"jour": "pas-une-date", "mediateur": world.mediator.pk})
    assert response.status_code == 200
