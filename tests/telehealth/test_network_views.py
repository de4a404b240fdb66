"""The network's set-up pages (/telesante/reseau/): staff of the Département set up sites,
equipment, specialties, practitioners, assisting professionals and reference hospitals; a
site's coordinators mark its devices out of order or back in service; everyone else is refused.
Bad input answers 400 with a French message and changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cybercantal.accounts.models import Membership, Role
from cybercantal.booking.errors import BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import (
    AssistingProfessional,
    Equipment,
    Practitioner,
    ReferenceHospital,
    Site,
    Specialty,
)
from cybercantal.telehealth.perms import may_book_at
from cybercantal.telehealth.services.network import distance_to_hospital
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    aurillac,
    make_assistant,
    make_consultation,
    make_practitioner,
    make_site,
    make_specialty,
    staff_user,
)
from tests.territory.factories import OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff():
    return logged(staff_user())


@pytest.fixture
def coordinator():
    return UserFactory()


@pytest.fixture
def site(coordinator):
    return make_site(coordinators=[coordinator])


def staff_pages(site):
    specialty = make_specialty()
    practitioner = make_practitioner(specialties=[specialty])
    assistant = make_assistant(sites=[site])
    return [
        reverse("telehealth:network_sites"),
        reverse("telehealth:network_site_create"),
        reverse("telehealth:network_site_edit", args=[site.pk]),
        reverse("telehealth:network_specialties"),
        reverse("telehealth:network_specialty_create"),
        reverse("telehealth:network_specialty_edit", args=[specialty.pk]),
        reverse("telehealth:network_practitioners"),
        reverse("telehealth:network_practitioner_create"),
        reverse("telehealth:network_practitioner_edit", args=[practitioner.pk]),
        reverse("telehealth:network_assistants"),
        reverse("telehealth:network_assistant_create"),
        reverse("telehealth:network_assistant_edit", args=[assistant.pk]),
        reverse("telehealth:network_hospitals"),
        reverse("telehealth:network_hospital_create"),
        reverse("telehealth:network_hospital_edit", args=[aurillac().pk]),
    ]


# --- Who gets in ---------------------------------------------------------------------------------


def test_staff_open_every_page_and_everyone_else_is_refused(site, coordinator, staff):
    pages = staff_pages(site)
    nurse = AssistingProfessional.objects.get().user
    doctor = Practitioner.objects.get().user
    for url in pages:
        assert staff.get(url).status_code == 200, url
        for user in (coordinator, nurse, doctor, UserFactory()):
            assert logged(user).get(url).status_code == 403, url
        response = Client().get(url)
        assert response.status_code == 302 and "/connexion" in response["Location"]


def test_refused_people_change_nothing_by_posting(site, coordinator):
    client = logged(coordinator)
    response = client.post(
        reverse("telehealth:network_specialty_create"),
        {"label": "Cardiologie", "default_duration_minutes": "30"},
    )
    assert response.status_code == 403
    response = client.post(
        reverse("telehealth:network_hospital_create"),
        {"name": "CH de Saint-Flour", "latitude": "45.03", "longitude": "3.09"},
    )
    assert response.status_code == 403
    assert not Specialty.objects.exists()
    assert ReferenceHospital.objects.count() == 1


def test_unknown_objects_are_not_found(staff, site):
    for name in (
        "network_site_edit",
        "network_specialty_edit",
        "network_practitioner_edit",
        "network_assistant_edit",
        "network_hospital_edit",
    ):
        assert staff.get(reverse(f"telehealth:{name}", args=[99999])).status_code == 404


# --- Sites ---------------------------------------------------------------------------------------


def test_the_sites_list_shows_distance_connection_and_devices_out_of_order(staff, site):
    Equipment.objects.filter(site=site, kind="dermatoscope").update(in_service=False)
    make_site(devices=())
    response = staff.get(reverse("telehealth:network_sites"))
    html = response.content.decode()
    rows = {s.pk: s for s in response.context["sites"]}
    assert (rows[site.pk].equipment_count, rows[site.pk].out_of_order_count) == (4, 1)
    assert "1 en panne" in html and "80 km" in html
    assert escape(site.place.commune.name) in html
    assert reverse("telehealth:connectivity_test", args=[site.pk]) in html


def organisation_place(**kwargs):
    return PlaceFactory(organisation=OrganisationFactory(kind="care_home"), **kwargs)


def test_staff_create_a_site_with_its_distance_computed_and_its_coordinators(staff):
    hospital = aurillac()
    place = organisation_place()
    nurse = UserFactory(email="infirmiere@example.org")
    boss = UserFactory()
    response = staff.post(
        reverse("telehealth:network_site_create"),
        {
            "place": place.pk,
            "kind": "ehpad",
            "reference_hospital": "",
            "hospital_distance_km": "",
            "connection": "fibre",
            "coordinators": f"Infirmiere@Example.org\n{boss.username.upper()}",
        },
    )
    site = Site.objects.get(place=place)
    assert response.status_code == 302
    assert response["Location"] == reverse("telehealth:network_site_equipment", args=[site.pk])
    assert site.reference_hospital == hospital
    assert site.hospital_distance_km == distance_to_hospital(place, hospital)
    assert site.connection == "fibre"
    assert set(site.coordinators.all()) == {nurse, boss}
    # Coordinating gives no membership of the organisation running the site (its other
    # bookings in the booking engine are none of the coordinators' business).
    assert not Membership.objects.filter(user__in=[nurse, boss]).exists()
    assert AuditLog.objects.filter(action="telehealth.site_create", target_id=str(site.pk)).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"coordinators": "personne-inconnue"},
            "Aucun compte actif ne correspond à « personne-inconnue »",
        ),
        ({"hospital_distance_km": "-4"}, "La distance ne peut pas être négative"),
        ({"hospital_distance_km": "loin"}, "Saisissez un nombre de kilomètres"),
        ({"hospital_travel_minutes": "1,5"}, "nombre entier de minutes"),
        ({"kind": "hopital"}, "Sélectionnez un choix valide"),
        ({"place": ""}, "Choisissez le lieu du site"),
        ({"opened_on": "32/13/2024"}, "Saisissez une date"),
    ],
)
def test_bad_site_input_answers_400_in_french_and_creates_nothing(staff, change, message):
    aurillac()
    place = organisation_place()
    data = {"place": place.pk, "kind": "ehpad", "connection": "", "coordinators": ""} | change
    response = staff.post(reverse("telehealth:network_site_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Site.objects.exists()


def test_a_site_needs_a_distance_when_there_is_no_hospital(staff):
    place = organisation_place()
    response = staff.post(
        reverse("telehealth:network_site_create"), {"place": place.pk, "kind": "ehpad"}
    )
    assert response.status_code == 400
    assert "Indiquez la distance à l&#x27;hôpital de référence" in response.content.decode()
    assert not Site.objects.exists()


def test_places_without_organisation_or_already_sites_are_not_offered(staff, site):
    lonely = PlaceFactory(organisation=None)
    aurillac()
    for place in (lonely, site.place):
        response = staff.post(
            reverse("telehealth:network_site_create"), {"place": place.pk, "kind": "ehpad"}
        )
        assert response.status_code == 400
        assert "Ce lieu ne peut pas devenir un site" in response.content.decode()
    offered = staff.get(reverse("telehealth:network_site_create")).context["form"]
    assert set(offered.fields["place"].queryset) == set()


def test_staff_edit_a_site_and_coordinators_who_leave_lose_their_access(staff, site, coordinator):
    newcomer = UserFactory()
    response = staff.post(
        reverse("telehealth:network_site_edit", args=[site.pk]),
        {
            "kind": "centre_sante",
            "reference_hospital": aurillac().pk,
            "hospital_distance_km": "42,5",
            "hospital_travel_minutes": "",
            "connection": "radio",
            "coordinators": newcomer.username,
            "opened_on": "2024-03-15",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.kind, site.connection) == ("centre_sante", "radio")
    assert site.hospital_distance_km == Decimal("42.5")
    assert site.hospital_travel_minutes == 42  # 42.5 km at 60 km/h
    assert list(site.coordinators.all()) == [newcomer]
    assert not Membership.objects.filter(user__in=[coordinator, newcomer]).exists()
    # The former coordinator no longer opens the site's connectivity test.
    url = reverse("telehealth:connectivity_test", args=[site.pk])
    assert logged(coordinator).get(url).status_code == 403
    assert logged(newcomer).get(url).status_code == 200
    row = AuditLog.objects.get(action="telehealth.site_update")
    assert row.data["coordinators_removed"] == [coordinator.pk]


def test_an_empty_distance_is_estimated_again_on_edit(staff, site):
    response = staff.post(
        reverse("telehealth:network_site_edit", args=[site.pk]),
        {"kind": "ehpad", "hospital_distance_km": "", "is_active": ""},
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.hospital_distance_km == distance_to_hospital(site.place, aurillac())
    assert site.is_active is False


def test_taking_a_site_out_of_service_keeps_its_last_day_and_back_in_service_clears_it(staff, site):
    url = reverse("telehealth:network_site_edit", args=[site.pk])
    values = {"kind": "ehpad", "hospital_distance_km": "80", "coordinators": ""}
    staff.post(url, {**values, "is_active": ""})
    site.refresh_from_db()
    assert (site.is_active, site.closed_on) == (False, timezone.localdate())
    # Edited again while out of service: the day it left stays, or takes the day given.
    staff.post(url, {**values, "is_active": ""})
    site.refresh_from_db()
    assert site.closed_on == timezone.localdate()
    last_day = timezone.localdate() - dt.timedelta(days=40)
    staff.post(url, {**values, "is_active": "", "closed_on": last_day.isoformat()})
    site.refresh_from_db()
    assert site.closed_on == last_day
    staff.post(url, {**values, "is_active": "on"})
    site.refresh_from_db()
    assert (site.is_active, site.closed_on) == (True, None)


@pytest.mark.parametrize(
    ("closed_on", "message"),
    [
        (dt.timedelta(days=3), "ne peut pas être dans le futur"),
        (-dt.timedelta(days=400), "ne peut pas précéder la mise en service"),
    ],
)
def test_a_wrong_last_day_in_service_is_refused_and_changes_nothing(
    staff, site, closed_on, message
):
    today = timezone.localdate()
    response = staff.post(
        reverse("telehealth:network_site_edit", args=[site.pk]),
        {
            "kind": "ehpad",
            "hospital_distance_km": "80",
            "coordinators": "",
            "opened_on": (today - dt.timedelta(days=100)).isoformat(),
            "is_active": "",
            "closed_on": (today + closed_on).isoformat(),
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    site.refresh_from_db()
    assert (site.is_active, site.closed_on, site.opened_on) == (True, None, None)


def test_a_coordinator_who_still_assists_on_the_site_keeps_booking_there(staff, site, coordinator):
    make_assistant(sites=[site], user=coordinator)
    staff.post(
        reverse("telehealth:network_site_edit", args=[site.pk]),
        {"kind": "ehpad", "hospital_distance_km": "80", "coordinators": "", "is_active": "on"},
    )
    assert not site.coordinators.exists()
    # The right to book follows assisting on the site, not a membership.
    assert may_book_at(coordinator, site)
    assert not Membership.objects.filter(user=coordinator).exists()


# --- Equipment -----------------------------------------------------------------------------------


def equipment_url(site):
    return reverse("telehealth:network_site_equipment", args=[site.pk])


def state_url(device):
    return reverse("telehealth:network_equipment_state", args=[device.pk])


def test_staff_add_a_device(staff, site):
    response = staff.post(
        equipment_url(site),
        {"kind": "otoscope", "model_name": "  Otoscope  HD ", "serial_number": "SN-42"},
    )
    assert response.status_code == 302
    device = Equipment.objects.get(site=site, kind="otoscope")
    assert (device.model_name, device.serial_number, device.in_service) == (
        "Otoscope HD",
        "SN-42",
        True,
    )
    assert AuditLog.objects.filter(action="telehealth.equipment_add").exists()


def test_a_bad_device_answers_400(staff, site):
    before = Equipment.objects.count()
    response = staff.post(equipment_url(site), {"kind": "scanner"})
    assert response.status_code == 400
    assert "Choisissez un appareil de la liste" in response.content.decode()
    assert Equipment.objects.count() == before


def test_a_coordinator_sees_their_site_equipment_without_the_add_form(site, coordinator):
    client = logged(coordinator)
    response = client.get(equipment_url(site))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "Ajouter un appareil" not in response.content.decode()
    assert client.post(equipment_url(site), {"kind": "otoscope"}).status_code == 403
    assert not Equipment.objects.filter(kind="otoscope").exists()


def test_coordinators_do_not_see_other_sites_equipment_and_strangers_are_refused(site):
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    assert logged(other_coordinator).get(equipment_url(site)).status_code == 404
    assert logged(UserFactory()).get(equipment_url(site)).status_code == 403
    nurse = make_assistant(sites=[site]).user
    assert logged(nurse).get(equipment_url(site)).status_code == 403


def test_a_coordinator_marks_a_device_out_of_order_and_booking_then_refuses(site, coordinator):
    derm = make_specialty()
    device = Equipment.objects.get(site=site, kind="dermatoscope")
    client = logged(coordinator)
    response = client.post(state_url(device), {"in_service": "0"}, follow=True)
    assert response.redirect_chain[-1][0] == equipment_url(site)
    assert "est noté en panne" in response.content.decode()
    device.refresh_from_db()
    assert device.in_service is False
    assert AuditLog.objects.filter(
        action="telehealth.equipment_set_in_service", target_id=str(device.pk)
    ).exists()
    with pytest.raises(BookingRuleError, match="Dermatoscope"):
        make_consultation(site=site, specialty=derm)
    client.post(state_url(device), {"in_service": "1"})
    device.refresh_from_db()
    assert device.in_service is True
    assert make_consultation(site=site, specialty=derm).pk


def test_others_cannot_change_a_device_and_bad_values_change_nothing(site, coordinator, staff):
    device = Equipment.objects.get(site=site, kind="dermatoscope")
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    assert logged(other_coordinator).post(state_url(device), {"in_service": "0"}).status_code == 404
    assert logged(UserFactory()).post(state_url(device), {"in_service": "0"}).status_code == 403
    response = logged(coordinator).post(state_url(device), {"in_service": "peut-être"}, follow=True)
    assert "Choisissez « en panne » ou « remis en service »" in response.content.decode()
    assert logged(coordinator).get(state_url(device)).status_code == 405
    device.refresh_from_db()
    assert device.in_service is True
    assert staff.post(state_url(device), {"in_service": "0"}).status_code == 302
    device.refresh_from_db()
    assert device.in_service is False


# --- Specialties ---------------------------------------------------------------------------------


def test_staff_create_a_specialty_with_its_protocol(staff):
    response = staff.post(
        reverse("telehealth:network_specialty_create"),
        {
            "label": "Cardiologie pédiatrique",
            "code": "",
            "required_devices": ["ecg", "stethoscope"],
            "required_assistant": "infirmier",
            "default_duration_minutes": "45",
        },
    )
    assert response.status_code == 302
    specialty = Specialty.objects.get()
    assert specialty.code == "cardiologie-pediatrique"
    assert specialty.required_devices == ["ecg", "stethoscope"]
    assert (specialty.required_assistant, specialty.default_duration_minutes) == ("infirmier", 45)
    listing = staff.get(reverse("telehealth:network_specialties")).content.decode()
    assert "Électrocardiographe, Stéthoscope connecté" in listing


def test_staff_edit_a_specialty(staff):
    derm = make_specialty()
    response = staff.post(
        reverse("telehealth:network_specialty_edit", args=[derm.pk]),
        {
            "label": "Dermatologie",
            "code": "dermatologie",
            "required_devices": ["dermatoscope", "camera"],
            "required_assistant": "",
            "default_duration_minutes": "15",
        },
    )
    assert response.status_code == 302
    derm.refresh_from_db()
    assert derm.required_devices == ["dermatoscope", "camera"]
    assert (derm.required_assistant, derm.default_duration_minutes) == ("", 15)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": ""}, "Indiquez le nom de la spécialité"),
        ({"default_duration_minutes": "17"}, "Choisissez une durée de la liste"),
        ({"default_duration_minutes": "240"}, "Choisissez une durée de la liste"),
        ({"required_devices": ["scanner"]}, "Choisissez des appareils de la liste"),
        ({"required_assistant": "kine"}, "Choisissez une profession de la liste"),
        ({"code": "dermatologie"}, "Une autre spécialité porte déjà ce code"),
        ({"code": "cœur battant"}, "Le code ne contient que des lettres sans accent"),
    ],
)
def test_bad_specialty_input_answers_400_and_changes_nothing(staff, change, message):
    make_specialty()
    data = {"label": "Cardiologie", "code": "cardiologie", "default_duration_minutes": "30"}
    response = staff.post(reverse("telehealth:network_specialty_create"), data | change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Specialty.objects.count() == 1


# --- Practitioners -------------------------------------------------------------------------------


def practitioner_data(**overrides):
    organisation = OrganisationFactory(name="CH de Saint-Flour", kind="hospital")
    return {
        "user": "",
        "kind": "specialiste",
        "rpps": "10 1234 5678 9",
        "specialties": [make_specialty().pk],
        "organisation": organisation.pk,
    } | overrides


def test_staff_create_a_practitioner_from_an_existing_account(staff):
    doctor = UserFactory(email="dr.lacombe@example.org")
    response = staff.post(
        reverse("telehealth:network_practitioner_create"),
        practitioner_data(user="DR.LACOMBE@example.org"),
    )
    assert response.status_code == 302
    practitioner = Practitioner.objects.get(user=doctor)
    assert practitioner.rpps == "10123456789"
    assert [s.code for s in practitioner.specialties.all()] == ["dermatologie"]
    assert practitioner.resource.kind == "person" and practitioner.resource.person == doctor
    # No membership of the hospital: its other bookings stay out of the doctor's reach.
    assert not doctor.has_role(Role.PRACTITIONER)
    assert not Membership.objects.filter(user=doctor).exists()
    listing = staff.get(reverse("telehealth:network_practitioners")).content.decode()
    assert "10123456789" in listing and "CH de Saint-Flour" in listing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"user": "personne"}, "Aucun compte actif ne correspond à « personne »"),
        ({"rpps": "123"}, "Le numéro RPPS compte 11 chiffres"),
        ({"rpps": "1012345678A"}, "Le numéro RPPS compte 11 chiffres"),
        ({"specialties": []}, "Cochez au moins une spécialité"),
        ({"specialties": ["x"]}, "Choisissez des spécialités de la liste"),
        ({"kind": "chirurgien"}, "Sélectionnez un choix valide"),
        ({"organisation": "99999"}, "Choisissez une structure de la liste"),
    ],
)
def test_bad_practitioner_input_answers_400_and_creates_nothing(staff, change, message):
    account = UserFactory()
    response = staff.post(
        reverse("telehealth:network_practitioner_create"),
        practitioner_data(user=account.username) | change,
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Practitioner.objects.exists()


def test_an_account_or_rpps_already_registered_is_refused(staff):
    existing = make_practitioner()
    for data, message in (
        ({"user": existing.user.username, "rpps": "20000000001"}, "déjà enregistré comme médecin"),
        ({"user": UserFactory().username, "rpps": existing.rpps}, "Ce numéro RPPS est déjà"),
    ):
        response = staff.post(
            reverse("telehealth:network_practitioner_create"), practitioner_data(**data)
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    assert Practitioner.objects.count() == 1


def test_staff_take_a_practitioner_off_the_network(staff):
    practitioner = make_practitioner()
    cardio = make_specialty(code="cardiologie", label="Cardiologie", devices=("ecg",))
    response = staff.post(
        reverse("telehealth:network_practitioner_edit", args=[practitioner.pk]),
        {"kind": "generaliste", "specialties": [cardio.pk]},
    )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert (practitioner.kind, practitioner.is_active) == ("generaliste", False)
    assert list(practitioner.specialties.all()) == [cardio]


# --- Assisting professionals ---------------------------------------------------------------------


def test_staff_create_and_edit_an_assisting_professional(staff, site):
    other = make_site()
    pharmacist = UserFactory()
    response = staff.post(
        reverse("telehealth:network_assistant_create"),
        {"user": pharmacist.username, "kind": "pharmacien", "sites": [site.pk]},
    )
    assert response.status_code == 302
    assistant = AssistingProfessional.objects.get(user=pharmacist)
    assert list(assistant.sites.all()) == [site]
    response = staff.post(
        reverse("telehealth:network_assistant_edit", args=[assistant.pk]),
        {"kind": "infirmier", "sites": [site.pk, other.pk], "is_active": "on"},
    )
    assert response.status_code == 302
    assistant.refresh_from_db()
    assert assistant.kind == "infirmier"
    assert set(assistant.sites.all()) == {site, other}
    assert not Membership.objects.filter(user=pharmacist).exists()
    assert AuditLog.objects.filter(action="telehealth.assistant_update").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"user": "", "kind": "infirmier"}, "Indiquez le compte du professionnel"),
        ({"user": "{user}", "kind": "kine"}, "Sélectionnez un choix valide"),
        ({"user": "{user}", "kind": "infirmier", "sites": []}, "Cochez au moins un site"),
        ({"user": "{nurse}", "kind": "infirmier"}, "déjà enregistré comme professionnel"),
    ],
)
def test_bad_assistant_input_answers_400_and_creates_nothing(staff, site, data, message):
    nurse = make_assistant(sites=[site])
    user = UserFactory()
    data = {"sites": [site.pk]} | data
    data["user"] = data["user"].format(user=user.username, nurse=nurse.user.username)
    response = staff.post(reverse("telehealth:network_assistant_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert AssistingProfessional.objects.count() == 1


# --- Reference hospitals -------------------------------------------------------------------------


def test_staff_add_a_hospital_and_make_it_the_default(staff):
    first = aurillac()
    response = staff.post(
        reverse("telehealth:network_hospital_create"),
        {
            "name": "CH de Saint-Flour",
            "latitude": "45,0339",
            "longitude": "3,0931",
            "is_default": "on",
        },
    )
    assert response.status_code == 302
    hospital = ReferenceHospital.objects.get(name="CH de Saint-Flour")
    assert (hospital.latitude, hospital.longitude, hospital.is_default) == (45.0339, 3.0931, True)
    first.refresh_from_db()
    assert first.is_default is False
    response = staff.post(
        reverse("telehealth:network_hospital_edit", args=[first.pk]),
        {"name": first.name, "latitude": "44.9262", "longitude": "2.4447", "is_default": "on"},
    )
    assert response.status_code == 302
    hospital.refresh_from_db()
    assert hospital.is_default is False
    assert ReferenceHospital.objects.get(is_default=True) == first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Indiquez le nom de l&#x27;hôpital"),
        ({"latitude": "95"}, "Entre -90 et 90"),
        ({"longitude": "est"}, "Saisissez un nombre"),
        ({"latitude": "nan"}, "Saisissez un nombre"),
        ({"name": "centre hospitalier d'aurillac"}, "Un hôpital de référence porte déjà ce nom"),
    ],
)
def test_bad_hospital_input_answers_400_and_changes_nothing(staff, change, message):
    aurillac()
    data = {"name": "CH de Mauriac", "latitude": "45.22", "longitude": "2.33"} | change
    response = staff.post(reverse("telehealth:network_hospital_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ReferenceHospital.objects.count() == 1


# --- In a browser --------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_set_up_pages_on_a_phone(live_server):
    """At 320 CSS px, the main set-up pages (and a form showing its errors) fit the screen
    and axe-core finds no serious or critical violation. Data is prepared before Playwright
    starts."""
    import os

    from playwright.sync_api import sync_playwright

    from tests.browser.test_booking import _audit, _fits
    from tests.browser.test_public_pages import CHROMIUM_ARGS
    from tests.conftest import chromium_path

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    Equipment.objects.filter(site=site, kind="camera").update(in_service=False)
    pages = [*staff_pages(site), reverse("telehealth:network_site_equipment", args=[site.pk])]
    client = Client()
    client.force_login(staff_user())
    cookie = client.cookies["sessionid"].value
    blocking, too_wide = {}, []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR")
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
            tab = context.new_page()
            for url in pages:
                tab.goto(live_server.url + url)
                blocking[url] = _audit(tab, url)
                if not _fits(tab):
                    too_wide.append(url)
            # A form with its errors: the summary and the fields' messages.
            tab.goto(live_server.url + reverse("telehealth:network_practitioner_create"))
            tab.get_by_role("button", name="Enregistrer le médecin").click()
            tab.wait_for_selector("#erreurs-formulaire")
            blocking["erreurs"] = _audit(tab, "erreurs")
            if not _fits(tab):
                too_wide.append("erreurs")
        finally:
            browser.close()

    assert too_wide == []
    assert all(not found for found in blocking.values()), blocking
