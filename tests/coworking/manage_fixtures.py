"""Shared setting for the managers' pages tests: two places run by two operators, each with
its manager, a member with a pass at the first place and an invoiced pass at each."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from cybercantal.coworking.services.invoices import invoice_for_pass
from tests.accounts.factories import UserFactory

from .factories import OfferFactory, PassFactory, TiersLieuFactory, desk_pool, manager_of


@dataclass
class World:
    place: object
    other_place: object
    manager: object
    other_manager: object
    member: object
    offer: object
    pass_: object
    invoice: object
    other_pass: object
    other_invoice: object


def world() -> World:
    today = timezone.localdate()
    place, other_place = TiersLieuFactory(), TiersLieuFactory()
    # Open on public holidays too, so that check-ins work whatever day the tests run.
    desk_pool(place, observes_public_holidays=False)
    manager, other_manager = manager_of(place), manager_of(other_place)
    offer = OfferFactory(tiers_lieu=place, label="Carnet de 10 journées")
    pass_ = PassFactory(
        offer=offer,
        member=UserFactory(first_name="Camille", last_name="Durand"),
        valid_from=today - dt.timedelta(days=1),
    )
    other_pass = PassFactory(
        offer=OfferFactory(tiers_lieu=other_place), valid_from=today - dt.timedelta(days=1)
    )
    return World(
        place=place,
        other_place=other_place,
        manager=manager,
        other_manager=other_manager,
        member=pass_.member,
        offer=offer,
        pass_=pass_,
        invoice=invoice_for_pass(actor=manager, pass_account=pass_),
        other_pass=other_pass,
        other_invoice=invoice_for_pass(actor=other_manager, pass_account=other_pass),
    )
