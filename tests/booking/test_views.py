"""The booking pages, through the Django test client: the public flow (with and without an
account, the SMS code), "Mes réservations", the agents' agenda, booking for someone, cancelling
a day. Every permission is tested for its refusal as well as its grant.

Views use timezone.now(): dates here are relative to it (resources open every day from 8:00 to
20:00, public holidays included, so that "tomorrow at 10:00" is always bookable)."""

import datetime as dt
import html
import re
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cybercantal.accounts.models import Role
from cybercantal.booking import services
from cybercantal.booking.models import Booking
from cybercantal.booking.views._common import when_text
from cybercantal.booking.views.public import PENDING_KEY
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from .factories import ResourceFactory, ServiceFactory

pytestmark = pytest.mark.django_db

EVERY_DAY = [(day, "08:00", "20:00") for day in range(7)]
MOBILE = "06 39 98 00 01"  # ARCEP's range for fiction: never a real subscriber
MOBILE_E164 = "+33639980001"


def local_at(days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def confirm_url(resource, start, *, minutes=30, service=None) -> str:
    params = {
        "ressource": resource.pk,
        "debut": timezone.localtime(start).isoformat(),
        "fin": timezone.localtime(start + dt.timedelta(minutes=minutes)).isoformat(),
    }
    if service is not None:
        params["prestation"] = service.code
    return f"{reverse('booking:confirm')}?{urlencode(params)}"


def text(response) -> str:
    """The page as read (entities decoded: "n'est" whether or not the apostrophe is escaped)."""
    return html.unescape(response.content.decode())


def sms_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].text).group(1)


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Test transactions never commit: run the after-commit work (SMS) at the end of a block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def service():
    return ServiceFactory(code="aide-numerique", label="Aide au numérique")


@pytest.fixture
def organisation():
    return OrganisationFactory(name="France Services du Lioran")


