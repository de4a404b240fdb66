"""The entrance tablet in a real browser (the system's Chromium driven by Playwright): a
check-in by PIN on the pad; then, the network cut, a check-in queued in localStorage and sent
once when the network is back. axe-core audits the page (no "serious" or "critical" violation).

Everything the database needs is prepared before the browser starts, and checked after it
closed: the ORM is never called inside the Playwright block."""

import os
import re

import pytest
from django.test import Client

from tests.browser.test_public_pages import AXE_OPTIONS, BLOCKING_IMPACTS, CHROMIUM_ARGS
from tests.conftest import chromium_path

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _blocking(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    for violation in violations:
        print(f"[tablette] {violation['impact']}: {violation['id']} — {violation['help']}")
        for node in violation["nodes"]:
            print(f"    {node['target']}: {node['failureSummary']}")
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def _type_pin(page, pin: str) -> None:
    for digit in pin:
        page.locator(f'#tablette-pave button[data-digit="{digit}"]').click()
    page.locator("#tablette-pave button[type=submit]").click()


@pytest.mark.browser
def test_tablet_checks_in_by_pin_and_queues_while_offline(live_server):
    from playwright.sync_api import expect, sync_playwright

    from cybercantal.coworking.models import CheckIn
    from cybercantal.coworking.services.cards import member_card_pin_set
    from tests.accounts.factories import UserFactory

    from .factories import PassFactory
    from .manage_fixtures import world

    w = world()
    offline_member = PassFactory(
        offer=w.offer, member=UserFactory(first_name="Louise"), valid_from=w.pass_.valid_from
    ).member
    online_pin = member_card_pin_set(actor=w.manager, member=w.member, tiers_lieu=w.place)
    offline_pin = member_card_pin_set(actor=w.manager, member=offline_member, tiers_lieu=w.place)
    django_client = Client()
    django_client.force_login(w.manager)
    session = django_client.cookies["sessionid"].value
    url = f"{live_server.url}/tiers-lieux/gestion/{w.place.pk}/tablette/"
    errors: list[str] = []
    audits: dict[str, list] = {}
    narrow: dict[str, bool] = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            expect(page.get_by_role("heading", level=1)).to_contain_text("Bienvenue")
            blocking = _blocking(page)

            # Online: the PIN pad, the greeting.
            _type_pin(page, online_pin)
            status = page.locator("#tablette-etat")
            expect(status).to_have_text("Bonjour Camille ! Votre arrivée est enregistrée.")

            # Offline: kept in localStorage, said so, sent once the network is back.
            context.set_offline(True)
            page.locator("#id_tablette_pin").fill(offline_pin)
            page.locator("#tablette-pave button[type=submit]").click()
            expect(status).to_contain_text("sera envoyée dès le retour du réseau")
            expect(page.locator("#tablette-file")).to_have_text("1 arrivée en attente d'envoi.")
            stored = page.evaluate("Object.keys(localStorage).map(k => localStorage.getItem(k))")
            assert any(offline_pin in value for value in stored)

            context.set_offline(False)
            expect(page.locator("#tablette-file")).to_be_hidden(timeout=30_000)
            queue = page.evaluate("Object.values(localStorage).join('')")
            assert not re.search(offline_pin, queue)
            # A reload sends nothing twice: the queue is empty.
            page.reload()
            expect(page.locator("#tablette-file")).to_be_hidden()
            page.wait_for_timeout(500)

            # The other managers' pages: audited too, and usable on a narrow phone.
            base = f"{live_server.url}/tiers-lieux/gestion/{w.place.pk}"
            for name in ("aujourdhui", "passes", "factures", "tablette"):
                page.goto(f"{base}/{name}/")
                audits[name] = _blocking(page)
            page.set_viewport_size({"width": 320, "height": 640})
            for name in ("aujourdhui", "tablette"):
                page.goto(f"{base}/{name}/")
                narrow[name] = page.evaluate(
                    "document.documentElement.scrollWidth"
                    " <= document.documentElement.clientWidth + 1"
                )
        finally:
            browser.close()

    assert not errors, errors
    assert not blocking, [v["id"] for v in blocking]
    assert not any(audits.values()), {k: [v["id"] for v in vs] for k, vs in audits.items()}
    assert all(narrow.values()), narrow
    assert CheckIn.objects.filter(member=w.member, method="pin").count() == 1
    assert CheckIn.objects.filter(member=offline_member).count() == 1
    assert CheckIn.objects.count() == 2
