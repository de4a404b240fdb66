"""The public pages in a real browser (the system's Chromium driven by Playwright): the home
page with its map and a place page, with screenshots in var/screenshots/ and an axe-core
accessibility audit (no "serious" or "critical" violation allowed).

Offline by design: OpenStreetMap tiles are blocked, as they are in CI; the map must still show
the commune outlines and the markers."""

import datetime as dt
import json
import os

import pytest
from django.conf import settings

from tests.conftest import chromium_path

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating places) are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
BLOCKING_IMPACTS = {"serious", "critical"}
# The kinds used below; transactional tests that ran earlier may have flushed the rows that the
# data migration created.
KINDS = {
    "mediation": ("Médiation numérique", "#a3301b", 1),
    "france_services": ("France Services", "#6a1b9a", 2),
    "tiers_lieu": ("Tiers-lieu", "#1d4f91", 0),
    "telehealth": ("Téléconsultation", "#00695c", 3),
}


def _load_territory_and_places():
    from cybercantal.territory.models import OpeningPeriod, PlaceKind
    from cybercantal.territory.selectors import commune_get
    from cybercantal.territory.services import territory_load
    from tests.territory.factories import OrganisationFactory, PlaceFactory

    territory_load(code="15")
    for code, (label, color, order) in KINDS.items():
        PlaceKind.objects.get_or_create(
            code=code, defaults={"label": label, "color": color, "order": order}
        )
    aurillac, saint_flour, mauriac = (commune_get(c) for c in ("15014", "15187", "15120"))
    france_services = PlaceFactory(
        name="France Services de Saint-Flour",
        commune=saint_flour,
        kinds=["france_services", "mediation"],
        description="Accueil et aide pour vos démarches en ligne.\nSans rendez-vous le matin.",
        address="17 bis place d'Armes",
        phone="04 71 60 00 00",
        email="france-services@example.org",
        accessibility="accessible",
        connectivity="fibre",
        download_mbps=500,
        has_public_wifi=True,
        organisation=OrganisationFactory(name="Communauté de communes de Saint-Flour"),
    )
    for weekday in range(5):
        OpeningPeriod.objects.create(
            place=france_services, weekday=weekday, opens=dt.time(9), closes=dt.time(12)
        )
        OpeningPeriod.objects.create(
            place=france_services, weekday=weekday, opens=dt.time(13, 30), closes=dt.time(17)
        )
    PlaceFactory(
        name="Tiers-lieu de la Gare",
        commune=aurillac,
        kinds=["tiers_lieu"],
        opening_hours="Mo-Fr 08:00-19:00",
    )
    PlaceFactory(
        name="EHPAD du Mauriacois",
        commune=mauriac,
        kinds=["telehealth"],
        is_demo=True,
    )
    return france_services


def _audit(page, name: str) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    for violation in violations:
        print(
            f"[{name}] {violation['impact']}: {violation['id']} — {violation['help']}\n"
            + "\n".join(
                f"    {node['target']}: {node['failureSummary']}" for node in violation["nodes"]
            )
        )
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


@pytest.mark.browser
def test_home_and_place_pages_in_a_browser(live_server):
    from playwright.sync_api import sync_playwright

    place = _load_territory_and_places()
    screenshots = settings.VAR_DIR / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    blocking = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # No network in tests: make the tiles fail fast, as they would offline.
            page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())

            # Home page: outlines of the 250 communes and the markers, without tiles.
            page.goto(live_server.url + "/")
            page.wait_for_selector('#carte-lieux[data-ready="true"]', timeout=15000)
            assert page.locator("#carte-lieux .leaflet-overlay-pane path").count() == 250
            assert page.locator("#carte-lieux .leaflet-marker-icon").count() == 3
            assert page.get_by_role("heading", level=1).inner_text() == "Bienvenue sur CyberCantal"
            assert page.locator(".demo-banner").is_visible()
            page.screenshot(path=str(screenshots / "accueil.png"), full_page=True)

            # Unticking a kind hides its markers on the map and, through htmx, in the list.
            page.get_by_label("Téléconsultation").uncheck()
            page.wait_for_function(
                "document.querySelectorAll('#carte-lieux .leaflet-marker-icon').length === 2"
            )
            page.wait_for_function(
                "!document.querySelector('#liste-lieux').textContent.includes('EHPAD')"
            )
            page.wait_for_function(
                "document.querySelector('#filtre-statut').textContent.includes('2 lieux')"
            )
            assert page.locator("#filtre-statut").inner_text() == "2 lieux affichés."
            blocking["accueil"] = _audit(page, "accueil")

            # The skip link is the first thing a keyboard user reaches.
            page.goto(live_server.url + "/")
            page.wait_for_selector('#carte-lieux[data-ready="true"]', timeout=15000)
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
            # The 250 commune outlines are not tab stops: from the link that skips the map,
            # the keyboard reaches the list after the map's few controls and markers.
            assert (
                page.evaluate(
                    "[...document.querySelectorAll('#carte-lieux .leaflet-overlay-pane path')]"
                    ".filter(p => p.tabIndex >= 0 || p.getAttribute('tabindex') !== '-1').length"
                )
                == 0
            )
            page.get_by_role("link", name="Passer la carte et aller à la liste des lieux").focus()
            presses = 0
            in_list = "!!document.activeElement.closest('#liste-lieux')"
            while presses < 30 and not page.evaluate(in_list):
                page.keyboard.press("Tab")
                presses += 1
            assert presses < 20, f"{presses} tabulations pour traverser la carte"

            # Place page.
            page.goto(f"{live_server.url}/lieux/{place.pk}/")
            page.wait_for_selector('#carte-lieu[data-ready="true"]', timeout=15000)
            assert page.locator("#carte-lieu .leaflet-marker-icon").count() == 1
            assert page.locator("#carte-lieu .leaflet-overlay-pane path").count() == 1
            assert page.get_by_role("link", name="04 71 60 00 00").get_attribute("href") == (
                "tel:0471600000"
            )
            page.screenshot(path=str(screenshots / "lieu.png"), full_page=True)
            blocking["lieu"] = _audit(page, "lieu")

            # Text enlarged to 200 % on a tablet held upright, then the 320 px wide layout of
            # a 400 % zoom (WCAG 1.4.4 and 1.4.10): everything reflows, no horizontal scrolling.
            for width, font_size in ((768, "225%"), (320, None)):
                small = browser.new_context(viewport={"width": width, "height": 1024})
                mobile = small.new_page()
                mobile.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
                for path in ("/", f"/lieux/{place.pk}/"):
                    mobile.goto(live_server.url + path)
                    if font_size:
                        mobile.add_style_tag(
                            content=f"html {{ font-size: {font_size} !important }}"
                        )
                    assert mobile.evaluate(
                        "document.documentElement.scrollWidth"
                        " <= document.documentElement.clientWidth + 1"
                    ), (width, path)
                mobile.screenshot(path=str(screenshots / f"lieu-{width}px.png"), full_page=True)
                small.close()

            assert not errors, errors
        finally:
            browser.close()

    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items()}, indent=2
    )
