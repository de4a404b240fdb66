"""Teleconsultation endpoints of the API, read-only: the consultations the caller may see and
one of them. For a person only (token or session, 401 otherwise, whatever authentication the
router is mounted with); scoped by telehealth.perms like the pages: a consultation the caller
may not see answers 404, exactly like one that does not exist. Each consultation read writes
an audit row, as its page does. Patients appear by the name the site uses and their birth
year only."""

import datetime as dt

from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from cybercantal.accounts.api import AUTHENTICATED
from cybercantal.booking.schemas import ErrorOut
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip
from cybercantal.territory.api import Pagination

from .models import Consultation
from .selectors.consultations import (
    consultation_get,
    consultation_list,
    request_delay,
    video_link,
)

router = Router(tags=["Téléconsultation"])

ACCOUNT_NOTE = (
    "\n\nAvec un compte seulement (jeton `Authorization: Bearer …` ou session) : sans "
    "authentification, 401. Seuls les participants, les coordinateurs du site et l'équipe "
    "télémédecine du Département voient une téléconsultation."
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
    "Filtres : `site`, `status`." + ACCOUNT_NOTE,
    auth=AUTHENTICATED,
)
@paginate(Pagination)
def consultations(request: HttpRequest, filters: Query[ConsultationFilters]):
    rows = consultation_list(
        actor=_actor(request), status=filters.status.value if filters.status else ""
    )
    if filters.site:
        rows = rows.filter(site_id=filters.site)
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
