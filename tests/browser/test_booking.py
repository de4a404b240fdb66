"""Booking a slot without an account, in a real browser (the system's Chromium driven by
Playwright): a service, a commune, a slot, a name and a mobile number, the SMS code, the
confirmation page. axe-core audits the slot list and the confirmation page (no "serious" or
"critical" violation allowed); screenshots go to var/screenshots/, at 1280 and 320 CSS px.

The live server runs in this process: the SMS "sent" by the test backend are in
cybercantal.core.notifications.sms.outbox."""

import datetime as dt
import json
import os
import re

import pytest
from django.conf import settings

from tests.browser.test_public_pages import AXE_OPTIONS, BLOCKING_IMPACTS, CHROMIUM_ARGS
from tests.conftest import chromium_path

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _audit(page, name: str) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    for violation in violations:
        print(
            f"[{name}] {violation['impact']}: {violation['id']} — {violation['help']}\n"
            + "\n".join(
                f"    {node['target']}: {node['failureSummary']}" for node in violation["nodes"]
            )
        )
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


def _bookable_places():
    from cybercantal.territory.selectors import commune_get
    from cybercantal.territory.services import territory_load
    from tests.booking.factories import ResourceFactory, ServiceFactory
    from tests.territory.factories import OrganisationFactory, PlaceFactory

    territory_load(code="15")
    service = ServiceFactory(
        code="aide-demarches",
        label="Aide aux démarches en ligne",
        description="Un conseiller vous aide à faire vos démarches sur internet.",
        default_duration_minutes=30,
    )
    organisation = OrganisationFactory(name="Communauté de communes de Saint-Flour")
    every_day = [(day, "08:00", "20:00") for day in range(7)]
    for name, insee, address, phone in (
        ("France Services de Saint-Flour", "15187", "17 bis place d'Armes", "04 71 60 00 00"),
        ("Maison de services de Neuvéglise", "15141", "2 rue de la Mairie", "04 71 23 00 00"),
    ):
        place = PlaceFactory(
            name=name,
            commune=commune_get(insee),
            address=address,
            phone=phone,
            organisation=organisation,
            kinds=["france_services"],
        )
        ResourceFactory(
            name=f"Conseiller numérique — {name}",
            place=place,
            organisation=organisation,
            hours=every_day,
            services=[service],
            observes_public_holidays=False,
            cancellation_deadline_hours=24,
        )
    return service


@pytest.mark.browser
def test_book_a_slot_without_an_account(live_server):
    from playwright.sync_api import sync_playwright

    from cybercantal.booking.models import Booking
    from cybercantal.core.notifications import sms

    _bookable_places()
    screenshots = settings.VAR_DIR / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    blocking = {}
    sms.outbox.clear()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            # 1. The service.
            page.goto(live_server.url + "/reservations/")
            assert page.get_by_text("Étape 1 sur 4").is_visible()
            page.get_by_role("link", name=re.compile("Aide aux démarches en ligne")).click()

            # 2. Near my commune: the next free slots, by day, with the distance.
            page.get_by_label("Votre commune ou son code postal").fill("Saint-Flour")
            page.get_by_label("Jusqu'à quelle distance ?").select_option("40")
            page.get_by_role("button", name="Voir les créneaux").click()
            page.wait_for_selector("#titre-creneaux")
            assert page.locator(".slot-day").count() >= 1
            assert page.get_by_text("Dans votre commune").first.is_visible()
            assert page.get_by_text(re.compile(r"environ \d+ km par la route")).first.is_visible()
            page.screenshot(path=str(screenshots / "reservation-creneaux.png"), full_page=True)
            blocking["creneaux"] = _audit(page, "creneaux")
            slots_url = page.url

            # 3. A slot, then a name and a mobile number.
            first_slot = page.locator(".slot-time").first
            chosen = first_slot.inner_text().split(",")[0].strip()
            first_slot.click()
            page.wait_for_selector("h1:has-text('Confirmer votre rendez-vous')")
            facts = page.locator(".booking-facts").inner_text().replace("\u00a0", " ")
            assert chosen.replace("\u00a0", " ") in facts
            page.get_by_label("Votre nom et votre prénom").fill("Jeanne Martin")
            page.get_by_label("Votre numéro de téléphone portable").fill("06 39 98 00 01")
            page.screenshot(path=str(screenshots / "reservation-coordonnees.png"), full_page=True)
            blocking["coordonnees"] = _audit(page, "coordonnees")
            page.get_by_role("button", name="Recevoir le code par SMS").click()

            # The code, as the person reads it on their phone.
            page.wait_for_selector("h1:has-text('Saisir le code reçu par SMS')")
            assert len(sms.outbox) == 1 and sms.outbox[0].to == "+33639980001"
            code = re.search(r"\b(\d{6})\b", sms.outbox[0].text).group(1)
            page.get_by_label("Code reçu par SMS").fill(code)
            page.get_by_role("button", name="Confirmer le rendez-vous").click()

            # 4. The confirmation page.
            page.wait_for_selector("h1:has-text('Votre rendez-vous est confirmé')")
            reference = page.locator(".reference").inner_text().replace("\u00a0", "")
            assert page.locator('a[href^="tel:"]').first.is_visible()
            page.screenshot(path=str(screenshots / "reservation-confirmee.png"), full_page=True)
            blocking["confirmation"] = _audit(page, "confirmation")
            done_url = page.url

            # 320 CSS px (a phone, or 400 % zoom): everything reflows, nothing scrolls sideways.
            small = browser.new_context(viewport={"width": 320, "height": 800})
            small.add_cookies(context.cookies())
            mobile = small.new_page()
            for name, url in (("creneaux", slots_url), ("confirmee", done_url)):
                mobile.goto(url)
                assert _fits(mobile), name
                mobile.screenshot(
                    path=str(screenshots / f"reservation-{name}-320px.png"), full_page=True
                )
            small.close()

            assert not errors, errors
        finally:
            browser.close()

    # The ORM is used outside Playwright's block: inside it, its event loop gives the ORM
    # another connection, which would stay open and block the test database's teardown.
    booking = Booking.objects.get()
    assert booking.person_name == "Jeanne Martin"
    assert reference.replace(" ", "") == booking.reference
    assert booking.start > dt.datetime.now(dt.UTC)
    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items()}, indent=2
    )
