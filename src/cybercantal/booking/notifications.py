"""What people are told about their bookings, by their preferred channel.

Every message exists in two lengths: a short text for SMS (three SMS at most, checked, shrunk
when a long place name would not fit) and a longer one for e-mail and letters. E-mails carry
the booking as an iCalendar invitation (booking/ical.py). Who gets what:
- an account holder: one message through their stated preference (letter, SMS) when it can
  reach them, else e-mail, else SMS, else a letter (core.notifications chooses);
- a person without an account: an SMS to their phone, and an e-mail if they gave an address.

`booking_event` runs after the booking's transaction has committed (the services' on_commit):
nothing in it may fail the booking, so every error is logged, never raised. Messages are
idempotent: their key holds the booking, the event, its time and status.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Func, OuterRef, Subquery
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.core.notifications import Recipient, notification_send
from cybercantal.core.notifications.sms import phone_display, sms_segments

from . import ical
from .models import Allocation, Booking, BookingTransition

logger = logging.getLogger(__name__)

SUBJECTS = {
    "created": gettext_lazy("Votre réservation est enregistrée"),
    "confirmed": gettext_lazy("Votre réservation est confirmée"),
    "rescheduled": gettext_lazy("Votre rendez-vous a été déplacé"),
    "cancelled": gettext_lazy("Votre réservation est annulée"),
    "cancelled_day": gettext_lazy("Votre rendez-vous est annulé"),
    "reminder": gettext_lazy("Rappel de votre rendez-vous"),
}
# The iTIP method of the invitation attached to each e-mail (none for a reminder).
ICS_METHODS = {
    "created": "REQUEST",
    "confirmed": "REQUEST",
    "rescheduled": "REQUEST",
    "cancelled": "CANCEL",
    "cancelled_day": "CANCEL",
}
ICS_FILENAME = "rendez-vous.ics"
MAX_SMS_SEGMENTS = 3
# How many free slots a cancelled day's message suggests, and how far it looks.
SUGGESTIONS = 3
SUGGESTION_DAYS = 30
SUGGESTION_RADIUS_KM = 30


# --- French dates -----------------------------------------------------------------------------


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def hour_text(moment: dt.datetime) -> str:
    """ "9h30", "14h": how French write a time of day."""
    local = _local(moment)
    return f"{local.hour}h{local.minute:02d}" if local.minute else f"{local.hour}h"


def day_text(moment: dt.datetime, *, year: bool = True) -> str:
    """ "lundi 1er mars 2027" (or without the year, for SMS)."""
    day = _local(moment).date()
    with translation.override("fr"):
        weekday = formats.date_format(day, "l")
        month = formats.date_format(day, "F Y" if year else "F")
    return f"{weekday} {'1er' if day.day == 1 else day.day} {month}"


def _relative_day(moment: dt.datetime, now: dt.datetime) -> str:
    days = (_local(moment).date() - _local(now).date()).days
    if days == 0:
        return _("aujourd'hui")
    if days == 1:
        return _("demain")
    return day_text(moment, year=False)


# --- Building the texts -----------------------------------------------------------------------


def booking_recipient(booking: Booking) -> Recipient:
    if booking.user_id is not None:
        return Recipient.from_user(booking.user)
    return Recipient(
        name=booking.person_name, phone=booking.person_phone, email=booking.person_email
    )


def fit_sms(variants: list[str]) -> str:
    """The first (richest) variant that fits in MAX_SMS_SEGMENTS; the last one cut if none
    does, so that an SMS always goes."""
    for text in variants:
        if sms_segments(text) <= MAX_SMS_SEGMENTS:
            return text
    text = variants[-1]
    while sms_segments(text) > MAX_SMS_SEGMENTS:
        text = text[:-10].rstrip() + "…"
    return text


def _where_variants(place, location: str = "") -> list[str]:
    """From the fullest to the shortest way of saying where, for SMS."""
    if location:
        return [location, location[:60].rstrip(" ,")]
    if place is None:
        return [""]
    commune = place.commune.name
    full = ", ".join(p for p in (place.name, place.address, commune) if p)
    return [full, f"{place.name}, {commune}", place.name[:40], commune]


def _cancellation_reason(booking: Booking) -> str:
    """The reason an agent gave when cancelling (not shown when the person cancelled
    themselves: they know why)."""
    transition = (
        BookingTransition.objects.filter(booking=booking, to_status=Booking.Status.CANCELLED)
        .order_by("-at", "-id")
        .first()
    )
    if transition is None or not transition.reason:
        return ""
    if booking.user_id is not None and transition.actor_id == booking.user_id:
        return ""
    return transition.reason


@dataclass(frozen=True)
class _Suggestion:
    start: dt.datetime
    where: str


def _suggestions(booking: Booking, now: dt.datetime) -> list[_Suggestion]:
    """The next free slots for the same need, from the day after the cancelled one: nearby
    places offering the service, or else the same resource."""
    from . import selectors

    day_after = timezone.localtime(booking.start).date() + dt.timedelta(days=1)
    start = max(
        now, dt.datetime.combine(day_after, dt.time(), tzinfo=timezone.get_current_timezone())
    )
    end = start + dt.timedelta(days=SUGGESTION_DAYS)
    duration = booking.end - booking.start
    if booking.service_id is not None and booking.place_id is not None:
        offers = selectors.slots_search(
            service=booking.service,
            commune=booking.place.commune,
            radius_km=SUGGESTION_RADIUS_KM,
            start=start,
            end=end,
            duration=duration,
            limit=SUGGESTIONS,
            now=now,
        )
        return [
            _Suggestion(o.slot.start, f"{o.place.name}, {o.place.commune.name}") for o in offers
        ]
    resources = [a.resource for a in booking.allocations.select_related("resource")]
    if len(resources) != 1:
        return []
    slots = selectors.availability(
        resource=resources[0], start=start, end=end, duration=duration, now=now
    )[:SUGGESTIONS]
    place = booking.place
    where = f"{place.name}, {place.commune.name}" if place is not None else ""
    return [_Suggestion(s.start, where) for s in slots]


@dataclass(frozen=True)
class Texts:
    subject: str
    email: str
    letter: str
    sms: str


def _long_body(
    booking: Booking,
    *,
    greeting: str,
    headline: list[str],
    after: list[str],
    closing: list[str],
) -> str:
    place = booking.place
    lines = [greeting, "", *headline, ""]
    lines.append(
        _("Quand : %(day)s, de %(start)s à %(end)s")
        % {
            "day": day_text(booking.start),
            "start": hour_text(booking.start),
            "end": hour_text(booking.end),
        }
    )
    if booking.location:
        lines.append(_("Où : %(where)s") % {"where": booking.location})
    elif place is not None:
        lines.append(_("Où : %(where)s") % {"where": ical.place_location(place)})
    if booking.service_id is not None:
        lines.append(_("Prestation : %(label)s") % {"label": booking.service.label})
    lines.append(_("Référence : %(ref)s") % {"ref": booking.reference})
    if after:
        lines += ["", *after]
    lines += ["", *closing]
    return "\n".join(lines).strip() + "\n"


def booking_texts(
    booking: Booking,
    event: str,
    *,
    extra: str = "",
    extra_sms: str = "",
    now: dt.datetime | None = None,
) -> Texts:
    """The subject, e-mail, letter and SMS texts of a booking event, in French. `extra` ends
    the e-mail and letter; `extra_sms` (a short sentence: a moved visit's new date) goes in the
    SMS before the optional sentences, in place of the free slot suggested, and is dropped
    last when the SMS would be too long."""
    now = now or timezone.now()
    branding = settings.CYBERCANTAL_BRANDING
    platform = branding["platform_name"]
    place = booking.place
    name = booking.display_name
    pending = booking.status == Booking.Status.PENDING
    place_phone = phone_display(place.phone) if place is not None and place.phone else ""
    day, hour = day_text(booking.start, year=False), hour_text(booking.start)

    warn = (
        _("En cas d'empêchement, prévenez le lieu au plus tôt : %(phone)s.")
        % {"phone": place_phone}
        if place_phone
        else _("En cas d'empêchement, prévenez le lieu au plus tôt.")
    )
    manage = (
        _("Vous pouvez aussi annuler ou déplacer ce rendez-vous depuis votre compte : %(url)s")
        % {"url": ical.page_url("booking:my_bookings")}
        if booking.user_id is not None
        else ""
    )
    ref = _("Réf. %(ref)s") % {"ref": booking.reference}
    when = {"p": platform, "day": day, "hour": hour}
    headline: list[str]
    after: list[str] = [warn, manage]
    # The SMS: a lead sentence (with the place, shortened as needed), optional sentences
    # dropped first if the whole does not fit, and a tail.
    optional: list[str] = []
    tail = ref
    if event == "created" and pending:
        headline = [
            _("Nous avons bien reçu votre demande de réservation."),
            _("Un agent va l'examiner : vous recevrez un message dès qu'elle sera confirmée."),
        ]

        def lead(where: str) -> str:
            return _(
                "%(p)s : demande reçue pour le %(day)s à %(hour)s, %(where)s. "
                "Un agent va la valider."
            ) % {**when, "where": where}

    elif event in ("created", "confirmed"):
        headline = [_("Votre réservation est confirmée.")]

        def lead(where: str) -> str:
            return _("%(p)s : réservation confirmée le %(day)s à %(hour)s, %(where)s.") % {
                **when,
                "where": where,
            }

    elif event == "rescheduled":
        headline = [_("Votre rendez-vous a été déplacé. Voici le nouvel horaire.")]

        def lead(where: str) -> str:
            return _("%(p)s : rendez-vous déplacé au %(day)s à %(hour)s, %(where)s.") % {
                **when,
                "where": where,
            }

    elif event == "reminder":
        headline = [_("Nous vous rappelons votre rendez-vous.")]
        relative = _relative_day(booking.start, now)

        def lead(where: str) -> str:
            return _("%(p)s : rappel, rendez-vous %(when)s à %(hour)s, %(where)s.") % {
                **when,
                "when": relative,
                "where": where,
            }

        if place_phone:
            tail = _("Empêchement ? Prévenez le %(phone)s.") % {"phone": place_phone}
    elif event in ("cancelled", "cancelled_day"):
        reason = _cancellation_reason(booking)
        if event == "cancelled_day":
            headline = [_("Nous sommes désolés : nous devons annuler votre rendez-vous.")]
        else:
            headline = [_("Votre réservation est annulée.")]
        if reason:
            headline.append(_("Motif : %(reason)s") % {"reason": reason})
        after = []
        suggestions: list[_Suggestion] = []
        if event == "cancelled_day":
            try:
                suggestions = _suggestions(booking, now)
            except Exception:  # a suggestion is a courtesy: the message goes without it
                logger.exception("Booking %s: no suggestions for the cancelled day", booking.pk)
        if suggestions:
            after.append(_("Prochains créneaux libres :"))
            after += [
                f"- {day_text(s.start)} à {hour_text(s.start)}, {s.where}" for s in suggestions
            ]
            after.append(
                _("Pour en réserver un : %(url)s ou appelez le lieu.")
                % {"url": ical.page_url("booking:start")}
            )
        elif event == "cancelled_day":
            after.append(
                _("Pour prendre un autre rendez-vous : %(url)s ou appelez le lieu.")
                % {"url": ical.page_url("booking:start")}
            )
        verb = (
            _("nous devons annuler votre rendez-vous")
            if event == "cancelled_day"
            else _("votre réservation est annulée")
        )

        def lead(where: str) -> str:
            return _("%(p)s : %(verb)s du %(day)s à %(hour)s (%(where)s).") % {
                **when,
                "verb": verb,
                "where": where,
            }

        if reason:
            optional.append(_("Motif : %(reason)s.") % {"reason": reason[:80].rstrip(". ")})
        if suggestions and not extra_sms:
            first = suggestions[0]
            optional.append(
                _("Prochain créneau libre : %(day)s à %(hour)s, %(where)s.")
                % {
                    "day": day_text(first.start, year=False),
                    "hour": hour_text(first.start),
                    "where": first.where,
                }
            )
    else:
        raise ValueError(f"Unknown booking event: {event!r}")

    after = [line for line in [*after, extra] if line]
    calendar_note = {
        "REQUEST": _("Le fichier joint « %(file)s » ajoute ce rendez-vous à votre agenda."),
        "CANCEL": _("Le fichier joint « %(file)s » retire ce rendez-vous de votre agenda."),
    }.get(ICS_METHODS.get(event, ""), "")
    email_closing = [
        calendar_note % {"file": ICS_FILENAME} if calendar_note else "",
        "",
        f"{platform} — {branding['department_name']}",
        _("Ce message est envoyé automatiquement : merci de ne pas y répondre."),
    ]
    email = _long_body(
        booking,
        greeting=_("Bonjour %(name)s,") % {"name": name},
        headline=headline,
        after=after,
        closing=[line for line in email_closing if line],
    )
    letter = _long_body(
        booking,
        greeting=_("Madame, Monsieur,"),
        headline=headline,
        after=after,
        closing=[
            _("Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées."),
            "",
            platform,
        ],
    )
    wheres = _where_variants(place, booking.location)
    extra_sms = " ".join(extra_sms.split())
    first = [extra_sms] if extra_sms else []
    variants = [" ".join([lead(w), *first, *optional, tail]) for w in wheres]
    if extra_sms:
        variants += [" ".join([lead(w), extra_sms, tail]) for w in wheres]
    variants += [" ".join([lead(w), tail]) for w in wheres]
    return Texts(subject=str(SUBJECTS[event]), email=email, letter=letter, sms=fit_sms(variants))


# --- Sending ------------------------------------------------------------------------------------


def send_to_person(
    *,
    recipient: Recipient,
    has_account: bool,
    subject: str,
    email: str,
    sms: str,
    letter: str | None,
    key: str,
    attachments: list[tuple[str, bytes, str]] | None = None,
    sensitive: bool = False,
) -> int:
    """Queue a message to a booking's person (see the module's docstring for who gets what);
    `letter=None` when a letter would arrive too late. Returns how many notifications were
    queued; a channel that cannot reach the person is logged and skipped."""
    bodies = {"sms": sms}
    if letter is not None:
        bodies["letter"] = letter
    common = {
        "recipient": recipient,
        "subject": subject,
        "body": email,
        "bodies": bodies,
        "key": key[:200],
        "attachments": attachments or (),
        "sensitive": sensitive,
    }
    if has_account and letter is not None:
        try:
            return len(notification_send(channels=None, **common))
        except ValueError as exc:
            logger.info("Notification %s not sent: %s", key, exc)
            return 0
    if has_account:
        # No letter: the preferred channel between SMS and e-mail.
        order = ["sms", "email"] if recipient.prefers_sms else ["email", "sms"]
        for channel in order:
            try:
                return len(notification_send(channels=[channel], **common))
            except ValueError as exc:
                logger.info("Notification %s not sent by %s: %s", key, channel, exc)
        return 0
    sent = 0
    for channel in ("sms", "email"):
        if channel == "email" and not recipient.email:
            continue
        try:
            sent += len(notification_send(channels=[channel], **common))
        except ValueError as exc:
            # A landline cannot receive SMS: the agent who booked by phone told the person.
            logger.info("Notification %s not sent by %s: %s", key, channel, exc)
    return sent


def _send_booking_message(
    booking: Booking, event: str, *, key: str, extra: str = "", extra_sms: str = ""
) -> int:
    if booking.user_id is None and not booking.person_phone and not booking.person_email:
        # Booked by an agent for someone with no phone nor e-mail (a care-home resident): the
        # agent tells them. Trying would only log a failure naming the person.
        return 0
    texts = booking_texts(booking, event, extra=extra, extra_sms=extra_sms)
    recipient = booking_recipient(booking)
    attachments = []
    method = ICS_METHODS.get(event)
    if method and recipient.email:
        ics = ical.booking_invitation(
            booking, method=method, attendee_email=recipient.email, attendee_name=recipient.name
        )
        attachments.append((ICS_FILENAME, ics, f"text/calendar; method={method}; charset=utf-8"))
    return send_to_person(
        recipient=recipient,
        has_account=booking.user_id is not None,
        subject=texts.subject,
        email=texts.email,
        sms=texts.sms,
        letter=texts.letter,
        key=key,
        attachments=attachments,
    )


def _load(booking_id: int) -> Booking | None:
    return (
        Booking.objects.select_related("user", "place__commune", "service")
        .filter(pk=booking_id)
        .first()
    )


def booking_event(*, booking_id: int, event: str, extra: str = "", extra_sms: str = "") -> None:
    """Tell the person about a booking event ("created", "confirmed", "rescheduled",
    "cancelled", "cancelled_day"), then let the waiting list know of a freed slot. Called after
    commit by the services; idempotent per booking, event, time and status; never raises."""
    from . import waitlist

    try:
        # A slot merely held for someone on the waiting list is the waiting list's business.
        handled = waitlist.waitlist_booking_event(booking_id=booking_id, event=event)
    except Exception:
        logger.exception("Booking %s: waiting list failed on %s", booking_id, event)
        handled = False
    if handled:
        return
    try:
        booking = _load(booking_id)
        if booking is not None:
            key = f"booking:{booking.pk}:{event}:{booking.start.isoformat()}:{booking.status}"
            _send_booking_message(booking, event, key=key, extra=extra, extra_sms=extra_sms)
    except Exception:
        logger.exception("Booking %s: the %s message could not be queued", booking_id, event)
    if event in ("cancelled", "cancelled_day"):
        from .tasks import waitlist_offer_task

        try:
            waitlist_offer_task.enqueue(booking_id=booking_id)
        except Exception:
            logger.exception("Booking %s: the freed slot could not be offered", booking_id)


# --- Reminders --------------------------------------------------------------------------------


class HoursBefore(Func):
    """`moment` minus `hours` hours, computed by the database (Django's duration arithmetic
    cannot multiply an interval by a column on SQLite)."""

    arity = 2
    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra_context):
        moment, moment_params = compiler.compile(self.source_expressions[0])
        hours, hours_params = compiler.compile(self.source_expressions[1])
        return f"({moment} - ({hours}) * INTERVAL '1 hour')", (*moment_params, *hours_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores datetimes as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]"; datetime() answers
        # in the same format (to the second), so that the database compares them as text.
        moment, moment_params = compiler.compile(self.source_expressions[0])
        hours, hours_params = compiler.compile(self.source_expressions[1])
        return (
            f"datetime({moment}, '-' || ({hours}) || ' hours')",
            (*moment_params, *hours_params),
        )


def bookings_due_for_reminder(*, now: dt.datetime):
    """Confirmed bookings not started, not reminded yet, whose reminder time has passed: one
    query. The reminder time is the start minus the largest `reminder_hours_before` of the
    booking's resources (0 everywhere: no reminder). A booking made after its reminder time
    gets none (its confirmation has just told the person)."""
    return (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED, reminder_sent_at__isnull=True, start__gt=now
        )
        # The largest hours of the booking's resources: a correlated subquery (no GROUP BY),
        # aliased (not selected). 0 means no reminder: start - 0 is never <= now < start.
        .alias(
            remind_at=HoursBefore(
                F("start"),
                Subquery(
                    Allocation.objects.filter(booking=OuterRef("pk"))
                    .order_by("-resource__reminder_hours_before")
                    .values("resource__reminder_hours_before")[:1]
                ),
            )
        )
        .filter(remind_at__lte=now, created_at__lte=F("remind_at"))
        .select_related("user", "place__commune", "service")
        .order_by("start", "pk")
    )


def booking_reminders_send(*, now: dt.datetime | None = None, limit: int = 2000) -> int:
    """Send the reminders that are due and return how many bookings were reminded.

    Safe when several workers run it at once: each booking is claimed by a conditional UPDATE
    (… WHERE reminder_sent_at IS NULL AND start = the start we read), and only the worker
    whose UPDATE changed the row sends; the claim and the queued messages commit together.
    The message key holds the booking and its start, so a retry never sends twice, while a
    booking moved later is reminded again (the services reset reminder_sent_at)."""
    now = now or timezone.now()
    reminded = 0
    for booking in bookings_due_for_reminder(now=now)[:limit]:
        try:
            with transaction.atomic():
                claimed = Booking.objects.filter(
                    pk=booking.pk,
                    reminder_sent_at__isnull=True,
                    status=Booking.Status.CONFIRMED,
                    start=booking.start,
                ).update(reminder_sent_at=now)
                if not claimed:
                    continue
                texts = booking_texts(booking, "reminder", now=now)
                send_to_person(
                    recipient=booking_recipient(booking),
                    has_account=booking.user_id is not None,
                    subject=texts.subject,
                    email=texts.email,
                    sms=texts.sms,
                    letter=texts.letter,
                    key=f"booking-reminder:{booking.pk}:{booking.start.isoformat()}",
                )
                reminded += 1
        except Exception:
            # Rolled back: the booking is still unclaimed and the next run tries again.
            logger.exception("Booking %s: the reminder could not be queued", booking.pk)
    return reminded
