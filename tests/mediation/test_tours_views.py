"""Pages of itinerant tours: the agents' tours and stops (add, move, cancel), refused to other
organisations' agents; the public's next stops near a commune with links to book them."""

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from cybercantal.booking.models import Booking
from cybercantal.booking.services import PersonDetails
from cybercantal.mediation.models import Tour, TourStop
from tests.accounts.factories import UserFactory
from tests.booking.factories import ResourceFactory, agent_of

from .test_tours import MOBILE, NOW, THURSDAY, TUESDAY, World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """Views read timezone.now(): the tests' fixed Monday 1 March 2027, 08:00."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))


def booking_links(page: str) -> list[str]:
    return [
        html.unescape(url) for url in re.findall(r'href="(/reservations/confirmer/[^"]*)"', page)
    ]


@pytest.fixture
def world():
    return World()


def test_the_agent_lists_and_creates_tours(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("mediation:tour_list"))
    assert response.status_code == 200
    assert "Tournée du Cézallier" in response.text
    response = client.post(
        reverse("mediation:tour_list"),
        {"name": "Tournée de la Planèze", "mediator": world.mediator.pk},
    )
    tour = Tour.objects.get(name="Tournée de la Planèze")
    assert response.status_code == 302
    assert response.url == reverse("mediation:tour_detail", kwargs={"tour_id": tour.pk})
    assert tour.organisation == world.organisation


def test_a_tour_with_another_organisations_mediator_is_refused(client, world):
    other = ResourceFactory(kind="person", name="Autre médiateur")
    client.force_login(world.agent)
    response = client.post(
        reverse("mediation:tour_list"), {"name": "Tournée", "mediator": other.pk}
    )
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.text
    assert Tour.objects.count() == 1


def test_pages_are_for_agents(client, world):
    url = reverse("mediation:tour_list")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403


def test_another_organisations_agent_gets_404(client, world):
    stop = world.stop(world.town_hall, TUESDAY)
    client.force_login(agent_of(ResourceFactory()))
    kwargs = {"tour_id": world.tour.pk}
    stop_kwargs = {**kwargs, "stop_id": stop.pk}
    assert client.get(reverse("mediation:tour_detail", kwargs=kwargs)).status_code == 404
    assert client.get(reverse("mediation:tour_stop_move", kwargs=stop_kwargs)).status_code == 404
    response = client.post(
        reverse("mediation:tour_stop_cancel", kwargs=stop_kwargs), {"reason": "Panne"}
    )
    assert response.status_code == 404
    stop.refresh_from_db()
    assert stop.status == "planned"
    assert "Tournée du Cézallier" not in client.get(reverse("mediation:tour_list")).text


def test_the_agent_adds_a_stop(client, world):
    client.force_login(world.agent)
    url = reverse("mediation:tour_detail", kwargs={"tour_id": world.tour.pk})
    response = client.post(
        url,
        {
            "place": world.town_hall.pk,
            "day": "2027-03-02",
            "start_time": "09:00",
            "end_time": "12:00",
        },
    )
    assert response.status_code == 302
    stop = TourStop.objects.get()
    assert (stop.place, stop.day, stop.rule.place) == (world.town_hall, TUESDAY, world.town_hall)
    page = client.get(url).text
    assert "Mairie de Murat" in page and "Mardi 2 mars" in page


@pytest.mark.parametrize(
    ("day", "start", "end", "expected"),
    [
        ("2027-02-26", "09:00", "12:00", "Ce jour est passé"),
        ("2027-03-02", "12:00", "09:00", "L&#x27;heure de fin doit être après"),
        ("2027-03-02", "10:00", "11:00", "déjà attendu(e) ailleurs"),
    ],
)
def test_a_refused_stop_says_why(client, world, day, start, end, expected):
    world.stop(world.library, TUESDAY)
    client.force_login(world.agent)
    response = client.post(
        reverse("mediation:tour_detail", kwargs={"tour_id": world.tour.pk}),
        {"place": world.town_hall.pk, "day": day, "start_time": start, "end_time": end},
    )
    assert response.status_code == 400
    assert expected in response.text
    assert TourStop.objects.count() == 1


def test_the_agent_cancels_a_stop(client, world, sms_outbox, django_capture_on_commit_callbacks):
    stop = world.stop(world.town_hall, TUESDAY)
    booking = world.book(TUESDAY, person=PersonDetails("Paul", MOBILE))
    client.force_login(world.agent)
    url = reverse(
        "mediation:tour_stop_cancel", kwargs={"tour_id": world.tour.pk, "stop_id": stop.pk}
    )
    assert "Annuler une étape" in client.get(url).text
    assert client.post(url, {"reason": ""}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Mairie fermée"})
    assert response.status_code == 302
    stop.refresh_from_db()
    booking.refresh_from_db()
    assert (stop.status, booking.status) == ("cancelled", "cancelled")
    assert "Motif : Mairie fermée." in sms_outbox[-1].text


def test_the_agent_moves_a_stop(client, world):
    stop = world.stop(world.town_hall, TUESDAY)
    client.force_login(world.agent)
    url = reverse("mediation:tour_stop_move", kwargs={"tour_id": world.tour.pk, "stop_id": stop.pk})
    response = client.post(
        url,
        {
            "place": "",
            "day": "2027-03-04",
            "start_time": "14:00",
            "end_time": "16:00",
            "reason": "Conseil municipal",
        },
    )
    assert response.status_code == 302
    stop.refresh_from_db()
    assert stop.status == "moved"
    assert (stop.moved_to.day, stop.moved_to.place) == (THURSDAY, world.town_hall)


def test_the_public_page_lists_the_stops_near_a_commune_with_booking_links(client, world):
    world.stop(world.library, TUESDAY)  # 11 km from Murat
    world.stop(world.bus, THURSDAY)  # 55 km away
    wednesday = dt.date(2027, 3, 3)
    full = world.stop(world.town_hall, wednesday, "09:00", "09:30")
    world.book(wednesday, "09:00", "09:30")

    response = client.get(
        reverse("mediation:tour_stops_public"), {"insee": world.murat.insee_code, "rayon": 20}
    )
    assert response.status_code == 200
    page = response.text
    assert "Médiathèque d&#x27;Allanche" in page
    assert "Bus numérique" not in page
    assert "Plus de rendez-vous libre en ligne à cette étape." in page  # the full one
    assert full.place.name in page
    links = booking_links(page)
    assert len(links) == 4
    query = parse_qs(urlsplit(links[0]).query)
    assert query["ressource"] == [str(world.mediator.pk)]
    assert query["debut"] == ["2027-03-02T09:00:00+01:00"]
    assert query["prestation"] == ["aide-demarches"]
    # The link leads to the booking engine's confirmation page, which offers the slot.
    confirm = client.get(links[0])
    assert confirm.status_code == 200
    assert "Médiathèque d&#x27;Allanche" in confirm.text


def test_the_public_page_without_a_commune_or_with_an_unknown_one(client, world):
    url = reverse("mediation:tour_stops_public")
    assert client.get(url).status_code == 200
    response = client.get(url, {"commune": "Zzzzz"})
    assert "Nous ne trouvons pas cette commune" in response.text


def test_a_cancelled_stop_is_not_offered_nor_bookable_from_its_old_link(client, world):
    stop = world.stop(world.library, TUESDAY)
    page = client.get(
        reverse("mediation:tour_stops_public"), {"insee": world.murat.insee_code}
    ).text
    link = booking_links(page)[0]
    from cybercantal.mediation.services import tours as services

    services.tour_stop_cancel(actor=world.agent, stop=stop, reason="Panne")
    page = client.get(
        reverse("mediation:tour_stops_public"), {"insee": world.murat.insee_code}
    ).text
    assert "Médiathèque" not in page
    assert "Aucune étape prévue" in page
    response = client.get(link)
    assert "Ce créneau n'est plus libre" in response.text
    assert not Booking.objects.exists()
