"""The mediators' sub-navigation (templates/mediation/_nav.html).

Pages only mediators open include it as is; pages other agents open too (tours, the route of
the day, the dashboard) include it when `mediation_nav` is true: the user mediates for a
structure, so every link of the navigation leads somewhere they may go."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest
from django.urls import reverse

from ..models import Activity
from ..structures import mediator_organisation_ids


def mediation_nav(request: HttpRequest) -> bool:
    return bool(mediator_organisation_ids(request.user))


def reported_booking_ids(bookings: Iterable) -> set[int]:
    """The appointments among `bookings` that already have their activity report."""
    ids = [booking.pk for booking in bookings]
    if not ids:
        return set()
    return set(Activity.objects.filter(booking_id__in=ids).values_list("booking_id", flat=True))


def report_url(booking) -> str:
    """The quick entry of the activity report, prefilled from the appointment."""
    return f"{reverse('mediation:activity_new')}?rdv={booking.pk}"
