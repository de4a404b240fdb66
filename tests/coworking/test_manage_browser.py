"""The managers' pages of a tiers-lieu, the network's offers page, the meeting-room page and
"Mon profil" in a real browser (the system's Chromium driven by Playwright).

axe-core audits every page (WCAG 2.1 A and AA rules, no "serious" or "critical" violation
allowed) and none scrolls sideways on a 320 px wide screen (what 400 % zoom gives on a
1280 px screen, so 200 % is covered too). Then the main flows, as people do them: a member
books a meeting room by the hour; the manager sets the opening hours (and sees them on the
public page), adds a volunteer's shift, makes a mistake on a closure (the error summary takes
the focus, each field points to its error), closes the place, creates an offer at 15,50 €,
adds a space and rents an office.

Data is prepared before Playwright starts and checked after it ends: the ORM is never called
inside the sync_playwright() block."""

import datetime as dt
import json
import os
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.booking.factories import department_agent
from tests.browser.test_booking import _audit, _fits
from tests.browser.test_public_pages import CHROMIUM_ARGS
from tests.conftest import chromium_path

from ._network_helpers import member_pass, open_place, tomorrow
from .factories import manager_of
from .test_offices import monthly, office_of
from .test_rooms import meeting_room, room_offer

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

NBSP = "\u00a0"


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _world() -> dict:
    place, pool = open_place(place__name="La Grange numérique")
    manager = manager_of(place, UserFactory(first_name="Anne", last_name="Gérante"))
    member = UserFactory(first_name="Camille", last_name="Durand")
    offer = member_pass(member, place, label="Carnet de 10 journées").offer
    room = meeting_room(place)
    room_offer(place)
    office_of(place)
    monthly(place)
    return {
        "place": place.pk,
        "pool": pool.pk,
        "room": room.pk,
        "offer": offer.pk,
        "member_id": member.pk,
        "member_email": member.email,
        "sessions": {
            "manager": _session(manager),
            "member": _session(member),
            "agent": _session(department_agent()),
        },
    }


def _context(browser, live_server, session: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return context


def _label(text: str):
    """A label said exactly so, with or without Django's " :" after it."""
    return re.compile(rf"^{re.escape(text)}\s*:?$")


def _too_wide(page) -> list[str]:
    """The outermost elements that stick out on the right, to say what to fix."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        for (const el of document.querySelectorAll("body *")) {
            if (el.getBoundingClientRect().right <= width + 1) continue;
            if (out.some(o => o.contains(el))) continue;
            out.push(el);
        }
        const classes = el => String(el.className).trim().split(/\\s+/).join(".");
        return out.slice(0, 5).map(el => el.tagName.toLowerCase()
            + (el.id ? "#" + el.id : "") + (el.className ? "." + classes(el) : "")
            + " " + Math.round(el.getBoundingClientRect().width) + "px");
    }"""
    )


def _success(page, submit) -> str:
    """Submits (the `submit` callable), waits for the next page and returns its success
    message; if the form came back with errors, the test fails on them."""
    with page.expect_navigation():
        submit()
    summary = page.locator("#erreurs-formulaire")
    assert not summary.count(), summary.inner_text()
    return page.locator("#messages .message--success").inner_text().replace(NBSP, " ")


