"""Reads of the teleconsultation journey, scoped to the actor through telehealth.perms: the
sites where someone books, the patients of a site, the consultations they may see, the free
slots where the practitioner, the site's cart and the assisting professional are all free, the
connectivity test a checklist relies on and the video link of a session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from cybercantal.booking.perms import TERRITORY_STAFF_ROLES
from cybercantal.booking.selectors import availability

from ..models import (
    AssistingProfessional,
    ConnectivityTest,
    Consultation,
    Patient,
    Practitioner,
    Site,
    Specialty,
)
from ..models.consultations import CONNECTIVITY_TEST_VALIDITY
from ..perms import (
    assisted_site_ids,
    consultations_for,
    coordinated_site_ids,
    may_book_at,
    may_run_session,
)

# How far ahead the booking page looks for free slots, and how many it offers at most (a long
# list of radio buttons is hard to read for someone who rarely uses a computer).
SLOT_WINDOW_DAYS = 14
SLOT_LIMIT = 40
# A connectivity test counts for the checklist for this long.


def bookable_sites(*, actor) -> QuerySet[Site]:
    """Active sites where the actor may book (the same people as perms.may_book_at)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Site.objects.none()
    sites = Site.objects.filter(is_active=True).select_related("place__commune")
    if actor.has_role(*TERRITORY_STAFF_ROLES):
        return sites
    return sites.filter(pk__in=coordinated_site_ids(actor) | assisted_site_ids(actor))


def bookable_site_get(*, actor, site_id) -> Site | None:
    return bookable_sites(actor=actor).filter(pk=site_id).first()


def specialties_offered() -> QuerySet[Specialty]:
    """Specialties at least one active practitioner consults in."""
    return Specialty.objects.filter(practitioners__is_active=True).distinct().order_by("label")


def site_patients(*, actor, site: Site, query: str = "") -> QuerySet[Patient]:
    """The patients followed at the site, for someone who may book there; a search on the
    name the team calls them by."""
    if not may_book_at(actor, site):
        return Patient.objects.none()
    patients = Patient.objects.filter(site=site)
    query = " ".join((query or "").split())
    if query:
        patients = patients.filter(display_name__icontains=query)
    return patients.order_by("display_name", "birth_year")


def site_assistants(*, site: Site, kind: str = "") -> QuerySet[AssistingProfessional]:
    assistants = AssistingProfessional.objects.filter(sites=site, is_active=True)
    if kind:
        assistants = assistants.filter(kind=kind)
    return assistants.select_related("user").order_by("user__last_name", "user__first_name")


def practitioners_of(specialty: Specialty) -> QuerySet[Practitioner]:
    return (
        Practitioner.objects.filter(specialties=specialty, is_active=True)
        .select_related("user", "resource")
        .order_by("user__last_name", "user__first_name", "pk")
    )


@dataclass(frozen=True)
class SessionSlot:
    start: dt.datetime
    end: dt.datetime
    practitioner: Practitioner

    @property
    def value(self) -> str:
        """What the booking form sends back: the practitioner and the start (UTC)."""
        return f"{self.practitioner.pk}|{self.start.astimezone(dt.UTC).isoformat()}"


def free_slots(
    *,
    site: Site,
    specialty: Specialty,
    assistant: AssistingProfessional | None,
    now: dt.datetime | None = None,
    since: dt.datetime | None = None,
    days: int = SLOT_WINDOW_DAYS,
    limit: int = SLOT_LIMIT,
) -> list[SessionSlot]:
    """The next free slots (in order of start, then practitioner) over `days` where a
    practitioner of the specialty, the site's cart and the assisting professional are all
    free for the specialty's usual duration.

    Each resource's free slots come from the booking engine (booking.selectors.availability:
    rules, closures, holidays, buffers, notice and existing bookings); a slot is offered when
    its start is free for all three, which is what booking them together requires.
    `since`: show the slots from then on (a later day of the window), never before now."""
    now = now or timezone.now()
    end = now + dt.timedelta(days=days)
    window_start = max(now, since or now)
    if window_start >= end:
        return []
    duration = dt.timedelta(minutes=specialty.default_duration_minutes)

    def starts(resource) -> set[dt.datetime]:
        return {
            slot.start
            for slot in availability(
                resource=resource, start=window_start, end=end, duration=duration, now=now
            )
        }

    common = starts(site.resource)
    if assistant is not None and common:
        common &= starts(assistant.resource)
    offers: list[SessionSlot] = []
    if common:
        for practitioner in practitioners_of(specialty):
            for slot_start in sorted(common & starts(practitioner.resource)):
                offers.append(SessionSlot(slot_start, slot_start + duration, practitioner))
    offers.sort(key=lambda offer: (offer.start, str(offer.practitioner), offer.practitioner.pk))
    return offers[:limit]


def consultation_list(
    *,
    actor,
    site: Site | None = None,
    status: str = "",
    upcoming: bool | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Consultation]:
    """Consultations the actor may see (perms.consultations_for); `upcoming` True: from now
    on, soonest first; False: before now, latest first; None: all, latest first."""
    now = now or timezone.now()
    consultations = consultations_for(actor).select_related(
        "site__place__commune", "practitioner__user", "assistant__user", "specialty", "patient"
    )
    if site is not None:
        consultations = consultations.filter(site=site)
    if status:
        consultations = consultations.filter(status=status)
    if upcoming is True:
        return consultations.filter(scheduled_start__gte=now).order_by("scheduled_start", "pk")
    if upcoming is False:
        consultations = consultations.filter(scheduled_start__lt=now)
    return consultations.order_by("-scheduled_start", "-pk")


def consultation_get(*, actor, consultation_id) -> Consultation | None:
    """The consultation if the actor may see it (perms.may_see_consultation), else None."""
    try:
        consultation_id = int(consultation_id)
    except (TypeError, ValueError):
        return None
    return (
        consultations_for(actor)
        .select_related(
            "site__place__commune",
            "site__resource",
            "practitioner__user",
            "assistant__user",
            "specialty",
            "patient",
            "booking",
            "connectivity_test",
        )
        .filter(pk=consultation_id)
        .first()
    )


def latest_connectivity_test(
    site: Site, *, now: dt.datetime | None = None
) -> ConnectivityTest | None:
    """The site's latest connectivity test of the last 24 hours (none in the future)."""
    now = now or timezone.now()
    return (
        ConnectivityTest.objects.filter(
            site=site, measured_at__gt=now - CONNECTIVITY_TEST_VALIDITY, measured_at__lte=now
        )
        .order_by("-measured_at", "-pk")
        .first()
    )


def last_connectivity_test(site: Site) -> ConnectivityTest | None:
    """The site's latest test, however old (to say how old it is)."""
    return site.connectivity_tests.order_by("-measured_at", "-pk").first()


def video_base_url() -> str:
    """settings.TELEHEALTH_VIDEO_BASE_URL without its trailing slash; "" when there is no
    video server."""
    return (getattr(settings, "TELEHEALTH_VIDEO_BASE_URL", "") or "").strip().rstrip("/")


def video_link(consultation: Consultation, *, actor) -> str | None:
    """The video room's address, for the people who run the session only; None when no
    video server is configured (the session then goes by phone) or for anyone else."""
    base = video_base_url()
    if not base or not may_run_session(actor, consultation):
        return None
    return f"{base}/{consultation.video_room}"


def request_delay(consultation: Consultation) -> dt.timedelta:
    """From the need expressed to the consultation: an indicator of access to care."""
    return max(consultation.scheduled_start - consultation.requested_at, dt.timedelta(0))
