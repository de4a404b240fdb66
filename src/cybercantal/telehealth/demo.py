"""Demo data of teleconsultation: the network of demo sites and two years of its activity.

Two entry points, like mediation and coworking:

- `seed_telehealth_reference()`, the module's DemoSeeder (core.registries.demo_seeders, see
  `register()`), run by `manage.py seed_demo` with the other modules' seeders: the reference
  hospital patients would travel to (the hospital of Aurillac, unless a default one exists) and
  the specialties with their protocols. It creates no account, place or bookable resource, so
  that the core and booking demos keep their documented counts (one account per role…).
- `seed_telehealth_demo()`, run by `manage.py seed_telehealth_demo` after `seed_demo`:
  1. the network: 15 sites in real communes of the Cantal, 30 min to 1 h 30 from Aurillac —
     the five teleconsultation places of core's demo (EHPAD of Condat and Massiac, health
     centres of Pleaux and Chaudes-Aigues, the pharmacy of Allanche) and ten new ones (care
     homes, health centres, a cabin in a tiers-lieu) with fictional operators named
     "… (démo)"; their equipment (a few devices out of order), connection, and the opening
     hours of their cart — at core's five places, the cart is the cabin or room the booking
     demo put there (booking.demo.TELEHEALTH), at its hours, so that each room or cart is one
     bookable resource; twelve practitioners of Aurillac (specialists and general
     practitioners), two nurses per care home, one per health centre, one pharmacist; the
     login accounts demo-infirmiere (care-home nurse), demo-dermatologue and
     demo-coordinatrice (site coordinator), with the shared demo password; core's
     demo-infirmier becomes a nurse of the EHPAD Les Gentianes, core's demo-medecin a general
     practitioner of the Maison de santé des Monts (his agenda is the booking demo's one, for
     his centre's sessions; he asks for téléexpertises like the other general practitioners),
     and demo-agent (Département agent) sees every site as staff (telehealth.perms);
  2. once, two years of activity ending yesterday, and a few planned consultations in the
     coming two weeks, as the daily retention job (retention.py) would have left them (old
     incidents without their free-text cause, old téléexpertises without their content):
     patients per site (fictional names such as "Mme A. Demo 12", a birth year, nothing
     about their health), consultations with a monthly volume per site growing
     over time (quieter in August and at Christmas, a bad month per site), outcomes (mostly
     done; incidents with a technical cause and a fallback to audio or phone; some not held,
     some cancelled), the checklist and a connectivity test per site and session day,
     the trip to the hospital each session held or not held avoided (copied from its site, as
     closing a session does), téléexpertise requests (short, non-clinical text: "Demande
     d'avis (démo)"; those withdrawn erased, as withdrawing does) and the cost
     ledger of each site and of the network (cart, devices, licence, connection,
     coordination, maintenance, FEDER and Département grants);
  3. the acts of those sessions and requests, coded with the tariffs in force on the day
     (TCG, TLS / TLL, TLM, TE2 + RQD) within their yearly caps — only when the tariff table
     is filled, and only while no demo act exists: with an empty table nothing is coded and
     the report says so, and a later run codes them once the tariffs are there.

Speed: consultation_book writes one booking at a time with locks and checks; two years of
sessions are written with bulk_create instead, keeping what the engine guarantees
(booking/models.py): each consultation has one booking holding the site's cart, the
practitioner and, when present, the assisting professional (one allocation each, blocked
interval = booking interval since telehealth resources have no buffers, exclusive, inactive
once cancelled); no resource ever holds two active allocations at the same instant; every
session lies within the opening rules of its three resources, on a working day; each booking
carries its status transitions. No audit rows for the history (nobody did it); the network is
set up through services/network.py, by demo-agent.

Random but deterministic (a fixed seed). Idempotent: the network's rows are found by natural
key and written only when they differ; the history is written when no demo consultation
exists. The resources shared with the booking demo keep the hours and policy it gives them
(`seed_demo` then this command, run again, change nothing). Refused in production with the
rest of the demo data. A demo database seeded before sites shared the booking demo's cabins
keeps its two resources per place: recreate it (delete the SQLite file, `make demo`)."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.utils import timezone
from stdnum import luhn

from cybercantal.accounts.models import User
from cybercantal.booking import availability as av
from cybercantal.booking.demo import TELEHEALTH as BOOKING_CABINS
from cybercantal.booking.models import (
    Allocation,
    AvailabilityRule,
    Booking,
    BookingTransition,
    Resource,
)
from cybercantal.booking.rules_cache import rules_changed
from cybercantal.core.audit import audit_log
from cybercantal.core.demo import (
    CREATED,
    DEMO_PASSWORD,
    DEMO_PASSWORD_SALT,
    ORGANISATIONS,
    UNCHANGED,
    UPDATED,
    DemoError,
    DemoSeedReport,
    DemoWriter,
    Hours,
    check_demo_allowed,
    demo_offset,
    opening_periods,
    osm_opening_hours,
)
from cybercantal.territory.models import Commune, Organisation, Place, PlaceKind

from . import retention
from .models import (
    Act,
    ActTariff,
    AssistantKind,
    AssistingProfessional,
    ConnectivityTest,
    Consultation,
    CostEntry,
    DeviceKind,
    Equipment,
    ExpertiseRequest,
    Incident,
    Patient,
    Practitioner,
    ReferenceHospital,
    Site,
    Specialty,
    TransportMode,
)
from .services.connectivity import recommend

logger = logging.getLogger(__name__)

# --- Reference data ------------------------------------------------------------------------
HOSPITAL_NAME = "Centre hospitalier Henri-Mondor d'Aurillac"
# Approximate position of the hospital (avenue de la République, Aurillac), to about 500 m: it
# only feeds the road-distance estimate (core.geo.road_km), itself an approximation.
HOSPITAL_LATITUDE, HOSPITAL_LONGITUDE = 44.9277, 2.4461


@dataclass(frozen=True)
class DemoSpecialty:
    code: str
    label: str
    devices: tuple[str, ...]
    assistant: str
    minutes: int


D, NURSE, PHARMACIST = DeviceKind, AssistantKind.NURSE.value, AssistantKind.PHARMACIST.value
SPECIALTIES = [
    DemoSpecialty("dermatologie", "Dermatologie", (D.DERMATOSCOPE,), NURSE, 30),
    DemoSpecialty(
        "cardiologie", "Cardiologie", (D.STETHOSCOPE, D.ECG, D.BLOOD_PRESSURE), NURSE, 30
    ),
    DemoSpecialty("geriatrie", "Gériatrie", (D.BLOOD_PRESSURE, D.OXIMETER), NURSE, 45),
    DemoSpecialty("psychiatrie", "Psychiatrie", (), "", 45),
    DemoSpecialty("orl", "ORL", (D.OTOSCOPE,), NURSE, 30),
    DemoSpecialty("plaies-cicatrisation", "Plaies et cicatrisation", (D.CAMERA,), NURSE, 30),
    DemoSpecialty("diabetologie-endocrinologie", "Diabétologie et endocrinologie", (), NURSE, 30),
    DemoSpecialty("neurologie", "Neurologie", (), NURSE, 30),
    DemoSpecialty("medecine-generale", "Médecine générale", (), "", 30),
]


def _reference(writer: DemoWriter) -> tuple[ReferenceHospital, dict[str, Specialty]]:
    """The default hospital (the one in place if any) and the specialties (an existing one,
    perhaps edited by an administrator, is kept as it is)."""
    hospital = ReferenceHospital.objects.filter(is_default=True).first()
    if hospital is None:
        hospital = ReferenceHospital.objects.filter(name=HOSPITAL_NAME).first()
        if hospital is None:
            hospital = ReferenceHospital.objects.create(
                name=HOSPITAL_NAME,
                latitude=HOSPITAL_LATITUDE,
                longitude=HOSPITAL_LONGITUDE,
                is_default=True,
            )
            writer.tally(ReferenceHospital, CREATED)
        else:
            hospital.is_default = True
            hospital.save(update_fields=["is_default", "updated_at"])
            writer.tally(ReferenceHospital, UPDATED)
    else:
        writer.tally(ReferenceHospital, UNCHANGED)
    specialties = {}
    for spec in SPECIALTIES:
        specialty, created = Specialty.objects.get_or_create(
            code=spec.code,
            defaults={
                "label": spec.label,
                "required_devices": list(spec.devices),
                "required_assistant": spec.assistant,
                "default_duration_minutes": spec.minutes,
            },
        )
        writer.tally(Specialty, CREATED if created else UNCHANGED)
        specialties[spec.code] = specialty
    return hospital, specialties


def seed_telehealth_reference() -> DemoSeedReport:
    """The DemoSeeder of `manage.py seed_demo`: the reference hospital and the specialties."""
    writer = DemoWriter()
    _reference(writer)
    return writer.report


# --- The network ---------------------------------------------------------------------------
# Cart hours by kind of site (core.demo's format: OpenStreetMap days, intervals).
CARE_HOME_CART: Hours = (("Mo-Fr", (("09:00", "12:00"), ("14:00", "17:00"))),)
HEALTH_CENTRE_CART: Hours = (("Mo-Fr", (("08:30", "12:30"), ("13:30", "18:00"))),)
TIERS_LIEU_CABIN: Hours = (("Mo-Fr", (("08:30", "18:30"),)), ("Sa", (("09:00", "12:30"),)))

CART_DEVICES = (D.CART, D.CAMERA, D.STETHOSCOPE, D.OTOSCOPE, D.DERMATOSCOPE)
CARE_HOME_DEVICES = (*CART_DEVICES, D.BLOOD_PRESSURE, D.OXIMETER, D.ECG)
HEALTH_CENTRE_DEVICES = (*CARE_HOME_DEVICES, D.THERMOMETER)
CABIN_DEVICES = (D.CART, D.CAMERA, D.STETHOSCOPE, D.OTOSCOPE, D.OXIMETER, D.BLOOD_PRESSURE)
CABIN_DEVICES += (D.THERMOMETER,)

C = Site.Connection
# Nominal speeds (Mbit/s down, up), typical latency (ms) and the odds of an incident.
CONNECTIONS = {
    C.FIBRE: (500, 200, (12, 30), 0.035),
    C.COPPER: (15, 1, (30, 60), 0.07),
    C.RADIO: (30, 5, (35, 70), 0.06),
    C.MOBILE: (40, 8, (45, 95), 0.09),
    # Low-orbit satellite: video passes, but the link drops more often.
    C.SATELLITE: (100, 8, (35, 120), 0.13),
}
PLACE_CONNECTIVITY = {
    C.FIBRE: Place.Connectivity.FIBRE,
    C.COPPER: Place.Connectivity.VDSL,
    C.RADIO: Place.Connectivity.RADIO,
    C.MOBILE: Place.Connectivity.MOBILE,
    C.SATELLITE: Place.Connectivity.SATELLITE,
}
K = Site.Kind
# What is consulted for, by kind of site (weights); a specialty the site cannot host (device
# missing or out of order, no nurse) is left out.
SPECIALTY_MIX = {
    K.CARE_HOME: {
        "geriatrie": 24,
        "dermatologie": 20,
        "plaies-cicatrisation": 15,
        "cardiologie": 12,
        "psychiatrie": 12,
        "diabetologie-endocrinologie": 6,
        "orl": 6,
        "neurologie": 5,
    },
    K.HEALTH_CENTRE: {
        "dermatologie": 20,
        "medecine-generale": 20,
        "cardiologie": 18,
        "diabetologie-endocrinologie": 12,
        "psychiatrie": 10,
        "orl": 8,
        "neurologie": 8,
        "plaies-cicatrisation": 4,
    },
    K.PHARMACY: {"medecine-generale": 1},
    K.CABIN: {"medecine-generale": 7, "psychiatrie": 3},
}


@dataclass(frozen=True)
class DemoSite:
    place: str  # the place's name; core's own place when `organisation` is None
    insee: str
    kind: str
    connection: str
    hours: Hours
    level: int  # consultations a month at the end of the two years
    opened_months_ago: int
    devices: tuple[str, ...]
    broken: tuple[str, ...] = ()  # out of order for the last weeks
    organisation: str | None = None  # a new operator's name (kind from the site's kind)
    organisation_key: str | None = None  # or one of core's (core.demo.ORGANISATIONS)
    address: str = ""
    assistants: tuple[str, ...] = ()  # usernames, the first one on duty Monday to Wednesday
    coordinators: tuple[str, ...] = ()

    @property
    def is_new_place(self) -> bool:
        return self.organisation is not None or self.organisation_key is not None


NURSE_USER = "demo-telesante-infirmier-{:02d}"


def _booking_cabin_hours(place: str) -> Hours:
    """The hours of the cabin the booking demo put at one of core's places: the site books
    that cabin (one resource per room or cart), so its sessions keep to them."""
    return BOOKING_CABINS[place][2]


GENTIANES = "Salle de téléconsultation — EHPAD Les Gentianes (démo)"
VAL_ALAGNON = "Chariot de téléconsultation — EHPAD Le Val d'Alagnon (démo)"
MONTS = "Maison de santé des Monts (démo)"
TRUYERE = "Centre de santé de la Truyère (démo)"
CEZALLIER = "Cabine de téléconsultation — Pharmacie du Cézallier (démo)"
SITES = [
    # Core's teleconsultation places (core.demo.PLACES), with the cabin or room the booking
    # demo put there (booking.demo.TELEHEALTH): the site books it, at its hours.
    DemoSite(
        GENTIANES,
        "15054",
        K.CARE_HOME,
        C.RADIO,
        _booking_cabin_hours(GENTIANES),
        20,
        60,
        CARE_HOME_DEVICES,
        assistants=("demo-infirmier", NURSE_USER.format(1)),
    ),
    DemoSite(
        VAL_ALAGNON,
        "15119",
        K.CARE_HOME,
        C.FIBRE,
        _booking_cabin_hours(VAL_ALAGNON),
        24,
        84,
        CARE_HOME_DEVICES,
        assistants=("demo-infirmiere", NURSE_USER.format(2)),
    ),
    DemoSite(
        MONTS,
        "15153",
        K.HEALTH_CENTRE,
        C.COPPER,
        _booking_cabin_hours(MONTS),
        22,
        72,
        HEALTH_CENTRE_DEVICES,
        assistants=(NURSE_USER.format(3),),
        coordinators=("demo-coordinatrice",),
    ),
    DemoSite(
        TRUYERE,
        "15045",
        K.HEALTH_CENTRE,
        C.FIBRE,
        _booking_cabin_hours(TRUYERE),
        14,
        48,
        HEALTH_CENTRE_DEVICES,
        assistants=(NURSE_USER.format(4),),
    ),
    DemoSite(
        CEZALLIER,
        "15001",
        K.PHARMACY,
        C.RADIO,
        _booking_cabin_hours(CEZALLIER),
        12,
        14,
        CABIN_DEVICES,
        assistants=("demo-telesante-pharmacien-01",),
    ),
    # New care homes, health centres and a tiers-lieu cabin (fictional operators).
    DemoSite(
        "EHPAD de Mauriac (démo)",
        "15120",
        K.CARE_HOME,
        C.FIBRE,
        CARE_HOME_CART,
        26,
        96,
        CARE_HOME_DEVICES,
        organisation="EHPAD de Mauriac (démo)",
        address="8 rue du Collège",
        assistants=(NURSE_USER.format(5), NURSE_USER.format(6)),
    ),
    DemoSite(
        "EHPAD de Riom-ès-Montagnes (démo)",
        "15162",
        K.CARE_HOME,
        C.FIBRE,
        CARE_HOME_CART,
        18,
        66,
        CARE_HOME_DEVICES,
        organisation="EHPAD de Riom-ès-Montagnes (démo)",
        address="3 avenue de la Gare",
        assistants=(NURSE_USER.format(7), NURSE_USER.format(8)),
    ),
    DemoSite(
        "EHPAD de Murat (démo)",
        "15138",
        K.CARE_HOME,
        C.COPPER,
        CARE_HOME_CART,
        15,
        54,
        CARE_HOME_DEVICES,
        organisation="EHPAD de Murat (démo)",
        address="15 avenue du Docteur-Mallet",
        assistants=(NURSE_USER.format(9), NURSE_USER.format(10)),
    ),
    DemoSite(
        "EHPAD de Saignes (démo)",
        "15169",
        K.CARE_HOME,
        C.COPPER,
        CARE_HOME_CART,
        12,
        40,
        (D.CART, D.CAMERA, D.STETHOSCOPE, D.DERMATOSCOPE, D.BLOOD_PRESSURE, D.OXIMETER),
        organisation="EHPAD de Saignes (démo)",
        address="2 place de l'Église",
        assistants=(NURSE_USER.format(11), NURSE_USER.format(12)),
    ),
    DemoSite(
        "EHPAD de Pierrefort (démo)",
        "15152",
        K.CARE_HOME,
        C.SATELLITE,
        CARE_HOME_CART,
        10,
        36,
        CARE_HOME_DEVICES,
        broken=(D.OTOSCOPE,),
        organisation="EHPAD de Pierrefort (démo)",
        address="1 route de Saint-Flour",
        assistants=(NURSE_USER.format(13), NURSE_USER.format(14)),
    ),
    DemoSite(
        "EHPAD de Maurs (démo)",
        "15122",
        K.CARE_HOME,
        C.FIBRE,
        CARE_HOME_CART,
        17,
        60,
        CARE_HOME_DEVICES,
        broken=(D.ECG,),
        organisation="EHPAD de Maurs (démo)",
        address="6 avenue du Général-de-Gaulle",
        assistants=(NURSE_USER.format(15), NURSE_USER.format(16)),
    ),
    DemoSite(
        "Maison de santé d'Ydes (démo)",
        "15265",
        K.HEALTH_CENTRE,
        C.FIBRE,
        HEALTH_CENTRE_CART,
        18,
        44,
        HEALTH_CENTRE_DEVICES,
        organisation="Maison de santé d'Ydes (démo)",
        address="4 rue de la Mine",
        assistants=(NURSE_USER.format(17),),
    ),
    DemoSite(
        "Maison de santé de Salers (démo)",
        "15219",
        K.HEALTH_CENTRE,
        C.RADIO,
        HEALTH_CENTRE_CART,
        11,
        20,
        HEALTH_CENTRE_DEVICES,
        broken=(D.DERMATOSCOPE,),
        organisation="Maison de santé de Salers (démo)",
        address="5 route du Puy-Mary",
        assistants=(NURSE_USER.format(18),),
    ),
    DemoSite(
        "Maison de santé de Marcenat (démo)",
        "15114",
        K.HEALTH_CENTRE,
        C.MOBILE,
        HEALTH_CENTRE_CART,
        11,
        9,
        HEALTH_CENTRE_DEVICES,
        organisation="Maison de santé de Marcenat (démo)",
        address="2 rue du Cézallier",
        assistants=(NURSE_USER.format(19),),
    ),
    DemoSite(
        "Cabine de téléconsultation — La Cabane connectée (démo)",
        "15138",
        K.CABIN,
        C.FIBRE,
        TIERS_LIEU_CABIN,
        11,
        6,
        CABIN_DEVICES,
        organisation_key="network",
        address="5 rue du Faubourg-Notre-Dame",
    ),
]
ORGANISATION_KIND = {
    K.CARE_HOME: Organisation.Kind.CARE_HOME,
    K.HEALTH_CENTRE: Organisation.Kind.HEALTH_CENTRE,
    K.PHARMACY: Organisation.Kind.PHARMACY,
}
PLACE_KINDS = {
    K.CARE_HOME: ("care_home",),
    K.HEALTH_CENTRE: ("health_centre", "telehealth"),
    K.PHARMACY: ("telehealth",),
    K.CABIN: ("telehealth",),
}
PLACE_DESCRIPTION = {
    K.CARE_HOME: "Établissement fictif pour personnes âgées : chariot de téléconsultation "
    "réservé aux résidents, avec l'infirmière.",
    K.HEALTH_CENTRE: "Maison de santé fictive : téléconsultation assistée par une infirmière.",
    K.CABIN: "Cabine connectée fictive dans le tiers-lieu, aux heures d'ouverture.",
}

# Practitioners: fictional doctors of Aurillac, and core's demo-medecin (RPPS numbers starting
# 999, which the national directory never attributes: real ones start 10; valid check digit).
SPECIALISTS_ORGANISATION = "Équipe de télémédecine du bassin d'Aurillac (démo)"


@dataclass(frozen=True)
class DemoPractitioner:
    username: str
    first_name: str
    last_name: str
    kind: str
    specialties: tuple[str, ...]
    hours: tuple[tuple[int, str, str], ...]  # (weekday, start, end), offered to every site
    organisation: str  # SPECIALISTS_ORGANISATION or a site's place name
    home_insee: str = "15014"
    # Core's account whose agenda the booking demo made (booking.demo): the practitioner books
    # that agenda, at its hours, and only at the site of its organisation, whose staff alone
    # may book it (bookable by agents).
    core_account: bool = False


GEN, SPE = Practitioner.Kind.GENERALIST, Practitioner.Kind.SPECIALIST
AM, PM = ("09:00", "12:00"), ("14:00", "17:00")
PRACTITIONERS = [
    DemoPractitioner(
        "demo-dermatologue",
        "Hélène",
        "Cabanes (démo)",
        SPE,
        ("dermatologie", "plaies-cicatrisation"),
        ((0, *PM), (2, *AM), (3, *PM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-02",
        "Marc",
        "Delteil (démo)",
        SPE,
        ("dermatologie",),
        ((1, *AM), (4, *AM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-03",
        "Jérôme",
        "Fabrègues (démo)",
        SPE,
        ("cardiologie",),
        ((0, *AM), (3, *AM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-04",
        "Sandrine",
        "Roumégoux (démo)",
        SPE,
        ("cardiologie",),
        ((2, *PM), (4, *PM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-05",
        "Françoise",
        "Vidalinc (démo)",
        SPE,
        ("geriatrie", "plaies-cicatrisation"),
        ((1, *AM), (1, *PM), (3, *PM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-06",
        "Olivier",
        "Bonnefon (démo)",
        SPE,
        ("geriatrie",),
        ((0, *PM), (2, *AM), (4, *AM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-07",
        "Laurent",
        "Chazelles (démo)",
        SPE,
        ("psychiatrie",),
        ((1, *PM), (3, *AM), (4, *PM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-08",
        "Nicolas",
        "Peyrac (démo)",
        SPE,
        ("orl",),
        ((2, *PM),),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-09",
        "Aurélie",
        "Mounéyrac (démo)",
        SPE,
        ("diabetologie-endocrinologie",),
        ((0, *AM), (3, *AM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-10",
        "Vincent",
        "Cayrolles (démo)",
        SPE,
        ("neurologie",),
        ((4, *AM), (1, *PM)),
        SPECIALISTS_ORGANISATION,
    ),
    DemoPractitioner(
        "demo-telesante-medecin-11",
        "Martine",
        "Bruelhac (démo)",
        GEN,
        ("medecine-generale",),
        ((0, "13:30", "18:30"), (2, "13:30", "18:30"), (5, "09:00", "12:00")),
        "Maison de santé d'Ydes (démo)",
        home_insee="15265",
    ),
    DemoPractitioner(
        "demo-telesante-medecin-12",
        "Thierry",
        "Labrunie (démo)",
        GEN,
        ("medecine-generale",),
        ((1, "09:00", "12:30"), (3, "13:30", "18:30"), (4, "09:00", "12:30")),
        "Maison de santé de Salers (démo)",
        home_insee="15219",
    ),
    DemoPractitioner(
        "demo-medecin",
        "Paul",
        "Mazeyrac (démo)",
        GEN,
        ("medecine-generale",),
        (),  # the hours of booking.demo's agenda (Tuesday and Thursday mornings)
        MONTS,
        core_account=True,
    ),
]


def _rpps(number: int) -> str:
    body = f"9991{number:06d}"  # not 9990…: those of earlier demo databases had no check digit
    return body + luhn.calc_check_digit(body)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    home_insee: str
    login: bool = False  # a demo account with the shared password


# Login accounts (README's table) and the assisting professionals (no usable password).
ACCOUNTS = [
    DemoPerson("demo-infirmiere", "Sandrine", "Lavergne (démo)", "15119", login=True),
    DemoPerson("demo-coordinatrice", "Mathilde", "Serre (démo)", "15153", login=True),
]
NURSE_NAMES = [
    ("Agnès", "Couderc"),
    ("Laure", "Vermenouze"),
    ("Céline", "Roquier"),
    ("Isabelle", "Malvezin"),
    ("Julie", "Chaumeil"),
    ("Stéphanie", "Bouniol"),
    ("Nadine", "Espinasse"),
    ("Émilie", "Parrot"),
    ("Christelle", "Taurand"),
    ("Sylvie", "Mourgues"),
    ("Karine", "Fel"),
    ("Virginie", "Tible"),
    ("Patricia", "Lacoste"),
    ("Aurore", "Vialette"),
    ("Delphine", "Cussac"),
    ("Romain", "Laparra"),
    ("Fabien", "Destannes"),
    ("Cédric", "Barbet"),
    ("Mélanie", "Bessaguet"),
]
# Core's accounts given a telehealth role here: a nurse of the EHPAD Les Gentianes, and the
# general practitioner of the Maison de santé des Monts.
CORE_ACCOUNTS = ("demo-infirmier", "demo-medecin")
PHARMACIST_PERSON = DemoPerson(
    "demo-telesante-pharmacien-01", "Guillaume", "Mirande (démo)", "15001"
)


@dataclass
class TelehealthDemoReport(DemoSeedReport):
    """What seeding did, rows per model label, plus what the command prints."""

    already_there: bool = False
    counts: Counter = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)


def _demo_password() -> str:
    return make_password(DEMO_PASSWORD, salt=DEMO_PASSWORD_SALT)


def _person(writer: DemoWriter, spec: DemoPerson, communes: dict[str, Commune]) -> User:
    values = {
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "email": f"{spec.username}@demo.example.org",
        "home_commune_id": communes[spec.home_insee].pk,
        "is_active": True,
        "is_staff": False,
        "is_superuser": False,
        "is_demo": True,
    }
    if spec.login:
        # Like core's accounts: seeding again gives back the password a tester changed.
        values["password"] = _demo_password()
        user, status = writer.sync(User, {"username": spec.username}, values)
    else:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            # Colleagues who never log in: an unusable password, set once.
            user = User.objects.create(
                username=spec.username, password=make_password(None), **values
            )
            status = CREATED
        else:
            user, status = writer.sync(User, {"username": spec.username}, values)
    writer.tally(User, status)
    return user


def _people() -> list[DemoPerson]:
    people = [*ACCOUNTS, PHARMACIST_PERSON]
    # A nurse lives in the commune of the site she works at.
    works_at = {name: spec.insee for spec in SITES for name in spec.assistants}
    for number, (first, last) in enumerate(NURSE_NAMES, start=1):
        username = NURSE_USER.format(number)
        people.append(DemoPerson(username, first, f"{last} (démo)", works_at[username]))
    for spec in PRACTITIONERS:
        if spec.core_account:
            continue
        people.append(
            DemoPerson(
                spec.username,
                spec.first_name,
                spec.last_name,
                spec.home_insee,
                login=spec.username == "demo-dermatologue",
            )
        )
    return people


def _sync_rules(writer: DemoWriter, resource, wanted: set[tuple[int, dt.time, dt.time]]) -> bool:
    current = set(resource.availability_rules.values_list("weekday", "start_time", "end_time"))
    if current == wanted and resource.availability_rules.count() == len(wanted):
        writer.tally(AvailabilityRule, UNCHANGED)
        return False
    resource.availability_rules.all().delete()
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(resource=resource, weekday=w, start_time=s, end_time=e)
        for w, s, e in sorted(wanted)
    )
    rules_changed([resource.pk])
    writer.tally(AvailabilityRule, CREATED if not current else UPDATED)
    return True


def _mark_demo(obj) -> None:
    if not obj.is_demo:
        type(obj).objects.filter(pk=obj.pk).update(is_demo=True)
        obj.is_demo = True


@dataclass
class _Network:
    hospital: ReferenceHospital
    specialties: dict[str, Specialty]
    sites: list[tuple[DemoSite, Site]]
    practitioners: list[tuple[DemoPractitioner, Practitioner]]
    # username → assisting professional; (site id, weekday) → who is on duty that day.
    assistants: dict[str, AssistingProfessional]
    on_duty: dict[tuple[int, int], AssistingProfessional]
    users: dict[str, User]


def _communes() -> dict[str, Commune]:
    wanted = {s.insee for s in SITES} | {p.home_insee for p in _people()} | {"15014"}
    communes = {c.insee_code: c for c in Commune.objects.filter(insee_code__in=wanted)}
    if missing := sorted(wanted - communes.keys()):
        raise DemoError(
            f"Communes du Cantal manquantes ({', '.join(missing)}). "
            "Lancez d'abord : manage.py load_territory 15"
        )
    return communes


def _organisation(
    writer: DemoWriter, name: str, kind: str, commune: Commune, address: str = ""
) -> Organisation:
    organisation, status = writer.sync(
        Organisation,
        {"name": name, "kind": kind, "commune_id": commune.pk},
        {"address": address, "is_demo": True},
    )
    writer.tally(Organisation, status)
    return organisation


def _core_organisation(key: str) -> Organisation:
    spec = ORGANISATIONS[key]
    organisation = Organisation.objects.filter(name=spec.name, is_demo=True).first()
    if organisation is None:
        raise DemoError("Lancez d'abord : manage.py seed_demo")
    return organisation


def _place(
    writer: DemoWriter, spec: DemoSite, commune: Commune, organisation: Organisation, number: int
) -> Place:
    dlat, dlon = demo_offset(spec.place)
    nominal = CONNECTIONS[spec.connection]
    place, status = writer.sync(
        Place,
        {"name": spec.place, "commune_id": commune.pk},
        {
            "description": PLACE_DESCRIPTION[spec.kind],
            "address": spec.address,
            "postal_code": commune.postal_code_list[0],
            "latitude": round(commune.latitude + dlat, 6),
            "longitude": round(commune.longitude + dlon, 6),
            "opening_hours": osm_opening_hours(spec.hours),
            "accessibility": Place.Accessibility.ACCESSIBLE,
            "connectivity": PLACE_CONNECTIVITY[spec.connection],
            "download_mbps": nominal[0],
            "has_public_wifi": False,
            # ARCEP reserves 04 65 71 xx xx for fiction.
            "phone": f"+334657102{number:02d}",
            "organisation_id": organisation.pk,
            "is_public": True,
            "is_demo": True,
        },
    )
    kinds = list(PlaceKind.objects.filter(code__in=PLACE_KINDS[spec.kind]))
    kinds_changed = writer.place_kinds(place, kinds)
    hours_changed = writer.place_hours(place, opening_periods(spec.hours))
    if status == UNCHANGED and (kinds_changed or hours_changed):
        status = UPDATED
    writer.tally(Place, status)
    return place


def _booking_demo_resource(**lookup) -> Resource:
    resource = Resource.objects.filter(is_demo=True, **lookup).first()
    if resource is None:
        raise DemoError("Lancez d'abord : manage.py seed_demo")
    return resource


def _adopt_cabin(site: Site, cabin: Resource) -> None:
    """Give a site just created by site_create the booking demo's cabin of its place, and
    delete the cart the service made (nothing holds it yet): one resource per room or cart."""
    made = site.resource_id
    Site.objects.filter(pk=site.pk).update(resource=cabin)
    Resource.objects.filter(pk=made).delete()
    site.resource = cabin


def _practitioner_adopt(
    *, actor, user, kind: str, rpps: str, specialties, organisation: Organisation
) -> Practitioner:
    """practitioner_create for a core demo account whose agenda the booking demo made: a
    person has one agenda (Resource.person is unique), so the practitioner books that one."""
    practitioner = Practitioner(
        user=user,
        kind=kind,
        rpps=rpps,
        resource=_booking_demo_resource(person=user, kind=Resource.Kind.PERSON),
        is_demo=True,
    )
    practitioner.full_clean()
    practitioner.save()
    practitioner.specialties.set(specialties)
    # No membership of `organisation`, as practitioner_create: telehealth vouches for the
    # doctor inside its own flow (booking_guard.vouch_inside_flow).
    audit_log(actor=actor, action="telehealth.practitioner_create", target=practitioner)
    return practitioner


def _site(
    writer: DemoWriter,
    spec: DemoSite,
    place: Place,
    hospital: ReferenceHospital,
    agent: User,
    users: dict[str, User],
    today: dt.date,
) -> Site:
    from .services.network import site_add_coordinator, site_create

    down, up, _latency, _odds = CONNECTIONS[spec.connection]
    # At core's places the booking demo's cabin is the cart (booking.demo owns its hours).
    cabin = None
    if place.name in BOOKING_CABINS:
        cabin = _booking_demo_resource(
            name=BOOKING_CABINS[place.name][0], place=place, kind=Resource.Kind.CABIN
        )
    site = Site.objects.filter(place=place).first()
    if site is None:
        site = site_create(
            actor=agent,
            place=place,
            kind=spec.kind,
            hospital=hospital,
            connection=spec.connection,
            coordinators=[users[name] for name in spec.coordinators],
            opened_on=_months_before(today, spec.opened_months_ago),
        )
        if cabin is not None:
            _adopt_cabin(site, cabin)
        Site.objects.filter(pk=site.pk).update(
            is_demo=True, nominal_download_mbps=down, nominal_upload_mbps=up
        )
        site.refresh_from_db()
        writer.tally(Site, CREATED)
    else:
        site, status = writer.sync(
            Site,
            {"pk": site.pk},
            {
                "kind": spec.kind,
                "connection": spec.connection,
                "nominal_download_mbps": Decimal(down),
                "nominal_upload_mbps": Decimal(up),
                "is_active": True,
                "is_demo": True,
            },
        )
        writer.tally(Site, status)
        for name in spec.coordinators:
            if not site.coordinators.filter(pk=users[name].pk).exists():
                site_add_coordinator(actor=agent, site=site, user=users[name])
    _mark_demo(site.resource)
    if cabin is None:
        _sync_rules(writer, site.resource, _hour_rows(spec.hours))
    _sync_equipment(writer, spec, site)
    return site


def _sync_equipment(writer: DemoWriter, spec: DemoSite, site: Site) -> None:
    """The site's devices, by serial number; a device a tester repaired breaks down again."""
    current = {e.serial_number: e for e in site.equipment.filter(serial_number__startswith="DEMO-")}
    missing = []
    for number, kind in enumerate(spec.devices, start=1):
        serial = f"DEMO-{site.pk:03d}-{number:02d}"
        in_service = kind not in spec.broken
        device = current.get(serial)
        if device is None:
            missing.append(
                Equipment(
                    site=site,
                    kind=kind,
                    serial_number=serial,
                    model_name="Modèle de démonstration",
                    in_service=in_service,
                )
            )
            writer.tally(Equipment, CREATED)
        elif device.kind != kind or device.in_service != in_service:
            device.kind, device.in_service = kind, in_service
            device.save(update_fields=["kind", "in_service", "updated_at"])
            writer.tally(Equipment, UPDATED)
        else:
            writer.tally(Equipment, UNCHANGED)
    Equipment.objects.bulk_create(missing)


