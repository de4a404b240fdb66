"""The telehealth demo: a network of about 15 sites and two years of activity, plausible,
booked as the engine would book it, coded with the tariffs in force within their caps, seeded
once (a second run changes nothing), and seen by each demo account within its scope."""

import datetime as dt
import itertools
import re
import statistics
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.utils import timezone
from stdnum import luhn

from cybercantal.accounts.models import User
from cybercantal.booking import availability as av
from cybercantal.booking.demo import TELEHEALTH as BOOKING_CABINS
from cybercantal.booking.models import Allocation, AvailabilityRule, Booking, Resource
from cybercantal.core.demo import DEMO_PASSWORD, demo_seed, opening_periods
from cybercantal.core.registries import demo_seeders
from cybercantal.telehealth import demo, retention
from cybercantal.telehealth.models import (
    Act,
    ActTariff,
    Consultation,
    CostEntry,
    Equipment,
    ExpertiseRequest,
    Incident,
    Patient,
    Practitioner,
    ReferenceHospital,
    Site,
    Specialty,
)
from cybercantal.telehealth.perms import (
    consultations_for,
    is_telehealth_staff,
    may_see_consultation,
    sites_for,
)
from cybercantal.telehealth.selectors.acts import expertise_for
from cybercantal.territory.models import Organisation, Place

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"

Status = Consultation.Status
HELD = (Status.DONE, Status.INCIDENT)


def seeded() -> demo.TelehealthDemoReport:
    demo_seed()
    return demo.seed_telehealth_demo()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for label in ("telehealth", "booking", "territory", "accounts")
        for model in apps.get_app_config(label).get_models()
    }


def test_tariffs(*, rqd_cap: int) -> None:
    """A known tariff table (whatever a data migration put there): TE2 changes on 1 January
    2026; RQD's cap is set low so that it binds."""
    ActTariff.objects.all().delete()
    rows = [
        ("TCG", "medecin", "25.00", dt.date(2018, 9, 15), None, None),
        ("TLS", "infirmier", "10.00", dt.date(2019, 1, 1), None, None),
        ("TLL", "infirmier", "12.00", dt.date(2019, 1, 1), None, None),
        ("TLM", "pharmacie", "1.00", dt.date(2022, 5, 7), None, None),
        ("TE2", "expert", "20.00", dt.date(2019, 2, 10), dt.date(2025, 12, 31), 4),
        ("TE2", "expert", "23.00", dt.date(2026, 1, 1), None, 4),
        ("RQD", "requerant", "10.00", dt.date(2019, 2, 10), None, rqd_cap),
    ]
    ActTariff.objects.bulk_create(
        ActTariff(
            code=code,
            label=code,
            role=role,
            amount=Decimal(amount),
            valid_from=start,
            valid_until=until,
            yearly_cap_per_patient=cap,
        )
        for code, role, amount, start, until, cap in rows
    )


test_tariffs.__test__ = False  # a helper, not a test


