"""Who may do what with mediation places."""

from __future__ import annotations

import rules

# accounts.Role codes acting for the whole territory (as booking.perms.TERRITORY_STAFF_ROLES).
from cybercantal.booking.perms import TERRITORY_STAFF_ROLES


@rules.predicate
def is_territory_staff(user) -> bool:
    """An agent of the Département or a platform administrator."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.has_role(*TERRITORY_STAFF_ROLES)


# Importing a file of places writes places of any structure: staff of the Département only.
can_import_places = is_territory_staff
