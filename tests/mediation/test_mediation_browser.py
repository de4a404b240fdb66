"""The mediation pages in a real browser (the system's Chromium driven by Playwright), along the
journey of the itinerant tours:

- a resident without e-mail and without an account finds the next stop near their village
  (/mediation/tournees/prochaines-etapes/), books a slot with a name and a mobile number and
  the SMS code, and sees the confirmation;
- the mediator, the day of the stop, opens the route of the day and the tour's page, opens the
  quick entry of an activity report from the appointment (?rdv=), ticks a theme and saves it
  in a few interactions, then finds it in the list;
- the Département's staff see the village covered at the default radius.

axe-core audits every mediation page each role can open (WCAG 2.1 A and AA rules, no
"serious" or "critical" violation) and none scrolls sideways at 320 CSS px.

The clock is frozen (timezone.now, as the other mediation tests): Monday 1 March 2027, then the
evening of the stop. Data is prepared before Playwright starts and checked after it ends: the
ORM is never called inside the sync_playwright() block."""

import datetime as dt
import json
import os
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from tests.accounts.factories import force_login_verified
from tests.browser.test_booking import _audit, _fits
from tests.browser.test_public_pages import CHROMIUM_ARGS
from tests.conftest import chromium_path
from tests.coworking.test_manage_browser import _too_wide

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)  # Monday 1 March 2027, 08:00
TUESDAY = dt.date(2027, 3, 2)
EVENING = dt.datetime(2027, 3, 2, 18, 0, tzinfo=PARIS)  # after the stop
VILLAGE = "Dienne"
MOBILE = "06 39 98 00 07"


def _session(user, *, verified: bool = False) -> str:
    client = Client()
    if verified:
        force_login_verified(client, user)
    else:
        client.force_login(user)
    return client.cookies["sessionid"].value


def _world() -> dict:
    from cybercantal.booking.models import Resource
    from cybercantal.booking.services import PersonDetails
    from cybercantal.mediation.models import Beneficiary
    from cybercantal.mediation.services.mandates import mandate_create
    from cybercantal.mediation.services.routes import home_visit_book
    from cybercantal.mediation.services.tours import tour_create, tour_stop_add
    from cybercantal.mediation.services.workshops import workshop_create
    from tests.accounts.factories import MembershipFactory, UserFactory
    from tests.booking.factories import ResourceFactory, ServiceFactory, department_agent
    from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

    structure = OrganisationFactory(name="France Services de Murat")
    service = ServiceFactory(code="aide-demarches", label="Aide aux démarches en ligne")
    murat = CommuneFactory(name="Murat", latitude=45.1106, longitude=2.8686, population=1900)
    village = CommuneFactory(name=VILLAGE, latitude=45.1667, longitude=2.8000, population=270)
    allanche = CommuneFactory(name="Allanche", latitude=45.2292, longitude=2.9339)
    base = PlaceFactory(name="France Services de Murat", commune=murat, organisation=structure)
    town_hall = PlaceFactory(name=f"Mairie de {VILLAGE}", commune=village, address="Le bourg")
    user = UserFactory(first_name="Claire", last_name="Médiatrice")
    MembershipFactory(user=user, organisation=structure, role="mediator")
    mediator = ResourceFactory(
        name="Claire, médiatrice",
        kind=Resource.Kind.PERSON,
        place=base,
        organisation=structure,
        person=user,
        hours=[(1, "14:00", "17:00")],  # Tuesday afternoons: home visits
        services=[service],
        observes_public_holidays=False,
    )
    tour = tour_create(
        actor=user, organisation=structure, mediator=mediator, name="Tournée de la Planèze"
    )
    stop = tour_stop_add(
        actor=user,
        tour=tour,
        place=town_hall,
        day=TUESDAY,
        start_time=dt.time(9),
        end_time=dt.time(12),
        now=NOW,
    )
    visit = home_visit_book(
        actor=user,
        mediator=mediator,
        day=TUESDAY,
        window="apres_midi",
        address="2 rue du Four",
        commune=allanche,
        person=PersonDetails("Marcel Sans-Courriel", "06 39 98 00 02"),
        now=NOW,
    )
    workshop = workshop_create(
        actor=user,
        organisation=structure,
        title="Premiers pas sur la tablette",
        theme="equipement",
        level="debutant",
        place=base,
        start=dt.datetime(2027, 3, 3, 14, 0, tzinfo=PARIS),
        end=dt.datetime(2027, 3, 3, 16, 0, tzinfo=PARIS),
        capacity=6,
        now=NOW,
    )
    person = Beneficiary.objects.create(
        organisation=structure, first_name="Marcelle", consent_at=timezone.now()
    )
    user.is_verified = lambda: True
    mandate = mandate_create(
        actor=user,
        organisation=structure,
        beneficiary=person,
        areas=["argent", "logement"],
        duration="6m",
        consent_method="distance",
        remote_consent_confirmed=True,
        consent_note="Par téléphone",
    )
    del user.is_verified
    return {
        "tour": tour.pk,
        "stop": stop.pk,
        "visit_booking": visit.booking_id,
        "workshop": workshop.pk,
        "mandate": mandate.pk,
        "users": {"mediator": user, "staff": department_agent()},
    }


