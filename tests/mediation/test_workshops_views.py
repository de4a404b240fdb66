"""Workshop pages: the mediator creates a session, registers a caller, takes attendance on
the spot and closes it; another structure's mediator gets 404; the public finds sessions near
a commune and registers with a name and a mobile confirmed by an SMS code; a full session
puts them on the waiting list."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from cybercantal.booking.models import Booking, WaitingListEntry
from cybercantal.mediation.models import Activity, WorkshopSession
from tests.accounts.factories import UserFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from .test_workshops import AFTER, DURING, END, MOBILES, NOW, START, create, mediator_of, register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """Views read timezone.now(): the tests' Monday 1 March 2027, 08:00, then as set."""
    from django.utils import timezone

    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"].astimezone(dt.UTC))
    return clock


@pytest.fixture
def structure():
    return OrganisationFactory(name="Espace numérique de Murat")


@pytest.fixture
def mediator(structure):
    return mediator_of(structure)


@pytest.fixture
def place():
    return PlaceFactory(commune=CommuneFactory(latitude=45.11, longitude=2.87))


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def session(mediator, structure, place):
    return create(mediator, structure, place, capacity=1)


def set_now(frozen, moment):
    frozen["now"] = moment


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_mediator_creates_a_session_from_the_list_page(client, mediator, place):
    client.force_login(mediator)
    url = reverse("mediation:workshop_list")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "title": "Mes courriels",
            "theme": "courriel",
            "level": "intermediaire",
            "place": place.pk,
            "day": "2027-03-03",
            "start_time": "10:00",
            "end_time": "12:00",
            "capacity": 8,
        },
    )
    session = WorkshopSession.objects.get(title="Mes courriels")
    assert response.status_code == 302
    assert response.url == reverse("mediation:workshop_detail", kwargs={"session_id": session.pk})
    assert session.capacity == session.resource.capacity == 8


def test_a_refused_creation_says_why_in_french(client, mediator, place):
    client.force_login(mediator)
    response = client.post(
        reverse("mediation:workshop_list"),
        {
            "title": "Mes courriels",
            "theme": "courriel",
            "level": "avance",
            "place": place.pk,
            "day": "2027-03-03",
            "start_time": "10:00",
            "end_time": "12:00",
            "capacity": 0,
        },
    )
    assert response.status_code == 400
    assert "Un atelier accueille au moins une personne" in text(response)
    assert not WorkshopSession.objects.exists()


def test_pages_are_for_mediators_of_the_structure(client, session):
    other = mediator_of(OrganisationFactory())
    client.force_login(other)
    for name in ("mediation:workshop_detail", "mediation:workshop_attendance"):
        assert client.get(reverse(name, kwargs={"session_id": session.pk})).status_code == 404
    response = client.post(
        reverse("mediation:workshop_detail", kwargs={"session_id": session.pk}),
        {"name": "Intrus", "phone": MOBILES[0]},
    )
    assert response.status_code == 404
    assert not Booking.objects.exists()
    client.force_login(UserFactory())
    assert client.get(reverse("mediation:workshop_list")).status_code == 403


def test_the_mediator_registers_a_caller_then_the_waiting_list(client, mediator, session):
    client.force_login(mediator)
    url = reverse("mediation:workshop_detail", kwargs={"session_id": session.pk})
    response = client.post(url, {"name": "Marie Dupont", "phone": MOBILES[0]})
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.channel == Booking.Channel.PHONE and booking.person_name == "Marie Dupont"
    response = client.post(url, {"name": "Paul Durand", "phone": MOBILES[1]}, follow=True)
    assert "est sur la liste d'attente" in text(response)
    assert WaitingListEntry.objects.get().person_name == "Paul Durand"
    assert "Marie Dupont" in text(client.get(url))


def test_attendance_on_the_spot_and_closing(client, mediator, session, frozen):
    booking = register(session).booking
    url = reverse("mediation:workshop_attendance", kwargs={"session_id": session.pk})
    set_now(frozen, DURING)
    client.force_login(mediator)  # sessions expire: sign in at the moment of the workshop
    page = client.get(url)
    assert page.status_code == 200 and "Jeanne Martin" in text(page)
    response = client.post(url, {"action": "present", "inscription": booking.pk})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    response = client.post(url, {"action": "sans-inscription", "name": "Voisin venu", "phone": ""})
    assert response.status_code == 302
    set_now(frozen, AFTER)
    response = client.post(url, {"action": "cloturer"}, follow=True)
    assert "compte rendu compte 2 participant" in text(response)
    assert Activity.objects.get().participants_count == 2
    response = client.post(url, {"action": "cloturer"})
    assert response.status_code == 422
    assert "déjà clôturé" in text(response)
    assert Activity.objects.count() == 1


def test_the_public_finds_sessions_near_a_commune(client, session, place):
    response = client.get(
        reverse("mediation:workshops_public"), {"insee": place.commune.insee_code, "rayon": 10}
    )
    assert response.status_code == 200
    assert "Premiers pas sur la tablette" in text(response)
    assert "1 place libre" in text(response)
    register(session)
    response = client.get(
        reverse("mediation:workshops_public"), {"insee": place.commune.insee_code, "rayon": 10}
    )
    assert "Complet : inscription sur la liste d'attente" in text(response)


def sms_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].text).group(1)


