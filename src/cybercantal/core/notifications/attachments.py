"""E-mail attachments (an iCalendar invitation, a PDF) waiting for their e-mail to be delivered.

A Notification row has no room for files, and the message is sent later by a task: each
e-mail's attachments are kept in the default storage as one JSON file per notification
(`notification-attachments/<id>.json`, contents in base64). The file is written once the
caller's transaction has committed (a rollback leaves no file behind), read by the delivery
task, and deleted once the e-mail is sent or the notification erased: attachments may carry
personal data (the person's address in an invitation) and are kept no longer than needed.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

ATTACHMENT_DIR = "notification-attachments"
# Attachments travel by e-mail: many servers refuse messages over 10 MB (base64 adds a third).
MAX_TOTAL_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    # A MIME type, possibly with parameters: "text/calendar; method=REQUEST; charset=utf-8".
    mimetype: str


def attachments_clean(items: Iterable) -> list[Attachment]:
    """Check (filename, content bytes, mimetype) triples; raise ValueError (French) if one is
    malformed or if they are too many or too big for an e-mail."""
    cleaned = []
    for item in items or ():
        try:
            filename, content, mimetype = item
        except (TypeError, ValueError):
            raise ValueError(
                _("Une pièce jointe s'écrit (nom du fichier, contenu en octets, type MIME).")
            ) from None
        filename = str(filename or "").strip()
        if not filename or any(c in filename for c in "/\\\r\n\0") or len(filename) > 100:
            raise ValueError(
                _("Nom de pièce jointe invalide : « %(name)s ».") % {"name": filename[:100]}
            )
        if isinstance(content, str):
            content = content.encode("utf-8")
        if not isinstance(content, bytes | bytearray):
            raise ValueError(_("Le contenu d'une pièce jointe doit être des octets."))
        mimetype = str(mimetype or "application/octet-stream").strip()
        if "/" not in mimetype.split(";", 1)[0] or any(c in mimetype for c in "\r\n"):
            raise ValueError(_("Type MIME invalide : « %(type)s ».") % {"type": mimetype[:100]})
        cleaned.append(Attachment(filename=filename, content=bytes(content), mimetype=mimetype))
    if len(cleaned) > MAX_ATTACHMENTS:
        raise ValueError(_("Trop de pièces jointes : %(max)d au plus.") % {"max": MAX_ATTACHMENTS})
    if sum(len(a.content) for a in cleaned) > MAX_TOTAL_BYTES:
        raise ValueError(
            _("Les pièces jointes dépassent %(max)d Mo.") % {"max": MAX_TOTAL_BYTES // 1024**2}
        )
    return cleaned


def attachments_path(notification_id: int) -> str:
    return f"{ATTACHMENT_DIR}/{int(notification_id)}.json"


def attachments_store(notification_id: int, attachments: list[Attachment]) -> None:
    """Write the attachments of notification `notification_id` (replacing any earlier file)."""
    payload = json.dumps(
        [
            {
                "filename": a.filename,
                "mimetype": a.mimetype,
                "content": base64.b64encode(a.content).decode("ascii"),
            }
            for a in attachments
        ]
    ).encode("utf-8")
    path = attachments_path(notification_id)
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(payload))
    if saved != path:  # a storage that renamed it: the delivery task would not find it
        default_storage.delete(saved)
        raise OSError(f"Storage saved {path!r} as {saved!r}")


def attachments_load(notification_id: int) -> list[Attachment]:
    """The attachments waiting for notification `notification_id` (none if there is no file)."""
    path = attachments_path(notification_id)
    if not default_storage.exists(path):
        return []
    with default_storage.open(path, "rb") as handle:
        items = json.loads(handle.read().decode("utf-8"))
    return [
        Attachment(
            filename=item["filename"],
            content=base64.b64decode(item["content"]),
            mimetype=item["mimetype"],
        )
        for item in items
    ]


def attachments_delete(notification_id: int) -> None:
    path = attachments_path(notification_id)
    try:
        if default_storage.exists(path):
            default_storage.delete(path)
    except OSError:
        # A file left behind is retried by the next erasure or delivery, not worth an error.
        logger.warning("Could not delete the attachments of notification %s", notification_id)
