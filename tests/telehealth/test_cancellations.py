"""Cancelling a site's or a practitioner's planned teleconsultations over a range of days in one
go (services/cancellations.py, /telesante/annulations/): who may (staff for anyone, a site's
coordinators for their site, a practitioner for their own agenda) and who may not, all or
nothing, the range rules, the bookings cancelled and the slots free again, the page flow, and
an audit log that never names a patient."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.utils import timezone

from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Consultation
from cybercantal.telehealth.selectors.cancellations import (
    planned_consultations_count,
    range_preview,
)
from cybercantal.telehealth.services import consultations as consultations_service
from cybercantal.telehealth.services.cancellations import consultations_cancel_range
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

URL = "/telesante/annulations/"
# Distinctive: a random user or place name never contains it, so finding it in the audit log
# can only mean the patient's name leaked there.
NAME = "Mme Zélie Quintrandou"


@pytest.fixture
def net():
    derm = make_specialty()
    coordinator, other_coordinator = UserFactory(), UserFactory()
    site = make_site(coordinators=[coordinator])
    other_site = make_site(coordinators=[other_coordinator])
    doctor = make_practitioner(specialties=[derm])
    other_doctor = make_practitioner(specialties=[derm])
    nurse = make_assistant(sites=[site])
    other_nurse = make_assistant(sites=[other_site])
    patient = make_patient(site, name=NAME)
    other_patient = make_patient(other_site, name="M. Anselme Vermenouze")
    monday = next_monday()
    day = monday.date()

    def book(site_, doctor_, start):
        on_site = site_ == site
        return make_consultation(
            site=site_,
            practitioner=doctor_,
            specialty=derm,
            assistant=nurse if on_site else other_nurse,
            patient=patient if on_site else other_patient,
            actor=(nurse if on_site else other_nurse).user,
            start=start,
        )

    return SimpleNamespace(
        derm=derm,
        coordinator=coordinator,
        other_coordinator=other_coordinator,
        site=site,
        other_site=other_site,
        doctor=doctor,
        other_doctor=other_doctor,
        nurse=nurse,
        patient=patient,
        day=day,
        # Site, doctor, day: what each range below must take or leave.
        site_doctor=book(site, doctor, monday),
        site_other_doctor=book(site, other_doctor, monday.replace(hour=14)),
        site_next_week=book(site, doctor, next_monday(weeks=2)),
        other_site_doctor=book(other_site, doctor, monday.replace(hour=11)),
    )


def cancel(net, actor, *, first=None, last=None, reason="intemperies", **target):
    target = target or {"site": net.site}
    return consultations_cancel_range(
        actor=actor,
        first_day=first or net.day,
        last_day=last or first or net.day,
        reason=reason,
        **target,
    )


def statuses(net) -> dict:
    names = ("site_doctor", "site_other_doctor", "site_next_week", "other_site_doctor")
    result = {}
    for name in names:
        consultation = Consultation.objects.select_related("booking").get(pk=getattr(net, name).pk)
        result[name] = (consultation.status, consultation.booking.status)
    return result


PLANNED = (Consultation.Status.PLANNED, Booking.Status.CONFIRMED)
CANCELLED = (Consultation.Status.CANCELLED, Booking.Status.CANCELLED)


def all_planned(net) -> dict:
    return dict.fromkeys(statuses(net), PLANNED)


# --- Who may --------------------------------------------------------------------------------


def test_a_coordinator_cancels_their_sites_day_and_the_slots_are_free_again(net):
    cancelled = cancel(net, net.coordinator)

    assert [c.pk for c in cancelled] == [net.site_doctor.pk, net.site_other_doctor.pk]
    assert statuses(net) == all_planned(net) | {
        "site_doctor": CANCELLED,
        "site_other_doctor": CANCELLED,
    }
    booking = Booking.objects.get(pk=net.site_doctor.booking_id)
    assert not booking.allocations.filter(is_active=True).exists()
    # The same doctor, cart and nurse can be booked again at that very time.
    again = make_consultation(
        site=net.site,
        practitioner=net.doctor,
        specialty=net.derm,
        assistant=net.nurse,
        patient=net.patient,
        actor=net.nurse.user,
        start=net.site_doctor.scheduled_start,
    )
    assert again.status == Consultation.Status.PLANNED


def test_a_practitioner_clears_their_own_agenda_across_sites(net):
    cancelled = cancel(net, net.doctor.user, practitioner=net.doctor)

    assert {c.pk for c in cancelled} == {net.site_doctor.pk, net.other_site_doctor.pk}
    assert statuses(net) == all_planned(net) | {
        "site_doctor": CANCELLED,
        "other_site_doctor": CANCELLED,
    }


def test_staff_cancel_for_any_site_or_practitioner(net):
    staff = staff_user()
    assert [c.pk for c in cancel(net, staff, site=net.other_site)] == [net.other_site_doctor.pk]
    assert [c.pk for c in cancel(net, staff, practitioner=net.other_doctor)] == [
        net.site_other_doctor.pk
    ]


@pytest.mark.parametrize(
    "who, target",
    [
        ("other_coordinator", "site"),  # coordinates another site
        ("nurse", "site"),  # works on the site, cancels one session at a time
        ("stranger", "site"),
        ("anonymous", "site"),
        ("other_doctor", "doctor"),  # another practitioner's agenda
        ("coordinator", "doctor"),  # a site's coordinator, for a practitioner's agenda
        ("doctor", "site"),  # a practitioner, for a whole site
    ],
)
def test_refused_to_anyone_else_and_nothing_changes(net, who, target):
    from django.contrib.auth.models import AnonymousUser

    actor = {
        "other_coordinator": net.other_coordinator,
        "nurse": net.nurse.user,
        "stranger": UserFactory(),
        "anonymous": AnonymousUser(),
        "other_doctor": net.other_doctor.user,
        "coordinator": net.coordinator,
        "doctor": net.doctor.user,
    }[who]
    chosen = {"site": net.site} if target == "site" else {"practitioner": net.doctor}
    before = AuditLog.objects.count()

    with pytest.raises(BookingForbidden, match="Vous ne pouvez pas annuler"):
        cancel(net, actor, **chosen)

    assert statuses(net) == all_planned(net)
    assert AuditLog.objects.count() == before
    assert list(range_preview(actor=actor, first_day=net.day, last_day=net.day, **chosen)) == []


# --- All or nothing, range rules ------------------------------------------------------------


def test_all_or_nothing_when_one_cancellation_fails(net, monkeypatch):
    # The engine call every cancellation goes through (services/consultations.py).
    real = consultations_service.booking_cancel
    calls = []

    def fails_the_second(**kwargs):
        calls.append(kwargs["booking"].pk)
        if len(calls) == 2:
            raise BookingRuleError("Refus simulé.")
        return real(**kwargs)

    monkeypatch.setattr(consultations_service, "booking_cancel", fails_the_second)
    before = AuditLog.objects.count()

    with pytest.raises(BookingRuleError, match="Refus simulé"):
        cancel(net, net.coordinator)

    assert len(calls) == 2  # the first was cancelled, then rolled back
    assert statuses(net) == all_planned(net)
    assert (
        Booking.objects.get(pk=net.site_doctor.booking_id)
        .allocations.filter(is_active=True)
        .exists()
    )
    assert AuditLog.objects.count() == before


def test_range_is_inclusive_up_to_92_days(net):
    last = net.day + dt.timedelta(days=91)
    cancelled = cancel(net, net.coordinator, first=net.day, last=last)
    assert {c.pk for c in cancelled} == {
        net.site_doctor.pk,
        net.site_other_doctor.pk,
        net.site_next_week.pk,
    }


@pytest.mark.parametrize(
    "first_offset, last_offset, message",
    [
        (1, 0, "Le dernier jour doit être le premier jour ou le suivre"),
        (0, 92, "Annulez au plus 92 jours à la fois"),
        (None, 0, "Le premier jour ne peut pas être passé"),
        (0, 5000, "Aucune téléconsultation ne se réserve si loin"),
    ],
)
def test_range_limits(net, first_offset, last_offset, message):
    today = timezone.localdate()
    first = today - dt.timedelta(days=1) if first_offset is None else net.day
    first += dt.timedelta(days=first_offset or 0)
    with pytest.raises(BookingRuleError, match=message):
        cancel(net, staff_user(), first=first, last=net.day + dt.timedelta(days=last_offset))
    assert statuses(net) == all_planned(net)


def test_a_range_without_planned_consultations_is_refused(net):
    empty = net.day + dt.timedelta(days=2)  # the Wednesday: nothing booked
    with pytest.raises(BookingRuleError, match="Aucune téléconsultation prévue du"):
        cancel(net, net.coordinator, first=empty)
    cancel(net, net.coordinator)
    with pytest.raises(BookingRuleError, match="Aucune téléconsultation prévue"):
        cancel(net, net.coordinator)  # already cancelled: nothing left


@pytest.mark.parametrize("reason", ["", "neige", "Intempéries"])
def test_the_reason_is_one_of_the_list(net, reason):
    with pytest.raises(BookingRuleError, match="motif"):
        cancel(net, net.coordinator, reason=reason)
    assert statuses(net) == all_planned(net)


def test_exactly_one_of_site_and_practitioner(net):
    with pytest.raises(BookingRuleError, match="l'un des deux"):
        cancel(net, staff_user(), site=net.site, practitioner=net.doctor)
    with pytest.raises(BookingRuleError, match="l'un des deux"):
        consultations_cancel_range(
            actor=staff_user(), first_day=net.day, last_day=net.day, reason="autre"
        )


def test_a_list_changed_since_the_preview_cancels_nothing(net):
    with pytest.raises(BookingConflict, match="a changé"):
        consultations_cancel_range(
            actor=net.coordinator,
            site=net.site,
            first_day=net.day,
            last_day=net.day,
            reason="site_ferme",
            expected_ids=[net.site_doctor.pk],  # the 14:00 was booked after the preview
        )
    assert statuses(net) == all_planned(net)


def test_one_audit_row_per_consultation_without_the_patients_name(net):
    before = set(AuditLog.objects.values_list("pk", flat=True))
    cancel(net, net.coordinator, reason="medecin_indisponible")

    rows = AuditLog.objects.exclude(pk__in=before).filter(action="telehealth.consultation_cancel")
    assert sorted(int(row.target_id) for row in rows) == sorted(
        [net.site_doctor.pk, net.site_other_doctor.pk]
    )
    assert all(row.data == {"range": True, "reason": "medecin_indisponible"} for row in rows)
    for row in AuditLog.objects.exclude(pk__in=before):
        text = f"{row.target_repr} {row.actor_repr} {json.dumps(row.data, ensure_ascii=False)}"
        assert "Quintrandou" not in text


def test_planned_count_for_taking_a_site_or_practitioner_out_of_service(net):
    assert planned_consultations_count(site=net.site, from_day=net.day) == 3
    after_monday = net.day + dt.timedelta(days=1)
    assert planned_consultations_count(site=net.site, from_day=after_monday) == 1
    assert planned_consultations_count(practitioner=net.doctor, from_day=net.day) == 3
    cancel(net, net.doctor.user, practitioner=net.doctor)
    assert planned_consultations_count(practitioner=net.doctor, from_day=net.day) == 1
    assert planned_consultations_count(site=net.other_site, from_day=net.day) == 0


# --- The pages ------------------------------------------------------------------------------


def query(net, **values) -> dict:
    return {
        "site": net.site.pk,
        "first_day": net.day.isoformat(),
        "last_day": net.day.isoformat(),
        "reason": "intemperies",
    } | values


def test_page_flow_form_preview_confirm(client, net):
    client.force_login(net.coordinator)

    form = client.get(URL)
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="site"' in html and 'name="practitioner"' not in html
    assert str(net.other_site) not in html  # only the sites they coordinate

    preview = client.get(URL, query(net))
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Vérifier les téléconsultations à annuler" in html
    assert net.patient.reference in html and NAME not in html
    assert html.count('name="consultation"') == 2
    assert statuses(net) == all_planned(net)  # a preview changes nothing

    done = client.post(
        URL,
        query(net) | {"consultation": [net.site_doctor.pk, net.site_other_doctor.pk]},
    )
    assert done.status_code == 200
    html = done.content.decode()
    assert "Téléconsultations annulées" in html
    assert net.patient.reference in html and NAME not in html
    assert statuses(net)["site_doctor"] == CANCELLED
    assert statuses(net)["site_other_doctor"] == CANCELLED


def test_a_practitioner_sees_only_their_agenda(client, net):
    client.force_login(net.doctor.user)
    html = client.get(URL).content.decode()
    assert 'name="practitioner"' in html and 'name="site"' not in html
    assert str(net.other_doctor) not in html
    other = client.get(URL, query(net, site="", practitioner=net.other_doctor.pk))
    assert other.status_code == 400
    assert "Choisissez un médecin de la liste" in other.content.decode()


def test_a_link_prefills_the_site(client, net):
    client.force_login(staff_user())
    html = client.get(URL, {"site": net.site.pk}).content.decode()
    assert f'<option value="{net.site.pk}" selected>' in html
    for junk in ("9" * 30, "²", "-1", "abc"):
        assert client.get(URL, {"site": junk}).status_code == 200  # ignored, not a 500


@pytest.mark.parametrize("who", ["nurse", "stranger"])
def test_the_page_is_refused_to_others(client, net, who):
    client.force_login(net.nurse.user if who == "nurse" else UserFactory())
    assert client.get(URL).status_code == 403
    assert client.post(URL, query(net) | {"consultation": [net.site_doctor.pk]}).status_code == 403
    assert statuses(net) == all_planned(net)


def test_the_page_needs_a_login(client, net):
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize(
    "values, message",
    [
        ({"first_day": "31/02/2030"}, "Saisissez une date"),
        ({"first_day": ""}, "Indiquez le premier jour"),
        ({"reason": ""}, "Choisissez le motif"),
        ({"reason": "neige"}, "Choisissez le motif de l&#x27;annulation dans la liste"),
        ({"site": "9" * 30}, "Choisissez un site de la liste"),
        ({"site": "abc"}, "Choisissez un site de la liste"),
        ({"site": "²"}, "Choisissez un site de la liste"),
        ({"site": ""}, "Choisissez le site"),
        ({"last_day": "9999-12-31"}, "si loin"),
        ({"first_day": "0001-01-01"}, "ne peut pas être passé"),
        ({"first_day": "2000-01-01", "last_day": "1999-01-01"}, "le premier jour ou le suivre"),
    ],
)
def test_bad_input_is_a_400_in_french(client, net, values, message):
    client.force_login(net.coordinator)
    response = client.get(URL, query(net, **values))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_another_sites_id_is_refused_as_a_bad_choice(client, net):
    client.force_login(net.coordinator)
    response = client.get(URL, query(net, site=net.other_site.pk))
    assert response.status_code == 400
    response = client.post(
        URL, query(net, site=net.other_site.pk) | {"consultation": [net.other_site_doctor.pk]}
    )
    assert response.status_code == 400
    assert statuses(net) == all_planned(net)


def test_an_empty_range_says_so(client, net):
    client.force_login(net.coordinator)
    wednesday = (net.day + dt.timedelta(days=2)).isoformat()
    response = client.get(URL, query(net, first_day=wednesday, last_day=wednesday))
    assert response.status_code == 400
    assert "Aucune téléconsultation prévue du" in response.content.decode()


def test_confirming_a_list_that_changed_shows_the_new_one(client, net):
    client.force_login(net.coordinator)
    response = client.post(URL, query(net) | {"consultation": [net.site_doctor.pk]})
    assert response.status_code == 409
    html = response.content.decode()
    assert "a changé" in html and html.count('name="consultation"') == 2
    assert statuses(net) == all_planned(net)


@pytest.mark.parametrize("ids", [[], ["x"], ["9" * 30], ["²"], ["-1"]])
def test_confirming_without_the_shown_list_is_refused(client, net, ids):
    client.force_login(net.coordinator)
    response = client.post(URL, query(net) | {"consultation": ids})
    assert response.status_code == 400
    assert "Vérifiez la liste des téléconsultations" in response.content.decode()
    assert statuses(net) == all_planned(net)


# --- Races (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_range_cancellations_cancel_each_session_once(net):
    """The coordinator and the doctor clear the same Monday at the same instant: the row locks
    let one cancel the 10:00 session; the other waits, then no longer finds it planned."""
    from tests.concurrency import run_concurrently

    actors = [
        lambda: cancel(net, net.coordinator),
        lambda: cancel(net, net.doctor.user, practitioner=net.doctor),
    ]
    outcomes = run_concurrently(lambda i: actors[i % 2](), 4)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(e, BookingRuleError) for e in errors), errors
    cancelled = [c.pk for o in outcomes if isinstance(o, list) for c in o]
    assert sorted(cancelled) == sorted(set(cancelled))  # nobody cancelled a session twice
    assert statuses(net) == all_planned(net) | {
        "site_doctor": CANCELLED,
        "site_other_doctor": CANCELLED,
        "other_site_doctor": CANCELLED,
    }
    rows = AuditLog.objects.filter(action="telehealth.consultation_cancel")
    assert sorted(int(row.target_id) for row in rows) == sorted(cancelled)
