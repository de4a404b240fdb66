"""Tariff tables (services/tariffs.py, /telesante/tarifs/): the starting values loaded by the
data migration, staff-only edits, periods of a code that never overlap (also under
concurrency on PostgreSQL), bad input refused in French with nothing changed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import ActTariff
from cybercantal.telehealth.selectors.acts import tariff_in_force
from cybercantal.telehealth.services.tariffs import tariff_save
from tests.accounts.factories import UserFactory
from tests.concurrency import run_concurrently
from tests.telehealth.factories import make_practitioner, make_site, staff_user

pytestmark = pytest.mark.django_db

D = dt.date


def save(actor, **overrides):
    values = {
        "code": "TST",
        "label": "Acte de test",
        "role": "medecin",
        "amount": "20.00",
        "valid_from": D(2030, 1, 1),
        "valid_until": None,
        "source": "Test",
    }
    return tariff_save(actor=actor, **(values | overrides))


def snapshot():
    return list(
        ActTariff.objects.order_by("pk").values_list(
            "code", "amount", "valid_from", "valid_until", "role", "yearly_cap_per_patient"
        )
    )


# --- the starting values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "role", "amount", "cap"),
    [
        ("TCG", "medecin", "25.00", None),
        ("RQD", "requerant", "10.00", 4),
        ("TLS", "infirmier", "10.00", None),
        ("TLL", "infirmier", "12.00", None),
        ("TLD", "infirmier", "15.00", None),
        ("TLM", "pharmacie", "1.00", None),
    ],
)
def test_the_migration_loads_the_starting_tariffs_with_their_source(code, role, amount, cap):
    tariff = tariff_in_force(code=code, day=D(2026, 3, 2))
    assert (tariff.role, tariff.amount, tariff.yearly_cap_per_patient) == (
        role,
        Decimal(amount),
        cap,
    )
    assert "À vérifier" in tariff.source and len(tariff.source) > 40


def test_the_starting_tariffs_say_what_the_check_of_their_sources_found():
    te2 = tariff_in_force(code="TE2", day=D(2026, 3, 2))
    assert "par médecin requis, pour un même patient" in te2.source
    assert tariff_in_force(code="TE2", day=D(2022, 4, 1)).amount == Decimal("20.00")
    assert tariff_in_force(code="TE2", day=D(2022, 3, 31)) is None
    assert "22/12/2024" in tariff_in_force(code="TCG", day=D(2026, 3, 2)).source


def test_te2_goes_from_20_to_23_euros_on_1_january_2026_capped_at_4():
    before = tariff_in_force(code="TE2", day=D(2025, 12, 31))
    after = tariff_in_force(code="TE2", day=D(2026, 1, 1))
    assert (before.amount, after.amount) == (Decimal("20.00"), Decimal("23.00"))
    assert before.role == after.role == "expert"
    assert before.yearly_cap_per_patient == after.yearly_cap_per_patient == 4
    assert before.valid_until == D(2025, 12, 31) and after.valid_until is None


def test_no_tariff_before_its_start():
    assert tariff_in_force(code="TCG", day=D(2018, 9, 14)) is None
    assert tariff_in_force(code="TCG", day=D(2018, 9, 15)).amount == Decimal("25.00")


# --- staff only --------------------------------------------------------------------------------


def test_staff_create_a_tariff_and_it_is_audited():
    staff = staff_user()
    tariff = save(staff, code=" tst ", label="  Acte   de test ", yearly_cap_per_patient=3)
    assert (tariff.code, tariff.label, tariff.amount) == ("TST", "Acte de test", Decimal("20.00"))
    assert tariff.updated_by == staff and tariff.yearly_cap_per_patient == 3
    row = AuditLog.objects.get(action="telehealth.tariff_create")
    assert row.data["after"]["amount"] == "20.00" and row.data["before"] is None


def test_only_staff_edit_tariffs():
    coordinator = UserFactory()
    make_site(coordinators=[coordinator])
    before = snapshot()
    for outsider in (coordinator, make_practitioner().user, UserFactory(), None):
        with pytest.raises(BookingForbidden, match="équipe télémédecine"):
            save(outsider)
    assert snapshot() == before


# --- periods and bad input ---------------------------------------------------------------------


def test_an_overlapping_period_is_refused_naming_the_other_one():
    staff = staff_user()
    save(staff, valid_from=D(2030, 1, 1), valid_until=D(2030, 12, 31))
    before = snapshot()
    with pytest.raises(BookingRuleError) as refusal:
        save(staff, valid_from=D(2030, 6, 1), amount="22")
    assert "chevauche celle du tarif TST du 01/01/2030 au 31/12/2030 (20,00 €)" in (
        refusal.value.message
    )
    with pytest.raises(BookingRuleError, match="chevauche"):
        save(staff, valid_from=D(2029, 1, 1), valid_until=D(2030, 1, 1))
    assert snapshot() == before
    # Adjacent periods are fine.
    save(staff, valid_from=D(2031, 1, 1), amount="22")
    assert ActTariff.objects.filter(code="TST").count() == 2


def test_an_open_ended_period_overlaps_everything_after_it():
    staff = staff_user()
    with pytest.raises(BookingRuleError, match="à partir du 01/01/2026"):
        save(staff, code="TE2", role="expert", valid_from=D(2027, 1, 1), amount="25")
    # Ending the current period first makes room for the new one.
    current = tariff_in_force(code="TE2", day=D(2026, 6, 1))
    tariff_save(
        actor=staff,
        tariff=current,
        code="TE2",
        label=current.label,
        role="expert",
        amount=current.amount,
        valid_from=current.valid_from,
        valid_until=D(2026, 12, 31),
        yearly_cap_per_patient=4,
        source=current.source,
    )
    save(staff, code="TE2", role="expert", valid_from=D(2027, 1, 1), amount="25")
    assert tariff_in_force(code="TE2", day=D(2027, 1, 1)).amount == Decimal("25.00")


def test_editing_a_period_into_another_is_refused():
    staff = staff_user()
    first = save(staff, valid_from=D(2030, 1, 1), valid_until=D(2030, 12, 31))
    save(staff, valid_from=D(2031, 1, 1))
    with pytest.raises(BookingRuleError, match="chevauche"):
        save(staff, tariff=first, valid_from=D(2030, 1, 1), valid_until=D(2031, 3, 1))
    first.refresh_from_db()
    assert first.valid_until == D(2030, 12, 31)
    # Editing a period without moving it is not an overlap with itself.
    save(staff, tariff=first, valid_from=D(2030, 1, 1), valid_until=D(2030, 12, 31), amount="21")
    first.refresh_from_db()
    assert first.amount == Decimal("21.00")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"valid_until": D(2029, 12, 31)}, "La date de fin ne peut pas précéder"),
        ({"amount": "-1"}, "ne peut pas être négatif"),
        ({"amount": "douze"}, "montant en euros"),
        ({"amount": "1000000"}, "trop élevé"),
        ({"code": "T-1"}, "2 à 8 lettres majuscules"),
        ({"code": ""}, "2 à 8 lettres majuscules"),
        ({"label": "   "}, "libellé"),
        ({"role": "chef"}, "qui facture"),
        ({"code": "TCG", "valid_from": D(2040, 1, 1)}, "chevauche"),
        ({"code": "TE2", "role": "medecin", "valid_from": D(2040, 1, 1)}, "un code garde"),
        ({"yearly_cap_per_patient": 0}, "plafond annuel"),
        ({"source": "x" * 301}, "trop long"),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(overrides, message):
    before = snapshot()
    with pytest.raises(BookingRuleError, match=message):
        save(staff_user(), **overrides)
    assert snapshot() == before


def test_code_and_role_of_a_used_tariff_no_longer_change():
    from cybercantal.telehealth.services.acts import act_code
    from tests.telehealth.factories import make_consultation
    from tests.telehealth.test_acts import close

    consultation = close(make_consultation())
    act = act_code(actor=consultation.practitioner.user, consultation=consultation, code="TCG")
    tariff = act.tariff
    with pytest.raises(BookingRuleError, match="déjà servi à coder des actes"):
        save(staff_user(), tariff=tariff, code="TCZ", valid_from=tariff.valid_from)
    tariff.refresh_from_db()
    assert tariff.code == "TCG"


# --- pages -------------------------------------------------------------------------------------


def test_the_tariff_page_lists_codes_periods_sources_and_the_warning(client):
    client.force_login(make_practitioner().user)
    response = client.get(reverse("telehealth:tariffs"))
    assert response.status_code == 200
    page = response.content.decode()
    for code in ("TCG", "TE2", "RQD", "TLS", "TLL", "TLD", "TLM"):
        assert f'id="code-{code}"' in page
    assert "du 01/04/2022 au 31/12/2025" in page and "à partir du 01/01/2026" in page
    assert "Tarifs à vérifier" in page
    assert "au domicile du patient" in page  # what TLD means
    assert reverse("telehealth:tariff_new") not in page  # not staff: no edit links


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("telehealth:tariffs"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_edit_pages_are_for_staff_only(client):
    tariff = ActTariff.objects.get(code="TCG")
    client.force_login(make_practitioner().user)
    assert client.get(reverse("telehealth:tariff_new")).status_code == 403
    assert client.get(reverse("telehealth:tariff_edit", args=[tariff.pk])).status_code == 403
    response = client.post(
        reverse("telehealth:tariff_edit", args=[tariff.pk]),
        {
            "code": "TCG",
            "label": "x",
            "role": "medecin",
            "amount": "99",
            "valid_from": "2018-09-15",
        },
    )
    assert response.status_code == 403
    tariff.refresh_from_db()
    assert tariff.amount == Decimal("25.00")


def _form(**overrides):
    values = {
        "code": "TST",
        "label": "Acte de test",
        "role": "medecin",
        "amount": "12,50",
        "valid_from": "2030-01-01",
        "valid_until": "",
        "yearly_cap_per_patient": "",
        "source": "Légifrance",
    }
    return values | overrides


def test_staff_create_and_edit_through_the_pages(client):
    client.force_login(staff_user())
    page = client.get(reverse("telehealth:tariffs"))
    assert reverse("telehealth:tariff_new") in page.content.decode()
    response = client.post(reverse("telehealth:tariff_new"), _form())
    assert response.status_code == 302
    created = ActTariff.objects.get(code="TST")
    assert created.amount == Decimal("12.50") and created.source == "Légifrance"
    response = client.get(reverse("telehealth:tariff_edit", args=[created.pk]))
    assert response.status_code == 200 and 'value="TST"' in response.content.decode()
    response = client.post(
        reverse("telehealth:tariff_edit", args=[created.pk]),
        _form(amount="13", valid_until="2030-12-31", yearly_cap_per_patient="2"),
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert (created.amount, created.valid_until, created.yearly_cap_per_patient) == (
        Decimal("13.00"),
        D(2030, 12, 31),
        2,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "TCG", "valid_from": "2030-01-01"}, "chevauche"),
        ({"amount": "-3"}, "ne peut pas être négatif"),
        ({"amount": "abc"}, "Indiquez un montant"),
        ({"valid_from": "31/02/2030"}, "Indiquez une date"),
        ({"valid_until": "2029-01-01"}, "La date de fin ne peut pas précéder"),
        ({"role": ""}, "Choisissez qui facture"),
        ({"yearly_cap_per_patient": "0"}, "Au moins 1"),
    ],
)
def test_bad_input_on_the_page_is_a_422_with_a_french_message(client, overrides, message):
    client.force_login(staff_user())
    before = snapshot()
    response = client.post(reverse("telehealth:tariff_new"), _form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot() == before


def test_an_unknown_tariff_is_a_404_for_staff(client):
    client.force_login(staff_user())
    assert client.get(reverse("telehealth:tariff_edit", args=[999999])).status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_periods_cannot_both_be_saved():
    """Ten editors add overlapping periods of one code at once (an existing code, and a new
    one that has no row to lock yet): one period each, never two."""
    staffs = [staff_user() for _ in range(10)]
    ActTariff.objects.get_or_create(
        code="TSX",
        valid_from=D(2020, 1, 1),
        defaults={
            "label": "x",
            "role": "medecin",
            "amount": Decimal(1),
            "valid_until": D(2020, 12, 31),
        },
    )

    def attempt(i, code):
        return save(staffs[i], code=code, valid_from=D(2030, 1 + i, 1), amount=str(10 + i))

    for code, existing in (("TSX", 1), ("TSN", 0)):
        outcomes = run_concurrently(lambda i, code=code: attempt(i, code), 10)
        saved = [o for o in outcomes if isinstance(o, ActTariff)]
        refused = [o for o in outcomes if not isinstance(o, ActTariff)]
        assert len(saved) == 1, outcomes
        assert all(isinstance(o, BookingRuleError) for o in refused), refused
        assert ActTariff.objects.filter(code=code).count() == existing + 1
