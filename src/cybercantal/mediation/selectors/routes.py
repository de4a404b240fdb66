"""Reads for the route of the day: the mediators (booking resources of kind person) whose
route the actor may see — their own, and those of the structures they work for."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cybercantal.booking.models import Resource
from cybercantal.booking.perms import TERRITORY_STAFF_ROLES, agent_organisation_ids


def route_mediators(*, actor) -> QuerySet[Resource]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Resource.objects.none()
    mediators = Resource.objects.filter(kind=Resource.Kind.PERSON, is_active=True)
    if not actor.has_role(*TERRITORY_STAFF_ROLES):
        mediators = mediators.filter(
            Q(person=actor) | Q(organisation_id__in=agent_organisation_ids(actor))
        )
    return mediators.select_related("place__commune", "organisation").order_by("name", "pk")


def route_mediator_get(*, actor, resource_id) -> Resource | None:
    try:
        return route_mediators(actor=actor).filter(pk=int(resource_id)).first()
    except (TypeError, ValueError):
        return None
