"""Demo data of the tiers-lieux network: every demo tiers-lieu described, its offers and the
network's, idempotent."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from cybercantal.core.demo import TIERS_LIEUX, opening_periods
from cybercantal.core.models import AuditLog
from cybercantal.coworking.demo import VOLUNTEER_RUN
from cybercantal.coworking.models import Offer, TiersLieu, VolunteerShift
from cybercantal.coworking.selectors.rooms import room_hour_offer
from cybercantal.coworking.services.hours import place_hours_publish_due, shifts_periods

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_fourteen_tiers_lieux_and_their_offers(cantal):
    seed()
    places = TiersLieu.objects.select_related("place")
    assert sorted(t.place.name for t in places) == sorted(spec.name for spec in TIERS_LIEUX)
    assert len(TIERS_LIEUX) == 14
    for tiers_lieu in places:
        kinds = set(tiers_lieu.offers.values_list("kind", flat=True))
        assert kinds == {"day", "half_day", "book", "monthly", "room_hour"}
        # Each has a meeting room, priced by the hour (12 € TTC, VAT 20 %).
        assert tiers_lieu.place.resources.filter(kind="room").exists()
        room_price = room_hour_offer(tiers_lieu=tiers_lieu)
        assert (room_price.price_cents, room_price.vat_rate) == (1200, 20)
        assert tiers_lieu.offers.filter(is_reduced=True).exists()
        assert {o.operator_id for o in tiers_lieu.offers.all()} == {
            tiers_lieu.place.organisation_id
        }
        # Each has a desk pool to book, from the booking engine's demo data.
        assert tiers_lieu.place.resources.filter(kind="desk_pool").count() == 1
    network = Offer.objects.filter(tiers_lieu=None)
    assert set(network.values_list("kind", flat=True)) == {"network_pass", "discovery"}
    assert network.get(kind="discovery").funder.name == "Département du Cantal (démo)"


def test_seeding_twice_changes_nothing(cantal):
    seed()
    before = list(Offer.objects.values_list("pk", "updated_at").order_by("pk"))
    seed()
    assert list(Offer.objects.values_list("pk", "updated_at").order_by("pk")) == before
    assert Offer.objects.filter(kind="room_hour").count() == 14
    shifts = list(VolunteerShift.objects.values_list("pk", "volunteer_name").order_by("pk"))
    seed()
    assert list(VolunteerShift.objects.values_list("pk", "volunteer_name").order_by("pk")) == shifts
    assert TiersLieu.objects.count() == 14


def test_one_place_is_kept_open_by_volunteers_and_nothing_shows(cantal):
    seed()
    volunteer_run = TiersLieu.objects.get(hours_from_shifts=True)
    assert volunteer_run.place.name == VOLUNTEER_RUN
    shifts = VolunteerShift.objects.filter(tiers_lieu=volunteer_run)
    assert shifts.count() >= 5 and len({s.volunteer_name for s in shifts}) >= 3
    spec = next(s for s in TIERS_LIEUX if s.name == VOLUNTEER_RUN)
    published = set(volunteer_run.place.opening_periods.values_list("weekday", "opens", "closes"))
    assert set(shifts_periods(volunteer_run, TODAY)) == published == opening_periods(spec.hours)
    # The hourly job finds the public hours right: nothing written.
    assert place_hours_publish_due(today=TODAY) == []
    assert not AuditLog.objects.filter(action="coworking.hours_published").exists()
