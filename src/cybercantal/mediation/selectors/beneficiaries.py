"""Reads of the people a structure follows ("personnes accompagnées"), scoped to the
structures where the actor is a mediator: the searchable list, one person's sheet (reports,
mandates — those given on records merged into theirs too —, workshops) and everything the
structure holds about them, for the right of access.

A person is found in the booking engine (workshop registrations, appointments) by the phone
numbers of their records, as workshop_close links those present to their record: a booking
made with their number for someone else would show here too, so the pages say how they were
found."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.booking.models import Allocation, Booking, Resource
from cybercantal.core.models import AuditLog
from cybercantal.core.text import normalize_search

from ..activity_vocabulary import EQUIPMENT, REDIRECTIONS, THEMES
from ..models import Activity, Beneficiary, Mandate, WorkshopSession, WorkshopWalkIn
from ..structures import mediator_organisation_ids
from .activities import beneficiary_get, beneficiary_list

PAGE_SIZE = 50
_MAX_WORDS = 5
_PHONE_QUERY = re.compile(r"[\d\s.+()-]+")


def _phone_digits(query: str) -> str:
    """The national digits of a phone number typed the French way or in E.164 ("06 12…",
    "+33 6 12…" → "612…"), to find inside the stored E.164 numbers; "" if not a number."""
    if not _PHONE_QUERY.fullmatch(query):
        return ""
    digits = re.sub(r"\D", "", query)
    if digits.startswith("33"):
        digits = digits[2:]
    return digits.lstrip("0")


def _commune_match(word: str) -> Q:
    return (
        Q(commune__search_name__contains=normalize_search(word))
        | Q(commune__insee_code__iexact=word)
        | Q(commune__postal_codes__contains=f" {word} ")
    )


def beneficiary_page(*, actor, query: str = "", page=1) -> Page:
    """One page of the records of the actor's structures (merged ones aside), named people
    first, by first name; each with `activities_count` and `last_day` (its last report).
    `query`: a phone number (or its beginning), or words each found in the first name, the
    commune's name, its INSEE code or a postal code."""
    people = beneficiary_list(actor=actor).select_related("commune", "organisation")
    query = (query or "").strip()
    digits = _phone_digits(query)
    if digits:
        found = Q(phone__contains=digits)
        if re.fullmatch(r"\d{5}", query):  # an INSEE or a postal code, as well
            found |= _commune_match(query)
        people = people.filter(found)
    else:
        for word in query.split()[:_MAX_WORDS]:
            people = people.filter(Q(first_name__icontains=word) | _commune_match(word))
    people = people.annotate(
        activities_count=Count("activities", distinct=True), last_day=Max("activities__day")
    ).order_by("is_anonymous", "first_name", "pk")
    return Paginator(people, PAGE_SIZE).get_page(page)


def merged_records(person: Beneficiary) -> list[Beneficiary]:
    """The records merged into `person`, however indirectly (before merges were flattened, a
    record could point to one that was merged later)."""
    found: list[Beneficiary] = []
    seen = {person.pk}
    frontier = [person.pk]
    while frontier:
        batch = [
            record
            for record in Beneficiary.objects.filter(merged_into_id__in=frontier).order_by("pk")
            if record.pk not in seen
        ]
        found += batch
        seen |= {record.pk for record in batch}
        frontier = [record.pk for record in batch]
    return found


def beneficiary_kept_id(*, actor, beneficiary_id) -> int | None:
    """The record that a merged record of the actor's structures was merged into (followed
    to the end of the chain); None for a record not merged, or out of the actor's reach."""
    try:
        pk = int(beneficiary_id)
    except (TypeError, ValueError):
        return None
    scope = Beneficiary.objects.filter(organisation_id__in=mediator_organisation_ids(actor))
    target = scope.filter(pk=pk).values_list("merged_into_id", flat=True).first()
    seen = {pk}
    while target is not None and target not in seen:
        pk = target
        seen.add(pk)
        target = scope.filter(pk=pk).values_list("merged_into_id", flat=True).first()
    return pk if len(seen) > 1 else None


def _phones(records: list[Beneficiary]) -> set[str]:
    return {record.phone for record in records if record.phone}


def _bookings_by_phone(organisation, phones: set[str], kind: str) -> QuerySet[Booking]:
    """The bookings of the structure's resources of `kind` made with one of `phones`."""
    if not phones:
        return Booking.objects.none()
    return (
        Booking.objects.filter(
            allocations__resource__organisation=organisation,
            allocations__resource__kind=kind,
        )
        .filter(Q(person_phone__in=phones) | Q(user__phone__in=phones))
        .select_related("user", "place")
        .distinct()
    )


