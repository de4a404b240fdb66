"""Setting up the network: sites (with their bookable cart or room), practitioners and
assisting professionals (with their bookable agendas). Staff of the Département do this; the
bookable resources are created here so that nobody has to know the booking engine's models.

Nobody is made a member of an organisation here: a coordinator, an assisting professional or a
practitioner books, cancels and closes teleconsultations because telehealth vouches for them
inside its own flow (booking_guard.vouch_inside_flow), never as agents of the organisation
running the site or employing the doctor, whose other bookings are none of their business."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Resource
from cybercantal.core.audit import audit_log
from cybercantal.core.geo import road_km
from cybercantal.territory.models import Organisation, Place

from ..models import (
    AssistantKind,
    AssistingProfessional,
    DeviceKind,
    Equipment,
    Practitioner,
    ReferenceHospital,
    Site,
    Specialty,
)
from ..perms import is_telehealth_staff
from ..selectors.cancellations import planned_consultations_count

# Average speed on the Cantal's roads to the hospital, for the travel time when none is given.
DEFAULT_ROAD_SPEED_KMH = 60


def _require_staff(actor) -> None:
    if not is_telehealth_staff(actor):
        raise BookingForbidden(_("Réservé à l'équipe télémédecine du Département."))


def default_hospital() -> ReferenceHospital | None:
    return ReferenceHospital.objects.filter(is_default=True).first()


def distance_to_hospital(place: Place, hospital: ReferenceHospital) -> Decimal:
    km = road_km(place.latitude, place.longitude, hospital.latitude, hospital.longitude)
    return Decimal(str(round(km, 1)))


def _hospital_trip(place: Place, *, hospital, distance_km, travel_minutes):
    """The reference hospital (the default one when none is chosen), the road distance to it
    (estimated from coordinates when not given) and the travel time (from the distance at
    DEFAULT_ROAD_SPEED_KMH when not given), checked."""
    hospital = hospital or default_hospital()
    if distance_km is None:
        if hospital is None:
            raise BookingRuleError(_("Indiquez la distance à l'hôpital de référence."))
        distance_km = distance_to_hospital(place, hospital)
    if distance_km < 0:
        raise BookingRuleError(_("La distance ne peut pas être négative."))
    if travel_minutes is None:
        travel_minutes = round(float(distance_km) / DEFAULT_ROAD_SPEED_KMH * 60)
    if travel_minutes < 0:
        raise BookingRuleError(_("La durée du trajet ne peut pas être négative."))
    return hospital, distance_km, travel_minutes


def _agenda(**fields) -> Resource:
    """A bookable resource of telehealth: booked by the quarter hour, up to six months ahead,
    at short notice, with no reminder of the engine's own (the site calls the patient)."""
    return Resource.objects.create(
        capacity=1,
        slot_minutes=15,
        min_duration_minutes=15,
        max_duration_minutes=120,
        min_notice_minutes=0,
        horizon_days=180,
        cancellation_deadline_hours=0,
        reminder_hours_before=0,
        **fields,
    )


def site_create(
    *,
    actor,
    place: Place,
    kind: str,
    hospital: ReferenceHospital | None = None,
    distance_km: Decimal | None = None,
    travel_minutes: int | None = None,
    connection: str = "",
    coordinators=(),
    opened_on=None,
) -> Site:
    _require_staff(actor)
    _clean_site_fields(kind=kind, connection=connection)
    if place.organisation_id is None:
        raise BookingRuleError(_("Le lieu doit avoir une structure gestionnaire."))
    if Site.objects.filter(place=place).exists():
        raise BookingRuleError(_("Ce lieu est déjà un site de téléconsultation."))
    hospital, distance_km, travel_minutes = _hospital_trip(
        place, hospital=hospital, distance_km=distance_km, travel_minutes=travel_minutes
    )
    with transaction.atomic():
        resource = _agenda(
            name=_("Téléconsultation — %(place)s") % {"place": place.name},
            kind=Resource.Kind.CABIN,
            place=place,
            organisation=place.organisation,
            bookable_by=Resource.BookableBy.AGENTS,
        )
        site = Site.objects.create(
            place=place,
            kind=kind,
            resource=resource,
            reference_hospital=hospital,
            hospital_distance_km=distance_km,
            hospital_travel_minutes=travel_minutes,
            connection=connection,
            opened_on=opened_on,
        )
        for user in coordinators:
            site_add_coordinator(actor=actor, site=site, user=user)
        audit_log(actor=actor, action="telehealth.site_create", target=site)
    return site


