"""Reads of tariffs, acts and téléexpertise, already narrowed to what the actor may see.

- Tariffs are public reference data (any signed-in user of telehealth reads them).
- Acts: a professional sees their own acts, a site's coordinator the acts of the
  consultations held at the site, staff all of them.
- Téléexpertise: the requesting doctor and the expert only (the question is clinical); staff
  get aggregate counts and delays, never a request.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import (
    Act,
    ActRole,
    ActTariff,
    AssistantKind,
    Consultation,
    ExpertiseRequest,
    Patient,
    Practitioner,
    Site,
)
from ..perms import assisted_site_ids, coordinated_site_ids, is_telehealth_staff


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


CLOSED_STATUSES = (Consultation.Status.DONE, Consultation.Status.INCIDENT)
# Acts coded on a consultation (the others come with a téléexpertise).
CONSULTATION_ROLES = (ActRole.PRACTITIONER, ActRole.NURSE, ActRole.PHARMACY)


# --- tariffs ----------------------------------------------------------------------------


def _in_force_on(day: dt.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))


def tariff_in_force(*, code: str, day: dt.date) -> ActTariff | None:
    """The tariff of `code` on `day` (a code's periods never overlap: at most one)."""
    return ActTariff.objects.filter(_in_force_on(day), code=code).order_by("-valid_from").first()


def tariffs_in_force(*, day: dt.date, roles=None) -> QuerySet[ActTariff]:
    rows = ActTariff.objects.filter(_in_force_on(day))
    if roles is not None:
        rows = rows.filter(role__in=list(roles))
    return rows.order_by("role", "code")


@dataclass(frozen=True)
class TariffCode:
    code: str
    label: str
    role_label: str
    periods: list[ActTariff]
    current: ActTariff | None


def tariff_table(*, today: dt.date | None = None) -> list[TariffCode]:
    """Every code with its periods (oldest first) and the one in force today."""
    today = today or timezone.localdate()
    by_code: dict[str, list[ActTariff]] = {}
    for tariff in ActTariff.objects.order_by("code", "valid_from"):
        by_code.setdefault(tariff.code, []).append(tariff)
    table = []
    for code, periods in by_code.items():
        current = next(
            (
                t
                for t in periods
                if t.valid_from <= today and (t.valid_until is None or t.valid_until >= today)
            ),
            None,
        )
        latest = current or periods[-1]
        table.append(
            TariffCode(
                code=code,
                label=latest.label,
                role_label=latest.get_role_display(),
                periods=periods,
                current=current,
            )
        )
    return table


# --- who codes what on a consultation -------------------------------------------------------


def consultation_day(consultation: Consultation) -> dt.date:
    return timezone.localdate(consultation.scheduled_start)


def professional_for_role(consultation: Consultation, role: str):
    """The user who bills `role` on this consultation, or None when nobody does: the
    practitioner (médecin), the assisting nurse (infirmier), the assisting pharmacist of a
    pharmacy (pharmacie: billed by the officine)."""
    if role == ActRole.PRACTITIONER:
        return consultation.practitioner.user
    assistant = consultation.assistant
    if assistant is None:
        return None
    if role == ActRole.NURSE and assistant.kind == AssistantKind.NURSE:
        return assistant.user
    if (
        role == ActRole.PHARMACY
        and assistant.kind == AssistantKind.PHARMACIST
        and consultation.site.kind == Site.Kind.PHARMACY
    ):
        return assistant.user
    return None


def is_site_coordinator(user, site: Site) -> bool:
    return _authenticated(user) and site.pk in coordinated_site_ids(user)


def codable_roles(actor, consultation: Consultation) -> list[str]:
    """The roles the actor may code acts for on this consultation: their own, or every
    professional's when they coordinate the site. Staff who are neither code nothing."""
    if not _authenticated(actor):
        return []
    coordinator = is_site_coordinator(actor, consultation.site)
    roles = []
    for role in CONSULTATION_ROLES:
        professional = professional_for_role(consultation, role)
        if professional is not None and (coordinator or professional.pk == actor.pk):
            roles.append(role)
    return roles


def may_remove_act(actor, act: Act) -> bool:
    if not _authenticated(actor):
        return False
    if act.professional_id == actor.pk:
        return True
    return act.consultation_id is not None and is_site_coordinator(actor, act.consultation.site)


def consultation_acts(consultation: Consultation) -> QuerySet[Act]:
    """The acts of a consultation (the caller has checked the actor may see it)."""
    return consultation.acts.select_related("professional", "tariff").order_by("role", "code")


def cap_usage(*, patient: Patient, code: str, year: int) -> int:
    return Act.objects.filter(patient=patient, code=code, performed_on__year=year).count()


# --- acts, scoped --------------------------------------------------------------------------


def acts_for(actor) -> QuerySet[Act]:
    """The acts the actor may see: their own, those of the consultations of the sites they
    coordinate (not the téléexpertises of the site's patients: those stay with the two
    doctors), all of them for staff."""
    if not _authenticated(actor):
        return Act.objects.none()
    rows = Act.objects.all()
    if not is_telehealth_staff(actor):
        rows = rows.filter(
            Q(professional=actor) | Q(consultation__site__in=coordinated_site_ids(actor))
        )
    return rows


def acts_filtered(
    actor, *, month: tuple[int, int] | None = None, site: Site | None = None
) -> QuerySet[Act]:
    """acts_for(actor) in a calendar month and at a site (a consultation's site, or for a
    téléexpertise the patient's site), oldest first, with what the export prints."""
    rows = acts_for(actor)
    if month is not None:
        year, number = month
        rows = rows.filter(performed_on__year=year, performed_on__month=number)
    if site is not None:
        rows = rows.filter(_at_site(site))
    return rows.select_related(
        "professional__telehealth_practitioner",
        "consultation__site__place",
        "patient__site__place",
    ).order_by("performed_on", "code", "pk")


def _at_site(site: Site | int) -> Q:
    """An act's site: its consultation's, or for a téléexpertise the patient's."""
    return Q(consultation__site=site) | Q(consultation__isnull=True, patient__site=site)


# What an act's JSON shows, joined so that a page of acts costs the same queries as one act.
ACT_RELATED = ("professional", "tariff", "consultation__site__place", "patient__site__place")


def act_list(
    actor,
    *,
    year: int | None = None,
    month: int | None = None,
    site_id: int | None = None,
    code: str = "",
    role: str = "",
) -> QuerySet[Act]:
    """acts_for(actor) (the scope of the list page and the export, nothing wider) narrowed by
    year, month, site (as acts_filtered counts it), code and role, newest first."""
    rows = acts_for(actor)
    if year is not None:
        rows = rows.filter(performed_on__year=year)
    if month is not None:
        rows = rows.filter(performed_on__month=month)
    if site_id is not None:
        rows = rows.filter(_at_site(site_id))
    if code:
        rows = rows.filter(code=code)
    if role:
        rows = rows.filter(role=role)
    return rows.select_related(*ACT_RELATED).order_by("-performed_on", "-pk")


def act_get(actor, act_id: int) -> Act | None:
    """The act if acts_for(actor) holds it, else None (shown as a 404)."""
    return acts_for(actor).select_related(*ACT_RELATED).filter(pk=act_id).first()


def export_sites(actor) -> QuerySet[Site]:
    """The sites offered in the filter of the actor's acts."""
    if not _authenticated(actor):
        return Site.objects.none()
    if is_telehealth_staff(actor):
        return Site.objects.select_related("place").order_by("place__name")
    own = Act.objects.filter(professional=actor)
    ids = (
        set(coordinated_site_ids(actor))
        | set(own.exclude(consultation=None).values_list("consultation__site", flat=True))
        | set(own.filter(consultation=None).values_list("patient__site", flat=True))
    )
    return Site.objects.filter(pk__in=ids).select_related("place").order_by("place__name")


def act_site(act: Act) -> Site:
    return act.consultation.site if act.consultation_id else act.patient.site


# --- téléexpertise ---------------------------------------------------------------------------


def practitioner_of(user) -> Practitioner | None:
    if not _authenticated(user):
        return None
    return Practitioner.objects.filter(user=user).first()


def expertise_for(actor) -> QuerySet[ExpertiseRequest]:
    """The requests the actor sent or received. Nobody else's, whatever their role."""
    practitioner = practitioner_of(actor)
    if practitioner is None:
        return ExpertiseRequest.objects.none()
    return (
        ExpertiseRequest.objects.filter(Q(requester=practitioner) | Q(expert=practitioner))
        .select_related("requester__user", "expert__user", "specialty", "patient")
        .order_by("-asked_at", "-pk")
    )


def expertise_get(actor, pk: int) -> ExpertiseRequest | None:
    """The request if the actor is one of its two doctors, else None (shown as a 404)."""
    return expertise_for(actor).filter(pk=pk).first()


def expertise_patients(actor) -> QuerySet[Patient]:
    """The patients a practitioner may ask a téléexpertise for: those they have had a
    teleconsultation with, and the patients of the sites they coordinate or assist at."""
    practitioner = practitioner_of(actor)
    if practitioner is None:
        return Patient.objects.none()
    sites = coordinated_site_ids(actor) | assisted_site_ids(actor)
    ids = set(
        Consultation.objects.filter(practitioner=practitioner).values_list("patient", flat=True)
    ) | set(Patient.objects.filter(site__in=sites).values_list("pk", flat=True))
    return (
        Patient.objects.filter(pk__in=ids)
        .select_related("site__place")
        .order_by("display_name", "pk")
    )


def expertise_experts(actor) -> QuerySet[Practitioner]:
    """The active practitioners the actor may ask (not themself)."""
    return (
        Practitioner.objects.filter(is_active=True)
        .exclude(user=actor)
        .select_related("user")
        .prefetch_related("specialties")
        .order_by("user__last_name", "user__first_name", "pk")
    )


@dataclass(frozen=True)
class ExpertiseFigures:
    """Aggregate figures for staff: no request, no patient, no doctor."""

    total: int
    answered: int
    open: int
    median_hours: float | None
    mean_hours: float | None
    withdrawn: int = 0


def expertise_figures(*, since: dt.datetime | None = None) -> ExpertiseFigures:
    """Counts per state and the time to answer, over the answered requests only: a withdrawn
    request was never answered and says nothing about how fast experts answer."""
    rows = ExpertiseRequest.objects.all()
    if since is not None:
        rows = rows.filter(asked_at__gte=since)
    delays = [
        (answered - asked).total_seconds() / 3600
        for asked, answered in rows.filter(
            status=ExpertiseRequest.Status.ANSWERED, answered_at__isnull=False
        ).values_list("asked_at", "answered_at")
    ]
    return ExpertiseFigures(
        total=rows.count(),
        answered=len(delays),
        open=rows.filter(status=ExpertiseRequest.Status.OPEN).count(),
        withdrawn=rows.filter(status=ExpertiseRequest.Status.WITHDRAWN).count(),
        median_hours=round(statistics.median(delays), 1) if delays else None,
        mean_hours=round(statistics.fmean(delays), 1) if delays else None,
    )


def user_label(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@dataclass(frozen=True)
class AttachmentContent:
    """An attachment read back and checked against the hash taken at upload.

    state: "ok" (content and content_type to serve), "erased" (the request's content was
    erased at the end of its retention period), "missing" (no file), "altered" (the bytes no
    longer match the hash or their kind)."""

    state: str
    content: bytes = b""
    content_type: str = ""
    extension: str = ""


def attachment_read(attachment) -> AttachmentContent:
    """The bytes served are the bytes hashed: what is shown is what was checked."""
    import hashlib
    import hmac

    from ..services.expertise import ATTACHMENT_MAX_BYTES, attachment_kind

    if attachment.request.content_erased_at is not None or not attachment.file:
        return AttachmentContent(state="erased")
    try:
        with attachment.file.storage.open(attachment.file.name, "rb") as file:
            content = file.read(ATTACHMENT_MAX_BYTES + 1)
    except OSError:
        return AttachmentContent(state="missing")
    kind = attachment_kind(content)
    digest = hashlib.sha256(content).hexdigest()
    if (
        kind is None
        or len(content) > ATTACHMENT_MAX_BYTES
        or not hmac.compare_digest(digest, attachment.sha256)
    ):
        return AttachmentContent(state="altered")
    return AttachmentContent(state="ok", content=content, content_type=kind[1], extension=kind[0])
