"""Running a teleconsultation through the services: the checklist (consent, every device, a
connectivity test of the last 24 hours), closing (done, incident, not held) with the booking
marked in the same transaction, incidents with a technical cause only, the video link for the
people who run the session, and the free slots where the practitioner, the site's cart and
the assisting professional are all free. Every refusal is French and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import override_settings
from django.utils import timezone

from cybercantal.booking.availability import public_holidays
from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.booking.services import booking_cancel
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import ConnectivityTest, Consultation, Incident, Site
from cybercantal.telehealth.selectors.consultations import (
    free_slots,
    latest_connectivity_test,
    request_delay,
    video_link,
)
from cybercantal.telehealth.services import sessions
from cybercantal.telehealth.services.consultations import consultation_book
from cybercantal.telehealth.services.sessions import (
    checklist_record,
    consultation_close,
    incident_record,
)
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_assistant,
    make_consultation,
    make_patient,
    make_practitioner,
    make_site,
    make_specialty,
    next_monday,
    staff_user,
)

pytestmark = pytest.mark.django_db


# --- Helpers, also used by test_consultation_views and test_api ----------------------------


def past_start(days_back: int = 7, at: dt.time = dt.time(10, 0)) -> dt.datetime:
    """A working day at least `days_back` days ago (not a week-end nor a public holiday), so
    that a consultation booked then can be closed now."""
    day = timezone.localdate() - dt.timedelta(days=days_back)
    while day.weekday() >= 5 or day in public_holidays(day.year):
        day -= dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, at))


def build_network():
    """A care home with its coordinator, a dermatologist, the site's nurse and a resident."""
    coordinator = UserFactory()
    derm = make_specialty()
    site = make_site(coordinators=[coordinator])
    return SimpleNamespace(
        coordinator=coordinator,
        derm=derm,
        site=site,
        doctor=make_practitioner(specialties=[derm]),
        nurse=make_assistant(sites=[site]),
        patient=make_patient(site),
    )


def book(net, *, start=None, now=None, **kwargs) -> Consultation:
    values = {
        "site": net.site,
        "practitioner": net.doctor,
        "specialty": net.derm,
        "patient": net.patient,
        "assistant": net.nurse,
        "actor": net.nurse.user,
        "start": start or next_monday(),
    }
    if now is not None:
        values["now"] = now
    return make_consultation(**(values | kwargs))


def book_past(net, *, days_back: int = 7, **kwargs) -> Consultation:
    """A consultation whose start has passed (booked the day before it)."""
    start = past_start(days_back)
    return book(net, start=start, now=start - dt.timedelta(days=1), **kwargs)


def connectivity(site, *, ago=dt.timedelta(hours=1), recommendation="video", now=None):
    return ConnectivityTest.objects.create(
        site=site,
        measured_at=(now or timezone.now()) - ago,
        download_mbps=Decimal("24.5"),
        upload_mbps=Decimal("6.2"),
        latency_ms=38,
        recommendation=recommendation,
    )


def complete_checklist(net, consultation, *, now=None) -> Consultation:
    connectivity(net.site, now=now)
    return checklist_record(
        actor=net.nurse.user,
        consultation=consultation,
        consent=True,
        devices_ready=list(consultation.specialty.required_devices),
        now=now,
    )


def strangers(net) -> list:
    """People who must not see or run the session: someone without a role, the coordinator
    of another site, another practitioner of the same specialty."""
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    return [UserFactory(), other_coordinator, make_practitioner(specialties=[net.derm]).user]


@pytest.fixture
def net():
    return build_network()


def snapshot(consultation: Consultation) -> tuple:
    consultation.refresh_from_db()
    consultation.booking.refresh_from_db()
    return (
        consultation.status,
        consultation.channel,
        consultation.closed_at,
        consultation.consent_recorded_at,
        consultation.devices_ready_at,
        consultation.connectivity_test_id,
        consultation.booking.status,
        consultation.incidents.count(),
    )


# --- Checklist ------------------------------------------------------------------------------


def test_checklist_records_consent_devices_and_the_latest_recent_test(net):
    consultation = book(net)
    now = consultation.scheduled_start - dt.timedelta(hours=2)  # on the day
    connectivity(net.site, ago=dt.timedelta(hours=5), now=now)
    latest = connectivity(net.site, ago=dt.timedelta(minutes=20), recommendation="audio", now=now)
    connectivity(net.site, ago=dt.timedelta(hours=30), now=now)
    result = checklist_record(
        actor=net.nurse.user,
        consultation=consultation,
        consent=True,
        devices_ready=["dermatoscope"],
        now=now,
    )
    consultation.refresh_from_db()
    assert consultation.consent_recorded_at == now
    assert consultation.devices_ready_at == now
    assert consultation.connectivity_test == latest
    assert consultation.checklist_complete and result.checklist_complete
    assert AuditLog.objects.filter(
        action="telehealth.checklist_record", target_id=str(consultation.pk)
    ).exists()


