"""The quick entry of an activity report in the browser's forms: prefilled from the
appointment, a new person and the report together or not at all, French refusals, the list
and its CSV limited to the mediator's structure."""

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.models import Allocation, Booking
from cybercantal.mediation.models import Activity, Beneficiary
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import ResourceFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

NEW = reverse("mediation:activity_new")


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


@pytest.fixture
def setting():
    structure = OrganisationFactory()
    place = PlaceFactory(organisation=structure)
    return structure, place, mediator_of(structure)


def form(**changes):
    data = {
        "kind": "individuel",
        "day": timezone.localdate().isoformat(),
        "duration_minutes": "30",
        "place_type": "domicile",
        "commune": CommuneFactory(name="Allanche").insee_code,
        "procedure_themes": ["logement"],
        "skill_themes": ["courriel"],
        "equipment": ["telephone"],
        "autonomy": "accompagne",
        "redirected_to": "caf",
        "new_age_band": "70_plus",
        "participants_count": "1",
    }
    return data | changes


def test_a_report_with_a_new_person(client, setting):
    _structure, _place, mediator = setting
    client.force_login(mediator)
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, form(new_first_name="Marcel", new_consent="on"))
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.themes == ["courriel", "logement"]
    assert activity.commune.name == "Allanche"
    assert activity.beneficiaries.get().first_name == "Marcel"
    page = client.get(reverse("mediation:activities")).content.decode()
    assert "Logement" in page and "E-mail" in page


def test_prefilled_from_the_appointment(client, setting):
    structure, place, mediator = setting
    resource = ResourceFactory(organisation=structure, kind="person", place=place)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    booking = Booking.objects.create(
        reference=uuid.uuid4().hex[:12],
        start=start,
        end=start + dt.timedelta(minutes=45),
        status="confirmed",
        place=place,
        person_name="Jeanne",
        person_phone="+33612345678",
    )
    Allocation.objects.create(
        booking=booking, resource=resource, blocked_start=booking.start, blocked_end=booking.end
    )
    client.force_login(mediator)
    page = client.get(NEW, {"rdv": booking.pk}).content.decode()
    assert "Jeanne" in page
    assert re.search(r'name="duration_minutes" value="45"[^>]*checked', page)
    response = client.post(
        NEW, form(rdv=booking.pk, place_type="lieu", place=place.pk, duration_minutes="45")
    )
    assert response.status_code == 302
    assert Activity.objects.get().booking == booking


def test_no_theme_is_refused_and_nothing_written(client, setting):
    _structure, _place, mediator = setting
    client.force_login(mediator)
    response = client.post(
        NEW, form(skill_themes=[], procedure_themes=[], new_first_name="Marcel", new_consent="on")
    )
    assert response.status_code == 422
    assert "Choisissez au moins une thématique." in response.content.decode()
    assert not Activity.objects.exists()
    assert not Beneficiary.objects.exists()  # the new person is not kept without the report


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"commune": "Atlantide"}, 400, "Commune inconnue"),
        ({"day": "hier"}, 400, "Indiquez une date"),
        ({"duration_minutes": "5000"}, 400, "Sélectionnez un choix valide"),
        ({"new_first_name": "Marcel"}, 422, "Recueillez l&#x27;accord de la personne"),
    ],
)
def test_bad_input_gets_a_french_message(client, setting, changes, status, message):
    _structure, _place, mediator = setting
    client.force_login(mediator)
    response = client.post(NEW, form(**changes))
    assert response.status_code == status
    assert message in response.content.decode()
    assert not Activity.objects.exists()


def test_only_mediators_and_only_their_structure(client, setting):
    _structure, _place, mediator = setting
    client.force_login(mediator)
    client.post(NEW, form())
    assert Activity.objects.count() == 1
    assert client.get(reverse("mediation:activities_csv")).content.decode().count("\n") == 2
    other = mediator_of(OrganisationFactory())
    client.force_login(other)
    assert "Aucun compte rendu" in client.get(reverse("mediation:activities")).content.decode()
    assert client.get(reverse("mediation:activities_csv")).content.decode().count("\n") == 1
    client.force_login(UserFactory())
    assert client.get(NEW).status_code == 403
    assert client.get(reverse("mediation:activities")).status_code == 403
    client.logout()
    assert client.get(NEW).status_code == 302
