"""The background task that delivers one notification, at most once."""

from functools import partial

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from cybercantal.core.models import Notification

from .attachments import attachments_delete, attachments_load
from .letters import letter_render
from .mail import email_send
from .sms import get_sms_backend

# Room enough for a provider's explanation, not for a whole HTML error page.
MAX_ERROR_LENGTH = 2000
SENSITIVE_BODY_PLACEHOLDER = "[contenu confidentiel effacé après envoi]"


def _deliver(notification: Notification) -> str:
    """Send through the notification's channel; return the provider's message id."""
    channel = notification.channel
    if channel == Notification.Channel.EMAIL:
        attachments = attachments_load(notification.pk)
        message_id = email_send(
            to=notification.recipient_email,
            subject=notification.subject,
            body=notification.body,
            attachments=attachments,
        )
        if attachments:
            # Sent: the attachments are no longer needed (they may hold personal data).
            transaction.on_commit(partial(attachments_delete, notification.pk))
        return message_id
    if channel == Notification.Channel.SMS:
        return get_sms_backend().send(to=notification.recipient_phone, text=notification.body)
    if channel == Notification.Channel.LETTER:
        # "Sending" a letter means it is ready to print: an agent downloads it from the admin.
        # Dated from the request, not from the attempt, so that a retried letter is identical.
        pdf = letter_render(
            recipient_name=notification.recipient_name,
            postal_address=notification.recipient_address,
            subject=notification.subject,
            body=notification.body,
            day=timezone.localdate(notification.created_at),
        )
        notification.letter_pdf.save(
            f"courrier-{notification.pk}.pdf", ContentFile(pdf), save=False
        )
        return ""
    raise ValueError(f"Unknown notification channel: {channel!r}")


@task(queue_name="notifications")
def notification_deliver(notification_id: int) -> str:
    """Deliver notification `notification_id` unless it has been delivered already.

    Guarantees: the row is locked for the whole attempt, so two workers running this task for
    the same id (a retry racing the original) send at most once; a notification already sent
    is never sent again. On failure the attempt and its error are committed, then the error is
    raised again so that the task shows as failed and can be retried.

    A crash between the provider accepting the message and our commit (power cut, killed
    worker) leaves the row pending, and a retry would send again: at-least-once is the best any
    system can do without the provider's help in that window.
    """
    failure: Exception | None = None
    # On PostgreSQL select_for_update() locks the row; SQLite ignores it, but our SQLite
    # transactions begin IMMEDIATE (settings), which serialises every writer instead.
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None:  # deleted meanwhile (personal data erasure)
            return "missing"
        if notification.status == Notification.Status.SENT:
            return "already-sent"
        notification.attempts += 1
        try:
            provider_message_id = _deliver(notification)
        except Exception as exc:
            notification.status = Notification.Status.FAILED
            notification.last_error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
            if notification.is_sensitive:
                # A login code or link is never retried (it expires within minutes and the
                # person can ask for another): blank it now rather than keep it in clear.
                notification.body = SENSITIVE_BODY_PLACEHOLDER
            notification.save(
                update_fields=["status", "attempts", "last_error", "body", "updated_at"]
            )
            failure = exc
        else:
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
            notification.provider_message_id = provider_message_id[:200]
            notification.last_error = ""
            if notification.is_sensitive:
                notification.body = SENSITIVE_BODY_PLACEHOLDER
            notification.save(
                update_fields=[
                    "body",
                    "status",
                    "attempts",
                    "sent_at",
                    "provider_message_id",
                    "last_error",
                    "letter_pdf",
                    "updated_at",
                ]
            )
    if failure is not None:
        # Raised outside the transaction so that the recorded attempt is kept.
        raise failure
    return "sent"


@task(queue_name="notifications")
def notifications_retry_task() -> int:
    """Periodic: give unsent notifications (failed, or never queued) another attempt."""
    from .service import notification_retry_unsent

    return notification_retry_unsent()
