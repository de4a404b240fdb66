"""Activity reports and beneficiaries: what a mediator records, the French refusals that write
nothing, duplicates merged, and the wall between structures."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Allocation, Booking
from cybercantal.mediation.models import Activity, Beneficiary
from cybercantal.mediation.selectors.activities import activity_list, beneficiary_list
from cybercantal.mediation.services.activities import (
    activity_record,
    beneficiary_create,
    beneficiary_duplicates,
    beneficiary_merge,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import ResourceFactory
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


@pytest.fixture
def structure():
    return OrganisationFactory()


@pytest.fixture
def mediator(structure):
    return mediator_of(structure)


def report(actor, organisation, **changes):
    fields = {
        "kind": "individuel",
        "day": timezone.localdate(),
        "duration_minutes": 30,
        "place_type": "domicile",
        "commune": CommuneFactory(),
        "themes": ["papiers", "courriel"],
    }
    return activity_record(actor=actor, organisation=organisation, **(fields | changes))


def test_a_mediator_records_a_home_visit(mediator, structure):
    person = beneficiary_create(
        actor=mediator, organisation=structure, consent=True, first_name="Jeanne", phone=""
    )
    activity = report(mediator, structure, beneficiaries=[person], autonomy="accompagne")
    assert activity.themes == ["papiers", "courriel"]
    assert list(activity.beneficiaries.all()) == [person]
    assert activity.participants_count == 1


def test_at_a_mediation_place_the_commune_is_the_places(mediator, structure):
    place = PlaceFactory()
    activity = report(mediator, structure, place_type="lieu", place=place, commune=None)
    assert activity.commune == place.commune


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"themes": []}, "au moins une thématique"),
        ({"themes": ["astrologie"]}, "Thématique inconnu.e. : astrologie"),
        ({"commune": None}, "Indiquez la commune"),
        ({"place_type": "lieu"}, "Indiquez le lieu de médiation"),
        ({"day": dt.date.today() + dt.timedelta(days=2)}, "pas à l'avance"),
        ({"duration_minutes": 0}, "La durée va de 1 minute"),
        ({"kind": "collectif", "level": "debutant"}, "titre de l'atelier"),
        ({"kind": "collectif", "title": "Smartphone"}, "niveau de l'atelier"),
        ({"redirected_to": "nasa"}, "Structure d'orientation inconnue"),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(mediator, structure, changes, message):
    with pytest.raises(BookingRuleError, match=message):
        report(mediator, structure, **changes)
    assert not Activity.objects.exists()


def test_a_workshop_counts_named_and_unnamed_participants(mediator, structure):
    people = [
        beneficiary_create(actor=mediator, organisation=structure, consent=True, first_name=n)
        for n in ("Paul", "Rose")
    ]
    workshop = report(
        mediator,
        structure,
        kind="collectif",
        title="Premiers pas sur tablette",
        level="debutant",
        participants_count=6,
        beneficiaries=people,
    )
    assert workshop.participants_count == 6
    assert workshop.beneficiaries.count() == 2
    counted_only = report(
        mediator,
        structure,
        kind="collectif",
        title="Sécurité",
        level="avance",
        participants_count=1,
        beneficiaries=people,
    )
    assert counted_only.participants_count == 2  # never fewer than the people named


def test_a_report_from_an_appointment_is_recorded_once(mediator, structure):
    resource = ResourceFactory(organisation=structure, kind="person")
    now = timezone.now()
    booking = Booking.objects.create(
        reference=uuid.uuid4().hex[:12],
        start=now - dt.timedelta(hours=2),
        end=now - dt.timedelta(hours=1),
        status="attended",
        person_name="Jeanne",
    )
    Allocation.objects.create(
        booking=booking, resource=resource, blocked_start=booking.start, blocked_end=booking.end
    )
    report(mediator, structure, booking=booking)
    with pytest.raises(BookingRuleError, match="déjà fait"):
        report(mediator, structure, booking=booking)
    other = OrganisationFactory()
    with pytest.raises(BookingRuleError, match="pas celui de votre structure"):
        report(mediator_of(other), other, booking=booking)
    assert Activity.objects.count() == 1


def test_named_records_need_consent_anonymous_ones_keep_nothing(mediator, structure):
    with pytest.raises(BookingRuleError, match="accord de la personne"):
        beneficiary_create(actor=mediator, organisation=structure, consent=False, first_name="A")
    anonymous = beneficiary_create(
        actor=mediator,
        organisation=structure,
        consent=False,
        is_anonymous=True,
        first_name="Secret",
        phone="06 12 34 56 78",
    )
    assert (anonymous.first_name, anonymous.phone, anonymous.consent_at) == ("", "", None)
    with pytest.raises(BookingRuleError):
        beneficiary_create(
            actor=mediator,
            organisation=structure,
            consent=True,
            phone="06 12 34 56 78",
            has_no_phone=True,
        )
    assert Beneficiary.objects.count() == 1


def test_duplicates_are_found_and_merged(mediator, structure):
    first = beneficiary_create(
        actor=mediator,
        organisation=structure,
        consent=True,
        first_name="Louise",
        phone="06 11 22 33 44",
    )
    second = beneficiary_create(
        actor=mediator,
        organisation=structure,
        consent=True,
        first_name="Louise B.",
        phone="0611223344",
        birth_year=1950,
    )
    elsewhere = OrganisationFactory()
    beneficiary_create(
        actor=mediator_of(elsewhere), organisation=elsewhere, consent=True, phone="0611223344"
    )
    assert beneficiary_duplicates(actor=mediator, person=first) == [second]
    activity = report(mediator, structure, beneficiaries=[second])
    kept = beneficiary_merge(actor=mediator, keep=first, duplicate=second)
    assert kept.birth_year == 1950
    assert list(activity.beneficiaries.all()) == [first]
    assert list(beneficiary_list(actor=mediator)) == [first]
    with pytest.raises(BookingRuleError, match="déjà été fusionnée"):
        beneficiary_merge(actor=mediator, keep=first, duplicate=second)


def test_another_structures_mediator_sees_and_writes_nothing(mediator, structure):
    person = beneficiary_create(
        actor=mediator, organisation=structure, consent=True, first_name="A"
    )
    report(mediator, structure, beneficiaries=[person])
    other = mediator_of(OrganisationFactory())
    assert not activity_list(actor=other).exists()
    assert not beneficiary_list(actor=other).exists()
    assert beneficiary_duplicates(actor=other, person=person) == []
    with pytest.raises(BookingForbidden):
        report(other, structure)
    with pytest.raises(BookingForbidden):
        beneficiary_create(actor=other, organisation=structure, consent=True, first_name="B")
    with pytest.raises(BookingRuleError, match="pas suivie par votre structure"):
        other_structure = other.memberships.get().organisation
        report(other, other_structure, beneficiaries=[person])
    assert Activity.objects.count() == 1
