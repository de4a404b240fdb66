"""Correcting a session's closing (services/sessions.consultation_close_correct and its page):
held ↔ not held corrects the booking attended ↔ no-show in the same transaction, done ↔
incident leaves the booking alone; the same rules as closing (checklist, channel no better than
the connectivity test, no acts coded before "not held"); only the site's coordinators and
staff; every refusal is French and changes nothing; the audit row keeps before, after and the
reason, never the patient's name."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking, BookingTransition
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Act, Consultation
from cybercantal.telehealth.services import sessions
from cybercantal.telehealth.services.acts import act_code
from cybercantal.telehealth.services.consultations import consultation_cancel
from cybercantal.telehealth.services.sessions import consultation_close, consultation_close_correct
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import make_site, staff_user
from tests.telehealth.test_sessions import (
    book,
    book_past,
    build_network,
    complete_checklist,
    connectivity,
    snapshot,
    strangers,
)

pytestmark = pytest.mark.django_db

DONE = Consultation.Status.DONE
INCIDENT = Consultation.Status.INCIDENT
NOT_HELD = Consultation.Status.NOT_HELD
ACTION = "telehealth.consultation_close_correct"


@pytest.fixture
def net():
    return build_network()


def closed(net, status, channel="video", *, checklist=True, days_back=7) -> Consultation:
    """A past consultation closed by its nurse as `status` (another `days_back` for another
    consultation of the same network)."""
    consultation = book_past(net, days_back=days_back)
    if checklist:
        complete_checklist(net, consultation)
    return consultation_close(
        actor=net.nurse.user, consultation=consultation, status=status, channel=channel
    )


def correct(net, consultation, status, channel="", reason="erreur_saisie", actor=None):
    return consultation_close_correct(
        actor=actor or net.coordinator,
        consultation=consultation,
        status=status,
        channel=channel,
        reason=reason,
    )


def corrections(consultation) -> int:
    return AuditLog.objects.filter(action=ACTION, target_id=str(consultation.pk)).count()


def full_snapshot(consultation) -> tuple:
    """The session's snapshot, its trip, who closed it and the booking's transitions."""
    return (
        *snapshot(consultation),
        consultation.closed_by_id,
        consultation.trip_km,
        consultation.trip_minutes,
        consultation.booking.transitions.count(),
    )


# --- Transitions --------------------------------------------------------------------------


def test_not_held_corrected_to_done_marks_the_booking_attended_again(net):
    consultation = closed(net, NOT_HELD)
    closed_at, closed_by = consultation.closed_at, consultation.closed_by_id
    consultation.booking.refresh_from_db()
    assert consultation.booking.status == Booking.Status.NO_SHOW
    result = correct(net, consultation, DONE, "audio", reason="finalement_tenue")
    consultation.refresh_from_db()
    consultation.booking.refresh_from_db()
    assert (result.status, consultation.status, consultation.channel) == (DONE, DONE, "audio")
    assert consultation.booking.status == Booking.Status.ATTENDED
    # The original closing stays: who closed it and when.
    assert (consultation.closed_at, consultation.closed_by_id) == (closed_at, closed_by)
    last = consultation.booking.transitions.last()
    assert (last.from_status, last.to_status) == (Booking.Status.NO_SHOW, Booking.Status.ATTENDED)
    assert last.actor == net.coordinator and last.reason == "Séance finalement tenue"
    row = AuditLog.objects.get(action=ACTION, target_id=str(consultation.pk))
    assert row.actor == net.coordinator
    assert row.data == {
        "before": {"status": NOT_HELD, "channel": ""},
        "after": {"status": DONE, "channel": "audio"},
        "reason": "finalement_tenue",
    }


def test_done_corrected_to_not_held_marks_the_booking_no_show(net):
    consultation = closed(net, DONE)
    correct(net, consultation, NOT_HELD, "video", reason="finalement_non_tenue")
    consultation.refresh_from_db()
    consultation.booking.refresh_from_db()
    assert consultation.status == NOT_HELD
    assert consultation.channel == ""  # a session not held went through no channel
    assert consultation.booking.status == Booking.Status.NO_SHOW
    assert consultation.closed_by == net.nurse.user


@pytest.mark.parametrize(("first", "then"), [(DONE, INCIDENT), (INCIDENT, DONE)])
def test_done_and_incident_swap_without_touching_the_booking(net, first, then):
    consultation = closed(net, first)
    transitions = consultation.booking.transitions.count()
    correct(net, consultation, then, "video")
    consultation.refresh_from_db()
    consultation.booking.refresh_from_db()
    assert consultation.status == then
    assert consultation.booking.status == Booking.Status.ATTENDED
    assert consultation.booking.transitions.count() == transitions


def test_the_channel_alone_can_be_corrected(net):
    consultation = closed(net, DONE, "video")
    correct(net, consultation, DONE, "telephone")
    consultation.refresh_from_db()
    assert (consultation.status, consultation.channel) == (DONE, "telephone")


def test_staff_may_correct(net):
    consultation = closed(net, NOT_HELD)
    correct(net, consultation, DONE, "video", actor=staff_user())
    consultation.refresh_from_db()
    assert consultation.status == DONE


def test_becoming_held_writes_the_missing_trip_and_keeps_an_existing_one(net):
    consultation = closed(net, NOT_HELD)
    Consultation.objects.filter(pk=consultation.pk).update(trip_km=None, trip_minutes=None)
    correct(net, consultation, DONE, "video")
    consultation.refresh_from_db()
    assert consultation.trip_km == net.site.hospital_distance_km is not None
    assert consultation.trip_minutes == net.site.hospital_travel_minutes
    # A trip already recorded is the one of the day: a later correction keeps it.
    Consultation.objects.filter(pk=consultation.pk).update(trip_km=Decimal("12.5"))
    correct(net, consultation, NOT_HELD)
    correct(net, consultation, INCIDENT, "video")
    consultation.refresh_from_db()
    assert consultation.trip_km == Decimal("12.5")


def test_acts_can_be_coded_after_correcting_to_done(net):
    consultation = closed(net, NOT_HELD)
    with pytest.raises(BookingRuleError, match="clôturée"):
        act_code(actor=net.doctor.user, consultation=consultation, code="TCG")
    consultation = correct(net, consultation, DONE, "video")
    act = act_code(actor=net.doctor.user, consultation=consultation, code="TCG")
    assert act.consultation == consultation and act.code == "TCG"


# --- Refusals -----------------------------------------------------------------------------


def test_not_held_is_refused_while_acts_are_coded(net):
    consultation = closed(net, DONE)
    act_code(actor=net.doctor.user, consultation=consultation, code="TCG")
    act_code(actor=net.nurse.user, consultation=consultation, code="TLL")
    before = full_snapshot(consultation)
    with pytest.raises(
        BookingRuleError,
        match=r"Des actes sont codés pour cette séance \(TCG, TLL\) : supprimez-les d'abord\.",
    ):
        correct(net, consultation, NOT_HELD)
    assert full_snapshot(consultation) == before
    assert corrections(consultation) == 0
    # Done → incident stays possible with acts coded: the session was held either way.
    correct(net, consultation, INCIDENT, "video")
    assert Act.objects.filter(consultation=consultation).count() == 2


def test_a_planned_consultation_has_no_closing_to_correct(net):
    consultation = book_past(net)
    complete_checklist(net, consultation)
    before = full_snapshot(consultation)
    for status in (DONE, NOT_HELD):
        with pytest.raises(BookingRuleError, match="pas encore clôturée"):
            correct(net, consultation, status, "video")
    assert full_snapshot(consultation) == before
    assert corrections(consultation) == 0


def test_a_cancelled_consultation_has_no_closing_to_correct(net):
    consultation = book_past(net)
    consultation_cancel(actor=net.coordinator, consultation=consultation)
    before = full_snapshot(consultation)
    with pytest.raises(BookingRuleError, match="annulée"):
        correct(net, consultation, NOT_HELD)
    assert full_snapshot(consultation) == before


def test_only_the_sites_coordinators_and_staff_correct(net):
    consultation = closed(net, NOT_HELD)
    before = full_snapshot(consultation)
    # The nurse and the practitioner ran the session; other people have nothing to do with it.
    refused = [net.nurse.user, net.doctor.user, *strangers(net)]
    for user in refused:
        with pytest.raises(BookingForbidden, match="coordinateurs du site"):
            correct(net, consultation, DONE, "video", actor=user)
    assert full_snapshot(consultation) == before
    assert corrections(consultation) == 0


def test_the_same_status_and_channel_is_nothing_to_correct(net):
    consultation = closed(net, DONE, "audio")
    before = full_snapshot(consultation)
    with pytest.raises(BookingRuleError, match="rien à corriger"):
        correct(net, consultation, DONE, "audio")
    not_held = closed(net, NOT_HELD, days_back=14)
    with pytest.raises(BookingRuleError, match="rien à corriger"):
        correct(net, not_held, NOT_HELD, "video")  # the channel of "not held" is ignored
    assert full_snapshot(consultation) == before
    assert corrections(consultation) == corrections(not_held) == 0


def test_held_needs_the_checklist_complete(net):
    consultation = closed(net, NOT_HELD, checklist=False)
    before = full_snapshot(consultation)
    for status in (DONE, INCIDENT):
        with pytest.raises(BookingRuleError, match="liste de vérification"):
            correct(net, consultation, status, "telephone")
    assert full_snapshot(consultation) == before


def test_the_channel_may_not_be_better_than_the_connectivity_test(net):
    consultation = book_past(net)
    connectivity(net.site, recommendation="audio")
    sessions.checklist_record(
        actor=net.nurse.user,
        consultation=consultation,
        consent=True,
        devices_ready=list(consultation.specialty.required_devices),
    )
    consultation_close(actor=net.nurse.user, consultation=consultation, status=NOT_HELD)
    before = full_snapshot(consultation)
    with pytest.raises(BookingRuleError, match="recommandait : audio"):
        correct(net, consultation, DONE, "video")
    assert full_snapshot(consultation) == before
    correct(net, consultation, DONE, "telephone")  # worse than the test allowed: fine
    consultation.refresh_from_db()
    assert consultation.channel == "telephone"


@pytest.mark.parametrize(
    ("status", "channel", "reason", "message"),
    [
        ("", "video", "erreur_saisie", "Choisissez comment"),
        ("prevue", "video", "erreur_saisie", "Choisissez comment"),
        ("annulee", "video", "erreur_saisie", "Choisissez comment"),
        ("realisee", "", "erreur_saisie", "par quel moyen"),
        ("realisee", "pigeon", "erreur_saisie", "par quel moyen"),
        ("realisee", "video", "", "motif de la correction"),
        ("realisee", "video", "il a oublié", "motif de la correction"),
    ],
)
def test_bad_input_is_refused_in_french(net, status, channel, reason, message):
    consultation = closed(net, NOT_HELD)
    before = full_snapshot(consultation)
    with pytest.raises(BookingRuleError, match=message):
        correct(net, consultation, status, channel, reason=reason)
    assert full_snapshot(consultation) == before


# --- One transaction ----------------------------------------------------------------------


def test_a_refused_booking_correction_leaves_the_consultation_unchanged(net, monkeypatch):
    consultation = closed(net, NOT_HELD)
    before = full_snapshot(consultation)

    def refused(**kwargs):
        raise BookingRuleError("Le moteur de réservation refuse.")

    monkeypatch.setattr(sessions, "booking_attendance_correct", refused)
    with pytest.raises(BookingRuleError, match="refuse"):
        correct(net, consultation, DONE, "video")
    assert full_snapshot(consultation) == before
    assert corrections(consultation) == 0


def test_a_failure_after_the_booking_is_corrected_undoes_it(net, monkeypatch):
    consultation = closed(net, DONE)
    before = full_snapshot(consultation)

    def broken_audit(**kwargs):
        raise RuntimeError("audit indisponible")

    monkeypatch.setattr(sessions, "audit_log", broken_audit)
    with pytest.raises(RuntimeError):
        correct(net, consultation, NOT_HELD)
    assert full_snapshot(consultation) == before
    assert before[6] == Booking.Status.ATTENDED
    assert not BookingTransition.objects.filter(
        booking=consultation.booking, to_status=Booking.Status.NO_SHOW
    ).exists()


# --- The page -----------------------------------------------------------------------------


def correct_url(consultation) -> str:
    return f"/telesante/consultations/{consultation.pk}/corriger-cloture/"


def detail_url(consultation) -> str:
    return f"/telesante/consultations/{consultation.pk}/"


def text(response) -> str:
    return response.content.decode()


def test_the_coordinator_corrects_from_the_consultations_page(client, net):
    consultation = closed(net, NOT_HELD)
    client.force_login(net.coordinator)
    page = text(client.get(detail_url(consultation)))
    assert "Corriger la clôture" in page and correct_url(consultation) in page
    response = client.get(correct_url(consultation))
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Corriger la clôture</h1>" in page
    assert "Erreur de saisie" in page and "Séance finalement tenue" in page
    response = client.post(
        correct_url(consultation),
        {"status": "realisee", "channel": "video", "reason": "finalement_tenue"},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(consultation)
    consultation.refresh_from_db()
    consultation.booking.refresh_from_db()
    assert (consultation.status, consultation.channel) == (DONE, "video")
    assert consultation.booking.status == Booking.Status.ATTENDED
    assert "Clôture corrigée : réalisée" in text(client.get(detail_url(consultation)))


def test_the_link_is_only_for_those_who_may_correct_a_closed_session(client, net):
    planned = book(net)
    done = closed(net, DONE)
    client.force_login(net.coordinator)
    assert correct_url(planned) not in text(client.get(detail_url(planned)))
    for user in (net.nurse.user, net.doctor.user):
        client.force_login(user)
        assert correct_url(done) not in text(client.get(detail_url(done)))
    client.force_login(staff_user())
    assert correct_url(done) in text(client.get(detail_url(done)))


def test_the_page_refuses_with_403_or_404(client, net):
    consultation = closed(net, NOT_HELD)
    before = full_snapshot(consultation)
    post = {"status": "realisee", "channel": "video", "reason": "erreur_saisie"}
    for user in (net.nurse.user, net.doctor.user):
        client.force_login(user)
        assert client.get(correct_url(consultation)).status_code == 403
        assert client.post(correct_url(consultation), post).status_code == 403
    for user in strangers(net):
        client.force_login(user)
        assert client.get(correct_url(consultation)).status_code == 404
        assert client.post(correct_url(consultation), post).status_code == 404
    client.logout()
    response = client.get(correct_url(consultation))
    assert response.status_code == 302 and "next=" in response["Location"]
    client.force_login(net.coordinator)
    assert client.get("/telesante/consultations/999999/corriger-cloture/").status_code == 404
    assert full_snapshot(consultation) == before
    assert corrections(consultation) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choisissez comment la séance s&#x27;est passée"),
        ({"status": "realisee", "reason": "autre"}, "par quel moyen"),
        ({"status": "realisee", "channel": "video"}, "Choisissez le motif de la correction"),
        ({"status": "prevue", "channel": "video", "reason": "autre"}, "Choisissez comment"),
        ({"status": "realisee", "channel": "x", "reason": "<script>"}, "Choisissez vidéo"),
        ({"status": "non_tenue", "reason": "autre"}, "rien à corriger"),
    ],
)
def test_bad_input_on_the_page_is_a_400_in_french(client, net, data, message):
    consultation = closed(net, NOT_HELD)
    before = full_snapshot(consultation)
    client.force_login(net.coordinator)
    response = client.post(correct_url(consultation), data)
    assert response.status_code == 400
    assert message in text(response)
    assert "Le formulaire contient des erreurs" in text(response)
    assert full_snapshot(consultation) == before


def test_service_refusals_on_the_page(client, net):
    consultation = closed(net, DONE)
    act_code(actor=net.doctor.user, consultation=consultation, code="TCG")
    client.force_login(net.coordinator)
    response = client.post(
        correct_url(consultation), {"status": "non_tenue", "reason": "finalement_non_tenue"}
    )
    assert response.status_code == 400
    assert "Des actes sont codés pour cette séance (TCG)" in text(response)
    planned = book_past(net, days_back=14)
    response = client.get(correct_url(planned))
    assert response.status_code == 200
    assert "pas de clôture à corriger" in text(response)
    assert 'name="reason"' not in text(response)
    response = client.post(correct_url(planned), {"status": "non_tenue", "reason": "erreur_saisie"})
    assert response.status_code == 400 and "pas encore clôturée" in text(response)
    consultation.refresh_from_db()
    planned.refresh_from_db()
    assert (consultation.status, planned.status) == (DONE, Consultation.Status.PLANNED)


def test_other_sites_coordinator_gets_a_404(client, net):
    other = UserFactory()
    make_site(coordinators=[other])
    consultation = closed(net, NOT_HELD)
    client.force_login(other)
    assert client.get(correct_url(consultation)).status_code == 404


# --- The audit row ------------------------------------------------------------------------


def test_the_audit_row_never_names_the_patient(client, net):
    consultation = closed(net, NOT_HELD)
    client.force_login(net.coordinator)
    response = client.post(
        correct_url(consultation),
        {"status": "incident", "channel": "telephone", "reason": "autre"},
    )
    assert response.status_code == 302
    row = AuditLog.objects.get(action=ACTION, target_id=str(consultation.pk))
    written = json.dumps(row.data, ensure_ascii=False) + row.target_repr + row.actor_repr
    assert row.data["reason"] == "autre"
    assert net.patient.display_name not in written
    assert "Martin" not in written