def site_add_coordinator(*, actor, site: Site, user) -> None:
    """A coordinator runs the site's sessions (perms.may_book_at, may_run_session); nothing
    else: no membership of the organisation running the site."""
    _require_staff(actor)
    site.coordinators.add(user)


def practitioner_create(
    *, actor, user, kind: str, rpps: str, specialties, organisation: Organisation
) -> Practitioner:
    """A practitioner and their agenda (a PERSON resource without place: their slots are
    offered to every site). `organisation`: the hospital or practice they consult for."""
    _require_staff(actor)
    if kind not in Practitioner.Kind.values:
        raise BookingRuleError(_("Exercice inconnu."))
    rpps = (rpps or "").strip()
    if not (len(rpps) == 11 and rpps.isdigit()):
        raise BookingRuleError(_("Le numéro RPPS compte 11 chiffres."))
    if Practitioner.objects.filter(rpps=rpps).exists():
        raise BookingRuleError(_("Ce numéro RPPS est déjà enregistré."))
    specialties = list(specialties)
    if not specialties or not all(isinstance(s, Specialty) for s in specialties):
        raise BookingRuleError(_("Choisissez au moins une spécialité."))
    with transaction.atomic():
        resource = _agenda(
            name=_("Dr %(name)s") % {"name": user.get_full_name() or user.get_username()},
            kind=Resource.Kind.PERSON,
            place=None,
            organisation=organisation,
            person=user,
            bookable_by=Resource.BookableBy.ANYONE,  # guarded: only through telehealth
        )
        practitioner = Practitioner.objects.create(
            user=user, kind=kind, rpps=rpps, resource=resource
        )
        practitioner.specialties.set(specialties)
        audit_log(actor=actor, action="telehealth.practitioner_create", target=practitioner)
    return practitioner


def assistant_create(*, actor, user, kind: str, sites) -> AssistingProfessional:
    """An assisting professional and their agenda, attached to one or more sites."""
    _require_staff(actor)
    sites = list(sites)
    if kind not in AssistantKind.values:
        raise BookingRuleError(_("Profession inconnue."))
    if not sites:
        raise BookingRuleError(_("Choisissez au moins un site."))
    with transaction.atomic():
        resource = _agenda(
            name=user.get_full_name() or user.get_username(),
            kind=Resource.Kind.PERSON,
            place=sites[0].place,
            organisation=sites[0].place.organisation,
            person=user,
            bookable_by=Resource.BookableBy.ANYONE,  # guarded: only through telehealth
        )
        assistant = AssistingProfessional.objects.create(user=user, kind=kind, resource=resource)
        assistant.sites.set(sites)
        audit_log(actor=actor, action="telehealth.assistant_create", target=assistant)
    return assistant


# --- Editing the network (the set-up pages, views/network.py) ------------------------------------

# A specialty's default duration is booked on the resources made above: 15-minute slots, from
# 15 minutes to 2 hours.
SPECIALTY_MIN_MINUTES = 15
SPECIALTY_MAX_MINUTES = 120
SPECIALTY_STEP_MINUTES = 15


