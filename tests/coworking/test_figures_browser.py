"""The tiers-lieux figures pages in a real browser: axe-core finds no serious or critical
violation on the figures, settlement and funder pages, and they do not scroll sideways on a
320 px screen. Data is built before the browser starts; the ORM is never called inside it."""

import os

import pytest
from django.test import Client

from tests.browser.test_public_pages import AXE_OPTIONS, BLOCKING_IMPACTS, CHROMIUM_ARGS
from tests.conftest import chromium_path

from .test_figures_views import w  # noqa: F401  (fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def blocking(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    return [
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_figures_pages_are_accessible_and_fit_a_phone(live_server, w):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from tests.booking.factories import department_agent

    django_client = Client()
    django_client.force_login(department_agent())
    session = django_client.cookies["sessionid"].value
    paths = [
        "/tiers-lieux/chiffres/?annee=2027",
        "/tiers-lieux/chiffres/reversements/?mois=2027-03",
        f"/tiers-lieux/chiffres/reversements/?mois=2027-03&structure={w['alpha'].place.organisation_id}",
    ]
    audits: dict[str, list[str]] = {}
    too_wide: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            for path in paths:
                page.goto(live_server.url + path)
                audits[path] = blocking(page)
            page.set_viewport_size({"width": 320, "height": 640})
            for path in paths:
                page.goto(live_server.url + path)
                if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                    too_wide.append(path)
        finally:
            browser.close()
    assert not errors
    assert audits == {path: [] for path in paths}
    assert not too_wide
