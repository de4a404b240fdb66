"""Writes of mandates: creating one (with the person's consent), revoking an area or all of
them, and recording each use in the append-only journal. Each is one transaction, checks first
that the actor is a mediator of the structure whose session is verified by the second factor,
writes an audit row, and refuses in French without writing anything."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.audit import audit_log
from cybercantal.core.notifications.letters import french_date

from ..models import Beneficiary, Mandate, MandateArea, MandateUse, ProcedureArea
from ..structures import is_mediator_of

CONSENT_FILE_MAX_BYTES = 5 * 1024 * 1024
# The type is read from the file's first bytes, never from its name or the browser's word.
_FILE_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)
# The stored scan's extension (chosen from its content at upload) gives the type it is served as.
CONSENT_CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
_MONTHS = {
    Mandate.Duration.ONE_MONTH: 1,
    Mandate.Duration.SIX_MONTHS: 6,
    Mandate.Duration.ONE_YEAR: 12,
}


def session_is_verified(actor) -> bool:
    # django-otp's middleware gives request.user `is_verified()`; a user object without it
    # (a shell, a task) has not proved a second factor.
    check = getattr(actor, "is_verified", None)
    return bool(check and check())


def check_mandate_access(actor, organisation) -> None:
    """Mandates are reached by the structure's mediators, in a session verified by the second
    factor (they let the structure act in a person's name)."""
    if not is_mediator_of(actor, organisation):
        raise BookingForbidden(_("Seuls les médiateurs de cette structure gèrent ses mandats."))
    if not session_is_verified(actor):
        raise BookingForbidden(
            _("Les mandats demandent la double authentification : vérifiez-vous d'abord.")
        )


def mandate_end(starts_on: dt.date, duration: str) -> dt.date:
    """The last day (inclusive) of a mandate starting on `starts_on`: one day is that day;
    one month from 15 March ends on 14 April; from 31 January, on 28 (or 29) February."""
    if duration == Mandate.Duration.ONE_DAY:
        return starts_on
    months = _MONTHS[duration]
    month_index = starts_on.month - 1 + months
    year, month = starts_on.year + month_index // 12, month_index % 12 + 1
    day = min(starts_on.day, calendar.monthrange(year, month)[1])
    same_day_later = dt.date(year, month, day)
    # Clamped (31 January + 1 month = 28 February): that day is the last one, not the eve.
    return same_day_later if day < starts_on.day else same_day_later - dt.timedelta(days=1)


def consent_file_kind(content: bytes) -> str | None:
    """The extension (pdf, jpg, png) that the content's first bytes announce, or None."""
    for signature, extension in _FILE_SIGNATURES:
        if content.startswith(signature):
            return extension
    return None


def consent_file_check(upload) -> tuple[bytes, str]:
    """The scan's bytes and extension (pdf, jpg, png), or a French refusal."""
    if upload is None:
        raise BookingRuleError(_("Joignez le consentement signé, numérisé (PDF, JPEG ou PNG)."))
    size = getattr(upload, "size", None)
    if size is not None and size > CONSENT_FILE_MAX_BYTES:
        raise BookingRuleError(_("Le scan du consentement dépasse 5 Mo : réduisez-le."))
    upload.seek(0)
    content = upload.read(CONSENT_FILE_MAX_BYTES + 1)
    if len(content) > CONSENT_FILE_MAX_BYTES:
        raise BookingRuleError(_("Le scan du consentement dépasse 5 Mo : réduisez-le."))
    if not content:
        raise BookingRuleError(_("Le fichier du consentement est vide."))
    extension = consent_file_kind(content)
    if extension is not None:
        return content, extension
    raise BookingRuleError(
        _("Le consentement doit être un fichier PDF, JPEG ou PNG (ce fichier n'en est pas un).")
    )


def mandate_canonical_text(mandate: Mandate, *, area_codes: Sequence[str] | None = None) -> str:
    """The text the attestation hash covers: structure, person, areas, dates, consent. One
    field per line, in a fixed order, so that any change of content changes the hash."""
    if area_codes is None:
        area_codes = [area.area for area in mandate.areas.all()]
    recorded_at = timezone.localtime(mandate.consent_recorded_at).replace(microsecond=0)
    lines = [
        "CyberCantal - mandat v1",
        f"reference: {mandate.reference}",
        f"structure: {mandate.organisation_id} {mandate.organisation.name}",
        f"personne: {mandate.beneficiary_id} {mandate.beneficiary.first_name}",
        f"domaines: {','.join(sorted(area_codes))}",
        f"duree: {mandate.duration}",
        f"du: {mandate.starts_on.isoformat()}",
        f"au: {mandate.ends_on.isoformat()}",
        f"consentement: {mandate.consent_method}",
        f"recueilli le: {recorded_at.isoformat()}",
        f"scan: {mandate.consent_file_sha256 or '-'}",
        f"note: {mandate.consent_note or '-'}",
    ]
    return "\n".join(lines) + "\n"


def mandate_hash(mandate: Mandate, *, area_codes: Sequence[str] | None = None) -> str:
    return hashlib.sha256(
        mandate_canonical_text(mandate, area_codes=area_codes).encode("utf-8")
    ).hexdigest()


def mandate_archive_text(mandate: Mandate) -> str:
    """What an archived mandate keeps to recognise its attestation: no person, no consent."""
    # In UTC: the seal must not change with the deployment's time zone setting.
    archived_at = mandate.archived_at.astimezone(dt.UTC).replace(microsecond=0)
    lines = [
        "CyberCantal - mandat archivé v1",
        f"reference: {mandate.reference}",
        f"structure: {mandate.organisation_id}",
        f"du: {mandate.starts_on.isoformat()}",
        f"au: {mandate.ends_on.isoformat()}",
        f"attestation: {mandate.attestation_hash}",
        f"archive le: {archived_at.isoformat()}",
    ]
    return "\n".join(lines) + "\n"


def mandate_archive_seal(mandate: Mandate) -> str:
    return hashlib.sha256(mandate_archive_text(mandate).encode("utf-8")).hexdigest()


def mandate_create(
    *,
    actor,
    organisation,
    beneficiary: Beneficiary,
    areas: Sequence[str],
    duration: str,
    consent_method: str,
    consent_file=None,
    consent_note: str = "",
    remote_consent_confirmed: bool = False,
    starts_on: dt.date | None = None,
) -> Mandate:
    """A mandate for `beneficiary` (a named person followed by the structure), in at least one
    procedure area, for one of the fixed durations, starting today or later. Consent: a signed
    paper, scanned (PDF, JPEG or PNG, 5 MB at most), or recorded remotely (the mediator
    confirms it and says how)."""
    check_mandate_access(actor, organisation)
    if (
        beneficiary is None
        or beneficiary.organisation_id != organisation.pk
        or beneficiary.merged_into_id
    ):
        raise BookingRuleError(_("Cette personne n'est pas suivie par votre structure."))
    if beneficiary.is_anonymous or not beneficiary.first_name.strip():
        raise BookingRuleError(
            _("Un mandat se donne par une personne nommée, pas par une fiche anonyme.")
        )
    codes = list(dict.fromkeys(areas or []))
    if not codes:
        raise BookingRuleError(_("Choisissez au moins un domaine de démarches."))
    unknown = [code for code in codes if code not in ProcedureArea.values]
    if unknown:
        raise BookingRuleError(_("Domaine de démarches inconnu : %s.") % str(unknown[0])[:40])
    if duration not in Mandate.Duration.values:
        raise BookingRuleError(_("Choisissez une durée : 1 jour, 1 mois, 6 mois ou 1 an."))
    today = timezone.localdate()
    starts_on = starts_on or today
    if starts_on < today:
        raise BookingRuleError(_("Un mandat ne commence pas dans le passé."))
    if starts_on > today + dt.timedelta(days=365):
        raise BookingRuleError(_("Un mandat commence dans l'année qui vient."))
    consent_note = (consent_note or "").strip()[:300]
    content, extension = b"", ""
    if consent_method == Mandate.ConsentMethod.PAPER_SCAN:
        content, extension = consent_file_check(consent_file)
    elif consent_method == Mandate.ConsentMethod.REMOTE:
        if not remote_consent_confirmed:
            raise BookingRuleError(_("Confirmez que la personne a donné son accord à distance."))
        if not consent_note:
            raise BookingRuleError(
                _("Indiquez comment l'accord a été recueilli (par exemple : par téléphone).")
            )
    else:
        raise BookingRuleError(_("Indiquez comment la personne a donné son consentement."))

    mandate = Mandate(
        organisation=organisation,
        beneficiary=beneficiary,
        created_by=actor,
        duration=duration,
        starts_on=starts_on,
        ends_on=mandate_end(starts_on, duration),
        consent_method=consent_method,
        consent_note=consent_note,
        consent_recorded_at=timezone.now().replace(microsecond=0),
        consent_file_sha256=hashlib.sha256(content).hexdigest() if content else "",
    )
    mandate.attestation_hash = mandate_hash(mandate, area_codes=codes)
    try:
        with transaction.atomic():
            if content:
                # Stored under a random name; the record points to it from the first save.
                mandate.consent_file.save(
                    f"consentement.{extension}", ContentFile(content), save=False
                )
            mandate.save()
            MandateArea.objects.bulk_create(
                [MandateArea(mandate=mandate, area=code) for code in codes]
            )
            audit_log(
                actor=actor,
                action="mediation.mandate_create",
                target=mandate,
                data={"areas": codes, "duration": duration, "consent": consent_method},
            )
    except Exception:
        if mandate.consent_file:
            mandate.consent_file.delete(save=False)
        raise
    return mandate


def _area_for_update(mandate: Mandate, area: str) -> MandateArea:
    row = MandateArea.objects.select_for_update().filter(mandate=mandate, area=area).first()
    if row is None:
        raise BookingRuleError(_("Ce domaine ne fait pas partie du mandat."))
    return row


def _check_not_over(mandate: Mandate, today: dt.date) -> None:
    if today > mandate.ends_on:
        raise BookingRuleError(
            _("Ce mandat a pris fin le %(day)s : il ne peut plus servir ni être modifié.")
            % {"day": french_date(mandate.ends_on)}
        )


def mandate_revoke_area(*, actor, mandate: Mandate, area: str) -> MandateArea:
    """Revoke one area: later uses in it are refused, the other areas stay in force."""
    check_mandate_access(actor, mandate.organisation)
    with transaction.atomic():
        row = _area_for_update(mandate, area)
        if row.revoked_at is not None:
            raise BookingRuleError(_("Ce domaine est déjà révoqué."))
        _check_not_over(mandate, timezone.localdate())
        row.revoked_at = timezone.now()
        row.revoked_by = actor
        row.save(update_fields=["revoked_at", "revoked_by"])
        audit_log(
            actor=actor,
            action="mediation.mandate_revoke_area",
            target=mandate,
            data={"area": area},
        )
    return row


def mandate_revoke(*, actor, mandate: Mandate) -> list[MandateArea]:
    """Revoke every area still in force: the mandate can no longer be used."""
    check_mandate_access(actor, mandate.organisation)
    with transaction.atomic():
        rows = list(
            MandateArea.objects.select_for_update().filter(mandate=mandate, revoked_at=None)
        )
        if not rows:
            raise BookingRuleError(_("Ce mandat est déjà entièrement révoqué."))
        _check_not_over(mandate, timezone.localdate())
        now = timezone.now()
        for row in rows:
            row.revoked_at, row.revoked_by = now, actor
        MandateArea.objects.bulk_update(rows, ["revoked_at", "revoked_by"])
        audit_log(
            actor=actor,
            action="mediation.mandate_revoke",
            target=mandate,
            data={"areas": [row.area for row in rows]},
        )
    return rows


def mandate_use(*, actor, mandate: Mandate, area: str, procedure: str) -> MandateUse:
    """Record one use of the mandate in the journal: refused when the mandate has not started
    or has ended, or when the area is not in the mandate or has been revoked."""
    check_mandate_access(actor, mandate.organisation)
    procedure = " ".join((procedure or "").split())[:200]
    if not procedure:
        raise BookingRuleError(
            _("Indiquez la démarche faite (par exemple : déclaration de revenus).")
        )
    today = timezone.localdate()
    with transaction.atomic():
        # The area's row is locked: a revocation at the same moment waits, or is seen.
        row = _area_for_update(mandate, area)
        if today < mandate.starts_on:
            raise BookingRuleError(
                _("Ce mandat ne prend effet que le %(day)s.")
                % {"day": french_date(mandate.starts_on)}
            )
        _check_not_over(mandate, today)
        if row.revoked_at is not None:
            raise BookingRuleError(
                _("La personne a révoqué le mandat pour le domaine « %(area)s ».")
                % {"area": row.get_area_display()}
            )
        use = MandateUse.objects.create(
            mandate=mandate,
            area=area,
            procedure=procedure,
            used_by=actor,
            used_by_repr=str(actor)[:200],
        )
        audit_log(
            actor=actor,
            action="mediation.mandate_use",
            target=mandate,
            data={"area": area, "use": use.pk},
        )
    return use