def _hour_rows(hours: Hours) -> set[tuple[int, dt.time, dt.time]]:
    return {(w, s, e) for w, s, e in opening_periods(hours)}


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, 1)


def _network(writer: DemoWriter, today: dt.date) -> _Network:
    from .services.network import assistant_create, practitioner_create

    agent = User.objects.filter(username="demo-agent", is_demo=True).first()
    if agent is None or not Place.objects.filter(name=SITES[0].place, is_demo=True).exists():
        raise DemoError("Lancez d'abord : manage.py seed_demo")
    hospital, specialties = _reference(writer)
    communes = _communes()
    users = {p.username: _person(writer, p, communes) for p in _people()}
    for username in CORE_ACCOUNTS:
        users[username] = User.objects.filter(username=username, is_demo=True).first()
        if users[username] is None:
            raise DemoError("Lancez d'abord : manage.py seed_demo")

    sites: list[tuple[DemoSite, Site]] = []
    for number, spec in enumerate(SITES, start=1):
        commune = communes[spec.insee]
        if spec.organisation is not None:
            organisation = _organisation(
                writer, spec.organisation, ORGANISATION_KIND[spec.kind], commune, spec.address
            )
            place = _place(writer, spec, commune, organisation, number)
        elif spec.organisation_key is not None:
            place = _place(writer, spec, commune, _core_organisation(spec.organisation_key), number)
        else:
            place = Place.objects.filter(name=spec.place, commune=commune, is_demo=True).first()
            if place is None:
                raise DemoError("Lancez d'abord : manage.py seed_demo")
        sites.append((spec, _site(writer, spec, place, hospital, agent, users, today)))
    site_by_place = {spec.place: site for spec, site in sites}

    specialists = _organisation(
        writer,
        SPECIALISTS_ORGANISATION,
        Organisation.Kind.HOSPITAL,
        communes["15014"],
        "Avenue de la République",
    )
    practitioners = []
    for number, spec in enumerate(PRACTITIONERS, start=1):
        user = users[spec.username]
        wanted = [specialties[code] for code in spec.specialties]
        rpps = _rpps(number)
        practitioner = Practitioner.objects.filter(user=user).first()
        if practitioner is None:
            organisation = (
                specialists
                if spec.organisation == SPECIALISTS_ORGANISATION
                else site_by_place[spec.organisation].place.organisation
            )
            practitioner = (_practitioner_adopt if spec.core_account else practitioner_create)(
                actor=agent,
                user=user,
                kind=spec.kind,
                rpps=rpps,
                specialties=wanted,
                organisation=organisation,
            )
            writer.tally(Practitioner, CREATED)
        elif (
            set(practitioner.specialties.all()) != set(wanted)
            or not practitioner.is_active
            or practitioner.rpps != rpps
        ):
            practitioner.specialties.set(wanted)
            Practitioner.objects.filter(pk=practitioner.pk).update(is_active=True, rpps=rpps)
            writer.tally(Practitioner, UPDATED)
        else:
            writer.tally(Practitioner, UNCHANGED)
        _mark_demo(practitioner)
        _mark_demo(practitioner.resource)
        if not spec.core_account:  # booking.demo owns the hours of the agenda it made
            _sync_rules(
                writer,
                practitioner.resource,
                {(w, dt.time.fromisoformat(s), dt.time.fromisoformat(e)) for w, s, e in spec.hours},
            )
        practitioners.append((spec, practitioner))

    assistants: dict[str, AssistingProfessional] = {}
    on_duty: dict[tuple[int, int], AssistingProfessional] = {}
    for spec, site in sites:
        hours = _hour_rows(spec.hours)
        for rank, username in enumerate(spec.assistants):
            user = users[username]
            kind = PHARMACIST if spec.kind == K.PHARMACY else NURSE
            assistant = AssistingProfessional.objects.filter(user=user).first()
            if assistant is None:
                assistant = assistant_create(actor=agent, user=user, kind=kind, sites=[site])
                writer.tally(AssistingProfessional, CREATED)
            elif not assistant.sites.filter(pk=site.pk).exists() or not assistant.is_active:
                assistant.sites.add(site)
                AssistingProfessional.objects.filter(pk=assistant.pk).update(is_active=True)
                writer.tally(AssistingProfessional, UPDATED)
            else:
                writer.tally(AssistingProfessional, UNCHANGED)
            _mark_demo(assistant)
            _mark_demo(assistant.resource)
            # Two nurses share the week: the first Monday to Wednesday, the second after.
            if len(spec.assistants) == 1:
                days = set(range(7))
            else:
                days = {0, 1, 2} if rank == 0 else {3, 4, 5, 6}
            _sync_rules(writer, assistant.resource, {r for r in hours if r[0] in days})
            assistants[username] = assistant
            for weekday in days:
                on_duty[(site.pk, weekday)] = assistant
    return _Network(hospital, specialties, sites, practitioners, assistants, on_duty, users)


