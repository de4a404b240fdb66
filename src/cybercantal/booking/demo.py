"""Demo data of the booking engine: services and bookable resources at the demo places.

Run by `manage.py seed_demo` through core.registries.demo_seeders (registered in
BookingConfig.ready()), after core's demo organisations, places and accounts, in the same
transaction. Like them, every resource is marked is_demo=True and named "(démo)", and seeding is
idempotent: services are found by code, resources by name and organisation, and nothing is
written when it already matches (a second run reports everything unchanged).

What it creates:
- in each of the 14 tiers-lieux, a pool of shared desks (6 to 12 places, at most 2 upcoming
  bookings per person, open to anyone) and a meeting room (for account holders), open at the
  place's hours;
- two digital mediators, one of them the demo mediator's account, on an itinerant weekly tour:
  a different place each weekday, and a stop on the 1st and 3rd Tuesday of the month;
- two collective workshops (several places each);
- a teleconsultation cabin or room at each teleconsultation place, the non-public ones
  included, booked by agents (the nurse, the pharmacist, the Département), and the demo
  doctor's teleconsultation hours, to book together with a cabin;
- two equipment kits lent to schools, each loan validated by an agent of the Département.
"""

from dataclasses import dataclass, field
from datetime import time

from cybercantal.accounts.models import User
from cybercantal.core.demo import (
    HEALTH_CENTRE,
    ORGANISATIONS,
    PLACES,
    TELEHEALTH_ROOM,
    TIERS_LIEUX,
    UNCHANGED,
    UPDATED,
    DemoSeedReport,
    DemoWriter,
    Hours,
    opening_periods,
)
from cybercantal.territory.models import Organisation, Place

from .models import AvailabilityRule, Resource, Service
from .rules_cache import rules_changed

Kind, BookableBy = Resource.Kind, Resource.BookableBy


@dataclass(frozen=True)
class DemoService:
    code: str
    label: str
    description: str
    default_duration_minutes: int


SERVICES = [
    DemoService(
        "coworking_desk_day",
        "Poste de travail en tiers-lieu (à la journée)",
        "Un bureau dans l'espace partagé d'un tiers-lieu, pour une journée ou quelques heures.",
        480,
    ),
    DemoService(
        "meeting_room_hour",
        "Salle de réunion (à l'heure)",
        "Une salle fermée avec écran et visioconférence, réservée à l'heure.",
        60,
    ),
    DemoService(
        "digital_mediation",
        "Rendez-vous de médiation numérique",
        "Un conseiller numérique aide à utiliser un ordinateur, un téléphone ou à faire une "
        "démarche en ligne.",
        30,
    ),
    DemoService(
        "collective_workshop",
        "Atelier numérique collectif",
        "Un atelier en petit groupe : premiers pas sur tablette, courriel, sécurité en ligne…",
        120,
    ),
    DemoService(
        "teleconsultation",
        "Téléconsultation assistée",
        "Une consultation médicale à distance, avec l'aide d'une infirmière ou d'un pharmacien.",
        30,
    ),
    DemoService(
        "equipment_loan",
        "Prêt de matériel numérique aux écoles",
        "Tablettes, robots ou classe mobile prêtés pour la journée, livrés par le technicien.",
        480,
    ),
]


@dataclass(frozen=True)
class Policy:
    slot_minutes: int = 30
    min_duration_minutes: int = 30
    max_duration_minutes: int = 480
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 60
    horizon_days: int = 90
    cancellation_deadline_hours: int = 24
    approval_required: bool = False
    bookable_by: str = BookableBy.ANYONE
    max_future_bookings_per_person: int = 0
    observes_public_holidays: bool = True
    reminder_hours_before: int = 24


