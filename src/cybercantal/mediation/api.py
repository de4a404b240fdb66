"""Mediation endpoints of the API, read-only: the mediation places in the national schema
(LaMednum standard-mediation-num v1.0.2), the same rows as /mediation/lieux/export.json.

Mounted by config/api.py with the public authentication (anonymous allowed, token or session
accepted); rows come from mediation.selectors, scoped to the caller."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from cybercantal.territory.api import Pagination

from .exports import schema_rows
from .selectors.places import mediation_place_list

router = Router(tags=["Médiation numérique"])

PUBLIC = {"security": [{}]}
PUBLIC_NOTE = (
    "\n\nAccès libre, sans authentification. Avec un jeton ou une session, la réponse inclut "
    "aussi les lieux non publics des structures de ce compte."
)
MULTI = " Plusieurs valeurs séparées par « | »."


class MediationPlaceOut(Schema):
    """One place in the national schema: its field names, strings ("" when absent) except
    latitude and longitude."""

    id: str = Field(description="Identifiant stable : cybercantal-<département>-<lieu>.")
    pivot: str = Field(description="SIRET ou RNA de la structure.")
    nom: str
    commune: str
    code_postal: str
    code_insee: str
    adresse: str
    complement_adresse: str
    latitude: float | None
    longitude: float | None
    typologie: str = Field(description="Types de structure (data.inclusion)." + MULTI)
    telephone: str = Field(description="Format international, ex. +33471000000.")
    courriels: str
    site_web: str
    horaires: str = Field(description="Horaires au format OpenStreetMap.")
    presentation_resume: str
    presentation_detail: str
    source: str
    itinerance: str
    structure_parente: str
    date_maj: str = Field(description="Date de mise à jour, AAAA-MM-JJ.")
    services: str = Field(description="Services proposés." + MULTI)
    publics_specifiquement_adresses: str = Field(description=MULTI.strip())
    prise_en_charge_specifique: str = Field(description=MULTI.strip())
    frais_a_charge: str = Field(description=MULTI.strip())
    dispositif_programmes_nationaux: str = Field(description=MULTI.strip())
    formations_labels: str = Field(description=MULTI.strip())
    autres_formations_labels: str
    modalites_acces: str = Field(description=MULTI.strip())
    modalites_accompagnement: str = Field(description=MULTI.strip())
    fiche_acces_libre: str
    prise_rdv: str


@router.get(
    "/mediation/lieux",
    response=list[MediationPlaceOut],
    summary="Lieux de médiation numérique (schéma national)",
    description="Les lieux de médiation numérique du territoire au format du schéma national "
    "des lieux de médiation numérique (standard-mediation-num v1.0.2), par commune puis par "
    "nom. Le même contenu se télécharge en CSV (/mediation/lieux/export.csv) et en JSON "
    "(/mediation/lieux/export.json)." + PUBLIC_NOTE,
    openapi_extra=PUBLIC,
)
@paginate(Pagination)
def mediation_places(request: HttpRequest):
    # Rows are built for the whole list (a département has a few hundred places at most), then
    # the pagination slices it.
    return schema_rows(mediation_place_list(actor=request.auth))
