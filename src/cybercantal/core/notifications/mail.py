"""Sending e-mail through Django's mail API (settings.EMAIL_BACKEND)."""

from __future__ import annotations

from collections.abc import Sequence
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.utils import DNS_NAME

from .attachments import Attachment

# The delivery task holds its row lock (on SQLite, the database's write lock) while sending: a
# mail server that never answers must not hold it forever. Django's default is no timeout.
DEFAULT_TIMEOUT_SECONDS = 10


def _mime_part(attachment: Attachment) -> MIMEBase:
    """A MIME part keeping the type's parameters: calendar clients read the `method` of
    "text/calendar; method=REQUEST" on the part itself (Django's attach() would drop it)."""
    main, *params = (p.strip() for p in attachment.mimetype.split(";"))
    maintype, subtype = main.split("/", 1)
    parameters = dict(p.split("=", 1) for p in params if "=" in p)
    charset = parameters.pop("charset", "utf-8").strip('"')
    if maintype == "text":
        part: MIMEBase = MIMEText(attachment.content.decode(charset), subtype, charset)
    else:
        part = MIMEApplication(attachment.content, subtype)
        if maintype != "application":
            part.set_type(main)
    for name, value in parameters.items():
        part.set_param(name.strip(), value.strip().strip('"'))
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def email_send(*, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()) -> str:
    """Send a plain-text e-mail (with its attachments, if any) and return its Message-ID, our
    reference for this message. Raises whatever the mail backend raises (SMTP errors) so that
    the task can retry."""
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
    for attachment in attachments:
        message.attach(_mime_part(attachment))
    message.send(fail_silently=False)
    return message_id
