"""Who may do what with mediation places."""

from __future__ import annotations

import rules

# accounts.Role codes acting for the whole territory (as booking.perms.TERRITORY_STAFF_ROLES).
from cybercantal.booking.perms import TERRITORY_STAFF_ROLES

from .structures import is_mediator_of


@rules.predicate
def is_territory_staff(user) -> bool:
    """An agent of the Département or a platform administrator."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.has_role(*TERRITORY_STAFF_ROLES)


# Importing a file of places writes places of any structure: staff of the Département only.
can_import_places = is_territory_staff


def can_describe_place(user, place) -> bool:
    """The national-schema description of a place: the mediators of the structure operating
    it (Place.organisation), and the Département's staff."""
    if place is None:
        return False
    return is_territory_staff(user) or is_mediator_of(user, place.organisation)