def test_acts_wait_for_the_tariffs_and_seeding_again_changes_nothing(cantal, caplog):
    ActTariff.objects.all().delete()
    first = seeded()
    assert not first.already_there
    assert first.counts["consultations"] > 0
    assert not Act.objects.exists()
    assert any("Aucun tarif" in message for message in first.messages)
    assert "Aucun tarif" in caplog.text

    counts = row_counts()
    second = demo.seed_telehealth_demo()
    assert second.already_there
    assert second.created.total() == second.updated.total() == 0
    assert row_counts() == counts

    # Once the tariffs are there, a run codes the acts, once.
    test_tariffs(rqd_cap=1)
    third = demo.seed_telehealth_demo()
    assert third.created["telehealth.Act"] == Act.objects.count() > 0
    assert third.created.total() == third.created["telehealth.Act"]
    counts = row_counts()
    out = StringIO()
    call_command("seed_telehealth_demo", stdout=out)
    assert "rien n'a changé" in out.getvalue()
    assert row_counts() == counts

    # Every act at the tariff in force on its day, and within the yearly caps.
    tariffs = defaultdict(list)
    for tariff in ActTariff.objects.all():
        tariffs[tariff.code].append(tariff)
    for act in Act.objects.select_related("tariff"):
        in_force = [
            t
            for t in tariffs[act.code]
            if t.valid_from <= act.performed_on
            and (t.valid_until is None or act.performed_on <= t.valid_until)
        ]
        assert in_force == [act.tariff]
        assert (act.amount, act.role) == (act.tariff.amount, act.tariff.role)
    per_year = Counter(
        (act.patient_id, act.code, act.performed_on.year) for act in Act.objects.all()
    )
    assert max(n for (_, code, _), n in per_year.items() if code == "RQD") == 1
    assert max(n for (_, code, _), n in per_year.items() if code == "TE2") <= 4
    # The cap binds: some answered requests have their TE2 but no RQD.
    answered = ExpertiseRequest.objects.filter(status=ExpertiseRequest.Status.ANSWERED)
    assert Act.objects.filter(code="RQD").count() < answered.count()
    assert Act.objects.filter(code="TE2").count() == answered.count()

    # Each held session: the practitioner's TCG and the assistant's act (TLS in a care home,
    # TLL elsewhere, TLM at the pharmacy); nothing for sessions not held or cancelled.
    held = Consultation.objects.filter(status__in=HELD)
    assert Act.objects.filter(consultation__isnull=False, code="TCG").count() == held.count()
    assistant_acts = Act.objects.filter(code__in=["TLS", "TLL", "TLM"])
    assert set(assistant_acts.values_list("consultation__site__kind", "code").distinct()) == {
        ("ehpad", "TLS"),
        ("centre_sante", "TLL"),
        ("pharmacie", "TLM"),
    }
    assert (
        Act.objects.filter(code__in=["TLS", "TLL", "TLM"]).count()
        == held.filter(assistant__isnull=False).count()
    )
    assert (
        not Act.objects.exclude(consultation__status__in=HELD)
        .filter(consultation__isnull=False)
        .exists()
    )


