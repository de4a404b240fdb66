"""The waiting-list pages: joining from the slot list (signed in in one step, or with a name
and a mobile number confirmed by the booking's SMS code), the confirmation page, leaving from
"Mes réservations", and an agent adding someone from the booking form. Each permission is
tested for its refusal as well as its grant.

Views use timezone.now(): dates here are relative to it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.accounts.models import Role
from cybercantal.booking import services
from cybercantal.booking.models import WaitingListEntry
from cybercantal.booking.views.waitlist import WAITLIST_PENDING_KEY
from cybercantal.core.models import AuditLog
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from .factories import ResourceFactory, ServiceFactory
from .test_views import EVERY_DAY, MOBILE, MOBILE_E164, local_at, sms_code, text

pytestmark = pytest.mark.django_db

Status = WaitingListEntry.Status


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def service():
    return ServiceFactory(code="aide-numerique", label="Aide au numérique")


@pytest.fixture
def organisation():
    return OrganisationFactory(name="France Services du Lioran")


@pytest.fixture
def place(organisation):
    return PlaceFactory(
        name="France Services d'essai",
        commune=CommuneFactory(name="Lioran-les-Essais"),
        organisation=organisation,
    )


@pytest.fixture
def desk(place, organisation, service):
    return ResourceFactory(
        name="Accueil numérique",
        place=place,
        organisation=organisation,
        hours=EVERY_DAY,
        services=[service],
        observes_public_holidays=False,
    )


@pytest.fixture
def agent(organisation):
    return MembershipFactory(organisation=organisation, role=Role.MEDIATOR).user


def join_url(service, commune, **params) -> str:
    query = {"prestation": service.code, "insee": commune.insee_code, "rayon": 20, **params}
    return reverse("booking:waitlist_join") + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def join_data(service, near, **extra) -> dict:
    return {
        "prestation": service.code,
        "insee": near.insee_code,
        "commune": near.name,
        "rayon": "20",
        "semaines": "4",
        **extra,
    }


# --- From the slot list --------------------------------------------------------------------------


def test_the_slot_list_offers_the_waiting_list(client, desk, service, place):
    params = {"prestation": service.code, "insee": place.commune.insee_code, "rayon": 20}
    page = text(client.get(reverse("booking:slots"), params))
    assert "Aucun créneau ne convient" in page
    assert reverse("booking:waitlist_join") in page

    # No free slot at all: the waiting list is the main way out.
    desk.is_active = False
    desk.save()
    response = client.get(reverse("booking:slots"), params)
    assert response.context["days"] == []
    assert "M'inscrire sur la liste d'attente" in text(response)
    assert response.context["waitlist_url"].startswith(reverse("booking:waitlist_join"))

    form = client.get(response.context["waitlist_url"])
    assert form.status_code == 200
    assert "Aide au numérique" in text(form)
    assert 'value="Lioran-les-Essais"' in text(form)
    assert "les 4 prochaines semaines" in text(form)


def test_the_join_page_without_a_service_goes_back_to_the_start(client):
    response = client.get(reverse("booking:waitlist_join"), {"prestation": "n-existe-pas"})
    assert response.status_code == 302 and response.url == reverse("booking:start")


# --- Joining -------------------------------------------------------------------------------------


def test_joining_without_an_account_needs_the_sms_code(
    client, desk, service, place, sms_outbox, send_now, settings
):
    commune = place.commune
    page = client.get(join_url(service, commune))
    assert "Recevoir le code par SMS" in text(page)

    with send_now():
        response = client.post(
            reverse("booking:waitlist_join"),
            join_data(service, commune, action="code", name="Jeanne Martin", phone=MOBILE),
        )
    assert response.status_code == 302 and response.url == reverse("booking:waitlist_code")
    assert not WaitingListEntry.objects.exists()  # nothing before the code
    assert len(sms_outbox) == 1 and sms_outbox[0].to == MOBILE_E164
    assert "liste d'attente" in sms_outbox[0].text
    code = sms_code(sms_outbox)
    assert code not in str(dict(client.session))

    page = client.get(reverse("booking:waitlist_code"))
    assert page.status_code == 200
    assert "06 39 98 00 01" in text(page)
    assert "Lioran-les-Essais" in text(page)

    wrong = "000000" if code != "000000" else "111111"
    response = client.post(reverse("booking:waitlist_code"), {"code": wrong})
    assert response.status_code == 400
    assert "il vous reste 4 essais" in text(response)
    assert not WaitingListEntry.objects.exists()

    response = client.post(reverse("booking:waitlist_code"), {"code": code})
    entry = WaitingListEntry.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("booking:waitlist_done", args=[entry.pk])
    assert WAITLIST_PENDING_KEY not in client.session
    assert entry.user is None and entry.person_name == "Jeanne Martin"
    assert entry.person_phone == MOBILE_E164
    assert entry.service == service and entry.commune == commune and entry.radius_km == 20
    assert entry.status == Status.WAITING
    weeks = entry.window_end - entry.window_start
    assert dt.timedelta(weeks=4) - dt.timedelta(minutes=1) <= weeks <= dt.timedelta(weeks=4)
    assert abs(entry.window_start - timezone.now()) < dt.timedelta(minutes=5)

    done = client.get(response.url)
    assert done.status_code == 200
    page = text(done)
    assert "Vous êtes sur la liste d'attente" in page
    assert "par SMS au 06 39 98 00 01" in page
    assert f"gardée {settings.BOOKING_WAITLIST_HOLD_MINUTES} minutes" in page
    # The confirmation page is this browser's only.
    assert client.__class__().get(response.url).status_code == 404


def test_a_code_for_the_waiting_list_does_not_book_and_vice_versa(
    client, desk, service, place, sms_outbox, send_now
):
    """The two flows keep their requests apart: a pending booking code is not consumed by
    the waiting list page, and the other way round."""
    response = client.get(reverse("booking:waitlist_code"))
    assert response.status_code == 302 and response.url == reverse("booking:start")
    with send_now():
        client.post(
            reverse("booking:waitlist_join"),
            join_data(service, place.commune, action="code", name="Jeanne Martin", phone=MOBILE),
        )
    assert client.get(reverse("booking:confirm_code")).status_code == 302


def test_a_signed_in_person_joins_in_one_step_sees_and_leaves_their_entry(
    client, desk, service, place, sms_outbox
):
    me = UserFactory()
    client.force_login(me)
    page = client.get(join_url(service, place.commune))
    assert "Recevoir le code par SMS" not in text(page)

    response = client.post(
        reverse("booking:waitlist_join"),
        join_data(service, place.commune, action="inscrire", semaines="2"),
    )
    entry = WaitingListEntry.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("booking:waitlist_done", args=[entry.pk])
    assert entry.user == me and entry.created_by == me
    assert entry.window_end - entry.window_start <= dt.timedelta(weeks=2)
    assert sms_outbox == []  # no code for an account
    assert client.get(response.url).status_code == 200

    # Again for the same period: refused with a message, not an error page.
    again = client.post(
        reverse("booking:waitlist_join"),
        join_data(service, place.commune, action="inscrire"),
    )
    assert again.status_code == 422
    assert "déjà sur la liste d'attente" in text(again)
    assert WaitingListEntry.objects.count() == 1

    mine = text(client.get(reverse("booking:my_bookings")))
    assert "Ma liste d'attente" in mine
    leave_url = reverse("booking:my_waitlist_leave", args=[entry.pk])
    assert leave_url in mine

    confirm = client.get(leave_url)
    assert "Oui, quitter la liste d'attente" in text(confirm)
    entry.refresh_from_db()
    assert entry.status == Status.WAITING  # a GET changes nothing

    response = client.post(leave_url)
    assert response.status_code == 302 and response.url == reverse("booking:my_bookings")
    entry.refresh_from_db()
    assert entry.status == Status.CANCELLED
    assert AuditLog.objects.filter(action="booking.waitlist_leave").count() == 1
    assert "Ma liste d'attente" not in text(client.get(reverse("booking:my_bookings")))
    assert client.post(leave_url).status_code == 404  # already left


def test_leaving_someone_elses_entry_is_refused(client, desk, service, place):
    owner = UserFactory()
    now = timezone.now()
    entry = services_join(owner, service, place.commune, now)
    url = reverse("booking:my_waitlist_leave", args=[entry.pk])

    assert client.post(url).status_code == 302  # anonymous: to the login page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert client.get(reverse("booking:waitlist_done", args=[entry.pk])).status_code == 404
    entry.refresh_from_db()
    assert entry.status == Status.WAITING


def services_join(user, service, commune, now):
    from cybercantal.booking import waitlist

    return waitlist.waitlist_join(
        actor=user,
        service=service,
        commune=commune,
        window_start=now,
        window_end=now + dt.timedelta(weeks=4),
        now=now,
    )


def test_join_form_errors_are_messages(client, desk, service, place, sms_outbox, send_now):
    client.force_login(UserFactory())
    response = client.post(
        reverse("booking:waitlist_join"),
        join_data(service, place.commune, insee="", commune="Zzyzx", semaines="3"),
    )
    assert response.status_code == 400
    page = text(response)
    assert "Aucune commune ne correspond à « Zzyzx »" in page
    assert "Choisissez 2, 4 ou 8 semaines" in page
    assert not WaitingListEntry.objects.exists()

    client.logout()
    with send_now():
        response = client.post(
            reverse("booking:waitlist_join"),
            join_data(service, place.commune, action="code", name="", phone="04 71 00 00 00"),
        )
    assert response.status_code == 400
    assert "n'est pas un numéro de mobile" in text(response)
    assert sms_outbox == []


def test_a_phone_confirmed_a_moment_ago_joins_in_one_click(
    client, desk, service, place, sms_outbox, send_now
):
    with send_now():
        client.post(
            reverse("booking:waitlist_join"),
            join_data(service, place.commune, action="code", name="Jeanne Martin", phone=MOBILE),
        )
    client.post(reverse("booking:waitlist_code"), {"code": sms_code(sms_outbox)})
    other = ServiceFactory(code="demarches", label="Démarches en ligne")
    desk.services.add(other)
    page = client.get(join_url(other, place.commune))
    assert "déjà vérifié" in text(page)
    response = client.post(
        reverse("booking:waitlist_join"), join_data(other, place.commune, action="inscrire")
    )
    assert response.status_code == 302
    assert WaitingListEntry.objects.filter(person_phone=MOBILE_E164).count() == 2
    assert len(sms_outbox) == 1


def test_a_freed_slot_reaches_the_person_who_joined_on_the_page(
    client, desk, service, place, sms_outbox, send_now
):
    client.force_login(UserFactory(phone=MOBILE, prefers_sms=True))
    client.post(
        reverse("booking:waitlist_join"), join_data(service, place.commune, action="inscrire")
    )
    entry = WaitingListEntry.objects.get()
    someone = UserFactory()
    booking = services.booking_create(
        actor=someone,
        resources=[desk],
        start=local_at(2, 10),
        end=local_at(2, 10, 30),
        service=service,
    )
    with send_now():
        services.booking_cancel(actor=someone, booking=booking)
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED
    assert any(reverse("booking:waitlist_offer", args=["x"])[:-3] in m.text for m in sms_outbox)


# --- Agents --------------------------------------------------------------------------------------


def test_an_agent_adds_someone_from_the_booking_form(client, desk, agent, service):
    client.force_login(agent)
    book_page = text(client.get(reverse("booking:agent_book")))
    assert reverse("booking:agent_waitlist") in book_page  # the "Rien ne convient" button

    # The button carries what was typed on the booking form over.
    prefill = client.post(
        reverse("booking:agent_waitlist"),
        {
            "action": "preparer",
            "phone": MOBILE,
            "name": "Paul Durand",
            "resource": desk.pk,
            "service": service.pk,
        },
    )
    assert prefill.status_code == 200
    assert "Paul Durand" in text(prefill)
    assert not WaitingListEntry.objects.exists()

    response = client.post(
        reverse("booking:agent_waitlist"),
        {
            "action": "inscrire",
            "phone": MOBILE,
            "name": "Paul Durand",
            "resource": desk.pk,
            "service": service.pk,
            "semaines": "8",
        },
    )
    entry = WaitingListEntry.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("booking:waitlist_done", args=[entry.pk])
    assert entry.resource == desk and entry.service == service
    assert entry.person_name == "Paul Durand" and entry.created_by == agent
    done = text(client.get(response.url))
    assert "Paul Durand est sur la liste d'attente" in done
    assert "par SMS au 06 39 98 00 01" in done


def test_the_agents_waiting_list_form_refuses_others(client, desk, service):
    resident = MembershipFactory(organisation=desk.organisation, role=Role.RESIDENT).user
    client.force_login(resident)
    assert client.get(reverse("booking:agent_waitlist")).status_code == 403

    other_agent = MembershipFactory(role=Role.MEDIATOR).user
    ResourceFactory(organisation=other_agent.memberships.get().organisation)
    client.force_login(other_agent)
    response = client.post(
        reverse("booking:agent_waitlist"),
        {"action": "inscrire", "phone": MOBILE, "name": "Paul Durand", "resource": desk.pk},
    )
    assert response.status_code == 400
    assert "Vous ne gérez pas cette ressource" in text(response)
    assert not WaitingListEntry.objects.exists()