@pytest.mark.browser
def test_managers_pages_are_accessible_fit_a_phone_and_work(live_server):
    from playwright.sync_api import expect, sync_playwright

    from cybercantal.booking.models import Booking, Closure
    from cybercantal.coworking.models import Offer, VolunteerShift
    from cybercantal.coworking.models.network import OfficeRental
    from cybercantal.territory.models import OpeningPeriod

    w = _world()
    base = f"/tiers-lieux/gestion/{w['place']}"
    manager_pages = [
        f"{base}/membres/",
        f"{base}/membres/{w['member_id']}/",
        f"{base}/offres/",
        f"{base}/offres/nouvelle/?type=day",
        f"{base}/offres/{w['offer']}/modifier/",
        f"{base}/espaces/",
        f"{base}/espaces/nouveau/?type=room",
        f"{base}/espaces/{w['pool']}/modifier/",
        f"{base}/horaires/",
        f"{base}/permanences/",
        f"{base}/fermetures/",
        f"{base}/salles/",
        f"{base}/bureaux/",
    ]
    member_pages = [
        f"/tiers-lieux/{w['place']}/salles/{w['room']}/",
        "/tiers-lieux/mon-profil/",
    ]
    agent_pages = [
        "/tiers-lieux/gestion/reseau/offres/",
        "/tiers-lieux/gestion/reseau/offres/nouvelle/",
    ]
    closed_on = timezone.localdate() + dt.timedelta(days=20)
    blocking: dict[str, list] = {}
    too_wide: list[str] = []
    errors: list[str] = []
    seen: dict[str, object] = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:

            def open_page(session: str, width: int = 1280):
                page = _context(browser, live_server, session, width).new_page()
                page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.set_default_timeout(5_000)
                return page

            def check(page, paths):
                for path in paths:
                    page.set_viewport_size({"width": 1280, "height": 900})
                    response = page.goto(live_server.url + path)
                    assert response.status == 200, path
                    blocking[path] = _audit(page, path)
                    page.set_viewport_size({"width": 320, "height": 640})
                    if not _fits(page):
                        too_wide.append(f"{path}: {_too_wide(page)}")

            # --- Every page: axe, then 320 px ------------------------------------------------
            member = open_page(w["sessions"]["member"])
            check(member, member_pages)
            check(open_page(w["sessions"]["agent"]), agent_pages)
            page = open_page(w["sessions"]["manager"])
            check(page, manager_pages)
            page.set_viewport_size({"width": 1280, "height": 900})

            # --- A member books a meeting room by the hour ----------------------------------
            member.set_viewport_size({"width": 1280, "height": 900})
            # A day that cannot be chosen (an old link): said at the field, which points to it.
            member.goto(f"{live_server.url}{member_pages[0]}?jour=2000-01-01&duree=60")
            expect(member.locator("#erreurs-formulaire")).to_be_focused()
            day_field = member.get_by_label("Jour (les 14 prochains jours)")
            seen["day_invalid"] = day_field.get_attribute("aria-invalid")
            seen["day_described"] = day_field.get_attribute("aria-describedby")
            blocking["salle, erreur"] = _audit(member, "salle, erreur")
            day_field.select_option(tomorrow().isoformat())
            member.get_by_label("Durée").select_option("120")
            with member.expect_navigation():
                member.get_by_role("button", name="Voir les horaires libres").click()
            ten = member.locator('input[name="debut"][value="10:00"]')
            ten.check()
            seen["room_choice"] = ten.evaluate("input => input.labels[0].textContent")
            blocking["salle, horaire choisi"] = _audit(member, "salle")
            with member.expect_navigation():
                member.get_by_role("button", name="Réserver la salle").click()
            expect(member.get_by_role("heading", level=1)).to_have_text("Votre salle est réservée")
            seen["room_reference"] = member.locator(".reference").inner_text().strip()
            blocking["salle réservée"] = _audit(member, "salle réservée")

            # --- Opening hours, typed as people do, then seen on the public page -------------
            page.goto(f"{live_server.url}{base}/horaires/")
            page.get_by_label("Lundi, matin : Ouverture").fill("09:00")
            page.get_by_label("Lundi, matin : Fermeture").fill("12:30")
            page.get_by_label("Lundi, après-midi : Ouverture").fill("14:00")
            page.get_by_label("Lundi, après-midi : Fermeture").fill("18:00")
            for day in ("Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"):
                page.get_by_label(f"{day}, matin : Ouverture").fill("09:00")
                page.get_by_label(f"{day}, matin : Fermeture").fill("18:00")
            # A browser without a time picker sends what was typed: "9h", "17 h 30".
            sunday = page.get_by_label("Dimanche, matin : Ouverture")
            sunday.evaluate("input => { input.type = 'text'; }")
            sunday.fill("10h")
            closes = page.get_by_label("Dimanche, matin : Fermeture")
            closes.evaluate("input => { input.type = 'text'; }")
            closes.fill("17 h 30")
            seen["hours"] = _success(
                page, page.get_by_role("button", name="Enregistrer les horaires").click
            )
            page.goto(f"{live_server.url}/tiers-lieux/{w['place']}/")
            seen["public_hours"] = page.locator("main").inner_text().replace(NBSP, " ")

            # --- A volunteer's shift ---------------------------------------------------------
            page.goto(f"{live_server.url}{base}/permanences/")
            page.get_by_label("Nom du ou de la bénévole").fill("Marie D.")
            page.get_by_label(_label("Jour")).select_option(label="mercredi")
            page.get_by_label(_label("De")).fill("14:00")
            page.get_by_label(_label("À")).fill("17:00")
            seen["shift"] = _success(
                page, page.get_by_role("button", name="Ajouter la permanence").click
            )
            seen["shift_listed"] = page.get_by_text("Marie D.").first.is_visible()
            blocking["permanences, une permanence"] = _audit(page, "permanences")

            # --- A closure: first without its reason, then right ----------------------------
            page.goto(f"{live_server.url}{base}/fermetures/")
            page.get_by_label("Fermé à partir du").fill(closed_on.isoformat())
            page.get_by_role("button", name="Fermer et annuler les réservations").click()
            summary = page.locator("#erreurs-formulaire")
            expect(summary).to_be_focused()
            seen["summary_role"] = summary.get_attribute("role")
            seen["title"] = page.title()
            reason = page.get_by_label("Motif")
            seen["reason_invalid"] = reason.get_attribute("aria-invalid")
            described = (reason.get_attribute("aria-describedby") or "").split()
            seen["reason_described"] = [
                page.locator(f"#{ident}").inner_text() for ident in described
            ]
            blocking["fermetures, erreur"] = _audit(page, "fermetures, erreur")
            # From the summary, Tab then Enter on its link puts the cursor in the field.
            page.keyboard.press("Tab")
            expect(summary.get_by_role("link", name=re.compile("^Motif"))).to_be_focused()
            page.keyboard.press("Enter")
            expect(reason).to_be_focused()
            page.keyboard.type("Neige")
            seen["closure"] = _success(page, lambda: page.keyboard.press("Enter"))
            seen["closure_listed"] = page.get_by_role("cell", name="Neige").is_visible()

            # --- An offer at 15,50 € ---------------------------------------------------------
            page.goto(f"{live_server.url}{base}/offres/")
            page.locator('a[href$="?type=day"]').click()
            page.get_by_label("Intitulé").fill("Journée découverte")
            page.get_by_label("Prix TTC (en euros)").fill("15,50")
            seen["offer"] = _success(
                page, page.get_by_role("button", name="Créer et mettre en vente").click
            )
            row = page.get_by_role("row", name=re.compile("Journée découverte"))
            seen["offer_row"] = row.inner_text().replace(NBSP, " ")

            # --- A space ---------------------------------------------------------------------
            page.goto(f"{live_server.url}{base}/espaces/")
            page.locator('a[href$="?type=room"]').click()
            page.get_by_label("Nom de l'espace").fill("Salle du Puy Mary")
            seen["space"] = _success(
                page, page.get_by_role("button", name="Ajouter l'espace").click
            )
            seen["space_listed"] = page.get_by_role("rowheader", name="Salle du Puy Mary").count()

            # --- An office rented by the month ----------------------------------------------
            page.goto(f"{live_server.url}{base}/bureaux/")
            page.get_by_label("Adresse e-mail ou numéro de mobile de la personne").fill(
                w["member_email"]
            )
            page.get_by_label(_label("Bureau")).select_option(label="Bureau du Puy")
            page.get_by_label("Abonnement mensuel").select_option(index=1)
            seen["office"] = _success(
                page, page.get_by_role("button", name="Louer le bureau et facturer").click
            )
            blocking["bureaux, un bureau loué"] = _audit(page, "bureaux, loué")
            page.set_viewport_size({"width": 320, "height": 640})
            for path in (f"{base}/bureaux/", f"{base}/permanences/", f"{base}/offres/"):
                page.goto(live_server.url + path)
                if not _fits(page):
                    too_wide.append(f"{path} (rempli): {_too_wide(page)}")
        finally:
            browser.close()

    assert not errors, errors
    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items() if found}, indent=2
    )
    assert not too_wide, too_wide

    assert " ".join(seen["room_choice"].replace(NBSP, " ").split()) == "de 10 h à 12 h"
    assert seen["day_invalid"] == "true"
    assert seen["day_described"] == "id_jour_aide id_jour_error"
    booking = Booking.objects.get(allocations__resource_id=w["room"])
    assert booking.reference == seen["room_reference"]
    assert booking.user_id == w["member_id"]

    assert "Horaires enregistrés" in seen["hours"]
    assert "lundi : de 9 h à 12 h 30, de 14 h à 18 h" in seen["public_hours"].lower()
    assert "dimanche : de 10 h à 17 h 30" in seen["public_hours"].lower()
    monday = OpeningPeriod.objects.filter(place__tiers_lieu__pk=w["place"], weekday=0)
    assert [(p.opens, p.closes) for p in monday.order_by("opens")] == [
        (dt.time(9), dt.time(12, 30)),
        (dt.time(14), dt.time(18)),
    ]

    assert seen["shift"] and seen["shift_listed"]
    assert VolunteerShift.objects.filter(volunteer_name="Marie D.", weekday=2).count() == 1

    assert seen["summary_role"] == "alert"
    assert seen["title"].startswith("Erreur")
    assert seen["reason_invalid"] == "true"
    assert any("Indiquez le motif" in text for text in seen["reason_described"])
    assert seen["closure"] and seen["closure_listed"]
    closure = Closure.objects.get(reason="Neige")
    assert timezone.localtime(closure.start).date() == closed_on

    assert "15,50 €" in seen["offer_row"], seen["offer_row"]
    assert Offer.objects.get(label="Journée découverte").price_cents == 1550

    assert seen["space"] and seen["space_listed"] == 1
    assert "loué à Camille Durand" in seen["office"]
    assert OfficeRental.objects.count() == 1
