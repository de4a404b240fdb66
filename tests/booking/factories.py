"""Factories for the booking engine.

`ResourceFactory(place=p, hours=[(0, "09:00", "12:00"), ...])` creates a resource open at
those weekly hours (weekday 0 = Monday). By default: Monday to Friday, 9:00–12:00 and
14:00–17:00, at its place."""

import datetime as dt

import factory

from cybercantal.booking.models import AvailabilityRule, Closure, Resource, Service
from tests.territory.factories import OrganisationFactory, PlaceFactory

WEEKDAY_HOURS = [(day, "09:00", "12:00") for day in range(5)] + [
    (day, "14:00", "17:00") for day in range(5)
]


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"prestation-{n}")
    label = factory.Sequence(lambda n: f"Prestation {n}")
    default_duration_minutes = 30


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Ressource {n}")
    kind = Resource.Kind.ROOM
    place = factory.SubFactory(PlaceFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    capacity = 1
    slot_minutes = 30
    min_duration_minutes = 30
    max_duration_minutes = 240
    min_notice_minutes = 0
    horizon_days = 365
    cancellation_deadline_hours = 24
    observes_public_holidays = True

    @factory.post_generation
    def hours(obj, create, extracted, **kwargs):
        if not create:
            return
        for weekday, opens, closes in WEEKDAY_HOURS if extracted is None else extracted:
            AvailabilityRule.objects.create(
                resource=obj,
                weekday=weekday,
                start_time=dt.time.fromisoformat(opens),
                end_time=dt.time.fromisoformat(closes),
            )

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.services.set(extracted)


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    reason = "Fermeture"


def agent_of(*resources, role="mediator", user=None):
    """A person working for the organisations of `resources` (a mediator by default): an agent
    of those resources in booking.perms."""
    from tests.accounts.factories import MembershipFactory, UserFactory

    user = user or UserFactory()
    for organisation in {r.organisation for r in resources}:
        MembershipFactory(user=user, organisation=organisation, role=role)
    if hasattr(user, "_role_codes"):
        del user._role_codes
    return user


def department_agent():
    """An agent of the Département: staff for the whole territory."""
    from tests.accounts.factories import MembershipFactory

    return MembershipFactory(role="department_agent").user
