"""The figures pages (/tiers-lieux/chiffres/…), the way each role reaches them: the
Département's staff see every place, a manager their own (on the page and in the CSV), anyone
else a 403; wrong years and months fall back to the current one; the SVG charts escape what
they are given."""

import datetime as dt
import uuid

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from cybercantal.core.charts import bar_chart_svg
from cybercantal.core.registries import dashboard_cards
from cybercantal.coworking.exports import (
    CENSUS_HEADER,
    CLEARING_HEADER,
    FIGURES_HEADER,
    FUNDER_HEADER,
    STATEMENT_HEADER,
)
from cybercantal.coworking.models import CheckIn, CreditMovement, Offer, SettlementRule
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.booking.conftest import at
from tests.booking.factories import department_agent
from tests.territory.factories import CommuneFactory

from .factories import OfferFactory, PassFactory, TiersLieuFactory, manager_of

pytestmark = pytest.mark.django_db

MARCH = dt.date(2027, 3, 1)


def visit(place, member, day: str, pass_=None) -> CheckIn:
    check_in = CheckIn.objects.create(
        tiers_lieu=place,
        member=member,
        day=dt.date.fromisoformat(day),
        at=at(day, "09:00"),
        method="pin",
        pass_used=pass_,
        client_uuid=uuid.uuid4(),
    )
    if pass_ is not None:
        CreditMovement.objects.create(
            pass_account=pass_, half_days=-2, reason="check_in", check_in=check_in
        )
    return check_in


@pytest.fixture
def w():
    """Two places run by two operators; Alpha has three visits in March 2027 by two people
    living in Vic-sur-Cère, Bêta one; a network pass of Alpha's operator used at Bêta."""
    home = CommuneFactory(name="Vic-sur-Cère", latitude=44.98, longitude=2.63)
    alpha = TiersLieuFactory(place__name="Lieu Alpha", place__organisation__name="Asso Alpha")
    beta = TiersLieuFactory(place__name="Lieu Bêta", place__organisation__name="Asso Bêta")
    first, second = UserFactory(home_commune=home), UserFactory(home_commune=home)
    visit(alpha, first, "2027-03-02")
    visit(alpha, first, "2027-03-03")
    visit(alpha, second, "2027-03-03")
    network_offer = OfferFactory(
        tiers_lieu=None,
        operator=alpha.place.organisation,
        kind=Offer.Kind.NETWORK_PASS,
        price_cents=14_000,
        half_days=20,
    )
    SettlementRule.objects.create(basis="per_day", amount_cents=900, valid_from=dt.date(2027, 1, 1))
    network_pass = PassFactory(offer=network_offer, sold_at=alpha, valid_from=MARCH)
    visit(beta, network_pass.member, "2027-03-04", pass_=network_pass)
    return {
        "alpha": alpha,
        "beta": beta,
        "manager": manager_of(alpha),
        "beta_manager": manager_of(beta),
    }


