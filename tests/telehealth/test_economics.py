"""The techno-economic model (selectors/economics.py) on a small network built by hand, whose
figures are worked out below from the rules of the module's docstring: depreciation, recurring
costs, grants, network costs shared among the sites in service, transport tariffs changing in
the middle of July, break-even volume.

The network in 2024 (`world`):

- A: 53 km and 45 minutes from the hospital, in service since 2023. Five teleconsultations
  done (one with an incident), one not held, one in December 2023.
- B: 23 km and 30 minutes, opened on 1 April 2024. Two teleconsultations done.
- C: taken out of service: it never carries a share of the network costs.
- VSL: 10 € + 1 €/km beyond 3 km until 14 July 2024, then 12 € + 1,50 €/km. Ambulance: 50 € +
  2 €/km. Own car: 0,30 €/km from the first km.

Round trips: A by VSL 2 × (10 + 50) = 120 € then 2 × (12 + 75) = 174 €; A by ambulance
2 × (50 + 100) = 300 €; A by car 2 × 15,90 = 31,80 €; B by VSL 2 × 30 = 60 € then 2 × 42 = 84 €.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.telehealth.models import (
    Act,
    ActTariff,
    Consultation,
    CostEntry,
    ExpertiseRequest,
    Site,
    TransportTariff,
)
from cybercantal.telehealth.selectors.economics import (
    cost_ledger,
    network_economics,
    round_trip_price,
    site_economics,
    spread_amounts,
)
from cybercantal.telehealth.services.costs import cost_record, transport_tariff_save
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_assistant,
    make_consultation,
    make_patient,
    make_practitioner,
    make_site,
    make_specialty,
    staff_user,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 1)  # 2024 is a past, complete year
D = Decimal


def held(
    team: dict,
    day: dt.date,
    *,
    mode: str = "vsl",
    status: str = Consultation.Status.DONE,
    hour: int = 10,
    requested_days: int = 3,
    patient=None,
) -> Consultation:
    """A teleconsultation booked through the service (the day before), then closed with
    `status` (closing sessions is another module's page; only its outcome matters here)."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    consultation = make_consultation(
        site=team["site"],
        practitioner=team["doctor"],
        assistant=team["nurse"],
        specialty=team["specialty"],
        patient=patient or team["patient"],
        start=start,
        now=start - dt.timedelta(days=1),
        requested_at=start - dt.timedelta(days=requested_days),
        transport_avoided=mode,
    )
    Consultation.objects.filter(pk=consultation.pk).update(status=status)
    return consultation


def team_at(site: Site) -> dict:
    specialty = make_specialty()
    return {
        "site": site,
        "specialty": specialty,
        "doctor": make_practitioner(specialties=[specialty]),
        "nurse": make_assistant(sites=[site]),
        "patient": make_patient(site, name="Mme Zénobie Testard"),
    }


def set_tariffs(staff) -> None:
    """The transport table of the module's docstring, through the service."""
    TransportTariff.objects.all().delete()
    for values in (
        {"mode": "vsl", "flat_fee": "10", "per_km": "1", "valid_from": dt.date(2020, 1, 1),
         "valid_until": dt.date(2024, 7, 14)},
        {"mode": "vsl", "flat_fee": "12", "per_km": "1.5", "valid_from": dt.date(2024, 7, 15)},
        {"mode": "ambulance", "flat_fee": "50", "per_km": "2", "valid_from": dt.date(2020, 1, 1)},
        {"mode": "personnel", "flat_fee": "0", "per_km": "0.3",
         "valid_from": dt.date(2020, 1, 1)},
    ):  # fmt: skip
        transport_tariff_save(actor=staff, **values)


def act_tariff(code: str, role: str, amount: str) -> ActTariff:
    return ActTariff.objects.create(
        code=code, label=code, role=role, amount=D(amount), valid_from=dt.date(2020, 1, 1)
    )


def code_act(consultation: Consultation, tariff: ActTariff, professional) -> Act:
    return Act.objects.create(
        consultation=consultation,
        patient=consultation.patient,
        professional=professional,
        tariff=tariff,
        code=tariff.code,
        role=tariff.role,
        amount=tariff.amount,
        performed_on=timezone.localdate(consultation.scheduled_start),
    )


