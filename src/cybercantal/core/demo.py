"""Demo data: fictional organisations and places in real Cantal communes, one account per role.

Loaded by `manage.py seed_demo`, listed by `manage.py demo_accounts` and imported by nothing
else but the modules' own demo code: the application never depends on it. Production refuses it
(prod.py sets CYBERCANTAL_DEMO_ALLOWED = False). Unlike the rest of core, this module sits above
the apps it fills (territory, accounts): it composes them, as a fixture would
(docs/decisions/0002). The modules add their demo data (booking's resources…) through
core.registries.demo_seeders, run after this module's rows in the same transaction; it never
imports them.

Every row carries is_demo=True where the model has the flag, and every name ends in "(démo)".
Seeding is idempotent: rows are found by natural key and only written when they differ, so a
second run reports nothing created or updated and leaves the database as it was.
"""

import zlib
from base64 import b32encode
from collections import Counter
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.accounts.models import Membership, Role, User
from cybercantal.core.audit import audit_log
from cybercantal.core.registries import DemoSeedCounts, demo_seeders
from cybercantal.territory.models import Commune, OpeningPeriod, Organisation, Place, PlaceKind

TERRITORY_CODE = "15"
# One documented password for every demo account (printed by `manage.py demo_accounts`).
DEMO_PASSWORD = "cantal-demo-2026"  # noqa: S105 - public demo password, refused in production
# A fixed salt makes the demo password's hash deterministic, so that seeding again compares
# strings instead of running the (deliberately slow) hasher once per account. The password is
# public anyway; 23 characters keep Django from asking to re-hash it (salt entropy >= 128 bits).
DEMO_PASSWORD_SALT = "cybercantaldemosalt2026"  # noqa: S105
# The platform administrator must use TOTP: a fixed, public secret so that a tester can add it
# to an authenticator app (or read the current code from `demo_accounts`), and backup codes.
DEMO_TOTP_KEY = b"cybercantal-demo-otp".hex()  # 20 bytes, as django-otp generates them
DEMO_TOTP_DEVICE_NAME = "Application d'authentification (démo)"
DEMO_BACKUP_DEVICE_NAME = "Codes de secours (démo)"
DEMO_BACKUP_CODES = ("cantal-secours-1", "cantal-secours-2", "cantal-secours-3")


class DemoError(Exception):
    """Demo data cannot be loaded here; the message says why, in French."""


# --- Opening hours -------------------------------------------------------------------------
# (OpenStreetMap day selector, ((opens, closes), …)): the OSM string and the OpeningPeriod rows
# of a place are both derived from it, so they cannot disagree.
Hours = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")

COWORKING: Hours = (("Mo-Fr", (("08:30", "18:30"),)), ("Sa", (("09:00", "12:30"),)))
COWORKING_WEEKDAYS: Hours = (("Mo-Fr", (("08:30", "18:30"),)),)
OFFICE: Hours = (("Mo-Fr", (("09:00", "12:00"), ("13:30", "17:00"))),)
FRANCE_SERVICES: Hours = (
    ("Mo-Th", (("09:00", "12:00"), ("13:30", "17:00"))),
    ("Fr", (("09:00", "12:00"),)),
)
TOWN_HALL: Hours = (("Mo,Tu,Th,Fr", (("09:00", "12:00"),)), ("We", (("14:00", "17:00"),)))
HEALTH_CENTRE: Hours = (("Mo-Fr", (("08:00", "19:00"),)), ("Sa", (("08:00", "12:00"),)))
TELEHEALTH_ROOM: Hours = (("Tu,Th", (("09:00", "12:00"),)),)
SCHOOL: Hours = (("Mo,Tu,Th,Fr", (("08:30", "11:45"), ("13:30", "16:30"))),)
COLLEGE: Hours = (("Mo-Fr", (("08:00", "17:30"),)),)
LIBRARY: Hours = (
    ("Tu", (("14:00", "18:00"),)),
    ("We", (("10:00", "12:00"), ("14:00", "18:00"))),
    ("Sa", (("10:00", "12:30"),)),
)


