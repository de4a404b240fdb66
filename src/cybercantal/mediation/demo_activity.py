"""A demo year of digital mediation, after `manage.py seed_demo`:
`manage.py seed_mediation_activity`.

For the four demo mediation structures (the France Services of Saint-Flour and of the
Châtaigneraie, the Département's digital point, the library of Vic-sur-Cère), each with one or
two mediators (the demo mediator's account and fictional colleagues: accounts is_demo,
"(démo)" names, no usable password, a mediator membership):
- about 600 beneficiaries (15 % anonymous) living in the Cantal, more of them near the
  structure's places, mostly elderly;
- about 2,500 activity reports over the 12 months before today, with seasons (tax returns in
  spring, a quiet August and Christmas, a busy autumn): individual help at the place, at home
  or by phone, with the themes of a rural département (papers, social, money, e-mail,
  health…), people coming back and getting more autonomous; and a weekly workshop per
  structure (fewer in summer), some of its participants named.
- itinerant tours of the two demo mediators (booking resources) with stops in small communes
  for the coming six weeks, written through services.tours (tour_create, tour_stop_add) so that
  each stop makes the mediator bookable there.

Speed: activity_record and beneficiary_create write one row at a time with checks and an audit
row; the year is written with bulk_create instead, keeping what they guarantee: at least one
known theme, an individual report has one person at most and one participant, a workshop has a
title, a level and at least as many participants as named people, a report at a mediation place
takes the place's commune, no report after today, people belong to the structure that helps
them, named people have their consent date. No audit rows (nobody did it).
Random but deterministic (a fixed seed). Idempotent: when the demo colleagues exist the year is
not written again; the tours' missing stops in the coming weeks are added at every run."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from cybercantal.accounts.models import Membership, Role, User
from cybercantal.booking import availability as av
from cybercantal.booking.models import Resource
from cybercantal.core.demo import ORGANISATIONS, DemoError, check_demo_allowed
from cybercantal.core.geo import great_circle_km
from cybercantal.territory.models import Commune, Organisation, Place

from .models import Activity, Beneficiary, Tour, TourStop

USERNAME = "demo-mediation-{:02d}"
# Structure key (core.demo.ORGANISATIONS) → (accompaniments per working day at the busiest
# season, share of beneficiaries, fictional colleagues (first name, last name)).
STRUCTURES = {
    "fs_saint_flour": (3.0, 0.3, [("Thomas", "Vidal (démo)")]),
    "fs_maurs": (2.2, 0.25, [("Julien", "Cabrespine (démo)"), ("Maëlle", "Lacoste (démo)")]),
    "department": (3.4, 0.33, [("Sophie", "Delort (démo)")]),
    "vic": (0.8, 0.12, [("Nadia", "Bousquet (démo)")]),
}
BENEFICIARIES = 600
ANONYMOUS = 0.15
UNRECORDED = 0.22  # accompaniments noted without a beneficiary (a quick question at the desk)
SEASON = {1: 1.0, 2: 0.95, 3: 1.05, 4: 1.2, 5: 1.15, 6: 0.95, 7: 0.75, 8: 0.45, 9: 1.1}
SEASON |= {10: 1.15, 11: 1.05, 12: 0.7}
FIRST_NAMES = ["Marie", "Jean", "Germaine", "Raymond", "Odette", "Pierre", "Simone", "André"]
FIRST_NAMES += ["Yvette", "Marcel", "Paulette", "Roger", "Josette", "Lucien", "Ginette"]
FIRST_NAMES += ["Bernard", "Monique", "Michel", "Nathalie", "Sébastien", "Kevin", "Laura"]
FIRST_NAMES += ["Amandine", "Fatima", "Joseph", "Denise", "Henri", "Colette", "Gérard"]
AGE_BANDS = [("70_plus", 34), ("60_70", 26), ("35_60", 22), ("18_35", 12), ("moins_18", 2)]
AGE_BANDS += [("inconnu", 4)]
# Themes and their weights: procedures and everyday skills of a rural, ageing département.
THEME_WEIGHTS = {
    "papiers": 16,
    "social": 14,
    "argent": 12,
    "courriel": 12,
    "navigation": 8,
    "sante": 9,
    "equipement": 9,
    "travail": 6,
    "logement": 4,
    "transports": 4,
    "famille": 3,
    "banque_achats": 5,
    "securite": 5,
    "fichiers": 3,
    "insertion": 3,
    "reseaux_sociaux": 2,
    "parentalite": 2,
    "bureautique": 2,
    "diagnostic": 2,
    "etrangers": 1,
    "justice": 1,
}
REDIRECT_WEIGHTS = {"caf": 5, "cpam": 4, "france_travail": 3, "impots": 3, "mairie": 3}
REDIRECT_WEIGHTS |= {"prefecture": 3, "ccas": 2, "france_services": 2, "autre": 1}
WORKSHOPS = [
    ("Premiers pas sur tablette", "debutant", ["equipement"]),
    ("Créer et utiliser son adresse e-mail", "debutant", ["courriel"]),
    ("FranceConnect et Mon Espace Santé", "intermediaire", ["sante", "navigation"]),
    ("Déclarer ses revenus en ligne", "intermediaire", ["argent"]),
    ("Éviter les arnaques en ligne", "debutant", ["securite"]),
    ("Ranger ses photos et ses documents", "intermediaire", ["fichiers"]),
    ("Faire une visio avec ses petits-enfants", "debutant", ["reseaux_sociaux"]),
    ("Acheter et vendre en ligne", "avance", ["banque_achats"]),
]
# Tours in the coming weeks: (structure, name, description, [(weekday, place, start, end,
# weeks of the month)]), on hours when the mediator has no weekly rule elsewhere.
TOURS = [
    (
        "fs_saint_flour",
        "Tournée du Cézallier et de l'Artense (démo)",
        "Une permanence numérique le vendredi après-midi dans les bourgs éloignés.",
        [
            (4, "Le Fromager numérique (démo)", "14:00", "16:30", (1, 3, 5)),
            (4, "La Buronnerie (démo)", "14:00", "16:30", (2, 4)),
        ],
    ),
    (
        "fs_maurs",
        "Tournée des bourgs de la Châtaigneraie et des Monts (démo)",
        "Le mercredi matin et le vendredi après-midi, au plus près des habitants.",
        [
            (2, "Le Hangar de Pleaux (démo)", "09:00", "12:00", (1, 3, 5)),
            (2, "Mairie de Salers (démo)", "09:30", "12:00", (2, 4)),
            (4, "La Cère connectée (démo)", "14:00", "17:00", (1, 2, 3, 4, 5)),
        ],
    ),
]
TOUR_WEEKS = 6


@dataclass
class MediationActivityReport:
    already_there: bool = False
    counts: Counter = field(default_factory=Counter)


@dataclass
class _Structure:
    organisation: Organisation
    rate: float
    share: float
    mediators: list[User]
    places: list[Place]
    communes: list[int]  # commune ids, drawn with the weights below
    weights: list[float]
    people: list[Beneficiary] = field(default_factory=list)


def _working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    holidays = set(av.public_holidays(start.year)) | set(av.public_holidays(end.year))
    days, day = [], start
    while day <= end:
        if day.weekday() < 5 and day not in holidays:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _organisation(key: str) -> Organisation:
    organisation = Organisation.objects.filter(name=ORGANISATIONS[key].name).first()
    if organisation is None:
        raise DemoError("Lancez d'abord : manage.py seed_demo")
    return organisation


def _structures(rng: random.Random) -> list[_Structure]:
    """The demo structures, their mediators (colleagues created here) and nearby communes."""
    communes = list(
        Commune.objects.filter(department_code="15", latitude__isnull=False).values_list(
            "pk", "latitude", "longitude", "population"
        )
    )
    unusable = make_password(None)
    structures, number = [], 0
    existing = User.objects.filter(username="demo-mediateur").first()
    for key, (rate, share, colleagues) in STRUCTURES.items():
        organisation = _organisation(key)
        mediators = []
        if (
            existing is not None
            and existing.memberships.filter(
                organisation=organisation, role=Role.MEDIATOR, is_active=True
            ).exists()
        ):
            mediators.append(existing)
        for first_name, last_name in colleagues:
            number += 1
            username = USERNAME.format(number)
            user = User.objects.create(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@demo.example.org",
                is_demo=True,
                password=unusable,  # these colleagues never log in
            )
            Membership.objects.create(user=user, organisation=organisation, role=Role.MEDIATOR)
            mediators.append(user)
        places = list(
            Place.objects.filter(organisation=organisation, is_demo=True, is_public=True)
            .select_related("commune")
            .order_by("pk")
        )
        if not places:
            raise DemoError(f"La structure « {organisation.name} » n'a pas de lieu de démo.")
        ids, weights = [], []
        for pk, lat, lon, population in communes:
            distance = min(great_circle_km(lat, lon, p.latitude, p.longitude) for p in places)
            if distance <= 45:
                ids.append(pk)
                # More people from near the place, and from bigger communes.
                weights.append((population or 100) ** 0.5 / (1 + distance / 6) ** 2)
        structures.append(_Structure(organisation, rate, share, mediators, places, ids, weights))
    return structures


def _beneficiaries(rng: random.Random, structures: list[_Structure], start: dt.date) -> int:
    tz = timezone.get_current_timezone()
    rows = []
    for structure in structures:
        count = round(BENEFICIARIES * structure.share / sum(s.share for s in structures))
        for index in range(count):
            anonymous = rng.random() < ANONYMOUS
            band = rng.choices([b for b, _ in AGE_BANDS], [w for _, w in AGE_BANDS])[0]
            status = (
                "retraite"
                if band in ("60_70", "70_plus")
                else rng.choice(["en_emploi", "sans_emploi", "sans_emploi", "inconnu"])
            )
            if band == "moins_18":
                status = "scolarise"
            phone = "" if anonymous or rng.random() < 0.4 else f"+33639{rng.randrange(10**6):06d}"
            person = Beneficiary(
                organisation=structure.organisation,
                is_anonymous=anonymous,
                first_name="" if anonymous else rng.choice(FIRST_NAMES),
                phone=phone,
                has_no_phone=not anonymous and not phone and rng.random() < 0.3,
                age_band=band,
                gender=rng.choice(["femme", "femme", "homme", "homme", "inconnu"]),
                status=status,
                commune_id=(
                    rng.choices(structure.communes, structure.weights)[0]
                    if rng.random() < 0.92
                    else None
                ),
                consent_at=None
                if anonymous
                else dt.datetime.combine(start, dt.time(10), tzinfo=tz),
                created_by=rng.choice(structure.mediators),
            )
            # The first visit decides which people come back often (the first drawn).
            rows.append(person)
            structure.people.append(person)
            del index
    Beneficiary.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _themes(rng: random.Random) -> list[str]:
    count = rng.choices([1, 2, 3], [55, 35, 10])[0]
    themes: list[str] = []
    while len(themes) < count:
        code = rng.choices(list(THEME_WEIGHTS), list(THEME_WEIGHTS.values()))[0]
        if code not in themes:
            themes.append(code)
    return themes


def _year(rng: random.Random, structures: list[_Structure], days: list[dt.date]):
    """Reports and their links to people, in memory."""
    activities: list[Activity] = []
    links: list[tuple[Activity, list[Beneficiary]]] = []
    level: dict[int, int] = {}  # id(person) → autonomy rank reached (0, 1, 2)
    scale = [a.value for a in Activity.Autonomy]
    for structure in structures:
        people = structure.people
        workshop_weekday = rng.randrange(0, 5)
        for day in days:
            season = SEASON[day.month]
            expected = structure.rate * season
            count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            count += rng.choice([-1, 0, 0, 1]) if count > 1 else 0
            for _ in range(max(count, 0)):
                person = None
                if people and rng.random() > UNRECORDED:
                    # Regulars: the first people drawn come back more often.
                    person = people[int(len(people) * rng.random() ** 1.8)]
                place_type = rng.choices(["lieu", "domicile", "distance", "autre"], [72, 9, 15, 4])[
                    0
                ]
                place = commune_id = None
                if place_type == "lieu":
                    place = rng.choice(structure.places)
                    commune_id = place.commune_id
                elif place_type != "distance":
                    commune_id = (person.commune_id if person else None) or rng.choices(
                        structure.communes, structure.weights
                    )[0]
                if person is not None:
                    key = id(person)
                    if key not in level:
                        level[key] = rng.choices([0, 1, 2], [55, 38, 7])[0]
                    elif level[key] < 2 and rng.random() < 0.3:
                        level[key] += 1
                    autonomy = scale[level[key]] if rng.random() < 0.92 else ""
                else:
                    autonomy = rng.choice([*scale, ""])
                activity = Activity(
                    organisation=structure.organisation,
                    mediator=rng.choice(structure.mediators),
                    kind="individuel",
                    day=day,
                    duration_minutes=rng.choice([15, 20, 30, 30, 45, 45, 60, 60, 90]),
                    place_type=place_type,
                    place=place,
                    commune_id=commune_id,
                    themes=_themes(rng),
                    equipment=[
                        rng.choices(["telephone", "ordinateur", "tablette", "aucun"], [5, 4, 2, 1])[
                            0
                        ]
                    ],
                    autonomy=autonomy,
                    redirected_to=rng.choices(
                        list(REDIRECT_WEIGHTS), list(REDIRECT_WEIGHTS.values())
                    )[0]
                    if rng.random() < 0.1
                    else "",
                )
                activities.append(activity)
                if person is not None:
                    links.append((activity, [person]))
            # A weekly workshop, one week in two in July and August.
            if day.weekday() == workshop_weekday and (
                day.month not in (7, 8) or day.isocalendar().week % 2 == 0
            ):
                title, workshop_level, themes = rng.choice(WORKSHOPS)
                place = structure.places[0]
                named = rng.sample(people, k=min(len(people), rng.randrange(0, 5)))
                activity = Activity(
                    organisation=structure.organisation,
                    mediator=rng.choice(structure.mediators),
                    kind="collectif",
                    day=day,
                    duration_minutes=rng.choice([90, 120, 120]),
                    place_type="lieu",
                    place=place,
                    commune_id=place.commune_id,
                    themes=list(themes),
                    equipment=["tablette" if "tablette" in title else "ordinateur"],
                    title=title,
                    level=workshop_level,
                    participants_count=max(len(named), rng.randrange(3, 9)),
                )
                activities.append(activity)
                if named:
                    links.append((activity, named))
    return activities, links


def _tours(today: dt.date) -> Counter:
    """The demo tours and their stops for the coming weeks, through the services; a stop already
    there (or refused: the mediator expected elsewhere, a past day) is left as it is."""
    from cybercantal.booking.errors import BookingError

    from .services.tours import tour_create, tour_stop_add

    counts: Counter = Counter()
    agent = User.objects.filter(username="demo-agent").first()
    if agent is None:
        return counts
    for key, name, description, stops in TOURS:
        organisation = _organisation(key)
        mediator = (
            Resource.objects.filter(
                organisation=organisation, kind=Resource.Kind.PERSON, is_demo=True
            )
            .order_by("pk")
            .first()
        )
        if mediator is None:
            continue
        tour = Tour.objects.filter(organisation=organisation, name=name).first()
        if tour is None:
            tour = tour_create(
                actor=agent,
                organisation=organisation,
                mediator=mediator,
                name=name,
                description=description,
            )
            Tour.objects.filter(pk=tour.pk).update(is_demo=True)
            counts["tours"] += 1
        taken = set(tour.stops.values_list("day", flat=True))
        places = {
            p.name: p for p in Place.objects.filter(name__in=[s[1] for s in stops], is_demo=True)
        }
        for offset in range(1, TOUR_WEEKS * 7 + 1):
            day = today + dt.timedelta(days=offset)
            for weekday, place_name, start, end, weeks in stops:
                place = places.get(place_name)
                week = (day.day - 1) // 7 + 1
                if place is None or day.weekday() != weekday or week not in weeks:
                    continue
                if day in taken:
                    continue
                try:
                    stop = tour_stop_add(
                        actor=agent,
                        tour=tour,
                        place=place,
                        day=day,
                        start_time=dt.time.fromisoformat(start),
                        end_time=dt.time.fromisoformat(end),
                    )
                except BookingError:
                    continue
                TourStop.objects.filter(pk=stop.pk).update(is_demo=True)
                taken.add(day)
                counts["stops"] += 1
    return counts


@transaction.atomic
def seed_mediation_activity(
    *, today: dt.date | None = None, seed: int = 15
) -> MediationActivityReport:
    """Write the demo year (the 12 months before `today`) once, and the tours' coming stops;
    see the module's docstring."""
    check_demo_allowed()
    report = MediationActivityReport()
    today = today or timezone.localdate()
    if User.objects.filter(username=USERNAME.format(1)).exists():
        report.already_there = True
    else:
        end = today - dt.timedelta(days=1)
        start = end - dt.timedelta(days=364)
        rng = random.Random(seed)
        structures = _structures(rng)
        people = _beneficiaries(rng, structures, start)
        activities, links = _year(rng, structures, _working_days(start, end))
        Activity.objects.bulk_create(activities, batch_size=500)
        through = Activity.beneficiaries.through
        rows = [
            through(activity_id=activity.pk, beneficiary_id=person.pk)
            for activity, persons in links
            for person in persons
        ]
        through.objects.bulk_create(rows, batch_size=1000)
        report.counts.update(
            {
                "mediators": sum(len(s.mediators) for s in structures),
                "beneficiaries": people,
                "activities": len(activities),
                "workshops": sum(1 for a in activities if a.kind == "collectif"),
                "links": len(rows),
            }
        )
    report.counts.update(_tours(today))
    return report
