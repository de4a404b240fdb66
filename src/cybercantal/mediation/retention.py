"""Retention of the personal data of digital mediation (docs/decisions/0005-mediation.md,
"Retention"). Run daily by `tasks.retention_apply_task`; each function is idempotent (a second
run finds nothing left to erase), works in a few bulk queries, and returns how many records it
changed.

What is erased, and when (periods to be validated by the data protection officer):
- a beneficiary's identifying fields (first name, phone, birth year) 24 months after their last
  activity report (or the record's creation, without any report), and never while one of their
  mandates is kept: the record itself stays, with what the statistics count (structure, age
  band, gender, status, commune, named or anonymous, its links to the reports), so that the
  dashboards and indicators give the same figures before and after;
- a home visit's address 30 days after the visit (the address is also erased from the
  booking's notes and meeting place); the commune and its reference point stay;
- the name and phone of a workshop walk-in 90 days after the session (the row stays: it is
  counted among those present);
- a mandate's consent note, signed scan and the scan's hash 6 years after the mandate's end
  (the period Aidants Connect advises, that of the prescription of criminal liability). The
  mandate is archived: `archived_at` and a seal over what stays (reference, structure, dates,
  attestation hash) let the public check still recognise its attestation and answer
  "archived" instead of "no match" once the person's first name is gone. The mandate, its
  areas and the journal of its uses stay: the journal is append-only (database triggers refuse
  UPDATE and DELETE) and holds no identity of the person itself — its procedures, areas, dates
  and mediators point to the mandate, whose beneficiary is then erased by the first rule.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Replace
from django.utils import timezone

from cybercantal.booking.models import Booking
from cybercantal.core.audit import audit_log

from .models import Beneficiary, HomeVisit, Mandate, WorkshopWalkIn
from .services.mandates import mandate_archive_seal, mandate_hash

logger = logging.getLogger(__name__)

BENEFICIARY_INACTIVE_YEARS = 2
HOME_VISIT_ADDRESS_DAYS = 30
WALK_IN_DAYS = 90
MANDATE_YEARS_AFTER_END = 6
# The paper-consent constraint wants a scan's name: an erased scan leaves this one.
ERASED_SCAN = "mediation/mandats/efface"
ERASED_ADDRESS = "adresse effacée"


@dataclass(frozen=True)
class RetentionReport:
    beneficiaries: int = 0
    home_visits: int = 0
    walk_ins: int = 0
    mandates: int = 0
    scans_deleted: int = 0

    @property
    def total(self) -> int:
        return self.beneficiaries + self.home_visits + self.walk_ins + self.mandates


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year - years, day=28)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _age_band(birth_year: int, year: int) -> str:
    age = year - birth_year
    bands = Beneficiary.AgeBand
    if age < 18:
        return bands.UNDER_18
    if age < 35:
        return bands.FROM_18
    if age < 60:
        return bands.FROM_35
    if age < 70:
        return bands.FROM_60
    return bands.FROM_70


def beneficiaries_erase_inactive(*, now: dt.datetime | None = None) -> int:
    """Erase the first name, phone and birth year of the beneficiaries without any report for
    BENEFICIARY_INACTIVE_YEARS (created before then) and without a mandate ended less than
    MANDATE_YEARS_AFTER_END ago; return how many. A birth year becomes the age band (at the
    last report) when none was noted, so that the age statistics lose nothing."""
    today = timezone.localdate(now or timezone.now())
    cutoff = _years_before(today, BENEFICIARY_INACTIVE_YEARS)
    mandate_cutoff = _years_before(today, MANDATE_YEARS_AFTER_END)
    due = (
        Beneficiary.objects.filter(created_at__lt=_local_midnight(cutoff))
        .filter(~Q(first_name="") | ~Q(phone="") | Q(birth_year__isnull=False))
        .exclude(activities__day__gte=cutoff)
        .exclude(mandates__ends_on__gte=mandate_cutoff)
    )
    with transaction.atomic():
        ids = list(due.values_list("pk", flat=True))
        if not ids:
            return 0
        # The age band from the birth year, where none was noted: a few updates, one per band.
        bands: dict[str, list[int]] = {}
        for pk, birth_year, created_at, last_day in (
            Beneficiary.objects.filter(
                pk__in=ids, birth_year__isnull=False, age_band=Beneficiary.AgeBand.UNKNOWN
            )
            .annotate(last_day=Max("activities__day"))
            .values_list("pk", "birth_year", "created_at", "last_day")
        ):
            year = last_day.year if last_day else timezone.localtime(created_at).year
            bands.setdefault(_age_band(birth_year, year), []).append(pk)
        for band, pks in bands.items():
            Beneficiary.objects.filter(pk__in=pks).update(age_band=band)
        return Beneficiary.objects.filter(pk__in=ids).update(
            first_name="", phone="", birth_year=None, updated_at=timezone.now()
        )


def home_visit_addresses_erase(*, now: dt.datetime | None = None) -> int:
    """Erase the address of the home visits that ended HOME_VISIT_ADDRESS_DAYS ago or more,
    from the visit and from its booking (notes, meeting place); return how many visits."""
    now = now or timezone.now()
    due = HomeVisit.objects.filter(
        booking__end__lt=now - dt.timedelta(days=HOME_VISIT_ADDRESS_DAYS)
    ).exclude(address="")
    with transaction.atomic():
        ids = list(due.values_list("pk", flat=True))
        if not ids:
            return 0
        address = HomeVisit.objects.filter(booking=OuterRef("pk")).values("address")[:1]
        Booking.objects.filter(home_visit__in=ids).update(
            notes=Replace("notes", Subquery(address), Value(ERASED_ADDRESS)),
            location="",
        )
        return HomeVisit.objects.filter(pk__in=ids).update(address="", updated_at=now)


def walk_ins_erase(*, now: dt.datetime | None = None) -> int:
    """Erase the name and phone of the walk-ins of the sessions ended WALK_IN_DAYS ago or
    more; return how many (the rows stay, counted among those present)."""
    now = now or timezone.now()
    due = WorkshopWalkIn.objects.filter(
        session__end__lt=now - dt.timedelta(days=WALK_IN_DAYS)
    ).filter(~Q(person_name="") | ~Q(person_phone=""))
    with transaction.atomic():
        ids = list(due.values_list("pk", flat=True))
        return WorkshopWalkIn.objects.filter(pk__in=ids).update(
            person_name="", person_phone="", updated_at=now
        )


def mandates_erase_expired(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Archive the mandates ended more than MANDATE_YEARS_AFTER_END ago: erase their consent
    note, signed scan and the scan's hash, and seal what stays; return (mandates archived, scan
    files deleted). The seal is written only for a record that still matched its attestation
    before the erasure (checked while the person's first name is still there: this rule runs
    before the beneficiaries'); a record changed behind the services' back is archived
    without one, and its attestation stops verifying. Files are deleted once the change is
    committed: a rolled-back run leaves them in place."""
    today = timezone.localdate(now or timezone.now())
    cutoff = _years_before(today, MANDATE_YEARS_AFTER_END)
    with transaction.atomic():
        mandates = list(
            Mandate.objects.select_for_update(of=("self",))
            .filter(ends_on__lt=cutoff, archived_at=None)
            .select_related("organisation", "beneficiary")
            .prefetch_related("areas")
        )
        if not mandates:
            return 0, 0
        stamp = timezone.now().replace(microsecond=0)
        files = []
        for mandate in mandates:
            intact = mandate_hash(mandate) == mandate.attestation_hash
            if not intact:
                logger.warning(
                    "Retention: mandate %s no longer matched its attestation; archived unsealed",
                    mandate.reference,
                )
            if mandate.consent_method == Mandate.ConsentMethod.PAPER_SCAN:
                if mandate.consent_file.name and mandate.consent_file.name != ERASED_SCAN:
                    files.append(mandate.consent_file.name)
                mandate.consent_file.name = ERASED_SCAN
            mandate.consent_note = ""
            mandate.consent_file_sha256 = ""
            mandate.archived_at = stamp
            mandate.archive_seal = mandate_archive_seal(mandate) if intact else ""
            mandate.updated_at = stamp
        changed = Mandate.objects.bulk_update(
            mandates,
            [
                "consent_note",
                "consent_file",
                "consent_file_sha256",
                "archived_at",
                "archive_seal",
                "updated_at",
            ],
            batch_size=500,
        )
        transaction.on_commit(lambda: _delete_files(files))
    return changed, len(files)


def _delete_files(names: list[str]) -> None:
    storage = Mandate._meta.get_field("consent_file").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # one unreadable file must not keep the others
            logger.exception("Retention: the consent scan %s was not deleted", name)


def retention_apply(*, now: dt.datetime | None = None) -> RetentionReport:
    """Apply every retention rule of digital mediation (mandates first: their end frees their
    beneficiaries); write one audit row with the counts when anything was erased."""
    now = now or timezone.now()
    mandates, scans = mandates_erase_expired(now=now)
    report = RetentionReport(
        mandates=mandates,
        scans_deleted=scans,
        beneficiaries=beneficiaries_erase_inactive(now=now),
        home_visits=home_visit_addresses_erase(now=now),
        walk_ins=walk_ins_erase(now=now),
    )
    if report.total:
        audit_log(actor=None, action="mediation.retention", data=asdict(report))
    return report