def test_two_years_of_plausible_activity_at_about_fifteen_sites(cantal):
    report = seeded()
    today = timezone.localdate()

    # The network: the default hospital of Aurillac, sites 30 min to 1 h 30 away.
    hospital = ReferenceHospital.objects.get(is_default=True)
    assert hospital.name == demo.HOSPITAL_NAME
    sites = Site.objects.select_related("place__organisation", "place__commune")
    assert 14 <= sites.count() <= 16
    kinds = Counter(site.kind for site in sites)
    assert kinds[Site.Kind.CARE_HOME] >= 8 and kinds[Site.Kind.HEALTH_CENTRE] >= 4
    assert kinds[Site.Kind.PHARMACY] == kinds[Site.Kind.CABIN] == 1
    assert len({site.place.commune_id for site in sites}) >= 13
    for site in sites:
        assert site.is_demo and site.reference_hospital == hospital
        assert 30 <= site.hospital_travel_minutes <= 100, site
        assert site.place.name.endswith("(démo)") and site.place.is_demo
        assert site.place.organisation.name.endswith("(démo)")
        assert site.resource.availability_rules.exists()
        assert site.equipment.filter(kind="chariot", in_service=True).exists()
    assert Equipment.objects.filter(in_service=False).count() >= 2
    assert set(Specialty.objects.values_list("code", flat=True)) >= {
        s.code for s in demo.SPECIALTIES
    }
    derm = Specialty.objects.get(code="dermatologie")
    assert (derm.required_devices, derm.required_assistant) == (["dermatoscope"], "infirmier")
    practitioners = Practitioner.objects.all()
    assert 8 <= practitioners.count() <= 14
    assert all(
        re.fullmatch(r"999\d{8}", rpps) and luhn.is_valid(rpps)
        for rpps in practitioners.values_list("rpps", flat=True)
    )
    assert practitioners.filter(kind="generaliste").exists()

    # Volumes: 5 to 40 a month per site in a normal month, growing over the two years.
    consultations = Consultation.objects.all()
    assert consultations.count() == report.counts["consultations"]
    assert 2_500 <= consultations.filter(status__in=HELD).count() <= 6_000
    # Whole months only (the first and the current one are partial).
    first_month = (today - dt.timedelta(days=730)).replace(day=1)
    per_month = defaultdict(Counter)
    for site_id, start in consultations.values_list("site_id", "scheduled_start"):
        local = timezone.localtime(start).date().replace(day=1)
        if first_month < local < today.replace(day=1):
            per_month[site_id][local] += 1
    assert len(per_month) == sites.count()
    for site_id, months in per_month.items():
        assert max(months.values()) <= 40
        assert 5 <= statistics.median(months.values()) <= 40, site_id
    start = today.replace(day=1)
    early = consultations.filter(scheduled_start__date__lt=start - dt.timedelta(days=540))
    late = consultations.filter(
        scheduled_start__date__gte=start - dt.timedelta(days=180),
        scheduled_start__date__lt=today,
    )
    assert late.count() > 1.3 * early.count()
    assert not consultations.filter(
        scheduled_start__date__lt=today - dt.timedelta(days=732)
    ).exists()

    # Outcomes: mostly done, some incidents with a technical cause and a fallback, some not
    # held, some cancelled; a few planned in the coming two weeks.
    statuses = Counter(consultations.values_list("status", flat=True))
    past = sum(statuses.values()) - statuses[Status.PLANNED]
    assert statuses[Status.DONE] > 0.75 * past
    for status in (Status.INCIDENT, Status.NOT_HELD, Status.CANCELLED):
        assert 0.01 * past < statuses[status] < 0.12 * past, status
    for consultation in consultations.filter(status=Status.INCIDENT).prefetch_related("incidents")[
        :200
    ]:
        (incident,) = consultation.incidents.all()
        assert incident.kind in ("reseau", "video", "appareil")
        assert incident.fallback in ("telephone", "audio")
        assert incident.cause.endswith("(démo)") or incident.cause == ""  # cleared when old
        assert consultation.channel == incident.fallback
    assert not consultations.filter(status=Status.CANCELLED, incidents__isnull=False).exists()
    planned = consultations.filter(status=Status.PLANNED)
    assert planned.count() >= 10
    assert not planned.filter(scheduled_start__lte=timezone.now()).exists()
    assert not planned.filter(scheduled_start__date__gt=today + dt.timedelta(days=14)).exists()
    assert not (
        consultations.exclude(status=Status.PLANNED).filter(scheduled_start__date__gte=today)
    ).exists()
    # Held sessions passed the checklist, with a connectivity test of the site that day.
    held = consultations.filter(status__in=(*HELD, Status.NOT_HELD)).select_related(
        "connectivity_test"
    )
    for consultation in held[:300]:
        assert consultation.checklist_complete
        test = consultation.connectivity_test
        assert test.site_id == consultation.site_id
        assert test.measured_at <= consultation.scheduled_start
        assert (
            timezone.localtime(test.measured_at).date()
            == timezone.localtime(consultation.scheduled_start).date()
        )
    assert consultations.filter(channel="audio").exists()  # weak lines: audio recommended
    # The trip each session held or not held avoided, copied from its site; none otherwise.
    trips = consultations.filter(status__in=demo.TRIP_STATUSES)
    assert trips.count() > 2_500
    assert not trips.exclude(trip_km=F("site__hospital_distance_km")).exists()
    assert not trips.exclude(trip_minutes=F("site__hospital_travel_minutes")).exists()
    others = consultations.exclude(status__in=demo.TRIP_STATUSES)
    assert others.exists()
    assert not others.filter(Q(trip_km__isnull=False) | Q(trip_minutes__isnull=False)).exists()
    assert consultations.filter(channel="video").count() > consultations.count() / 2

    # People: fictional names, a birth year, nothing about their health.
    names = Patient.objects.values_list("display_name", flat=True)
    assert all(re.fullmatch(r"(Mme|M\.) [A-Z]\. Demo \d+", name) for name in names)
    residents = Patient.objects.filter(is_care_home_resident=True)
    assert residents.exists() and not residents.exclude(site__kind="ehpad").exists()
    # Téléexpertise: short non-clinical texts, answers after the question, a few still open.
    requests = ExpertiseRequest.objects.all()
    assert requests.count() >= 150
    kept = requests.filter(content_erased_at__isnull=True)
    assert set(kept.values_list("question", flat=True)) == {demo.QUESTION}
    assert set(kept.values_list("answer", flat=True)) <= {demo.ANSWER, ""}
    erased = requests.filter(content_erased_at__isnull=False)
    assert erased.exists() and set(erased.values_list("question", "answer")) == {("", "")}
    # The demo is what the daily retention job leaves: running it changes nothing.
    assert retention.retention_apply().total == 0
    assert Incident.objects.filter(cause="").exists()
    assert Incident.objects.exclude(cause="").exists()
    answered = requests.filter(status=ExpertiseRequest.Status.ANSWERED)
    delays = [(r.answered_at - r.asked_at).total_seconds() / 3600 for r in answered]
    assert min(delays) > 0 and max(delays) > 48 and statistics.median(delays) < 72
    assert requests.filter(status=ExpertiseRequest.Status.OPEN).exists()
    # Withdrawn before an answer, and erased at once, as withdrawing does.
    withdrawn = requests.filter(status=ExpertiseRequest.Status.WITHDRAWN)
    assert withdrawn.exists()
    for request in withdrawn:
        assert request.asked_at < request.withdrawn_at == request.content_erased_at
        assert (request.question, request.answer, request.answered_at) == ("", "", None)
    assert (
        not requests.exclude(status=ExpertiseRequest.Status.WITHDRAWN)
        .filter(withdrawn_at__isnull=False)
        .exists()
    )

    # Cost ledger: a cart of 15,000 to 25,000 € over 60 months per site, running costs, the
    # FEDER and Département grants, and the network's own costs.
    for site in sites:
        costs = CostEntry.objects.filter(site=site)
        cart = costs.get(category="equipement", label__icontains="chariot")
        assert Decimal(15_000) <= cart.amount <= Decimal(25_000)
        assert cart.depreciation_months == 60
        assert {"licence", "connexion", "coordination", "maintenance"} <= set(
            costs.values_list("category", flat=True)
        )
        funders = set(costs.filter(category="subvention").values_list("funder", flat=True))
        assert any("FEDER" in funder for funder in funders)
        assert any("Département" in funder for funder in funders)
    assert CostEntry.objects.filter(site__isnull=True).count() >= 2
    for model in (Patient, Consultation, ExpertiseRequest, CostEntry):
        assert not model.objects.filter(is_demo=False).exists(), model
    assert all(
        name.endswith("(démo)") for name in Organisation.objects.values_list("name", flat=True)
    )
    assert all(name.endswith("(démo)") for name in Place.objects.values_list("name", flat=True))


