"""The pages of the techno-economic model: dashboards of a site and of the network, their CSV and
PDF, the cost ledgers and the transport tariffs. Who gets in and who is refused on each page,
bad input answered in French with nothing changed, and no patient anywhere."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from cybercantal.telehealth.models import Consultation, CostEntry, TransportTariff
from cybercantal.telehealth.services.costs import cost_record
from tests.accounts.factories import UserFactory
from tests.core.pdf_text import text as pdf_text
from tests.telehealth.factories import make_assistant, make_practitioner, make_site, staff_user
from tests.telehealth.test_economics import held, set_tariffs, team_at

pytestmark = pytest.mark.django_db

YEAR = 2024
PATIENT = "Mme Zénobie Testard"  # team_at's patient: must never appear


@pytest.fixture
def world():
    staff = staff_user()
    set_tariffs(staff)
    coordinator = UserFactory()
    site = make_site(
        distance_km=Decimal("53.0"),
        travel_minutes=45,
        opened_on=dt.date(2023, 1, 1),
        coordinators=[coordinator],
    )
    other_coordinator = UserFactory()
    other = make_site(opened_on=dt.date(2023, 1, 1), coordinators=[other_coordinator])
    team = team_at(site)
    held(team, dt.date(YEAR, 3, 11))
    held(team, dt.date(YEAR, 3, 12), mode="ambulance", status=Consultation.Status.INCIDENT)
    cost_record(
        actor=staff,
        site=site,
        category="equipement",
        label="Chariot",
        amount="6000",
        starts_on=dt.date(2023, 7, 15),
        depreciation_months=60,
    )
    cost_record(actor=staff, site=None, category="licence", label="Plateforme", amount="300",
                recurrence="mensuel", starts_on=dt.date(YEAR, 1, 1))  # fmt: skip
    return {
        "staff": staff,
        "site": site,
        "other": other,
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "nurse": team["nurse"].user,
        "doctor": team["doctor"].user,
    }


def site_url(world, name="economics_site", **kwargs):
    return reverse(f"telehealth:{name}", args=[world["site"].pk], kwargs=kwargs or None)


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


# --- dashboards ---------------------------------------------------------------------------------


def test_the_site_dashboard_for_its_coordinator(client, world):
    response = get(client, world["coordinator"], site_url(world), annee=YEAR)
    assert response.status_code == 200
    page = response.content.decode()
    assert escape(world["site"].place.name) in page
    # Key figures: 2 done (1 with incident), 120 + 300 € of transport, 212 km, 3 hours.
    assert "téléconsultations réalisées (dont 1 avec incident)" in page
    assert "420,00\u00a0€" in page
    assert "<strong>212</strong> kilomètres de trajet évités" in page
    # Net cost: 12 × 100 (chariot) + 12 × 150 (half the platform, 2 sites) = 3 000 €; 1 500 €
    # per teleconsultation.
    assert "1\u202f500,00\u00a0€" in page
    # Break-even: 250 € a month against 210 € avoided per teleconsultation, 2/12 done a month.
    assert "<strong>Seuil de rentabilité pas atteint</strong>" in page
    assert "il manque 2\u202f580,00\u00a0€ de transport évité" in page
    assert "il faut 1,2 téléconsultations par mois" in page
    assert 'role="img"' in page and "<caption" in page and 'scope="row"' in page
    assert "doivent être vérifiés" in page  # the tariffs' warning
    assert PATIENT not in page


def test_staff_see_every_site_and_the_network(client, world):
    staff = world["staff"]
    assert get(client, staff, site_url(world), annee=YEAR).status_code == 200
    response = get(client, staff, reverse("telehealth:economics_network"), annee=YEAR)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Site par site" in page and escape(world["other"].place.name) in page
    assert PATIENT not in page
    home = get(client, staff, reverse("telehealth:economics"))
    assert home.status_code == 200 and escape(world["other"].place.name) in home.content.decode()


def test_who_is_refused_the_site_dashboard(client, world):
    url = site_url(world)
    # Working at the site without coordinating it: told why.
    assert get(client, world["nurse"], url).status_code == 403
    # Nothing to do with the site: it does not exist for them.
    for user in (world["other_coordinator"], world["doctor"], UserFactory()):
        assert get(client, user, url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    missing = reverse("telehealth:economics_site", args=[999999])
    assert get(client, world["staff"], missing).status_code == 404


def test_who_is_refused_the_network_dashboard_and_home(client, world):
    for name in ("economics_network", "economics_network_csv", "economics_network_pdf"):
        for user in (world["coordinator"], world["nurse"], UserFactory()):
            assert get(client, user, reverse(f"telehealth:{name}")).status_code == 403, name
    assert get(client, UserFactory(), reverse("telehealth:economics")).status_code == 403
    home = get(client, world["coordinator"], reverse("telehealth:economics"))
    assert home.status_code == 200
    assert escape(world["other"].place.name) not in home.content.decode()


@pytest.mark.parametrize("year", ["deux-mille", "1999", "2101", "20245"])
def test_a_bad_year_is_a_400_in_french(client, world, year):
    response = get(client, world["coordinator"], site_url(world), annee=year)
    assert response.status_code == 400
    assert escape("n'est pas une année") in response.content.decode()


def test_a_year_not_begun_is_a_400(client, world):
    from django.utils import timezone

    next_year = timezone.localdate().year + 1
    for url in (site_url(world), site_url(world, "economics_site_csv")):
        response = get(client, world["coordinator"], url, annee=next_year)
        assert response.status_code == 400
        assert escape("n'a pas encore commencé") in response.content.decode()


def test_csv_export_month_by_month(client, world):
    response = get(client, world["coordinator"], site_url(world, "economics_site_csv"), annee=YEAR)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    header = lines[0].split(";")
    assert header[:3] == ["mois", "teleconsultations_realisees", "dont_incident"]
    assert len(lines) == 1 + 12 + 1
    march = dict(zip(header, lines[3].split(";"), strict=True))
    assert march["mois"] == "2024-03"
    assert march["teleconsultations_realisees"] == "2"
    assert march["dont_incident"] == "1"
    assert march["couts_propres_eur"] == "100,00"
    assert march["part_couts_reseau_eur"] == "150,00"
    assert march["cout_net_eur"] == "250,00"
    assert march["cout_par_teleconsultation_eur"] == "125,00"
    assert march["km_evites"] == "212,0"
    assert march["transport_evite_eur"] == "420,00"
    assert march["heures_epargnees"] == "3,0"
    total = dict(zip(header, lines[-1].split(";"), strict=True))
    assert total["mois"] == "2024" and total["cout_net_eur"] == "3000,00"
    assert PATIENT not in text


def test_the_printable_reports(client, world):
    response = get(client, world["coordinator"], site_url(world, "economics_site_pdf"), annee=YEAR)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert world["site"].place.name in text
    assert "Mois par mois" in text and "Méthode" in text
    assert PATIENT not in text
    network = get(client, world["staff"], reverse("telehealth:economics_network_pdf"), annee=YEAR)
    assert network.content.startswith(b"%PDF")
    text = pdf_text(network.content)
    assert "Site par site" in text and world["other"].place.name in text
    assert get(client, world["nurse"], site_url(world, "economics_site_pdf")).status_code == 403
    stranger = get(client, world["other_coordinator"], site_url(world, "economics_site_pdf"))
    assert stranger.status_code == 404


# --- cost ledger --------------------------------------------------------------------------------


def form(**overrides):
    values = {
        "category": "connexion",
        "label": "Fibre",
        "funder": "",
        "amount": "39,90",
        "recurrence": "mensuel",
        "starts_on": "2025-01-01",
        "ends_on": "",
        "depreciation_months": "",
    }
    return values | overrides


def test_a_coordinator_keeps_the_site_ledger(client, world):
    url = site_url(world, "costs_site")
    client.force_login(world["coordinator"])
    page = client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Chariot" in content and "100,00\u00a0€" in content  # its monthly share
    assert "<fieldset>" in content and "<legend>" in content
    response = client.post(url, form())
    assert response.status_code == 302
    entry = CostEntry.objects.get(label="Fibre")
    assert entry.site == world["site"] and entry.amount == Decimal("39.90")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "0"}, "supérieur à zéro"),
        ({"ends_on": "2024-12-31"}, "ne peut pas précéder"),
        ({"depreciation_months": "12"}, "qu&#x27;à une dépense ponctuelle"),
        ({"starts_on": "pas une date"}, "Saisissez une date valide"),
    ],
)
def test_bad_ledger_input_is_answered_in_french(client, world, overrides, message):
    client.force_login(world["coordinator"])
    before = CostEntry.objects.count()
    response = client.post(site_url(world, "costs_site"), form(**overrides))
    assert response.status_code == 400
    content = response.content.decode()
    assert message in content
    assert 'id="erreurs-formulaire"' in content
    assert CostEntry.objects.count() == before


def test_who_is_refused_a_site_ledger(client, world):
    url = site_url(world, "costs_site")
    before = CostEntry.objects.count()
    client.force_login(world["nurse"])
    assert client.get(url).status_code == 403
    assert client.post(url, form()).status_code == 403
    for user in (world["other_coordinator"], UserFactory(), make_practitioner().user):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, form()).status_code == 404
    assert CostEntry.objects.count() == before


def test_edit_and_delete_an_entry(client, world):
    entry = CostEntry.objects.get(label="Chariot")
    edit = reverse("telehealth:cost_site_edit", args=[world["site"].pk, entry.pk])
    delete = reverse("telehealth:cost_site_delete", args=[world["site"].pk, entry.pk])
    client.force_login(world["other_coordinator"])
    assert client.get(edit).status_code == 404
    assert client.post(delete).status_code == 404
    # Another site's entry through one's own site: not there.
    other_entry = cost_record(
        actor=world["staff"], site=world["other"], category="autre", label="Autre",
        amount="10", starts_on=dt.date(2025, 1, 1),
    )  # fmt: skip
    client.force_login(world["coordinator"])
    wrong = reverse("telehealth:cost_site_edit", args=[world["site"].pk, other_entry.pk])
    assert client.get(wrong).status_code == 404
    page = client.get(edit)
    assert page.status_code == 200 and 'value="6000,00"' in page.content.decode()
    values = form(category="equipement", label="Chariot", amount="6600", recurrence="ponctuel",
                  starts_on="2023-07-15", depreciation_months="60")  # fmt: skip
    bad = client.post(edit, values | {"amount": "-5"})
    assert bad.status_code == 400
    entry.refresh_from_db()
    assert entry.amount == Decimal("6000.00")
    assert client.post(edit, values).status_code == 302
    entry.refresh_from_db()
    assert entry.amount == Decimal("6600.00")
    assert client.get(delete).status_code == 200  # the confirmation
    assert CostEntry.objects.filter(pk=entry.pk).exists()
    assert client.post(delete).status_code == 302
    assert not CostEntry.objects.filter(pk=entry.pk).exists()


def test_network_ledger_is_staff_only(client, world):
    url = reverse("telehealth:costs_network")
    entry = CostEntry.objects.get(label="Plateforme")
    edit = reverse("telehealth:cost_network_edit", args=[entry.pk])
    for user in (world["coordinator"], world["nurse"], UserFactory()):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, form()).status_code == 403
        assert client.get(edit).status_code == 403
    client.force_login(world["staff"])
    page = client.get(url)
    assert page.status_code == 200 and "Plateforme" in page.content.decode()
    assert client.post(url, form(label="Coordination", category="coordination")).status_code == 302
    assert CostEntry.objects.get(label="Coordination").site is None
    # A site's entry is not reachable as a network entry.
    site_entry = CostEntry.objects.get(label="Chariot")
    missing = reverse("telehealth:cost_network_edit", args=[site_entry.pk])
    assert client.get(missing).status_code == 404


# --- transport tariffs --------------------------------------------------------------------------


def tariff_form(**overrides):
    values = {
        "mode": "ambulance",
        "flat_fee": "55,00",
        "per_km": "2,30",
        "valid_from": "2030-01-01",
        "valid_until": "",
        "source": "Avenant à venir",
    }
    return values | overrides


def test_transport_tariffs_page_for_staff(client, world):
    url = reverse("telehealth:transport_tariffs")
    client.force_login(world["staff"])
    page = client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "vérifiez-les" in content and "3 premiers kilomètres" in content
    overlapping = client.post(url, tariff_form(valid_from="2024-06-01"))
    assert overlapping.status_code == 400
    assert "chevauche" in overlapping.content.decode()
    current = TransportTariff.objects.get(mode="ambulance")
    edit = reverse("telehealth:transport_tariff_edit", args=[current.pk])
    closing = tariff_form(flat_fee="50", per_km="2", valid_from="2020-01-01",
                          valid_until="2029-12-31", source="")  # fmt: skip
    assert client.post(edit, closing).status_code == 302
    assert client.post(url, tariff_form()).status_code == 302
    assert TransportTariff.objects.filter(mode="ambulance").count() == 2
    bad = client.post(url, tariff_form(mode="vsl", per_km="-1", valid_from="2031-01-01"))
    assert bad.status_code == 400 and "négatif" in bad.content.decode()


def test_transport_tariffs_are_refused_to_others(client, world):
    url = reverse("telehealth:transport_tariffs")
    tariff = TransportTariff.objects.first()
    edit = reverse("telehealth:transport_tariff_edit", args=[tariff.pk])
    before = TransportTariff.objects.count()
    for user in (world["coordinator"], world["nurse"], make_assistant(sites=[world["other"]]).user):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, tariff_form()).status_code == 403
        assert client.post(edit, tariff_form()).status_code == 403
    assert TransportTariff.objects.count() == before
