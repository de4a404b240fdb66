"""Notifications to people, by e-mail, SMS or printable letter, sent after commit.

    from cybercantal.core.notifications import Recipient, notification_send

    notification_send(
        recipient=Recipient.from_user(user),
        subject=_("Rappel de votre rendez-vous"),
        body=text,
        key=f"booking-reminder:{booking.pk}",
        actor=request.user,
    )

See service.notification_send for the guarantees, and sms.py for SMS backends.
"""

from .service import Recipient, notification_retry_unsent, notification_send, notifications_erase

__all__ = ["Recipient", "notification_retry_unsent", "notification_send", "notifications_erase"]