def figures_url(**params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("coworking:figures") + (f"?{query}" if query else "")


# --- the figures page -----------------------------------------------------------------------


def test_the_departments_staff_sees_the_network_and_every_place(client, w):
    client.force_login(department_agent())
    response = client.get(figures_url(annee=2027))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chiffres des tiers-lieux en 2027" in html
    assert "Lieu Alpha" in html and "Lieu Bêta" in html
    assert html.count('role="img"') == 3  # three charts, each followed by its table
    assert "Vic-sur-Cère" in html  # the home communes' table
    assert 'id="carte-communes-donnees"' in html
    assert reverse("coworking:census_csv") in html


def test_a_manager_sees_their_place_only(client, w):
    client.force_login(w["manager"])
    response = client.get(figures_url(annee=2027))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lieu Alpha" in html
    assert "Lieu Bêta" not in html
    figures_csv = client.get(reverse("coworking:figures_csv") + "?annee=2027")
    census = client.get(reverse("coworking:census_csv") + "?annee=2027")
    for response in (figures_csv, census):
        text = response.content.decode("utf-8-sig")
        assert "Lieu Alpha" in text
        assert "Lieu Bêta" not in text


def test_a_manager_may_not_ask_for_another_place(client, w):
    client.force_login(w["manager"])
    assert client.get(figures_url(annee=2027, lieu=w["beta"].pk)).status_code == 403
    assert client.get(figures_url(annee=2027, lieu=w["alpha"].pk)).status_code == 200
    csv = reverse("coworking:figures_csv") + f"?annee=2027&lieu={w['beta'].pk}"
    assert client.get(csv).status_code == 403


def test_one_place_of_the_network(client, w):
    client.force_login(department_agent())
    response = client.get(figures_url(annee=2027, lieu=w["beta"].pk))
    assert response.status_code == 200
    assert "Les chiffres de Lieu Bêta" in response.content.decode()


def test_a_member_gets_403_and_anonymous_the_login_page(client, w):
    urls = [
        reverse("coworking:figures"),
        reverse("coworking:figures_csv"),
        reverse("coworking:census_csv"),
        reverse("coworking:settlement"),
        reverse("coworking:settlement_csv"),
        reverse("coworking:funder_statement"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "next=" in response["Location"], url
    client.force_login(UserFactory())
    for url in urls:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("year", ["abc", "1850", "99999", "2027-03"])
def test_a_wrong_year_shows_the_current_one_and_says_so(client, w, year):
    client.force_login(w["manager"])
    response = client.get(figures_url(annee=year))
    assert response.status_code == 200
    html = response.content.decode()
    current = timezone.localdate().year
    assert "pas valable" in html
    assert f"Chiffres des tiers-lieux en {current}" in html
    assert client.get(reverse("coworking:figures_csv") + f"?annee={year}").status_code == 200


def test_the_csv_downloads(client, w):
    client.force_login(department_agent())
    figures_csv = client.get(reverse("coworking:figures_csv") + "?annee=2027")
    assert figures_csv.status_code == 200
    assert figures_csv["Content-Type"].startswith("text/csv")
    assert "attachment" in figures_csv["Content-Disposition"]
    lines = figures_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ";".join(FIGURES_HEADER)
    march_alpha = next(line for line in lines if line.startswith("Lieu Alpha;2027-03;"))
    assert march_alpha.split(";")[2] == "3"
    census = client.get(reverse("coworking:census_csv") + "?annee=2027")
    assert census["Content-Type"].startswith("text/csv")
    assert census.content.decode("utf-8-sig").splitlines()[0] == ";".join(CENSUS_HEADER)


# --- settlement and funders -------------------------------------------------------------------


def settlement_url(name="coworking:settlement", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse(name) + (f"?{query}" if query else "")


def test_a_manager_reads_their_operators_statement(client, w):
    client.force_login(w["beta_manager"])
    response = client.get(settlement_url(mois="2027-03"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "exploitant Asso Bêta — mars 2027" in html
    assert "9,00" in html  # a day of Alpha's network pass at Bêta
    csv = client.get(settlement_url("coworking:settlement_csv", mois="2027-03"))
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ";".join(STATEMENT_HEADER)
    assert lines[1].startswith("du;2027-03-04;Lieu Bêta;Asso Bêta;Asso Alpha;")


def test_a_manager_may_not_read_another_operators_statement(client, w):
    client.force_login(w["manager"])
    other = w["beta"].place.organisation.pk
    assert client.get(settlement_url(mois="2027-03", structure=other)).status_code == 403
    csv = settlement_url("coworking:settlement_csv", mois="2027-03", structure=other)
    assert client.get(csv).status_code == 403
    own = w["alpha"].place.organisation.pk
    assert client.get(settlement_url(mois="2027-03", structure=own)).status_code == 200


def test_the_departments_staff_sees_the_clearing_or_an_operator(client, w):
    client.force_login(department_agent())
    response = client.get(settlement_url(mois="2027-03"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Compensation du réseau" in html
    assert "Asso Alpha" in html and "Asso Bêta" in html
    csv = client.get(settlement_url("coworking:settlement_csv", mois="2027-03"))
    assert csv.content.decode("utf-8-sig").splitlines()[0] == ";".join(CLEARING_HEADER)
    beta = w["beta"].place.organisation.pk
    assert (
        "exploitant Asso Bêta — mars 2027"
        in client.get(settlement_url(mois="2027-03", structure=beta)).content.decode()
    )


@pytest.mark.parametrize("month", ["mars", "2027-13", "2027-3", "0000-01"])
def test_a_wrong_month_shows_the_current_one_and_says_so(client, w, month):
    client.force_login(w["manager"])
    response = client.get(settlement_url(mois=month))
    assert response.status_code == 200
    assert "pas valable" in response.content.decode()
    assert response.context["month"] == timezone.localdate().replace(day=1)


def test_funder_statement_for_the_funders_agents_only(client, w):
    funder = OrganisationFactory(name="Fondation d'essai")
    discovery = OfferFactory(
        tiers_lieu=w["alpha"], kind=Offer.Kind.DISCOVERY, half_days=4, funder=funder
    )
    PassFactory(offer=discovery, valid_from=MARCH, funder=funder)
    agent = MembershipFactory(organisation=funder, role="mediator").user
    client.force_login(agent)
    response = client.get(settlement_url("coworking:funder_statement", mois="2027-03"))
    assert response.status_code == 200
    assert discovery.label in response.content.decode()
    csv = client.get(
        settlement_url("coworking:funder_statement_csv", mois="2027-03", financeur=funder.pk)
    )
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0] == ";".join(FUNDER_HEADER)
    resident = MembershipFactory(organisation=funder, role="resident").user
    client.force_login(resident)
    url = settlement_url("coworking:funder_statement", mois="2027-03", financeur=funder.pk)
    assert client.get(url).status_code == 403
    client.force_login(department_agent())
    assert client.get(url).status_code == 200


# --- the home page card and the charts --------------------------------------------------------


def test_the_card_shows_to_managers_and_staff_only(w):
    card = dashboard_cards.get("coworking.figures")
    request = RequestFactory().get("/")
    for user, visible in (
        (w["manager"], True),
        (department_agent(), True),
        (UserFactory(), False),
    ):
        request.user = user
        assert card.is_visible(request) is visible


def test_the_bar_chart_escapes_what_it_is_given():
    svg = bar_chart_svg(
        [("<script>alert(1)</script>", 3), ("mars", 1.5)],
        title="Titre <b>gras</b> & co",
        unit="<i>u</i>",
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<b>" not in svg and "<i>" not in svg
    assert svg.startswith("<svg") and 'role="img"' in svg and "viewBox=" in svg
    assert ">3</text>" in svg and ">1,5</text>" in svg  # values written on the bars