def _weekdays(selector: str) -> list[int]:
    days: list[int] = []
    for part in selector.split(","):
        first, _, last = part.partition("-")
        start = OSM_DAYS.index(first)
        end = OSM_DAYS.index(last) if last else start
        days.extend(range(start, end + 1))
    return days


def osm_opening_hours(hours: Hours) -> str:
    """The OpenStreetMap opening_hours string: "Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00"."""
    return "; ".join(
        f"{days} {','.join(f'{opens}-{closes}' for opens, closes in intervals)}"
        for days, intervals in hours
    )


def opening_periods(hours: Hours) -> set[tuple[int, time, time]]:
    return {
        (weekday, time.fromisoformat(opens), time.fromisoformat(closes))
        for days, intervals in hours
        for weekday in _weekdays(days)
        for opens, closes in intervals
    }


# --- The data ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: str
    insee: str
    address: str = ""


@dataclass(frozen=True)
class DemoPlace:
    name: str
    insee: str
    kinds: tuple[str, ...]
    organisation: str  # key in ORGANISATIONS
    address: str
    hours: Hours
    description: str = ""
    connectivity: str = Place.Connectivity.FIBRE
    download_mbps: int | None = 500
    has_public_wifi: bool = True
    accessibility: str = Place.Accessibility.ACCESSIBLE
    accessibility_details: str = ""
    is_public: bool = True


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    first_name: str
    last_name: str
    organisation: str | None  # key in ORGANISATIONS; None for a resident (no membership)
    home_insee: str
    try_first: str  # what a tester should try first, shown by `demo_accounts`
    email: str | None = None  # None: username@demo.example.org; "" for none at all
    phone: str = ""
    prefers_sms: bool = False
    created_by: str | None = None  # username of the agent who created the account

    @property
    def email_address(self) -> str:
        if self.email is None:
            return f"{self.username}@demo.example.org"
        return self.email


Kind = Organisation.Kind
ORGANISATIONS: dict[str, DemoOrganisation] = {
    "department": DemoOrganisation(
        "Département du Cantal (démo)", Kind.DEPARTMENT, "15014", "28 avenue Gambetta"
    ),
    # Tiers-lieux operators: associations, cooperatives and communes.
    "network": DemoOrganisation("Association Cantal Tiers-Lieux (démo)", Kind.ASSOCIATION, "15014"),
    "planeze": DemoOrganisation("SCIC Planèze Numérique (démo)", Kind.COOPERATIVE, "15187"),
    "gentiane": DemoOrganisation(
        "Association Gentiane Connectée (démo)", Kind.ASSOCIATION, "15162"
    ),
    "chataigneraie": DemoOrganisation(
        "SCOP La Châtaigneraie Partagée (démo)", Kind.COOPERATIVE, "15122"
    ),
    "burons": DemoOrganisation("Association Les Burons du Lien (démo)", Kind.ASSOCIATION, "15219"),
    "mauriac": DemoOrganisation("Commune de Mauriac (démo)", Kind.COMMUNE, "15120"),
    "ydes": DemoOrganisation("Commune d'Ydes (démo)", Kind.COMMUNE, "15265"),
    "salers": DemoOrganisation("Commune de Salers (démo)", Kind.COMMUNE, "15219"),
    "allanche": DemoOrganisation("Commune d'Allanche (démo)", Kind.COMMUNE, "15001"),
    "vic": DemoOrganisation("Commune de Vic-sur-Cère (démo)", Kind.COMMUNE, "15258"),
    # Digital mediation.
    "fs_saint_flour": DemoOrganisation(
        "France Services de Saint-Flour (démo)", Kind.FRANCE_SERVICES, "15187"
    ),
    "fs_maurs": DemoOrganisation(
        "France Services de la Châtaigneraie (démo)", Kind.FRANCE_SERVICES, "15122"
    ),
    # Teleconsultation.
    "ehpad_condat": DemoOrganisation("EHPAD Les Gentianes (démo)", Kind.CARE_HOME, "15054"),
    "ehpad_massiac": DemoOrganisation("EHPAD Le Val d'Alagnon (démo)", Kind.CARE_HOME, "15119"),
    "msp_pleaux": DemoOrganisation("Maison de santé des Monts (démo)", Kind.HEALTH_CENTRE, "15153"),
    "cs_chaudes_aigues": DemoOrganisation(
        "Centre de santé de la Truyère (démo)", Kind.HEALTH_CENTRE, "15045"
    ),
    "pharmacy_allanche": DemoOrganisation("Pharmacie du Cézallier (démo)", Kind.PHARMACY, "15001"),
    # Schools.
    "school_salers": DemoOrganisation("École publique de Salers (démo)", Kind.SCHOOL, "15219"),
    "school_marcenat": DemoOrganisation("École du Cézallier (démo)", Kind.SCHOOL, "15114"),
    "school_ytrac": DemoOrganisation("École élémentaire d'Ytrac (démo)", Kind.SCHOOL, "15267"),
    "college_saint_flour": DemoOrganisation("Collège de la Planèze (démo)", Kind.COLLEGE, "15187"),
    "college_murat": DemoOrganisation("Collège du Haut-Cantal (démo)", Kind.COLLEGE, "15138"),
}