DESK_POOL = Policy(
    slot_minutes=30,
    min_duration_minutes=60,
    max_duration_minutes=600,
    min_notice_minutes=30,
    horizon_days=60,
    cancellation_deadline_hours=12,
    max_future_bookings_per_person=2,
)
MEETING_ROOM = Policy(
    slot_minutes=30,
    min_duration_minutes=60,
    max_duration_minutes=480,
    bookable_by=BookableBy.ACCOUNT_HOLDERS,
)
# A mediator needs a moment after each appointment (notes, the next person, the road).
MEDIATOR = Policy(
    slot_minutes=30,
    min_duration_minutes=30,
    max_duration_minutes=90,
    buffer_before_minutes=5,
    buffer_after_minutes=10,
    min_notice_minutes=120,
    horizon_days=60,
)
WORKSHOP = Policy(
    slot_minutes=60,
    min_duration_minutes=120,
    max_duration_minutes=120,
    horizon_days=60,
    max_future_bookings_per_person=2,
)
# By the quarter hour, like telehealth's agendas (telehealth/services/network.py): the
# telehealth demo makes these cabins its sites' carts and the doctor's agenda a practitioner's,
# whose protocols last 30 or 45 minutes.
TELECONSULTATION = Policy(
    slot_minutes=15,
    min_duration_minutes=15,
    max_duration_minutes=60,
    min_notice_minutes=0,
    horizon_days=30,
    cancellation_deadline_hours=2,
    bookable_by=BookableBy.AGENTS,
    reminder_hours_before=24,
)
EQUIPMENT = Policy(
    slot_minutes=60,
    min_duration_minutes=60,
    max_duration_minutes=480,
    min_notice_minutes=2 * 24 * 60,
    horizon_days=120,
    cancellation_deadline_hours=48,
    approval_required=True,
    bookable_by=BookableBy.ACCOUNT_HOLDERS,
)


@dataclass(frozen=True)
class Rule:
    weekday: int  # 0 = Monday
    start: str
    end: str
    place: str | None = None  # a demo place's name; None: the resource's usual place
    weeks_of_month: str = ""


@dataclass(frozen=True)
class DemoResource:
    name: str
    kind: str
    place: str  # name of a demo place (core.demo.PLACES)
    organisation: str  # key in core.demo.ORGANISATIONS
    services: tuple[str, ...]
    policy: Policy
    rules: tuple[Rule, ...]
    capacity: int = 1
    description: str = ""
    person: str | None = None  # username of a demo account


def rules_from_hours(hours: Hours, *, place: str | None = None) -> tuple[Rule, ...]:
    """Weekly rules matching a place's opening hours (core.demo's OpenStreetMap-like spec)."""
    return tuple(
        Rule(weekday, f"{opens:%H:%M}", f"{closes:%H:%M}", place)
        for weekday, opens, closes in sorted(opening_periods(hours))
    )


def _place_spec(name: str):
    return next(spec for spec in PLACES if spec.name == name)


DESK_CAPACITIES = (12, 10, 8, 6, 10, 8, 6, 6, 6, 8, 10, 6, 8, 6)  # one per tiers-lieu


def _tiers_lieu_resources() -> list[DemoResource]:
    resources = []
    for spec, capacity in zip(TIERS_LIEUX, DESK_CAPACITIES, strict=True):
        hours = rules_from_hours(spec.hours)
        resources += [
            DemoResource(
                f"Bureaux partagés — {spec.name}",
                Kind.DESK_POOL,
                spec.name,
                spec.organisation,
                ("coworking_desk_day",),
                DESK_POOL,
                hours,
                capacity=capacity,
                description=f"Espace de travail partagé de {capacity} postes : bureau, écran, "
                "prise, wifi et café. Deux réservations à venir par personne au plus.",
            ),
            DemoResource(
                f"Salle de réunion — {spec.name}",
                Kind.ROOM,
                spec.name,
                spec.organisation,
                ("meeting_room_hour",),
                MEETING_ROOM,
                hours,
                description="Salle fermée de 8 places, écran et matériel de visioconférence.",
            ),
        ]
    return resources


SAINT_FLOUR = "Espace France Services de Saint-Flour (démo)"
MAURS = "Espace France Services de Maurs (démo)"
MORNING_AND_AFTERNOON = (("09:00", "12:00"), ("13:30", "17:00"))


def _day(weekday: int, place: str, spans=MORNING_AND_AFTERNOON, weeks: str = "") -> list[Rule]:
    return [Rule(weekday, start, end, place, weeks) for start, end in spans]


MORNING = (("09:00", "12:00"),)

