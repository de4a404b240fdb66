"""Reads of activity reports and beneficiaries, scoped to the structures where the actor is a
mediator: nobody reads another structure's people or reports."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import Activity, Beneficiary
from ..structures import mediator_organisation_ids


def activity_list(*, actor) -> QuerySet[Activity]:
    return Activity.objects.filter(organisation_id__in=mediator_organisation_ids(actor))


def beneficiary_list(*, actor) -> QuerySet[Beneficiary]:
    return Beneficiary.objects.filter(
        organisation_id__in=mediator_organisation_ids(actor), merged_into=None
    )


def beneficiary_get(*, actor, pk) -> Beneficiary | None:
    try:
        return beneficiary_list(actor=actor).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None