Conn, Access = Place.Connectivity, Place.Accessibility
TIERS_LIEU = "Tiers-lieu fictif du réseau départemental : postes de travail, salle de réunion, "
TIERS_LIEUX = [
    DemoPlace(
        "La Fabrique du Bassin (démo)",
        "15014",
        ("tiers_lieu", "mediation"),
        "network",
        "12 rue des Carmes",
        COWORKING,
        TIERS_LIEU + "atelier de fabrication numérique et permanence de médiation le mardi.",
        download_mbps=1000,
    ),
    DemoPlace(
        "L'Atelier de la Planèze (démo)",
        "15187",
        ("tiers_lieu",),
        "planeze",
        "3 place d'Armes",
        COWORKING,
        TIERS_LIEU + "cabine de visioconférence.",
    ),
    DemoPlace(
        "Le Relais du Mauriacois (démo)",
        "15120",
        ("tiers_lieu", "mediation"),
        "mauriac",
        "1 place Georges-Pompidou",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "espace enfants.",
        download_mbps=300,
    ),
    DemoPlace(
        "La Cabane connectée (démo)",
        "15138",
        ("tiers_lieu",),
        "network",
        "5 rue du Faubourg-Notre-Dame",
        COWORKING,
        TIERS_LIEU + "vue sur le rocher de Bonnevie.",
        accessibility=Access.PARTIAL,
        accessibility_details="Salle de réunion à l'étage, sans ascenseur.",
    ),
    DemoPlace(
        "L'Espace Gentiane (démo)",
        "15162",
        ("tiers_lieu", "mediation"),
        "gentiane",
        "8 avenue de la Gare",
        COWORKING,
        TIERS_LIEU + "point d'accueil numérique.",
    ),
    DemoPlace(
        "La Châtaigneraie numérique (démo)",
        "15122",
        ("tiers_lieu",),
        "chataigneraie",
        "2 place de l'Europe",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "jardin partagé.",
    ),
    DemoPlace(
        "Le Puits à idées (démo)",
        "15265",
        ("tiers_lieu",),
        "ydes",
        "4 rue de la Mine",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "ancien carreau de mine réhabilité.",
        download_mbps=200,
    ),
    DemoPlace(
        "La Buronnerie (démo)",
        "15001",
        ("tiers_lieu",),
        "network",
        "6 place du Foirail",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "cuisine partagée.",
        connectivity=Conn.RADIO,
        download_mbps=30,
    ),
    DemoPlace(
        "Les Sources partagées (démo)",
        "15045",
        ("tiers_lieu",),
        "planeze",
        "9 rue du Par",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "ouvert aux curistes.",
        connectivity=Conn.SATELLITE,
        download_mbps=100,
        accessibility=Access.NOT_ACCESSIBLE,
        accessibility_details="Accès par un escalier de six marches, sans rampe.",
    ),
    DemoPlace(
        "Le Hangar de Pleaux (démo)",
        "15153",
        ("tiers_lieu",),
        "burons",
        "11 route de Mauriac",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "atelier bois.",
        connectivity=Conn.VDSL,
        download_mbps=20,
        has_public_wifi=False,
    ),
    DemoPlace(
        "L'Alagnon Coworking (démo)",
        "15119",
        ("tiers_lieu",),
        "network",
        "7 avenue du Général-de-Gaulle",
        COWORKING,
        TIERS_LIEU + "à deux pas de l'A75.",
    ),
    DemoPlace(
        "La Cère connectée (démo)",
        "15094",
        ("tiers_lieu",),
        "chataigneraie",
        "1 quai de la Cère",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "terrasse au bord de la rivière.",
        connectivity=Conn.MOBILE,
        download_mbps=80,
    ),
    DemoPlace(
        "La Maison du Plateau (démo)",
        "15219",
        ("tiers_lieu",),
        "burons",
        "3 rue des Templiers",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "dans une maison de pierre.",
        accessibility=Access.PARTIAL,
        accessibility_details="Pavés irréguliers devant l'entrée.",
    ),
    DemoPlace(
        "Le Fromager numérique (démo)",
        "15054",
        ("tiers_lieu",),
        "gentiane",
        "2 place de l'Église",
        COWORKING_WEEKDAYS,
        TIERS_LIEU + "ancienne fromagerie.",
        download_mbps=300,
    ),
]