def _refuse_while_planned(*, site: Site | None = None, practitioner=None) -> None:
    """Out of service with sessions still planned would leave them booked and waited for:
    they are cancelled first (« Annuler des séances »), and the patients called."""
    count = planned_consultations_count(
        site=site, practitioner=practitioner, from_day=timezone.localdate()
    )
    if not count:
        return
    where = _("sur ce site") if site is not None else _("pour ce médecin")
    raise BookingRuleError(
        ngettext(
            "%(count)d téléconsultation est encore prévue %(where)s : annulez-la d'abord "
            "(« Annuler des séances »), puis mettez hors service.",
            "%(count)d téléconsultations sont encore prévues %(where)s : annulez-les d'abord "
            "(« Annuler des séances »), puis mettez hors service.",
            count,
        )
        % {"count": count, "where": where}
    )


def _closing_day(*, is_active: bool, opened_on, closed_on):
    """The last day in service asked for, checked: none for a site in service, never in the
    future nor before the opening."""
    if is_active or closed_on is None:
        return None
    if closed_on > timezone.localdate():
        raise BookingRuleError(
            _(
                "Le dernier jour en service ne peut pas être dans le futur : mettez le site hors "
                "service le jour venu."
            )
        )
    if opened_on is not None and closed_on < opened_on:
        raise BookingRuleError(
            _("Le dernier jour en service ne peut pas précéder la mise en service.")
        )
    return closed_on


def _clean_site_fields(*, kind: str, connection: str) -> None:
    if kind not in Site.Kind.values:
        raise BookingRuleError(_("Type de site inconnu."))
    if connection and connection not in Site.Connection.values:
        raise BookingRuleError(_("Type de raccordement inconnu."))


def site_remove_coordinator(*, actor, site: Site, user) -> None:
    """Taken off the site, the person loses what coordinating gave (perms): nothing else to
    undo, no membership having been given."""
    _require_staff(actor)
    site.coordinators.remove(user)


def site_update(
    *,
    actor,
    site: Site,
    kind: str,
    hospital: ReferenceHospital | None = None,
    distance_km: Decimal | None = None,
    travel_minutes: int | None = None,
    connection: str = "",
    coordinators=(),
    opened_on=None,
    is_active: bool = True,
    closed_on=None,
) -> Site:
    """Change a site's description (not its place: the bookable cart belongs to it). An
    empty distance is estimated from the coordinates (distance_to_hospital), an empty travel
    time from the distance; `coordinators` is the full list (those left out are removed).
    Taking a site out of service keeps its last day in service (`closed_on`, today when not
    given) so that the economics of the months it served stay as they were; putting it back
    in service clears it."""
    _require_staff(actor)
    _clean_site_fields(kind=kind, connection=connection)
    closed_on = _closing_day(is_active=is_active, opened_on=opened_on, closed_on=closed_on)
    if not is_active:
        _refuse_while_planned(site=site)
    hospital, distance_km, travel_minutes = _hospital_trip(
        site.place, hospital=hospital, distance_km=distance_km, travel_minutes=travel_minutes
    )
    wanted = {user.pk: user for user in coordinators}
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        before = {
            "kind": site.kind,
            "reference_hospital": site.reference_hospital_id,
            "hospital_distance_km": str(site.hospital_distance_km),
            "connection": site.connection,
            "is_active": site.is_active,
            "closed_on": site.closed_on.isoformat() if site.closed_on else None,
        }
        if not is_active and not site.is_active and closed_on is None:
            closed_on = site.closed_on  # still out of service: the day it left stays
        site.kind = kind
        site.reference_hospital = hospital
        site.hospital_distance_km = distance_km
        site.hospital_travel_minutes = travel_minutes
        site.connection = connection
        site.opened_on = opened_on
        site.is_active = is_active
        site.closed_on = None if is_active else (closed_on or timezone.localdate())
        site.save()
        current = {user.pk: user for user in site.coordinators.all()}
        for pk, user in current.items():
            if pk not in wanted:
                site_remove_coordinator(actor=actor, site=site, user=user)
        for pk, user in wanted.items():
            if pk not in current:
                site_add_coordinator(actor=actor, site=site, user=user)
        audit_log(
            actor=actor,
            action="telehealth.site_update",
            target=site,
            data={
                "before": before,
                "coordinators_added": sorted(set(wanted) - set(current)),
                "coordinators_removed": sorted(set(current) - set(wanted)),
            },
        )
    return site


