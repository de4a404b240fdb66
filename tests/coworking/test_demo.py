"""Demo data of the tiers-lieux network: every demo tiers-lieu described, its offers and the
network's, idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command

from cybercantal.core.demo import TIERS_LIEUX
from cybercantal.coworking.models import Offer, TiersLieu

pytestmark = pytest.mark.django_db


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
        assert kinds == {"day", "half_day", "book", "monthly"}
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
    assert TiersLieu.objects.count() == 14
