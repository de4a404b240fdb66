"""Reads of mediation places, scoped to the actor like the territory's places: public places
for anyone; a non-public one only for the staff of its operating organisation and the staff
of the Département (territory.selectors.place_visibility_filter)."""

from __future__ import annotations

from django.db.models import QuerySet

from cybercantal.territory.models import Place
from cybercantal.territory.selectors import place_visibility_filter

from ..models import MediationPlace


def mediation_place_list(*, actor) -> QuerySet[MediationPlace]:
    """The mediation places the actor may see, with their place, commune and organisation
    loaded (one query), ordered by commune then name: the order of the exports."""
    visible = place_visibility_filter(actor)
    return (
        MediationPlace.objects.filter(place__in=Place.objects.filter(visible).values("pk"))
        .select_related("place", "place__commune", "place__organisation")
        .order_by("place__commune__name", "place__name", "pk")
    )
