"""Whose records a mediator sees: those of the structures (territory.Organisation) where they
are an active member with the mediator role. Beneficiaries and activity reports never cross
structures; the Département's staff see aggregates (dashboards), not people."""

from __future__ import annotations

from cybercantal.accounts.models import Role


def _is_authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def mediator_organisation_ids(user) -> list[int]:
    if not _is_authenticated(user):
        return []
    return list(
        user.memberships.filter(is_active=True, role=Role.MEDIATOR).values_list(
            "organisation_id", flat=True
        )
    )


def is_mediator_of(user, organisation) -> bool:
    return organisation is not None and organisation.pk in mediator_organisation_ids(user)
