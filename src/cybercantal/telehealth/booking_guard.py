"""Telehealth's resources (a practitioner's agenda, a site's cart, an assisting professional's
time) are booked together, through services/consultations.py only: the protocol of the
specialty, the patient and the checklist hang on that. The booking engine asks telehealth
(booking.hooks, registered in registrations.py):

- before creating any booking (`refuse_outside_flow`);
- before cancelling, moving, confirming or marking a booking that is a teleconsultation
  (`refuse_change_outside_flow`), so that the consultation and its booking never diverge;
- which bookings to hide from someone (`hidden_teleconsultations`): those of the
  consultations they may not see (perms.consultations_for), whatever their organisation.

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


def refuse_outside_flow(resources, *, actor) -> None:
    if _in_flow.get():
        return
    ids = [r.pk for r in resources]
    telehealth = (
        Q(telehealth_practitioner__isnull=False)
        | Q(telehealth_site__isnull=False)
        | Q(telehealth_assistant__isnull=False)
    )
    if Resource.objects.filter(telehealth, pk__in=ids).exists():
        raise BookingForbidden(
            _(
                "Une téléconsultation se réserve depuis l'espace Téléconsultation, avec le "
                "médecin, le site et le professionnel assistant ensemble."
            )
        )


def refuse_change_outside_flow(booking: Booking, *, actor, action: str) -> None:
    """The engine's agenda, API and "my bookings" pages would cancel or move the booking and
    leave the consultation planned, or at another time: refused, whoever asks."""
    if _in_flow.get() or not Consultation.objects.filter(booking_id=booking.pk).exists():
        return
    raise BookingForbidden(
        _(
            "Ce rendez-vous est une téléconsultation : il se gère depuis l'espace "
            "Téléconsultation (annuler, clôturer la séance), qui tient la séance et sa "
            "réservation à jour ensemble."
        )
    )


def hidden_teleconsultations(actor) -> Q:
    """The bookings of the consultations `actor` may not see (perms.consultations_for): the
    engine's lists would otherwise show them, with the patient's name, to every agent of the
    hospital or of the site's organisation."""
    visible = consultations_for(actor).values("pk")
    return Q(pk__in=Consultation.objects.exclude(pk__in=visible).values("booking_id"))
