"""Telehealth's resources (a practitioner's agenda, a site's cart, an assisting professional's
time) are booked together, through services/consultations.py only: the protocol of the
specialty, the patient and the checklist hang on that. The booking engine asks telehealth
(booking.hooks, registered in registrations.py):

- before creating any booking (`refuse_outside_flow`);
- before cancelling, moving, confirming or marking a booking that is a teleconsultation
  (`refuse_change_outside_flow`), so that the consultation and its booking never diverge;
- which bookings to hide from someone (`hidden_teleconsultations`): those of the
  consultations they may not see (perms.consultations_for), whatever their organisation;
- whether to treat the actor as an agent of telehealth's resources (`vouch_inside_flow`):
  inside the flow only, where telehealth's services have already checked their own rights
  (perms.may_book_at, may_cancel_consultation, may_run_session). Coordinators, assisting
  professionals and practitioners are therefore never made members of the organisation running
  the site or employing the doctor: they would be agents of all its other bookings.

Only what runs inside `telehealth_booking_flow()` (services/consultations.py, sessions.py) is
let through; the rest is refused with a French message."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import Q
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden
from cybercantal.booking.models import Booking, Resource

from .models import Consultation
from .perms import consultations_for

_in_flow: contextvars.ContextVar[bool] = contextvars.ContextVar("telehealth_flow", default=False)


@contextmanager
def telehealth_booking_flow() -> Iterator[None]:
    token = _in_flow.set(True)
    try:
        yield
    finally:
        _in_flow.reset(token)


# Telehealth's resources: a site's cart or room, a practitioner's or assistant's agenda.
_TELEHEALTH_RESOURCE = (
    Q(telehealth_practitioner__isnull=False)
    | Q(telehealth_site__isnull=False)
    | Q(telehealth_assistant__isnull=False)
)


def refuse_outside_flow(resources, *, actor) -> None:
    if _in_flow.get():
        return
    ids = [r.pk for r in resources]
    if Resource.objects.filter(_TELEHEALTH_RESOURCE, pk__in=ids).exists():
        raise BookingForbidden(
            _(
                "Une téléconsultation se réserve depuis l'espace Téléconsultation, avec le "
                "médecin, le site et le professionnel assistant ensemble."
            )
        )


def vouch_inside_flow(resources, *, actor) -> bool:
    """The engine's agent check for a call telehealth makes: True inside the flow when every
    resource is telehealth's (the caller has checked its own rights before entering the flow);
    False otherwise, so that the same actor is refused by the engine's own pages and API."""
    if not _in_flow.get():
        return False
    ids = {r.pk for r in resources}
    return bool(ids) and Resource.objects.filter(_TELEHEALTH_RESOURCE, pk__in=ids).values(
        "pk"
    ).distinct().count() == len(ids)


def refuse_change_outside_flow(booking: Booking, *, actor, action: str) -> None:
    """The engine's agenda, API and "my bookings" pages would cancel or move the booking and
    leave the consultation planned, or at another time: refused, whoever asks."""
    if _in_flow.get() or not Consultation.objects.filter(booking_id=booking.pk).exists():
        return
    raise BookingForbidden(
        _(
            "Ce rendez-vous est une téléconsultation : il se gère depuis l'espace "
            "Téléconsultation (annuler, clôturer la séance ; « Annuler des séances » pour une "
            "journée entière), qui tient la séance et sa réservation à jour ensemble."
        )
    )


def hidden_teleconsultations(actor) -> Q:
    """The bookings of the consultations `actor` may not see (perms.consultations_for): the
    engine's lists would otherwise show them, with the patient's name, to every agent of the
    hospital or of the site's organisation."""
    visible = consultations_for(actor).values("pk")
    return Q(pk__in=Consultation.objects.exclude(pk__in=visible).values("booking_id"))
