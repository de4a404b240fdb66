"""Demo data of the booking engine: seeded by `manage.py seed_demo` through core's registry of
demo seeders, idempotent, at the demo places, and served by the API."""

import datetime as dt
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from cybercantal.booking import availability as av
from cybercantal.booking.demo import SERVICES, seed_booking_demo
from cybercantal.booking.models import AvailabilityRule, Resource, Service
from cybercantal.core.demo import TIERS_LIEUX, DemoError, demo_seed
from cybercantal.core.registries import DemoSeeder, demo_seeders
from cybercantal.territory.models import Place

pytestmark = pytest.mark.django_db


def seed(verbosity: int = 1) -> str:
    out = StringIO()
    call_command("seed_demo", verbosity=verbosity, stdout=out)
    return out.getvalue()


def booking_rows() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("booking").get_models()
    } | {"booking.Resource_services": Resource.services.through.objects.count()}


def next_open_day(weekday: int, *, after_days: int = 2, weeks: frozenset[int] = frozenset()):
    """The next date of that weekday, a few days ahead, not a public holiday, and (if given)
    in one of those weeks of the month."""
    day = timezone.localdate() + dt.timedelta(days=after_days)
    while True:
        if (
            day.weekday() == weekday
            and day not in av.public_holidays(day.year)
            and (not weeks or (day.day - 1) // 7 + 1 in weeks)
        ):
            return day
        day += dt.timedelta(days=1)


def test_the_booking_seeder_is_registered():
    entry = demo_seeders.get("booking")

    assert entry is not None
    assert entry.order < 100


def test_seed_demo_creates_the_services_and_resources(cantal):
    text = seed(verbosity=2)

    assert "booking.Resource : " in text
    assert set(Service.objects.values_list("code", flat=True)) == {s.code for s in SERVICES}
    resources = Resource.objects.all()
    assert resources.count() == 40
    assert not resources.filter(is_demo=False).exists()
    assert all(name.endswith("(démo)") for name in resources.values_list("name", flat=True))
    # Every resource is open some time, and delivers a service.
    for resource in resources:
        assert resource.availability_rules.exists(), resource
        assert resource.services.exists(), resource


def test_seeding_twice_changes_nothing(cantal):
    seed()
    rows = booking_rows()
    updated_at = dict(Resource.objects.values_list("pk", "updated_at"))
    rule_ids = set(AvailabilityRule.objects.values_list("pk", flat=True))

    report = demo_seed()

    assert report.created.total() == report.updated.total() == 0
    assert report.unchanged["booking.Resource"] == 40
    assert report.unchanged["booking.Service"] == 6
    assert booking_rows() == rows
    assert dict(Resource.objects.values_list("pk", "updated_at")) == updated_at
    assert set(AvailabilityRule.objects.values_list("pk", flat=True)) == rule_ids
    assert seed_booking_demo().created.total() == 0


def test_seeding_again_repairs_what_a_tester_changed(cantal):
    seed()
    desks = Resource.objects.get(name="Bureaux partagés — La Buronnerie (démo)")
    desks.availability_rules.all().delete()
    desks.services.clear()
    desks.capacity = 99
    desks.save()

    report = demo_seed()

    assert report.updated["booking.Resource"] == 1
    desks.refresh_from_db()
    assert desks.capacity == 6
    assert desks.availability_rules.count() == 5  # Monday to Friday
    assert list(desks.services.values_list("code", flat=True)) == ["coworking_desk_day"]


def test_tiers_lieux_have_a_desk_pool_and_a_meeting_room(cantal):
    seed()
    for spec in TIERS_LIEUX:
        at_place = Resource.objects.filter(place__name=spec.name)
        desks = at_place.get(kind=Resource.Kind.DESK_POOL)
        room = at_place.get(kind=Resource.Kind.ROOM)
        assert 6 <= desks.capacity <= 12
        assert desks.max_future_bookings_per_person == 2
        assert desks.bookable_by == Resource.BookableBy.ANYONE
        assert room.capacity == 1
        assert room.bookable_by == Resource.BookableBy.ACCOUNT_HOLDERS
        for resource in (desks, room):
            assert resource.slot_minutes in (30, 60)
            weekdays = set(resource.availability_rules.values_list("weekday", flat=True))
            assert weekdays >= {0, 1, 2, 3, 4}
    assert Resource.objects.filter(kind=Resource.Kind.DESK_POOL).count() == 14
    assert Resource.objects.filter(kind=Resource.Kind.ROOM).count() == 14


def test_the_demo_mediator_tours_the_territory(cantal):
    seed()
    mediator = Resource.objects.get(person__username="demo-mediateur")

    assert mediator.kind == Resource.Kind.PERSON
    assert mediator.buffer_before_minutes + mediator.buffer_after_minutes > 0
    rules = list(mediator.availability_rules.select_related("place"))
    places_by_weekday = {}
    for rule in rules:
        if rule.weeks_of_month in ("", "2,4,5"):
            places_by_weekday.setdefault(rule.weekday, set()).add(rule.place.name)
    # A different place each weekday (Tuesday: the usual place, except the 1st and 3rd).
    assert len({min(names) for names in places_by_weekday.values()}) == 5
    first_and_third = [rule for rule in rules if rule.weeks_of_month == "1,3"]
    assert [(r.weekday, r.place.name) for r in first_and_third] == [(1, "Mairie d'Allanche (démo)")]
    assert (
        Resource.objects.filter(
            kind=Resource.Kind.PERSON, services__code="digital_mediation"
        ).count()
        == 2
    )


def test_teleconsultation_cabins_the_private_ones_included(cantal):
    seed()
    cabins = Resource.objects.filter(kind=Resource.Kind.CABIN)

    assert cabins.count() == 5
    assert cabins.filter(place__is_public=False).count() == 2
    assert set(cabins.values_list("bookable_by", flat=True)) == {Resource.BookableBy.AGENTS}
    doctor = Resource.objects.get(person__username="demo-medecin")
    assert doctor.services.filter(code="teleconsultation").exists()


def test_equipment_loans_need_approval(cantal):
    seed()
    kits = Resource.objects.filter(kind=Resource.Kind.EQUIPMENT)

    assert kits.count() == 2
    for kit in kits:
        assert kit.approval_required
        assert kit.services.filter(code="equipment_loan").exists()
        assert kit.organisation.kind == "department"


def test_the_api_serves_the_demo_resources(cantal, client):
    seed()
    desks = Resource.objects.get(name="Bureaux partagés — La Fabrique du Bassin (démo)")
    monday = next_open_day(0)

    slots = client.get(
        f"/api/v1/resources/{desks.pk}/availability",
        {"start": f"{monday}T00:00", "end": f"{monday}T23:59", "duration": 60},
    )
    listed = client.get("/api/v1/resources", {"kind": "desk_pool"})

    assert slots.status_code == 200
    assert slots.json()[0]["start"].startswith(f"{monday}T08:30:00")
    assert {s["place_id"] for s in slots.json()} == {desks.place_id}
    assert listed.json()["count"] == 14


def test_the_api_finds_the_mediator_at_allanche_on_the_first_and_third_tuesday(cantal, client):
    seed()
    tuesday = next_open_day(1, weeks=frozenset({1, 3}))
    mediator = Resource.objects.get(person__username="demo-mediateur")

    offers = client.get(
        "/api/v1/slots/search",
        {
            "service": "digital_mediation",
            "commune": "15001",  # Allanche
            "radius_km": 5,
            "start": f"{tuesday}T00:00",
            "end": f"{tuesday}T23:59",
        },
    ).json()

    assert offers
    assert {offer["resource"]["id"] for offer in offers} == {mediator.pk}
    assert {offer["place"]["name"] for offer in offers} == {"Mairie d'Allanche (démo)"}
    assert offers[0]["start"].startswith(f"{tuesday}T09:00:00")


def test_a_failing_module_seeder_rolls_everything_back(cantal):
    def broken():
        raise DemoError("Graine cassée")

    demo_seeders.register(DemoSeeder(key="zz-broken", label="Cassé", seed=broken, order=999))
    try:
        with pytest.raises(DemoError):
            demo_seed()
    finally:
        demo_seeders.unregister("zz-broken")

    assert not Place.objects.exists()
    assert not Resource.objects.exists()
