"""The allowed values of the enumerated fields of the national schema of digital mediation
places (data/standards/mediation/mediation-places-schema-v1.0.2.json).

Written out here, in the schema's exact spelling, so that forms, demo data and imports can use
them without reading the schema file; tests/mediation/test_vocabulary.py checks that each list
is exactly the alternatives of the field's `pattern` in the schema file (`pattern_values`), so
a new version of the schema that changes them fails a test instead of producing invalid exports.

Values are stored as these labels (MediationPlace's JSON lists) and exported joined by "|".
`typologie` is the exception: the schema gives no pattern, only a pointer to data.inclusion's
list of structure types, copied below (codes, with their label in French)."""

from __future__ import annotations

import re

ITINERANCE = ("Itinérant", "Fixe")

SERVICES = (
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
)

PUBLICS_SPECIFIQUEMENT_ADRESSES = (
    "Jeunes",
    "Étudiants",
    "Familles et/ou enfants",
    "Seniors",
    "Femmes",
)

PRISE_EN_CHARGE_SPECIFIQUE = (
    "Surdité",
    "Handicaps moteurs",
    "Handicaps mentaux",
    "Illettrisme",
    "Langues étrangères (anglais)",
    "Langues étrangères (autres)",
    "Déficience visuelle",
)

FRAIS_A_CHARGE = ("Gratuit", "Gratuit sous condition", "Payant")

DISPOSITIF_PROGRAMMES_NATIONAUX = (
    "Aidants Connect",
    "Bibliothèques numérique de référence",
    "Certification PIX",
    "Conseillers numériques",
    "Emmaüs Connect",
    "France Services",
    "Grande école du numérique",
    "La Croix Rouge",
    "Point d'accès numérique CAF",
    "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
)

# "Étapes numériques(La Poste)" without a space is how the schema's pattern spells it (its
# description has the space): the pattern is what validators check.
FORMATIONS_LABELS = (
    "Formé à « Mon Espace Santé »",
    "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)",
    "Étapes numériques(La Poste)",
    "Fabriques de Territoire",
    "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)",
    "ORDI 3.0",
    "SUD LABS (PACA)",
)

MODALITES_ACCES = (
    "Se présenter",
    "Téléphoner",
    "Contacter par mail",
    "Prendre un RDV en ligne",
    "Ce lieu n'accueille pas de public",
    "Envoyer un mail avec une fiche de prescription",
)

# The pattern's short labels (the description's longer wording is not what validators accept).
MODALITES_ACCOMPAGNEMENT = (
    "En autonomie",
    "Accompagnement individuel",
    "Dans un atelier collectif",
    "À distance",
)