MEDIATORS = [
    DemoResource(
        "Inès Lafarge, conseillère numérique (démo)",
        Kind.PERSON,
        SAINT_FLOUR,
        "fs_saint_flour",
        ("digital_mediation",),
        MEDIATOR,
        (
            *_day(0, SAINT_FLOUR),
            # The 1st and 3rd Tuesday at Allanche's town hall; the other Tuesdays at
            # Riom-ès-Montagnes, 20 km further.
            *_day(1, "Mairie d'Allanche (démo)", MORNING, weeks="1,3"),
            *_day(1, "L'Espace Gentiane (démo)", weeks="2,4,5"),
            *_day(2, "L'Alagnon Coworking (démo)"),
            *_day(3, "Les Sources partagées (démo)", (("09:00", "12:00"), ("13:30", "16:30"))),
            *_day(4, "La Cabane connectée (démo)", MORNING),
        ),
        person="demo-mediateur",
        description="Conseillère numérique itinérante : une commune différente chaque jour de "
        "la semaine, et la mairie d'Allanche les 1er et 3e mardis du mois.",
    ),
    DemoResource(
        "Conseiller numérique de la Châtaigneraie (démo)",
        Kind.PERSON,
        MAURS,
        "fs_maurs",
        ("digital_mediation",),
        MEDIATOR,
        (
            *_day(0, MAURS),
            *_day(1, "La Fabrique du Bassin (démo)"),
            *_day(2, "La Cère connectée (démo)", (("14:00", "17:00"),)),
            *_day(3, "La Châtaigneraie numérique (démo)", MORNING),
            *_day(4, MAURS, MORNING),
        ),
        description="Permanences itinérantes autour de Maurs, et le mardi à Aurillac.",
    ),
]

WORKSHOPS = [
    DemoResource(
        "Atelier numérique du mercredi — Médiathèque de Vic-sur-Cère (démo)",
        Kind.WORKSHOP,
        "Médiathèque de Vic-sur-Cère (démo)",
        "vic",
        ("collective_workshop",),
        WORKSHOP,
        (Rule(2, "14:00", "16:00"),),
        capacity=8,
        description="Atelier de deux heures en petit groupe ; tablettes prêtées sur place.",
    ),
    DemoResource(
        "Atelier « premiers pas sur tablette » — L'Espace Gentiane (démo)",
        Kind.WORKSHOP,
        "L'Espace Gentiane (démo)",
        "gentiane",
        ("collective_workshop", "digital_mediation"),
        WORKSHOP,
        (Rule(3, "14:00", "16:00"),),
        capacity=6,
        description="Pour débuter : allumer, se connecter au wifi, envoyer une photo.",
    ),
]

# Place → (resource, organisation, hours): the rooms and carts of the two care homes are not
# public places; their staff book them for a resident.
TELEHEALTH = {
    "Salle de téléconsultation — EHPAD Les Gentianes (démo)": (
        "Salle de téléconsultation — EHPAD Les Gentianes (démo)",
        "ehpad_condat",
        TELEHEALTH_ROOM,
    ),
    "Chariot de téléconsultation — EHPAD Le Val d'Alagnon (démo)": (
        "Chariot de téléconsultation — EHPAD Le Val d'Alagnon (démo)",
        "ehpad_massiac",
        TELEHEALTH_ROOM,
    ),
    "Maison de santé des Monts (démo)": (
        "Cabine de téléconsultation — Maison de santé des Monts (démo)",
        "msp_pleaux",
        HEALTH_CENTRE,
    ),
    "Centre de santé de la Truyère (démo)": (
        "Cabine de téléconsultation — Centre de santé de la Truyère (démo)",
        "cs_chaudes_aigues",
        HEALTH_CENTRE,
    ),
    "Cabine de téléconsultation — Pharmacie du Cézallier (démo)": (
        "Cabine connectée — Pharmacie du Cézallier (démo)",
        "pharmacy_allanche",
        HEALTH_CENTRE,
    ),
}


def _telehealth_resources() -> list[DemoResource]:
    resources = [
        DemoResource(
            name,
            Kind.CABIN,
            place,
            organisation,
            ("teleconsultation",),
            TELECONSULTATION,
            rules_from_hours(hours),
            description="Réservée par le personnel du lieu pour la personne qu'il accompagne : "
            "caméra, stéthoscope et otoscope connectés.",
        )
        for place, (name, organisation, hours) in TELEHEALTH.items()
    ]
    resources.append(
        DemoResource(
            "Dr Paul Mazeyrac, téléconsultations (démo)",
            Kind.PERSON,
            "Maison de santé des Monts (démo)",
            "msp_pleaux",
            ("teleconsultation",),
            TELECONSULTATION,
            (Rule(1, "09:00", "12:00"), Rule(3, "09:00", "12:00")),
            person="demo-medecin",
            description="Médecin généraliste (fictif) : téléconsultations le mardi et le jeudi "
            "matin, à réserver avec une cabine.",
        )
    )
    return resources


