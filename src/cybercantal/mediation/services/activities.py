"""Writes of the activity reports: recording one (individual help or a workshop session),
beneficiaries (created with the person's consent, duplicates merged). Every refusal is a French
message and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.accounts.services import phone_normalize
from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.core.audit import audit_log

from ..activity_vocabulary import EQUIPMENT, REDIRECTIONS, THEMES
from ..models import Activity, Beneficiary, WorkshopWalkIn
from ..structures import is_mediator_of


def _check_mediator(actor, organisation) -> None:
    if not is_mediator_of(actor, organisation):
        raise BookingForbidden(
            _("Seuls les médiateurs de cette structure enregistrent ses accompagnements.")
        )


def _known(values: Iterable[str], vocabulary: dict, what: str) -> list[str]:
    values = list(dict.fromkeys(values or []))
    unknown = [v for v in values if v not in vocabulary]
    if unknown:
        raise BookingRuleError(
            _("%(what)s inconnu(e) : %(value)s.") % {"what": what, "value": unknown[0][:40]}
        )
    return values


def activity_record(
    *,
    actor,
    organisation,
    kind: str,
    day: dt.date,
    duration_minutes: int,
    place_type: str,
    themes: Sequence[str],
    place=None,
    commune=None,
    equipment: Sequence[str] = (),
    autonomy: str = "",
    redirected_to: str = "",
    booking: Booking | None = None,
    title: str = "",
    level: str = "",
    participants_count: int = 1,
    beneficiaries: Sequence[Beneficiary] = (),
) -> Activity:
    """Record an activity report for `organisation` (the actor must be one of its mediators).
    A report from an appointment (`booking`) is recorded once."""
    _check_mediator(actor, organisation)
    themes = _known(themes, THEMES, _("Thématique"))
    if not themes:
        raise BookingRuleError(_("Choisissez au moins une thématique."))
    equipment = _known(equipment, EQUIPMENT, _("Matériel"))
    if redirected_to and redirected_to not in REDIRECTIONS:
        raise BookingRuleError(_("Structure d'orientation inconnue."))
    if kind not in Activity.Kind.values:
        raise BookingRuleError(_("Type d'accompagnement inconnu."))
    if place_type not in Activity.PlaceType.values:
        raise BookingRuleError(_("Type de lieu inconnu."))
    if autonomy and autonomy not in Activity.Autonomy.values:
        raise BookingRuleError(_("Niveau d'autonomie inconnu."))
    if day > timezone.localdate():
        raise BookingRuleError(_("Un accompagnement se note une fois fait, pas à l'avance."))
    if not 1 <= int(duration_minutes) <= 600:
        raise BookingRuleError(_("La durée va de 1 minute à 10 heures."))
    if place_type == Activity.PlaceType.MEDIATION_PLACE:
        if place is None:
            raise BookingRuleError(_("Indiquez le lieu de médiation."))
        commune = place.commune
    elif place_type in (Activity.PlaceType.HOME, Activity.PlaceType.OTHER) and commune is None:
        raise BookingRuleError(_("Indiquez la commune où l'accompagnement a eu lieu."))
    beneficiaries = list(beneficiaries)
    for person in beneficiaries:
        if person.organisation_id != organisation.pk or person.merged_into_id:
            raise BookingRuleError(_("Cette personne n'est pas suivie par votre structure."))
    if kind == Activity.Kind.COLLECTIVE:
        if not title.strip():
            raise BookingRuleError(_("Indiquez le titre de l'atelier."))
        if level not in Activity.Level.values:
            raise BookingRuleError(_("Indiquez le niveau de l'atelier."))
        participants_count = max(int(participants_count), len(beneficiaries))
        if participants_count < 1:
            raise BookingRuleError(_("Un atelier compte au moins un participant."))
    else:
        if len(beneficiaries) > 1:
            raise BookingRuleError(_("Un accompagnement individuel concerne une seule personne."))
        title, level, participants_count = "", "", 1
    with transaction.atomic():
        if booking is not None:
            booking = (
                Booking.objects.select_for_update()
                .filter(pk=booking.pk, allocations__resource__organisation=organisation)
                .first()
            )
            if booking is None:
                raise BookingRuleError(_("Ce rendez-vous n'est pas celui de votre structure."))
            if Activity.objects.filter(booking=booking).exists():
                raise BookingRuleError(_("Le compte rendu de ce rendez-vous est déjà fait."))
        activity = Activity.objects.create(
            organisation=organisation,
            mediator=actor,
            kind=kind,
            day=day,
            duration_minutes=int(duration_minutes),
            place_type=place_type,
            place=place,
            commune=commune,
            themes=themes,
            equipment=equipment,
            autonomy=autonomy,
            redirected_to=redirected_to,
            booking=booking,
            title=title.strip()[:200],
            level=level,
            participants_count=participants_count,
        )
        if beneficiaries:
            activity.beneficiaries.set(beneficiaries)
        audit_log(actor=actor, action="mediation.activity_record", target=activity)
    return activity


def beneficiary_create(
    *,
    actor,
    organisation,
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
    """A person followed by the structure. Named records need the person's consent; an
    anonymous one keeps nothing that identifies (first name and phone dropped)."""
    _check_mediator(actor, organisation)
    if is_anonymous:
        first_name, phone, has_no_phone = "", "", False
    elif not consent:
        raise BookingRuleError(
            _("Recueillez l'accord de la personne, ou enregistrez-la comme anonyme.")
        )
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
    with transaction.atomic():
        person = Beneficiary.objects.create(
            organisation=organisation,
            is_anonymous=is_anonymous,
            first_name=first_name.strip()[:100],
            phone=phone,
            has_no_phone=has_no_phone,
            birth_year=birth_year,
            age_band=age_band,
            gender=gender,
            status=status,
            commune=commune,
            consent_at=None if is_anonymous else timezone.now(),
            created_by=actor,
        )
        audit_log(actor=actor, action="mediation.beneficiary_create", target=person)
    return person


def beneficiary_duplicates(*, actor, person: Beneficiary) -> list[Beneficiary]:
    """Other records of the same structure that are probably the same person: the same phone
    number, or the same first name with the same birth year and commune."""
    if not is_mediator_of(actor, person.organisation) or person.is_anonymous:
        return []
    same = Q(pk__in=[])
    if person.phone:
        same |= Q(phone=person.phone)
    if person.first_name and person.birth_year:
        same |= Q(
            first_name__iexact=person.first_name,
            birth_year=person.birth_year,
            commune=person.commune,
        )
    return list(
        Beneficiary.objects.filter(same, organisation=person.organisation, merged_into=None)
        .exclude(pk=person.pk)
        .order_by("pk")
    )


# What a merge copies from the duplicate to the record kept when the kept one lacks it. The
# choice fields lack a value while "inconnu": without filling them, the dashboards would lose
# the duplicate's age band, gender or status for the reports moved over.
_MERGE_FILLED = ("first_name", "phone", "birth_year", "commune_id", "consent_at")
_MERGE_UNKNOWN_FILLED = ("age_band", "gender", "status")


def beneficiary_merged_values(keep: Beneficiary, duplicate: Beneficiary) -> dict:
    """The fields of `keep` that a merge with `duplicate` changes, with their new values
    (written by beneficiary_merge, shown before it by the confirmation page)."""
    changes = {}
    for field in _MERGE_FILLED:
        if not getattr(keep, field) and getattr(duplicate, field):
            changes[field] = getattr(duplicate, field)
    for field in _MERGE_UNKNOWN_FILLED:
        if getattr(keep, field) == "inconnu" and getattr(duplicate, field) != "inconnu":
            changes[field] = getattr(duplicate, field)
    if keep.has_no_phone and changes.get("phone"):
        changes["has_no_phone"] = False  # a number and "no phone" together are refused
    return changes


def beneficiary_merge(*, actor, keep: Beneficiary, duplicate: Beneficiary) -> Beneficiary:
    """Move the duplicate's activities and workshop walk-ins to `keep`, fill what `keep`
    lacks, and mark the duplicate merged (it is kept, pointing to `keep`, so that nothing is
    lost). The duplicate's mandates stay on it: their attestation hash covers the record they
    were given for (the kept record's sheet lists them)."""
    _check_mediator(actor, keep.organisation)
    if keep.pk == duplicate.pk or keep.organisation_id != duplicate.organisation_id:
        raise BookingRuleError(_("Ces deux fiches ne peuvent pas être fusionnées."))
    with transaction.atomic():
        keep, duplicate = (
            Beneficiary.objects.select_for_update().get(pk=keep.pk),
            Beneficiary.objects.select_for_update().get(pk=duplicate.pk),
        )
        if keep.merged_into_id or duplicate.merged_into_id:
            raise BookingRuleError(_("Une de ces fiches a déjà été fusionnée."))
        if keep.is_anonymous and not duplicate.is_anonymous:
            # Filling the anonymous record would name it without the person's consent.
            raise BookingRuleError(
                _("Gardez plutôt la fiche nominative : une fiche anonyme ne reçoit pas de prénom.")
            )
        for activity in duplicate.activities.all():
            activity.beneficiaries.remove(duplicate)
            activity.beneficiaries.add(keep)
        # A walk-in left on a merged record would drop out of its session's report
        # (workshop_close only links records that are not merged).
        walk_ins = WorkshopWalkIn.objects.filter(beneficiary=duplicate).update(beneficiary=keep)
        for field, value in beneficiary_merged_values(keep, duplicate).items():
            setattr(keep, field, value)
        keep.save()
        # Records merged earlier into the duplicate now point to the record kept: one level.
        Beneficiary.objects.filter(merged_into=duplicate).update(merged_into=keep)
        duplicate.merged_into = keep
        duplicate.save(update_fields=["merged_into", "updated_at"])
        audit_log(
            actor=actor,
            action="mediation.beneficiary_merge",
            target=keep,
            data={"merged": duplicate.pk, "walk_ins": walk_ins},
        )
    return keep


def activity_record_quick(
    *, actor, organisation, new_person: dict | None = None, **report
) -> Activity:
    """The quick entry: a new beneficiary (if `new_person`: beneficiary_create's fields) and the
    report, together or not at all."""
    with transaction.atomic():
        if new_person:
            person = beneficiary_create(actor=actor, organisation=organisation, **new_person)
            report["beneficiaries"] = [*report.get("beneficiaries", []), person]
        return activity_record(actor=actor, organisation=organisation, **report)
