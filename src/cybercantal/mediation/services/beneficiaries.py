"""Writes of a beneficiary's record after its creation (services.activities creates and merges
records): correcting it, and erasing the person's identity on request (right to erasure).
Each is one transaction, checks that the actor is a mediator of the record's structure,
writes an audit row, and refuses in French without writing anything."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.accounts.services import phone_normalize
from cybercantal.booking.errors import BookingRuleError
from cybercantal.core.audit import audit_log

from ..models import Beneficiary, Mandate, WorkshopWalkIn
from ..retention import _age_band
from ..selectors.beneficiaries import merged_records
from .activities import _check_mediator

# A mandate in force, or about to be: the person's identity must stay checkable on it.
MANDATE_KEPT = (Mandate.Status.ACTIVE, Mandate.Status.NOT_STARTED)


def _check_current(person: Beneficiary) -> None:
    if person.merged_into_id:
        raise BookingRuleError(
            _("Cette fiche a été fusionnée dans une autre : modifiez la fiche gardée.")
        )


def _clean_fields(
    *,
    is_anonymous: bool,
    first_name: str,
    phone: str,
    has_no_phone: bool,
    birth_year: int | None,
    age_band: str,
    gender: str,
    status: str,
) -> dict:
    """The same checks as beneficiary_create, with its French messages."""
    if is_anonymous:
        first_name, phone, has_no_phone = "", "", False
    if phone and has_no_phone:
        raise BookingRuleError(_("Un numéro est donné alors que « pas de téléphone » est coché."))
    try:
        phone = phone_normalize(phone)
    except ValidationError as error:
        raise BookingRuleError(error.messages[0]) from error
    this_year = timezone.localdate().year
    if birth_year is not None and not this_year - 120 <= int(birth_year) <= this_year:
        raise BookingRuleError(_("Année de naissance invalide."))
    for value, choices, what in (
        (age_band, Beneficiary.AgeBand, _("Tranche d'âge")),
        (gender, Beneficiary.Gender, _("Genre")),
        (status, Beneficiary.Status, _("Statut")),
    ):
        if value not in choices.values:
            raise BookingRuleError(_("%(what)s inconnu(e).") % {"what": what})
    return {
        "is_anonymous": is_anonymous,
        "first_name": (first_name or "").strip()[:100],
        "phone": phone,
        "has_no_phone": has_no_phone,
        "birth_year": birth_year,
        "age_band": age_band,
        "gender": gender,
        "status": status,
    }


def beneficiary_update(
    *,
    actor,
    person: Beneficiary,
    consent: bool,
    is_anonymous: bool = False,
    first_name: str = "",
    phone: str = "",
    has_no_phone: bool = False,
    birth_year: int | None = None,
    age_band: str = Beneficiary.AgeBand.UNKNOWN,
    gender: str = Beneficiary.Gender.UNKNOWN,
    status: str = Beneficiary.Status.UNKNOWN,
    commune=None,
) -> Beneficiary:
    """Correct a record with beneficiary_create's checks. A named record needs the person's
    consent, recorded before or now (`consent`: recorded again today, `consent_at` moves).
    The first name of a person who gave a mandate does not change (the attestation's hash
    covers it), nor does that record become anonymous."""
    _check_mediator(actor, person.organisation)
    _check_current(person)
    fields = _clean_fields(
        is_anonymous=is_anonymous,
        first_name=first_name,
        phone=phone,
        has_no_phone=has_no_phone,
        birth_year=birth_year,
        age_band=age_band,
        gender=gender,
        status=status,
    )
    with transaction.atomic():
        person = Beneficiary.objects.select_for_update().get(pk=person.pk)
        _check_current(person)
        if not is_anonymous and not consent and person.consent_at is None:
            raise BookingRuleError(
                _("Recueillez l'accord de la personne, ou enregistrez-la comme anonyme.")
            )
        renamed = is_anonymous or fields["first_name"] != person.first_name
        if renamed and person.mandates.exists():
            raise BookingRuleError(
                _(
                    "Cette personne a donné un mandat : son prénom figure sur l'attestation, "
                    "il ne peut plus être changé (l'attestation ne serait plus vérifiable)."
                )
            )
        if is_anonymous:
            fields["consent_at"] = None
        elif consent:
            fields["consent_at"] = timezone.now()
        fields["commune_id"] = commune.pk if commune is not None else None
        changed = [name for name, value in fields.items() if getattr(person, name) != value]
        for name, value in fields.items():
            setattr(person, name, value)
        person.save()
        # The names of the fields changed, never their values (the log outlives the record).
        audit_log(
            actor=actor,
            action="mediation.beneficiary_update",
            target=person,
            data={"changed": changed},
        )
    return person


def beneficiary_erase(*, actor, person: Beneficiary) -> Beneficiary:
    """Erase the person's identity on their request: first name, phone and birth year of the
    record and of the records merged into it, the name and phone noted for their workshop
    walk-ins; the record becomes anonymous. What the statistics count stays (structure, age
    band — computed from the birth year when none was noted —, gender, status, commune, links
    to the reports). Refused while one of their mandates is in force or about to start: the
    mandate must stay checkable against its attestation."""
    _check_mediator(actor, person.organisation)
    _check_current(person)
    with transaction.atomic():
        person = Beneficiary.objects.select_for_update().get(pk=person.pk)
        _check_current(person)
        records = [person, *merged_records(person)]
        today = timezone.localdate()
        mandates = (
            Mandate.objects.filter(beneficiary__in=records)
            .prefetch_related("areas")
            .order_by("ends_on")
        )
        kept = [mandate for mandate in mandates if mandate.status_on(today) in MANDATE_KEPT]
        if kept:
            raise BookingRuleError(
                _(
                    "Les données de cette personne ne peuvent pas être effacées tant que son "
                    "mandat %(reference)s est en cours (jusqu'au %(end)s inclus) : il doit "
                    "rester vérifiable. Révoquez-le, ou attendez sa fin, puis effacez."
                )
                % {"reference": kept[0].reference, "end": kept[0].ends_on.strftime("%d/%m/%Y")}
            )
        # The age band is that of the last report (as retention computes it).
        last_day = person.activities.aggregate(last=Max("day"))["last"]
        year = last_day.year if last_day else timezone.localtime(person.created_at).year
        for record in records:
            if record.birth_year and record.age_band == Beneficiary.AgeBand.UNKNOWN:
                record.age_band = _age_band(record.birth_year, year)
            record.first_name, record.phone, record.birth_year = "", "", None
            record.has_no_phone, record.is_anonymous, record.consent_at = False, True, None
            record.save()
        walk_ins = WorkshopWalkIn.objects.filter(beneficiary__in=records).update(
            person_name="", person_phone="", updated_at=timezone.now()
        )
        # Written after the erasure: the row's description of the record holds no name.
        audit_log(
            actor=actor,
            action="mediation.beneficiary_erase",
            target=person,
            data={"records": len(records), "walk_ins": walk_ins},
        )
    return person
