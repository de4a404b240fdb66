"""The demo year of digital mediation: plausible counts, fast bulk writes that keep the
services' rules, tours in the coming weeks, and a second run that writes no second year."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from cybercantal.core.demo import demo_seed
from cybercantal.mediation.models import Activity, Beneficiary, Tour, TourStop

pytestmark = pytest.mark.django_db


def test_demo_year_is_plausible_and_idempotent(cantal):
    demo_seed()
    out = StringIO()
    call_command("seed_mediation_activity", stdout=out)
    assert "Année de médiation créée" in out.getvalue()
    today = timezone.localdate()
    activities = Activity.objects.all()
    assert 1500 <= activities.count() <= 3000
    assert 500 <= Beneficiary.objects.count() <= 700
    assert 0.08 < Beneficiary.objects.filter(is_anonymous=True).count() / 600 < 0.25
    assert activities.filter(kind="collectif").count() >= 100
    assert activities.aggregate(first=Count("id", filter=Q(day__gte=today)))["first"] == 0
    assert activities.filter(day__lt=today - dt.timedelta(days=366)).count() == 0
    # Seasons: August is quieter than October.
    august = activities.filter(day__month=8).count()
    october = activities.filter(day__month=10).count()
    assert august < october
    # The services' rules.
    assert not activities.filter(themes=[]).exists()
    assert not activities.filter(kind="individuel").exclude(participants_count=1).exists()
    assert not activities.filter(place_type="lieu", place__isnull=True).exists()
    assert not activities.filter(place_type="lieu").exclude(commune=F("place__commune")).exists()
    assert not activities.filter(kind="collectif").filter(Q(title="") | Q(level="")).exists()
    individual = (
        activities.filter(kind="individuel").annotate(n=Count("beneficiaries")).filter(n__gt=1)
    )
    assert not individual.exists()
    crossing = Activity.beneficiaries.through.objects.exclude(
        activity__organisation=F("beneficiary__organisation")
    )
    assert not crossing.exists()
    assert not Beneficiary.objects.filter(is_anonymous=False, consent_at__isnull=True).exists()
    assert not Beneficiary.objects.filter(is_anonymous=True).exclude(first_name="").exists()
    # Several structures, people from many communes.
    assert activities.values("organisation").distinct().count() == 4
    assert Beneficiary.objects.values("commune").distinct().count() >= 40
    # Tours with stops in the coming weeks, each making the mediator bookable.
    assert Tour.objects.filter(is_demo=True).count() == 2
    stops = TourStop.objects.filter(is_demo=True, day__gt=today)
    assert stops.count() >= 8 and not stops.filter(rule__isnull=True).exists()

    counts = (activities.count(), Beneficiary.objects.count(), TourStop.objects.count())
    again = StringIO()
    call_command("seed_mediation_activity", stdout=again)
    assert "existe déjà" in again.getvalue()
    assert (Activity.objects.count(), Beneficiary.objects.count(), TourStop.objects.count()) == (
        counts
    )
