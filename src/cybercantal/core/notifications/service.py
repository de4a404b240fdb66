"""Writing notifications: who to reach, through which channel, exactly once per key."""

import datetime
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log
from cybercantal.core.models import Notification

from .attachments import Attachment, attachments_clean, attachments_delete, attachments_store
from .sms import check_sms_text, normalize_phone
from .tasks import notification_deliver

logger = logging.getLogger(__name__)

Channel = Notification.Channel
KEY_MAX_LENGTH = Notification._meta.get_field("key").max_length
SUBJECT_MAX_LENGTH = Notification._meta.get_field("subject").max_length


@dataclass(frozen=True)
class Recipient:
    """Whom to notify and how they can be reached. Not necessarily an account holder: a person
    booked at a desk may only have left a name and a phone number."""

    name: str
    email: str = ""
    phone: str = ""  # E.164, e.g. +33612345678 (French notation is accepted and normalised)
    postal_address: str = ""  # multi-line, as printed on an envelope, below the name
    user_id: int | None = None
    # The person's own choice, when they have stated one (accounts.User has both flags).
    prefers_sms: bool = False
    prefers_letter: bool = False

    @classmethod
    def from_user(cls, user: Any) -> "Recipient":
        """The recipient for an account. Reads the fields by name (core does not import
        accounts); a user model without phone, address or preferences gets the defaults."""
        return cls(
            name=user.get_full_name() or user.get_username(),
            email=getattr(user, "email", "") or "",
            phone=getattr(user, "phone", "") or "",
            postal_address=getattr(user, "postal_address", "") or "",
            user_id=user.pk,
            prefers_sms=bool(getattr(user, "prefers_sms", False)),
            prefers_letter=bool(getattr(user, "prefers_letter", False)),
        )


def _recipient_fields(channel: str, recipient: Recipient) -> dict[str, str]:
    """The address this channel needs, validated and normalised. Raises ValueError (French)
    when the recipient cannot be reached that way."""
    if channel == Channel.EMAIL:
        email = recipient.email.strip()
        if not email:
            raise ValueError(
                _("Impossible d'envoyer un courriel à %(name)s : aucune adresse de courriel.")
                % {"name": recipient.name}
            )
        try:
            validate_email(email)
        except ValidationError:
            raise ValueError(
                _("« %(email)s » n'est pas une adresse de courriel valide.") % {"email": email}
            ) from None
        return {"recipient_email": email}
    if channel == Channel.SMS:
        if not recipient.phone.strip():
            raise ValueError(
                _("Impossible d'envoyer un SMS à %(name)s : aucun numéro de téléphone mobile.")
                % {"name": recipient.name}
            )
        return {"recipient_phone": normalize_phone(recipient.phone, mobile=True)}
    if channel == Channel.LETTER:
        if not recipient.postal_address.strip():
            raise ValueError(
                _("Impossible d'envoyer un courrier à %(name)s : aucune adresse postale.")
                % {"name": recipient.name}
            )
        return {"recipient_address": recipient.postal_address.strip()}
    raise ValueError(
        _(
            "Canal de notification inconnu : « %(channel)s » (courriel « email », « sms » ou "
            "courrier « letter »)."
        )
        % {"channel": channel}
    )


def _check_content(channel: str, *, subject: str, body: str) -> None:
    """Raise ValueError (French) if the message cannot travel through this channel."""
    if not body.strip():
        raise ValueError(_("Le message est vide."))
    if channel == Channel.SMS:
        check_sms_text(body)
    elif not subject.strip():
        raise ValueError(_("L'objet du message est vide."))