@pytest.mark.browser
def test_the_tour_journey_and_every_mediation_page(live_server, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from cybercantal.booking.models import Booking
    from cybercantal.core.models import Notification
    from cybercantal.core.notifications import sms
    from cybercantal.mediation.models import Activity

    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"].astimezone(dt.UTC))
    w = _world()
    # Sessions last 12 hours: opened the evening of the stop, when the mediator and the staff
    # use them.
    clock["now"] = EVENING
    users = w.pop("users")
    w["sessions"] = {
        "mediator": _session(users["mediator"]),
        "mediator_2fa": _session(users["mediator"], verified=True),
        "staff": _session(users["staff"]),
    }
    clock["now"] = NOW
    sms.outbox.clear()
    day = TUESDAY.isoformat()
    tour = f"/mediation/tournees/{w['tour']}"
    public_pages = [
        f"/mediation/tournees/prochaines-etapes/?commune={VILLAGE}",
        f"/mediation/ateliers/pres-de-chez-vous/?commune={VILLAGE}",
        f"/mediation/ateliers/{w['workshop']}/inscription/",
        "/mediation/mandats/verifier/",
    ]
    mediator_pages = [
        "/mediation/comptes-rendus/",
        "/mediation/comptes-rendus/nouveau/",
        "/mediation/tournees/",
        f"{tour}/",
        f"{tour}/etapes/{w['stop']}/deplacer/",
        f"{tour}/etapes/{w['stop']}/annuler/",
        f"/mediation/tournee-du-jour/?jour={day}",
        "/mediation/ateliers/",
        f"/mediation/ateliers/{w['workshop']}/",
        f"/mediation/ateliers/{w['workshop']}/appel/",
        "/mediation/tableau-de-bord/",
    ]
    mandate_pages = [
        "/mediation/mandats/",
        "/mediation/mandats/nouveau/",
        f"/mediation/mandats/{w['mandate']}/",
    ]
    staff_pages = [
        "/mediation/couverture/",
        "/mediation/lieux/import/",
        "/mediation/tableau-de-bord/",
    ]
    blocking: dict[str, list] = {}
    too_wide: list[str] = []
    errors: list[str] = []
    seen: dict[str, object] = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:

            def open_page(session: str | None = None):
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, locale="fr-FR"
                )
                if session:
                    context.add_cookies(
                        [{"name": "sessionid", "value": session, "url": live_server.url}]
                    )
                page = context.new_page()
                page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.set_default_timeout(5_000)
                return page

            def check(page, paths):
                for path in paths:
                    page.set_viewport_size({"width": 1280, "height": 900})
                    response = page.goto(live_server.url + path)
                    assert response.status == 200, path
                    assert urlsplit(page.url).path == urlsplit(path).path, (path, page.url)
                    blocking[path] = _audit(page, path)
                    page.set_viewport_size({"width": 320, "height": 640})
                    if not _fits(page):
                        too_wide.append(f"{path}: {_too_wide(page)}")
                page.set_viewport_size({"width": 1280, "height": 900})

            # --- The resident: the next stop near the village, booked by SMS code -----------
            resident = open_page()
            check(resident, public_pages)
            resident.goto(f"{live_server.url}/mediation/tournees/prochaines-etapes/")
            resident.get_by_label(re.compile("commune", re.I)).first.fill(VILLAGE)
            resident.get_by_role("button", name="Voir les prochaines étapes").click()
            resident.wait_for_selector("#titre-resultats")
            expect(resident.get_by_role("heading", level=3).first).to_contain_text(
                f"Mairie de {VILLAGE}"
            )
            results = resident.locator("section", has=resident.locator("#titre-resultats"))
            results.get_by_role("link", name=re.compile("^Prendre rendez-vous")).first.click()
            resident.wait_for_selector("h1:has-text('Confirmer votre rendez-vous')")
            resident.get_by_label("Votre nom et votre prénom").fill("Jeanne Sans-Courriel")
            resident.get_by_label("Votre numéro de téléphone portable").fill(MOBILE)
            blocking["coordonnées"] = _audit(resident, "coordonnées")
            resident.get_by_role("button", name="Recevoir le code par SMS").click()
            resident.wait_for_selector("h1:has-text('Saisir le code reçu par SMS')")
            # The code, as the person reads it on their phone (an in-memory outbox).
            code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)
            resident.get_by_label("Code reçu par SMS").fill(code)
            resident.get_by_role("button", name="Confirmer le rendez-vous").click()
            resident.wait_for_selector("h1:has-text('Votre rendez-vous est confirmé')")
            reference = resident.locator(".reference").inner_text()
            seen["reference"] = re.sub(r"\s", "", reference)
            blocking["confirmation"] = _audit(resident, "confirmation")
            resident.set_viewport_size({"width": 320, "height": 640})
            if not _fits(resident):
                too_wide.append(f"confirmation: {_too_wide(resident)}")

            # --- The mediator, the evening of the stop ---------------------------------------
            clock["now"] = EVENING
            mediator = open_page(w["sessions"]["mediator"])
            check(mediator, mediator_pages)
            # Mandates need the second factor: without it, sent to set it up.
            mediator.goto(f"{live_server.url}/mediation/mandats/")
            seen["mandates_unverified"] = mediator.url
            check(open_page(w["sessions"]["mediator_2fa"]), mandate_pages)

            # The route of the day: the home visit, with its report link.
            mediator.goto(f"{live_server.url}/mediation/tournee-du-jour/?jour={day}")
            seen["route_link"] = mediator.get_by_role(
                "link", name=re.compile("^Compte rendu")
            ).get_attribute("href")
            seen["route_nav"] = mediator.locator(
                'nav.module-nav[aria-label="Médiation numérique"] a[aria-current="page"]'
            ).inner_text()
            # The tour's page: the resident's appointment at the stop, then the quick entry.
            mediator.goto(f"{live_server.url}{tour}/")
            clicks = 0
            mediator.get_by_role(
                "link", name=re.compile("^Compte rendu.*Jeanne Sans-Courriel")
            ).click()
            clicks += 1
            expect(mediator.get_by_role("heading", level=1)).to_have_text("Nouveau compte rendu")
            seen["rdv_url"] = mediator.url
            blocking["compte rendu prérempli"] = _audit(mediator, "compte rendu prérempli")
            mediator.get_by_label("Prendre en main du matériel informatique").check()
            clicks += 1
            mediator.get_by_role("button", name="Enregistrer le compte rendu").click()
            clicks += 1
            mediator.wait_for_selector("#messages .message--success")
            seen["clicks"] = clicks
            seen["message"] = mediator.locator("#messages").inner_text()
            seen["list"] = mediator.locator("table").inner_text()
            blocking["comptes rendus, rempli"] = _audit(mediator, "comptes rendus, rempli")
            mediator.set_viewport_size({"width": 320, "height": 640})
            if not _fits(mediator):
                too_wide.append(f"comptes rendus, rempli: {_too_wide(mediator)}")
            mediator.set_viewport_size({"width": 1280, "height": 900})
            # Reported: the tour's page no longer offers the link for that appointment.
            mediator.goto(f"{live_server.url}{tour}/")
            seen["links_after"] = mediator.get_by_role(
                "link", name=re.compile("^Compte rendu.*Jeanne")
            ).count()

            # --- The Département's staff: the village is covered at the default radius -------
            staff = open_page(w["sessions"]["staff"])
            check(staff, staff_pages)
            staff.goto(f"{live_server.url}/mediation/couverture/")
            seen["coverage_heading"] = staff.locator("#titre-bilan").inner_text()
            seen["village_option"] = staff.locator(
                "#id_ajout option", has_text=VILLAGE
            ).inner_text()
            seen["uncovered"] = staff.locator(
                "table:has(#legende-couverture) tbody th[scope=row]"
            ).all_inner_texts()
        finally:
            browser.close()

    assert not errors, errors
    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items() if found}, indent=2
    )
    assert not too_wide, "\n".join(too_wide)

    # The resident: booked at the stop, told by SMS (the code, then the confirmation).
    booking = Booking.objects.get(person_phone="+33639980007")
    assert booking.person_name == "Jeanne Sans-Courriel" and not booking.person_email
    assert booking.reference == seen["reference"]
    assert booking.place.name == f"Mairie de {VILLAGE}"
    assert booking.start.astimezone(PARIS).date() == TUESDAY
    to_resident = [m for m in sms.outbox if m.to == "+33639980007"]
    assert len(to_resident) >= 2, [m.text for m in to_resident]
    assert any(booking.reference in m.text.replace(" ", "") for m in to_resident)
    assert Notification.objects.filter(channel="sms", recipient_phone="+33639980007").exists()

    # The mediator: the report from the appointment, in three interactions.
    assert "/mediation/mandats/" not in seen["mandates_unverified"]
    assert seen["route_link"] == f"/mediation/comptes-rendus/nouveau/?rdv={w['visit_booking']}"
    assert seen["route_nav"] == "Tournée du jour"
    assert seen["rdv_url"].endswith(f"/mediation/comptes-rendus/nouveau/?rdv={booking.pk}")
    assert seen["clicks"] <= 6
    assert "Compte rendu enregistré" in seen["message"]
    assert "02/03/2027" in seen["list"] and "matériel informatique" in seen["list"]
    assert seen["links_after"] == 0
    activity = Activity.objects.get(booking=booking)
    assert activity.day == TUESDAY and activity.place.name == f"Mairie de {VILLAGE}"

    # The staff: the village is covered (not offered as "non couverte", not in the list).
    assert "15 km" in seen["coverage_heading"]
    assert seen["village_option"].strip() == VILLAGE
    assert "Allanche" in seen["uncovered"] and VILLAGE not in seen["uncovered"]