def equipment_add(
    *, actor, site: Site, kind: str, model_name: str = "", serial_number: str = ""
) -> Equipment:
    """A device on a site (staff only), in working order."""
    _require_staff(actor)
    if kind not in DeviceKind.values:
        raise BookingRuleError(_("Appareil inconnu."))
    model_name = " ".join((model_name or "").split())[:120]
    serial_number = (serial_number or "").strip()[:60]
    with transaction.atomic():
        equipment = Equipment.objects.create(
            site=site, kind=kind, model_name=model_name, serial_number=serial_number
        )
        audit_log(actor=actor, action="telehealth.equipment_add", target=equipment)
    return equipment


def may_set_equipment_state(actor, equipment: Equipment) -> bool:
    """Staff, and the coordinators of the device's site (they see a device fail first)."""
    return is_telehealth_staff(actor) or (
        getattr(actor, "is_authenticated", False)
        and equipment.site.coordinators.filter(pk=actor.pk).exists()
    )


def equipment_set_in_service(*, actor, equipment: Equipment, in_service: bool) -> Equipment:
    """Mark a device out of order or back in service. While it is out of order, the
    specialties that need it are not booked on its site (services.consultations)."""
    if not may_set_equipment_state(actor, equipment):
        raise BookingForbidden(_("Vous ne pouvez pas modifier les appareils de ce site."))
    with transaction.atomic():
        changed = Equipment.objects.filter(pk=equipment.pk).exclude(in_service=in_service)
        if changed.update(in_service=in_service):
            audit_log(
                actor=actor,
                action="telehealth.equipment_set_in_service",
                target=equipment,
                data={"in_service": in_service},
            )
    equipment.refresh_from_db()
    return equipment


def specialty_save(
    *,
    actor,
    code: str,
    label: str,
    required_devices,
    required_assistant: str = "",
    default_duration_minutes: int = 30,
    specialty: Specialty | None = None,
) -> Specialty:
    """Create a specialty (`specialty` None) or change one, with its protocol: the devices
    that must be in working order on the site and the assisting professional required."""
    _require_staff(actor)
    code = (code or "").strip().lower()
    label = " ".join((label or "").split())
    if not label:
        raise BookingRuleError(_("Indiquez le nom de la spécialité."))
    if not code or not all(c.isalnum() or c in "-_" for c in code) or not code.isascii():
        raise BookingRuleError(
            _("Le code ne contient que des lettres sans accent, des chiffres et des tirets.")
        )
    devices = list(dict.fromkeys(required_devices or ()))
    unknown = [d for d in devices if d not in DeviceKind.values]
    if unknown:
        raise BookingRuleError(_("Appareil inconnu : %(codes)s.") % {"codes": ", ".join(unknown)})
    if required_assistant and required_assistant not in AssistantKind.values:
        raise BookingRuleError(_("Profession inconnue."))
    minutes = int(default_duration_minutes)
    if not (
        SPECIALTY_MIN_MINUTES <= minutes <= SPECIALTY_MAX_MINUTES
        and minutes % SPECIALTY_STEP_MINUTES == 0
    ):
        raise BookingRuleError(
            _("La durée est un multiple de 15 minutes, de 15 minutes à 2 heures.")
        )
    duplicate = Specialty.objects.filter(code=code)
    if specialty is not None:
        duplicate = duplicate.exclude(pk=specialty.pk)
    if duplicate.exists():
        raise BookingRuleError(_("Une autre spécialité porte déjà ce code."))
    with transaction.atomic():
        specialty = specialty or Specialty()
        created = specialty.pk is None
        specialty.code = code
        specialty.label = label[:120]
        specialty.required_devices = devices
        specialty.required_assistant = required_assistant or ""
        specialty.default_duration_minutes = minutes
        specialty.save()
        audit_log(
            actor=actor,
            action="telehealth.specialty_create" if created else "telehealth.specialty_update",
            target=specialty,
            data={"required_devices": devices, "required_assistant": required_assistant or ""},
        )
    return specialty


