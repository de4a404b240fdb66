"""Teleconsultation endpoints of the API, read-only: the consultations the caller may see and
one of them, the coded acts the caller may see and one of them. For a person only (token or
session, 401 otherwise, whatever authentication the router is mounted with); scoped by
telehealth.perms like the pages: a consultation or an act the caller may not see answers 404,
exactly like one that does not exist. Each consultation or act read writes an audit row, as
its page does, and so does each list of acts (billing data leaving, like the CSV export).
Patients appear by the name the site uses and their birth year only; on acts (billing data)
by their reference only, never their name, as in the export. The acts are scoped by
selectors.acts.acts_for, the rule of the acts page and its CSV export."""

import datetime as dt

from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from cybercantal.accounts.api import AUTHENTICATED
from cybercantal.booking.schemas import ErrorOut
from cybercantal.core.api_errors import parameter_error
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip
from cybercantal.territory.api import Pagination

from .models import Act, ActRole, Consultation
from .selectors.acts import act_get, act_list, act_site, export_sites, user_label
from .selectors.consultations import (
    consultation_get,
    consultation_list,
    request_delay,
    video_link,
)

router = Router(tags=["Téléconsultation"])

AUTH_NOTE = (
    "\n\nAvec un compte seulement (jeton `Authorization: Bearer …` ou session) : sans "
    "authentification, 401. "
)
ACCOUNT_NOTE = (
    AUTH_NOTE + "Seuls les participants, les coordinateurs du site et l'équipe "
    "télémédecine du Département voient une téléconsultation."
)
ACTS_NOTE = (
    AUTH_NOTE + "Comme la page « Actes » et son export CSV : un professionnel voit ses "
    "propres actes, un coordinateur ceux des téléconsultations de ses sites, l'équipe "
    "télémédecine du Département tous les actes ; les autres comptes, aucun. Le patient "
    "n'apparaît que par sa référence, jamais par son nom."
)


class PatientOut(Schema):
    display_name: str = Field(description="Nom d'usage, comme l'équipe du site l'appelle.")
    birth_year: int