def _choose_channel(
    recipient: Recipient, *, subject: str, bodies: Mapping[str, str], body: str
) -> tuple[str, dict[str, str]]:
    """The one channel to use when the caller leaves the choice to us: the person's stated
    preference when it is possible, else e-mail, else SMS, else a letter. A channel the message
    does not fit (a text too long for 3 SMS) is passed over like an unusable address, so that
    the person still hears from us by another way."""
    order = [Channel.EMAIL, Channel.SMS, Channel.LETTER]
    if recipient.prefers_sms:
        order = [Channel.SMS, Channel.EMAIL, Channel.LETTER]
    if recipient.prefers_letter:
        order = [Channel.LETTER, *(c for c in order if c != Channel.LETTER)]
    for channel in order:
        try:
            fields = _recipient_fields(channel, recipient)
            _check_content(channel, subject=subject, body=bodies.get(channel, body))
        except ValueError:
            # An unusable address (a landline for SMS) is no reason to give up: try the next.
            continue
        return channel, fields
    raise ValueError(
        _(
            "Impossible de joindre %(name)s : ni adresse de courriel, ni téléphone mobile, "
            "ni adresse postale valides."
        )
        % {"name": recipient.name}
    )


def _store_attachments(notification_id: int, files: list[Attachment]) -> None:
    try:
        attachments_store(notification_id, files)
    except Exception:
        # The e-mail still goes, without its attachment: better than no message at all.
        logger.exception("Attachments of notification %s could not be stored", notification_id)


def _schedule_delivery(notification_id: int) -> None:
    transaction.on_commit(
        partial(notification_deliver.enqueue, notification_id=notification_id),
        # The caller's own work is committed by then: a queue failure must not turn it into an
        # error page. The row stays pending and notification_retry_unsent() picks it up.
        robust=True,
    )