@pytest.fixture
def world():
    staff = staff_user()
    set_tariffs(staff)
    coordinator_a = UserFactory()
    site_a = make_site(
        distance_km=D("53.0"),
        travel_minutes=45,
        opened_on=dt.date(2023, 1, 1),
        coordinators=[coordinator_a],
    )
    site_b = make_site(distance_km=D("23.0"), travel_minutes=30, opened_on=dt.date(2024, 4, 1))
    site_c = make_site(distance_km=D("40.0"), travel_minutes=40, opened_on=dt.date(2022, 1, 1))
    Site.objects.filter(pk=site_c.pk).update(is_active=False)
    a, b = team_at(site_a), team_at(site_b)

    done = [
        held(a, dt.date(2024, 3, 11)),
        held(a, dt.date(2024, 3, 12), mode="ambulance", status=Consultation.Status.INCIDENT),
        held(a, dt.date(2024, 7, 10)),
        held(a, dt.date(2024, 7, 16)),
        held(a, dt.date(2024, 9, 9), mode="personnel"),
    ]
    held(a, dt.date(2024, 9, 10), status=Consultation.Status.NOT_HELD)
    held(a, dt.date(2023, 12, 11))
    held(a, dt.date(2024, 11, 12), status=Consultation.Status.PLANNED)
    b_done = [held(b, dt.date(2024, 5, 13)), held(b, dt.date(2024, 8, 12))]

    tcg = act_tariff("ZTC", "medecin", "25")
    tll = act_tariff("ZTL", "infirmier", "12")
    te2 = act_tariff("ZTE", "expert", "20")
    for consultation in done + b_done:
        code_act(consultation, tcg, consultation.practitioner.user)
    for consultation in done[:3]:
        code_act(consultation, tll, consultation.assistant.user)
    expertise = ExpertiseRequest.objects.create(
        requester=a["doctor"],
        expert=make_practitioner(),
        specialty=a["specialty"],
        patient=a["patient"],
    )
    Act.objects.create(
        expertise=expertise,
        patient=a["patient"],
        professional=expertise.expert.user,
        tariff=te2,
        code="ZTE",
        role="expert",
        amount=D("20"),
        performed_on=dt.date(2024, 10, 1),
    )

    record = dict(actor=staff)
    cost_record(
        **record,
        site=site_a,
        category="equipement",
        label="Chariot",
        amount="6000",
        starts_on=dt.date(2023, 7, 15),
        depreciation_months=60,
    )
    cost_record(
        **record,
        site=site_a,
        category="subvention",
        label="FEDER",
        funder="FEDER",
        amount="3000",
        starts_on=dt.date(2023, 7, 1),
        depreciation_months=60,
    )
    cost_record(
        **record,
        site=site_a,
        category="connexion",
        label="Fibre",
        amount="40",
        recurrence="mensuel",
        starts_on=dt.date(2024, 3, 1),
        ends_on=dt.date(2024, 8, 31),
    )
    cost_record(
        **record,
        site=site_a,
        category="licence",
        label="Logiciel",
        amount="1200",
        recurrence="annuel",
        starts_on=dt.date(2024, 4, 1),
    )
    cost_record(
        **record,
        site=site_a,
        category="maintenance",
        label="Révision",
        amount="300",
        starts_on=dt.date(2024, 5, 20),
    )
    cost_record(
        **record,
        site=site_a,
        category="maintenance",
        label="Plus tard",
        amount="999",
        starts_on=dt.date(2025, 2, 3),
    )
    cost_record(
        **record,
        site=site_b,
        category="connexion",
        label="4G",
        amount="20",
        recurrence="mensuel",
        starts_on=dt.date(2024, 4, 1),
    )
    cost_record(
        **record,
        site=site_c,
        category="autre",
        label="Démontage",
        amount="500",
        starts_on=dt.date(2024, 2, 1),
    )
    cost_record(
        **record,
        site=None,
        category="licence",
        label="Plateforme",
        amount="300",
        recurrence="mensuel",
        starts_on=dt.date(2024, 1, 1),
    )
    cost_record(**record, site=None, category="subvention", label="ARS", amount="600",
                starts_on=dt.date(2024, 6, 10))  # fmt: skip
    return {"staff": staff, "a": site_a, "b": site_b, "c": site_c, "coordinator_a": coordinator_a}


def month(report, number: int):
    return report.months[number - 1]