# data.inclusion's "typologies de structures" (referenced by the schema's description of
# `typologie`, which has no pattern): code → label.
TYPOLOGIE: dict[str, str] = {
    "ACI": "Structures porteuses d'ateliers et chantiers d'insertion (ACI)",
    "ACIPHC": "SIAE — Atelier chantier d'insertion premières heures en chantier",
    "AFPA": "Agence nationale pour la formation professionnelle des adultes (AFPA)",
    "AI": "Associations intermédiaires (AI)",
    "ASE": "Aide sociale à l'enfance (ASE)",
    "ASSO": "Associations",
    "ASSO_CHOMEUR": "Associations de chômeurs",
    "AVIP": "Crèche à vocation d'insertion professionnelle (AVIP)",
    "Autre": "Autre",
    "BIB": "Bibliothèque / Médiathèque",
    "CAARUD": "Centre d'accueil et d'accompagnement à la réduction de risques pour usagers "
    "de drogues (CAARUD)",
    "CADA": "Centres d'accueil de demandeurs d'asile (CADA)",
    "CAF": "Caisses d'allocations familiales (CAF)",
    "CAP_EMPLOI": "Cap Emploi",
    "CAVA": "Centres d'adaptation à la vie active (CAVA)",
    "CC": "Communautés de communes",
    "CCAS": "Centres communaux d'action sociale (CCAS)",
    "CCONS": "Chambres consulaires (CCI, CMA, CA)",
    "CD": "Conseils départementaux (CD)",
    "CDAS": "Centre départemental d'action sociale (CDAS)",
    "CFP": "Centre des finances publiques (CFP)",
    "CHRS": "Centres d'hébergement et de réinsertion sociale (CHRS)",
    "CHU": "Centres d'hébergement d'urgence (CHU)",
    "CIAS": "Centres intercommunaux d'action sociale (CIAS)",
    "CIDFF": "Centres d'information sur les droits des femmes et des familles (CIDFF)",
    "CITMET": "Cité des métiers",
    "CMP": "Centre médico-psychologique (CMP)",
    "CMS": "Centre médico-social (CMS)",
    "CPAM": "Caisse primaire d'assurance maladie (CPAM)",
    "CPH": "Centres provisoires d'hébergement (CPH)",
    "CS": "Centre social",
    "CSAPA": "Centre de soins, d'accompagnement et de prévention en addictologie (CSAPA)",
    "CSC": "Centre socio-culturel (CSC)",
    "DEETS": "Directions de l'économie, de l'emploi, du travail et des solidarités (DEETS)",
    "DEPT": "Services sociaux du conseil départemental",
    "DIPLP": "Délégation interministérielle à la prévention et à la lutte contre la pauvreté",
    "E2C": "École de la 2e chance (E2C)",
    "EA": "Entreprise adaptée (EA)",
    "EATT": "Entreprise adaptée de travail temporaire (EATT)",
    "EI": "Entreprises d'insertion (EI)",
    "EITI": "Entreprises d'insertion par le travail indépendant (EITI)",
    "ENM": "Espace numérique mobile (ENM)",
    "EPCI": "Intercommunalité (EPCI)",
    "EPI": "Espace public internet (EPI)",
    "EPIDE": "Établissement pour l'insertion dans l'emploi (EPIDE)",
    "EPN": "Espace public numérique (EPN)",
    "ES": "Épicerie solidaire",
    "ESS": "Entreprise de l'économie sociale et solidaire",
    "ETABL_PRI": "Établissement privé",
    "ETABL_PUB": "Établissement public",
    "ETAT": "Service de l'État",
    "ETTI": "Entreprises de travail temporaire d'insertion (ETTI)",
    "EVS": "Espace de vie sociale (EVS)",
    "FABLAB": "Fablab / Atelier partagé",
    "FAIS": "Fédérations d'acteurs de l'insertion et de la solidarité",
    "FT": "France Travail",
    "GEIQ": "Groupements d'employeurs pour l'insertion et la qualification (GEIQ)",
    "HUDA": "Hébergement d'urgence pour demandeurs d'asile (HUDA)",
    "LA_POSTE": "Bureau de poste / Agence postale",
    "MDE": "Maison de l'emploi",
    "MDEF": "Maison de l'emploi et de la formation",
    "MDPH": "Maison départementale des personnes handicapées",
    "MDS": "Maison départementale des solidarités",
    "MJC": "Maison des jeunes et de la culture",
    "ML": "Mission locale",
    "MQ": "Maison de quartier",
    "MSA": "Mutualité sociale agricole",
    "MSAP": "Maison de services au public (MSAP)",
    "MUNI": "Municipalités",
    "OACAS": "Organisme d'accueil communautaire et d'activité solidaire (OACAS)",
    "ODC": "Organisation délégataire d'un conseil départemental",
    "OF": "Organisme de formation",
    "OIL": "Opérateur d'intermédiation locative",
    "OPCS": "Organisation porteuse de la clause sociale",
    "PAD": "Point d'accès au droit",
    "PENSION": "Pension de famille / résidence accueil",
    "PI": "Point information (PI)",
    "PIJ_BIJ": "Points et bureaux information jeunesse (PIJ/BIJ)",
    "PIMMS": "Point information médiation multi services (PIMMS)",
    "PJJ": "Protection judiciaire de la jeunesse (PJJ)",
    "PLIE": "Plans locaux pour l'insertion et l'emploi (PLIE)",
    "PREF": "Préfecture, sous-préfecture",
    "PREVENTION": "Service ou club de prévention",
    "REG": "Région",
    "RESSOURCERIE": "Ressourcerie",
    "RFS": "Réseau France Services",
    "RS_FJT": "Résidence sociale / Foyer de jeunes travailleurs",
    "SCP": "Services et clubs de prévention",
    "SPIP": "Services pénitentiaires d'insertion et de probation (SPIP)",
    "TIERS_LIEUX": "Tiers-lieu et coworking",
    "UDAF": "Union départementale des associations familiales (UDAF)",
}

# Schema field → its allowed values, for every field the schema constrains with a pattern of
# "|"-separated alternatives.
ENUMERATED_FIELDS: dict[str, tuple[str, ...]] = {
    "itinerance": ITINERANCE,
    "services": SERVICES,
    "publics_specifiquement_adresses": PUBLICS_SPECIFIQUEMENT_ADRESSES,
    "prise_en_charge_specifique": PRISE_EN_CHARGE_SPECIFIQUE,
    "frais_a_charge": FRAIS_A_CHARGE,
    "dispositif_programmes_nationaux": DISPOSITIF_PROGRAMMES_NATIONAUX,
    "formations_labels": FORMATIONS_LABELS,
    "modalites_acces": MODALITES_ACCES,
    "modalites_accompagnement": MODALITES_ACCOMPAGNEMENT,
}

# The schema's multi-valued fields stored as JSON lists on MediationPlace.
LIST_FIELDS = (
    "typologie",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
)

SEPARATOR = "|"

# The schema's enumerations are written (?:(?:^|\|)(A|B|C))+$ with regex escapes in labels.
_ENUM_PATTERN = re.compile(r"^\(\?:\(\?:\^\|\\\|\)\((?P<alternatives>.*)\)\)\+\$$")


def pattern_values(pattern: str) -> tuple[str, ...]:
    """The alternatives of one of the schema's enumeration patterns, unescaped: what
    tests/mediation/test_vocabulary.py compares with the lists above. Raises ValueError for a
    pattern of another shape (the schema changed how it writes them)."""
    match = _ENUM_PATTERN.match(pattern)
    if match is None:
        raise ValueError(f"Motif d'énumération inattendu : {pattern!r}")
    alternatives = re.split(r"(?<!\\)\|", match["alternatives"])
    return tuple(re.sub(r"\\(.)", r"\1", value) for value in alternatives)


def join_values(values: list[str] | tuple[str, ...]) -> str:
    return SEPARATOR.join(value for value in values if value)


def split_values(text: str) -> list[str]:
    return [value.strip() for value in (text or "").split(SEPARATOR) if value.strip()]