def notification_send(
    *,
    recipient: Recipient,
    subject: str,
    body: str,
    key: str,
    channels: Sequence[str] | None = None,
    actor: Any = None,
    sensitive: bool = False,
    bodies: Mapping[str, str] | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> list[Notification]:
    """Queue a message to `recipient`, to be sent after the caller's transaction commits.

    - `channels`: any of "email", "sms", "letter". None lets us choose one: the person's
      preference (letter, SMS) when possible, else e-mail, else SMS, else a letter. An SMS
      carries the body only.
    - `key`: the caller's idempotency key, e.g. "booking-reminder:42:2026-11-28". There is
      at most one notification per (key, channel), enforced by the database: calling again
      with the same key returns the existing rows and sends nothing more. With channels=None,
      any existing row for the key counts, even if the automatic choice would now differ.
      The key is written to the audit log: put identifiers in it, not personal data.
    - `sensitive`: the body carries a secret (login code, login link); it is blanked as soon
      as the message is delivered.
    - `bodies`: a text per channel, e.g. {"sms": short_text}, used instead of `body` for that
      channel (a short SMS, a longer e-mail or letter). `body` is the text of the others.
    - `attachments`: (filename, content bytes, MIME type) triples for the e-mail (other
      channels ignore them), e.g. ("rendez-vous.ics", data, "text/calendar; method=REQUEST").
      Kept until the e-mail is sent (core.notifications.attachments), then deleted.

    Guarantees: rows are created in the caller's transaction (nothing is sent if it rolls
    back); each new row gets an audit entry "notification.queued" (without the body, which
    may hold a login code); sending happens in the `notification_deliver` task, at most once
    per row. Raises ValueError, with a French message and before writing anything, when a
    requested channel cannot reach the recipient, or the message does not fit the channel.
    """
    key = key.strip()
    if not key or len(key) > KEY_MAX_LENGTH:
        raise ValueError(
            _("La clé d'idempotence doit compter de 1 à %(max)d caractères.")
            % {"max": KEY_MAX_LENGTH}
        )
    if not recipient.name.strip():
        raise ValueError(_("Le nom du destinataire est obligatoire."))
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValueError(
            _("L'objet du message dépasse %(max)d caractères.") % {"max": SUBJECT_MAX_LENGTH}
        )

    bodies = dict(bodies or {})
    unknown = set(bodies) - set(Channel.values)
    if unknown:
        raise ValueError(
            _("Canal de notification inconnu : « %(channel)s ».")
            % {"channel": ", ".join(sorted(unknown))}
        )
    files = attachments_clean(attachments)

    with transaction.atomic():
        existing = {n.channel: n for n in Notification.objects.filter(key=key)}
        if channels is None:
            if existing:
                return list(existing.values())
            plans = [_choose_channel(recipient, subject=subject, bodies=bodies, body=body)]
        else:
            if isinstance(channels, str):  # channels="sms" means ["sms"], not ["s", "m", "s"]
                channels = [channels]
            wanted = list(dict.fromkeys(channels))  # duplicates asked once are sent once
            if not wanted:
                raise ValueError(_("Aucun canal de notification demandé."))
            plans = [
                (channel, _recipient_fields(channel, recipient))
                for channel in wanted
                if channel not in existing
            ]
        for channel, _fields in plans:
            _check_content(channel, subject=subject, body=bodies.get(channel, body))

        notifications = []
        for channel, fields in plans:
            notification, created = Notification.objects.get_or_create(
                key=key,
                channel=channel,
                defaults={
                    "user_id": recipient.user_id,
                    "recipient_name": recipient.name[:200],
                    "subject": subject,
                    "body": bodies.get(channel, body),
                    "is_sensitive": sensitive,
                    **fields,
                },
            )
            if created:
                audit_log(
                    actor=actor,
                    action="notification.queued",
                    target=notification,
                    data={"channel": channel, "key": key, "user_id": recipient.user_id},
                )
                if files and channel == Channel.EMAIL:
                    # Registered before the delivery, so written before it runs (on_commit
                    # callbacks run in order); not at all if the transaction rolls back.
                    transaction.on_commit(partial(_store_attachments, notification.pk, files))
                _schedule_delivery(notification.pk)
            notifications.append(notification)
    if channels is None:
        return notifications
    # In the order asked, existing rows included.
    by_channel = {**existing, **{n.channel: n for n in notifications}}
    return [by_channel[channel] for channel in dict.fromkeys(channels)]


def notification_retry_unsent(
    *,
    ids: Iterable[int] | None = None,
    max_attempts: int = 5,
    older_than: datetime.timedelta = datetime.timedelta(minutes=5),
) -> int:
    """Schedule another delivery attempt, after commit, of notifications not sent yet (failed,
    or pending because queueing failed), and return how many. With `ids`, those rows whatever
    their age and attempt count (an agent's decision); without, every unsent row last touched
    more than `older_than` ago with fewer than `max_attempts` attempts (for a scheduled job).
    Safe to call repeatedly: the task never sends a notification twice. Sensitive messages
    (login codes and links) are never retried: their secret has expired or been blanked."""
    unsent = Notification.objects.exclude(status=Notification.Status.SENT).exclude(
        is_sensitive=True
    )
    if ids is not None:
        unsent = unsent.filter(pk__in=list(ids))
    else:
        unsent = unsent.filter(
            Q(attempts__lt=max_attempts) & Q(updated_at__lt=timezone.now() - older_than)
        )
    pks = list(unsent.values_list("pk", flat=True))
    for pk in pks:
        _schedule_delivery(pk)
    return len(pks)


def notifications_erase(*, user_id: int) -> int:
    """Delete every notification addressed to account `user_id`, letters' PDF files included,
    and return how many. For the erasure of a person's data: the rows hold their name, contact
    details and messages, which the SET_NULL of Notification.user would otherwise keep. Call it
    in the erasure's transaction; files are removed after commit, so a rollback keeps them."""
    notifications = Notification.objects.filter(user_id=user_id)
    files = [n.letter_pdf.name for n in notifications.exclude(letter_pdf="")]
    emails = list(
        notifications.filter(channel=Channel.EMAIL)
        .exclude(status=Notification.Status.SENT)
        .values_list("pk", flat=True)
    )
    count, _deleted = notifications.delete()
    storage = Notification._meta.get_field("letter_pdf").storage
    for name in files:
        transaction.on_commit(partial(storage.delete, name))
    for pk in emails:
        transaction.on_commit(partial(attachments_delete, pk))
    return count