def test_a_site_year_with_depreciation_recurring_costs_grants_and_network_share(world):
    report = site_economics(actor=world["staff"], site=world["a"], year=2024, today=TODAY)
    assert len(report.months) == 12 and not report.is_partial
    total = report.total
    assert total.consultations == 5
    assert total.incidents == 1
    # 100 € a month of equipment + 6 × 40 € of fibre + 9 × 100 € of licence + 300 € in May.
    assert total.own_costs == D("2640")
    # 300 € a month alone (January-March), then 150 € with B (April-December).
    assert total.network_costs == D("2250")
    # 50 € a month of FEDER, and half of the ARS grant of June.
    assert total.grants == D("900")
    assert total.net_cost == D("3990")
    assert total.cost_per_act == D("798")
    assert total.km_avoided == D("530.0")  # 5 × 2 × 53
    assert total.transport_avoided == D("745.80")  # 120 + 300 + 120 + 174 + 31,80
    assert total.minutes_saved == 450 and total.hours_saved == D("7.5")
    assert total.unpriced == 0

    january, march, may, june = (
        month(report, 1),
        month(report, 3),
        month(report, 5),
        month(report, 6),
    )
    assert (january.own_costs, january.network_costs, january.grants) == (D(100), D(300), D(50))
    assert (march.consultations, march.incidents, march.transport_avoided) == (2, 1, D(420))
    assert march.net_cost == D(390)
    assert may.own_costs == D(540) and may.network_costs == D(150)
    assert june.grants == D(350) and june.net_cost == D(40)
    assert month(report, 9).own_costs == D(200)  # the fibre stopped at the end of August


def test_the_transport_tariff_in_force_on_the_day_prices_each_consultation(world):
    july = month(site_economics(actor=world["staff"], site=world["a"], year=2024, today=TODAY), 7)
    # 10 July at the old VSL tariff, 16 July at the new one.
    assert july.consultations == 2
    assert july.transport_avoided == D("120") + D("174")
    first = TransportTariff.objects.get(mode="vsl", valid_from=dt.date(2020, 1, 1))
    assert round_trip_price(first, D("53")) == D("120")


def test_acts_by_code_and_revenue_by_role_follow_the_site(world):
    report = site_economics(actor=world["staff"], site=world["a"], year=2024, today=TODAY)
    assert dict(report.total.acts) == {"ZTC": 5, "ZTL": 3, "ZTE": 1}
    assert report.total.revenue == {"medecin": D(125), "infirmier": D(36), "expert": D(20)}
    assert dict(month(report, 3).acts) == {"ZTC": 2, "ZTL": 2}
    assert dict(month(report, 10).acts) == {"ZTE": 1}  # the téléexpertise, by its patient
    assert [code for code, _label in report.roles] == ["medecin", "expert", "infirmier"]


def test_break_even_volume_and_whether_it_is_reached(world):
    break_even = site_economics(
        actor=world["staff"], site=world["a"], year=2024, today=TODAY
    ).break_even
    assert break_even.net_cost_per_month == D("332.5")
    assert break_even.avoided_per_consultation == D("149.16")
    assert round(break_even.volume, 4) == D("2.2291")  # 332,50 / 149,16
    assert break_even.volume_needed == 3
    assert break_even.reached is False
    assert round(break_even.gap_per_month, 4) == D("-1.8125")  # 5/12 − 2,2291


def test_a_site_whose_transport_pays_its_costs_reaches_break_even():
    staff = staff_user()
    set_tariffs(staff)
    site = make_site(distance_km=D("53.0"), opened_on=dt.date(2023, 1, 1))
    team = team_at(site)
    for day in (dt.date(2024, 2, 5), dt.date(2024, 2, 6), dt.date(2024, 3, 4)):
        held(team, day)
    cost_record(actor=staff, site=site, category="licence", label="Logiciel", amount="240",
                recurrence="annuel", starts_on=dt.date(2024, 1, 1))  # fmt: skip
    break_even = site_economics(actor=staff, site=site, year=2024, today=TODAY).break_even
    # 20 € a month against 120 € avoided per teleconsultation: 1/6 of one a month.
    assert break_even.volume == D(20) / D(120)
    assert break_even.volume_needed == 1
    assert break_even.reached is True