def test_every_consultation_is_booked_as_the_engine_would(cantal):
    seeded()
    consultations = Consultation.objects.select_related(
        "booking", "site", "practitioner", "assistant", "patient", "specialty"
    )
    allocations = defaultdict(list)
    for allocation in Allocation.objects.all():
        allocations[allocation.booking_id].append(allocation)
    expected_status = {
        Status.PLANNED: "confirmed",
        Status.DONE: "attended",
        Status.INCIDENT: "attended",
        Status.NOT_HELD: "no_show",
        Status.CANCELLED: "cancelled",
    }
    three = 0
    for consultation in consultations:
        booking = consultation.booking
        wanted = {consultation.site.resource_id, consultation.practitioner.resource_id}
        if consultation.assistant is not None:
            wanted.add(consultation.assistant.resource_id)
            three += 1
        held = allocations[booking.pk]
        assert {a.resource_id for a in held} == wanted and len(held) == len(wanted)
        for allocation in held:
            assert (allocation.blocked_start, allocation.blocked_end) == (
                booking.start,
                booking.end,
            )
            assert allocation.is_exclusive and allocation.units == 1
            assert allocation.is_active == (consultation.status != Status.CANCELLED)
        assert booking.status == expected_status[consultation.status]
        assert booking.start == consultation.scheduled_start
        assert booking.place_id == consultation.site.place_id
        assert booking.person_name == consultation.patient.reference
        assert booking.created_at == consultation.requested_at <= booking.start
        minutes = (booking.end - booking.start).total_seconds() / 60
        assert minutes == consultation.specialty.default_duration_minutes
        assert consultation.specialty.required_assistant in (
            "",
            getattr(consultation.assistant, "kind", ""),
        )
        assert consultation.patient.site_id == consultation.site_id
    # The practitioner, the cart and the nurse: three resources for nearly every session.
    assert three >= 0.9 * consultations.count()

    # Never two active bookings at once on a resource.
    spans = defaultdict(list)
    for resource_id, start, end in Allocation.objects.filter(is_active=True).values_list(
        "resource_id", "blocked_start", "blocked_end"
    ):
        spans[resource_id].append((start, end))
    for resource_id, intervals in spans.items():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert end <= start, resource_id

    # Within the opening rules of each resource, never on a public holiday.
    rules = defaultdict(list)
    for rule in AvailabilityRule.objects.filter(resource_id__in=spans):
        rules[rule.resource_id].append(rule)
    for resource_id, intervals in spans.items():
        for start, end in intervals:
            start, end = timezone.localtime(start), timezone.localtime(end)
            assert start.date() not in av.public_holidays(start.year)
            assert any(
                rule.weekday == start.weekday()
                and rule.start_time <= start.time()
                and end.time() <= rule.end_time
                and end.date() == start.date()
                for rule in rules[resource_id]
            ), (resource_id, start)

    # Every booking has its transitions: created confirmed, then its outcome, in order.
    bookings = Booking.objects.filter(teleconsultation__isnull=False).prefetch_related(
        "transitions"
    )
    for booking in bookings[:500]:
        steps = [(t.from_status, t.to_status) for t in booking.transitions.all()]
        if booking.status == "confirmed":
            assert steps == [("", "confirmed")]
        else:
            assert steps == [("", "confirmed"), ("confirmed", booking.status)]
            first, last = booking.transitions.all()
            assert booking.created_at == first.at <= last.at