class ConsultationOut(Schema):
    id: int
    start: dt.datetime
    end: dt.datetime
    site_id: int
    site: str
    specialty: str
    practitioner: str
    assistant: str | None
    patient: PatientOut
    status: str = Field(description="prevue, realisee, incident, non_tenue ou annulee.")
    status_label: str
    channel: str = Field(description="video, audio, telephone, ou vide avant la clôture.")
    checklist_complete: bool
    requested_at: dt.datetime
    delay_hours: int = Field(description="Heures entre la demande et la téléconsultation.")
    incidents: int
    video_url: str | None = Field(
        description="Lien de la salle vidéo, pour les participants et coordinateurs du site "
        "seulement, quand un serveur vidéo est configuré."
    )

    # Resolvers: the list hands the paginated queryset over, so that only one page of
    # consultations is turned into JSON.
    @staticmethod
    def resolve_start(obj: Consultation) -> dt.datetime:
        return obj.scheduled_start

    @staticmethod
    def resolve_end(obj: Consultation) -> dt.datetime:
        return obj.booking.end

    @staticmethod
    def resolve_site(obj: Consultation) -> str:
        return obj.site.place.name

    @staticmethod
    def resolve_specialty(obj: Consultation) -> str:
        return obj.specialty.label

    @staticmethod
    def resolve_practitioner(obj: Consultation) -> str:
        return str(obj.practitioner)

    @staticmethod
    def resolve_assistant(obj: Consultation) -> str | None:
        return str(obj.assistant) if obj.assistant_id else None

    @staticmethod
    def resolve_status_label(obj: Consultation) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_delay_hours(obj: Consultation) -> int:
        return int(request_delay(obj).total_seconds() // 3600)

    @staticmethod
    def resolve_incidents(obj: Consultation) -> int:
        count = getattr(obj, "incident_count", None)
        return obj.incidents.count() if count is None else count

    @staticmethod
    def resolve_video_url(obj: Consultation, context) -> str | None:
        return video_link(obj, actor=context["request"].auth)


class ConsultationFilters(Schema):
    site: int | None = Field(None, ge=1, le=2_147_483_647, description="Site (identifiant).")
    status: Consultation.Status | None = Field(None, description="Statut.")


def _actor(request: HttpRequest):
    return request.auth


@router.get(
    "/telesante/consultations",
    response=list[ConsultationOut],
    summary="Mes téléconsultations",
    description="Les téléconsultations que l'appelant peut voir, la plus récente en premier. "
    "Filtres : `site`, `status`. Chaque lecture est inscrite au journal d'audit." + ACCOUNT_NOTE,
    auth=AUTHENTICATED,
)
@paginate(Pagination)
def consultations(request: HttpRequest, filters: Query[ConsultationFilters]):
    rows = consultation_list(
        actor=_actor(request), status=filters.status.value if filters.status else ""
    )
    if filters.site:
        rows = rows.filter(site_id=filters.site)
    # The list names patients: who listed what is kept, as for each consultation read.
    audit_log(
        actor=_actor(request),
        action="telehealth.consultation_list",
        data={
            "page": "api",
            "site": filters.site,
            "status": filters.status.value if filters.status else "",
            "offset": request.GET.get("offset", "")[:12],
            "limit": request.GET.get("limit", "")[:12],
        },
        ip_address=client_ip(request),
    )
    return rows.select_related("booking").annotate(incident_count=Count("incidents", distinct=True))


@router.get(
    "/telesante/consultations/{int:consultation_id}",
    response={200: ConsultationOut, 404: ErrorOut},
    summary="Téléconsultation",
    description="Une téléconsultation. Toute téléconsultation que l'appelant ne peut pas "
    "voir répond 404, comme une téléconsultation inexistante. Chaque lecture est inscrite "
    "au journal d'audit." + ACCOUNT_NOTE,
    auth=AUTHENTICATED,
)
def consultation_detail(request: HttpRequest, consultation_id: int):
    consultation = consultation_get(actor=_actor(request), consultation_id=consultation_id)
    if consultation is None:
        raise HttpError(404, _("Téléconsultation inconnue : %(id)s.") % {"id": consultation_id})
    audit_log(
        actor=_actor(request),
        action="telehealth.consultation_view",
        target=consultation,
        data={"page": "api"},
        ip_address=client_ip(request),
    )
    return consultation


# --- coded acts ---------------------------------------------------------------------------------


class ActOut(Schema):
    id: int
    code: str
    label: str = Field(description="Libellé du tarif appliqué.")
    role: str = Field(description="medecin, expert, requerant, infirmier ou pharmacie.")
    role_label: str
    amount: str = Field(
        description="Montant en euros copié du tarif du jour de l'acte, en chaîne décimale "
        "à deux décimales avec un point (« 25.00 ») : exact, sans arrondi de virgule flottante."
    )
    performed_on: dt.date
    professional: str = Field(description="Nom du professionnel qui facture l'acte.")
    patient_reference: str = Field(
        description="Référence du patient, jamais son nom (donnée de facturation)."
    )
    site_id: int
    site: str = Field(
        description="Site de la téléconsultation ou, pour une téléexpertise, site du patient."
    )
    consultation_id: int | None = Field(description="Téléconsultation, ou null.")
    expertise_id: int | None = Field(description="Téléexpertise, ou null.")
    coded_at: dt.datetime

    @staticmethod
    def resolve_label(obj: Act) -> str:
        return obj.tariff.label

    @staticmethod
    def resolve_role_label(obj: Act) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_amount(obj: Act) -> str:
        return f"{obj.amount:.2f}"

    @staticmethod
    def resolve_professional(obj: Act) -> str:
        return user_label(obj.professional)

    @staticmethod
    def resolve_patient_reference(obj: Act) -> str:
        return obj.patient.reference

    @staticmethod
    def resolve_site_id(obj: Act) -> int:
        return act_site(obj).pk

    @staticmethod
    def resolve_site(obj: Act) -> str:
        return act_site(obj).place.name


class ActFilters(Schema):
    year: int | None = Field(None, ge=2000, le=2100, description="Année de l'acte.")
    month: int | None = Field(
        None, ge=1, le=12, description="Mois de l'acte (1 à 12), avec `year`."
    )
    code: str | None = Field(
        None, pattern=r"^[A-Za-z0-9]{1,8}$", description="Code de l'acte (TCG, TLS…)."
    )
    site_id: int | None = Field(
        None,
        ge=1,
        le=2_147_483_647,
        description="Site (identifiant), parmi ceux de l'appelant ; pour une téléexpertise, "
        "le site du patient.",
    )
    role: ActRole | None = Field(None, description="Qui facture l'acte.")


@router.get(
    "/telesante/actes",
    response=list[ActOut],
    summary="Mes actes codés",
    description="Les actes codés que l'appelant peut voir, le plus récent en premier. "
    "Filtres : `year`, `month` (avec `year`), `code`, `site_id` (un des sites de "
    "l'appelant), `role`. Chaque lecture est inscrite au journal d'audit, comme un export."
    + ACTS_NOTE,
    auth=AUTHENTICATED,
)
@paginate(Pagination)
def acts(request: HttpRequest, filters: Query[ActFilters]):
    actor = _actor(request)
    if filters.month is not None and filters.year is None:
        raise parameter_error("month", _("Indiquez l'année (year) avec le mois."))
    # As the page's filter: only a site the caller has acts at (or coordinates).
    if filters.site_id is not None and not export_sites(actor).filter(pk=filters.site_id).exists():
        raise parameter_error("site_id", _("Ce site ne fait pas partie de vos sites."))
    code = (filters.code or "").upper()
    role = filters.role.value if filters.role else ""
    audit_log(
        actor=actor,
        action="telehealth.acts_export",
        data={
            "page": "api",
            "year": filters.year,
            "month": filters.month,
            "site": filters.site_id,
            "code": code or None,
            "role": role or None,
        },
        ip_address=client_ip(request),
    )
    return act_list(
        actor,
        year=filters.year,
        month=filters.month,
        site_id=filters.site_id,
        code=code,
        role=role,
    )


@router.get(
    "/telesante/actes/{int:act_id}",
    response={200: ActOut, 404: ErrorOut},
    summary="Acte codé",
    description="Un acte codé. Tout acte que l'appelant ne peut pas voir répond 404, comme "
    "un acte inexistant. Chaque lecture est inscrite au journal d'audit." + ACTS_NOTE,
    auth=AUTHENTICATED,
)
def act_detail(request: HttpRequest, act_id: int):
    act = act_get(_actor(request), act_id)
    if act is None:
        raise HttpError(404, _("Acte inconnu : %(id)s.") % {"id": act_id})
    audit_log(
        actor=_actor(request),
        action="telehealth.act_view",
        target=act,
        data={"page": "api"},
        ip_address=client_ip(request),
    )
    return act