def test_without_any_consultation_break_even_is_estimated_on_a_vsl_trip():
    staff = staff_user()
    set_tariffs(staff)
    site = make_site(distance_km=D("53.0"), opened_on=dt.date(2023, 1, 1))
    cost_record(actor=staff, site=site, category="licence", label="Logiciel", amount="174",
                recurrence="mensuel", starts_on=dt.date(2024, 1, 1))  # fmt: skip
    break_even = site_economics(actor=staff, site=site, year=2024, today=TODAY).break_even
    assert break_even.estimated is True
    assert break_even.avoided_per_consultation == D(174)  # the VSL tariff of 31 December
    assert break_even.volume == 1 and break_even.reached is False


def test_the_network_is_its_sites_plus_the_network_costs(world):
    report = network_economics(actor=world["staff"], year=2024, today=TODAY)
    total = report.total
    assert total.consultations == 7
    assert total.km_avoided == D("622.0")  # 530 + 2 × 2 × 23
    assert total.transport_avoided == D("889.80")  # 745,80 + 60 + 84
    assert total.own_costs == D("3320")  # A 2640, B 9 × 20, C 500
    assert total.network_costs == D("3600")  # whole, not shares
    assert total.grants == D("1200")
    assert total.net_cost == D("5720")
    by_site = {row.site_id: row for row in report.sites}
    assert by_site[world["a"].pk].total.net_cost == D("3990")
    assert by_site[world["b"].pk].total.net_cost == D("1230")  # 180 + 9 × 150 − 300
    assert by_site[world["c"].pk].total.net_cost == D("500")  # never in service: no share
    assert sum(row.total.net_cost for row in report.sites) == total.net_cost
    assert report.sites_in_service == [1, 1, 1] + [2] * 9
    assert dict(report.total.acts) == {"ZTC": 7, "ZTL": 3, "ZTE": 1}


def test_network_costs_of_months_without_a_site_in_service_stay_with_the_network():
    staff = staff_user()
    set_tariffs(staff)
    site = make_site(opened_on=dt.date(2024, 7, 1))
    cost_record(actor=staff, site=None, category="coordination", label="Coordination",
                amount="100", recurrence="mensuel", starts_on=dt.date(2024, 1, 1))  # fmt: skip
    site_report = site_economics(actor=staff, site=site, year=2024, today=TODAY)
    assert site_report.total.network_costs == D(600)  # July-December
    network = network_economics(actor=staff, year=2024, today=TODAY)
    assert network.total.net_cost == D(1200)


def test_a_site_taken_out_of_service_keeps_its_share_of_the_months_it_served():
    staff = staff_user()
    set_tariffs(staff)
    staying = make_site(opened_on=dt.date(2023, 1, 1))
    leaving = make_site(opened_on=dt.date(2023, 1, 1))
    # Out of service from 11 June: it served in June, so it shares January to June.
    Site.objects.filter(pk=leaving.pk).update(is_active=False, closed_on=dt.date(2024, 6, 10))
    cost_record(actor=staff, site=None, category="coordination", label="Coordination",
                amount="100", recurrence="mensuel", starts_on=dt.date(2024, 1, 1))  # fmt: skip
    network = network_economics(actor=staff, year=2024, today=TODAY)
    assert network.sites_in_service == [2] * 6 + [1] * 6
    by_site = {row.site_id: row for row in network.sites}
    assert by_site[leaving.pk].total.network_costs == D(300)  # 6 × 50
    assert by_site[staying.pk].total.network_costs == D(900)  # 6 × 50 + 6 × 100
    assert by_site[leaving.pk].in_service is False
    # A later year: the closed site no longer shares anything.
    later = network_economics(actor=staff, year=2025, today=TODAY)
    assert later.sites_in_service == [1] * 6


def test_a_later_change_of_distance_keeps_the_trips_of_past_consultations():
    staff = staff_user()
    set_tariffs(staff)
    team = team_at(make_site(distance_km=D("53.0"), travel_minutes=45,
                             opened_on=dt.date(2023, 1, 1)))  # fmt: skip
    closed = held(team, dt.date(2024, 3, 5))
    Consultation.objects.filter(pk=closed.pk).update(trip_km=D("53.0"), trip_minutes=45)
    unrecorded = held(team, dt.date(2024, 3, 6))  # closed before trips were recorded
    # The site now refers to a nearer hospital.
    Site.objects.filter(pk=team["site"].pk).update(
        hospital_distance_km=D("20.0"), hospital_travel_minutes=25
    )
    march = month(site_economics(actor=staff, site=team["site"], year=2024, today=TODAY), 3)
    assert Consultation.objects.get(pk=unrecorded.pk).trip_km is None
    assert march.km_avoided == 2 * D("53.0") + 2 * D("20.0")
    assert march.minutes_saved == 2 * 45 + 2 * 25
    # VSL 10 € + 1 €/km beyond 3 km each way: 2 × 60 + 2 × 27.
    assert march.transport_avoided == D("120") + D("54")


