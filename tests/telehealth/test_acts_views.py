"""Pages of act coding: /telesante/consultations/<pk>/actes/ (who sees it, who codes, bad
input, the eligibility helper shown, every opening audited), removing an act, the list of
acts and the billing export CSV (its content, its scope per actor, its filters)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Act
from cybercantal.telehealth.services.acts import act_code
from cybercantal.telehealth.services.expertise import expertise_answer, expertise_create
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_consultation,
    make_practitioner,
    make_site,
    make_specialty,
    staff_user,
)
from tests.telehealth.test_acts import close

pytestmark = pytest.mark.django_db


@pytest.fixture
def held():
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    consultation = close(make_consultation(site=site))
    return {
        "consultation": consultation,
        "coordinator": coordinator,
        "site": site,
        "url": reverse("telehealth:acts_code", args=[consultation.pk]),
    }


# --- the coding page ---------------------------------------------------------------------------


def test_participants_coordinators_and_staff_see_the_page_and_it_is_audited(client, held):
    consultation = held["consultation"]
    for user in (
        consultation.practitioner.user,
        consultation.assistant.user,
        held["coordinator"],
        staff_user(),
    ):
        client.force_login(user)
        response = client.get(held["url"])
        assert response.status_code == 200
        assert AuditLog.objects.filter(
            action="telehealth.consultation_acts_view",
            actor=user,
            target_id=str(consultation.pk),
        ).exists()


def test_outsiders_get_a_404_as_if_it_did_not_exist(client, held):
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    for user in (UserFactory(), other_coordinator, make_practitioner().user):
        client.force_login(user)
        assert client.get(held["url"]).status_code == 404
        assert client.post(held["url"], {"code": "TCG"}).status_code == 404
    assert not Act.objects.exists()
    client.logout()
    response = client.get(held["url"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_each_professional_is_offered_their_own_codes(client, held):
    consultation = held["consultation"]
    client.force_login(consultation.practitioner.user)
    page = client.get(held["url"]).content.decode()
    assert 'value="TCG"' in page and 'value="TLS"' not in page
    client.force_login(consultation.assistant.user)
    page = client.get(held["url"]).content.decode()
    assert 'value="TLS"' in page and 'value="TLL"' in page and 'value="TLD"' in page
    assert 'value="TCG"' not in page
    assert "au domicile du patient" in page  # TLD explained
    client.force_login(held["coordinator"])
    page = client.get(held["url"]).content.decode()
    assert 'value="TCG"' in page and 'value="TLS"' in page
    assert 'value="TE2"' not in page and 'value="RQD"' not in page
    client.force_login(staff_user())
    page = client.get(held["url"]).content.decode()
    assert "Coder un acte" not in page


def test_the_page_shows_the_eligibility_helper(client, held):
    client.force_login(held["coordinator"])
    page = client.get(held["url"]).content.decode()
    assert "Conditions de prise en charge (indicatif)" in page
    assert "Parcours de soins coordonné" in page
    assert "Dispensée" in page  # a care-home resident


def test_the_practitioner_codes_through_the_page(client, held):
    consultation = held["consultation"]
    client.force_login(consultation.practitioner.user)
    response = client.post(held["url"], {"code": "TCG"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acte TCG codé" in page and "25,00 €" in page
    act = Act.objects.get()
    assert (act.code, act.amount, act.professional) == (
        "TCG",
        Decimal("25.00"),
        consultation.practitioner.user,
    )


def test_staff_see_but_do_not_code(client, held):
    client.force_login(staff_user())
    assert client.post(held["url"], {"code": "TCG"}).status_code == 403
    assert not Act.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "TCG"}, "ne se code pas sur cette téléconsultation"),  # the nurse's choice
        ({"code": "TE2"}, "ne se code pas sur cette téléconsultation"),
        ({"code": "<script>"}, "ne se code pas sur cette téléconsultation"),
        ({}, "Choisissez l&#x27;acte à coder"),
    ],
)
def test_bad_codes_are_a_422_with_a_french_message(client, held, data, message):
    client.force_login(held["consultation"].assistant.user)
    response = client.post(held["url"], data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Act.objects.exists()


def test_a_second_act_of_the_same_professional_is_refused_on_the_page(client, held):
    nurse = held["consultation"].assistant.user
    client.force_login(nurse)
    client.post(held["url"], {"code": "TLS"})
    response = client.post(held["url"], {"code": "TLL"})
    assert response.status_code == 422
    assert "a déjà codé TLS pour cette séance" in response.content.decode()
    assert list(Act.objects.values_list("code", flat=True)) == ["TLS"]


def test_a_planned_consultation_offers_no_coding(client):
    consultation = make_consultation()
    client.force_login(consultation.practitioner.user)
    url = reverse("telehealth:acts_code", args=[consultation.pk])
    page = client.get(url).content.decode()
    assert "une fois la séance clôturée" in page
    assert client.post(url, {"code": "TCG"}).status_code == 422
    assert not Act.objects.exists()


def test_removing_an_act_through_the_page(client, held):
    consultation = held["consultation"]
    act = act_code(actor=consultation.practitioner.user, consultation=consultation, code="TCG")
    remove = reverse("telehealth:act_remove", args=[act.pk])
    # The nurse sees the act on the page but may not remove it; a stranger does not see it.
    client.force_login(consultation.assistant.user)
    assert remove not in client.get(held["url"]).content.decode()
    assert client.post(remove).status_code == 404
    client.force_login(UserFactory())
    assert client.post(remove).status_code == 404
    client.force_login(staff_user())
    assert client.post(remove).status_code == 403
    assert Act.objects.filter(pk=act.pk).exists()
    client.force_login(held["coordinator"])
    assert remove in client.get(held["url"]).content.decode()
    assert client.get(remove).status_code == 405
    response = client.post(remove)
    assert response.status_code == 302 and response["Location"] == held["url"]
    assert not Act.objects.exists()


# --- the list and the export -------------------------------------------------------------------


def read_csv(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


@pytest.fixture
def billed(held):
    """TCG and TLL on the held consultation, TCG at another site, a téléexpertise's TE2 and
    RQD for the held consultation's patient."""
    consultation = held["consultation"]
    tcg = act_code(actor=held["coordinator"], consultation=consultation, code="TCG")
    tll = act_code(actor=held["coordinator"], consultation=consultation, code="TLL")
    elsewhere = close(make_consultation())
    other = act_code(actor=elsewhere.practitioner.user, consultation=elsewhere, code="TCG")
    expert = make_practitioner(specialties=[make_specialty()])
    request = expertise_create(
        actor=consultation.practitioner.user,
        expert=expert,
        specialty=make_specialty(),
        patient=consultation.patient,
        question="Avis ?",
        now=timezone.make_aware(dt.datetime(2026, 1, 12, 9)),
    )
    answer = expertise_answer(
        actor=expert.user,
        request=request,
        answer="Avis.",
        now=timezone.make_aware(dt.datetime(2026, 1, 15, 9)),
    )
    te2 = next(a for a in answer.acts if a.code == "TE2")
    rqd = next(a for a in answer.acts if a.code == "RQD")
    return held | {
        "tcg": tcg,
        "tll": tll,
        "other": other,
        "te2": te2,
        "rqd": rqd,
        "expert": expert,
        "elsewhere": elsewhere,
    }