def test_public_registration_with_the_sms_code(client, session, sms_outbox, send_now):
    url = reverse("mediation:workshop_register", kwargs={"session_id": session.pk})
    assert "Recevoir le code par SMS" in text(client.get(url))
    with send_now():
        response = client.post(
            url, {"action": "code", "name": "Jeanne Martin", "phone": MOBILES[0], "email": ""}
        )
    code_url = reverse("mediation:workshop_register_code", kwargs={"session_id": session.pk})
    assert response.status_code == 302 and response.url == code_url
    assert not Booking.objects.exists()
    right = sms_code(sms_outbox)
    wrong = client.post(code_url, {"code": "000000" if right != "000000" else "111111"})
    assert wrong.status_code == 400 and not Booking.objects.exists()
    response = client.post(code_url, {"code": sms_code(sms_outbox)})
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("booking:booking_done", kwargs={"reference": booking.reference})
    assert (booking.start, booking.end) == (START, END)
    assert booking.allocations.get().resource == session.resource
    assert client.get(response.url).status_code == 200


def test_a_full_session_registers_the_public_on_the_waiting_list(
    client, session, sms_outbox, send_now
):
    register(session, name="Déjà inscrite", phone=MOBILES[1])
    url = reverse("mediation:workshop_register", kwargs={"session_id": session.pk})
    assert "complet" in text(client.get(url))
    with send_now():
        client.post(url, {"action": "code", "name": "Paul", "phone": MOBILES[0], "email": ""})
    code_url = reverse("mediation:workshop_register_code", kwargs={"session_id": session.pk})
    response = client.post(code_url, {"code": sms_code(sms_outbox)})
    assert response.status_code == 200
    assert "Vous êtes sur la liste d'attente" in text(response)
    entry = WaitingListEntry.objects.get()
    assert entry.person_name == "Paul" and entry.resource == session.resource
    assert Booking.objects.count() == 1


def test_a_past_session_has_no_registration_page(client, session, frozen):
    set_now(frozen, DURING)
    url = reverse("mediation:workshop_register", kwargs={"session_id": session.pk})
    assert client.get(url).status_code == 404
    assert NOW < START  # the session was upcoming when created


def marks_on_page(response) -> dict[str, str]:
    """Each registrant's mark as the page writes it (text, not colour)."""
    page = text(response)
    return dict(
        re.findall(
            r'class="attendance__name">([^<]+)</span>.*?class="attendance__mark[^"]*">'
            r'<span class="visually-hidden">Appel : </span>(?:<span aria-hidden="true">. </span>)?'
            r"([^<]+)</p>",
            page,
            flags=re.S,
        )
    )


def test_the_mediator_corrects_and_undoes_a_mark_until_the_closing(
    client, mediator, session, frozen
):
    booking = register(session).booking
    url = reverse("mediation:workshop_attendance", kwargs={"session_id": session.pk})
    set_now(frozen, DURING)
    client.force_login(mediator)
    assert marks_on_page(client.get(url)) == {"Jeanne Martin": "Pas encore noté(e)"}

    steps = [
        ("present", Booking.Status.ATTENDED, "Présent(e)", "Jeanne Martin est noté(e) présent(e)."),
        ("absent", Booking.Status.NO_SHOW, "Absent(e)", "Jeanne Martin est noté(e) absent(e)."),
        ("present", Booking.Status.ATTENDED, "Présent(e)", "Jeanne Martin est noté(e) présent(e)."),
        (
            "effacer",
            Booking.Status.CONFIRMED,
            "Pas encore noté(e)",
            "Jeanne Martin n'est plus noté(e)",
        ),
    ]
    for action, status, mark, message in steps:
        response = client.post(url, {"action": action, "inscription": booking.pk})
        assert response.status_code == 302
        assert response.url.endswith(f"#inscription-{booking.pk}")
        booking.refresh_from_db()
        assert booking.status == status
        page = client.get(url)
        assert marks_on_page(page) == {"Jeanne Martin": mark}
        assert message in text(page)
    assert "Effacer la présence" not in text(page)  # nothing to undo any more

    client.post(url, {"action": "absent", "inscription": booking.pk})
    page = text(client.get(url))
    assert "Corriger : présent(e)" in page and "Effacer l'absence" in page
    set_now(frozen, AFTER)
    client.post(url, {"action": "cloturer"})
    transitions = booking.transitions.count()

    for action in ("present", "effacer"):
        response = client.post(url, {"action": action, "inscription": booking.pk})
        assert response.status_code == 422
        assert "l'appel ne peut plus être modifié" in text(response)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.NO_SHOW
    assert booking.transitions.count() == transitions
    page = client.get(url)
    assert marks_on_page(page) == {"Jeanne Martin": "Absent(e)"}  # still written out
    assert 'name="inscription"' not in text(page)  # no more buttons
    session.refresh_from_db()
    assert session.closed_at is not None and not Activity.objects.exists()  # nobody came


def test_corrections_are_for_the_structure_s_mediators_only(client, mediator, session, frozen):
    booking = register(session).booking
    url = reverse("mediation:workshop_attendance", kwargs={"session_id": session.pk})
    set_now(frozen, DURING)
    client.force_login(mediator)
    client.post(url, {"action": "present", "inscription": booking.pk})
    for intruder in (mediator_of(OrganisationFactory()), UserFactory()):
        client.force_login(intruder)
        for action in ("absent", "effacer"):
            response = client.post(url, {"action": action, "inscription": booking.pk})
            assert response.status_code == 404
    client.logout()
    response = client.post(url, {"action": "effacer", "inscription": booking.pk})
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    client.force_login(mediator)
    assert client.post(url, {"action": "effacer", "inscription": 0}).status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    assert booking.transitions.count() == 2  # created, marked present: nothing since
