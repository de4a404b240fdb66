"""Demo data of digital mediation: the national schema's description (MediationPlace) of every
demo place where people get help with digital tools — the France Services, the Département's
digital point, the library and the tiers-lieux that hold mediation workshops.

Run by `manage.py seed_demo` through core.registries.demo_seeders (registered in
MediationConfig.ready()), after core's demo places, in the same transaction; idempotent (one
description per place, written only when it differs), marked is_demo=True. The structure's
SIRET is the pivot; demo organisations have none, so a fictitious one is derived from the
organisation's name (SIREN starting 000, which INSEE never attributes; valid check digit)."""

from __future__ import annotations

import zlib

from django.conf import settings
from stdnum import luhn

from cybercantal.core.demo import PLACES, DemoPlace, DemoSeedReport, DemoWriter
from cybercantal.territory.models import Organisation, Place

from .models import MediationPlace
from .vocabulary import (
    DISPOSITIF_PROGRAMMES_NATIONAUX,
    FRAIS_A_CHARGE,
    MODALITES_ACCES,
    MODALITES_ACCOMPAGNEMENT,
    PRISE_EN_CHARGE_SPECIFIQUE,
    PUBLICS_SPECIFIQUEMENT_ADRESSES,
    SERVICES,
)

MEDIATION_KINDS = {"mediation", "france_services"}
(
    DEMARCHES,
    OUTILS_QUOTIDIEN,
    INSERTION_PRO,
    SECURITE,
    PARENTALITE,
    LOISIRS,
    COMPREHENSION,
    ACCES_INTERNET,
    _MATERIEL_SOLIDAIRE,
) = SERVICES
AIDANTS_CONNECT, _, PIX, CONSEILLERS, _, FRANCE_SERVICES, *_ = DISPOSITIF_PROGRAMMES_NATIONAUX
GRATUIT, GRATUIT_SOUS_CONDITION, PAYANT = FRAIS_A_CHARGE
SE_PRESENTER, TELEPHONER, MAIL, RDV_EN_LIGNE, *_ = MODALITES_ACCES
AUTONOMIE, INDIVIDUEL, ATELIER, A_DISTANCE = MODALITES_ACCOMPAGNEMENT
JEUNES, _, FAMILLES, SENIORS, _ = PUBLICS_SPECIFIQUEMENT_ADRESSES
SURDITE, HANDICAPS_MOTEURS, _, ILLETTRISME, *_ = PRISE_EN_CHARGE_SPECIFIQUE