def test_a_checklist_saved_days_ahead_is_incomplete_until_saved_again_on_the_day(net):
    consultation = book(net)
    days_ahead = consultation.scheduled_start - dt.timedelta(days=3)
    connectivity(net.site, ago=dt.timedelta(minutes=10), now=days_ahead)
    checklist_record(
        actor=net.nurse.user,
        consultation=consultation,
        consent=True,
        devices_ready=["dermatoscope"],
        now=days_ahead,
    )
    consultation.refresh_from_db()
    assert consultation.connectivity_test is not None
    assert not consultation.connectivity_test_fresh and not consultation.checklist_complete
    on_the_day = consultation.scheduled_start - dt.timedelta(hours=1)
    connectivity(net.site, ago=dt.timedelta(minutes=10), now=on_the_day)
    checklist_record(
        actor=net.nurse.user,
        consultation=consultation,
        consent=True,
        devices_ready=["dermatoscope"],
        now=on_the_day,
    )
    consultation.refresh_from_db()
    assert consultation.checklist_complete


def test_checklist_without_a_test_of_the_last_24_hours_stays_incomplete(net):
    consultation = book(net)
    now = timezone.now()
    old = connectivity(net.site, ago=dt.timedelta(hours=25), now=now)
    checklist_record(
        actor=net.coordinator,
        consultation=consultation,
        consent=True,
        devices_ready=["dermatoscope"],
        now=now,
    )
    consultation.refresh_from_db()
    assert consultation.consent_recorded_at == now
    assert consultation.connectivity_test is None
    assert not consultation.checklist_complete
    assert latest_connectivity_test(net.site, now=now) is None
    assert latest_connectivity_test(net.site, now=old.measured_at + dt.timedelta(hours=1)) == old


def test_saving_the_checklist_again_keeps_the_first_consent_time(net):
    consultation = book(net)
    first = timezone.now() - dt.timedelta(hours=2)
    complete_checklist(net, consultation, now=first)
    later = timezone.now()
    consultation = complete_checklist(net, consultation, now=later)
    assert consultation.consent_recorded_at == first
    assert consultation.devices_ready_at == later


def test_checklist_needs_consent(net):
    consultation = book(net)
    connectivity(net.site)
    before = snapshot(consultation)
    with pytest.raises(BookingRuleError, match="accord du patient"):
        checklist_record(
            actor=net.nurse.user,
            consultation=consultation,
            consent=False,
            devices_ready=["dermatoscope"],
        )
    assert snapshot(consultation) == before


def test_checklist_needs_every_device_of_the_specialty(net):
    derm = net.derm
    derm.required_devices = ["dermatoscope", "camera"]
    derm.save()
    consultation = book(net)
    before = snapshot(consultation)
    with pytest.raises(BookingRuleError, match="Pas encore coché : Caméra d'examen"):
        checklist_record(
            actor=net.nurse.user,
            consultation=consultation,
            consent=True,
            devices_ready=["dermatoscope", "otoscope"],
        )
    assert snapshot(consultation) == before


def test_checklist_is_for_the_people_who_run_the_session(net):
    consultation = book(net)
    before = snapshot(consultation)
    for user in [*strangers(net), staff_user()]:
        with pytest.raises(BookingForbidden):
            checklist_record(
                actor=user, consultation=consultation, consent=True, devices_ready=["dermatoscope"]
            )
    assert snapshot(consultation) == before
    for user in (net.doctor.user, net.nurse.user, net.coordinator):
        checklist_record(
            actor=user, consultation=consultation, consent=True, devices_ready=["dermatoscope"]
        )


def test_checklist_of_a_closed_consultation_is_refused(net):
    consultation = book_past(net)
    consultation_close(
        actor=net.nurse.user,
        consultation=consultation,
        status=Consultation.Status.NOT_HELD,
    )
    before = snapshot(consultation)
    with pytest.raises(BookingRuleError, match="déjà clôturée"):
        checklist_record(
            actor=net.nurse.user,
            consultation=consultation,
            consent=True,
            devices_ready=["dermatoscope"],
        )
    assert snapshot(consultation) == before