@pytest.fixture
def place(organisation):
    commune = CommuneFactory(name="Lioran-les-Essais")
    return PlaceFactory(
        name="France Services d'essai",
        commune=commune,
        organisation=organisation,
        phone="04 71 00 00 00",
        address="2 rue de la Poste",
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


@pytest.fixture
def other_agent():
    return MembershipFactory(role=Role.MEDIATOR).user


def book(resource, *, start, user=None, person=None, actor=None, now=None, **kwargs) -> Booking:
    return services.booking_create(
        actor=actor or user,
        resources=[resource],
        start=start,
        end=start + dt.timedelta(minutes=30),
        for_user=user if actor is not None else None,
        person=person,
        now=now,
        **kwargs,
    )


# --- Public flow: service, commune, slots -------------------------------------------------------


def test_start_lists_the_services(client, service):
    response = client.get(reverse("booking:start"))
    assert response.status_code == 200
    assert "Aide au numérique" in text(response)
    assert f"{reverse('booking:slots')}?prestation=aide-numerique" in text(response)


def test_slots_near_a_commune_grouped_by_day_with_words(client, desk, service, place):
    response = client.get(
        reverse("booking:slots"),
        {"prestation": service.code, "commune": place.commune.name, "rayon": "20"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "France Services d'essai" in page
    assert "Dans votre commune" in page
    first = response.context["days"][0]
    assert first.label[0].isupper()
    slot = first.places[0].slots[0]
    assert slot.url.startswith(reverse("booking:confirm"))
    assert slot.when_label in page  # "mardi 2 mars à 9 h 30", for screen readers
    assert re.search(r"\d{1,2}\u00a0h", slot.time_label)


def test_slots_with_real_communes_say_the_distance(client, cantal, service, organisation):
    from cybercantal.territory.selectors import commune_get

    aurillac = commune_get("15014")
    place = PlaceFactory(name="Tiers-lieu d'Aurillac", commune=aurillac, organisation=organisation)
    ResourceFactory(
        place=place,
        organisation=organisation,
        hours=EVERY_DAY,
        services=[service],
        observes_public_holidays=False,
    )
    response = client.get(
        reverse("booking:slots"),
        {"prestation": service.code, "commune": "Arpajon-sur-Cère", "rayon": "10"},
    )
    assert response.status_code == 200
    assert re.search(r"À \d+(,\d)? km, environ \d+ km par la route", response.text)

    # A postal code shared by several communes: the person chooses.
    response = client.get(
        reverse("booking:slots"), {"prestation": service.code, "commune": "15130"}
    )
    assert "Plusieurs communes correspondent" in text(response)
    assert "insee=" in text(response)


def test_slots_later_pages_neither_repeat_nor_skip(client, desk, service, place):
    params = {"prestation": service.code, "insee": place.commune.insee_code, "rayon": 10}
    first = client.get(reverse("booking:slots"), params)
    starts = [s.start for d in first.context["days"] for g in d.places for s in g.slots]
    assert len(starts) == 30
    later = client.get(first.context["later_url"])
    later_starts = [s.start for d in later.context["days"] for g in d.places for s in g.slots]
    assert later_starts and min(later_starts) == max(starts) + dt.timedelta(minutes=30)
    assert "Revenir aux premiers créneaux" in later.text


def test_slots_bad_input_never_fails(client, service, place):
    response = client.get(reverse("booking:slots"), {"prestation": "n-existe-pas"})
    assert response.status_code == 302
    response = client.get(
        reverse("booking:slots"),
        {"prestation": service.code, "commune": "x" * 300, "rayon": "7", "apres": "hier"},
    )
    assert response.status_code == 200
    assert "choisissez 10, 20, 40 ou 60 km" in text(response)
    response = client.get(
        reverse("booking:slots"), {"prestation": service.code, "commune": "Zzyzx"}
    )
    assert "Aucune commune ne correspond" in text(response)


# --- Public flow: confirming with an account ---------------------------------------------------


def test_signed_in_person_confirms_in_one_click(client, desk, service):
    user = UserFactory()
    client.force_login(user)
    start = local_at(1, 10)
    url = confirm_url(desk, start, service=service)
    page = client.get(url)
    assert page.status_code == 200
    assert when_text(start) in page.text
    response = client.post(url, {"action": "confirmer"})
    booking = Booking.objects.get(user=user)
    assert response.status_code == 302
    assert response.url == reverse("booking:booking_done", args=[booking.reference])
    assert booking.channel == Booking.Channel.WEB and booking.service == service

    done = client.get(response.url)
    assert done.status_code == 200
    assert "Votre rendez-vous est confirmé" in text(done)
    assert booking.reference[:4] in done.text
    assert 'href="tel:0471000000"' in done.text
    assert "2 rue de la Poste" in text(done)
    assert "il faut apporter" in text(done)


def test_add_to_calendar_for_the_holder_when_the_ics_download_exists(client, desk):
    from django.urls import NoReverseMatch

    me = UserFactory()
    booking = book(desk, start=local_at(2, 10), user=me)
    client.force_login(me)
    done = text(client.get(reverse("booking:booking_done", args=[booking.reference])))
    mine = text(client.get(reverse("booking:my_bookings")))
    try:
        ics_url = reverse("booking:booking_ics", args=[booking.pk])
    except NoReverseMatch:  # the iCalendar download is not mounted: no link
        assert "Ajouter à mon agenda" not in done and "Ajouter à mon agenda" not in mine
    else:
        assert ics_url in done and ics_url in mine


def test_double_booking_shows_the_conflict_and_the_next_slots(client, desk, service):
    start = local_at(1, 10)
    book(desk, start=start, user=UserFactory())
    client.force_login(UserFactory())
    url = confirm_url(desk, start, service=service)

    page = client.get(url)
    assert "Ce créneau n'est plus libre" in text(page)

    response = client.post(url, {"action": "confirmer"})
    assert response.status_code == 409
    assert "Ce créneau n'est plus disponible" in text(response)
    alternatives = response.context["alternatives"]
    assert alternatives and all(a.start != start for a in alternatives)
    assert alternatives[0].url.startswith(reverse("booking:confirm"))
    assert Booking.objects.count() == 1


def test_rule_errors_are_messages_not_errors(client, desk, service):
    client.force_login(UserFactory())
    closed = local_at(1, 22)  # after closing time
    response = client.post(confirm_url(desk, closed), {"action": "confirmer"})
    assert response.status_code in (409, 422)
    assert "notice--error" in text(response)
    assert not Booking.objects.exists()


def test_broken_or_unknown_links_answer_a_clear_page(client, desk):
    response = client.get(reverse("booking:confirm"), {"ressource": desk.pk, "debut": "demain"})
    assert response.status_code == 400
    assert "Ce lien ne fonctionne pas" in text(response)
    response = client.get(confirm_url(desk, local_at(1, 10)).replace(f"={desk.pk}&", "=999999&"))
    assert response.status_code == 404
    response = client.get(
        reverse("booking:confirm"),
        {
            "ressource": desk.pk,
            "debut": local_at(1, 11).isoformat(),
            "fin": local_at(1, 10).isoformat(),
        },
    )
    assert response.status_code == 400


# --- Public flow: without an account, the SMS code -------------------------------------------


def ask_code(client, url, send_now, *, phone=MOBILE, name="Jeanne Martin", email=""):
    with send_now():
        return client.post(url, {"action": "code", "name": name, "phone": phone, "email": email})


def test_anonymous_booking_with_the_sms_code(client, desk, service, sms_outbox, send_now):
    start = local_at(1, 10)
    url = confirm_url(desk, start, service=service)
    assert "Recevoir le code par SMS" in client.get(url).text

    response = ask_code(client, url, send_now)
    assert response.status_code == 302 and response.url == reverse("booking:confirm_code")
    assert len(sms_outbox) == 1 and sms_outbox[0].to == MOBILE_E164
    code = sms_code(sms_outbox)
    assert code not in str(dict(client.session))  # only its hash is kept

    page = client.get(reverse("booking:confirm_code"))
    assert "06 39 98 00 01" in text(page)

    wrong = "000000" if code != "000000" else "111111"
    response = client.post(reverse("booking:confirm_code"), {"code": wrong})
    assert response.status_code == 400
    assert "il vous reste 4 essais" in text(response)
    assert not Booking.objects.exists()

    response = client.post(reverse("booking:confirm_code"), {"code": code})
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("booking:booking_done", args=[booking.reference])
    assert booking.user is None
    assert booking.person_name == "Jeanne Martin"
    assert booking.person_phone == MOBILE_E164
    assert booking.channel == Booking.Channel.WEB

    done = client.get(response.url)
    assert done.status_code == 200
    assert booking.reference[4:] in done.text
    assert "prévenez le lieu" in text(done)
    # The confirmation page is this browser's only.
    assert client.__class__().get(response.url).status_code == 404

    # The phone stays confirmed a moment: a second slot in one click, no new code.
    second = confirm_url(desk, local_at(1, 14), service=service)
    assert "déjà vérifié" in client.get(second).text
    response = client.post(second, {"action": "confirmer"})
    assert response.status_code == 302
    assert Booking.objects.filter(person_phone=MOBILE_E164).count() == 2
    assert len([m for m in sms_outbox if "code" in m.text]) == 1


def test_expired_code_is_refused(client, desk, sms_outbox, send_now):
    url = confirm_url(desk, local_at(1, 10))
    ask_code(client, url, send_now)
    code = sms_code(sms_outbox)
    session = client.session
    pending = session[PENDING_KEY]
    pending["expires"] = 0
    session[PENDING_KEY] = pending
    session.save()
    response = client.post(reverse("booking:confirm_code"), {"code": code})
    assert response.status_code == 400
    assert "Ce code a expiré" in text(response)
    assert not Booking.objects.exists()

    # A new code works.
    with send_now():
        response = client.post(reverse("booking:confirm_code"), {"action": "renvoyer"})
    assert response.status_code == 302
    response = client.post(reverse("booking:confirm_code"), {"code": sms_code(sms_outbox)})
    assert response.status_code == 302
    assert Booking.objects.count() == 1


def test_too_many_wrong_codes_lock_the_code(client, desk, sms_outbox, send_now, settings):
    settings.LOGIN_RATE_LIMIT = 50  # the code's own limit, not the number's
    url = confirm_url(desk, local_at(1, 10))
    ask_code(client, url, send_now)
    code = sms_code(sms_outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.ONE_TIME_CODE_MAX_ATTEMPTS - 1):
        client.post(reverse("booking:confirm_code"), {"code": wrong})
    response = client.post(reverse("booking:confirm_code"), {"code": wrong})
    assert "Trop d'essais" in text(response)
    response = client.post(reverse("booking:confirm_code"), {"code": code})
    assert response.status_code == 400
    assert "Trop d'essais" in text(response)
    assert not Booking.objects.exists()


def test_wrong_codes_count_against_the_number(client, desk, sms_outbox, send_now):
    url = confirm_url(desk, local_at(1, 10))
    ask_code(client, url, send_now)  # 1
    code = sms_code(sms_outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.LOGIN_RATE_LIMIT - 1):
        assert client.post(reverse("booking:confirm_code"), {"code": wrong}).status_code == 400
    response = client.post(reverse("booking:confirm_code"), {"code": code})
    assert response.status_code == 429
    assert not Booking.objects.exists()


def test_code_requests_are_rate_limited_per_phone(client, desk, sms_outbox, send_now):
    url = confirm_url(desk, local_at(1, 10))
    for _ in range(settings.LOGIN_RATE_LIMIT):
        assert ask_code(client, url, send_now).status_code == 302
    response = ask_code(client, url, send_now)
    assert response.status_code == 429
    assert "Trop de demandes de code" in text(response)
    assert int(response["Retry-After"]) > 0
    assert len(sms_outbox) == settings.LOGIN_RATE_LIMIT


def test_person_form_refuses_a_landline_and_missing_name(client, desk, sms_outbox, send_now):
    url = confirm_url(desk, local_at(1, 10))
    response = ask_code(client, url, send_now, phone="04 71 00 00 00", name="")
    assert response.status_code == 400
    assert "n'est pas un numéro de mobile" in text(response)
    assert "Indiquez votre nom" in text(response)
    assert sms_outbox == []


def test_code_page_without_a_request_goes_back_to_the_start(client):
    response = client.get(reverse("booking:confirm_code"))
    assert response.status_code == 302 and response.url == reverse("booking:start")


def test_resources_for_account_holders_ask_to_sign_in(client, desk):
    desk.bookable_by = desk.BookableBy.ACCOUNT_HOLDERS
    desk.save()
    page = client.get(confirm_url(desk, local_at(1, 10)))
    assert "Ce rendez-vous se prend avec un compte" in text(page)
    assert "Recevoir le code par SMS" not in page.text


# --- My bookings --------------------------------------------------------------------------------


def test_my_bookings_needs_an_account(client):
    response = client.get(reverse("booking:my_bookings"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_my_bookings_lists_only_mine(client, desk):
    me, someone = UserFactory(), UserFactory()
    mine = book(desk, start=local_at(2, 10), user=me)
    theirs = book(desk, start=local_at(2, 11), user=someone)
    client.force_login(me)
    response = client.get(reverse("booking:my_bookings"))
    assert response.status_code == 200
    assert mine.reference[:4] in response.text
    assert theirs.reference[:4] not in response.text
    for name in ("my_booking_cancel", "my_booking_reschedule"):
        assert client.get(reverse(f"booking:{name}", args=[theirs.pk])).status_code == 404
        assert client.post(reverse(f"booking:{name}", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.CONFIRMED


def test_cancel_with_a_confirmation_step(client, desk):
    me = UserFactory()
    booking = book(desk, start=local_at(3, 10), user=me)
    client.force_login(me)
    url = reverse("booking:my_booking_cancel", args=[booking.pk])
    page = client.get(url)
    assert "Oui, annuler le rendez-vous" in text(page)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    response = client.post(url)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_cancel_too_late_shows_the_deadline(client, desk):
    from cybercantal.booking.selectors import availability

    me = UserFactory()
    soon = timezone.now() + dt.timedelta(hours=2)
    start = availability(resource=desk, start=soon, end=soon + dt.timedelta(hours=20))[0].start
    booking = book(desk, start=start, user=me, actor=UserFactory(roles=[Role.DEPARTMENT_AGENT]))
    client.force_login(me)
    url = reverse("booking:my_booking_cancel", args=[booking.pk])
    page = client.get(url)
    assert "Il est trop tard pour annuler en ligne" in text(page)
    assert "Oui, annuler" not in page.text
    assert 'href="tel:0471000000"' in page.text
    response = client.post(url)
    assert response.status_code == 422
    assert "Il est trop tard pour annuler en ligne" in text(response)
    assert "24 heures" in text(response)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_reschedule_to_another_free_slot(client, desk):
    me = UserFactory()
    booking = book(desk, start=local_at(3, 10), user=me)
    client.force_login(me)
    url = reverse("booking:my_booking_reschedule", args=[booking.pk])
    page = client.get(url)
    assert page.status_code == 200
    choice = page.context["days"][0].slots[0]
    assert choice.start != booking.start
    step = client.get(choice.url)
    assert "Oui, déplacer le rendez-vous" in text(step)
    response = client.post(url, {"debut": timezone.localtime(choice.start).isoformat()})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.start == choice.start
    assert booking.end == choice.start + dt.timedelta(minutes=30)


def test_reschedule_onto_a_taken_slot_says_so(client, desk):
    me = UserFactory()
    booking = book(desk, start=local_at(3, 10), user=me)
    taken = book(desk, start=local_at(3, 15), user=UserFactory())
    client.force_login(me)
    url = reverse("booking:my_booking_reschedule", args=[booking.pk])
    response = client.post(url, {"debut": timezone.localtime(taken.start).isoformat()})
    assert response.status_code == 409
    assert "plus disponible" in text(response)
    booking.refresh_from_db()
    assert booking.start == local_at(3, 10)


# --- Agents: the agenda -------------------------------------------------------------------------


def test_agenda_is_for_agents_only(client, desk):
    response = client.get(reverse("booking:agenda"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    client.force_login(UserFactory())
    assert client.get(reverse("booking:agenda")).status_code == 403
    assert client.get(reverse("booking:agent_book")).status_code == 403
    assert client.get(reverse("booking:cancel_day")).status_code == 403


def test_agenda_day_and_week(client, desk, agent, place):
    person = services.PersonDetails(name="Marcel Vidal", phone="06 39 98 00 42")
    booking = book(desk, start=local_at(1, 10), person=person, actor=agent, channel="phone")
    client.force_login(agent)
    day = timezone.localtime(booking.start).date().isoformat()
    response = client.get(
        reverse("booking:agenda"), {"cible": f"lieu-{place.pk}", "date": day, "vue": "jour"}
    )
    assert response.status_code == 200
    assert "Marcel Vidal" in text(response)
    assert 'href="tel:+33639980042"' in response.text
    assert "Par téléphone" in text(response)
    assert "Confirmée" in text(response)
    assert reverse("booking:agenda_booking_cancel", args=[booking.pk]) in response.text

    week = client.get(
        reverse("booking:agenda"),
        {"cible": f"ressource-{desk.pk}", "date": day, "vue": "semaine"},
    )
    assert week.status_code == 200
    assert len(week.context["days"]) == 7
    assert "Marcel Vidal" in text(week)

    # Tampered values fall back to what the agent may see.
    response = client.get(reverse("booking:agenda"), {"cible": "lieu-999999", "date": "31/02"})
    assert response.status_code == 200


def test_agent_of_another_organisation_cannot_see_or_act(client, desk, other_agent):
    booking = book(desk, start=local_at(1, 10), user=UserFactory())
    client.force_login(other_agent)
    MembershipFactory(user=other_agent, role=Role.MEDIATOR)  # has resources of their own
    ResourceFactory(organisation=other_agent.memberships.first().organisation)
    day = timezone.localtime(booking.start).date().isoformat()
    response = client.get(reverse("booking:agenda"), {"date": day})
    assert response.status_code == 200
    assert booking.display_name not in response.text
    response = client.get(reverse("booking:agenda"), {"cible": f"ressource-{desk.pk}", "date": day})
    assert booking.display_name not in response.text
    for action in ("valider", "venue", "absente"):
        url = reverse("booking:agenda_booking_action", args=[booking.pk, action])
        assert client.post(url).status_code == 404
    cancel = reverse("booking:agenda_booking_cancel", args=[booking.pk])
    assert client.get(cancel).status_code == 404
    assert client.post(cancel).status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_agent_confirms_a_pending_booking(client, desk, agent):
    desk.approval_required = True
    desk.save()
    booking = book(desk, start=local_at(1, 10), user=UserFactory())
    assert booking.status == Booking.Status.PENDING
    client.force_login(agent)
    agenda = client.get(reverse("booking:agenda"), {"date": local_at(1, 10).date().isoformat()})
    assert "En attente de validation" in text(agenda)
    back = agenda.context["here"]
    response = client.post(
        reverse("booking:agenda_booking_action", args=[booking.pk, "valider"]), {"retour": back}
    )
    assert response.status_code == 302 and response.url == back
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    # "Attended" before the start is refused with a message, not an error page.
    response = client.post(
        reverse("booking:agenda_booking_action", args=[booking.pk, "venue"]), follow=True
    )
    assert "pas encore commencé" in text(response)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_agent_marks_attended_and_no_show_after_the_start(client, desk, agent):
    yesterday = local_at(-1, 10)
    earlier = yesterday - dt.timedelta(hours=2)
    came = book(desk, start=yesterday, user=UserFactory(), now=earlier)
    missed = book(desk, start=yesterday + dt.timedelta(hours=1), user=UserFactory(), now=earlier)
    client.force_login(agent)
    agenda = client.get(reverse("booking:agenda"), {"date": yesterday.date().isoformat()})
    assert "Absente" in text(agenda)
    client.post(reverse("booking:agenda_booking_action", args=[came.pk, "venue"]))
    client.post(reverse("booking:agenda_booking_action", args=[missed.pk, "absente"]))
    came.refresh_from_db()
    missed.refresh_from_db()
    assert came.status == Booking.Status.ATTENDED
    assert missed.status == Booking.Status.NO_SHOW
    assert client.post(
        reverse("booking:agenda_booking_action", args=[came.pk, "inconnue"])
    ).status_code in (404, 405)


def test_agent_cancels_one_booking_with_a_reason(client, desk, agent):
    booking = book(desk, start=local_at(1, 10), user=UserFactory())
    client.force_login(agent)
    url = reverse("booking:agenda_booking_cancel", args=[booking.pk])
    assert "Annuler le rendez-vous" in client.get(url).text
    response = client.post(url, {"reason": "Intervenante absente"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.transitions.last().reason == "Intervenante absente"


# --- Agents: booking for someone ----------------------------------------------------------------


def test_agent_books_for_someone_without_an_account(client, desk, agent, service):
    client.force_login(agent)
    page = client.get(reverse("booking:agent_book"))
    assert page.status_code == 200
    slot = page.context["slot_days"][0].slots[0]
    response = client.post(
        reverse("booking:agent_book"),
        {
            "action": "reserver",
            "phone": "06 39 98 00 07",
            "name": "  Lucienne   Bos ",
            "resource": desk.pk,
            "service": service.pk,
            "slot": slot.url,
            "channel": "phone",
            "notes": "Vient avec sa fille",
        },
    )
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("booking:booking_done", args=[booking.reference])
    assert booking.person_name == "Lucienne Bos"
    assert booking.person_phone == "+33639980007"
    assert booking.channel == Booking.Channel.PHONE
    assert booking.created_by == agent
    assert booking.start == slot.start
    done = client.get(response.url)
    assert "Rendez-vous enregistré pour Lucienne Bos" in text(done)


def test_agent_books_for_an_account_found_by_phone(client, desk, agent):
    holder = UserFactory(first_name="Odette", last_name="Rouquier", phone=MOBILE_E164)
    client.force_login(agent)
    lookup = client.post(
        reverse("booking:agent_book"),
        {"action": "chercher", "phone": MOBILE, "resource": desk.pk},
    )
    assert lookup.status_code == 200
    assert "Odette Rouquier" in text(lookup)
    assert "Ce champ est obligatoire" not in lookup.text
    slot = lookup.context["slot_days"][0].slots[0]
    response = client.post(
        reverse("booking:agent_book"),
        {
            "action": "reserver",
            "phone": MOBILE,
            "resource": desk.pk,
            "slot": slot.url,
            "channel": "desk",
        },
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.user == holder and booking.channel == Booking.Channel.DESK


def test_agent_booking_form_errors_and_refusals(client, desk, agent, other_agent):
    client.force_login(agent)
    response = client.post(
        reverse("booking:agent_book"),
        {"action": "reserver", "phone": "06 39 98 00 07", "resource": desk.pk, "slot": ""},
    )
    assert response.status_code == 400
    assert "Choisissez un des créneaux libres" in text(response)
    # A resource of another organisation is not offered and not accepted.
    foreign = ResourceFactory(organisation=other_agent.memberships.first().organisation)
    response = client.post(
        reverse("booking:agent_book"),
        {
            "action": "reserver",
            "phone": "06 39 98 00 07",
            "name": "Lucienne Bos",
            "resource": foreign.pk,
            "slot": local_at(1, 10).isoformat(),
            "channel": "phone",
        },
    )
    assert response.status_code == 400
    assert "Vous ne gérez pas cette ressource" in text(response)
    # A taken slot: the service's message.
    book(desk, start=local_at(1, 10), user=UserFactory())
    response = client.post(
        reverse("booking:agent_book"),
        {
            "action": "reserver",
            "phone": "06 39 98 00 07",
            "name": "Lucienne Bos",
            "resource": desk.pk,
            "slot": local_at(1, 10).isoformat(),
            "channel": "phone",
        },
    )
    assert response.status_code == 409
    assert "plus disponible" in text(response)
    assert Booking.objects.count() == 1


def test_agent_slots_fragment(client, desk, agent):
    client.force_login(agent)
    response = client.get(
        reverse("booking:agent_book_slots"),
        {"resource": desk.pk, "day": local_at(2, 0).date().isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'type="radio" name="slot"' in response.text
    assert "hx-swap-oob" in text(response)
    assert response.context["slot_days"][0].day == local_at(2, 0).date()


# --- Agents: cancelling a day ---------------------------------------------------------------------


def test_cancel_a_whole_day_in_two_steps(client, desk, agent, place, sms_outbox):
    day = local_at(2, 0).date()
    first = book(desk, start=local_at(2, 10), user=UserFactory(phone="+33639980011"))
    second = book(
        desk,
        start=local_at(2, 14),
        person=services.PersonDetails(name="Paul Bos", phone="06 39 98 00 12"),
        actor=agent,
    )
    other_day = book(desk, start=local_at(3, 10), user=UserFactory())
    client.force_login(agent)
    url = reverse("booking:cancel_day")
    assert client.get(url, {"cible": f"lieu-{place.pk}"}).status_code == 200
    data = {"cible": f"lieu-{place.pk}", "day": day.isoformat(), "reason": "Routes enneigées"}

    preview = client.post(url, {**data, "action": "apercu"})
    assert preview.status_code == 200
    assert "2 rendez-vous seront annulés" in text(preview)
    assert "Paul Bos" in text(preview)
    for booking in (first, second):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED

    response = client.post(url, {**data, "action": "confirmer"}, follow=True)
    assert "2 rendez-vous annulés" in text(response)
    for booking in (first, second):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
    other_day.refresh_from_db()
    assert other_day.status == Booking.Status.CONFIRMED


def test_cancel_day_refuses_what_the_agent_does_not_manage(client, desk, place, other_agent):
    book(desk, start=local_at(2, 10), user=UserFactory())
    ResourceFactory(organisation=other_agent.memberships.first().organisation)
    client.force_login(other_agent)
    data = {
        "cible": f"lieu-{place.pk}",
        "day": local_at(2, 0).date().isoformat(),
        "reason": "Neige",
        "action": "confirmer",
    }
    response = client.post(reverse("booking:cancel_day"), data)
    assert response.status_code == 400
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 1
    response = client.post(
        reverse("booking:cancel_day"), {**data, "cible": f"lieu-{place.pk}", "reason": ""}
    )
    assert response.status_code == 400


# --- Home page cards ----------------------------------------------------------------------------


@pytest.fixture
def home_cards():
    from cybercantal.booking.views import register_home_entries
    from cybercantal.core.registries import dashboard_cards

    register_home_entries()
    yield
    for key in ("booking.start", "booking.mine", "booking.agenda"):
        dashboard_cards.unregister(key)


def test_home_cards_for_each_visitor(client, home_cards, desk, agent):
    home = client.get(reverse("core:home"))
    assert "Prendre rendez-vous" in text(home)
    assert "Mes réservations" not in home.text
    client.force_login(UserFactory())
    home = client.get(reverse("core:home"))
    assert "Mes réservations" in text(home)
    assert "Agenda des rendez-vous" not in home.text
    client.force_login(agent)
    assert "Agenda des rendez-vous" in client.get(reverse("core:home")).text
