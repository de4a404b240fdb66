"""Sending e-mail through Django's mail API (settings.EMAIL_BACKEND)."""

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.utils import DNS_NAME

# The delivery task holds its row lock (on SQLite, the database's write lock) while sending: a
# mail server that never answers must not hold it forever. Django's default is no timeout.
DEFAULT_TIMEOUT_SECONDS = 10


def email_send(*, to: str, subject: str, body: str) -> str:
    """Send a plain-text e-mail and return its Message-ID, our reference for this message.
    Raises whatever the mail backend raises (SMTP errors) so that the task can retry."""
    message_id = make_msgid(domain=DNS_NAME)
    message = EmailMessage(
        # A header cannot hold a line break: Django would refuse the message.
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT or DEFAULT_TIMEOUT_SECONDS),
    )
    message.send(fail_silently=False)
    return message_id