# --- Closing --------------------------------------------------------------------------------


def test_done_marks_the_booking_attended_in_the_same_step(net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    closed = consultation_close(
        actor=net.doctor.user,
        consultation=consultation,
        status=Consultation.Status.DONE,
        channel=Consultation.Channel.VIDEO,
    )
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.DONE == closed.status
    assert consultation.channel == "video"
    assert consultation.closed_by == net.doctor.user and consultation.closed_at is not None
    assert consultation.booking.status == Booking.Status.ATTENDED
    assert AuditLog.objects.filter(
        action="telehealth.consultation_close", target_id=str(consultation.pk)
    ).exists()


def test_closing_keeps_the_trip_of_the_day_for_the_economics(net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    consultation_close(
        actor=net.doctor.user,
        consultation=consultation,
        status=Consultation.Status.DONE,
        channel=Consultation.Channel.VIDEO,
    )
    site = consultation.site
    site.refresh_from_db()
    consultation.refresh_from_db()
    assert consultation.trip_km == site.hospital_distance_km
    assert consultation.trip_minutes == site.hospital_travel_minutes
    Site.objects.filter(pk=site.pk).update(hospital_distance_km=Decimal("5.0"))
    consultation.refresh_from_db()
    assert consultation.trip_km == site.hospital_distance_km != Decimal("5.0")


def test_done_with_an_incident(net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    consultation_close(
        actor=net.coordinator,
        consultation=consultation,
        status=Consultation.Status.INCIDENT,
        channel=Consultation.Channel.PHONE,
    )
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.INCIDENT
    assert consultation.booking.status == Booking.Status.ATTENDED


def test_not_held_needs_no_checklist_and_marks_a_no_show(net):
    consultation = book_past(net)
    consultation_close(
        actor=net.nurse.user,
        consultation=consultation,
        status=Consultation.Status.NOT_HELD,
        channel=Consultation.Channel.VIDEO,  # ignored: it did not take place
    )
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.NOT_HELD
    assert consultation.channel == ""
    assert consultation.booking.status == Booking.Status.NO_SHOW


def test_done_before_the_checklist_is_complete_is_refused(net):
    consultation = book_past(net)
    checklist_record(
        actor=net.nurse.user,
        consultation=consultation,
        consent=True,
        devices_ready=["dermatoscope"],
    )  # no connectivity test
    before = snapshot(consultation)
    for status in (Consultation.Status.DONE, Consultation.Status.INCIDENT):
        with pytest.raises(BookingRuleError, match="liste de vérification n'est pas complète"):
            consultation_close(
                actor=net.nurse.user, consultation=consultation, status=status, channel="video"
            )
    assert snapshot(consultation) == before


def test_closing_before_the_start_is_refused(net):
    consultation = book(net)
    complete_checklist(net, consultation)
    before = snapshot(consultation)
    for status in (Consultation.Status.DONE, Consultation.Status.NOT_HELD):
        with pytest.raises(BookingRuleError, match="ne peut pas être clôturée avant"):
            consultation_close(
                actor=net.nurse.user, consultation=consultation, status=status, channel="video"
            )
    assert snapshot(consultation) == before


def test_closing_twice_is_refused(net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    consultation_close(
        actor=net.nurse.user, consultation=consultation, status="realisee", channel="audio"
    )
    before = snapshot(consultation)
    for status in ("realisee", "non_tenue", "incident"):
        with pytest.raises(BookingRuleError, match="déjà clôturée"):
            consultation_close(
                actor=net.doctor.user, consultation=consultation, status=status, channel="video"
            )
    assert snapshot(consultation) == before
    assert consultation.closed_by == net.nurse.user


def test_a_cancelled_consultation_cannot_be_closed(net):
    from cybercantal.telehealth.services.consultations import consultation_cancel

    consultation = book_past(net)
    consultation_cancel(actor=net.coordinator, consultation=consultation)
    before = snapshot(consultation)
    with pytest.raises(BookingRuleError, match="annulée"):
        consultation_close(actor=net.nurse.user, consultation=consultation, status="non_tenue")
    assert snapshot(consultation) == before


@pytest.mark.parametrize(
    ("status", "channel", "message"),
    [
        ("", "video", "Choisissez comment"),
        ("annulee", "video", "Choisissez comment"),
        ("prevue", "video", "Choisissez comment"),
        ("realisee", "", "par quel moyen"),
        ("realisee", "pigeon", "par quel moyen"),
    ],
)
def test_bad_closing_input_is_refused_in_french(net, status, channel, message):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    before = snapshot(consultation)
    with pytest.raises(BookingRuleError, match=message):
        consultation_close(
            actor=net.nurse.user, consultation=consultation, status=status, channel=channel
        )
    assert snapshot(consultation) == before


def test_closing_is_for_the_people_who_run_the_session(net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    before = snapshot(consultation)
    for user in [*strangers(net), staff_user()]:
        with pytest.raises(BookingForbidden):
            consultation_close(
                actor=user, consultation=consultation, status="realisee", channel="video"
            )
    assert snapshot(consultation) == before


def test_the_booking_and_the_consultation_change_together_or_not_at_all(net, monkeypatch):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    before = snapshot(consultation)

    def broken_audit(**kwargs):
        raise RuntimeError("audit indisponible")

    # The booking is marked attended first; a failure after it must undo it.
    monkeypatch.setattr(sessions, "audit_log", broken_audit)
    with pytest.raises(RuntimeError):
        consultation_close(
            actor=net.nurse.user, consultation=consultation, status="realisee", channel="video"
        )
    assert snapshot(consultation) == before
    assert before[6] == Booking.Status.CONFIRMED


def test_cancelling_its_booking_behind_its_back_is_refused(net):
    # The engine's change guard (booking.hooks): the booking and the consultation stay in step.
    consultation = book_past(net)
    before = snapshot(consultation)
    # Staff may change any booking of the engine: only the guard stands in the way.
    with pytest.raises(BookingForbidden, match="espace Téléconsultation"):
        booking_cancel(actor=staff_user(), booking=consultation.booking)
    assert snapshot(consultation) == before
    closed = consultation_close(actor=net.nurse.user, consultation=consultation, status="non_tenue")
    assert closed.status == Consultation.Status.NOT_HELD
    assert snapshot(consultation)[6] == Booking.Status.NO_SHOW


# --- Incidents ------------------------------------------------------------------------------


def test_incident_with_its_fallback_and_technical_cause(net):
    consultation = book(net)
    incident = incident_record(
        actor=net.nurse.user,
        consultation=consultation,
        kind="reseau",
        fallback="telephone",
        cause="  Box   redémarrée  ",
    )
    assert incident.consultation == consultation
    assert incident.cause == "Box redémarrée"
    assert incident.recorded_by == net.nurse.user
    assert AuditLog.objects.filter(
        action="telehealth.incident_record", target_id=str(consultation.pk)
    ).exists()


@pytest.mark.parametrize(
    ("kind", "fallback", "cause", "message"),
    [
        ("seisme", "telephone", "", "nature de l'incident"),
        ("", "telephone", "", "nature de l'incident"),
        ("reseau", "fax", "", "solution de repli"),
        ("reseau", "telephone", "x" * 301, "au plus 300 caractères"),
    ],
)
def test_bad_incident_input_is_refused_in_french(net, kind, fallback, cause, message):
    consultation = book(net)
    with pytest.raises(BookingRuleError, match=message):
        incident_record(
            actor=net.nurse.user,
            consultation=consultation,
            kind=kind,
            fallback=fallback,
            cause=cause,
        )
    assert not Incident.objects.exists()


def test_incidents_are_for_the_people_who_run_the_session(net):
    consultation = book(net)
    for user in [*strangers(net), staff_user()]:
        with pytest.raises(BookingForbidden):
            incident_record(actor=user, consultation=consultation, kind="video", fallback="aucun")
    assert not Incident.objects.exists()


def test_no_incident_on_a_cancelled_consultation(net):
    from cybercantal.telehealth.services.consultations import consultation_cancel

    consultation = book(net)
    consultation_cancel(actor=net.nurse.user, consultation=consultation)
    with pytest.raises(BookingRuleError, match="annulée"):
        incident_record(
            actor=net.nurse.user, consultation=consultation, kind="video", fallback="aucun"
        )
    assert not Incident.objects.exists()


# --- Video link, delay ------------------------------------------------------------------------


def test_video_link_for_the_people_who_run_the_session_only(net):
    consultation = book(net)
    with override_settings(TELEHEALTH_VIDEO_BASE_URL="https://visio.example.org/"):
        for user in (net.doctor.user, net.nurse.user, net.coordinator):
            assert (
                video_link(consultation, actor=user)
                == f"https://visio.example.org/{consultation.video_room}"
            )
        for user in [*strangers(net), staff_user()]:
            assert video_link(consultation, actor=user) is None
    with override_settings(TELEHEALTH_VIDEO_BASE_URL=""):
        assert video_link(consultation, actor=net.doctor.user) is None


def test_delay_from_the_request_to_the_consultation(net):
    start = next_monday()
    consultation = book(
        net,
        start=start,
        now=start - dt.timedelta(days=4),
        requested_at=start - dt.timedelta(days=4, hours=2),
    )
    assert request_delay(consultation) == dt.timedelta(days=4, hours=2)


# --- Free slots -----------------------------------------------------------------------------


def test_slots_are_where_the_doctor_the_cart_and_the_nurse_are_all_free(net):
    now = timezone.now()
    monday = next_monday(at=dt.time(9, 0))
    offered = {
        slot.start
        for slot in free_slots(
            site=net.site, specialty=net.derm, assistant=net.nurse, now=now, limit=1000
        )
    }
    assert monday in offered and monday + dt.timedelta(minutes=30) in offered

    # The doctor busy at 9:00 elsewhere, the nurse busy at 9:30 on another site she serves,
    # the cart busy at 10:00 with another doctor and another nurse.
    other_site = make_site()
    net.nurse.sites.add(other_site)
    book(
        net,
        site=other_site,
        patient=make_patient(other_site),
        assistant=make_assistant(sites=[other_site]),
        actor=staff_user(),
        start=monday,
    )
    book(
        net,
        site=other_site,
        patient=make_patient(other_site),
        practitioner=make_practitioner(specialties=[net.derm]),
        actor=staff_user(),
        start=monday + dt.timedelta(minutes=30),
    )
    book(
        net,
        practitioner=make_practitioner(specialties=[net.derm]),
        assistant=make_assistant(sites=[net.site]),
        start=monday + dt.timedelta(hours=1),
    )

    slots = free_slots(site=net.site, specialty=net.derm, assistant=net.nurse, now=now, limit=1000)
    mine = {slot.start for slot in slots if slot.practitioner == net.doctor}
    for busy in (0, 30, 60):
        assert monday + dt.timedelta(minutes=busy) not in mine
    assert monday + dt.timedelta(minutes=90) in mine
    # Another dermatologist is free at 9:00, with this cart and this nurse.
    assert any(s.start == monday and s.practitioner != net.doctor for s in slots)


def test_slots_come_in_order_within_14_days_and_can_be_booked(net):
    now = timezone.now()
    slots = free_slots(site=net.site, specialty=net.derm, assistant=net.nurse, now=now)
    assert slots, "a network open on weekdays has free slots"
    starts = [slot.start for slot in slots]
    assert starts == sorted(starts)
    assert all(now < start <= now + dt.timedelta(days=14) for start in starts)
    assert all(slot.end - slot.start == dt.timedelta(minutes=30) for slot in slots)
    first = slots[0]
    consultation = consultation_book(
        actor=net.nurse.user,
        site=net.site,
        practitioner=first.practitioner,
        specialty=net.derm,
        patient=net.patient,
        assistant=net.nurse,
        start=first.start,
    )
    assert consultation.scheduled_start == first.start
    again = free_slots(site=net.site, specialty=net.derm, assistant=net.nurse, now=now)
    assert first.start not in {slot.start for slot in again}
    with pytest.raises(BookingConflict):
        consultation_book(
            actor=net.nurse.user,
            site=net.site,
            practitioner=first.practitioner,
            specialty=net.derm,
            patient=net.patient,
            assistant=net.nurse,
            start=first.start,
        )


def test_slots_from_a_later_day_never_before_now(net):
    now = timezone.now()
    later = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() + dt.timedelta(days=5), dt.time())
    )
    slots = free_slots(site=net.site, specialty=net.derm, assistant=net.nurse, now=now, since=later)
    assert slots and all(slot.start >= later for slot in slots)
    assert slots[0].start.time() == dt.time(9, 0)  # the first opening of a day
    earlier = free_slots(
        site=net.site,
        specialty=net.derm,
        assistant=net.nurse,
        now=now,
        since=now - dt.timedelta(days=3),
    )
    assert earlier == free_slots(site=net.site, specialty=net.derm, assistant=net.nurse, now=now)
    beyond = now + dt.timedelta(days=15)
    assert (
        free_slots(site=net.site, specialty=net.derm, assistant=net.nurse, now=now, since=beyond)
        == []
    )


def test_no_slot_when_the_site_is_closed(net):
    from cybercantal.booking.models import AvailabilityRule

    AvailabilityRule.objects.filter(resource=net.site.resource).delete()
    assert free_slots(site=net.site, specialty=net.derm, assistant=net.nurse) == []