def test_demo_accounts_log_in_and_see_their_scope(cantal, client):
    seeded()
    everything = Consultation.objects.count()

    readme = README.read_text(encoding="utf-8")
    for username in ("demo-infirmiere", "demo-dermatologue", "demo-coordinatrice"):
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
        assert f"`{username}`" in readme  # listed with the other demo accounts

    nurse = User.objects.get(username="demo-infirmiere")
    (site,) = sites_for(nurse)
    assert site.kind == Site.Kind.CARE_HOME
    theirs = consultations_for(nurse)
    assert theirs.exists() and set(theirs.values_list("site", flat=True)) == {site.pk}
    elsewhere = Consultation.objects.exclude(site=site).first()
    assert not may_see_consultation(nurse, elsewhere)
    assert not is_telehealth_staff(nurse)

    coordinator = User.objects.get(username="demo-coordinatrice")
    (coordinated,) = sites_for(coordinator)
    assert consultations_for(coordinator).count() == coordinated.consultations.count() > 0
    assert not may_see_consultation(coordinator, Consultation.objects.exclude(site=coordinated)[0])

    dermatologist = User.objects.get(username="demo-dermatologue")
    own = consultations_for(dermatologist)
    assert own.count() == Consultation.objects.filter(practitioner__user=dermatologist).count()
    assert set(own.values_list("specialty__code", flat=True)) <= {
        "dermatologie",
        "plaies-cicatrisation",
    }
    assert own.values("site").distinct().count() > 3  # slots offered to every site
    other = Consultation.objects.exclude(practitioner__user=dermatologist).first()
    assert not may_see_consultation(dermatologist, other)
    assert not sites_for(dermatologist).exists()

    # Core's doctor: a general practitioner of the Maison de santé des Monts, his sessions
    # there, and the téléexpertises he asked for, with his RQD acts.
    assert client.login(username="demo-medecin", password=DEMO_PASSWORD)
    doctor = User.objects.get(username="demo-medecin")
    practitioner = Practitioner.objects.get(user=doctor, is_active=True)
    assert practitioner.kind == Practitioner.Kind.GENERALIST
    assert re.fullmatch(r"999\d{8}", practitioner.rpps) and luhn.is_valid(practitioner.rpps)
    assert set(practitioner.specialties.values_list("code", flat=True)) == {"medecine-generale"}
    monts = Site.objects.get(place__name=demo.MONTS)
    seen = consultations_for(doctor)
    assert seen.count() == Consultation.objects.filter(practitioner=practitioner).count() >= 20
    assert set(seen.values_list("site", flat=True)) == {monts.pk}
    assert seen.filter(status=Status.DONE).exists()
    assert not may_see_consultation(
        doctor, Consultation.objects.exclude(practitioner=practitioner)[0]
    )
    assert not sites_for(doctor).exists() and not is_telehealth_staff(doctor)
    sent = ExpertiseRequest.objects.filter(requester=practitioner)
    assert sent.count() >= 30
    assert set(expertise_for(doctor)) == set(sent)  # he is nobody's expert
    assert set(sent.values_list("patient", flat=True)) <= set(
        seen.values_list("patient", flat=True)
    )
    rqd = Act.objects.filter(code="RQD", expertise__requester=practitioner)
    assert rqd.exists() and set(rqd.values_list("professional", flat=True)) == {doctor.pk}
    assert Act.objects.filter(code="TCG", consultation__practitioner=practitioner).exists()
    pages = client.get("/telesante/consultations/"), client.get("/telesante/teleexpertises/")
    assert [page.status_code for page in pages] == [200, 200]
    client.logout()

    # Core's nurse works at the EHPAD Les Gentianes; the Département's agent sees it all.
    (gentianes,) = sites_for(User.objects.get(username="demo-infirmier"))
    assert "Gentianes" in gentianes.place.name
    agent = User.objects.get(username="demo-agent")
    assert is_telehealth_staff(agent)
    assert sites_for(agent).count() == Site.objects.count()
    assert consultations_for(agent).count() == everything