# --- Two years of activity -----------------------------------------------------------------
SEASON = {1: 0.95, 2: 1.0, 3: 1.05, 4: 1.0, 5: 0.95, 6: 1.0, 7: 0.8, 8: 0.55, 9: 1.05}
SEASON |= {10: 1.1, 11: 1.05, 12: 0.75}
MAX_PER_MONTH = 40
STEP = 15  # minutes: the grid of the telehealth resources (slot_minutes)
INCIDENT_CAUSES = {
    Incident.Kind.NETWORK: [
        "Débit montant insuffisant, image figée (démo)",
        "Coupure de la box pendant la séance (démo)",
        "Latence trop forte pour la vidéo (démo)",
    ],
    Incident.Kind.VIDEO: [
        "Service de visioconférence indisponible (démo)",
        "Mise à jour du navigateur du chariot (démo)",
    ],
    Incident.Kind.DEVICE: [
        "Caméra du chariot non reconnue (démo)",
        "Batterie de l'appareil connecté déchargée (démo)",
    ],
}
NOT_HELD_CAUSES = [
    (Incident.Kind.NETWORK, "Connexion coupée avant le début de la séance (démo)"),
    (Incident.Kind.PRACTITIONER, "Médecin retenu par une urgence à l'hôpital (démo)"),
    (Incident.Kind.PATIENT, "Patient absent à l'heure prévue (démo)"),
]
QUESTION, ANSWER = "Demande d'avis (démo)", "Avis rendu (démo)"
EXPERTISE_PER_PATIENT_YEAR = 2
EXPERTISE_MIX = {
    "dermatologie": 45,
    "cardiologie": 20,
    "plaies-cicatrisation": 15,
    "diabetologie-endocrinologie": 12,
    "neurologie": 8,
}


