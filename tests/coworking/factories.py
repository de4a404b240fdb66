"""Factories for the tiers-lieux network.

`TiersLieuFactory()` makes a place (kind tiers_lieu) run by a new association, with its
invoice series; `OfferFactory(tiers_lieu=t, kind="book", half_days=20)`; `PassFactory(...)`
makes an active pass and credits its ledger with the offer's half-days, as the pass service
does; `manager_of(tiers_lieu)` a manager of the place's operator; `desk_pool(tiers_lieu)` a
bookable desk pool there (booking.Resource)."""

import datetime as dt

import factory

from cybercantal.coworking.models import CreditMovement, Offer, Pass, TiersLieu
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import ResourceFactory, ServiceFactory
from tests.territory.factories import OrganisationFactory, PlaceFactory


class TiersLieuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TiersLieu

    place = factory.SubFactory(
        PlaceFactory,
        kinds=["tiers_lieu"],
        organisation=factory.SubFactory(OrganisationFactory, siret=""),
    )
    desk_capacity = 12
    has_visio_room = True


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    tiers_lieu = factory.SubFactory(TiersLieuFactory)
    operator = factory.LazyAttribute(lambda o: o.tiers_lieu.place.organisation)
    label = factory.Sequence(lambda n: f"Offre {n}")
    kind = Offer.Kind.BOOK
    price_cents = 10_000
    half_days = 20
    validity_days = 365


class PassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pass
        skip_postgeneration_save = True

    member = factory.SubFactory(UserFactory)
    offer = factory.SubFactory(OfferFactory)
    sold_at = factory.LazyAttribute(lambda p: p.offer.tiers_lieu or TiersLieuFactory())
    valid_from = dt.date(2027, 3, 1)
    valid_until = factory.LazyAttribute(
        lambda p: p.valid_from + dt.timedelta(days=p.offer.validity_days - 1)
    )
    status = Pass.Status.ACTIVE
    price_cents = factory.LazyAttribute(lambda p: p.offer.price_cents)

    @factory.post_generation
    def credited(obj, create, extracted, **kwargs):
        if create and obj.offer.half_days and extracted is not False:
            CreditMovement.objects.create(
                pass_account=obj, half_days=obj.offer.half_days, reason="purchase"
            )


def manager_of(tiers_lieu, user=None):
    user = user or UserFactory()
    MembershipFactory(
        user=user, organisation=tiers_lieu.place.organisation, role="tiers_lieu_manager"
    )
    if hasattr(user, "_role_codes"):
        del user._role_codes
    return user


def desk_pool(tiers_lieu, **kwargs):
    """A desk pool of 8 seats at the place, bookable by the day (9:00–18:00) or half-day."""
    service = ServiceFactory(code="coworking", label="Coworking", default_duration_minutes=540)
    defaults = {
        "name": f"Open space — {tiers_lieu.place.name}",
        "kind": "desk_pool",
        "capacity": 8,
        "slot_minutes": 30,
        "min_duration_minutes": 240,
        "max_duration_minutes": 540,
        "place": tiers_lieu.place,
        "organisation": tiers_lieu.place.organisation,
        "services": [service],
        "hours": [(d, "09:00", "18:00") for d in range(5)],
    }
    return ResourceFactory(**(defaults | kwargs))