def test_the_current_year_counts_the_months_to_date(world):
    report = site_economics(
        actor=world["staff"], site=world["a"], year=2024, today=dt.date(2024, 3, 20)
    )
    assert [m.month for m in report.months] == [dt.date(2024, m, 1) for m in (1, 2, 3)]
    assert report.is_partial and report.total.consultations == 2
    assert report.break_even.months == 3


def test_a_year_not_begun_is_refused_in_french(world):
    with pytest.raises(BookingRuleError, match="n'a pas encore commencé"):
        site_economics(actor=world["staff"], site=world["a"], year=2026, today=TODAY)


def test_a_consultation_without_a_tariff_counts_in_km_not_in_euros(world):
    TransportTariff.objects.filter(mode="personnel").delete()
    report = site_economics(actor=world["staff"], site=world["a"], year=2024, today=TODAY)
    assert report.total.unpriced == 1
    assert report.total.km_avoided == D("530.0")
    assert report.total.transport_avoided == D("714.00")  # 745,80 − 31,80


def test_who_sees_a_site_model_and_the_network_model(world):
    coordinator = world["coordinator_a"]
    assert site_economics(actor=coordinator, site=world["a"], year=2024, today=TODAY)
    other = UserFactory()
    world["b"].coordinators.add(other)
    nurse_of_a = make_assistant(sites=[world["a"]]).user
    for user in (other, nurse_of_a, UserFactory(), make_practitioner().user):
        with pytest.raises(BookingForbidden):
            site_economics(actor=user, site=world["a"], year=2024, today=TODAY)
    for user in (coordinator, nurse_of_a, UserFactory()):
        with pytest.raises(BookingForbidden):
            network_economics(actor=user, year=2024, today=TODAY)
        with pytest.raises(BookingForbidden):
            cost_ledger(actor=user, site=None)
    with pytest.raises(BookingForbidden):
        cost_ledger(actor=other, site=world["a"])
    assert len(cost_ledger(actor=coordinator, site=world["a"])) == 6


def test_the_report_is_a_few_queries_whatever_the_volume(world, django_assert_max_num_queries):
    staff = world["staff"]
    with django_assert_max_num_queries(6):
        first = network_economics(actor=staff, year=2024, today=TODAY)
    team = team_at(world["b"])
    for week in range(6):
        held(team, dt.date(2024, 9, 16) + dt.timedelta(weeks=week))
    with django_assert_max_num_queries(6):
        second = network_economics(actor=staff, year=2024, today=TODAY)
    assert second.total.consultations == first.total.consultations + 6


def test_monthly_spreading_of_each_kind_of_entry():
    months = [dt.date(2024, m, 1) for m in range(1, 13)]
    cases = [
        # Purchase of 1 200 € over 3 months from 31 October 2024: October, November, December.
        (dict(recurrence="ponctuel", amount=D(1200), starts_on=dt.date(2024, 10, 31),
              depreciation_months=3), [0] * 9 + [400] * 3),
        # One-off without depreciation: its month.
        (dict(recurrence="ponctuel", amount=D(50), starts_on=dt.date(2024, 2, 29)),
         [0, 50] + [0] * 10),
        # Yearly from 15 March 2023 until 30 April 2024: 1/12 each month.
        (dict(recurrence="annuel", amount=D(120), starts_on=dt.date(2023, 3, 15),
              ends_on=dt.date(2024, 4, 30)), [10] * 4 + [0] * 8),
        # Monthly from June, open-ended.
        (dict(recurrence="mensuel", amount=D(7), starts_on=dt.date(2024, 6, 1)),
         [0] * 5 + [7] * 7),
    ]  # fmt: skip
    for values, expected in cases:
        entry = CostEntry(category="autre", label="x", **values)
        assert spread_amounts(entry, months) == [D(v) for v in expected], values
