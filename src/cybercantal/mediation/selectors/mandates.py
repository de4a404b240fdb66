"""Reads of mandates, scoped to the actor: the mediators of the structure, in a session
verified by the second factor, see its mandates and their consent scans; nobody else sees any.
The public check of an attestation answers only whether it matches and until when it is valid,
or that it matched a mandate since archived by the retention rules."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from ..models import Beneficiary, Mandate
from ..services.mandates import (
    CONSENT_CONTENT_TYPES,
    CONSENT_FILE_MAX_BYTES,
    consent_file_kind,
    mandate_archive_seal,
    mandate_hash,
    session_is_verified,
)
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
    archived_on: object = None  # the day its data was erased, for an archived mandate


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
    if mandate.archived_at is not None:
        # The content the hash covers is erased: the printed hash is compared with the one
        # recorded, and what stays with the seal written when it was archived.
        if not (
            mandate.archive_seal
            and hmac.compare_digest(given, mandate.attestation_hash)
            and hmac.compare_digest(mandate.archive_seal, mandate_archive_seal(mandate))
        ):
            return MandateCheck(matches=False)
        return MandateCheck(
            matches=True,
            status=Mandate.Status.EXPIRED,
            starts_on=mandate.starts_on,
            ends_on=mandate.ends_on,
            archived_on=timezone.localdate(mandate.archived_at),
        )
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


@dataclass(frozen=True)
class ConsentScan:
    """A mandate's signed consent, read and checked against the hash taken at upload.

    state: "ok" (content and content_type to serve), "altered" (the file no longer matches
    its hash, or its type its name), "missing" (no file at its name), "erased" (the mandate is
    archived: retention deleted it), "none" (consent recorded remotely, no scan)."""

    state: str
    content: bytes = b""
    content_type: str = ""
    extension: str = ""


def mandate_consent_scan(*, actor, mandate_id: int) -> tuple[Mandate | None, ConsentScan]:
    """The mandate (None when the actor may not see it) and its consent scan. The bytes
    returned are those that were hashed: what is served is what was checked."""
    mandate = mandate_get(actor=actor, mandate_id=mandate_id)
    if mandate is None:
        return None, ConsentScan(state="none")
    if mandate.archived_at is not None:
        return mandate, ConsentScan(state="erased")
    if mandate.consent_method != Mandate.ConsentMethod.PAPER_SCAN or not mandate.consent_file:
        return mandate, ConsentScan(state="none")
    extension = mandate.consent_file.name.rsplit(".", 1)[-1].lower()
    try:
        with mandate.consent_file.storage.open(mandate.consent_file.name, "rb") as file:
            # One byte more than any accepted scan: a larger file cannot be the one uploaded.
            content = file.read(CONSENT_FILE_MAX_BYTES + 1)
    except OSError:  # FileNotFoundError, or a storage that cannot be read
        return mandate, ConsentScan(state="missing")
    digest = hashlib.sha256(content).hexdigest()
    if (
        not mandate.consent_file_sha256
        or len(content) > CONSENT_FILE_MAX_BYTES
        or not hmac.compare_digest(digest, mandate.consent_file_sha256)
        or consent_file_kind(content) != extension
        or extension not in CONSENT_CONTENT_TYPES
    ):
        return mandate, ConsentScan(state="altered")
    return mandate, ConsentScan(
        state="ok",
        content=content,
        content_type=CONSENT_CONTENT_TYPES[extension],
        extension=extension,
    )