def exported_pks(client, user, query=""):
    client.force_login(user)
    response = client.get(reverse("telehealth:acts_export") + query)
    assert response.status_code == 200
    rows = read_csv(response)
    return rows


def test_the_export_has_the_billing_columns_and_never_the_patient_name(client, billed):
    consultation = billed["consultation"]
    client.force_login(staff_user())
    response = client.get(reverse("telehealth:acts_export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="actes.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = read_csv(response)
    assert rows[0] == [
        "date",
        "code",
        "role",
        "professionnel",
        "rpps",
        "montant_eur",
        "site",
        "patient_reference",
    ]
    by_code = {(row[1], row[3]): row for row in rows[1:]}
    doctor = consultation.practitioner
    day = timezone.localdate(consultation.scheduled_start).isoformat()
    assert by_code[("TCG", doctor.user.get_full_name())] == [
        day,
        "TCG",
        "Médecin téléconsultant",
        doctor.user.get_full_name(),
        doctor.rpps,
        "25,00",
        consultation.site.place.name,
        consultation.patient.reference,
    ]
    nurse_row = by_code[("TLL", consultation.assistant.user.get_full_name())]
    assert nurse_row[4] == "" and nurse_row[5] == "12,00"  # no RPPS for a nurse
    te2 = by_code[("TE2", billed["expert"].user.get_full_name())]
    assert te2[4] == billed["expert"].rpps and te2[6] == consultation.site.place.name
    assert len(rows) == 1 + 5
    body = response.content.decode()
    assert consultation.patient.display_name not in body
    assert AuditLog.objects.filter(action="telehealth.acts_export", data__rows=5).exists()


def test_each_actor_exports_what_they_may_see(client, billed):
    consultation = billed["consultation"]
    doctor = consultation.practitioner.user
    # The practitioner: their TCG and their RQD (as requesting doctor), nothing else.
    rows = exported_pks(client, doctor)
    assert sorted(r[1] for r in rows[1:]) == ["RQD", "TCG"]
    # The nurse: their own act.
    rows = exported_pks(client, consultation.assistant.user)
    assert [r[1] for r in rows[1:]] == ["TLL"]
    # The site's coordinator: the acts of the site's consultations, not the téléexpertise.
    rows = exported_pks(client, billed["coordinator"])
    assert sorted(r[1] for r in rows[1:]) == ["TCG", "TLL"]
    assert all(r[6] == consultation.site.place.name for r in rows[1:])
    # Another site's coordinator, a stranger: only the header.
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    assert exported_pks(client, other_coordinator)[1:] == []
    assert exported_pks(client, UserFactory())[1:] == []
    # Staff: everything.
    assert len(exported_pks(client, staff_user())) == 1 + 5


def test_filters_by_month_and_site(client, billed):
    consultation = billed["consultation"]
    day = timezone.localdate(consultation.scheduled_start)
    staff = staff_user()
    month = f"?month={day:%Y-%m}"
    rows = exported_pks(client, staff, month + f"&site={consultation.site.pk}")
    assert sorted(r[1] for r in rows[1:]) == ["TCG", "TLL"]
    assert all(r[6] == consultation.site.place.name for r in rows[1:])
    # The téléexpertise of January 2026 counts at the patient's site.
    rows = exported_pks(client, staff, f"?month=2026-01&site={consultation.site.pk}")
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [
        ("2026-01-15", "RQD", "10,00"),
        ("2026-01-15", "TE2", "23,00"),
    ]
    rows = exported_pks(client, staff, f"?site={billed['elsewhere'].site.pk}")
    assert [r[1] for r in rows[1:]] == ["TCG"]
    rows = exported_pks(client, staff, "?month=2019-01")
    assert rows[1:] == []
    client.force_login(staff)
    response = client.get(reverse("telehealth:acts_export") + "?month=2019-01")
    assert response["Content-Disposition"] == 'attachment; filename="actes-2019-01.csv"'


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?month=2026-13", "année-mois"),
        ("?month=mars", "année-mois"),
        ("?month=2999-01", "trop loin dans le futur"),
        ("?site=abc", "ne fait pas partie de vos sites"),
    ],
)
def test_bad_filters_are_a_400_with_a_french_message(client, billed, query, message):
    client.force_login(billed["consultation"].practitioner.user)
    response = client.get(reverse("telehealth:acts_export") + query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()
    assert not AuditLog.objects.filter(action="telehealth.acts_export").exists()
    assert client.get(reverse("telehealth:acts") + query).status_code == 400


def test_a_site_outside_ones_scope_cannot_be_filtered_on(client, billed):
    client.force_login(billed["coordinator"])
    other = billed["elsewhere"].site
    response = client.get(reverse("telehealth:acts_export") + f"?site={other.pk}")
    assert response.status_code == 400


def test_the_list_page(client, billed):
    client.force_login(billed["coordinator"])
    response = client.get(reverse("telehealth:acts"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 actes, 37,00 €" in page
    assert billed["consultation"].patient.reference in page
    assert billed["consultation"].patient.display_name not in page
    assert reverse("telehealth:acts_export") in page


def test_csv_cells_cannot_run_as_formulas(client, held):
    consultation = held["consultation"]
    doctor = consultation.practitioner.user
    doctor.first_name, doctor.last_name = "=HYPERLINK(1)", "X"
    doctor.save()
    act_code(actor=doctor, consultation=consultation, code="TCG")
    rows = exported_pks(client, doctor)
    assert rows[1][3].startswith("'=")


def test_out_of_range_ids_are_a_404_never_a_500(client):
    big = 10**30
    client.force_login(staff_user())
    for name in ("tariff_edit", "acts_code"):
        assert client.get(reverse(f"telehealth:{name}", args=[big])).status_code == 404
    assert client.get(reverse("telehealth:acts_export") + f"?site={big}").status_code == 400
    client.force_login(make_practitioner().user)
    assert client.post(reverse("telehealth:act_remove", args=[big])).status_code == 404
    assert client.get(reverse("telehealth:expertise_detail", args=[big])).status_code == 404
    attachment = reverse("telehealth:expertise_attachment", args=[big, big])
    assert client.get(attachment).status_code == 404
