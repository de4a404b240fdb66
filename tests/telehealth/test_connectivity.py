"""The connectivity test of a site: the recommendation's thresholds, the figures checked in
French and nothing stored when they are wrong, the page for those who may book at the site
(and nobody else), and the measuring endpoints: authenticated, size-capped, budgeted per hour,
never cached."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import ConnectivityTest
from cybercantal.telehealth.services import connectivity as service
from cybercantal.telehealth.services.connectivity import (
    connectivity_record,
    recommend,
    shortfalls,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.telehealth.factories import make_assistant, make_site, staff_user

pytestmark = pytest.mark.django_db

VIDEO, AUDIO, PHONE = "video", "audio", "telephone"


@pytest.fixture(autouse=True)
def _fresh_budgets():
    # The hourly budgets live in the cache, which outlives each test's transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def coordinator():
    return UserFactory()


@pytest.fixture
def site(coordinator):
    return make_site(coordinators=[coordinator])


def page(site):
    return reverse("telehealth:connectivity_test", args=[site.pk])


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Recommendation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("down", "up", "latency", "expected"),
    [
        ("2", "1.5", 150, VIDEO),  # exactly the video thresholds
        ("50", "10", 20, VIDEO),
        ("1.99", "10", 20, AUDIO),  # download just short of video
        ("50", "1.49", 20, AUDIO),  # upload just short of video
        ("50", "10", 151, AUDIO),  # latency just over video
        ("0.1", "0.1", 400, AUDIO),  # exactly the audio thresholds
        ("0.09", "10", 20, PHONE),
        ("50", "0.09", 20, PHONE),
        ("50", "10", 401, PHONE),
        ("0", "0", 0, PHONE),
    ],
)
def test_the_recommendation_follows_the_documented_thresholds(down, up, latency, expected):
    assert recommend(download_mbps=Decimal(down), upload_mbps=Decimal(up), latency_ms=latency) == (
        expected
    )


def test_a_coordinator_records_a_test_with_its_recommendation_and_an_audit_row(site, coordinator):
    test = connectivity_record(
        actor=coordinator,
        site=site,
        download_mbps="12,345",
        upload_mbps="0.8",
        latency_ms="41.6",
        jitter_ms="",
        source="saisie",
    )
    test.refresh_from_db()
    assert (test.download_mbps, test.upload_mbps) == (Decimal("12.35"), Decimal("0.80"))
    assert (test.latency_ms, test.jitter_ms) == (42, 0)
    assert test.recommendation == AUDIO
    assert test.measured_by == coordinator and test.site == site
    row = AuditLog.objects.get(action="telehealth.connectivity_record")
    assert row.target_id == str(test.pk) and row.data["source"] == "saisie"
    assert shortfalls(test) == [
        "débit montant : 0,8\u00a0Mbit/s, il faut 1,5\u00a0Mbit/s pour la vidéo"
    ]


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("download_mbps", {"download_mbps": "-1"}, "entre 0 et 10 000 Mbit/s"),
        ("download_mbps", {"download_mbps": "12000"}, "vérifiez l'unité"),
        ("download_mbps", {"download_mbps": "douze"}, "saisissez un nombre"),
        ("download_mbps", {"download_mbps": "NaN"}, "entre 0 et 10 000"),
        ("upload_mbps", {"upload_mbps": "inf"}, "entre 0 et 10 000"),
        ("latency_ms", {"latency_ms": "6000"}, "millisecondes, pas secondes"),
        ("latency_ms", {"latency_ms": "-3"}, "entre 0 et 5"),
        ("jitter_ms", {"jitter_ms": "beaucoup"}, "nombre de millisecondes"),
        ("source", {"source": "devine"}, "Origine de la mesure inconnue"),
    ],
)
def test_implausible_figures_are_refused_in_french_and_nothing_is_stored(
    site, coordinator, field, values, message
):
    figures = {"download_mbps": "20", "upload_mbps": "5", "latency_ms": "30"} | values
    with pytest.raises(ValidationError) as error:
        connectivity_record(actor=coordinator, site=site, **figures)
    assert message in " ".join(error.value.message_dict[field])
    assert not ConnectivityTest.objects.exists()


def test_people_who_may_not_book_at_the_site_cannot_record_a_test(site):
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    for stranger in (UserFactory(), other_coordinator):
        with pytest.raises(BookingForbidden):
            connectivity_record(
                actor=stranger, site=site, download_mbps="20", upload_mbps="5", latency_ms="30"
            )
    assert not ConnectivityTest.objects.exists()


# --- The page ------------------------------------------------------------------------------------


def test_the_page_offers_the_test_the_other_way_and_the_last_ten_tests(site, coordinator):
    start = timezone.now() - dt.timedelta(days=20)
    for day in range(12):
        ConnectivityTest.objects.create(
            site=site,
            measured_by=coordinator,
            measured_at=start + dt.timedelta(days=day),
            download_mbps=Decimal(day + 1),
            upload_mbps=Decimal("3"),
            latency_ms=30,
            recommendation=VIDEO if day >= 1 else AUDIO,
        )
    response = logged(coordinator).get(page(site))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lancer le test" in html and "a besoin de JavaScript" in html
    assert "telehealth/js/connectivity.js" in html
    assert 'aria-live="polite"' in html
    assert reverse("telehealth:connectivity_download") in html
    tests = response.context["tests"]
    assert [t.download_mbps for t in tests] == [Decimal(n) for n in range(12, 2, -1)]
    assert html.count("<tr>") == 11  # header + 10 rows
    assert "Votre connexion permet la vidéo." in html
    assert response["Cache-Control"].count("no-store") == 1


def test_the_latest_result_says_what_is_missing_in_plain_words(site, coordinator):
    connectivity_record(
        actor=coordinator, site=site, download_mbps="0.05", upload_mbps="1", latency_ms="80"
    )
    html = logged(coordinator).get(page(site)).content.decode()
    assert "ne suffit ni pour la vidéo ni pour l&#x27;audio" in html
    assert "il faut 0,1\u00a0Mbit/s pour l&#x27;audio" in html


@pytest.mark.parametrize("who", ["assistant", "staff"])
def test_the_sites_assistants_and_staff_open_the_page(site, who):
    user = make_assistant(sites=[site]).user if who == "assistant" else staff_user()
    assert logged(user).get(page(site)).status_code == 200


def test_an_agent_of_the_organisation_running_the_site_is_not_its_team(site):
    """Rights come from the site (perms.py): working for the group that runs it is not enough."""
    user = MembershipFactory(organisation=site.place.organisation, role="mediator").user
    assert logged(user).get(page(site)).status_code == 403


def test_strangers_are_refused_and_other_sites_are_not_found(site):
    assert logged(UserFactory()).get(page(site)).status_code == 403
    # A resident member of the organisation is not one of its agents.
    resident = MembershipFactory(organisation=site.place.organisation, role="resident").user
    assert logged(resident).get(page(site)).status_code == 403
    other_coordinator = UserFactory()
    make_site(coordinators=[other_coordinator])
    assert logged(other_coordinator).get(page(site)).status_code == 404
    response = Client().get(page(site))
    assert response.status_code == 302 and "/connexion" in response["Location"]
    missing = reverse("telehealth:connectivity_test", args=[site.pk + 1000])
    assert logged(staff_user()).get(missing).status_code == 404


def test_figures_typed_from_another_test_are_recorded_and_the_result_shown(site, coordinator):
    client = logged(coordinator)
    response = client.post(
        page(site),
        {"source": "saisie", "download_mbps": "8,4", "upload_mbps": "2", "latency_ms": "35"},
        follow=True,
    )
    assert response.redirect_chain[-1] == (page(site), 302)
    assert "Votre connexion permet la vidéo." in response.content.decode()
    test = ConnectivityTest.objects.get()
    assert (test.download_mbps, test.recommendation, test.measured_by) == (
        Decimal("8.40"),
        VIDEO,
        coordinator,
    )


def test_the_script_posts_its_figures_through_the_same_form(site, coordinator):
    response = logged(coordinator).post(
        page(site),
        {
            "source": "navigateur",
            "download_mbps": "1.23",
            "upload_mbps": "0.45",
            "latency_ms": "180",
            "jitter_ms": "12",
        },
    )
    assert response.status_code == 302
    test = ConnectivityTest.objects.get()
    assert (test.recommendation, test.jitter_ms) == (AUDIO, 12)
    assert AuditLog.objects.get(action="telehealth.connectivity_record").data["source"] == (
        "navigateur"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"download_mbps": "", "upload_mbps": "2", "latency_ms": "35"}, "Indiquez le débit"),
        ({"download_mbps": "8", "upload_mbps": "2", "latency_ms": "3,5 s"}, "millisecondes"),
        ({"download_mbps": "8000 kbit/s", "upload_mbps": "2", "latency_ms": "35"}, "un nombre"),
        ({"download_mbps": "80000", "upload_mbps": "2", "latency_ms": "35"}, "kbit/s"),
    ],
)
def test_bad_figures_on_the_page_answer_400_in_french_and_store_nothing(
    site, coordinator, data, message
):
    response = logged(coordinator).post(page(site), {"source": "saisie", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Le formulaire contient des erreurs" in response.content.decode()
    assert not ConnectivityTest.objects.exists()


def test_a_stranger_cannot_post_figures(site):
    response = logged(UserFactory()).post(
        page(site),
        {"source": "saisie", "download_mbps": "8", "upload_mbps": "2", "latency_ms": "3"},
    )
    assert response.status_code == 403
    assert not ConnectivityTest.objects.exists()


# --- The measuring endpoints ---------------------------------------------------------------------


def download(client, size):
    return client.get(reverse("telehealth:connectivity_download"), {"taille": size})


def upload(client, body: bytes, **extra):
    return client.post(
        reverse("telehealth:connectivity_upload"),
        data=body,
        content_type="application/octet-stream",
        **extra,
    )


def test_ping_answers_empty_uncached_and_only_to_people_logged_in(coordinator):
    url = reverse("telehealth:connectivity_ping")
    assert Client().get(url).status_code == 403
    response = logged(coordinator).get(url)
    assert response.status_code == 204 and response.content == b""
    assert "no-store" in response["Cache-Control"]


def test_download_sends_fresh_random_bytes_never_cached(site, coordinator):
    client = logged(coordinator)
    first, second = download(client, 5000), download(client, 5000)
    assert first.status_code == 200 and first["Content-Length"] == "5000"
    assert "no-store" in first["Cache-Control"]
    assert first["Content-Type"] == "application/octet-stream"
    body_one, body_two = b"".join(first.streaming_content), b"".join(second.streaming_content)
    assert len(body_one) == 5000 and body_one != body_two
    assert len(set(body_one)) > 200  # random: nearly every byte value appears


def test_download_is_capped_at_25_mo(site, coordinator):
    response = download(logged(coordinator), 10**15)
    assert response.status_code == 200
    assert response["Content-Length"] == str(service.MAX_DOWNLOAD_BYTES) == "25000000"
    response.close()  # not read: 25 Mo of nothing useful


@pytest.mark.parametrize("size", ["", "abc", "0", "-5", "1e6", "12.5"])
def test_download_refuses_a_bad_size_in_french(site, coordinator, size):
    response = download(logged(coordinator), size)
    assert response.status_code == 400
    assert "taille" in response.content.decode()


def test_download_and_upload_refuse_anonymous_people_and_strangers(site):
    for client in (Client(), logged(UserFactory())):
        assert download(client, 1000).status_code == 403
        assert upload(client, b"x" * 1000).status_code == 403


def test_the_hourly_download_budget_stops_abuse(site, coordinator, monkeypatch):
    monkeypatch.setattr(service, "DOWNLOAD_BUDGET_BYTES_PER_HOUR", 10_000)
    client = logged(coordinator)
    assert download(client, 6000).status_code == 200
    refused = download(client, 6000)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "réessayez plus tard" in refused.content.decode()
    # Another person has their own budget.
    assert download(logged(staff_user()), 6000).status_code == 200


def test_upload_reads_and_discards_the_body(site, coordinator):
    response = upload(logged(coordinator), b"\x00\x01" * 2000)
    assert response.status_code == 200
    assert response.json() == {"recu": 4000}
    assert "no-store" in response["Cache-Control"]
    assert logged(coordinator).get(reverse("telehealth:connectivity_upload")).status_code == 405


def test_upload_refuses_a_body_over_10_mo_before_reading_it(site, coordinator):
    response = upload(logged(coordinator), b"x", CONTENT_LENGTH=str(service.MAX_UPLOAD_BYTES + 1))
    assert response.status_code == 413
    assert "trop volumineux" in response.content.decode()


def test_the_hourly_upload_budget_stops_abuse(site, coordinator, monkeypatch):
    monkeypatch.setattr(service, "UPLOAD_BUDGET_BYTES_PER_HOUR", 5000)
    client = logged(coordinator)
    assert upload(client, b"x" * 3000).status_code == 200
    assert upload(client, b"x" * 3000).status_code == 429


def test_upload_keeps_the_csrf_protection(site, coordinator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    assert upload(client, b"x" * 100).status_code == 403


# --- In a browser --------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_test_runs_in_a_browser_on_a_phone_and_without_javascript(live_server):
    """The script measures against the live server, posts its figures and the page says what
    the connection allows; at 320 CSS px nothing scrolls sideways and axe-core finds no
    serious or critical violation. Without JavaScript the button stays hidden and the page
    explains how to type another test's figures. Data is prepared before Playwright starts
    and checked after it ends."""
    import os

    from playwright.sync_api import expect, sync_playwright

    from tests.browser.test_booking import _audit, _fits
    from tests.browser.test_public_pages import CHROMIUM_ARGS
    from tests.conftest import chromium_path

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    client = Client()
    client.force_login(coordinator)
    cookie = client.cookies["sessionid"].value
    url = live_server.url + page(site)
    blocking, errors, too_wide = {}, [], []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for scripts in (True, False):
                context = browser.new_context(
                    viewport={"width": 320, "height": 640},
                    locale="fr-FR",
                    java_script_enabled=scripts,
                )
                context.add_cookies(
                    [{"name": "sessionid", "value": cookie, "url": live_server.url}]
                )
                tab = context.new_page()
                tab.on("pageerror", lambda error: errors.append(str(error)))
                tab.set_default_timeout(60_000)
                tab.goto(url)
                button = tab.get_by_role("button", name="Lancer le test")
                if scripts:
                    blocking["avant"] = _audit(tab, "avant")
                    button.click()
                    expect(tab.locator("#messages")).to_contain_text("Votre connexion permet")
                    expect(tab.locator("#dernier-resultat")).to_be_visible()
                    blocking["après"] = _audit(tab, "après")
                else:
                    expect(button).to_be_hidden()
                    expect(tab.get_by_text("a besoin de JavaScript")).to_be_visible()
                    expect(
                        tab.get_by_label("Débit descendant (réception), en Mbit/s")
                    ).to_be_visible()
                if not _fits(tab):
                    too_wide.append(str(scripts))
                context.close()
        finally:
            browser.close()

    assert errors == []
    assert too_wide == []
    assert all(not found for found in blocking.values()), blocking
    test = ConnectivityTest.objects.get()
    assert test.measured_by == coordinator and test.download_mbps > 0 and test.upload_mbps > 0
    assert AuditLog.objects.get(action="telehealth.connectivity_record").data["source"] == (
        "navigateur"
    )
