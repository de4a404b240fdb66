"""Booking endpoints of the API: services, resources, free slots, nearest-slot search, bookings.

config/api.py mounts the router with the public authentication (anonymous allowed, token or
session accepted); the endpoints that concern someone's bookings demand an account (401
otherwise). Reads go through booking.selectors, writes through booking.services, whose refusals
become answers of the API: BookingRuleError → 422 (same shape as any invalid parameter),
BookingConflict → 409, BookingForbidden → 403, each with its French message.

Anonymous booking (POST /bookings with `person`) sends a confirmation to the phone given: it is
rate limited per client address (CYBERCANTAL_BOOKING_ANONYMOUS_RATE, 20 an hour by default).
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.responses import Status
from ninja.throttling import SimpleRateThrottle

from cybercantal.accounts.api import AUTHENTICATED
from cybercantal.core.api_errors import parameter_error
from cybercantal.core.http import client_ip
from cybercantal.territory.api import Pagination
from cybercantal.territory.selectors import commune_list, place_list

from . import availability as av
from .errors import BookingError
from .models import Booking, Resource, Service
from .schemas import (
    MAX_WINDOW_DAYS,
    AvailabilityQuery,
    BookingFilters,
    BookingIn,
    BookingOut,
    CancelIn,
    ErrorOut,
    InvalidOut,
    RescheduleIn,
    ResourceDetail,
    ResourceFilters,
    ResourceOut,
    ServiceOut,
    SlotOfferOut,
    SlotOut,
    SlotSearchQuery,
)
from .selectors import (
    availability,
    booking_get,
    booking_list,
    resource_list,
    service_list,
    slots_search,
)
from .services import PersonDetails, booking_cancel, booking_create, booking_reschedule

router = Router(tags=["Réservations"])

# Anonymous access is allowed: OpenAPI says so with an empty security requirement, added to
# the token and session schemes the router is mounted with.
PUBLIC = {"security": [{}]}
PUBLIC_ACCESS_NOTE = (
    "\n\nAccès libre, sans authentification. Avec un jeton ou une session, la réponse inclut "
    "aussi ce que ce compte peut voir en plus (ressources des lieux non publics de ses "
    "structures). Un jeton invalide ou révoqué est refusé (401)."
)
ACCOUNT_NOTE = (
    "\n\nAvec un compte seulement (jeton `Authorization: Bearer …` ou session) : sans "
    "authentification, 401. En session, l'en-tête X-CSRFToken est exigé pour modifier."
)
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: InvalidOut}


class AnonymousBookingThrottle(SimpleRateThrottle):
    """Anonymous bookings per client address; account holders are not counted here (their
    bookings are bounded by the resources' per-person limits)."""

    scope = "booking_anonymous"

    def __init__(self) -> None:
        super().__init__(rate=settings.CYBERCANTAL_BOOKING_ANONYMOUS_RATE)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        if getattr(getattr(request, "auth", None), "is_authenticated", False):
            return None
        # Read at each request, so that a deployment (or a test) can change it.
        self.rate = settings.CYBERCANTAL_BOOKING_ANONYMOUS_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return self.cache_format % {
            "scope": self.scope,
            "ident": client_ip(request) or "unknown",
        }


@contextmanager
def _refusals(*, field: str = "") -> Iterator[None]:
    """The booking services' refusals, as answers of the API."""
    try:
        yield
    except BookingError as error:
        if error.status_code == 422:
            raise parameter_error(field, error.message, source="body") from None
        raise HttpError(error.status_code, error.message) from None


def _actor(request: HttpRequest):
    return request.auth  # the user, or AnonymousUser: set by the public authentication


def _existing_service(field: str, code: str, *, source: str = "query") -> Service:
    service = service_list().filter(code=code).first()
    if service is None:
        raise parameter_error(
            field,
            _("Prestation inconnue : %(code)s. Consultez /api/v1/services.") % {"code": code},
            source=source,
        )
    return service


def _visible_place(field: str, place_id: int, *, actor):
    place = place_list(actor=actor).filter(pk=place_id).first()
    if place is None:
        raise parameter_error(field, _("Lieu inconnu : %(id)s.") % {"id": place_id})
    return place


def _resource_or_404(request: HttpRequest, resource_id: int) -> Resource:
    resource = resource_list(actor=_actor(request)).filter(pk=resource_id).first()
    if resource is None:
        raise HttpError(404, _("Ressource inconnue : %(id)s.") % {"id": resource_id})
    return resource


def _booking_or_404(request: HttpRequest, booking_id: int) -> Booking:
    # Someone else's booking answers exactly as a booking that does not exist.
    booking = booking_get(actor=_actor(request), booking_id=booking_id)
    if booking is None:
        raise HttpError(404, _("Réservation inconnue : %(id)s.") % {"id": booking_id})
    return booking


def _window(
    start: dt.datetime | None, end: dt.datetime | None, *, default_days: int
) -> tuple[dt.datetime, dt.datetime]:
    start = start or timezone.now().replace(microsecond=0)
    end = end or start + dt.timedelta(days=default_days)
    if end <= start:
        raise parameter_error("end", _("La fin doit être après le début."))
    if end - start > dt.timedelta(days=MAX_WINDOW_DAYS):
        raise parameter_error(
            "end",
            _("La période demandée dépasse %(days)d jours : découpez-la.")
            % {"days": MAX_WINDOW_DAYS},
        )
    return start, end


def _check_interval(start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        raise parameter_error("end", _("La fin doit être après le début."), source="body")


def _detailed(request: HttpRequest, booking: Booking) -> Booking:
    """The booking as the list selector loads it (place, service, resources in few queries);
    the booking itself when the caller cannot list it (an anonymous booking)."""
    return booking_get(actor=_actor(request), booking_id=booking.pk) or booking


# --- Catalogue ------------------------------------------------------------------------------


@router.get(
    "/services",
    response=list[ServiceOut],
    summary="Prestations",
    description="Ce qui peut se réserver (poste de travail, rendez-vous de médiation numérique, "
    "téléconsultation…) : les codes acceptés par les filtres `service`." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
def services(request: HttpRequest):
    return service_list()


@router.get(
    "/resources",
    response=list[ResourceOut],
    summary="Ressources réservables",
    description="Salles, espaces de bureaux, cabines de téléconsultation, personnes (médiateurs, "
    "médecins), matériel… réservables, avec leurs règles de réservation. Filtres : `place` "
    "(lieu habituel), `kind` (type), `service` (code de prestation). Un lieu ou une prestation "
    "inconnus sont une erreur (422)." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
@paginate(Pagination)
def resources(request: HttpRequest, filters: Query[ResourceFilters]):
    actor = _actor(request)
    place = _visible_place("place", filters.place, actor=actor) if filters.place else None
    service = _existing_service("service", filters.service) if filters.service else None
    return resource_list(
        actor=actor, place=place, kind=filters.kind, service=service
    ).prefetch_related("services")


@router.get(
    "/resources/{int:resource_id}",
    response=ResourceDetail,
    summary="Ressource",
    description="Une ressource, ses règles de réservation et ses horaires de chaque semaine "
    "(avec le lieu de chaque plage : une personne itinérante change de commune selon le jour). "
    "Une ressource que l'appelant ne peut pas voir répond 404." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
def resource_detail(request: HttpRequest, resource_id: int):
    resource = (
        resource_list(actor=_actor(request))
        .filter(pk=resource_id)
        .prefetch_related("services", "availability_rules__place__commune")
        .first()
    )
    if resource is None:
        raise HttpError(404, _("Ressource inconnue : %(id)s.") % {"id": resource_id})
    return resource


# --- Free slots -----------------------------------------------------------------------------


@router.get(
    "/resources/{int:resource_id}/availability",
    response=list[SlotOut],
    summary="Créneaux libres d'une ressource",
    description="Les créneaux libres qui commencent entre `start` et `end` (par défaut : "
    f"maintenant et 7 jours plus tard ; {MAX_WINDOW_DAYS} jours au plus), pour la durée "
    "`duration` (minutes ; par défaut la durée minimale de la ressource) et `participants` "
    "places. Horaires, fermetures, jours fériés, battements, délai de prévenance, horizon et "
    "réservations existantes sont pris en compte : un créneau proposé peut être réservé tel "
    "quel. `place_id` dit où (personne itinérante)." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
def resource_availability(request: HttpRequest, resource_id: int, query: Query[AvailabilityQuery]):
    resource = _resource_or_404(request, resource_id)
    start, end = _window(query.start, query.end, default_days=7)
    duration = dt.timedelta(minutes=query.duration) if query.duration else None
    if duration is not None and (error := av.duration_error(resource, duration)):
        raise parameter_error("duration", error)
    if query.participants > resource.capacity:
        raise parameter_error(
            "participants",
            _("« %(name)s » accueille %(capacity)d personne(s) au plus.")
            % {"name": resource.name, "capacity": resource.capacity},
        )
    units = 1 if resource.is_exclusive else query.participants
    return availability(resource=resource, start=start, end=end, duration=duration, units=units)


@router.get(
    "/slots/search",
    response=list[SlotOfferOut],
    summary="Créneaux les plus proches",
    description="Les prochains créneaux libres d'une prestation (`service`) autour d'une "
    "commune (`commune`, code INSEE) dans un rayon (`radius_km`, 30 par défaut, 200 au plus), "
    "du plus tôt au plus tard puis du plus proche au plus lointain, entre `start` et `end` "
    f"(par défaut maintenant et 7 jours plus tard ; {MAX_WINDOW_DAYS} jours au plus), `limit` "
    "créneaux (10 par défaut, 50 au plus). Chacun dit sa ressource, son lieu, la distance à "
    "vol d'oiseau et une estimation de la distance par la route." + PUBLIC_ACCESS_NOTE,
    openapi_extra=PUBLIC,
)
def search_slots(request: HttpRequest, query: Query[SlotSearchQuery]):
    service = _existing_service("service", query.service)
    commune = commune_list().filter(insee_code=query.commune).first()
    if commune is None:
        raise parameter_error(
            "commune", _("Commune inconnue : %(code)s.") % {"code": query.commune}
        )
    start, end = _window(query.start, query.end, default_days=7)
    return slots_search(
        service=service,
        commune=commune,
        radius_km=query.radius_km,
        start=start,
        end=end,
        duration=dt.timedelta(minutes=query.duration) if query.duration else None,
        limit=query.limit,
        actor=_actor(request),
    )


# --- Bookings -------------------------------------------------------------------------------


@router.post(
    "/bookings",
    response={201: BookingOut, **WRITE_ERRORS},
    summary="Réserver",
    description="Réserve une ou plusieurs ressources ensemble (`resource_ids`) de `start` à "
    "`end`. Pour le compte authentifié (jeton ou session) ; ou, avec `person` (nom, téléphone, "
    "courriel facultatif), pour une personne sans compte — seule façon de réserver sans "
    "authentification, et seulement les ressources ouvertes à tous "
    "(`policy.bookable_by = anyone`). Réponses : 201 avec la réservation (confirmée, ou en "
    "attente quand un agent doit la valider) ; 409 quand le créneau est pris ; 422 quand la "
    "demande enfreint une règle (trop tard, hors des horaires, durée non permise, limite de "
    "réservations…), quand `person` manque sans authentification, ou quand un paramètre est "
    "invalide ; 403 quand l'appelant ne peut pas réserver cette ressource (réservée aux agents, "
    "aux membres, aux comptes). Sans authentification, 20 demandes par heure et par adresse au "
    "plus (429 au-delà). En session, l'en-tête X-CSRFToken est exigé.",
    openapi_extra=PUBLIC,
    throttle=[AnonymousBookingThrottle()],
)
def create_booking(request: HttpRequest, payload: BookingIn):
    actor = _actor(request)
    if payload.person is None and not actor.is_authenticated:
        raise parameter_error(
            "person",
            _(
                "Sans authentification, indiquez pour qui est la réservation (person : nom et "
                "téléphone), ou authentifiez-vous."
            ),
            source="body",
        )
    _check_interval(payload.start, payload.end)
    found = {
        resource.pk: resource
        for resource in resource_list(actor=actor).filter(pk__in=payload.resource_ids)
    }
    if missing := [pk for pk in payload.resource_ids if pk not in found]:
        raise parameter_error(
            "resource_ids",
            _("Ressource inconnue : %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            source="body",
        )
    service = (
        _existing_service("service", payload.service, source="body") if payload.service else None
    )
    person = (
        PersonDetails(
            name=payload.person.name, phone=payload.person.phone, email=payload.person.email
        )
        if payload.person
        else None
    )
    with _refusals():
        booking = booking_create(
            actor=actor,
            resources=[found[pk] for pk in payload.resource_ids],
            start=payload.start,
            end=payload.end,
            service=service,
            person=person,
            channel=Booking.Channel.API,
            participants=payload.participants,
            notes=payload.notes,
        )
    return Status(201, _detailed(request, booking))


@router.get(
    "/bookings",
    response=list[BookingOut],
    summary="Mes réservations",
    description="Les réservations que l'appelant peut voir : les siennes, et pour un agent "
    "celles des ressources de ses structures (toutes pour le Département), annulées exclues, "
    "par date ; moins celles qu'un module réserve à ses participants (une téléconsultation). "
    "Filtres : `start` (finissent après), `end` (commencent avant), `place` (lieu)." + ACCOUNT_NOTE,
    auth=AUTHENTICATED,
)
@paginate(Pagination)
def bookings(request: HttpRequest, filters: Query[BookingFilters]):
    actor = _actor(request)
    if filters.start and filters.end and filters.end <= filters.start:
        raise parameter_error("end", _("La fin doit être après le début."))
    place = _visible_place("place", filters.place, actor=actor) if filters.place else None
    return booking_list(actor=actor, place=place, start=filters.start, end=filters.end)


@router.get(
    "/bookings/{int:booking_id}",
    response=BookingOut,
    summary="Réservation",
    description="Une réservation, pour la personne concernée et les agents des ressources "
    "réservées. Toute autre réservation répond 404, comme une réservation inexistante."
    + ACCOUNT_NOTE,
    auth=AUTHENTICATED,
)
def booking_detail(request: HttpRequest, booking_id: int):
    return _booking_or_404(request, booking_id)


@router.post(
    "/bookings/{int:booking_id}/cancel",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="Annuler une réservation",
    description="Annule la réservation (motif `reason` facultatif) et libère le créneau. La "
    "personne peut annuler jusqu'au délai d'annulation des ressources (422 ensuite : "
    "appeler le lieu) ; un agent, à tout moment. Annuler deux fois ne change rien." + ACCOUNT_NOTE,
    auth=AUTHENTICATED,
)
def cancel_booking(request: HttpRequest, booking_id: int, payload: CancelIn | None = None):
    booking = _booking_or_404(request, booking_id)
    with _refusals():
        booking = booking_cancel(
            actor=_actor(request), booking=booking, reason=payload.reason if payload else ""
        )
    return _detailed(request, booking)


@router.post(
    "/bookings/{int:booking_id}/reschedule",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="Déplacer une réservation",
    description="Déplace la réservation à `start`–`end` sur les mêmes ressources, d'un bloc : "
    "l'ancien créneau n'est libéré que si le nouveau est pris (409 sinon, et rien ne change). "
    "Mêmes règles qu'une réservation, délai d'annulation compris pour la personne." + ACCOUNT_NOTE,
    auth=AUTHENTICATED,
)
def reschedule_booking(request: HttpRequest, booking_id: int, payload: RescheduleIn):
    booking = _booking_or_404(request, booking_id)
    _check_interval(payload.start, payload.end)
    with _refusals():
        booking = booking_reschedule(
            actor=_actor(request), booking=booking, start=payload.start, end=payload.end
        )
    return _detailed(request, booking)