SCHOOL_DAYS = (("Mo,Tu,Th,Fr", (("08:30", "16:30"),)),)
EQUIPMENT_KITS = [
    DemoResource(
        "Valise de 16 tablettes (démo)",
        Kind.EQUIPMENT,
        "Point numérique du Département (démo)",
        "department",
        ("equipment_loan",),
        EQUIPMENT,
        rules_from_hours(SCHOOL_DAYS),
        description="Seize tablettes et leur borne wifi, prêtées à une école pour la journée ; "
        "livrées et reprises par le technicien du Département.",
    ),
    DemoResource(
        "Kit de robots programmables (démo)",
        Kind.EQUIPMENT,
        "Point numérique du Département (démo)",
        "department",
        ("equipment_loan",),
        EQUIPMENT,
        rules_from_hours(SCHOOL_DAYS),
        description="Huit robots de sol et leurs cartes de programmation, pour le cycle 2.",
    ),
]


def demo_resources() -> list[DemoResource]:
    return [
        *_tiers_lieu_resources(),
        *MEDIATORS,
        *WORKSHOPS,
        *_telehealth_resources(),
        *EQUIPMENT_KITS,
    ]


@dataclass
class _Lookups:
    places: dict[str, Place] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def _lookups(resources: list[DemoResource]) -> _Lookups:
    place_names = {r.place for r in resources} | {
        rule.place for r in resources for rule in r.rules if rule.place
    }
    for name in place_names:
        _place_spec(name)  # StopIteration here means a typo in a name above
    organisation_names = {
        ORGANISATIONS[key].name: key for key in {r.organisation for r in resources}
    }
    return _Lookups(
        places={p.name: p for p in Place.objects.filter(name__in=place_names, is_demo=True)},
        organisations={
            organisation_names[o.name]: o
            for o in Organisation.objects.filter(name__in=organisation_names, is_demo=True)
        },
        users={
            u.username: u
            for u in User.objects.filter(
                username__in={r.person for r in resources if r.person}, is_demo=True
            )
        },
    )


def _rule_rows(spec: DemoResource, places: dict[str, Place]) -> set[tuple]:
    return {
        (
            rule.weekday,
            time.fromisoformat(rule.start),
            time.fromisoformat(rule.end),
            rule.weeks_of_month,
            places[rule.place].pk if rule.place else None,
        )
        for rule in spec.rules
    }


def _sync_rules(resource: Resource, wanted: set[tuple]) -> bool:
    current = set(
        resource.availability_rules.filter(valid_from=None, valid_until=None).values_list(
            "weekday", "start_time", "end_time", "weeks_of_month", "place_id"
        )
    )
    if current == wanted and resource.availability_rules.count() == len(wanted):
        return False
    resource.availability_rules.all().delete()
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(
            resource=resource,
            weekday=weekday,
            start_time=start,
            end_time=end,
            weeks_of_month=weeks,
            place_id=place_id,
        )
        for weekday, start, end, weeks, place_id in sorted(wanted, key=str)
    )
    rules_changed([resource.pk])
    return True


def _sync_services(resource: Resource, wanted: list[Service]) -> bool:
    if set(resource.services.all()) == set(wanted):
        return False
    resource.services.set(wanted)
    return True


def seed_booking_demo() -> DemoSeedReport:
    """Create or refresh the booking demo data; needs core's demo data (seeded just before)."""
    writer = DemoWriter()
    services = {}
    for spec in SERVICES:
        services[spec.code], status = writer.sync(
            Service,
            {"code": spec.code},
            {
                "label": spec.label,
                "description": spec.description,
                "default_duration_minutes": spec.default_duration_minutes,
            },
        )
        writer.tally(Service, status)

    resources = demo_resources()
    found = _lookups(resources)
    for spec in resources:
        resource, status = writer.sync(
            Resource,
            {"name": spec.name, "organisation_id": found.organisations[spec.organisation].pk},
            {
                "kind": spec.kind,
                "description": spec.description,
                "place_id": found.places[spec.place].pk,
                "person_id": found.users[spec.person].pk if spec.person else None,
                "capacity": spec.capacity,
                "is_active": True,
                "is_demo": True,
                **vars(spec.policy),
            },
        )
        rules_were_changed = _sync_rules(resource, _rule_rows(spec, found.places))
        services_changed = _sync_services(resource, [services[code] for code in spec.services])
        if status == UNCHANGED and (rules_were_changed or services_changed):
            status = UPDATED
        writer.tally(Resource, status)
    return writer.report
