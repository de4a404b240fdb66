"""Coding acts on a closed consultation (services/acts.py): who may code what, the tariff in
force on the consultation's day copied on the act, one act per professional and session, the
yearly caps per patient (also under concurrency on PostgreSQL), removal, and refusals in French
that write nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Act, ActTariff, Consultation, Site
from cybercantal.telehealth.selectors.acts import user_label
from cybercantal.telehealth.services.acts import CapReached, act_code, act_remove
from tests.accounts.factories import UserFactory
from tests.concurrency import run_concurrently
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


def close(consultation, status=Consultation.Status.DONE):
    """Mark a consultation held (the session-closing flow is another module's; only the
    status matters here)."""
    Consultation.objects.filter(pk=consultation.pk).update(
        status=status, closed_at=timezone.now(), channel=Consultation.Channel.VIDEO
    )
    consultation.refresh_from_db()
    return consultation


def capped_tariff(code="TCC", cap=2, role="medecin", amount="30.00", **kwargs):
    """A capped code of a consultation role (none of the reference ones is)."""
    values = {
        "label": "Acte plafonné de test",
        "role": role,
        "amount": Decimal(amount),
        "valid_from": dt.date(2020, 1, 1),
        "yearly_cap_per_patient": cap,
    }
    return ActTariff.objects.create(code=code, **(values | kwargs))


@pytest.fixture
def held():
    """A closed dermatology consultation at a care home, with its nurse and coordinator."""
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    consultation = close(make_consultation(site=site))
    return {"consultation": consultation, "coordinator": coordinator, "site": site}


def test_the_practitioner_codes_tcg_at_the_tariff_of_the_day(held):
    consultation = held["consultation"]
    doctor = consultation.practitioner.user
    act = act_code(actor=doctor, consultation=consultation, code="tcg")
    assert (act.code, act.role, act.amount) == ("TCG", "medecin", Decimal("25.00"))
    assert act.professional == doctor and act.coded_by == doctor
    assert act.patient == consultation.patient
    assert act.performed_on == timezone.localdate(consultation.scheduled_start)
    assert act.tariff == ActTariff.objects.get(code="TCG")
    assert AuditLog.objects.filter(action="telehealth.act_code", target_id=str(act.pk)).exists()


def test_the_nurse_codes_an_accompaniment_and_only_one(held):
    consultation = held["consultation"]
    nurse = consultation.assistant.user
    act = act_code(actor=nurse, consultation=consultation, code="TLL")
    assert (act.role, act.amount, act.professional) == ("infirmier", Decimal("12.00"), nurse)
    with pytest.raises(BookingRuleError, match="a déjà codé TLL pour cette séance"):
        act_code(actor=nurse, consultation=consultation, code="TLS")
    assert Act.objects.count() == 1


def test_a_coordinator_codes_on_behalf_of_each_professional(held):
    consultation = held["consultation"]
    coordinator = held["coordinator"]
    tcg = act_code(actor=coordinator, consultation=consultation, code="TCG")
    tld = act_code(actor=coordinator, consultation=consultation, code="TLD")
    assert tcg.professional == consultation.practitioner.user
    assert tld.professional == consultation.assistant.user
    assert tcg.coded_by == tld.coded_by == coordinator
    assert tld.amount == Decimal("15.00")


@pytest.mark.parametrize("who", ["nurse_for_doctor", "doctor_for_nurse"])
def test_a_professional_does_not_code_for_another(held, who):
    consultation = held["consultation"]
    actor, code = (
        (consultation.assistant.user, "TCG")
        if who == "nurse_for_doctor"
        else (consultation.practitioner.user, "TLS")
    )
    with pytest.raises(BookingForbidden, match="vos propres actes"):
        act_code(actor=actor, consultation=consultation, code=code)
    assert not Act.objects.exists()


def test_nobody_else_codes(held):
    consultation = held["consultation"]
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    for outsider in (
        staff_user(),
        UserFactory(),
        other_coordinator,
        make_practitioner().user,
        None,
    ):
        with pytest.raises(BookingForbidden):
            act_code(actor=outsider, consultation=consultation, code="TCG")
    assert not Act.objects.exists()


@pytest.mark.parametrize(
    "status", [Consultation.Status.PLANNED, Consultation.Status.NOT_HELD, "annulee"]
)
def test_acts_are_coded_only_once_the_session_was_held(status):
    consultation = make_consultation()
    Consultation.objects.filter(pk=consultation.pk).update(status=status)
    consultation.refresh_from_db()
    with pytest.raises(BookingRuleError, match="une fois la téléconsultation clôturée"):
        act_code(actor=consultation.practitioner.user, consultation=consultation, code="TCG")
    assert not Act.objects.exists()


def test_a_session_with_an_incident_is_coded_too():
    consultation = close(make_consultation(), status=Consultation.Status.INCIDENT)
    act = act_code(actor=consultation.practitioner.user, consultation=consultation, code="TCG")
    assert act.amount == Decimal("25.00")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("TE2", "se code sur une téléexpertise"),
        ("RQD", "se code sur une téléexpertise"),
        ("XYZ", "Aucun tarif XYZ n'est en vigueur"),
        ("", "Choisissez l'acte"),
        ("TLM", "pharmacie d'officine"),
    ],
)
def test_codes_that_do_not_belong_here_are_refused(held, code, message):
    consultation = held["consultation"]
    with pytest.raises(BookingRuleError, match=message):
        act_code(actor=held["coordinator"], consultation=consultation, code=code)
    assert not Act.objects.exists()


def test_no_nurse_no_nurse_act():
    general = make_specialty(code="generale", label="Médecine générale", devices=(), assistant="")
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    consultation = close(make_consultation(site=site, specialty=general, actor=coordinator))
    assert consultation.assistant is None
    with pytest.raises(BookingRuleError, match="Aucun infirmier"):
        act_code(actor=coordinator, consultation=consultation, code="TLS")


def test_a_pharmacy_codes_tlm_for_its_assistance():
    general = make_specialty(code="generale", label="Médecine générale", devices=(), assistant="")
    pharmacy = make_site(kind=Site.Kind.PHARMACY)
    pharmacist = make_assistant(sites=[pharmacy], kind="pharmacien")
    patient = make_patient(pharmacy, actor=pharmacist.user)
    consultation = close(
        make_consultation(
            site=pharmacy,
            specialty=general,
            assistant=pharmacist,
            patient=patient,
            actor=pharmacist.user,
        )
    )
    act = act_code(actor=pharmacist.user, consultation=consultation, code="TLM")
    assert (act.role, act.amount) == ("pharmacie", Decimal("1.00"))
    with pytest.raises(BookingRuleError, match="Aucun infirmier"):
        act_code(actor=pharmacist.user, consultation=consultation, code="TLS")


def test_the_tariff_is_the_one_in_force_on_the_consultation_day(held):
    consultation = held["consultation"]
    day = timezone.localdate(consultation.scheduled_start)
    capped_tariff(code="TCX", cap=None, amount="30.00", valid_until=day - dt.timedelta(days=1))
    newer = capped_tariff(code="TCX", cap=None, amount="32.50", valid_from=day)
    act = act_code(actor=consultation.practitioner.user, consultation=consultation, code="TCX")
    assert act.tariff == newer and act.amount == Decimal("32.50")


def test_a_later_change_of_tariff_never_changes_the_act(held):
    from cybercantal.telehealth.services.tariffs import tariff_save

    consultation = held["consultation"]
    act = act_code(actor=consultation.practitioner.user, consultation=consultation, code="TCG")
    tariff = act.tariff
    tariff_save(
        actor=staff_user(),
        tariff=tariff,
        code=tariff.code,
        label=tariff.label,
        role=tariff.role,
        amount="30.00",
        valid_from=tariff.valid_from,
        source=tariff.source,
    )
    act.refresh_from_db()
    tariff.refresh_from_db()
    assert tariff.amount == Decimal("30.00")
    assert act.amount == Decimal("25.00")


def _same_patient_consultations(count, *, coordinator=None):
    """`count` closed consultations of one patient at one site, on successive slots."""
    derm = make_specialty()
    coordinator = coordinator or UserFactory()
    site = make_site(coordinators=[coordinator])
    doctor = make_practitioner(specialties=[derm])
    nurse = make_assistant(sites=[site])
    patient = make_patient(site)
    # Three mornings slots a Monday, then the next Monday.
    slots = [next_monday(at=dt.time(9 + i % 3, 0), weeks=1 + i // 3) for i in range(count)]
    consultations = [
        close(
            make_consultation(
                site=site,
                practitioner=doctor,
                assistant=nurse,
                specialty=derm,
                patient=patient,
                start=start,
            )
        )
        for start in slots
    ]
    return consultations, coordinator, patient


def test_the_yearly_cap_per_patient_is_enforced_with_a_clear_message():
    capped_tariff(code="TCC", cap=2)
    consultations, coordinator, _patient = _same_patient_consultations(3)
    for consultation in consultations[:2]:
        act_code(actor=coordinator, consultation=consultation, code="TCC")
    year = consultations[2].scheduled_start.year
    with pytest.raises(CapReached) as refusal:
        act_code(actor=coordinator, consultation=consultations[2], code="TCC")
    doctor = consultations[2].practitioner.user
    assert refusal.value.message == (
        f"TCC : {user_label(doctor)} a déjà facturé 2 actes pour ce patient en {year}, c'est "
        "le plafond annuel par professionnel et par patient."
    )
    assert Act.objects.filter(code="TCC").count() == 2
    # The cap is per code: TCG is not capped and still codes.
    act_code(actor=coordinator, consultation=consultations[2], code="TCG")


def test_the_yearly_cap_counts_each_professional_apart():
    """« 4 actes par an, par médecin, pour un même patient »: another doctor seeing the same
    patient has a cap of their own."""
    tariff = capped_tariff(code="TCC", cap=1)
    consultations, coordinator, patient = _same_patient_consultations(2)
    other_doctor = make_practitioner(specialties=[consultations[1].specialty])
    Act.objects.create(
        consultation=consultations[0],
        patient=patient,
        professional=other_doctor.user,
        tariff=tariff,
        code="TCC",
        role="medecin",
        amount=tariff.amount,
        performed_on=timezone.localdate(consultations[1].scheduled_start),
    )
    act = act_code(actor=coordinator, consultation=consultations[1], code="TCC")
    assert act.professional == consultations[1].practitioner.user
    assert Act.objects.filter(patient=patient, code="TCC").count() == 2


def test_acts_of_another_year_do_not_count_towards_the_cap():
    tariff = capped_tariff(code="TCC", cap=1)
    consultations, coordinator, patient = _same_patient_consultations(2)
    Act.objects.create(
        consultation=consultations[0],
        patient=patient,
        professional=consultations[0].practitioner.user,
        tariff=tariff,
        code="TCC",
        role="medecin",
        amount=tariff.amount,
        performed_on=dt.date(consultations[1].scheduled_start.year - 1, 6, 1),
    )
    act = act_code(actor=coordinator, consultation=consultations[1], code="TCC")
    assert act.performed_on.year == consultations[1].scheduled_start.year


def test_the_professional_or_a_coordinator_removes_an_act(held):
    consultation = held["consultation"]
    doctor = consultation.practitioner.user
    act = act_code(actor=doctor, consultation=consultation, code="TCG")
    for outsider in (consultation.assistant.user, staff_user(), UserFactory()):
        with pytest.raises(BookingForbidden):
            act_remove(actor=outsider, act=act)
    assert Act.objects.filter(pk=act.pk).exists()
    act_remove(actor=doctor, act=act)
    assert not Act.objects.exists()
    removal = AuditLog.objects.get(action="telehealth.act_remove")
    assert removal.data["code"] == "TCG" and removal.data["amount"] == "25.00"
    again = act_code(actor=doctor, consultation=consultation, code="TCG")
    act_remove(actor=held["coordinator"], act=again)
    assert not Act.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_coding_never_exceeds_the_cap():
    """Eight closed consultations of one patient coded at the same instant for a code capped
    at three: exactly three acts, five clear refusals."""
    capped_tariff(code="TCC", cap=3)
    consultations, coordinator, patient = _same_patient_consultations(8)
    outcomes = run_concurrently(
        lambda i: act_code(actor=coordinator, consultation=consultations[i], code="TCC"), 8
    )
    successes = [o for o in outcomes if isinstance(o, Act)]
    failures = [o for o in outcomes if not isinstance(o, Act)]
    assert len(successes) == 3
    assert len(failures) == 5
    for failure in failures:
        assert isinstance(failure, CapReached), repr(failure)
        assert "c'est le plafond annuel" in failure.message
    assert Act.objects.filter(patient=patient, code="TCC").count() == 3
