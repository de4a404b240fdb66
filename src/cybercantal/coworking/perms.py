"""Who may do what in the tiers-lieux network.

A place's managers are the active members of its operating organisation (Place.organisation)
holding the role tiers_lieu_manager; the Département's staff (booking.perms.TERRITORY_STAFF_ROLES)
may act for every place. Other roles of the operator (a mediator hosted there) are not
managers: they do not sell passes nor see members' credits."""

from __future__ import annotations

import rules
from django.db.models import Q

from cybercantal.accounts.models import Role
from cybercantal.booking.perms import TERRITORY_STAFF_ROLES


def _is_authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _managed_organisation_ids(user):
    return user.memberships.filter(is_active=True, role=Role.TIERS_LIEU_MANAGER).values(
        "organisation_id"
    )


def is_place_manager(user, tiers_lieu) -> bool:
    """A manager of this tiers-lieu, or staff of the Département."""
    if not _is_authenticated(user):
        return False
    if user.has_role(*TERRITORY_STAFF_ROLES):
        return True
    organisation_id = tiers_lieu.place.organisation_id
    if organisation_id is None:
        return False
    return user.memberships.filter(
        organisation_id=organisation_id, is_active=True, role=Role.TIERS_LIEU_MANAGER
    ).exists()


def is_network_staff(user) -> bool:
    """The Département's staff, who alone write the network's offers."""
    return _is_authenticated(user) and user.has_role(*TERRITORY_STAFF_ROLES)


def managed_tiers_lieux_filter(user) -> Q:
    """A Q on TiersLieu: the places this person manages (all of them for the Département's
    staff, none for anyone else)."""
    if not _is_authenticated(user):
        return Q(pk__in=[])
    if user.has_role(*TERRITORY_STAFF_ROLES):
        return Q()
    return Q(place__organisation_id__in=_managed_organisation_ids(user))


can_manage_tiers_lieu = rules.predicate(is_place_manager)