@dataclass(frozen=True)
class WorkshopAttendance:
    """A workshop session the person registered for (`booking`) or came to without
    registering (`walk_in`)."""

    session: WorkshopSession
    booking: Booking | None = None
    walk_in: WorkshopWalkIn | None = None

    @property
    def status_label(self) -> str:
        if self.walk_in is not None:
            return _("Venue sans inscription")
        return str(self.booking.get_status_display())

    @property
    def name(self) -> str:
        return self.walk_in.person_name if self.walk_in else self.booking.display_name

    @property
    def phone(self) -> str:
        if self.walk_in:
            return self.walk_in.person_phone
        return _booking_phone(self.booking)


def _workshops(person: Beneficiary, records: list[Beneficiary]) -> list[WorkshopAttendance]:
    rows = [
        WorkshopAttendance(session=walk_in.session, walk_in=walk_in)
        for walk_in in WorkshopWalkIn.objects.filter(beneficiary__in=records).select_related(
            "session__place__commune"
        )
    ]
    bookings = list(
        _bookings_by_phone(person.organisation, _phones(records), Resource.Kind.WORKSHOP)
    )
    if bookings:
        # A registration is a booking of the session's seats at its hours (services.workshops).
        resources = dict(
            Allocation.objects.filter(
                booking__in=bookings, resource__kind=Resource.Kind.WORKSHOP
            ).values_list("booking_id", "resource_id")
        )
        sessions = {
            (session.resource_id, session.start, session.end): session
            for session in WorkshopSession.objects.filter(
                organisation=person.organisation, resource_id__in=set(resources.values())
            ).select_related("place__commune")
        }
        for booking in bookings:
            session = sessions.get((resources.get(booking.pk), booking.start, booking.end))
            if session is not None:
                rows.append(WorkshopAttendance(session=session, booking=booking))
    return sorted(rows, key=lambda row: (row.session.start, row.session.pk), reverse=True)


@dataclass
class BeneficiarySheet:
    person: Beneficiary
    merged: list[Beneficiary]
    activities: list[Activity]
    total_minutes: int
    mandates: list[Mandate]
    workshops: list[WorkshopAttendance]
    appointments: list[Booking] = field(default_factory=list)

    @property
    def records(self) -> list[Beneficiary]:
        return [self.person, *self.merged]


def beneficiary_sheet(
    *, actor, beneficiary_id, with_journal: bool = False
) -> BeneficiarySheet | None:
    """One person of the actor's structures with their reports (newest first, each with
    `theme_labels`), their mandates (areas; with `with_journal`, the journal of uses) including
    those given on records merged into theirs, and their workshops. None when the actor may
    not see the record, or it was merged."""
    person = beneficiary_get(actor=actor, pk=beneficiary_id)
    if person is None:
        return None
    person = Beneficiary.objects.select_related("commune", "organisation", "created_by").get(
        pk=person.pk
    )
    merged = merged_records(person)
    records = [person, *merged]
    activities = list(person.activities.select_related("place", "commune").order_by("-day", "-pk"))
    for activity in activities:
        activity.theme_labels = [str(THEMES.get(code, code)) for code in activity.themes]
    mandates = Mandate.objects.filter(
        beneficiary__in=records, organisation=person.organisation
    ).select_related("beneficiary")
    mandates = mandates.prefetch_related("areas__revoked_by", *(["uses"] if with_journal else []))
    return BeneficiarySheet(
        person=person,
        merged=merged,
        activities=activities,
        total_minutes=sum(activity.duration_minutes for activity in activities),
        mandates=list(mandates.order_by("-starts_on", "-pk")),
        workshops=_workshops(person, records),
    )


# --- Right of access ------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _record(record: Beneficiary) -> dict:
    return {
        "id": record.pk,
        "is_anonymous": record.is_anonymous,
        "first_name": record.first_name,
        "phone": record.phone,
        "has_no_phone": record.has_no_phone,
        "birth_year": record.birth_year,
        "age_band": record.age_band,
        "age_band_label": str(record.get_age_band_display()),
        "gender": record.gender,
        "gender_label": str(record.get_gender_display()),
        "status": record.status,
        "status_label": str(record.get_status_display()),
        "commune": (
            {"insee_code": record.commune.insee_code, "name": record.commune.name}
            if record.commune_id
            else None
        ),
        "consent_at": _iso(record.consent_at),
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
    }


def _activity(activity: Activity) -> dict:
    return {
        "day": _iso(activity.day),
        "kind": activity.kind,
        "kind_label": str(activity.get_kind_display()),
        "duration_minutes": activity.duration_minutes,
        "place_type": str(activity.get_place_type_display()),
        "place": activity.place.name if activity.place_id else None,
        "commune": activity.commune.name if activity.commune_id else None,
        "themes": [
            {"code": code, "label": label}
            for code, label in zip(activity.themes, activity.theme_labels, strict=True)
        ],
        "equipment": [str(EQUIPMENT.get(code, code)) for code in activity.equipment],
        "autonomy": str(activity.get_autonomy_display()) if activity.autonomy else None,
        "redirected_to": (
            str(REDIRECTIONS.get(activity.redirected_to, activity.redirected_to))
            if activity.redirected_to
            else None
        ),
        "workshop_title": activity.title or None,
    }