OTHER_PLACES = [
    # Digital mediation.
    DemoPlace(
        "Point numérique du Département (démo)",
        "15014",
        ("mediation",),
        "department",
        "28 avenue Gambetta",
        OFFICE,
        "Accompagnement aux démarches en ligne par les conseillers numériques (fictif).",
    ),
    DemoPlace(
        "Espace France Services de Saint-Flour (démo)",
        "15187",
        ("france_services", "mediation"),
        "fs_saint_flour",
        "17 rue du Collège",
        FRANCE_SERVICES,
        "Démarches administratives accompagnées, avec ou sans rendez-vous (fictif).",
    ),
    DemoPlace(
        "Espace France Services de Maurs (démo)",
        "15122",
        ("france_services", "mediation"),
        "fs_maurs",
        "5 place de la Mairie",
        FRANCE_SERVICES,
        "Démarches administratives accompagnées ; permanences itinérantes (fictif).",
    ),
    DemoPlace(
        "Médiathèque de Vic-sur-Cère (démo)",
        "15258",
        ("library", "mediation"),
        "vic",
        "1 avenue Émile-Duclaux",
        LIBRARY,
        "Ateliers numériques le mercredi (fictif).",
    ),
    # Teleconsultation.
    DemoPlace(
        "EHPAD Les Gentianes (démo)",
        "15054",
        ("care_home",),
        "ehpad_condat",
        "10 route d'Égliseneuve",
        OFFICE,
        "Établissement fictif pour personnes âgées.",
        has_public_wifi=False,
    ),
    DemoPlace(
        "Salle de téléconsultation — EHPAD Les Gentianes (démo)",
        "15054",
        ("telehealth",),
        "ehpad_condat",
        "10 route d'Égliseneuve",
        TELEHEALTH_ROOM,
        "Réservée aux résidents de l'établissement, avec l'infirmière (fictif).",
        has_public_wifi=False,
        is_public=False,
    ),
    DemoPlace(
        "EHPAD Le Val d'Alagnon (démo)",
        "15119",
        ("care_home",),
        "ehpad_massiac",
        "4 chemin des Tilleuls",
        OFFICE,
        "Établissement fictif pour personnes âgées.",
        has_public_wifi=False,
    ),
    DemoPlace(
        "Chariot de téléconsultation — EHPAD Le Val d'Alagnon (démo)",
        "15119",
        ("telehealth",),
        "ehpad_massiac",
        "4 chemin des Tilleuls",
        TELEHEALTH_ROOM,
        "Chariot connecté qui va de chambre en chambre (fictif).",
        has_public_wifi=False,
        is_public=False,
    ),
    DemoPlace(
        "Maison de santé des Monts (démo)",
        "15153",
        ("health_centre", "telehealth"),
        "msp_pleaux",
        "2 avenue du Docteur-Vialle",
        HEALTH_CENTRE,
        "Téléconsultation assistée par une infirmière (fictif).",
        connectivity=Conn.VDSL,
        download_mbps=20,
        has_public_wifi=False,
    ),
    DemoPlace(
        "Centre de santé de la Truyère (démo)",
        "15045",
        ("health_centre", "telehealth"),
        "cs_chaudes_aigues",
        "6 avenue Georges-Pompidou",
        HEALTH_CENTRE,
        "Cabine de téléconsultation en accès libre aux heures d'ouverture (fictif).",
        has_public_wifi=False,
    ),
    DemoPlace(
        "Cabine de téléconsultation — Pharmacie du Cézallier (démo)",
        "15001",
        ("telehealth",),
        "pharmacy_allanche",
        "1 rue du Commerce",
        HEALTH_CENTRE,
        "Cabine connectée, le pharmacien aide à la prise des mesures (fictif).",
        connectivity=Conn.RADIO,
        download_mbps=30,
        has_public_wifi=False,
    ),
    # Schools.
    DemoPlace(
        "École publique de Salers (démo)",
        "15219",
        ("school",),
        "school_salers",
        "2 rue de l'École",
        SCHOOL,
        "Classe unique, ENT et tablettes (fictif).",
        has_public_wifi=False,
    ),
    DemoPlace(
        "École du Cézallier (démo)",
        "15114",
        ("school",),
        "school_marcenat",
        "1 place de l'École",
        SCHOOL,
        "Regroupement pédagogique fictif.",
        connectivity=Conn.SATELLITE,
        download_mbps=50,
        has_public_wifi=False,
    ),
    DemoPlace(
        "École élémentaire d'Ytrac (démo)",
        "15267",
        ("school",),
        "school_ytrac",
        "5 rue des Écoles",
        SCHOOL,
        "Cinq classes, un tableau numérique par classe (fictif).",
        has_public_wifi=False,
    ),
    DemoPlace(
        "Collège de la Planèze (démo)",
        "15187",
        ("college",),
        "college_saint_flour",
        "20 avenue du Lioran",
        COLLEGE,
        "Collège fictif.",
        has_public_wifi=False,
    ),
    DemoPlace(
        "Collège du Haut-Cantal (démo)",
        "15138",
        ("college",),
        "college_murat",
        "12 avenue Hector-Peschaud",
        COLLEGE,
        "Collège fictif.",
        has_public_wifi=False,
    ),
    # Town halls.
    DemoPlace(
        "Mairie de Mauriac (démo)",
        "15120",
        ("town_hall",),
        "mauriac",
        "1 place Georges-Pompidou",
        TOWN_HALL,
        "",
        has_public_wifi=False,
    ),
    DemoPlace(
        "Mairie de Salers (démo)",
        "15219",
        ("town_hall",),
        "salers",
        "Place Tyssandier-d'Escous",
        TOWN_HALL,
        "",
        download_mbps=100,
        accessibility=Access.PARTIAL,
        accessibility_details="Rampe amovible sur demande.",
    ),
    DemoPlace(
        "Mairie d'Allanche (démo)",
        "15001",
        ("town_hall",),
        "allanche",
        "Place de la Mairie",
        TOWN_HALL,
        "",
        connectivity=Conn.RADIO,
        download_mbps=30,
        has_public_wifi=False,
    ),
]

