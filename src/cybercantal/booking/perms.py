"""Who may do what with bookings and resources."""

from __future__ import annotations

import rules

# accounts.Role codes that act for the whole territory.
TERRITORY_STAFF_ROLES = ("department_agent", "platform_admin")


def is_resource_agent(user, resource) -> bool:
    """Someone who manages bookings of a resource: an active member of its organisation (the
    tiers-lieu's manager, the France Services' mediators…), or staff of the Département."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(*TERRITORY_STAFF_ROLES):
        return True
    return user.memberships.filter(
        organisation_id=resource.organisation_id, is_active=True
    ).exists()


def is_member_of_resource_organisation(user, resource) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.memberships.filter(
        organisation_id=resource.organisation_id, is_active=True
    ).exists()


@rules.predicate
def can_manage_booking(user, booking) -> bool:
    return any(is_resource_agent(user, a.resource) for a in booking.allocations.all())


@rules.predicate
def is_booking_holder(user, booking) -> bool:
    return bool(getattr(user, "is_authenticated", False) and booking.user_id == user.pk)


can_view_booking = is_booking_holder | can_manage_booking
