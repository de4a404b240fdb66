"""Telehealth's resources (a practitioner's agenda, a site's cart, an assisting professional's
time) are booked together, through services/consultations.py only: the protocol of the
specialty, the patient and the checklist hang on that. The booking engine asks this guard
(booking.hooks.booking_guards) before creating any booking; it lets through the bookings made
inside `telehealth_booking_flow()` and refuses the others with a French message."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import Q
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden
from cybercantal.booking.models import Resource

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
