"""Reads of mandates, scoped to the actor: the mediators of the structure, in a session
verified by the second factor, see its mandates; nobody else sees any. The public check of an
attestation answers only whether it matches and until when it is valid."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from ..models import Beneficiary, Mandate
from ..services.mandates import mandate_hash, session_is_verified
from ..structures import mediator_organisation_ids


def mandate_list(*, actor) -> QuerySet[Mandate]:
    """The mandates of the actor's structures (none without a verified second factor)."""
    if not session_is_verified(actor):
        return Mandate.objects.none()
    return (
        Mandate.objects.filter(organisation_id__in=mediator_organisation_ids(actor))
        .select_related("organisation", "beneficiary")
        .prefetch_related("areas")
    )


def mandate_get(*, actor, mandate_id: int) -> Mandate | None:
    return mandate_list(actor=actor).filter(pk=mandate_id).first()


def mandate_beneficiaries(*, actor, organisation) -> QuerySet[Beneficiary]:
    """The named people of the structure who may give it a mandate."""
    if organisation.pk not in mediator_organisation_ids(actor) or not session_is_verified(actor):
        return Beneficiary.objects.none()
    return Beneficiary.objects.filter(
        organisation=organisation, is_anonymous=False, merged_into=None
    ).exclude(first_name="")


@dataclass(frozen=True)
class MandateCheck:
    """What the public check says: the attestation matches a recorded mandate whose content
    is unchanged, and its state. No name, no area, no structure."""

    matches: bool
    status: str = ""
    starts_on: object = None
    ends_on: object = None
    partly_revoked: bool = False


def mandate_check(*, reference: str, attestation_hash: str) -> MandateCheck:
    reference = (reference or "").strip().upper()[:20]
    given = (attestation_hash or "").strip().lower().replace(" ", "")[:64]
    mandate = (
        Mandate.objects.filter(reference=reference)
        .select_related("organisation", "beneficiary")
        .prefetch_related("areas")
        .first()
    )
    if mandate is None or len(given) != 64:
        return MandateCheck(matches=False)
    # Both the hash printed and the record as it is now: a record changed behind the
    # services' back no longer matches its own attestation.
    if not (
        hmac.compare_digest(given, mandate.attestation_hash)
        and hmac.compare_digest(given, mandate_hash(mandate))
    ):
        return MandateCheck(matches=False)
    areas = list(mandate.areas.all())
    return MandateCheck(
        matches=True,
        status=mandate.status_on(timezone.localdate()),
        starts_on=mandate.starts_on,
        ends_on=mandate.ends_on,
        partly_revoked=any(area.revoked_at for area in areas),
    )
