"""Demo data of the tiers-lieux network: the 14 demo tiers-lieux with their amenities and what
the national census asks, the offers of each place (its meeting room's hourly price where it
has a room) and of the network, and one place kept open by volunteers (its hours follow their
shifts, whose union is the place's usual hours: nothing changes on its public page).

Run by `manage.py seed_demo` (registered in CoworkingConfig.ready()) after core's places and
the booking engine's desk pools and meeting rooms. Idempotent like the rest of the demo data:
tiers-lieux found by place, offers by label and place; nothing written when unchanged. Prices
are plausible for rural tiers-lieux in 2026, not anyone's real price list."""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from cybercantal.booking.models import Resource
from cybercantal.core.demo import (
    ORGANISATIONS,
    TIERS_LIEUX,
    DemoSeedReport,
    DemoWriter,
    opening_periods,
)
from cybercantal.territory.models import Organisation, Place

from .models import Offer, SettlementRule, TiersLieu, VolunteerShift

Kind = Offer.Kind

# Amenities cycle over the places so that the network page shows differences.
TYPOLOGIES = [TiersLieu.Typology.COWORKING, TiersLieu.Typology.MULTI, TiersLieu.Typology.FABLAB]
LEGAL_FORMS = [
    TiersLieu.LegalForm.ASSOCIATION,
    TiersLieu.LegalForm.SCIC,
    TiersLieu.LegalForm.COMMUNITY,
]
TRANSPORT = [
    "Gare SNCF à 5 minutes à pied",
    "Ligne de car régionale, arrêt Mairie",
    "",
    "Transport à la demande du lundi au vendredi",
]
LODGING = ["Gîte communal à 200 m", "Chambres d'hôtes dans le village", "", "Camping municipal"]


@dataclass(frozen=True)
class DemoOffer:
    label: str
    kind: str
    price_cents: int
    half_days: int
    validity_days: int
    consumed_on: str = Offer.ConsumedOn.BOOKING
    is_reduced: bool = False
    reduced_for: str = ""
    vat_rate: Decimal = Decimal("20")


PLACE_OFFERS = [
    DemoOffer("Journée", Kind.DAY, 1500, 2, 1, Offer.ConsumedOn.CHECK_IN),
    DemoOffer("Demi-journée", Kind.HALF_DAY, 900, 1, 1, Offer.ConsumedOn.CHECK_IN),
    DemoOffer("Carnet de 10 journées", Kind.BOOK, 12000, 20, 365),
    DemoOffer("Abonnement mensuel", Kind.MONTHLY, 15000, 0, 30),
    DemoOffer(
        "Journée, tarif réduit",
        Kind.DAY,
        800,
        2,
        1,
        Offer.ConsumedOn.CHECK_IN,
        is_reduced=True,
        reduced_for="demandeurs d'emploi, étudiants (justificatif)",
    ),
]
# Offered where the place has a meeting room: the room's bookings are invoiced at this price.
ROOM_HOUR = DemoOffer("Salle de réunion, à l'heure", Kind.ROOM_HOUR, 1200, 0, 1)
NETWORK_PASS = DemoOffer(
    "Pass réseau, 10 journées dans tout le réseau", Kind.NETWORK_PASS, 14000, 20, 365
)
DISCOVERY = DemoOffer("Journée découverte offerte par le Département", Kind.DISCOVERY, 1500, 2, 60)


# The place kept open by volunteers (an association's, with no Saturday opening).
VOLUNTEER_RUN = "La Maison du Plateau (démo)"
# Its volunteers, by weekday: a morning and an afternoon each, meeting at 13:30 (the shifts
# touch, so their union is the place's 8:30–18:30). A shift is one weekday: five opening
# days need five rows at least; two a day is how such a rota really looks.
VOLUNTEERS = {
    0: ("Mireille Bastid", "Jean Cantuel"),
    1: ("Jean Cantuel", "Odile Fau"),
    2: ("Mireille Bastid", "Odile Fau"),
    3: ("Rémi Lacoste", "Mireille Bastid"),
    4: ("Odile Fau", "Rémi Lacoste"),
}
SHIFTS_FROM = date(2025, 1, 1)
HANDOVER = time(13, 30)


