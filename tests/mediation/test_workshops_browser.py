"""The attendance page ("appel") of a workshop in a real browser (the system's Chromium driven
by Playwright), on a phone: at 320 CSS px the mediator marks a registrant present, corrects
the mark to absent, then undoes it; each person's mark is written out in words at every step,
nothing scrolls sideways, and axe-core finds no "serious" or "critical" violation.

The clock is frozen (timezone.now, as the other mediation tests): the workshop is created on
Monday 1 March 2027, the attendance is taken during it. Data is prepared before Playwright
starts and checked after it ends: the ORM is never called inside the sync_playwright()
block."""

import datetime as dt
import json
import os
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.browser.test_booking import _audit, _fits
from tests.browser.test_public_pages import CHROMIUM_ARGS
from tests.conftest import chromium_path
from tests.coworking.test_manage_browser import _too_wide

from .test_workshops import DURING, MOBILES, NOW, create, mediator_of, register

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LONG_NAME = "Marie-Bernadette de La Tour-d'Auvergne-Lauragais"


@pytest.mark.browser
def test_the_attendance_page_on_a_phone(live_server, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from cybercantal.booking.models import Booking
    from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"].astimezone(dt.UTC))
    structure = OrganisationFactory(name="Espace numérique de Murat")
    user = mediator_of(structure)
    place = PlaceFactory(commune=CommuneFactory(name="Murat", latitude=45.11, longitude=2.87))
    session = create(user, structure, place, capacity=6)
    jeanne = register(session).booking
    register(session, name=LONG_NAME, phone=MOBILES[1])
    clock["now"] = DURING  # signed in at the workshop: sessions expire
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    url = f"{live_server.url}/mediation/ateliers/{session.pk}/appel/"
    row = f"#inscription-{jeanne.pk}"

    blocking: dict[str, list] = {}
    too_wide: list[str] = []
    errors: list[str] = []
    marks: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR")
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.set_default_timeout(5_000)

            def look(name: str) -> None:
                marks.append(page.locator(f"{row} .attendance__mark").inner_text())
                blocking[name] = _audit(page, name)
                if not _fits(page):
                    too_wide.append(f"{name}: {_too_wide(page)}")

            page.goto(url)
            look("appel")
            page.get_by_role("button", name="Présent(e) : Jeanne Martin").click()
            expect(page.locator("#messages")).to_contain_text("Jeanne Martin est noté(e) présent")
            look("présente")
            page.get_by_role("button", name="Corriger : absent(e) — Jeanne Martin").click()
            expect(page.locator("#messages")).to_contain_text("Jeanne Martin est noté(e) absent")
            look("corrigée")
            page.get_by_role("button", name="Effacer l'absence : Jeanne Martin").click()
            expect(page.locator("#messages")).to_contain_text("Jeanne Martin n'est plus noté")
            look("effacée")
        finally:
            browser.close()

    assert not errors, errors
    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items() if found}, indent=2
    )
    assert not too_wide, "\n".join(too_wide)
    assert [re.sub(r"\s+", " ", m).strip() for m in marks] == [
        "Appel : Pas encore noté(e)",
        "Appel : ✓ Présent(e)",
        "Appel : ✗ Absent(e)",
        "Appel : Pas encore noté(e)",
    ]
    jeanne.refresh_from_db()
    assert jeanne.status == Booking.Status.CONFIRMED
    assert list(jeanne.transitions.values_list("to_status", flat=True)) == [
        "confirmed",
        "attended",
        "no_show",
        "confirmed",
    ]