@dataclass
class _SiteState:
    spec: DemoSite
    site: Site
    windows: dict[int, list[tuple[int, int]]]  # weekday → [(start, end) in minutes]
    devices: set[str] = field(default_factory=set)  # every device of the site
    working: set[str] = field(default_factory=set)  # those in working order today
    coordinators: list[User] = field(default_factory=list)
    patients: list[Patient] = field(default_factory=list)
    tests: dict[dt.date, ConnectivityTest] = field(default_factory=dict)


@dataclass
class _Session:
    """A consultation and its booking before they are written."""

    state: _SiteState
    specialty_id: int
    start: dt.datetime
    end: dt.datetime
    practitioner: Practitioner
    assistant: AssistingProfessional | None
    patient: Patient
    status: str
    requester_id: int
    requested_at: dt.datetime
    reference: str
    transport: str
    emergency: bool
    seen_in_person: bool
    referred: bool
    test: ConnectivityTest | None = None
    channel: str = ""
    closed_at: dt.datetime | None = None
    closed_by_id: int | None = None
    incident: tuple | None = None  # (kind, fallback, cause, occurred at)


class _History:
    """The two years in memory, written at the end with bulk_create."""

    def __init__(self, network: _Network, today: dt.date, now: dt.datetime, seed: int) -> None:
        self.network = network
        self.today = today
        self.now = now
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.start = _years_before(today, 2)
        self.end = today - dt.timedelta(days=1)
        self.occupied: set[tuple[int, dt.date, int]] = set()  # (resource, day, 15-min unit)
        self.references: set[str] = set(Booking.objects.values_list("reference", flat=True))
        self.sessions: list[_Session] = []
        self.tests: list[ConnectivityTest] = []
        self.skipped = 0
        self.states = [
            _SiteState(
                spec,
                site,
                self._windows(_hour_rows(spec.hours)),
                devices=set(site.equipment.values_list("kind", flat=True)),
                working=set(site.equipment.filter(in_service=True).values_list("kind", flat=True)),
                coordinators=list(site.coordinators.all()),
            )
            for spec, site in network.sites
        ]
        # A device out of order broke some weeks ago: before, the site used it.
        self.broken_since = today - dt.timedelta(days=45)
        self.feasibility: dict[tuple[int, int, bool], bool] = {}
        # specialty id → (practitioner, their weekly windows, the only site they consult
        # for or None: slots offered to every site).
        self.by_specialty: dict[int, list[tuple[Practitioner, dict, int | None]]] = defaultdict(
            list
        )
        site_of_place = {spec.place: site.pk for spec, site in network.sites}
        for spec, practitioner in network.practitioners:
            windows = self._windows(
                practitioner.resource.availability_rules.values_list(
                    "weekday", "start_time", "end_time"
                )
            )
            only_at = site_of_place[spec.organisation] if spec.core_account else None
            for code in spec.specialties:
                specialty = network.specialties[code]
                self.by_specialty[specialty.pk].append((practitioner, windows, only_at))
        self._candidates: dict[tuple[int, int], list[tuple[Practitioner, dict]]] = {}
        self.assistant_windows = {
            assistant.pk: self._windows(
                set(
                    assistant.resource.availability_rules.values_list(
                        "weekday", "start_time", "end_time"
                    )
                )
            )
            for assistant in network.assistants.values()
        }
        self.holidays = set()
        for year in range(self.start.year, today.year + 2):
            self.holidays |= set(av.public_holidays(year))

    @staticmethod
    def _windows(rows) -> dict[int, list[tuple[int, int]]]:
        windows: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for weekday, start, end in sorted(rows):  # sets and rows come in any order
            windows[weekday].append((start.hour * 60 + start.minute, end.hour * 60 + end.minute))
        return windows

    def moment(self, day: dt.date, minutes: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=self.tz)

    def reference(self) -> str:
        while True:
            text = "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
            if text not in self.references:
                self.references.add(text)
                return text

    # -- Patients ---------------------------------------------------------------------------
    def patients(self, state: _SiteState, expected: int) -> None:
        site = state.site
        # Patients come back: about 3.5 sessions each over the two years.
        count = max(12, min(90, round(expected / 3.5)))
        resident = site.kind == K.CARE_HOME
        for number in range(1, count + 1):
            woman = self.rng.random() < (0.7 if resident else 0.55)
            initial = self.rng.choice("ABCDEFGHJLMNPRSTV")
            if resident:
                birth_year = self.rng.randint(1924, 1948)
            elif self.rng.random() < 0.1:
                birth_year = self.today.year - self.rng.randint(2, 15)  # a child
            else:
                birth_year = self.rng.randint(1935, 2000)
            state.patients.append(
                Patient(
                    site=site,
                    display_name=f"{'Mme' if woman else 'M.'} {initial}. Demo {number}",
                    birth_year=birth_year,
                    is_care_home_resident=resident,
                    has_attending_doctor=self.rng.random() < (0.97 if resident else 0.85),
                    lives_in_territory=self.rng.random() < 0.96,
                    is_demo=True,
                )
            )

    # -- Volumes ----------------------------------------------------------------------------
    def monthly_volumes(self, state: _SiteState) -> list[tuple[dt.date, dt.date, int]]:
        """(first day, last day, consultations) per month of the two years for one site."""
        opened = state.site.opened_on or self.start
        months = []
        day = self.start.replace(day=1)
        while day <= self.end:
            following = (day + dt.timedelta(days=32)).replace(day=1)
            months.append((day, following - dt.timedelta(days=1)))
            day = following
        bad_month = self.rng.randrange(len(months))
        rows = []
        for index, (first, last) in enumerate(months):
            begin, finish = max(first, self.start, opened), min(last, self.end)
            if begin > finish:
                rows.append((first, last, 0))
                continue
            share = (finish - begin).days + 1
            share /= (last - first).days + 1
            # A site grows from about half its current activity; in its first six months it
            # starts lower still, while the teams learn the cart.
            age = (finish - opened).days / 30.4
            growth = 0.5 + 0.5 * index / (len(months) - 1)
            if age < 6:
                growth *= 0.45 + 0.09 * age
            volume = state.spec.level * growth * SEASON[first.month] * self.rng.uniform(0.8, 1.2)
            if index == bad_month:
                volume *= 0.3  # the nurse on leave, the cart at the repairer's…
            rows.append((first, last, min(MAX_PER_MONTH, round(volume * share))))
        return rows

    # -- Scheduling -------------------------------------------------------------------------
    def feasible(self, state: _SiteState, specialty: Specialty, day: dt.date) -> bool:
        key = (state.site.pk, specialty.pk, day < self.broken_since)
        if key not in self.feasibility:
            working = state.devices if day < self.broken_since else state.working
            self.feasibility[key] = all(
                code in working for code in specialty.required_devices
            ) and specialty.required_assistant in ("", self.assistant_kind(state))
        return self.feasibility[key]

    def assistant_kind(self, state: _SiteState) -> str:
        if not state.spec.assistants:
            return ""
        return PHARMACIST if state.site.kind == K.PHARMACY else NURSE

    def days(self, state: _SiteState, first: dt.date, last: dt.date) -> list[dt.date]:
        opened = state.site.opened_on or first
        days, day = [], max(first, opened)
        while day <= last:
            if day.weekday() in state.windows and day not in self.holidays:
                days.append(day)
            day += dt.timedelta(days=1)
        return days

    def candidates(
        self, state: _SiteState, specialty: Specialty
    ) -> list[tuple[Practitioner, dict]]:
        """Who may take a session of that specialty at that site: the site's own doctor
        when it has one (demo-medecin at his health centre), else those offered to every site."""
        key = (state.site.pk, specialty.pk)
        if key not in self._candidates:
            every = self.by_specialty.get(specialty.pk, [])
            local = [(p, windows) for p, windows, only_at in every if only_at == state.site.pk]
            self._candidates[key] = local or [(p, w) for p, w, only_at in every if only_at is None]
        return self._candidates[key]

    def place(
        self, state: _SiteState, specialty: Specialty, days: list[dt.date]
    ) -> tuple[dt.datetime, Practitioner, AssistingProfessional | None] | None:
        """A free slot for the three resources within their rules, or None."""
        units = specialty.default_duration_minutes // STEP
        candidates = self.candidates(state, specialty)
        days = [day for day in days if self.feasible(state, specialty, day)]
        if not candidates or not days:
            return None
        for _attempt in range(25):
            day = self.rng.choice(days)
            weekday = day.weekday()
            practitioner, windows = self.rng.choice(candidates)
            assistant = self.network.on_duty.get((state.site.pk, weekday))
            if assistant is None and specialty.required_assistant:
                continue
            spans = _intersect(state.windows.get(weekday, []), windows.get(weekday, []))
            if assistant is not None:
                spans = _intersect(spans, self.assistant_windows[assistant.pk].get(weekday, []))
            starts = [
                minute
                for begin, finish in spans
                for minute in range(begin, finish - units * STEP + 1, STEP)
                if minute % STEP == 0
            ]
            self.rng.shuffle(starts)
            ids = [state.site.resource_id, practitioner.resource_id]
            if assistant is not None:
                ids.append(assistant.resource_id)
            for minute in starts:
                first_unit = minute // STEP
                if all(
                    (rid, day, u) not in self.occupied
                    for rid in ids
                    for u in range(first_unit, first_unit + units)
                ):
                    start = self.moment(day, minute)
                    if start <= self.now and day >= self.today:
                        continue
                    for rid in ids:
                        for u in range(first_unit, first_unit + units):
                            self.occupied.add((rid, day, u))
                    return start, practitioner, assistant
        return None

    def specialty_for(self, state: _SiteState, day: dt.date) -> Specialty | None:
        mix = SPECIALTY_MIX[state.site.kind]
        codes = [
            code
            for code in mix
            if code in self.network.specialties
            and self.feasible(state, self.network.specialties[code], day)
        ]
        if not codes:
            return None
        code = self.rng.choices(codes, [mix[c] for c in codes])[0]
        return self.network.specialties[code]

    # -- One consultation -------------------------------------------------------------------
    def consultation(
        self,
        state: _SiteState,
        specialty: Specialty,
        start: dt.datetime,
        practitioner: Practitioner,
        assistant: AssistingProfessional | None,
        *,
        planned: bool = False,
    ) -> None:
        """One session in memory (plain records: model instances are built in write(), with
        ids rather than objects, which keeps bulk_create cheap)."""
        rng, site = self.rng, state.site
        end = start + dt.timedelta(minutes=specialty.default_duration_minutes)
        emergency = rng.random() < 0.03
        if emergency:
            delay = dt.timedelta(hours=rng.randint(3, 30))
        else:
            delay = dt.timedelta(days=rng.choice([2, 4, 6, 8, 10, 14, 21, 28, 35]))
        # The booking is made when the need is expressed (the nurse books at once).
        requested_at = start - delay
        if planned:
            requested_at = min(requested_at, self.now - dt.timedelta(hours=2))
        requester = assistant.user_id if assistant is not None else practitioner.user_id
        if state.coordinators and rng.random() < 0.3:
            requester = state.coordinators[0].pk
        Status = Consultation.Status
        if planned:
            status = Status.PLANNED
        else:
            draw = rng.random()
            odds = CONNECTIONS[site.connection or C.FIBRE][3]
            if draw < 0.06:
                status = Status.CANCELLED
            elif draw < 0.10:
                status = Status.NOT_HELD
            elif draw < 0.10 + odds:
                status = Status.INCIDENT
            else:
                status = Status.DONE
        if site.kind == K.CARE_HOME:
            modes, weights = [TransportMode.AMBULANCE, TransportMode.LIGHT_VEHICLE], [35, 65]
        else:
            modes, weights = [TransportMode.LIGHT_VEHICLE, TransportMode.PRIVATE], [40, 60]
        session = _Session(
            state=state,
            specialty_id=specialty.pk,
            start=start,
            end=end,
            practitioner=practitioner,
            assistant=assistant,
            patient=state.patients[int(len(state.patients) * rng.random() ** 1.6)],
            status=status,
            requester_id=requester,
            requested_at=requested_at,
            reference=self.reference(),
            transport=rng.choices(modes, weights)[0],
            emergency=emergency,
            seen_in_person=rng.random() < 0.4,
            referred=rng.random() < 0.8,
        )
        self.sessions.append(session)
        if status in (Status.PLANNED, Status.CANCELLED):
            return
        session.test = self.connectivity_test(state, start, assistant)
        session.closed_at = end + dt.timedelta(minutes=rng.randint(2, 20))
        session.closed_by_id = assistant.user_id if assistant is not None else practitioner.user_id
        if status == Status.DONE:
            session.channel = session.test.recommendation
        elif status == Status.INCIDENT:
            kind = rng.choices(list(INCIDENT_CAUSES), [6, 2, 2])[0]
            fallback = rng.choices([Incident.Fallback.PHONE, Incident.Fallback.AUDIO], [6, 4])[0]
            session.channel = (
                Consultation.Channel.PHONE
                if fallback == Incident.Fallback.PHONE
                else Consultation.Channel.AUDIO
            )
            session.incident = (
                kind,
                fallback,
                rng.choice(INCIDENT_CAUSES[kind]),
                start + dt.timedelta(minutes=rng.randint(1, 10)),
            )
        else:  # not held
            kind, cause = rng.choice(NOT_HELD_CAUSES)
            session.incident = (kind, Incident.Fallback.RESCHEDULED, cause, start)

    def connectivity_test(
        self, state: _SiteState, start: dt.datetime, assistant: AssistingProfessional | None
    ) -> ConnectivityTest:
        """One test per site and session day, before the first session of the day."""
        day = start.astimezone(self.tz).date()
        test = state.tests.get(day)
        if test is not None:
            test.measured_at = min(test.measured_at, start - dt.timedelta(minutes=20))
            return test
        down, up, (low, high), _odds = CONNECTIONS[state.site.connection or C.FIBRE]
        rng = self.rng
        # Now and then the line is much worse than announced (a storm, a saturated relay).
        slump = 0.15 if rng.random() < 0.05 else 1
        measured_down = round(down * rng.uniform(0.35, 1.0) * slump, 2)
        measured_up = round(up * rng.uniform(0.35, 1.0) * slump, 2)
        latency = rng.randint(low, high)
        test = ConnectivityTest(
            site_id=state.site.pk,
            measured_by_id=assistant.user_id if assistant is not None else None,
            measured_at=start - dt.timedelta(minutes=20),
            download_mbps=Decimal(str(measured_down)),
            upload_mbps=Decimal(str(measured_up)),
            latency_ms=latency,
            jitter_ms=rng.randint(1, max(2, latency // 8)),
            recommendation=recommend(
                download_mbps=Decimal(str(measured_down)),
                upload_mbps=Decimal(str(measured_up)),
                latency_ms=latency,
            ),
        )
        state.tests[day] = test
        self.tests.append(test)
        return test

    # -- Everything -------------------------------------------------------------------------
    def build(self) -> None:
        for state in self.states:
            volumes = self.monthly_volumes(state)
            self.patients(state, sum(v for _, _, v in volumes))
            for first, last, volume in volumes:
                days = self.days(state, max(first, self.start), min(last, self.end))
                for _ in range(volume):
                    if not days:
                        break
                    day = self.rng.choice(days)
                    specialty = self.specialty_for(state, day)
                    slot = specialty and self.place(state, specialty, days)
                    if not slot:
                        self.skipped += 1
                        continue
                    self.consultation(state, specialty, *slot)
            # A few sessions already booked for the coming two weeks.
            coming = self.days(
                state, self.today + dt.timedelta(days=1), self.today + dt.timedelta(days=14)
            )
            for _ in range(max(1, state.spec.level // 8)):
                specialty = coming and self.specialty_for(state, coming[0])
                slot = specialty and self.place(state, specialty, coming)
                if slot:
                    self.consultation(state, specialty, *slot, planned=True)

    def write(self, report: TelehealthDemoReport) -> None:
        Status, BStatus = Consultation.Status, Booking.Status
        booking_status = {
            Status.PLANNED: BStatus.CONFIRMED,
            Status.DONE: BStatus.ATTENDED,
            Status.INCIDENT: BStatus.ATTENDED,
            Status.NOT_HELD: BStatus.NO_SHOW,
            Status.CANCELLED: BStatus.CANCELLED,
        }
        patients = [p for state in self.states for p in state.patients]
        Patient.objects.bulk_create(patients, batch_size=500)
        for state in self.states:  # known to the site since the start of its history
            since = max(self.start, state.site.opened_on or self.start)
            Patient.objects.filter(pk__in=[p.pk for p in state.patients]).update(
                created_at=dt.datetime.combine(since, dt.time(9), tzinfo=self.tz)
            )
        ConnectivityTest.objects.bulk_create(self.tests, batch_size=500)
        bookings = [
            Booking(
                reference=s.reference,
                start=s.start,
                end=s.end,
                status=booking_status[s.status],
                place_id=s.state.site.place_id,
                person_name=s.patient.reference,  # never the name (services/consultations.py)
                channel=Booking.Channel.DESK,
                created_by_id=s.requester_id,
            )
            for s in self.sessions
        ]
        Booking.objects.bulk_create(bookings, batch_size=500)
        allocations, transitions, consultations = [], [], []
        for s, booking in zip(self.sessions, bookings, strict=True):
            resources = [s.state.site.resource, s.practitioner.resource]
            if s.assistant is not None:
                resources.append(s.assistant.resource)
            allocations += [
                Allocation(
                    booking_id=booking.pk,
                    resource_id=resource.pk,
                    blocked_start=s.start,
                    blocked_end=s.end,
                    is_active=s.status != Status.CANCELLED,
                    is_exclusive=resource.capacity == 1,
                )
                for resource in resources
            ]
            transitions.append(
                BookingTransition(
                    booking_id=booking.pk,
                    from_status="",
                    to_status=BStatus.CONFIRMED,
                    actor_id=s.requester_id,
                    reason="Réservation créée (Au guichet)",
                )
            )
            if booking.status != BStatus.CONFIRMED:
                transitions.append(
                    BookingTransition(
                        booking_id=booking.pk,
                        from_status=BStatus.CONFIRMED,
                        to_status=booking.status,
                        actor_id=s.closed_by_id or s.requester_id,
                        reason="Annulée (démo)" if s.status == Status.CANCELLED else "",
                    )
                )
            held = s.test is not None
            consultations.append(
                Consultation(
                    booking_id=booking.pk,
                    site_id=s.state.site.pk,
                    practitioner_id=s.practitioner.pk,
                    assistant_id=s.assistant.pk if s.assistant is not None else None,
                    specialty_id=s.specialty_id,
                    patient_id=s.patient.pk,
                    requested_by_id=s.requester_id,
                    requested_at=s.requested_at,
                    status=s.status,
                    scheduled_start=s.start,
                    transport_avoided=s.transport,
                    is_emergency=s.emergency,
                    last_in_person_visit_within_12_months=s.seen_in_person,
                    referred_by_attending_doctor=s.referred,
                    consent_recorded_at=s.start - dt.timedelta(minutes=10) if held else None,
                    devices_ready_at=s.start - dt.timedelta(minutes=15) if held else None,
                    connectivity_test_id=s.test.pk if held else None,
                    channel=s.channel,
                    closed_at=s.closed_at,
                    closed_by_id=s.closed_by_id,
                    is_demo=True,
                )
            )
        Allocation.objects.bulk_create(allocations, batch_size=1000)
        BookingTransition.objects.bulk_create(transitions, batch_size=1000)
        Consultation.objects.bulk_create(consultations, batch_size=500)
        # The data as the daily retention job leaves it (telehealth/retention.py): the
        # technical cause of an old incident is cleared, its kind and fallback stay.
        cause_cutoff = timezone.make_aware(
            dt.datetime.combine(
                retention.months_before(self.today, retention.INCIDENT_CAUSE_MONTHS), dt.time.min
            )
        )
        incidents = [
            Incident(
                consultation_id=consultation.pk,
                kind=kind,
                fallback=fallback,
                cause=cause if occurred_at >= cause_cutoff else "",
                occurred_at=occurred_at,
                recorded_by_id=s.closed_by_id,
            )
            for s, consultation in zip(self.sessions, consultations, strict=True)
            if s.incident is not None
            for kind, fallback, cause, occurred_at in [s.incident]
        ]
        Incident.objects.bulk_create(incidents, batch_size=500)
        self._date_rows(bookings[0].pk if bookings else None)
        for model, count in (
            (Patient, len(patients)),
            (ConnectivityTest, len(self.tests)),
            (Booking, len(bookings)),
            (Allocation, len(allocations)),
            (BookingTransition, len(transitions)),
            (Consultation, len(consultations)),
            (Incident, len(incidents)),
        ):
            report.created[model._meta.label] += count
        report.counts.update(
            {
                "patients": len(patients),
                "consultations": len(consultations),
                "planned": sum(1 for s in self.sessions if s.status == Status.PLANNED),
                "incidents": len(incidents),
                "connectivity_tests": len(self.tests),
            }
        )

    @staticmethod
    def _date_rows(first_booking_id: int | None) -> None:
        """created_at and BookingTransition.at are auto_now_add, which bulk_create fills with
        now: put back when things happened, in three statements rather than one per row."""
        if first_booking_id is None:
            return
        demo = Consultation.objects.filter(is_demo=True, booking_id__gte=first_booking_id)
        demo.update(created_at=F("requested_at"))
        Booking.objects.filter(teleconsultation__in=demo).update(
            created_at=Subquery(
                Consultation.objects.filter(booking=OuterRef("pk")).values("requested_at")[:1]
            )
        )
        transitions = BookingTransition.objects.filter(booking__teleconsultation__in=demo)
        transitions.filter(from_status="").update(
            at=Subquery(Booking.objects.filter(pk=OuterRef("booking_id")).values("created_at"))
        )
        transitions.exclude(from_status="").exclude(to_status=Booking.Status.CANCELLED).update(
            at=Subquery(Booking.objects.filter(pk=OuterRef("booking_id")).values("end"))
        )
        # Cancelled shortly before the session (always after it was booked: 3 h at least).
        day_before = ExpressionWrapper(
            F("start") - dt.timedelta(hours=1), output_field=DateTimeField()
        )
        transitions.filter(to_status=Booking.Status.CANCELLED).update(
            at=Subquery(
                Booking.objects.filter(pk=OuterRef("booking_id"))
                .annotate(at=day_before)
                .values("at")
            )
        )

    # -- Téléexpertise ----------------------------------------------------------------------
    def expertise(self, report: TelehealthDemoReport) -> None:
        rng = self.rng
        generalists = [p for s, p in self.network.practitioners if s.kind == GEN]
        patients = [p for state in self.states for p in state.patients]
        if not generalists or not patients:
            return
        # A general practitioner asks about a patient they have seen in teleconsultation (as
        # selectors/acts.expertise_patients offers), else about anyone of the network; about
        # the same patient twice a year at most.
        seen: dict[int, dict[int, Patient]] = defaultdict(dict)
        for session in self.sessions:
            seen[session.practitioner.pk][session.patient.pk] = session.patient
        asked_about: Counter = Counter()  # (patient id, year) → requests
        requests = []
        day = self.start
        while day <= self.end:
            # The last five days: one question a working day, not answered yet.
            recent = (self.end - day).days < 5
            if day.weekday() < 5 and day not in self.holidays and (recent or rng.random() < 0.6):
                code = rng.choices(list(EXPERTISE_MIX), list(EXPERTISE_MIX.values()))[0]
                specialty = self.network.specialties[code]
                experts = [p for p, _, _ in self.by_specialty.get(specialty.pk, [])]
                if experts:
                    asked = self.moment(day, rng.randint(8 * 60, 19 * 60))
                    hours = min(rng.lognormvariate(3.2, 1.0), 24 * 10)
                    answered = asked + dt.timedelta(hours=hours)
                    draw = rng.random()
                    status = ExpertiseRequest.Status.ANSWERED
                    if recent or answered > self.now:
                        status = ExpertiseRequest.Status.OPEN
                    elif draw < 0.03:
                        status = ExpertiseRequest.Status.WITHDRAWN
                    withdrawn_at = None
                    if status == ExpertiseRequest.Status.ANSWERED:
                        erased_at = answered + dt.timedelta(
                            days=retention.EXPERTISE_AFTER_ANSWER_DAYS
                        )
                    elif status == ExpertiseRequest.Status.WITHDRAWN:
                        # Withdrawn before an answer; withdrawing erases at once
                        # (services/expertise.py).
                        withdrawn_at = erased_at = asked + (answered - asked) / 2
                    else:
                        erased_at = asked + dt.timedelta(days=retention.EXPERTISE_UNANSWERED_DAYS)
                    if erased_at > self.now:
                        erased_at = None  # the retention job has not erased it yet
                    requester = rng.choice(generalists)
                    theirs = [
                        p
                        for p in seen[requester.pk].values()
                        if asked_about[(p.pk, day.year)] < EXPERTISE_PER_PATIENT_YEAR
                    ] or patients
                    patient = rng.choice(theirs)
                    asked_about[(patient.pk, day.year)] += 1
                    requests.append(
                        ExpertiseRequest(
                            requester_id=requester.pk,
                            expert_id=rng.choice(experts).pk,
                            specialty_id=specialty.pk,
                            patient_id=patient.pk,
                            question="" if erased_at else QUESTION,
                            answer=(
                                ANSWER
                                if status == ExpertiseRequest.Status.ANSWERED and not erased_at
                                else ""
                            ),
                            content_erased_at=erased_at,
                            withdrawn_at=withdrawn_at,
                            status=status,
                            asked_at=asked,
                            answered_at=(
                                answered if status == ExpertiseRequest.Status.ANSWERED else None
                            ),
                            is_demo=True,
                        )
                    )
            day += dt.timedelta(days=1)
        ExpertiseRequest.objects.bulk_create(requests, batch_size=500)
        ExpertiseRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
            created_at=F("asked_at")
        )
        report.created[ExpertiseRequest._meta.label] += len(requests)
        report.counts["expertise_requests"] = len(requests)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                spans.append((start, end))
    return spans


# --- Cost ledger ---------------------------------------------------------------------------
def _ledger(network: _Network, today: dt.date, rng: random.Random) -> list[CostEntry]:
    """What each site costs and received, and the network's own costs; written once."""
    Cat, Rec = CostEntry.Category, CostEntry.Recurrence
    rows: list[CostEntry] = []
    for spec, site in network.sites:
        opened = site.opened_on or _months_before(today, spec.opened_months_ago)
        # Carts bought long ago were renewed: the purchase still depreciated is the latest.
        renewal = max(opened, _months_before(today, rng.randint(30, 44)))
        renewed = renewal > opened
        cart = Decimal(rng.randrange(15_000, 25_001, 250))
        devices = Decimal(rng.randrange(2_500, 6_001, 100))
        label = (
            "Renouvellement du chariot de téléconsultation"
            if renewed
            else "Chariot de téléconsultation (achat)"
        )
        entries = [
            (Cat.EQUIPMENT, label, "", cart, Rec.ONE_OFF, renewal, 60),
            (Cat.EQUIPMENT, "Objets connectés (achat)", "", devices, Rec.ONE_OFF, renewal, 60),
            (
                Cat.LICENCE,
                "Licence de la solution de téléconsultation",
                "",
                Decimal(rng.randrange(80, 151, 5)),
                Rec.MONTHLY,
                opened,
                None,
            ),
            (
                Cat.CONNECTIVITY,
                "Abonnement internet du chariot",
                "",
                Decimal({C.SATELLITE: 65, C.MOBILE: 45}.get(site.connection, 35)),
                Rec.MONTHLY,
                opened,
                None,
            ),
            (
                Cat.COORDINATION,
                "Temps de coordination de l'infirmière référente",
                "",
                Decimal(rng.randrange(200, 451, 10)),
                Rec.MONTHLY,
                opened,
                None,
            ),
            (
                Cat.MAINTENANCE,
                "Contrat de maintenance du chariot",
                "",
                Decimal(rng.randrange(900, 1_501, 50)),
                Rec.YEARLY,
                opened,
                None,
            ),
            (
                Cat.GRANT,
                "Aide européenne à l'équipement",
                "FEDER (Union européenne)",
                (cart * Decimal("0.4")).quantize(Decimal("1")),
                Rec.ONE_OFF,
                renewal,
                60,
            ),
            (
                Cat.GRANT,
                "Aide départementale à l'équipement en télémédecine",
                "Département du Cantal",
                (cart * Decimal("0.2")).quantize(Decimal("1")),
                Rec.ONE_OFF,
                renewal,
                60,
            ),
        ]
        for category, label, funder, amount, recurrence, starts_on, months in entries:
            rows.append(
                CostEntry(
                    site=site,
                    category=category,
                    label=label,
                    funder=funder,
                    amount=amount,
                    recurrence=recurrence,
                    starts_on=starts_on,
                    depreciation_months=months,
                    is_demo=True,
                )
            )
    network_start = _months_before(today, 36)
    rows += [
        CostEntry(
            site=None,
            category=Cat.LICENCE,
            label="Plateforme départementale de télémédecine (licence)",
            amount=Decimal(1_200),
            recurrence=Rec.MONTHLY,
            starts_on=network_start,
            is_demo=True,
        ),
        CostEntry(
            site=None,
            category=Cat.COORDINATION,
            label="Coordination départementale de la télémédecine (0,5 ETP)",
            amount=Decimal(2_400),
            recurrence=Rec.MONTHLY,
            starts_on=network_start,
            is_demo=True,
        ),
        CostEntry(
            site=None,
            category=Cat.OTHER,
            label="Formation des équipes des sites",
            amount=Decimal(6_000),
            recurrence=Rec.YEARLY,
            starts_on=network_start,
            is_demo=True,
        ),
    ]
    return rows


# --- Acts ----------------------------------------------------------------------------------
class _Tariffs:
    """The tariff in force on a day, by code, and the yearly caps per patient."""

    def __init__(self) -> None:
        self.rows: dict[str, list[ActTariff]] = defaultdict(list)
        for tariff in ActTariff.objects.order_by("code", "valid_from"):
            self.rows[tariff.code].append(tariff)
        self.used: Counter = Counter()  # (patient id, code, year) → acts

    def __bool__(self) -> bool:
        return bool(self.rows)

    def on(self, code: str, day: dt.date) -> ActTariff | None:
        for tariff in self.rows.get(code, ()):
            if tariff.valid_from <= day and (
                tariff.valid_until is None or day <= tariff.valid_until
            ):
                return tariff
        return None

    def take(self, code: str, patient_id: int, day: dt.date) -> ActTariff | None:
        """The tariff, counted against the patient's yearly cap; None when none applies."""
        tariff = self.on(code, day)
        if tariff is None:
            return None
        key = (patient_id, code, day.year)
        if tariff.yearly_cap_per_patient is not None and self.used[key] >= (
            tariff.yearly_cap_per_patient
        ):
            return None
        self.used[key] += 1
        return tariff


def _code_acts(report: TelehealthDemoReport, tz: ZoneInfo) -> None:
    """Acts of the demo sessions and téléexpertises, when tariffs exist and none is coded."""
    demo_acts = Act.objects.filter(Q(consultation__is_demo=True) | Q(expertise__is_demo=True))
    if demo_acts.exists():
        report.unchanged[Act._meta.label] += demo_acts.count()
        return
    tariffs = _Tariffs()
    if not tariffs:
        message = (
            "Aucun tarif d'acte n'est enregistré : les actes de démonstration ne sont pas "
            "codés (relancez la commande une fois les tarifs chargés)."
        )
        logger.warning(message)
        report.messages.append(message)
        return
    # Acts already coded for these patients (outside the demo) count against the caps.
    for patient_id, code, day in Act.objects.filter(patient__is_demo=True).values_list(
        "patient_id", "code", "performed_on"
    ):
        tariffs.used[(patient_id, code, day.year)] += 1
    acts: list[Act] = []

    def code(tariff_code: str, day: dt.date, patient_id: int, professional_id: int, **origin):
        tariff = tariffs.take(tariff_code, patient_id, day)
        if tariff is not None:
            acts.append(
                Act(
                    patient_id=patient_id,
                    professional_id=professional_id,
                    tariff_id=tariff.pk,
                    code=tariff.code,
                    role=tariff.role,
                    amount=tariff.amount,
                    performed_on=day,
                    coded_by_id=origin.pop("coded_by_id"),
                    **origin,
                )
            )

    held = (
        Consultation.objects.filter(
            is_demo=True, status__in=[Consultation.Status.DONE, Consultation.Status.INCIDENT]
        )
        .order_by("scheduled_start", "pk")
        .values_list(
            "pk",
            "scheduled_start",
            "patient_id",
            "practitioner__kind",
            "practitioner__user_id",
            "assistant__kind",
            "assistant__user_id",
            "site__kind",
        )
    )
    for pk, start, patient, kind, doctor, assistant_kind, assistant, site_kind in held:
        day = start.astimezone(tz).date()
        specialist_code = kind == SPE and tariffs.on("TC", day) is not None
        code(
            "TC" if specialist_code else "TCG",
            day,
            patient,
            doctor,
            consultation_id=pk,
            coded_by_id=doctor,
        )
        if assistant is not None:
            if assistant_kind == PHARMACIST:
                assistant_code = "TLM"
            else:
                # During a planned nurse visit in a care home; at a dedicated place elsewhere.
                assistant_code = "TLS" if site_kind == K.CARE_HOME else "TLL"
            code(assistant_code, day, patient, assistant, consultation_id=pk, coded_by_id=doctor)
    answered = (
        ExpertiseRequest.objects.filter(is_demo=True, status=ExpertiseRequest.Status.ANSWERED)
        .order_by("answered_at", "pk")
        .values_list("pk", "answered_at", "patient_id", "expert__user_id", "requester__user_id")
    )
    for pk, answered_at, patient, expert, requester in answered:
        day = answered_at.astimezone(tz).date()
        code("TE2", day, patient, expert, expertise_id=pk, coded_by_id=expert)
        code("RQD", day, patient, requester, expertise_id=pk, coded_by_id=requester)
    Act.objects.bulk_create(acts, batch_size=1000)
    report.created[Act._meta.label] += len(acts)
    report.counts["acts"] = len(acts)


# The sessions that took the patient's time, held or not: the trip to the hospital they avoid.
TRIP_STATUSES = (
    Consultation.Status.DONE,
    Consultation.Status.INCIDENT,
    Consultation.Status.NOT_HELD,
)


def _record_trips() -> int:
    """Copy its site's trip to the reference hospital onto each demo session closed without
    one, as closing a session does (services/sessions.py), in one statement; return how many."""
    site = Site.objects.filter(pk=OuterRef("site_id"))
    return (
        Consultation.objects.filter(is_demo=True, status__in=TRIP_STATUSES)
        .filter(Q(trip_km__isnull=True) | Q(trip_minutes__isnull=True))
        .update(
            trip_km=Subquery(site.values("hospital_distance_km")[:1]),
            trip_minutes=Subquery(site.values("hospital_travel_minutes")[:1]),
        )
    )


@transaction.atomic
def seed_telehealth_demo(
    *, today: dt.date | None = None, now: dt.datetime | None = None, seed: int = 15
) -> TelehealthDemoReport:
    """Create or refresh the demo network, write its two years once and code its acts when
    the tariffs are there; see the module's docstring. Raises DemoError when demo data is not
    allowed or `seed_demo` has not run."""
    check_demo_allowed()
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    report = TelehealthDemoReport()
    writer = DemoWriter()
    writer.report = report
    network = _network(writer, today)
    if Consultation.objects.filter(is_demo=True).exists():
        report.already_there = True
        for model in (Consultation, Patient, ExpertiseRequest, CostEntry):
            report.unchanged[model._meta.label] += model.objects.filter(is_demo=True).count()
        # A demo seeded before sessions kept their trip gets it once.
        if repaired := _record_trips():
            report.updated[Consultation._meta.label] += repaired
            report.unchanged[Consultation._meta.label] -= repaired
    else:
        history = _History(network, today, now, seed)
        history.build()
        history.write(report)
        _record_trips()
        history.expertise(report)
        ledger = _ledger(network, today, history.rng)
        CostEntry.objects.bulk_create(ledger)
        report.created[CostEntry._meta.label] += len(ledger)
        report.counts["costs"] = len(ledger)
        report.counts["not_placed"] = history.skipped
    _code_acts(report, ZoneInfo(settings.TIME_ZONE))
    return report