def seed_coworking_demo() -> DemoSeedReport:
    """Create or refresh the network's demo data; needs core's and booking's demo data."""
    writer = DemoWriter()
    department = Organisation.objects.get(name=ORGANISATIONS["department"].name, is_demo=True)
    places = {p.name: p for p in Place.objects.filter(name__in=[s.name for s in TIERS_LIEUX])}
    for number, spec in enumerate(TIERS_LIEUX):
        place = places[spec.name]
        tiers_lieu, status = writer.sync(
            TiersLieu,
            {"place": place},
            {
                "is_demo": True,
                "desk_capacity": (12, 10, 8, 6)[number % 4],
                "surface_m2": 80 + 35 * (number % 5),
                "has_visio_room": number % 3 != 2,
                "has_printing": True,
                "has_kitchen": number % 2 == 0,
                "has_parking": number % 4 != 1,
                "public_transport": TRANSPORT[number % 4],
                "lodging_nearby": LODGING[number % 4],
                "typology": TYPOLOGIES[number % 3],
                "legal_form": LEGAL_FORMS[number % 3],
                "setting": TiersLieu.Setting.PERIURBAN if number == 0 else TiersLieu.Setting.RURAL,
                "public_services_hosted": "Permanence France Services" if number % 5 == 0 else "",
                "hours_from_shifts": spec.name == VOLUNTEER_RUN,
            },
        )
        writer.tally(TiersLieu, status)
        for offer in PLACE_OFFERS:
            _sync_offer(writer, offer, tiers_lieu=tiers_lieu, operator=place.organisation)
        if Resource.objects.filter(
            place=place, organisation=place.organisation, kind=Resource.Kind.ROOM
        ).exists():
            _sync_offer(writer, ROOM_HOUR, tiers_lieu=tiers_lieu, operator=place.organisation)
        if spec.name == VOLUNTEER_RUN:
            _sync_shifts(writer, tiers_lieu, opening_periods(spec.hours))
    _sync_offer(writer, NETWORK_PASS, tiers_lieu=None, operator=department)
    _sync_offer(writer, DISCOVERY, tiers_lieu=None, operator=department, funder=department)
    # A network pass used at another operator's place earns that place 9 € a day.
    _, status = writer.sync(
        SettlementRule,
        {"tiers_lieu": None, "valid_from": date(2026, 1, 1)},
        {"basis": SettlementRule.Basis.PER_DAY, "amount_cents": 900},
    )
    writer.tally(SettlementRule, status)
    return writer.report


def _sync_offer(writer: DemoWriter, spec: DemoOffer, *, tiers_lieu, operator, funder=None) -> None:
    _, status = writer.sync(
        Offer,
        {"label": spec.label, "tiers_lieu": tiers_lieu},
        {
            "is_demo": True,
            "operator": operator,
            "kind": spec.kind,
            "price_cents": spec.price_cents,
            "half_days": spec.half_days,
            "validity_days": spec.validity_days,
            "consumed_on": spec.consumed_on,
            "is_reduced": spec.is_reduced,
            "reduced_for": spec.reduced_for,
            "vat_rate": spec.vat_rate,
            "funder": funder,
            "is_active": True,
        },
    )
    writer.tally(Offer, status)


def _sync_shifts(writer: DemoWriter, tiers_lieu: TiersLieu, periods) -> None:
    """Two shifts per opening period, split at HANDOVER (one when the period does not span
    it): their union is the period, so the hours published from them are the place's."""
    for weekday, opens, closes in sorted(periods):
        morning, afternoon = VOLUNTEERS.get(weekday, ("Mireille Bastid", "Odile Fau"))
        if opens < HANDOVER < closes:
            halves = [(morning, opens, HANDOVER), (afternoon, HANDOVER, closes)]
        else:
            halves = [(morning, opens, closes)]
        for name, start, end in halves:
            _, status = writer.sync(
                VolunteerShift,
                {"tiers_lieu": tiers_lieu, "weekday": weekday, "start_time": start},
                {
                    "volunteer_name": name,
                    "end_time": end,
                    "valid_from": SHIFTS_FROM,
                    "valid_until": None,
                },
            )
            writer.tally(VolunteerShift, status)
