"""The teleconsultation pages the way people reach them: booking step by step (site,
specialty with its protocol, patient found or created, assisting professional, a slot where
all are free), the list, a consultation's page (404 for anyone outside it, an audit row for
every display), the checklist, closing, incidents and cancelling. Refusals come back in French
with the form as filled and the status of the refusal; nothing changes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.html import escape

from cybercantal.booking.models import Booking
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Consultation, Incident, Patient
from cybercantal.telehealth.selectors.consultations import free_slots
from cybercantal.telehealth.services.consultations import consultation_book
from cybercantal.telehealth.views import consultations as views
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_assistant,
    make_patient,
    make_practitioner,
    make_site,
    make_specialty,
    next_monday,
    staff_user,
)
from tests.telehealth.test_sessions import (
    book,
    book_past,
    build_network,
    complete_checklist,
    connectivity,
    strangers,
)

pytestmark = pytest.mark.django_db

BOOK = "/telesante/reserver/"


@pytest.fixture
def net():
    return build_network()


def detail_url(consultation) -> str:
    return f"/telesante/consultations/{consultation.pk}/"


def views_logged(consultation) -> int:
    return AuditLog.objects.filter(
        action="telehealth.consultation_view", target_id=str(consultation.pk)
    ).count()


def text(response) -> str:
    return response.content.decode()


def params(net, **overrides) -> dict:
    values = {
        "site": net.site.pk,
        "specialty": net.derm.pk,
        "patient": net.patient.pk,
        "assistant": net.nurse.pk,
    }
    return {k: v for k, v in (values | overrides).items() if v is not None}


def first_slot(net):
    return free_slots(site=net.site, specialty=net.derm, assistant=net.nurse)[0]


def booking_post(net, **overrides) -> dict:
    slot = first_slot(net)
    values = params(net) | {
        "action": "book",
        "slot": slot.value,
        "requested_at": timezone.localtime().strftime("%d/%m/%Y %H:%M"),
        "transport_avoided": "ambulance",
    }
    return {k: v for k, v in (values | overrides).items() if v is not None}


# --- Booking --------------------------------------------------------------------------------


def test_booking_needs_a_login(client):
    response = client.get(BOOK)
    assert response.status_code == 302 and "next=" in response["Location"]
    response = client.post(BOOK, {"action": "book"})
    assert response.status_code == 302
    assert not Consultation.objects.exists()


def test_booking_is_refused_to_people_without_a_site(client, net):
    for user in (UserFactory(), net.doctor.user):
        client.force_login(user)
        assert client.get(BOOK).status_code == 403
        response = client.post(BOOK, booking_post(net))
        assert response.status_code == 403
    assert not Consultation.objects.exists()


def test_one_site_skips_the_site_step_and_shows_the_protocols(client, net):
    ent = make_specialty(code="orl", label="ORL", devices=("otoscope",), assistant="")
    make_practitioner(specialties=[ent])
    client.force_login(net.coordinator)
    response = client.get(BOOK)
    assert response.status_code == 200
    page = text(response)
    assert "Sur quel site" not in page
    assert "Quelle spécialité" in page
    assert "Appareils nécessaires : Dermatoscope." in page
    assert "Présence requise : infirmier ou infirmière." in page
    # The care home has no otoscope: said at once, before choosing.
    assert "Impossible sur ce site : il manque ou est en panne : Otoscope connecté." in page
    response = client.get(BOOK, {"specialty": ent.pk})
    assert "il manque ou est en panne : Otoscope connecté" in text(response)
    assert "Pour quel patient" not in text(response)


def test_several_sites_start_with_the_choice_of_the_site(client, net):
    from cybercantal.telehealth.services.network import site_add_coordinator

    second = make_site()
    site_add_coordinator(actor=staff_user(), site=second, user=net.coordinator)
    make_site()  # not theirs
    client.force_login(net.coordinator)
    page = text(client.get(BOOK))
    assert "Sur quel site" in page
    offered = re.findall(r'name="site" value="(\d+)"', page)
    assert sorted(offered) == sorted([str(net.site.pk), str(second.pk)])
    assert "Quelle spécialité" not in page
    page = text(client.get(BOOK, {"site": second.pk}))
    assert "Quelle spécialité" in page and escape(second.place.name) in page


def test_a_site_of_someone_else_is_refused_in_french(client, net):
    other = make_site()
    client.force_login(net.coordinator)
    response = client.get(BOOK, {"site": other.pk})
    assert response.status_code == 400
    assert "Ce site n&#x27;existe pas ou ne vous est pas ouvert." in text(response)
    response = client.post(BOOK, booking_post(net, site=other.pk))
    assert response.status_code == 400
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("step", "extra", "message"),
    [
        ("specialty", {}, "Choisissez une spécialité dans la liste."),
        ("patient", {"specialty": "derm"}, "Choisissez un patient dans la liste"),
    ],
)
def test_a_step_sent_without_a_choice_says_what_is_missing(client, net, step, extra, message):
    client.force_login(net.coordinator)
    query = {"etape": step, "site": net.site.pk}
    if extra:
        query["specialty"] = net.derm.pk
    response = client.get(BOOK, query)
    assert response.status_code == 400
    assert message in text(response)


def test_patient_search_shows_the_site_patients_only(client, net):
    make_patient(net.site, name="M. Paul Durand")
    other_site = make_site()
    make_patient(other_site, name="Mme Lucie Durand")
    client.force_login(net.nurse.user)
    page = text(client.get(BOOK, {"site": net.site.pk, "specialty": net.derm.pk, "q": "durand"}))
    assert "M. Paul Durand" in page
    assert "Lucie" not in page and "Jeanne Martin" not in page
    page = text(client.get(BOOK, {"site": net.site.pk, "specialty": net.derm.pk}))
    assert "Jeanne Martin" in page and "Lucie" not in page
    stranger_patient = Patient.objects.get(display_name="Mme Lucie Durand")
    response = client.get(BOOK, params(net, patient=stranger_patient.pk))
    assert response.status_code == 400
    assert "Ce patient n&#x27;est pas suivi sur ce site." in text(response)


def test_a_new_patient_is_created_inline_and_chosen(client, net):
    client.force_login(net.coordinator)
    response = client.post(
        BOOK,
        {
            "action": "patient",
            "site": net.site.pk,
            "specialty": net.derm.pk,
            "nouveau-display_name": "  M. Louis   Vidal ",
            "nouveau-birth_year": "1941",
            "nouveau-is_care_home_resident": "on",
            "nouveau-has_attending_doctor": "on",
        },
    )
    assert response.status_code == 302
    patient = Patient.objects.get(display_name="M. Louis Vidal")
    assert patient.site == net.site and patient.is_care_home_resident
    assert patient.has_attending_doctor and not patient.lives_in_territory
    assert f"patient={patient.pk}" in response["Location"]
    page = text(client.get(response["Location"]))
    assert "M. Louis Vidal, né(e) en 1941" in page
    # The specialty needs a nurse and the site has one: straight to the slots, ambulance
    # proposed for a resident of the care home.
    assert "Le créneau et la demande" in page
    assert re.search(r'value="ambulance"[^>]*checked', page)


@pytest.mark.parametrize(
    ("name", "year", "message"),
    [
        ("", "1941", "Indiquez le nom du patient."),
        ("M. Vidal", "", "Indiquez l&#x27;année de naissance."),
        ("M. Vidal", "dix-neuf", "Indiquez une année en chiffres"),
        ("M. Vidal", "1850", "Année de naissance invalide."),
        ("M. Vidal", str(timezone.localdate().year + 1), "Année de naissance invalide."),
    ],
)
def test_bad_patient_input_is_refused_in_french(client, net, name, year, message):
    client.force_login(net.coordinator)
    count = Patient.objects.count()
    response = client.post(
        BOOK,
        {
            "action": "patient",
            "site": net.site.pk,
            "specialty": net.derm.pk,
            "nouveau-display_name": name,
            "nouveau-birth_year": year,
        },
    )
    assert response.status_code == 400
    assert message in text(response)
    assert Patient.objects.count() == count


def test_a_resident_outside_a_care_home_is_refused_by_the_service(client):
    coordinator = UserFactory()
    centre = make_site(kind="centre_sante", coordinators=[coordinator])
    client.force_login(coordinator)
    response = client.post(
        BOOK,
        {
            "action": "patient",
            "site": centre.pk,
            "nouveau-display_name": "M. Vidal",
            "nouveau-birth_year": "1941",
            "nouveau-is_care_home_resident": "on",
        },
    )
    assert response.status_code == 400
    assert "Seul un site EHPAD a des résidents." in text(response)
    assert not Patient.objects.exists()


def test_the_nurse_is_chosen_when_several_could_assist(client, net):
    second_nurse = make_assistant(sites=[net.site])
    client.force_login(net.coordinator)
    page = text(client.get(BOOK, params(net, assistant=None)))
    assert "Avec quel professionnel assistant" in page
    assert f'value="{second_nurse.pk}"' in page and f'value="{net.nurse.pk}"' in page
    assert "Le créneau et la demande" not in page


def test_the_slots_offered_are_those_of_the_booking_engine(client, net):
    client.force_login(net.nurse.user)
    page = text(client.get(BOOK, params(net)))
    expected = free_slots(site=net.site, specialty=net.derm, assistant=net.nurse)
    shown = re.findall(r'name="slot" value="([^"]+)"', page)
    assert shown == [slot.value for slot in expected]
    assert shown, "weekday hours give free slots"


def test_slots_from_a_later_day_of_the_window(client, net):
    client.force_login(net.nurse.user)
    day = timezone.localdate() + dt.timedelta(days=8)
    page = text(client.get(BOOK, params(net) | {"a_partir_du": day.isoformat()}))
    shown = re.findall(r'name="slot" value="\d+\|([^"]+)"', page)
    assert shown
    assert all(
        timezone.localtime(dt.datetime.fromisoformat(start)).date() >= day for start in shown
    )


@pytest.mark.parametrize("value", ["demain", "2020-01-01", "days"])
def test_a_day_outside_the_window_is_refused_in_french(client, net, value):
    client.force_login(net.nurse.user)
    far = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    for raw in (value, far):
        response = client.get(BOOK, params(net) | {"a_partir_du": raw})
        assert response.status_code == 400
        assert "Choisissez un jour entre le" in text(response)


def test_booking_from_the_page(client, net):
    client.force_login(net.nurse.user)
    slot = first_slot(net)
    asked = timezone.localtime() - dt.timedelta(days=2)
    response = client.post(
        BOOK,
        booking_post(
            net,
            requested_at=asked.strftime("%d/%m/%Y %H:%M"),
            transport_avoided="vsl",
            is_emergency="on",
            referred_by_attending_doctor="on",
        ),
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(consultation)
    assert consultation.scheduled_start == slot.start
    assert consultation.practitioner == slot.practitioner
    assert consultation.assistant == net.nurse and consultation.patient == net.patient
    assert consultation.transport_avoided == "vsl"
    assert consultation.is_emergency and consultation.referred_by_attending_doctor
    assert not consultation.last_in_person_visit_within_12_months
    assert consultation.requested_at == asked.replace(second=0, microsecond=0)
    assert consultation.requested_by == net.nurse.user


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slot": None}, "Choisissez un créneau dans la liste."),
        ({"slot": "n'importe quoi"}, "Choisissez un créneau dans la liste."),
        ({"slot": "1|2026-01-05T10:00:00"}, "Choisissez un créneau dans la liste."),
        ({"requested_at": None}, "Indiquez quand le besoin a été exprimé."),
        ({"requested_at": "32/13/2025 10:00"}, "Date invalide"),
        ({"transport_avoided": "hélicoptère"}, "Choisissez un mode de transport"),
        ({"specialty": 999999}, "Cette spécialité n&#x27;est pas proposée."),
        ({"patient": 999999}, "Ce patient n&#x27;est pas suivi sur ce site."),
        ({"action": "autre"}, "Action inconnue"),
    ],
)
def test_bad_booking_input_is_refused_in_french(client, net, overrides, message):
    client.force_login(net.nurse.user)
    response = client.post(BOOK, booking_post(net, **overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert not Consultation.objects.exists()
    assert not Booking.objects.exists()


def test_a_request_in_the_future_is_refused(client, net):
    client.force_login(net.nurse.user)
    later = timezone.localtime() + dt.timedelta(days=1)
    response = client.post(BOOK, booking_post(net, requested_at=later.strftime("%d/%m/%Y %H:%M")))
    assert response.status_code == 400
    assert "La date de la demande ne peut pas être dans le futur." in text(response)
    assert not Consultation.objects.exists()


def test_a_slot_in_the_past_is_refused(client, net):
    client.force_login(net.nurse.user)
    past = timezone.now() - dt.timedelta(days=3)
    slot = f"{net.doctor.pk}|{past.isoformat()}"
    response = client.post(BOOK, booking_post(net, slot=slot))
    assert response.status_code == 400
    assert "Ce créneau est déjà passé." in text(response)
    assert not Consultation.objects.exists()


def test_a_doctor_of_another_specialty_is_refused(client, net):
    cardio = make_specialty(code="cardiologie", label="Cardiologie", devices=(), assistant="")
    cardiologist = make_practitioner(specialties=[cardio])
    client.force_login(net.nurse.user)
    slot = first_slot(net)
    response = client.post(
        BOOK, booking_post(net, slot=f"{cardiologist.pk}|{slot.start.isoformat()}")
    )
    assert response.status_code == 400
    assert "Ce médecin ne consulte pas dans cette spécialité" in text(response)
    assert not Consultation.objects.exists()


def test_a_missing_device_is_refused_when_booking(client, net):
    client.force_login(net.nurse.user)
    data = booking_post(net)
    net.site.equipment.filter(kind="dermatoscope").update(in_service=False)
    response = client.get(BOOK, params(net))
    assert "il manque ou est en panne : Dermatoscope" in text(response)
    response = client.post(BOOK, data)
    assert response.status_code == 400
    assert "Il manque ou est en panne : Dermatoscope" in text(response)
    assert not Consultation.objects.exists()


def test_a_slot_taken_meanwhile_says_so_and_shows_the_next_ones(client, net):
    client.force_login(net.nurse.user)
    data = booking_post(net)
    taken = first_slot(net)
    # Someone else books the practitioner at that time, from another site.
    other_site = make_site()
    consultation_book(
        actor=staff_user(),
        site=other_site,
        practitioner=taken.practitioner,
        specialty=net.derm,
        patient=make_patient(other_site),
        assistant=make_assistant(sites=[other_site]),
        start=taken.start,
    )
    response = client.post(BOOK, data)
    assert response.status_code == 409
    page = text(response)
    assert "Ce créneau vient d&#x27;être pris" in page
    shown = re.findall(r'name="slot" value="([^"]+)"', page)
    assert shown and taken.value not in shown
    assert "checked" not in "".join(re.findall(r'<input type="radio" name="slot"[^>]*>', page))
    assert Consultation.objects.filter(site=net.site).count() == 0


# --- List -----------------------------------------------------------------------------------


def test_the_list_shows_each_person_their_consultations(client, net):
    upcoming = book(net)
    past = book_past(net)
    other_net = build_network()
    elsewhere = book(other_net)
    client.force_login(net.coordinator)
    response = client.get("/telesante/consultations/")
    assert response.status_code == 200
    page = text(response)
    assert detail_url(upcoming) in page and detail_url(past) in page
    assert detail_url(elsewhere) not in page
    assert page.index(detail_url(upcoming)) < page.index("Passées") < page.index(detail_url(past))
    for user in strangers(net):
        client.force_login(user)
        page = text(client.get("/telesante/consultations/"))
        assert detail_url(upcoming) not in page and detail_url(past) not in page
    client.force_login(staff_user())
    page = text(client.get("/telesante/consultations/"))
    assert detail_url(upcoming) in page and detail_url(elsewhere) in page


def test_the_list_filters_by_site_and_status(client, net):
    upcoming = book(net)
    past = book_past(net)
    other_net = build_network()
    elsewhere = book(other_net)
    client.force_login(staff_user())
    page = text(client.get("/telesante/consultations/", {"site": other_net.site.pk}))
    assert detail_url(elsewhere) in page and detail_url(upcoming) not in page
    page = text(client.get("/telesante/consultations/", {"status": "prevue"}))
    assert detail_url(upcoming) in page and detail_url(past) in page
    from cybercantal.telehealth.services.sessions import consultation_close

    consultation_close(actor=net.nurse.user, consultation=past, status="non_tenue")
    page = text(client.get("/telesante/consultations/", {"status": "non_tenue"}))
    assert detail_url(past) in page and detail_url(upcoming) not in page
    response = client.get("/telesante/consultations/", {"status": "inventé"})
    assert response.status_code == 400 and "Statut inconnu." in text(response)


def test_the_list_needs_a_login(client):
    response = client.get("/telesante/consultations/")
    assert response.status_code == 302


# --- Detail ---------------------------------------------------------------------------------


def test_participants_coordinators_and_staff_see_the_consultation(client, net):
    consultation = book(net)
    for user in (net.doctor.user, net.nurse.user, net.coordinator, staff_user()):
        client.force_login(user)
        before = views_logged(consultation)
        response = client.get(detail_url(consultation))
        assert response.status_code == 200
        assert views_logged(consultation) == before + 1
        page = text(response)
        assert "Mme Jeanne Martin, né(e) en 1938" in page
        assert "Dermatologie" in page and escape(net.site.place.name) in page


def test_strangers_other_coordinators_and_other_doctors_get_a_404(client, net):
    consultation = book(net)
    urls = [
        detail_url(consultation),
        f"{detail_url(consultation)}preparer/",
        f"{detail_url(consultation)}cloturer/",
        f"{detail_url(consultation)}incident/",
        f"{detail_url(consultation)}annuler/",
    ]
    for user in strangers(net):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404
            if url != detail_url(consultation):  # the page itself only answers GET
                assert client.post(url, {"status": "non_tenue"}).status_code == 404
    assert views_logged(consultation) == 0
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.PLANNED
    assert not consultation.incidents.exists()


def test_unknown_consultations_are_404(client, net):
    client.force_login(staff_user())
    assert client.get("/telesante/consultations/999999/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, net):
    consultation = book(net)
    for suffix in ("", "preparer/", "cloturer/", "incident/", "annuler/"):
        response = client.get(f"{detail_url(consultation)}{suffix}")
        assert response.status_code == 302
        assert "next=" in response["Location"]
    assert views_logged(consultation) == 0


def test_the_page_shows_the_patient_by_name_and_birth_year_only(client, net):
    net.patient.has_attending_doctor = False
    net.patient.save()
    consultation = book(net)
    client.force_login(net.coordinator)
    page = text(client.get(detail_url(consultation)))
    assert "Mme Jeanne Martin, né(e) en 1938" in page
    assert net.patient.reference not in page
    # The patient's facts appear only in the (informative) eligibility section, which needs
    # them to tell whether the act is reimbursed.
    before, _sep, eligibility = page.partition("Conditions de prise en charge (indicatif)")
    assert "médecin traitant" not in before
    assert "médecin traitant" in eligibility


def test_delay_from_the_request_is_shown(client, net):
    start = next_monday()
    consultation = book(
        net,
        start=start,
        now=start - dt.timedelta(days=5),
        requested_at=start - dt.timedelta(days=5, hours=3),
    )
    client.force_login(net.coordinator)
    assert "téléconsultation 5 jours après" in text(client.get(detail_url(consultation)))
    soon = book(
        net,
        start=start + dt.timedelta(hours=4),
        now=start - dt.timedelta(hours=1),
        requested_at=start - dt.timedelta(hours=5),
        patient=make_patient(net.site, name="M. Autre"),
    )
    assert "téléconsultation 9 heures après" in text(client.get(detail_url(soon)))


def test_video_link_for_participants_only(client, net):
    consultation = book(net)
    with override_settings(TELEHEALTH_VIDEO_BASE_URL="https://visio.example.org"):
        client.force_login(net.doctor.user)
        link = f"https://visio.example.org/{consultation.video_room}"
        assert link in text(client.get(detail_url(consultation)))
        client.force_login(staff_user())
        page = text(client.get(detail_url(consultation)))
        assert consultation.video_room not in page
        assert "réservé aux participants" in page
    with override_settings(TELEHEALTH_VIDEO_BASE_URL=""):
        client.force_login(net.doctor.user)
        page = text(client.get(detail_url(consultation)))
        assert consultation.video_room not in page
        assert "Aucun serveur vidéo n'est configuré : la séance se fait par téléphone." in page


def test_links_to_act_coding_and_the_connectivity_test_when_those_pages_exist(
    client, net, monkeypatch
):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    from cybercantal.telehealth.services.sessions import consultation_close

    consultation_close(
        actor=net.nurse.user, consultation=consultation, status="realisee", channel="video"
    )
    client.force_login(net.coordinator)
    monkeypatch.setattr(views, "_optional_url", lambda name, *args: f"/essai/{name}/{args[0]}/")
    page = text(client.get(detail_url(consultation)))
    assert f"/essai/telehealth:acts_code/{consultation.pk}/" in page
    assert f"/essai/telehealth:connectivity_test/{net.site.pk}/" in page
    monkeypatch.setattr(views, "_optional_url", lambda name, *args: None)
    response = client.get(detail_url(consultation))
    assert response.status_code == 200 and "/essai/" not in text(response)


def test_optional_urls_are_none_until_the_page_exists():
    assert views._optional_url("telehealth:page_qui_n_existe_pas", 1) is None
    assert views._optional_url("telehealth:consultation_detail", 7) == "/telesante/consultations/7/"


# --- Checklist ------------------------------------------------------------------------------


def checklist_url(consultation) -> str:
    return f"{detail_url(consultation)}preparer/"


def test_checklist_page_for_those_who_run_the_session(client, net):
    consultation = book(net)
    for user in (net.doctor.user, net.nurse.user, net.coordinator):
        client.force_login(user)
        response = client.get(checklist_url(consultation))
        assert response.status_code == 200
        page = text(response)
        assert "Le patient a donné son accord pour la téléconsultation" in page
        assert "Dermatoscope" in page
    client.force_login(staff_user())
    assert client.get(checklist_url(consultation)).status_code == 403
    assert (
        client.post(checklist_url(consultation), {"consent": "on", "devices": ["dermatoscope"]})
    ).status_code == 403
    consultation.refresh_from_db()
    assert consultation.consent_recorded_at is None


def test_checklist_says_when_there_is_no_recent_test(client, net):
    consultation = book(net)
    connectivity(net.site, ago=dt.timedelta(hours=30))
    client.force_login(net.nurse.user)
    page = text(client.get(checklist_url(consultation)))
    assert "Aucun test de connexion depuis 24 heures" in page
    response = client.post(
        checklist_url(consultation), {"consent": "on", "devices": ["dermatoscope"]}
    )
    assert response.status_code == 302
    assert response["Location"] == checklist_url(consultation)
    consultation.refresh_from_db()
    assert consultation.consent_recorded_at and not consultation.checklist_complete


def test_a_complete_checklist(client, net, monkeypatch):
    consultation = book(net)
    # On the day: a test measured days ahead would not prepare this session.
    on_the_day = consultation.scheduled_start - dt.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: on_the_day)
    test = connectivity(net.site, recommendation="audio")
    client.force_login(net.nurse.user)
    page = text(client.get(checklist_url(consultation)))
    assert "Recommandé : audio seulement." in page
    response = client.post(
        checklist_url(consultation), {"consent": "on", "devices": ["dermatoscope"]}
    )
    assert response.status_code == 302 and response["Location"] == detail_url(consultation)
    consultation.refresh_from_db()
    assert consultation.checklist_complete and consultation.connectivity_test == test
    assert "Liste de vérification complète." in text(client.get(detail_url(consultation)))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"devices": ["dermatoscope"]}, "Cochez l&#x27;accord du patient"),
        ({"consent": "on"}, "Cochez chaque appareil"),
        ({"consent": "on", "devices": ["otoscope"]}, "Cet appareil n&#x27;est pas demandé"),
    ],
)
def test_an_incomplete_checklist_is_refused_in_french(client, net, data, message):
    consultation = book(net)
    connectivity(net.site)
    client.force_login(net.nurse.user)
    response = client.post(checklist_url(consultation), data)
    assert response.status_code == 400
    assert message in text(response)
    consultation.refresh_from_db()
    assert consultation.consent_recorded_at is None and consultation.devices_ready_at is None


# --- Closing, incidents, cancelling ---------------------------------------------------------


def close_url(consultation) -> str:
    return f"{detail_url(consultation)}cloturer/"


def test_closing_a_session_done(client, net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    client.force_login(net.doctor.user)
    page = text(client.get(close_url(consultation)))
    assert "recommandait : vidéo" in page
    response = client.post(close_url(consultation), {"status": "realisee", "channel": "video"})
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "realisee" and consultation.channel == "video"
    assert consultation.booking.status == Booking.Status.ATTENDED
    response = client.post(close_url(consultation), {"status": "realisee", "channel": "video"})
    assert response.status_code == 400
    assert "déjà clôturée" in text(response)


def test_closing_before_the_start_is_refused_on_the_page(client, net):
    consultation = book(net)
    complete_checklist(net, consultation)
    client.force_login(net.nurse.user)
    response = client.post(close_url(consultation), {"status": "realisee", "channel": "video"})
    assert response.status_code == 400
    assert "ne peut pas être clôturée avant" in text(response)
    consultation.refresh_from_db()
    assert consultation.status == "prevue"
    assert consultation.booking.status == Booking.Status.CONFIRMED


def test_done_without_the_checklist_is_refused_but_not_held_is_allowed(client, net):
    consultation = book_past(net)
    client.force_login(net.nurse.user)
    page = text(client.get(close_url(consultation)))
    assert "La liste de vérification n'est pas complète" in page
    response = client.post(close_url(consultation), {"status": "incident", "channel": "audio"})
    assert response.status_code == 400
    response = client.post(close_url(consultation), {"status": "realisee", "channel": "telephone"})
    assert response.status_code == 400
    assert "complétez-la avant" in text(response)
    consultation.refresh_from_db()
    assert consultation.status == "prevue"
    response = client.post(close_url(consultation), {"status": "non_tenue"})
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "non_tenue"
    assert consultation.booking.status == Booking.Status.NO_SHOW


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choisissez comment la séance s&#x27;est passée."),
        ({"status": "annulee"}, "Choisissez comment la séance s&#x27;est passée."),
        ({"status": "realisee"}, "Indiquez par quel moyen"),
        ({"status": "realisee", "channel": "pigeon"}, "Choisissez vidéo, audio ou téléphone."),
    ],
)
def test_bad_closing_input_is_refused_on_the_page(client, net, data, message):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    client.force_login(net.nurse.user)
    response = client.post(close_url(consultation), data)
    assert response.status_code == 400
    assert message in text(response)
    consultation.refresh_from_db()
    assert consultation.status == "prevue"


def test_staff_see_but_do_not_close(client, net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    client.force_login(staff_user())
    assert client.get(close_url(consultation)).status_code == 403
    response = client.post(close_url(consultation), {"status": "realisee", "channel": "video"})
    assert response.status_code == 403
    consultation.refresh_from_db()
    assert consultation.status == "prevue"


def test_noting_an_incident(client, net):
    consultation = book(net)
    client.force_login(net.nurse.user)
    page = text(client.get(detail_url(consultation)))
    assert "N'écrivez jamais rien sur l'état de santé du patient." in page
    url = f"{detail_url(consultation)}incident/"
    response = client.post(url, {"kind": "reseau", "fallback": "telephone", "cause": "Box"})
    assert response.status_code == 302 and response["Location"] == detail_url(consultation)
    response = client.post(
        url, {"kind": "video", "fallback": "audio", "cause": "", "retour": "cloturer"}
    )
    assert response["Location"] == close_url(consultation)
    assert list(consultation.incidents.values_list("kind", flat=True)) == ["reseau", "video"]
    page = text(client.get(detail_url(consultation)))
    assert "Connexion insuffisante ou coupée" in page and "Passage au téléphone" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fallback": "telephone"}, "Choisissez la nature de l&#x27;incident."),
        ({"kind": "reseau"}, "Choisissez la solution de repli."),
        ({"kind": "reseau", "fallback": "fax"}, "Choisissez la solution de repli."),
        (
            {"kind": "reseau", "fallback": "aucun", "cause": "x" * 301},
            "La cause compte au plus 300 caractères.",
        ),
    ],
)
def test_bad_incident_input_is_refused_on_the_page(client, net, data, message):
    consultation = book(net)
    client.force_login(net.coordinator)
    response = client.post(f"{detail_url(consultation)}incident/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert not Incident.objects.exists()


def test_staff_do_not_note_incidents(client, net):
    consultation = book(net)
    client.force_login(staff_user())
    response = client.post(
        f"{detail_url(consultation)}incident/", {"kind": "reseau", "fallback": "aucun"}
    )
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_cancelling_frees_the_slot(client, net):
    consultation = book(net)
    client.force_login(net.coordinator)
    page = text(client.get(detail_url(consultation)))
    assert f"{detail_url(consultation)}annuler/" in page
    response = client.post(f"{detail_url(consultation)}annuler/", {"reason": "Médecin absent"})
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "annulee"
    assert consultation.booking.status == Booking.Status.CANCELLED
    assert consultation.scheduled_start in {
        slot.start
        for slot in free_slots(site=net.site, specialty=net.derm, assistant=net.nurse, limit=500)
    }
    response = client.post(f"{detail_url(consultation)}annuler/")
    assert response.status_code == 400
    assert "déjà clôturée" in text(response)