def test_the_reference_seeder_runs_with_seed_demo(cantal):
    entry = demo_seeders.get("telehealth")  # registered when the app starts
    assert entry is not None and entry.order > demo_seeders.get("booking").order
    first = demo_seed()
    assert ReferenceHospital.objects.filter(is_default=True).count() == 1
    codes = {spec.code for spec in demo.SPECIALTIES}
    assert set(Specialty.objects.values_list("code", flat=True)) >= codes
    # It creates no account, place or bookable resource: core's and booking's demo
    # counts stay as documented.
    assert not Site.objects.exists()
    hospital = "telehealth.ReferenceHospital"
    assert first.created[hospital] + first.unchanged[hospital] == 1
    again = demo_seed()
    assert again.created.total() == again.updated.total() == 0
    assert again.unchanged["telehealth.Specialty"] == len(demo.SPECIALTIES)


def test_an_existing_default_hospital_is_kept(cantal):
    other = ReferenceHospital.objects.create(
        name="Hôpital de référence déjà choisi", latitude=45.0, longitude=2.5, is_default=True
    )
    demo.seed_telehealth_reference()
    assert list(ReferenceHospital.objects.all()) == [other]


def test_refused_without_seed_demo_or_in_production(cantal, settings):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_telehealth_demo", stdout=StringIO())
    settings.CYBERCANTAL_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="interdites"):
        call_command("seed_telehealth_demo", stdout=StringIO())
    assert not Site.objects.exists() and not Consultation.objects.exists()


def test_each_cart_or_room_is_one_bookable_resource(cantal):
    seeded()
    # A site books the cabin of its place, and no other cabin is there.
    for site in Site.objects.select_related("place", "resource"):
        assert list(Resource.objects.filter(place=site.place, kind="cabin")) == [site.resource]
    # At core's five places, that is the booking demo's cabin or room, at its hours, booked by
    # the quarter hour like telehealth's agendas.
    for place, (name, _organisation, hours) in BOOKING_CABINS.items():
        cabin = Site.objects.get(place__name=place).resource
        assert cabin.name == name and cabin.slot_minutes == 15
        rules = cabin.availability_rules.values_list("weekday", "start_time", "end_time")
        assert set(rules) == opening_periods(hours)
    # One agenda per person: demo-medecin's is the booking demo's.
    agendas = Resource.objects.filter(person__isnull=False).values("person")
    assert max(row["n"] for row in agendas.annotate(n=Count("pk"))) == 1
    doctor = Practitioner.objects.get(user__username="demo-medecin")
    assert doctor.resource.services.filter(code="teleconsultation").exists()

    # seed_demo then seed_telehealth_demo again: neither takes the shared resources back.
    counts = row_counts()
    again = demo_seed()
    assert again.created.total() == again.updated.total() == 0
    telehealth = demo.seed_telehealth_demo()
    assert telehealth.created.total() == telehealth.updated.total() == 0
    assert row_counts() == counts


def test_a_demo_seeded_before_trips_were_kept_gets_them_once(cantal):
    seeded()
    trips = Consultation.objects.filter(status__in=demo.TRIP_STATUSES)
    ids = list(trips.order_by("pk").values_list("pk", flat=True)[:90])
    Consultation.objects.filter(pk__in=ids[:50]).update(trip_km=None)
    Consultation.objects.filter(pk__in=ids[40:]).update(trip_minutes=None)

    report = demo.seed_telehealth_demo()
    assert report.updated["telehealth.Consultation"] == 90
    assert not trips.exclude(trip_km=F("site__hospital_distance_km")).exists()
    assert not trips.exclude(trip_minutes=F("site__hospital_travel_minutes")).exists()
    again = demo.seed_telehealth_demo()
    assert again.created.total() == again.updated.total() == 0
