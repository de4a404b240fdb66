"""Running a teleconsultation: the checklist before it (consent, devices, connectivity), the
incidents during it and its closing (done, done with incident, not held), which marks the
booking attended or no-show in the same transaction. Only the people who run the session
(perms.may_run_session) do this; every refusal is a French message and changes nothing.

Nothing about the patient's health is written here: an incident's cause is technical."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.booking.services import (
    booking_attendance_correct,
    booking_mark_attended,
    booking_mark_no_show,
)
from cybercantal.core.audit import audit_log

from ..booking_guard import telehealth_booking_flow
from ..models import Act, Consultation, DeviceKind, Incident
from ..perms import may_correct_closing, may_run_session
from ..selectors.consultations import latest_connectivity_test

INCIDENT_CAUSE_MAX = 300
CLOSING_STATUSES = (
    Consultation.Status.DONE,
    Consultation.Status.INCIDENT,
    Consultation.Status.NOT_HELD,
)


def _require_runner(actor, consultation: Consultation) -> None:
    if not may_run_session(actor, consultation):
        raise BookingForbidden(
            _("Seuls les participants et les coordinateurs du site mènent cette séance.")
        )


def _locked(consultation: Consultation) -> Consultation:
    """The consultation re-read under a row lock: two people closing it at once are served
    one after the other, and the second sees it closed."""
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def _refuse_if_over(consultation: Consultation) -> None:
    if consultation.status == Consultation.Status.CANCELLED:
        raise BookingRuleError(_("Cette téléconsultation est annulée."))
    if consultation.status != Consultation.Status.PLANNED:
        raise BookingRuleError(
            _("Cette téléconsultation est déjà clôturée (%(status)s).")
            % {"status": consultation.get_status_display().lower()}
        )


# Best first: a test that allows one channel allows the ones after it.
CHANNEL_ORDER = [
    Consultation.Channel.VIDEO,
    Consultation.Channel.AUDIO,
    Consultation.Channel.PHONE,
]


def _refuse_channel_beyond_test(consultation: Consultation, channel: str) -> None:
    """The checklist's connectivity test says which channel the site's line carries: a session
    recorded as held through a better one than that was not prepared by the test (a line can
    improve: run the test again and save the checklist)."""
    test = consultation.connectivity_test
    if test is None or test.recommendation not in CHANNEL_ORDER:
        return
    if CHANNEL_ORDER.index(channel) < CHANNEL_ORDER.index(test.recommendation):
        raise BookingRuleError(
            _(
                "Le test de connexion de la liste de vérification (%(day)s) recommandait : "
                "%(recommendation)s. Indiquez le moyen réellement utilisé ; si la connexion "
                "s'est améliorée, refaites le test puis enregistrez de nouveau la liste de "
                "vérification."
            )
            % {
                "day": timezone.localtime(test.measured_at).strftime("%d/%m/%Y %H:%M"),
                "recommendation": test.get_recommendation_display().lower(),
            }
        )


def _snapshot_trip(consultation: Consultation) -> None:
    """The trip avoided is the one of the day: later changes to the site keep past months."""
    consultation.trip_km = consultation.site.hospital_distance_km
    consultation.trip_minutes = consultation.site.hospital_travel_minutes


def checklist_record(
    *,
    actor,
    consultation: Consultation,
    consent: bool,
    devices_ready: Collection[str],
    now: dt.datetime | None = None,
) -> Consultation:
    """Record the checklist before the session: the patient's consent, each device the
    specialty needs checked as ready (`devices_ready`: their DeviceKind codes, all required),
    and the site's latest connectivity test of the last 24 hours (none if there is none: the
    checklist then stays incomplete until a test is run and the checklist saved again)."""
    now = now or timezone.now()
    _require_runner(actor, consultation)
    if not consent:
        raise BookingRuleError(
            _(
                "Cochez l'accord du patient : sans son accord, la téléconsultation ne peut pas "
                "avoir lieu."
            )
        )
    ticked = set(devices_ready or ())
    labels = dict(DeviceKind.choices)
    unchecked = [code for code in consultation.specialty.required_devices if code not in ticked]
    if unchecked:
        raise BookingRuleError(
            _("Vérifiez et cochez chaque appareil. Pas encore coché : %(devices)s.")
            % {"devices": ", ".join(str(labels.get(code, code)) for code in unchecked)}
        )
    with transaction.atomic():
        consultation = _locked(consultation)
        _refuse_if_over(consultation)
        test = latest_connectivity_test(consultation.site, now=now)
        # The first time consent was given stays: saving the checklist again does not move it.
        consultation.consent_recorded_at = consultation.consent_recorded_at or now
        consultation.devices_ready_at = now
        consultation.connectivity_test = test
        consultation.save(
            update_fields=[
                "consent_recorded_at",
                "devices_ready_at",
                "connectivity_test",
                "updated_at",
            ]
        )
        audit_log(
            actor=actor,
            action="telehealth.checklist_record",
            target=consultation,
            data={"connectivity_test": test.pk if test else None},
        )
    return consultation


def consultation_close(
    *,
    actor,
    consultation: Consultation,
    status: str,
    channel: str = "",
    now: dt.datetime | None = None,
) -> Consultation:
    """Close a session: done or done with an incident (after its start, with its checklist
    complete and the channel it went through), or not held (after its start). The booking is
    marked attended or no-show through the booking engine in the same transaction: both
    change or neither does. A consultation closed or cancelled cannot be closed again."""
    now = now or timezone.now()
    _require_runner(actor, consultation)
    if status not in CLOSING_STATUSES:
        raise BookingRuleError(_("Choisissez comment la séance s'est passée."))
    held = status != Consultation.Status.NOT_HELD
    if held and channel not in Consultation.Channel.values:
        raise BookingRuleError(
            _("Indiquez par quel moyen la séance s'est tenue : vidéo, audio ou téléphone.")
        )
    if not held:
        channel = ""
    with transaction.atomic():
        consultation = _locked(consultation)
        _refuse_if_over(consultation)
        if now < consultation.scheduled_start:
            start = timezone.localtime(consultation.scheduled_start)
            raise BookingRuleError(
                _(
                    "La séance commence le %(day)s à %(time)s : elle ne peut pas être clôturée "
                    "avant. Si elle n'aura pas lieu, annulez-la."
                )
                % {"day": start.strftime("%d/%m/%Y"), "time": start.strftime("%H:%M")}
            )
        if held and not consultation.checklist_complete:
            raise BookingRuleError(
                _(
                    "La liste de vérification n'est pas complète (accord du patient, appareils, "
                    "test de connexion) : complétez-la avant d'indiquer la séance réalisée."
                )
            )
        if held:
            _refuse_channel_beyond_test(consultation, channel)
        mark = booking_mark_attended if held else booking_mark_no_show
        with telehealth_booking_flow():  # the engine's change guard lets this one through
            mark(actor=actor, booking=consultation.booking, now=now)
        consultation.status = status
        consultation.channel = channel
        consultation.closed_at = now
        consultation.closed_by = actor
        _snapshot_trip(consultation)
        consultation.save(
            update_fields=[
                "status",
                "channel",
                "closed_at",
                "closed_by",
                "trip_km",
                "trip_minutes",
                "updated_at",
            ]
        )
        audit_log(
            actor=actor,
            action="telehealth.consultation_close",
            target=consultation,
            data={"status": status, "channel": channel},
        )
    return consultation


# Why a closing is corrected: a short choice, never free text (the audit log keeps it, and
# free text invites details about the patient).
CORRECTION_REASONS = [
    ("erreur_saisie", gettext_lazy("Erreur de saisie")),
    ("finalement_tenue", gettext_lazy("Séance finalement tenue")),
    ("finalement_non_tenue", gettext_lazy("Séance finalement non tenue")),
    ("autre", gettext_lazy("Autre")),
]
HELD_STATUSES = (Consultation.Status.DONE, Consultation.Status.INCIDENT)


def _refuse_if_not_closed(consultation: Consultation) -> None:
    if consultation.status == Consultation.Status.CANCELLED:
        raise BookingRuleError(
            _("Cette téléconsultation est annulée : il n'y a pas de clôture à corriger.")
        )
    if consultation.status not in CLOSING_STATUSES:
        raise BookingRuleError(
            _(
                "Cette téléconsultation n'est pas encore clôturée : clôturez la séance au lieu "
                "de corriger sa clôture."
            )
        )


def _refuse_if_acts_coded(consultation: Consultation) -> None:
    codes = sorted(
        set(Act.objects.filter(consultation=consultation).values_list("code", flat=True))
    )
    if codes:
        raise BookingRuleError(
            _("Des actes sont codés pour cette séance (%(codes)s) : supprimez-les d'abord.")
            % {"codes": ", ".join(codes)}
        )


def consultation_close_correct(
    *,
    actor,
    consultation: Consultation,
    status: str,
    channel: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> Consultation:
    """Correct how a closed session was recorded (done, incident, not held, and its channel),
    with a reason from CORRECTION_REASONS. For the site's coordinators and the Département's
    telehealth staff (perms.may_correct_closing).

    Same rules as closing: held needs the checklist complete and a channel no better than the
    connectivity test allowed; not held is refused while acts are coded for the session. Held
    ↔ not held corrects the booking attended ↔ no-show through the booking engine in the same
    transaction (both change or neither does); done ↔ incident leaves the booking alone. The
    original closing time and author stay; an audit row keeps before, after and the reason.
    Nothing to change is refused, and nothing is written."""
    now = now or timezone.now()
    if not may_correct_closing(actor, consultation):
        raise BookingForbidden(
            _(
                "Seuls les coordinateurs du site et l'équipe télémédecine du Département "
                "corrigent la clôture d'une séance."
            )
        )
    if status not in CLOSING_STATUSES:
        raise BookingRuleError(_("Choisissez comment la séance s'est passée."))
    held = status in HELD_STATUSES
    if held and channel not in Consultation.Channel.values:
        raise BookingRuleError(
            _("Indiquez par quel moyen la séance s'est tenue : vidéo, audio ou téléphone.")
        )
    if not held:
        channel = ""
    reasons = dict(CORRECTION_REASONS)
    if reason not in reasons:
        raise BookingRuleError(_("Choisissez le motif de la correction."))
    with transaction.atomic():
        consultation = _locked(consultation)
        _refuse_if_not_closed(consultation)
        before = {"status": consultation.status, "channel": consultation.channel}
        if (status, channel) == (before["status"], before["channel"]):
            raise BookingRuleError(
                _("La séance est déjà enregistrée ainsi (%(status)s) : rien à corriger.")
                % {"status": consultation.get_status_display().lower()}
            )
        if held:
            if not consultation.checklist_complete:
                raise BookingRuleError(
                    _(
                        "La liste de vérification de cette séance n'a pas été complétée (accord "
                        "du patient, appareils, test de connexion) : elle ne peut pas être "
                        "indiquée réalisée."
                    )
                )
            _refuse_channel_beyond_test(consultation, channel)
        else:
            _refuse_if_acts_coded(consultation)
        if held != (before["status"] in HELD_STATUSES):
            with telehealth_booking_flow():  # the engine's change guard lets this one through
                booking_attendance_correct(
                    actor=actor,
                    booking=consultation.booking,
                    to_status=Booking.Status.ATTENDED if held else Booking.Status.NO_SHOW,
                    reason=str(reasons[reason]),
                    now=now,
                )
        consultation.status = status
        consultation.channel = channel
        fields = ["status", "channel", "updated_at"]
        if held and consultation.trip_km is None:
            _snapshot_trip(consultation)
            fields += ["trip_km", "trip_minutes"]
        consultation.save(update_fields=fields)
        audit_log(
            actor=actor,
            action="telehealth.consultation_close_correct",
            target=consultation,
            data={
                "before": before,
                "after": {"status": status, "channel": channel},
                "reason": reason,
            },
        )
    return consultation


def incident_record(
    *,
    actor,
    consultation: Consultation,
    kind: str,
    fallback: str,
    cause: str = "",
    now: dt.datetime | None = None,
) -> Incident:
    """Log a technical incident of the session and the fallback used. `cause` is technical
    only (300 characters at most): never anything about the patient's health."""
    now = now or timezone.now()
    _require_runner(actor, consultation)
    if kind not in Incident.Kind.values:
        raise BookingRuleError(_("Choisissez la nature de l'incident."))
    if fallback not in Incident.Fallback.values:
        raise BookingRuleError(_("Choisissez la solution de repli."))
    cause = " ".join((cause or "").split())
    if len(cause) > INCIDENT_CAUSE_MAX:
        raise BookingRuleError(
            _("La cause compte au plus %(max)d caractères.") % {"max": INCIDENT_CAUSE_MAX}
        )
    with transaction.atomic():
        consultation = _locked(consultation)
        if consultation.status == Consultation.Status.CANCELLED:
            raise BookingRuleError(_("Cette téléconsultation est annulée."))
        incident = Incident.objects.create(
            consultation=consultation,
            kind=kind,
            fallback=fallback,
            cause=cause,
            occurred_at=now,
            recorded_by=actor,
        )
        audit_log(
            actor=actor,
            action="telehealth.incident_record",
            target=consultation,
            data={"incident": incident.pk, "kind": kind, "fallback": fallback},
        )
    return incident
