"""A member's path in a real browser (the system's Chromium driven by Playwright): sign in,
the network page, a tiers-lieu, book a desk with a pass, then see it in "Mes réservations" and
"Mes passes". axe-core audits each page (no "serious" or "critical" violation allowed).

Data is created before Playwright starts and checked after it ends: the ORM is never called
inside the sync_playwright() block."""

import json
import os
import re

import pytest

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.test_booking import _audit, _fits
from tests.browser.test_public_pages import CHROMIUM_ARGS
from tests.conftest import chromium_path

from ._network_helpers import member_pass, open_place, tomorrow

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
def test_a_member_books_a_desk_with_a_pass(live_server):
    from playwright.sync_api import sync_playwright

    from cybercantal.booking.models import Booking

    place, _pool = open_place(place__name="La Grange numérique", place__download_mbps=300)
    member = UserFactory(username="marie.dupont")
    pass_account = member_pass(member, place, label="Carnet de 2 journées")
    place_id, day = place.pk, tomorrow().isoformat()
    blocking = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page = context.new_page()
            page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            page.goto(live_server.url + "/compte/connexion/?next=/tiers-lieux/")
            page.get_by_label("Identifiant, adresse électronique ou numéro de portable").fill(
                "marie.dupont"
            )
            page.locator("#id_mdp-password").fill(DEFAULT_PASSWORD)
            page.get_by_role("button", name="Me connecter").click()

            page.wait_for_selector("h1:has-text('Les tiers-lieux du réseau')")
            assert page.get_by_text("Demain : 8 postes libres sur 8").is_visible()
            blocking["reseau"] = _audit(page, "reseau")

            page.get_by_role("link", name="La Grange numérique", exact=True).click()
            page.wait_for_selector("h1:has-text('La Grange numérique')")
            blocking["lieu"] = _audit(page, "lieu")
            page.get_by_role("link", name="Réserver un poste").first.click()

            page.wait_for_selector("h1:has-text('Réserver un poste')")
            page.get_by_label("Jour (les 30 prochains jours)").select_option(day)
            page.get_by_role("button", name="Voir ce jour").click()
            page.get_by_label(re.compile("Toute la journée")).check()
            page.get_by_label(re.compile("Carnet de 2 journées")).check()
            blocking["reserver"] = _audit(page, "reserver")
            assert _fits(page)
            page.get_by_role("button", name="Confirmer la réservation").click()

            page.wait_for_selector("h1:has-text('Votre poste est réservé')")
            reference = page.locator(".reference").inner_text().strip()
            blocking["reserve"] = _audit(page, "reserve")
            page.get_by_role("link", name="Mes réservations").last.click()
            page.wait_for_selector("h1:has-text('Mes réservations')")
            assert page.get_by_text("La Grange numérique").first.is_visible()

            page.goto(live_server.url + "/tiers-lieux/mes-passes/")
            assert page.get_by_text("Réservation confirmée").is_visible()
            assert page.locator("figure.tl-qr svg").count() == 1
            blocking["passes"] = _audit(page, "passes")

            small = browser.new_context(viewport={"width": 320, "height": 800})
            small.add_cookies(context.cookies())
            mobile = small.new_page()
            mobile.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
            for url in ("/tiers-lieux/", f"/tiers-lieux/{place_id}/", "/tiers-lieux/mes-passes/"):
                mobile.goto(live_server.url + url)
                assert _fits(mobile), url
            small.close()
            assert not errors, errors
        finally:
            browser.close()

    booking = Booking.objects.get()
    assert booking.user_id == member.pk and booking.reference == reference
    assert pass_account.movements.filter(reason="booking").count() == 1
    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items()}, indent=2
    )
