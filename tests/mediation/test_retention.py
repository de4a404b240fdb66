"""Retention of personal data in digital mediation (mediation.retention): records past their
period lose their identifying fields, recent ones keep them, the boundaries fall on the exact
day, the dashboards count the same before and after, the mandate journal is untouched, and a
second run erases nothing."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import AuditLog
from cybercantal.core.scheduler import periodic_jobs
from cybercantal.mediation import tasks
from cybercantal.mediation.models import (
    Beneficiary,
    HomeVisit,
    MandateUse,
    WorkshopSession,
    WorkshopWalkIn,
)
from cybercantal.mediation.retention import (
    ERASED_SCAN,
    RetentionReport,
    retention_apply,
)
from cybercantal.mediation.selectors.dashboard import activity_dashboard
from cybercantal.mediation.services.activities import activity_record, beneficiary_create
from cybercantal.mediation.services.mandates import mandate_create, mandate_use
from cybercantal.mediation.services.routes import home_visit_book
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import ResourceFactory, agent_of
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 6, 15, 10, 0, tzinfo=PARIS)  # the day retention runs
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Clock:
    def __init__(self):
        self.now = NOW

    def at(self, year, month, day, hour=10):
        self.now = dt.datetime(year, month, day, hour, tzinfo=PARIS)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now.astimezone(dt.UTC))
    return clock


def verified(user):
    user.is_verified = lambda: True  # as django-otp leaves request.user after the 2FA check
    return user


class World:
    """One structure, one mediator; people created and helped on the days each test says."""

    def __init__(self, clock):
        self.clock = clock
        self.structure = OrganisationFactory(name="France Services de Murat")
        self.mediator = verified(UserFactory())
        MembershipFactory(user=self.mediator, organisation=self.structure, role="mediator")

    def person(self, created, first_name, **fields):
        self.clock.at(*created)
        fields = {"phone": "06 39 98 00 01", "birth_year": 1950} | fields
        return beneficiary_create(
            actor=self.mediator,
            organisation=self.structure,
            consent=True,
            first_name=first_name,
            **fields,
        )

    def helped(self, person, day):
        self.clock.at(*day, hour=18)
        return activity_record(
            actor=self.mediator,
            organisation=self.structure,
            kind="individuel",
            day=dt.date(*day),
            duration_minutes=30,
            place_type="distance",
            themes=["papiers"],
            autonomy="accompagne",
            beneficiaries=[person],
        )

    def mandate(self, person, starts, duration):
        self.clock.at(*starts)
        return mandate_create(
            actor=self.mediator,
            organisation=self.structure,
            beneficiary=person,
            areas=["argent"],
            duration=duration,
            consent_method="papier",
            consent_file=SimpleUploadedFile("accord.pdf", PDF, content_type="application/pdf"),
            consent_note="Signé au bureau, avec sa fille Odile",
        )

    def dashboards(self, *years):
        self.clock.now = NOW
        return [
            activity_dashboard(
                actor=self.mediator, year=year, scope="structure", organisation=self.structure
            )
            for year in years
        ]


@pytest.fixture
def world(clock):
    return World(clock)


def reload(*objects):
    return [type(o).objects.get(pk=o.pk) for o in objects]


def identity(person):
    person.refresh_from_db()
    return (person.first_name, person.phone, person.birth_year)


def test_beneficiaries_lose_their_identity_24_months_after_their_last_report(world, clock):
    # NOW is 15 June 2027: reports up to 14 June 2025 are 24 months old, 15 June 2025 is not.
    old = world.person((2024, 1, 10), "Albert")
    world.helped(old, (2024, 3, 1))
    world.helped(old, (2025, 6, 14))
    on_the_day = world.person((2024, 1, 10), "Berthe", birth_year=None)
    world.helped(on_the_day, (2025, 6, 15))
    recent = world.person((2024, 1, 10), "Camille")
    world.helped(recent, (2026, 2, 1))
    never_helped_old = world.person((2025, 6, 14), "Denise", age_band="60_70")
    never_helped_new = world.person((2025, 6, 15), "Émile")
    anonymous = beneficiary_create(
        actor=world.mediator, organisation=world.structure, consent=False, is_anonymous=True
    )
    world.helped(anonymous, (2024, 5, 1))
    before = world.dashboards(2024, 2025, 2026)

    clock.now = NOW
    report = retention_apply()

    assert report == RetentionReport(beneficiaries=2)
    assert identity(old) == ("", "", None)
    assert identity(never_helped_old) == ("", "", None)
    assert identity(on_the_day) == ("Berthe", "+33639980001", None)
    assert identity(recent) == ("Camille", "+33639980001", 1950)
    assert identity(never_helped_new) == ("Émile", "+33639980001", 1950)
    # The birth year became the age band at the last report (75 in 2025); a band noted stays.
    assert old.age_band == "70_plus"
    assert never_helped_old.age_band == "60_70"
    # What the statistics count stays: the record, named or not, its reports.
    assert (old.is_anonymous, old.organisation_id, old.activities.count()) == (
        False,
        world.structure.pk,
        2,
    )
    assert Beneficiary.objects.count() == 6
    assert world.dashboards(2024, 2025, 2026) == before
    assert [(d.people.named, d.people.anonymous, d.total.accompaniments) for d in before] == [
        (1, 1, 2),
        (2, 0, 2),
        (1, 0, 1),
    ]

    assert retention_apply() == RetentionReport()  # nothing left to erase
    assert list(AuditLog.objects.filter(action="mediation.retention").values_list("data")) == [
        ({"beneficiaries": 2, "home_visits": 0, "walk_ins": 0, "mandates": 0, "scans_deleted": 0},)
    ]


def test_mandates_are_kept_six_years_after_their_end_with_their_journal(
    world, clock, django_capture_on_commit_callbacks
):
    # NOW is 15 June 2027: mandates ended before 15 June 2021 are past their six years.
    old_person = world.person((2019, 1, 10), "Fernand")
    world.helped(old_person, (2020, 6, 1))
    old = world.mandate(old_person, (2020, 6, 1), "1a")  # ends 31 May 2021
    clock.at(2020, 9, 1)
    mandate_use(actor=world.mediator, mandate=old, area="argent", procedure="Impôts 2020")
    kept_person = world.person((2019, 1, 10), "Gisèle")
    world.helped(kept_person, (2021, 6, 15))
    kept = world.mandate(kept_person, (2021, 6, 15), "1j")  # ends 15 June 2021: six years today
    old_scan, kept_scan = old.consent_file.name, kept.consent_file.name
    journal = list(MandateUse.objects.values_list("mandate", "area", "procedure", "used_by_repr"))
    before = world.dashboards(2020, 2021)

    clock.now = NOW
    with django_capture_on_commit_callbacks(execute=True):
        report = retention_apply()

    assert report == RetentionReport(beneficiaries=1, mandates=1, scans_deleted=1)
    old, kept = reload(old, kept)
    assert (old.consent_note, old.consent_file.name) == ("", ERASED_SCAN)
    assert not default_storage.exists(old_scan)
    assert identity(old_person) == ("", "", None)
    # The mandate stays (its dates, areas, hash, consent method), and so does its journal.
    assert (old.starts_on, old.ends_on, old.consent_method) == (
        dt.date(2020, 6, 1),
        dt.date(2021, 5, 31),
        "papier",
    )
    assert old.areas.count() == 1 and old.attestation_hash
    assert (
        list(MandateUse.objects.values_list("mandate", "area", "procedure", "used_by_repr"))
        == journal
    )
    # Still within six years: everything kept, including the person, inactive for 6 years.
    assert (kept.consent_note, kept.consent_file.name) == (
        "Signé au bureau, avec sa fille Odile",
        kept_scan,
    )
    assert default_storage.exists(kept_scan)
    assert identity(kept_person) == ("Gisèle", "+33639980001", 1950)
    assert world.dashboards(2020, 2021) == before
    assert [(d.people.named, d.total.accompaniments) for d in before] == [(1, 1), (1, 1)]

    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply() == RetentionReport()


def test_remote_consent_mandates_lose_their_note(world, clock):
    person = world.person((2019, 1, 10), "Henri")
    clock.at(2020, 1, 6)
    mandate = mandate_create(
        actor=world.mediator,
        organisation=world.structure,
        beneficiary=person,
        areas=["logement"],
        duration="1m",
        consent_method="distance",
        remote_consent_confirmed=True,
        consent_note="Par téléphone, au 06 39 98 00 01",
    )
    clock.now = NOW
    assert retention_apply() == RetentionReport(beneficiaries=1, mandates=1)
    mandate.refresh_from_db()
    assert (mandate.consent_note, mandate.consent_file.name) == ("", "")


def test_home_visit_addresses_are_erased_30_days_after_the_visit(world, clock):
    base = PlaceFactory(organisation=world.structure)
    mediator = ResourceFactory(
        kind="person", place=base, organisation=world.structure, min_notice_minutes=0
    )
    agent = agent_of(mediator)
    dienne = CommuneFactory(name="Dienne", latitude=45.1667, longitude=2.8)
    clock.at(2027, 5, 3)

    def visit(day, address):
        return home_visit_book(
            actor=agent,
            mediator=mediator,
            day=day,
            window="matin",
            address=address,
            commune=dienne,
            person=PersonDetails("Irène", "06 39 98 00 01"),
            now=clock.now,
        )

    old = visit(dt.date(2027, 5, 11), "2 rue du Four")  # 35 days before NOW
    recent = visit(dt.date(2027, 6, 1), "5 place de l'Église")  # 14 days before NOW

    clock.now = NOW
    assert retention_apply() == RetentionReport(home_visits=1)
    old, recent = reload(old, recent)
    assert (old.address, old.commune, old.latitude) == ("", dienne, 45.1667)
    assert old.booking.notes == "Visite à domicile : adresse effacée, Dienne"
    assert old.booking.location == ""
    assert recent.address == "5 place de l'Église"
    assert recent.booking.notes == "Visite à domicile : 5 place de l'Église, Dienne"
    assert recent.booking.location == "5 place de l'Église, Dienne"
    assert retention_apply() == RetentionReport()
    assert HomeVisit.objects.count() == 2


def test_walk_ins_lose_their_name_and_phone_90_days_after_the_session(world, clock):
    resource = ResourceFactory(kind="workshop", organisation=world.structure, capacity=8)

    def session_with_walk_in(end):
        session = WorkshopSession.objects.create(
            organisation=world.structure,
            resource=resource,
            title="Premiers pas sur tablette",
            theme="equipement",
            level="debutant",
            place=resource.place,
            start=end - dt.timedelta(hours=2),
            end=end,
            capacity=8,
        )
        return WorkshopWalkIn.objects.create(
            session=session, person_name="Jules Martin", person_phone="+33639980001"
        )

    # Absolute time (UTC): 90 days before NOW in Paris's wall-clock time would cross DST.
    now = NOW.astimezone(dt.UTC)
    old = session_with_walk_in(now - dt.timedelta(days=90, seconds=1))
    recent = session_with_walk_in(now - dt.timedelta(days=90))

    assert retention_apply() == RetentionReport(walk_ins=1)
    old, recent = reload(old, recent)
    assert (old.person_name, old.person_phone) == ("", "")
    assert (recent.person_name, recent.person_phone) == ("Jules Martin", "+33639980001")
    assert WorkshopWalkIn.objects.count() == 2
    assert retention_apply() == RetentionReport()


def test_the_job_is_registered_daily_and_runs(clock):
    job = periodic_jobs.get("mediation.retention")
    assert job.every == dt.timedelta(days=1)
    assert job.task is tasks.retention_apply_task
    assert tasks.retention_apply_task.call() == {
        "beneficiaries": 0,
        "home_visits": 0,
        "walk_ins": 0,
        "mandates": 0,
        "scans_deleted": 0,
    }
