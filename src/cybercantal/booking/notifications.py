"""What people are told about their bookings, by their preferred channel."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.core.notifications import Recipient, notification_send

from .models import Booking

SUBJECTS = {
    "created": gettext_lazy("Votre réservation est enregistrée"),
    "confirmed": gettext_lazy("Votre réservation est confirmée"),
    "rescheduled": gettext_lazy("Votre rendez-vous a été déplacé"),
    "cancelled": gettext_lazy("Votre réservation est annulée"),
    "cancelled_day": gettext_lazy("Votre rendez-vous est annulé"),
    "reminder": gettext_lazy("Rappel de votre rendez-vous"),
}


def booking_recipient(booking: Booking) -> Recipient:
    if booking.user_id is not None:
        return Recipient.from_user(booking.user)
    return Recipient(
        name=booking.person_name, phone=booking.person_phone, email=booking.person_email
    )


def booking_summary(booking: Booking) -> str:
    start = timezone.localtime(booking.start)
    place = booking.place
    where = f"{place.name}, {place.address}, {place.commune.name}" if place else ""
    return _("%(day)s à %(time)s — %(where)s (référence %(ref)s)") % {
        "day": start.strftime("%d/%m/%Y"),
        "time": start.strftime("%H:%M"),
        "where": where,
        "ref": booking.reference,
    }


def booking_message(booking: Booking, event: str, extra: str = "") -> str:
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    summary = booking_summary(booking)
    lines = {
        "created": (
            _("Votre demande de réservation est bien reçue, un agent va la valider : %s")
            if booking.status == Booking.Status.PENDING
            else _("Votre réservation est confirmée : %s")
        ),
        "confirmed": _("Votre réservation est confirmée : %s"),
        "rescheduled": _("Votre rendez-vous est déplacé : %s"),
        "cancelled": _("Votre réservation est annulée : %s"),
        "cancelled_day": _("Nous devons annuler votre rendez-vous : %s"),
        "reminder": _("Rappel : %s"),
    }
    text = f"{platform} — " + lines[event] % summary
    return f"{text}\n{extra}".strip()


def booking_event(*, booking_id: int, event: str, extra: str = "") -> None:
    """Queue the message for a booking event (after commit: called by the services' on_commit).
    Idempotent per booking, event and booking time."""
    booking = Booking.objects.select_related("user", "place__commune").filter(pk=booking_id).first()
    if booking is None:
        return
    key = f"booking:{booking.pk}:{event}:{booking.start.isoformat()}:{booking.status}"
    try:
        notification_send(
            recipient=booking_recipient(booking),
            subject=SUBJECTS[event],
            body=booking_message(booking, event, extra),
            key=key[:200],
        )
    except ValueError:
        # No usable way to reach the person (no e-mail, phone or address): the agent's
        # calendar shows the booking; nothing to send.
        return
