"""The bookings part of a person's data export and erasure (accounts.personal_data)."""

from __future__ import annotations

from django.utils import timezone

from .models import Allocation, Booking, BookingTransition


def bookings_personal_data_export(user) -> list[dict]:
    return [
        {
            "reference": booking.reference,
            "start": booking.start.isoformat(),
            "end": booking.end.isoformat(),
            "status": booking.status,
            "service": booking.service.label if booking.service else "",
            "place": booking.place.name if booking.place else "",
            "channel": booking.channel,
            "participants": booking.participants,
            "notes": booking.notes,
            "created_at": booking.created_at.isoformat(),
        }
        for booking in Booking.objects.filter(user=user)
        .select_related("service", "place")
        .order_by("start")
    ]


def bookings_personal_data_erase(user) -> None:
    """Erasure: upcoming bookings are cancelled (their slots go back to others) and notes,
    which may say anything about the person, are cleared. Past bookings stay, attached to the
    anonymised account, for the places' activity figures."""
    upcoming = Booking.objects.filter(
        user=user,
        end__gt=timezone.now(),
        status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
    )
    for booking in upcoming:
        BookingTransition.objects.create(
            booking=booking,
            from_status=booking.status,
            to_status=Booking.Status.CANCELLED,
            reason="Effacement des données de la personne",
        )
    Allocation.objects.filter(booking__in=upcoming).update(is_active=False)
    upcoming.update(status=Booking.Status.CANCELLED)
    Booking.objects.filter(user=user).update(notes="")