FRANCE_SERVICES_VALUES = {
    "typologie": ["RFS"],
    "services": [DEMARCHES, OUTILS_QUOTIDIEN, SECURITE, ACCES_INTERNET],
    "publics_specifiquement_adresses": [],
    "prise_en_charge_specifique": [ILLETTRISME, HANDICAPS_MOTEURS],
    "frais_a_charge": [GRATUIT],
    "dispositif_programmes_nationaux": [FRANCE_SERVICES, CONSEILLERS, AIDANTS_CONNECT],
    "formations_labels": [],
    "modalites_acces": [SE_PRESENTER, TELEPHONER, RDV_EN_LIGNE],
    "modalites_accompagnement": [INDIVIDUEL, AUTONOMIE],
}
# Per demo place (by name), what differs from the defaults of its kind.
PLACE_VALUES: dict[str, dict] = {
    "Point numérique du Département (démo)": {
        "typologie": ["CD"],
        "services": [DEMARCHES, OUTILS_QUOTIDIEN, SECURITE, INSERTION_PRO, COMPREHENSION],
        "publics_specifiquement_adresses": [SENIORS],
        "prise_en_charge_specifique": [SURDITE, ILLETTRISME],
        "frais_a_charge": [GRATUIT],
        "dispositif_programmes_nationaux": [CONSEILLERS, AIDANTS_CONNECT, PIX],
        "modalites_acces": [SE_PRESENTER, TELEPHONER, MAIL, RDV_EN_LIGNE],
        "modalites_accompagnement": [INDIVIDUEL, ATELIER, A_DISTANCE],
        "presentation_detail": (
            "Les conseillers numériques du Département reçoivent sur rendez-vous ou sans, "
            "aident à créer une adresse électronique, à utiliser FranceConnect et à faire ses "
            "démarches en ligne, et tiennent des permanences itinérantes dans les communes "
            "(lieu fictif)."
        ),
    },
    "Espace France Services de Saint-Flour (démo)": FRANCE_SERVICES_VALUES,
    "Espace France Services de Maurs (démo)": {
        **FRANCE_SERVICES_VALUES,
        "itinerance": MediationPlace.Itinerance.ITINERANT,
        "presentation_detail": (
            "En plus de l'accueil à Maurs, l'équipe tient des permanences itinérantes dans les "
            "communes de la Châtaigneraie (lieu fictif)."
        ),
    },
    "Médiathèque de Vic-sur-Cère (démo)": {
        "typologie": ["BIB", "MUNI"],
        "services": [OUTILS_QUOTIDIEN, LOISIRS, COMPREHENSION, PARENTALITE, ACCES_INTERNET],
        "publics_specifiquement_adresses": [SENIORS, FAMILLES],
        "frais_a_charge": [GRATUIT],
        "dispositif_programmes_nationaux": [CONSEILLERS],
        "modalites_acces": [SE_PRESENTER, TELEPHONER],
        "modalites_accompagnement": [ATELIER, AUTONOMIE],
    },
}
TIERS_LIEU_VALUES = {
    "typologie": ["TIERS_LIEUX"],
    "services": [OUTILS_QUOTIDIEN, INSERTION_PRO, LOISIRS, ACCES_INTERNET],
    "publics_specifiquement_adresses": [JEUNES],
    "frais_a_charge": [GRATUIT_SOUS_CONDITION, PAYANT],
    "dispositif_programmes_nationaux": [],
    "modalites_acces": [SE_PRESENTER, MAIL],
    "modalites_accompagnement": [ATELIER, INDIVIDUEL],
}
LIST_DEFAULTS = {
    "typologie": [],
    "services": [],
    "publics_specifiquement_adresses": [],
    "prise_en_charge_specifique": [],
    "frais_a_charge": [],
    "dispositif_programmes_nationaux": [],
    "formations_labels": [],
    "modalites_acces": [],
    "modalites_accompagnement": [],
}


def demo_pivot(organisation: Organisation | None) -> str:
    """The organisation's SIRET, or a fictitious one stable across installations."""
    if organisation is not None and organisation.siret:
        return organisation.siret
    name = organisation.name if organisation is not None else "démo"
    body = f"000{zlib.crc32(name.encode('utf-8')) % 10**10:010d}"
    return body + luhn.calc_check_digit(body)


def _values(spec: DemoPlace, place: Place) -> dict:
    if spec.name in PLACE_VALUES:
        chosen = PLACE_VALUES[spec.name]
    elif "tiers_lieu" in spec.kinds:
        chosen = TIERS_LIEU_VALUES
    else:
        chosen = FRANCE_SERVICES_VALUES if "france_services" in spec.kinds else {}
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    return {
        **LIST_DEFAULTS,
        "pivot": demo_pivot(place.organisation),
        "itinerance": MediationPlace.Itinerance.FIXED,
        "presentation_resume": spec.description[:280],
        "presentation_detail": "",
        "source": f"{platform} (démo)",
        "structure_parente": place.organisation.name if place.organisation else "",
        "is_demo": True,
        **chosen,
    }


def seed_mediation_demo() -> DemoSeedReport:
    """Create or refresh the mediation description of the demo places; needs core's demo
    places (seeded just before)."""
    writer = DemoWriter()
    for spec in PLACES:
        if not MEDIATION_KINDS.intersection(spec.kinds):
            continue
        place = (
            Place.objects.select_related("organisation")
            .filter(name=spec.name, commune__insee_code=spec.insee, is_demo=True)
            .first()
        )
        if place is None:
            continue
        _, status = writer.sync(MediationPlace, {"place_id": place.pk}, _values(spec, place))
        writer.tally(MediationPlace, status)
    return writer.report