def practitioner_update(
    *, actor, practitioner: Practitioner, kind: str, specialties, is_active: bool = True
) -> Practitioner:
    """Change a practitioner's exercise, specialties, or take them off the network
    (inactive: no new booking; their past consultations stay)."""
    _require_staff(actor)
    if kind not in Practitioner.Kind.values:
        raise BookingRuleError(_("Exercice inconnu."))
    specialties = list(specialties)
    if not specialties or not all(isinstance(s, Specialty) for s in specialties):
        raise BookingRuleError(_("Choisissez au moins une spécialité."))
    if not is_active:
        _refuse_while_planned(practitioner=practitioner)
    with transaction.atomic():
        practitioner.kind = kind
        practitioner.is_active = is_active
        practitioner.save(update_fields=["kind", "is_active", "updated_at"])
        practitioner.specialties.set(specialties)
        audit_log(
            actor=actor,
            action="telehealth.practitioner_update",
            target=practitioner,
            data={"specialties": sorted(s.pk for s in specialties), "is_active": is_active},
        )
    return practitioner


def assistant_update(
    *, actor, assistant: AssistingProfessional, kind: str, sites, is_active: bool = True
) -> AssistingProfessional:
    """Change an assisting professional's profession and sites: their rights follow the sites
    (perms), with no membership of the sites' organisations to add or take back."""
    _require_staff(actor)
    sites = list(sites)
    if kind not in AssistantKind.values:
        raise BookingRuleError(_("Profession inconnue."))
    if not sites:
        raise BookingRuleError(_("Choisissez au moins un site."))
    with transaction.atomic():
        assistant.kind = kind
        assistant.is_active = is_active
        assistant.save(update_fields=["kind", "is_active", "updated_at"])
        assistant.sites.set(sites)
        audit_log(
            actor=actor,
            action="telehealth.assistant_update",
            target=assistant,
            data={"sites": sorted(s.pk for s in sites), "is_active": is_active},
        )
    return assistant


def hospital_save(
    *,
    actor,
    name: str,
    latitude: float,
    longitude: float,
    is_default: bool = False,
    hospital: ReferenceHospital | None = None,
) -> ReferenceHospital:
    """Create or change a reference hospital. Making it the default takes the mark from the
    previous default (one default at most, a database constraint). The distances of existing
    sites are not recomputed: each may have been corrected by hand."""
    _require_staff(actor)
    name = " ".join((name or "").split())
    if not name:
        raise BookingRuleError(_("Indiquez le nom de l'hôpital."))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BookingRuleError(_("Coordonnées impossibles : vérifiez la latitude et la longitude."))
    duplicate = ReferenceHospital.objects.filter(name__iexact=name)
    if hospital is not None:
        duplicate = duplicate.exclude(pk=hospital.pk)
    if duplicate.exists():
        raise BookingRuleError(_("Un hôpital de référence porte déjà ce nom."))
    with transaction.atomic():
        if is_default:
            others = ReferenceHospital.objects.filter(is_default=True)
            if hospital is not None:
                others = others.exclude(pk=hospital.pk)
            others.update(is_default=False)
        hospital = hospital or ReferenceHospital()
        created = hospital.pk is None
        hospital.name = name[:200]
        hospital.latitude = latitude
        hospital.longitude = longitude
        hospital.is_default = is_default
        hospital.save()
        audit_log(
            actor=actor,
            action="telehealth.hospital_create" if created else "telehealth.hospital_update",
            target=hospital,
        )
    return hospital
