"""The activity dashboard's figures on a hand-built year, with exact numbers; who sees what
(a mediator their structures only, the Département the territory in numbers only); a bounded
number of queries whatever the volume."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden
from cybercantal.mediation.selectors.dashboard import activity_dashboard
from cybercantal.mediation.services.activities import activity_record, beneficiary_create
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import department_agent
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1  # a whole past year: every day may be reported


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


def day(month, d):
    return dt.date(YEAR, month, d)


def record(actor, organisation, when, themes, **fields):
    defaults = {"kind": "individuel", "duration_minutes": 30, "place_type": "distance"}
    return activity_record(
        actor=actor, organisation=organisation, day=when, themes=themes, **(defaults | fields)
    )


@pytest.fixture
def world():
    """Structure A (mediators m1, m2) and B (mediator mb); see each test for the figures."""
    a, b = OrganisationFactory(), OrganisationFactory()
    m1, m2, mb = mediator_of(a), mediator_of(a), mediator_of(b)
    c1, c2, c3 = CommuneFactory(), CommuneFactory(), CommuneFactory()
    p1 = beneficiary_create(
        actor=m1, organisation=a, consent=True, first_name="Philomène", commune=c1
    )
    p2 = beneficiary_create(actor=m2, organisation=a, consent=True, first_name="Eugène")
    a1 = beneficiary_create(actor=m1, organisation=a, consent=False, is_anonymous=True, commune=c2)
    pb = beneficiary_create(actor=mb, organisation=b, consent=True, first_name="Berthe", commune=c1)
    home = {"place_type": "domicile", "commune": c3}
    record(
        m1, a, day(1, 10), ["papiers", "courriel"], autonomy="fait_pour", beneficiaries=[p1], **home
    )
    record(
        m1,
        a,
        day(3, 5),
        ["papiers"],
        duration_minutes=60,
        autonomy="autonome",
        beneficiaries=[p1],
        redirected_to="caf",
    )
    record(
        m2,
        a,
        day(3, 20),
        ["social"],
        duration_minutes=45,
        autonomy="accompagne",
        beneficiaries=[p2],
        **home,
    )
    record(
        m2,
        a,
        day(4, 2),
        ["social"],
        duration_minutes=15,
        autonomy="fait_pour",
        beneficiaries=[p2],
        **home,
    )
    record(m1, a, day(4, 3), ["argent"], duration_minutes=20)
    record(
        m1,
        a,
        day(4, 10),
        ["equipement"],
        kind="collectif",
        duration_minutes=120,
        place_type="lieu",
        place=PlaceFactory(commune=c2),
        title="Premiers pas sur tablette",
        level="debutant",
        participants_count=5,
        beneficiaries=[a1, p1],
    )
    record(m1, a, dt.date(YEAR - 1, 12, 31), ["papiers"], beneficiaries=[p1])  # another year
    record(
        mb,
        b,
        day(2, 1),
        ["papiers"],
        autonomy="fait_pour",
        beneficiaries=[pb],
        place_type="domicile",
        commune=c1,
    )
    return {"a": a, "b": b, "m1": m1, "m2": m2, "mb": mb, "c1": c1, "c2": c2, "c3": c3}  # fmt: skip


def test_structure_figures_month_by_month(world):
    result = activity_dashboard(
        actor=world["m2"], year=YEAR, scope="structure", organisation=world["a"]
    )
    by_month = {m.month.month: m for m in result.months}
    assert [m.month for m in result.months] == [dt.date(YEAR, n, 1) for n in range(1, 13)]
    assert (by_month[1].accompaniments, by_month[1].participants, by_month[1].minutes) == (1, 1, 30)
    assert (by_month[3].accompaniments, by_month[3].workshops, by_month[3].minutes) == (2, 0, 105)
    april = by_month[4]
    assert (april.accompaniments, april.workshops, april.participants, april.minutes) == (
        2, 1, 7, 155,
    )  # fmt: skip
    assert by_month[2].reports == 0
    total = result.total
    assert (total.accompaniments, total.workshops, total.participants) == (5, 1, 10)
    assert total.minutes == 290 and total.hours == 4.8


def test_structure_figures_by_theme(world):
    result = activity_dashboard(
        actor=world["m1"], year=YEAR, scope="structure", organisation=world["a"]
    )
    themes = {t.code: t for t in result.themes}
    assert {code: t.total for code, t in themes.items()} == {
        "papiers": 2, "courriel": 1, "social": 2, "argent": 1, "equipement": 1,
    }  # fmt: skip
    assert themes["papiers"].months[0] == 1 and themes["papiers"].months[2] == 1
    assert themes["courriel"].group == "skills" and themes["social"].group == "procedures"
    assert result.skills_months[:4] == [1, 0, 0, 1]
    assert result.procedures_months[:4] == [1, 0, 2, 2]


def test_people_autonomy_redirections_and_communes(world):
    result = activity_dashboard(
        actor=world["m1"], year=YEAR, scope="structure", organisation=world["a"]
    )
    people = result.people
    # p1 and p2 named, a1 anonymous; 10 participations, 6 of them with a record.
    assert (people.named, people.anonymous, people.unrecorded, people.total) == (2, 1, 4, 7)
    assert result.autonomy == [
        ("fait_pour", "Fait pour la personne", 2),
        ("accompagne", "Fait avec la personne", 1),
        ("autonome", "La personne a fait seule", 1),
    ]
    assert result.autonomy_unrecorded == 1
    # p1: fait pour → seule (gained); p2: fait avec → fait pour (not); a1 noted on no report.
    gained = result.autonomy_gained
    assert (gained.followed, gained.gained, gained.rate) == (2, 1, 0.5)
    assert [(code, n) for code, _label, n in result.redirections] == [("caf", 1)]
    communes = {c.insee_code: c.people for c in result.communes}
    # p1 lives in c1; p2 (no residence) helped at home in c3; a1 lives in c2 with the
    # workshop's 3 participants without a record; the remote call without a record: nowhere.
    assert communes == {
        world["c1"].insee_code: 1, world["c2"].insee_code: 4, world["c3"].insee_code: 1,
    }  # fmt: skip
    assert result.people_without_commune == 1
    assert sum(communes.values()) + result.people_without_commune == people.total


def test_mine_counts_the_mediators_own_reports(world):
    result = activity_dashboard(actor=world["m1"], year=YEAR, scope="mine")
    total = result.total
    assert (total.accompaniments, total.workshops, total.participants) == (3, 1, 8)
    assert (result.people.named, result.people.anonymous, result.people.unrecorded) == (1, 1, 4)


def test_a_mediator_sees_nothing_of_another_structure(world):
    with pytest.raises(BookingForbidden):
        activity_dashboard(actor=world["mb"], year=YEAR, scope="structure", organisation=world["a"])
    mine = activity_dashboard(actor=world["mb"], year=YEAR, scope="mine")
    assert mine.total.accompaniments == 1 and mine.people.named == 1
    own = activity_dashboard(
        actor=world["mb"], year=YEAR, scope="structure", organisation=world["b"]
    )
    assert own.total.reports == 1 and own.structures == []


def test_territory_for_staff_only_and_without_names(world):
    for actor in (world["m1"], UserFactory(), None):
        with pytest.raises(BookingForbidden):
            activity_dashboard(actor=actor, year=YEAR, scope="territory")
    staff = department_agent()
    result = activity_dashboard(actor=staff, year=YEAR, scope="territory")
    assert (result.total.accompaniments, result.total.workshops) == (6, 1)
    assert result.people.named == 3
    assert [(n, count) for n, count, _p in result.structures] == sorted(
        [(world["a"].name, 6), (world["b"].name, 1)], key=lambda r: -r[1]
    )
    text = repr(result)
    assert "Philomène" not in text and "Berthe" not in text and "Eugène" not in text
    # Staff who mediate nowhere have no structure or personal view.
    for scope in ("mine", "structure"):
        with pytest.raises(BookingForbidden):
            activity_dashboard(actor=staff, year=YEAR, scope=scope, organisation=world["a"])


def test_unknown_scope_is_refused(world):
    with pytest.raises(BookingForbidden):
        activity_dashboard(actor=world["m1"], year=YEAR, scope="everything")


def test_queries_do_not_grow_with_the_reports(world):
    staff = department_agent()
    activity_dashboard(actor=staff, year=YEAR, scope="territory")  # roles cached
    with CaptureQueriesContext(connection) as before:
        activity_dashboard(actor=staff, year=YEAR, scope="territory")
    a, m1 = world["a"], world["m1"]
    for n in range(30):
        person = beneficiary_create(actor=m1, organisation=a, consent=True, first_name=f"P{n}")
        record(m1, a, day(1 + n % 12, 1 + n % 28), ["papiers"], autonomy="accompagne",
               beneficiaries=[person], place_type="domicile", commune=CommuneFactory())  # fmt: skip
    with CaptureQueriesContext(connection) as after:
        result = activity_dashboard(actor=staff, year=YEAR, scope="territory")
    assert result.total.accompaniments == 36
    assert len(after) == len(before) <= 15
