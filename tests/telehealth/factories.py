"""Building a small teleconsultation network for tests, through the services (so that the
bookable resources exist as in production).

    site = make_site()                               # a care home with a cart and devices
    derm = make_specialty()                          # dermatology: dermatoscope + nurse
    doctor = make_practitioner(specialties=[derm])   # open Monday to Friday 9-12, 14-17
    nurse = make_assistant(sites=[site])
    consultation = make_consultation(site=site, practitioner=doctor, assistant=nurse,
                                     specialty=derm)  # next Monday at 10:00
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from cybercantal.booking.models import AvailabilityRule
from cybercantal.telehealth.models import Equipment, ReferenceHospital, Site, Specialty
from cybercantal.telehealth.services.consultations import consultation_book, patient_create
from cybercantal.telehealth.services.network import (
    assistant_create,
    practitioner_create,
    site_create,
)
from tests.accounts.factories import UserFactory
from tests.booking.factories import WEEKDAY_HOURS, department_agent
from tests.territory.factories import OrganisationFactory, PlaceFactory

_rpps = iter(range(10_000_000_001, 99_999_999_999))


def open_hours(resource, hours=WEEKDAY_HOURS) -> None:
    for weekday, opens, closes in hours:
        AvailabilityRule.objects.create(
            resource=resource,
            weekday=weekday,
            start_time=dt.time.fromisoformat(opens),
            end_time=dt.time.fromisoformat(closes),
        )


def staff_user():
    return department_agent()


def aurillac() -> ReferenceHospital:
    hospital, _created = ReferenceHospital.objects.get_or_create(
        name="Centre hospitalier d'Aurillac",
        defaults={"latitude": 44.9262, "longitude": 2.4447, "is_default": True},
    )
    return hospital


def make_site(
    *,
    kind=Site.Kind.CARE_HOME,
    devices=("chariot", "camera", "dermatoscope", "stethoscope"),
    coordinators=(),
    distance_km=Decimal("80.0"),
    place=None,
    hours=WEEKDAY_HOURS,
    **kwargs,
) -> Site:
    from cybercantal.territory.models import Organisation

    place = place or PlaceFactory(
        organisation=OrganisationFactory(kind=Organisation.Kind.CARE_HOME)
    )
    site = site_create(
        actor=staff_user(),
        place=place,
        kind=kind,
        hospital=aurillac(),
        distance_km=distance_km,
        coordinators=coordinators,
        **kwargs,
    )
    for code in devices:
        Equipment.objects.create(site=site, kind=code)
    open_hours(site.resource, hours)
    return site


def make_specialty(
    code="dermatologie",
    label="Dermatologie",
    devices=("dermatoscope",),
    assistant="infirmier",
    minutes=30,
) -> Specialty:
    specialty, _created = Specialty.objects.get_or_create(
        code=code,
        defaults={
            "label": label,
            "required_devices": list(devices),
            "required_assistant": assistant,
            "default_duration_minutes": minutes,
        },
    )
    return specialty


def make_practitioner(*, specialties=None, user=None, kind="specialiste", hours=WEEKDAY_HOURS):
    practitioner = practitioner_create(
        actor=staff_user(),
        user=user or UserFactory(),
        kind=kind,
        rpps=str(next(_rpps)),
        specialties=specialties or [make_specialty()],
        organisation=OrganisationFactory(name="Centre hospitalier d'Aurillac", kind="hospital"),
    )
    open_hours(practitioner.resource, hours)
    return practitioner


def make_assistant(*, sites, user=None, kind="infirmier", hours=WEEKDAY_HOURS):
    assistant = assistant_create(
        actor=staff_user(), user=user or UserFactory(), kind=kind, sites=sites
    )
    open_hours(assistant.resource, hours)
    return assistant


def make_patient(site, *, actor=None, name="Mme Jeanne Martin", birth_year=1938, **kwargs):
    return patient_create(
        actor=actor or staff_user(),
        site=site,
        display_name=name,
        birth_year=birth_year,
        is_care_home_resident=site.kind == Site.Kind.CARE_HOME,
        **kwargs,
    )


def next_monday(at=dt.time(10, 0), weeks=1) -> dt.datetime:
    """The Monday `weeks` weeks ahead at `at` — or the next working day when that Monday is a
    public holiday (the resources are closed on Easter and Whit Mondays), so that two calls
    with different `weeks` never give the same day."""
    from cybercantal.booking.availability import public_holidays

    today = timezone.localdate()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    monday += dt.timedelta(weeks=weeks - 1)
    while monday in public_holidays(monday.year):
        monday += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(monday, at))


def make_consultation(
    *,
    site=None,
    practitioner=None,
    assistant=None,
    specialty=None,
    patient=None,
    start=None,
    actor=None,
    **kwargs,
):
    specialty = specialty or make_specialty()
    site = site or make_site()
    practitioner = practitioner or make_practitioner(specialties=[specialty])
    if assistant is None and specialty.required_assistant:
        assistant = make_assistant(sites=[site], kind=specialty.required_assistant)
    return consultation_book(
        actor=actor or (assistant.user if assistant else staff_user()),
        site=site,
        practitioner=practitioner,
        specialty=specialty,
        patient=patient or make_patient(site),
        assistant=assistant,
        start=start or next_monday(),
        **kwargs,
    )