PLACES = TIERS_LIEUX + OTHER_PLACES

# One account per role (accounts.Role), in the order of the roles. Roles are memberships of
# organisations, except the resident's: any account without a membership is a resident.
ACCOUNTS = [
    DemoAccount(
        Role.RESIDENT,
        "demo-usager",
        "Lucienne",
        "Vidalenc (démo)",
        None,
        "15001",
        "Se connecter par code SMS (sans courriel), chercher un lieu près d'Allanche.",
        email="",
        phone="+33639980001",
        prefers_sms=True,
        created_by="demo-agent",
    ),
    DemoAccount(
        Role.TIERS_LIEU_MANAGER,
        "demo-gestionnaire",
        "Bastien",
        "Couderc (démo)",
        "network",
        "15014",
        "Voir ses rôles dans Mon compte ; activer la double authentification.",
    ),
    DemoAccount(
        Role.MEDIATOR,
        "demo-mediateur",
        "Inès",
        "Lafarge (démo)",
        "fs_saint_flour",
        "15187",
        "Créer depuis Mon compte un compte pour un usager sans courriel.",
    ),
    DemoAccount(
        Role.PRACTITIONER,
        "demo-medecin",
        "Paul",
        "Mazeyrac (démo)",
        "msp_pleaux",
        "15014",
        "Activer la double authentification (code TOTP) depuis Mon compte.",
    ),
    DemoAccount(
        Role.ASSISTING_PROFESSIONAL,
        "demo-infirmier",
        "Claire",
        "Bouygues (démo)",
        "ehpad_condat",
        "15054",
        "Voir la salle de téléconsultation (non publique) de l'EHPAD Les Gentianes.",
    ),
    DemoAccount(
        Role.TEACHER,
        "demo-enseignant",
        "Hugo",
        "Chabanon (démo)",
        "school_salers",
        "15219",
        "Se connecter par lien reçu par courriel (affiché dans la console).",
    ),
    DemoAccount(
        Role.SCHOOL_DIRECTOR,
        "demo-directeur",
        "Sophie",
        "Delpuech (démo)",
        "school_salers",
        "15219",
        "Voir la page de la commune de Salers et les lieux à moins de 20 km.",
    ),
    DemoAccount(
        Role.PARENT,
        "demo-parent",
        "Karim",
        "Rouquier (démo)",
        "school_salers",
        "15219",
        "Télécharger ses données personnelles (JSON) depuis Mon compte.",
    ),
    DemoAccount(
        Role.PUPIL,
        "demo-eleve",
        "Léa",
        "Rouquier (démo)",
        "school_salers",
        "15219",
        "Chercher sa commune par son nom ou son code postal.",
        email="",
    ),
    DemoAccount(
        Role.SUPPORT_TECHNICIAN,
        "demo-technicien",
        "Julien",
        "Fabre (démo)",
        "department",
        "15014",
        "Créer un jeton d'API dans Mon compte, puis appeler /api/v1/me.",
    ),
    DemoAccount(
        Role.DEPARTMENT_AGENT,
        "demo-agent",
        "Nathalie",
        "Soulier (démo)",
        "department",
        "15014",
        "Voir tous les lieux, y compris non publics, sur la carte et dans l'API.",
    ),
    DemoAccount(
        Role.ELECTED_OFFICIAL,
        "demo-elu",
        "Bernard",
        "Teyssandier (démo)",
        "department",
        "15187",
        "Demander l'effacement de son compte depuis Mon compte.",
    ),
    DemoAccount(
        Role.PLATFORM_ADMIN,
        "demo-admin",
        "Camille",
        "Rigal (démo)",
        "department",
        "15014",
        "Se connecter avec un code TOTP (ci-dessous), puis ouvrir /admin/.",
    ),
]