def _mandate(mandate: Mandate, today) -> dict:
    return {
        "reference": mandate.reference,
        "record_id": mandate.beneficiary_id,
        "duration": str(mandate.get_duration_display()),
        "starts_on": _iso(mandate.starts_on),
        "ends_on": _iso(mandate.ends_on),
        "status": mandate.status_on(today),
        "status_label": str(Mandate.Status(mandate.status_on(today)).label),
        "consent": {
            "method": str(mandate.get_consent_method_display()),
            "recorded_at": _iso(mandate.consent_recorded_at),
            "note": mandate.consent_note,
            "signed_scan_kept": bool(mandate.consent_file),
        },
        "attestation_hash": mandate.attestation_hash,
        "areas": [
            {
                "code": area.area,
                "label": str(area.get_area_display()),
                "revoked_at": _iso(area.revoked_at),
            }
            for area in mandate.areas.all()
        ],
        "uses": [
            {
                "at": _iso(use.at),
                "area": str(use.get_area_display()),
                "procedure": use.procedure,
                "by": use.used_by_repr,
            }
            for use in mandate.uses.all()
        ],
    }


def _booking_phone(booking: Booking) -> str:
    return booking.person_phone or (booking.user.phone if booking.user_id else "")


def _booking(booking: Booking) -> dict:
    return {
        "reference": booking.reference,
        "start": _iso(booking.start),
        "end": _iso(booking.end),
        "status": str(booking.get_status_display()),
        "name": booking.display_name,
        "phone": _booking_phone(booking),
        "place": booking.place.name if booking.place_id else None,
        "address": booking.location or None,
        "notes": booking.notes or None,
    }


# What the history of a record says to the person, for the actions written about records.
_HISTORY_LABELS = {
    "mediation.beneficiary_create": gettext_lazy("Fiche créée"),
    "mediation.beneficiary_update": gettext_lazy("Fiche modifiée"),
    "mediation.beneficiary_merge": gettext_lazy("Fiche en double fusionnée"),
    "mediation.beneficiary_view": gettext_lazy("Fiche consultée"),
    "mediation.beneficiary_export": gettext_lazy("Données communiquées"),
    "mediation.beneficiary_erase": gettext_lazy("Données effacées"),
}


@dataclass(frozen=True)
class HistoryRow:
    at: object
    action: str

    @property
    def label(self) -> str:
        return str(_HISTORY_LABELS.get(self.action, self.action))


@dataclass
class BeneficiaryAccess:
    """What the right of access shows: the sheet (with the mandates' journals), the
    appointments booked with the person's phone numbers, the history of the records."""

    sheet: BeneficiarySheet
    appointments: list[Booking]
    history: list[HistoryRow]


def beneficiary_access(*, actor, beneficiary_id) -> BeneficiaryAccess | None:
    """Everything the structure holds about the person (right of access): their record and
    the records merged into it, reports, mandates (areas, revocations, consent, journal of
    uses), workshops, appointments booked with their phone numbers, and the history of the
    records (dates and actions only: who acted is the staff's data). None when the actor may
    not see the record."""
    sheet = beneficiary_sheet(actor=actor, beneficiary_id=beneficiary_id, with_journal=True)
    if sheet is None:
        return None
    appointments = _bookings_by_phone(
        sheet.person.organisation, _phones(sheet.records), Resource.Kind.PERSON
    ).order_by("start", "pk")
    history = [
        HistoryRow(at=at, action=action)
        for at, action in AuditLog.objects.filter(
            target_type=Beneficiary._meta.label_lower,
            target_id__in=[str(record.pk) for record in sheet.records],
        )
        .order_by("created_at", "pk")
        .values_list("created_at", "action")
    ]
    return BeneficiaryAccess(sheet=sheet, appointments=list(appointments), history=history)


def beneficiary_export(access: BeneficiaryAccess) -> dict:
    """`access` ready for JSON."""
    sheet, today = access.sheet, timezone.localdate()
    return {
        "generated_at": _iso(timezone.now()),
        "structure": sheet.person.organisation.name,
        "person": _record(sheet.person),
        "merged_records": [_record(record) for record in sheet.merged],
        "activities": [_activity(activity) for activity in sheet.activities],
        "mandates": [_mandate(mandate, today) for mandate in sheet.mandates],
        "workshops": [
            {
                "title": row.session.title,
                "start": _iso(row.session.start),
                "place": row.session.place.name,
                "how": "walk_in" if row.walk_in else "registration",
                "status": row.status_label,
                "name": row.name,
                "phone": row.phone,
            }
            for row in sheet.workshops
        ],
        "appointments": [_booking(booking) for booking in access.appointments],
        "history": [
            {"date": _iso(row.at), "action": row.action, "label": row.label}
            for row in access.history
        ],
    }
