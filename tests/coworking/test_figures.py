"""Figures of the tiers-lieux on a small dataset built by hand, with exact expected numbers;
who sees which places; the figures' CSV."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cybercantal.booking.models import Allocation, Booking
from cybercantal.core.geo import road_km
from cybercantal.coworking.errors import CoworkingForbidden
from cybercantal.coworking.exports import FIGURES_HEADER, figures_csv
from cybercantal.coworking.models import CheckIn, MemberProfile, Offer
from cybercantal.coworking.selectors.figures import coworking_figures
from tests.accounts.factories import UserFactory
from tests.booking.conftest import at
from tests.booking.factories import ClosureFactory, department_agent
from tests.territory.factories import CommuneFactory

from .factories import OfferFactory, PassFactory, TiersLieuFactory, desk_pool, manager_of

pytestmark = pytest.mark.django_db


def member(home, *, commute_km=None, mode="car", previous=""):
    user = UserFactory(home_commune=home)
    if commute_km is not None or previous:
        MemberProfile.objects.create(
            user=user,
            joined_on=dt.date(2027, 1, 1),
            previous_departement=previous,
            usual_commute_km=commute_km,
            commute_mode=mode,
            checkin_code=uuid.uuid4().hex,
        )
    return user


def visit(place, user, day):
    return CheckIn.objects.create(
        tiers_lieu=place, member=user, day=day, at=at(day.isoformat(), "09:00"), method="pin"
    )


def booked(pool, user, day: str, start: str, end: str, *, status="attended", active=True):
    booking = Booking.objects.create(
        reference=uuid.uuid4().hex[:12],
        start=at(day, start),
        end=at(day, end),
        status=status,
        place=pool.place,
        user=user,
    )
    Allocation.objects.create(
        booking=booking,
        resource=pool,
        blocked_start=booking.start,
        blocked_end=booking.end,
        units=1,
        is_active=active,
        is_exclusive=False,
    )


@pytest.fixture
def dataset():
    centre = CommuneFactory(latitude=45.0, longitude=2.5)
    home = CommuneFactory(latitude=45.1, longitude=2.5)
    place = TiersLieuFactory(place__commune=centre, desk_capacity=10)
    pool = desk_pool(place, capacity=8)  # Monday to Friday, 9:00–18:00
    ClosureFactory(
        place=place.place, start=at("2027-03-10", "00:00"), end=at("2027-03-11", "00:00")
    )
    newcomer = member(home, commute_km=40, previous="69")
    local = member(home, commute_km=5, previous="15")
    unknown = member(None)
    for day in (2, 3, 4):
        visit(place, newcomer, dt.date(2027, 3, day))
    visit(place, newcomer, dt.date(2027, 4, 6))
    visit(place, unknown, dt.date(2027, 3, 2))
    visit(place, unknown, dt.date(2027, 3, 3))
    visit(place, local, dt.date(2027, 3, 4))
    booked(pool, newcomer, "2027-03-02", "09:00", "18:00")
    booked(pool, newcomer, "2027-03-03", "09:00", "18:00", status="confirmed")
    booked(pool, local, "2027-03-04", "09:00", "13:00", status="no_show")
    booked(pool, local, "2027-03-05", "09:00", "18:00", status="cancelled", active=False)
    monthly = OfferFactory(tiers_lieu=place, kind=Offer.Kind.MONTHLY, half_days=0, validity_days=30)
    PassFactory(offer=monthly, member=local, valid_from=dt.date(2027, 3, 16))
    return {"place": place, "home": home, "centre": centre}


def test_figures_on_a_hand_built_dataset(dataset):
    figures = coworking_figures(actor=department_agent(), year=2027)
    (place,) = figures.places
    march, april = place.months[2], place.months[3]
    assert (march.seat_days, april.seat_days) == (6, 1)
    # March 2027: 23 weekdays, less Easter Monday (29th) and the closure of the 10th: 21 days
    # of 9 hours for 8 seats. Booked: 9 h + 9 h + 4 h (the cancelled booking does not count).
    assert march.open_seat_hours == pytest.approx(21 * 9 * 8)
    assert march.booked_seat_hours == pytest.approx(22)
    assert march.occupancy_rate == pytest.approx(22 / 1512)
    # A monthly pass from 16 March for 30 days: 16 days in March, 14 in April.
    assert march.contracted_seats == pytest.approx(16 / 31)
    assert april.contracted_seats == pytest.approx(14 / 30)
    assert march.contracted_rate == pytest.approx(16 / 31 / 10)
    assert (march.active_members, april.active_members) == (3, 1)
    assert (march.active_newcomers, april.active_newcomers) == (1, 1)
    assert place.trend()[2:4] == [3, -2]
    # CO₂: the newcomer's 2 × 40 km less 2 × the road from home to the place, three times, by
    # car; the local member lives farther than their usual commute: nothing avoided, not less.
    road = road_km(45.1, 2.5, 45.0, 2.5)
    assert march.avoided_km == pytest.approx(3 * (80 - 2 * road))
    assert march.co2_kg == pytest.approx(3 * (80 - 2 * road) * 218 / 1000)
    assert march.check_ins_without_commute == 2
    year = place.year
    assert (year.seat_days, year.active_members, year.active_newcomers) == (7, 3, 1)
    assert [(c.insee_code, c.members) for c in figures.home_communes] == [
        (dataset["home"].insee_code, 2)
    ]
    assert figures.network.months[2].seat_days == 6


def test_daily_figures(dataset):
    figures = coworking_figures(actor=department_agent(), year=2027, daily=True)
    day = figures.places[0].days[dt.date(2027, 3, 2)]
    assert (day.seat_days, day.booked_seat_hours, day.open_seat_hours) == (2, 9, 72)
    assert dt.date(2027, 3, 10) not in figures.places[0].days  # closed, nobody came


def test_a_bounded_number_of_queries(dataset):
    agent = department_agent()
    agent.role_codes()
    with CaptureQueriesContext(connection) as queries:
        coworking_figures(actor=agent, year=2027, daily=True)
    assert len(queries) <= 10


def test_a_manager_sees_their_places_only(dataset):
    other = TiersLieuFactory()
    manager = manager_of(dataset["place"])
    figures = coworking_figures(actor=manager, year=2027)
    assert [p.tiers_lieu_id for p in figures.places] == [dataset["place"].pk]
    assert coworking_figures(actor=manager, year=2027, tiers_lieu=dataset["place"]).places
    with pytest.raises(CoworkingForbidden):
        coworking_figures(actor=manager, year=2027, tiers_lieu=other)
    with pytest.raises(CoworkingForbidden):
        coworking_figures(actor=UserFactory(), year=2027)
    with pytest.raises(CoworkingForbidden):
        coworking_figures(actor=None, year=2027)
    staff = coworking_figures(actor=department_agent(), year=2027)
    assert len(staff.places) == 2


def test_figures_csv(dataset):
    text = figures_csv(coworking_figures(actor=department_agent(), year=2027))
    lines = text.splitlines()
    assert lines[0] == ";".join(FIGURES_HEADER)
    assert len(lines) == 1 + 12 * 2
    march = lines[3].split(";")
    assert march[1:6] == ["2027-03", "6", "22,0", "1512,0", "0,015"]


def test_open_hours_follow_changes_of_rules_and_closures(dataset):
    """Opening hours are kept in memory between calls: a new closure or an edited rule must
    show at once."""
    agent = department_agent()

    def march_open_hours():
        agent.__dict__.pop("_role_codes", None)
        return coworking_figures(actor=agent, year=2027).places[0].months[2].open_seat_hours

    assert march_open_hours() == pytest.approx(21 * 9 * 8)
    ClosureFactory(
        place=dataset["place"].place, start=at("2027-03-11", "00:00"), end=at("2027-03-12", "00:00")
    )
    assert march_open_hours() == pytest.approx(20 * 9 * 8)
    pool = dataset["place"].place.resources.get(kind="desk_pool")
    rule = pool.availability_rules.get(weekday=0)  # Mondays: 9:00–18:00 → 9:00–12:00
    rule.end_time = dt.time(12)
    rule.save()
    mondays_open = 4  # 1, 8, 15 and 22 March; Easter Monday, the 29th, is a holiday
    assert march_open_hours() == pytest.approx((20 * 9 - mondays_open * 6) * 8)
