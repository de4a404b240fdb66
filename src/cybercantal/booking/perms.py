"""Who may do what with bookings and resources."""

from __future__ import annotations

import rules

# accounts.Role codes that act for the whole territory.
TERRITORY_STAFF_ROLES = ("department_agent", "platform_admin")
# accounts.Role codes that make someone a *member* of an organisation but not one of its
# agents: a parent or a pupil of a school, a resident member of a tiers-lieu, an elected
# official. They may book what is reserved to members; they never see other people's bookings,
# book for others or skip the booking rules.
MEMBER_ONLY_ROLES = ("resident", "parent", "pupil", "elected_official")


def _is_authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def agent_organisation_ids(user):
    """The organisations the user works for (a queryset of ids, for filters)."""
    return (
        user.memberships.filter(is_active=True)
        .exclude(role__in=MEMBER_ONLY_ROLES)
        .values("organisation_id")
    )


def bookable_resources_filter(user):
    """A Q on Resource: the resources this person may book (Resource.bookable_by), so that
    searches never offer a slot that booking would then refuse."""
    from django.db.models import Q

    from .models import Resource

    anyone = Q(bookable_by=Resource.BookableBy.ANYONE)
    if not _is_authenticated(user):
        return anyone
    if user.has_role(*TERRITORY_STAFF_ROLES):
        return Q()
    member_of = user.memberships.filter(is_active=True).values("organisation_id")
    return (
        anyone
        | Q(bookable_by=Resource.BookableBy.ACCOUNT_HOLDERS)
        | Q(bookable_by=Resource.BookableBy.MEMBERS, organisation_id__in=member_of)
        | Q(organisation_id__in=agent_organisation_ids(user))
    )


def is_resource_agent(user, resource) -> bool:
    """Someone who manages bookings of a resource: an active member of its organisation in a
    working role (the tiers-lieu's manager, the France Services' mediators…), or staff of the
    Département."""
    if not _is_authenticated(user):
        return False
    if user.has_role(*TERRITORY_STAFF_ROLES):
        return True
    return (
        user.memberships.filter(organisation_id=resource.organisation_id, is_active=True)
        .exclude(role__in=MEMBER_ONLY_ROLES)
        .exists()
    )


def is_place_agent(user, place) -> bool:
    """Someone who runs a place (an agent of its operating organisation) or staff of the
    Département: they may cancel a whole day there."""
    if not _is_authenticated(user):
        return False
    if user.has_role(*TERRITORY_STAFF_ROLES):
        return True
    if place.organisation_id is None:
        return False
    return (
        user.memberships.filter(organisation_id=place.organisation_id, is_active=True)
        .exclude(role__in=MEMBER_ONLY_ROLES)
        .exists()
    )


def is_member_of_resource_organisation(user, resource) -> bool:
    if not _is_authenticated(user):
        return False
    return user.memberships.filter(
        organisation_id=resource.organisation_id, is_active=True
    ).exists()


@rules.predicate
def can_manage_booking(user, booking) -> bool:
    """An agent of any of the booking's resources (the nurse of the cabin as well as the
    practitioner of a teleconsultation). booking.services checks the same."""
    return any(is_resource_agent(user, a.resource) for a in booking.allocations.all())


@rules.predicate
def is_booking_holder(user, booking) -> bool:
    return bool(getattr(user, "is_authenticated", False) and booking.user_id == user.pk)


can_view_booking = is_booking_holder | can_manage_booking