def demo_totp_secret() -> str:
    """The base32 secret of the demo administrator's TOTP device, to type into an app."""
    return b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()


def demo_offset(name: str) -> tuple[float, float]:
    """A stable offset of at most ~400 m, so that demo places near one commune point do not
    sit on top of each other (and on top of the commune's marker) on the map."""
    digest = zlib.crc32(name.encode())
    return ((digest % 1000) / 1000 - 0.5) * 0.007, (((digest // 1000) % 1000) / 1000 - 0.5) * 0.01


# --- Seeding -------------------------------------------------------------------------------
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class DemoSeedReport:
    """Rows per model label (e.g. "territory.Place"), by what seeding did to them."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created.total() or self.updated.total() or self.removed.total())

    def add(self, counts: DemoSeedCounts) -> None:
        """Adds what a module's demo seeder reports."""
        self.created.update(counts.created)
        self.updated.update(counts.updated)
        self.unchanged.update(counts.unchanged)
        self.removed.update(getattr(counts, "removed", Counter()))


class DemoWriter:
    """Writes the demo rows; counts each organisation, place, account, membership and device
    as created, updated (fields, kinds, hours or backup codes differ) or unchanged. The
    modules' demo seeders (core.registries.demo_seeders) use it for their own rows."""

    def __init__(self) -> None:
        self.report = DemoSeedReport()

    def sync(self, model: type[models.Model], lookup: dict, values: dict) -> tuple[Any, str]:
        """Create the row found by `lookup`, or update it when `values` differ; never write an
        unchanged row (its updated_at stays as it was). Rows are validated as a form would."""
        obj = model._default_manager.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            status = CREATED
        else:
            changed = {key: value for key, value in values.items() if getattr(obj, key) != value}
            if not changed:
                return obj, UNCHANGED
            for key, value in changed.items():
                setattr(obj, key, value)
            status = UPDATED
        obj.full_clean()
        obj.save()
        return obj, status

    def tally(self, model: type[models.Model], status: str) -> None:
        getattr(self.report, status)[model._meta.label] += 1

    def organisations(self, communes: dict[str, Commune]) -> dict[str, Organisation]:
        organisations = {}
        for key, spec in ORGANISATIONS.items():
            organisations[key], status = self.sync(
                Organisation,
                {"name": spec.name, "kind": spec.kind, "commune_id": communes[spec.insee].pk},
                {"address": spec.address, "is_demo": True},
            )
            self.tally(Organisation, status)
        return organisations

    def places(self, communes: dict[str, Commune], organisations: dict[str, Organisation]) -> None:
        kinds = {kind.code: kind for kind in PlaceKind.objects.all()}
        for number, spec in enumerate(PLACES, start=1):
            commune = communes[spec.insee]
            dlat, dlon = demo_offset(spec.name)
            place, status = self.sync(
                Place,
                {"name": spec.name, "commune_id": commune.pk},
                {
                    "description": spec.description,
                    "address": spec.address,
                    "postal_code": commune.postal_code_list[0],
                    "latitude": round(commune.latitude + dlat, 6),
                    "longitude": round(commune.longitude + dlon, 6),
                    "opening_hours": osm_opening_hours(spec.hours),
                    "accessibility": spec.accessibility,
                    "accessibility_details": spec.accessibility_details,
                    "connectivity": spec.connectivity,
                    "download_mbps": spec.download_mbps,
                    "has_public_wifi": spec.has_public_wifi,
                    # ARCEP reserves 04 65 71 xx xx for fiction.
                    "phone": f"+334657100{number:02d}",
                    "organisation_id": organisations[spec.organisation].pk,
                    "is_public": spec.is_public,
                    "is_demo": True,
                },
            )
            kinds_changed = self.place_kinds(place, [kinds[code] for code in spec.kinds])
            hours_changed = self.place_hours(place, opening_periods(spec.hours))
            if status == UNCHANGED and (kinds_changed or hours_changed):
                status = UPDATED
            self.tally(Place, status)

    def place_kinds(self, place: Place, kinds: list[PlaceKind]) -> bool:
        if set(place.kinds.all()) == set(kinds):
            return False
        place.kinds.set(kinds)
        return True

    def place_hours(self, place: Place, wanted: set[tuple[int, time, time]]) -> bool:
        if set(place.opening_periods.values_list("weekday", "opens", "closes")) == wanted:
            return False
        place.opening_periods.all().delete()
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(place=place, weekday=day, opens=opens, closes=closes)
            for day, opens, closes in sorted(wanted)
        )
        return True

    def accounts(
        self, communes: dict[str, Commune], organisations: dict[str, Organisation]
    ) -> dict[str, User]:
        users: dict[str, User] = {}
        password = make_password(DEMO_PASSWORD, salt=DEMO_PASSWORD_SALT)
        # Accounts created on someone's behalf come after their creator.
        for spec in sorted(ACCOUNTS, key=lambda account: account.created_by is not None):
            user, status = self.sync(
                User,
                {"username": spec.username},
                {
                    "first_name": spec.first_name,
                    "last_name": spec.last_name,
                    "email": spec.email_address,
                    "phone": spec.phone,
                    "prefers_sms": spec.prefers_sms,
                    "home_commune_id": communes[spec.home_insee].pk,
                    "created_by_id": users[spec.created_by].pk if spec.created_by else None,
                    "is_active": True,
                    "is_staff": False,
                    "is_superuser": False,
                    "erased_at": None,
                    "is_demo": True,
                    # Seeding again gives back the demo password if a tester changed it.
                    "password": password,
                },
            )
            self.tally(User, status)
            users[spec.username] = user
            others = Membership.objects.filter(user=user)
            if spec.organisation is not None:
                membership, status = self.sync(
                    Membership,
                    {
                        "user_id": user.pk,
                        "organisation_id": organisations[spec.organisation].pk,
                        "role": spec.role,
                    },
                    {"is_active": True},
                )
                self.tally(Membership, status)
                others = others.exclude(pk=membership.pk)
            # Roles a tester added to a demo account are taken back: one account per role.
            removed, _ = others.delete()
            self.report.removed[Membership._meta.label] += removed
        return users

    def admin_devices(self, admin: User) -> None:
        # Reset throttling too: a tester who mistyped codes is not locked out after a re-seed.
        fresh = {"confirmed": True, "throttling_failure_count": 0}
        _, status = self.sync(
            TOTPDevice,
            {"user_id": admin.pk, "name": DEMO_TOTP_DEVICE_NAME},
            {"key": DEMO_TOTP_KEY, "step": 30, "digits": 6, **fresh},
        )
        self.tally(TOTPDevice, status)
        backup, status = self.sync(
            StaticDevice, {"user_id": admin.pk, "name": DEMO_BACKUP_DEVICE_NAME}, fresh
        )
        # A used backup code is deleted by django-otp; seeding again gives it back.
        current = set(backup.token_set.values_list("token", flat=True))
        if current != set(DEMO_BACKUP_CODES):
            backup.token_set.exclude(token__in=DEMO_BACKUP_CODES).delete()
            StaticToken.objects.bulk_create(
                StaticToken(device=backup, token=token)
                for token in DEMO_BACKUP_CODES
                if token not in current
            )
            if status == UNCHANGED:
                status = UPDATED
        self.tally(StaticDevice, status)


def demo_communes() -> dict[str, Commune]:
    """The communes the demo data lives in; DemoError if the territory is not loaded."""
    wanted = (
        {spec.insee for spec in ORGANISATIONS.values()}
        | {spec.insee for spec in PLACES}
        | {spec.home_insee for spec in ACCOUNTS}
    )
    communes = {c.insee_code: c for c in Commune.objects.filter(insee_code__in=wanted)}
    if missing := sorted(wanted - communes.keys()):
        detail = "" if not communes else f" (communes manquantes : {', '.join(missing)})"
        raise DemoError(
            f"Le territoire du Cantal n'est pas chargé{detail}. "
            f"Lancez d'abord : manage.py load_territory {TERRITORY_CODE}"
        )
    return communes


def check_demo_allowed() -> None:
    if not settings.CYBERCANTAL_DEMO_ALLOWED:
        raise DemoError(
            "Les données de démonstration sont interdites sur cette installation "
            "(CYBERCANTAL_DEMO_ALLOWED vaut False, comme en production)."
        )


@transaction.atomic
def demo_seed() -> DemoSeedReport:
    """Create or refresh the demo data, core's then every registered module's (demo_seeders).
    All or nothing, idempotent, refused in production.

    Raises DemoError when demo data is not allowed or the Cantal is not loaded."""
    check_demo_allowed()
    communes = demo_communes()
    seeder = DemoWriter()
    organisations = seeder.organisations(communes)
    seeder.places(communes, organisations)
    users = seeder.accounts(communes, organisations)
    seeder.admin_devices(users["demo-admin"])
    report = seeder.report
    # Then the modules' demo data (booking resources…), which builds on the rows above.
    for module_seeder in demo_seeders:
        report.add(module_seeder.seed())
    if report.changed:
        audit_log(
            actor=None,
            action="demo.seed",
            data={
                "created": dict(report.created),
                "updated": dict(report.updated),
                "removed": dict(report.removed),
            },
        )
    return report
