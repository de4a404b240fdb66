"""The issue's "Done when", in a real browser (the system's Chromium driven by Playwright):

- a care-home nurse (assisting professional of an EHPAD equipped with a dermatoscope, coordinator
  of nothing) books a dermatology teleconsultation on /telesante/reserver/ for a resident she
  registers on the page, on the first slot offered, and lands on the consultation's page;
- she opens its checklist, which sends her to the site's connectivity test: the JavaScript
  measures against the live server and the page says in words what the line allows; back on
  the checklist she ticks the consent and the dermatoscope and the checklist is complete;
- closing the session before its start is refused; once it has started (the clock moves on),
  she marks it done by video and codes her act (TLL), while the practitioner, in a second
  browser, codes the teleconsultation (TCG);
- the site's coordinator sees the dashboard of the site updated: one more teleconsultation, the
  cost per act and the kilometres avoided recomputed; the Département's staff see the same
  figures on the network's dashboard, and the network, tariff and transport pages.

The expected figures are computed here from the world (the site's distance and travel time,
the cost ledger written below, the transport tariffs of migration 0003), never read from the
selectors. axe-core audits every telehealth page visited (WCAG 2.1 A and AA rules, no
"serious" or "critical" violation) and none scrolls sideways at 320 CSS px.

The clock is frozen (timezone.now, as the other browser tests): Monday 1 March 2027 at 08:00,
then 09:45 once the 09:00 session has started. Data is prepared before Playwright starts and
checked after it ends: the ORM is never called inside the sync_playwright() block."""

import datetime as dt
import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.browser.test_public_pages import CHROMIUM_ARGS
from tests.conftest import chromium_path
from tests.telehealth.browser_support import PageAudit, plain, session_cookie

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=PARIS)  # Monday 1 March 2027, 08:00
STARTED = dt.datetime(2027, 3, 1, 9, 45, tzinfo=PARIS)  # the 09:00 session has started
FIRST_SLOT = dt.datetime(2027, 3, 1, 9, 0, tzinfo=PARIS)  # the first slot all three share
# An earlier teleconsultation of the site, done in February (by VSL), so that the dashboard
# has figures before the journey and shows them change.
FEBRUARY = dt.datetime(2027, 2, 10, 10, 0, tzinfo=PARIS)
VIDEO_SERVER = "https://visio.example.org"

DISTANCE_KM = Decimal("62.0")
TRAVEL_MINUTES = 75
# The site's cost ledger (CostEntry through services.costs): each figure below is used both to
# write the entry and to compute what the dashboard must show.
EQUIPMENT, EQUIPMENT_MONTHS = Decimal("3600.00"), 36  # cart, from March 2026
GRANT, GRANT_MONTHS = Decimal("1800.00"), 36  # FEDER grant for it, same months
CONNECTION_MONTHLY = Decimal("45.00")  # fibre, every month since June 2025
LICENCE_YEARLY = Decimal("1200.00")  # video software, yearly since January 2026
MAINTENANCE = Decimal("80.00")  # one-off, February 2027
LATER = Decimal("500.00")  # one-off, April 2027: after "today", not counted yet
OTHER_SITE_COST = Decimal("999.00")  # another site's: never in this site's figures
INCLUDED_KM = Decimal(3)  # the forfait départemental includes the first 3 km of each trip

NURSE_NAME = ("Martine", "Roques")
PRACTITIONER_NAME = ("Hélène", "Fabre")
RESIDENT = "Mme Odette Vidal"
CHECKLIST_DONE = "Liste de vérification complète."


def _reference_tariffs() -> None:
    """The tariffs the data migrations write: a transactional test that ran before this one
    (live_server flushes the tables) may have removed them, so they are written again the
    migrations' own way (get_or_create, nothing changes when they are there)."""
    from importlib import import_module

    from django.apps import apps

    import_module("cybercantal.telehealth.migrations.0002_reference_tariffs").load(apps, None)
    import_module("cybercantal.telehealth.migrations.0003_reference_transport_tariffs").add_tariffs(
        apps, None
    )


def _world(clock: dict) -> dict:
    from cybercantal.telehealth.models import CostEntry, Site, TransportMode
    from cybercantal.telehealth.services.acts import act_code
    from cybercantal.telehealth.services.connectivity import connectivity_record
    from cybercantal.telehealth.services.costs import cost_record
    from cybercantal.telehealth.services.sessions import checklist_record, consultation_close
    from cybercantal.territory.models import Organisation
    from tests.accounts.factories import UserFactory
    from tests.telehealth.factories import (
        make_assistant,
        make_consultation,
        make_patient,
        make_practitioner,
        make_site,
        make_specialty,
        staff_user,
    )
    from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

    _reference_tariffs()
    riom = CommuneFactory(name="Riom-ès-Montagnes", latitude=45.2825, longitude=2.6597)
    care_home = PlaceFactory(
        name="EHPAD Les Gentianes",
        commune=riom,
        organisation=OrganisationFactory(
            name="EHPAD Les Gentianes", kind=Organisation.Kind.CARE_HOME
        ),
    )
    coordinator = UserFactory(first_name="Paul", last_name="Delort")
    site = make_site(
        place=care_home,
        devices=("chariot", "camera", "dermatoscope", "stethoscope"),
        coordinators=[coordinator],
        distance_km=DISTANCE_KM,
        travel_minutes=TRAVEL_MINUTES,
        connection=Site.Connection.FIBRE,
        opened_on=dt.date(2026, 3, 1),
    )
    # Another site, with its own coordinator and costs: none of it shows on the EHPAD's page.
    other_site = make_site(
        kind=Site.Kind.HEALTH_CENTRE, coordinators=[UserFactory()], distance_km=Decimal("30.0")
    )
    dermatology = make_specialty()
    # A specialty the EHPAD cannot host (no ECG): the booking page says so.
    cardiology = make_specialty(
        code="cardiologie", label="Cardiologie", devices=("ecg",), assistant="infirmier"
    )
    practitioner = make_practitioner(
        user=UserFactory(first_name=PRACTITIONER_NAME[0], last_name=PRACTITIONER_NAME[1]),
        specialties=[dermatology, cardiology],
    )
    nurse = make_assistant(
        sites=[site], user=UserFactory(first_name=NURSE_NAME[0], last_name=NURSE_NAME[1])
    )
    staff = staff_user()

    for values in (
        {
            "category": CostEntry.Category.EQUIPMENT,
            "label": "Chariot de téléconsultation",
            "amount": EQUIPMENT,
            "starts_on": dt.date(2026, 3, 1),
            "depreciation_months": EQUIPMENT_MONTHS,
        },
        {
            "category": CostEntry.Category.GRANT,
            "label": "Aide à l'équipement",
            "funder": "FEDER",
            "amount": GRANT,
            "starts_on": dt.date(2026, 3, 1),
            "depreciation_months": GRANT_MONTHS,
        },
        {
            "category": CostEntry.Category.CONNECTIVITY,
            "label": "Abonnement fibre",
            "amount": CONNECTION_MONTHLY,
            "recurrence": CostEntry.Recurrence.MONTHLY,
            "starts_on": dt.date(2025, 6, 1),
        },
        {
            "category": CostEntry.Category.LICENCE,
            "label": "Logiciel de visioconférence",
            "amount": LICENCE_YEARLY,
            "recurrence": CostEntry.Recurrence.YEARLY,
            "starts_on": dt.date(2026, 1, 1),
        },
        {
            "category": CostEntry.Category.MAINTENANCE,
            "label": "Révision du chariot",
            "amount": MAINTENANCE,
            "starts_on": dt.date(2027, 2, 15),
        },
        {
            "category": CostEntry.Category.EQUIPMENT,
            "label": "Écran de rechange",
            "amount": LATER,
            "starts_on": dt.date(2027, 4, 1),
        },
    ):
        cost_record(actor=staff, site=site, **values)
    cost_record(
        actor=staff,
        site=other_site,
        category=CostEntry.Category.MAINTENANCE,
        label="Révision",
        amount=OTHER_SITE_COST,
        starts_on=dt.date(2027, 2, 1),
    )

    # February: a resident seen by video, the acts coded, the session closed through the
    # services at the times they happened.
    resident = make_patient(site, actor=nurse.user, name="M. Pierre Castanier", birth_year=1934)
    clock["now"] = FEBRUARY - dt.timedelta(days=2)
    february = make_consultation(
        site=site,
        practitioner=practitioner,
        assistant=nurse,
        specialty=dermatology,
        patient=resident,
        start=FEBRUARY,
        actor=nurse.user,
        transport_avoided=TransportMode.LIGHT_VEHICLE,
    )
    clock["now"] = FEBRUARY - dt.timedelta(minutes=30)
    connectivity_record(
        actor=nurse.user, site=site, download_mbps="40", upload_mbps="8", latency_ms=30
    )
    february = checklist_record(
        actor=nurse.user, consultation=february, consent=True, devices_ready=["dermatoscope"]
    )
    clock["now"] = FEBRUARY + dt.timedelta(minutes=40)
    february = consultation_close(
        actor=nurse.user, consultation=february, status="realisee", channel="video"
    )
    act_code(actor=practitioner.user, consultation=february, code="TCG")
    act_code(actor=nurse.user, consultation=february, code="TLS")
    clock["now"] = NOW
    return {
        "site": site.pk,
        "february": february.pk,
        "users": {
            "nurse": nurse.user,
            "practitioner": practitioner.user,
            "coordinator": coordinator,
            "staff": staff,
        },
    }


def _expected_figures() -> dict:
    """What the site's dashboard must show, from the world: months January to March 2027 (the
    current year, to date), the ledger above, the site's distance and the transport tariffs
    of migration 0003 in force on each consultation's day."""
    from cybercantal.telehealth.models import TransportTariff

    def tariff(mode: str, day: dt.date) -> TransportTariff:
        return (
            TransportTariff.objects.filter(mode=mode, valid_from__lte=day)
            .exclude(valid_until__lt=day)
            .latest("valid_from")
        )

    def round_trip(mode: str, day: dt.date) -> Decimal:
        found = tariff(mode, day)
        return 2 * (found.flat_fee + found.per_km * (DISTANCE_KM - INCLUDED_KM))

    months = 3
    costs = (
        months * EQUIPMENT / EQUIPMENT_MONTHS
        + months * CONNECTION_MONTHLY
        + months * LICENCE_YEARLY / 12
        + MAINTENANCE
    )
    grants = months * GRANT / GRANT_MONTHS
    net = costs - grants
    march_costs = EQUIPMENT / EQUIPMENT_MONTHS + CONNECTION_MONTHLY + LICENCE_YEARLY / 12
    march_grants = GRANT / GRANT_MONTHS
    # February's resident went by VSL; a care-home resident booked on the page, by ambulance
    # (the page's default for a resident).
    february_trip = round_trip("vsl", FEBRUARY.date())
    march_trip = round_trip("ambulance", NOW.date())
    km_per_consultation = 2 * DISTANCE_KM
    hours_per_consultation = Decimal(2 * TRAVEL_MINUTES) / 60
    return {
        "before": {
            "consultations": 1,
            "cost_per_act": net / 1,
            "km": km_per_consultation,
            "transport": february_trip,
            "hours": hours_per_consultation,
        },
        "after": {
            "consultations": 2,
            "cost_per_act": net / 2,
            "km": 2 * km_per_consultation,
            "transport": february_trip + march_trip,
            "hours": 2 * hours_per_consultation,
        },
        "march": {
            "costs": march_costs,
            "grants": march_grants,
            "net": march_costs - march_grants,
            "km": km_per_consultation,
            "transport": march_trip,
            "hours": hours_per_consultation,
        },
    }


def _number(value: Decimal, places: int = 0) -> str:
    """French figures as the pages write them: "1 234,5"."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{rounded:,.{places}f}".replace(",", " ").replace(".", ",")


def _euros(value: Decimal) -> str:
    return f"{_number(value, 2)} €"


KEY_FIGURES_JS = """els => els.map(li => {
    const value = li.querySelector("strong").textContent;
    return [value, li.textContent.replace(value, "")];
})"""
TABLE_ROWS_JS = """rows => rows.map(row => [...row.cells].map(cell => cell.textContent))"""


@pytest.mark.browser
def test_a_nurse_books_runs_and_codes_a_teleconsultation_and_the_dashboard_counts_it(
    live_server, monkeypatch, settings
):
    from playwright.sync_api import expect, sync_playwright

    from cybercantal.booking.models import Booking, BookingTransition
    from cybercantal.core.models import AuditLog
    from cybercantal.telehealth.models import (
        Act,
        ActTariff,
        ConnectivityTest,
        Consultation,
        Patient,
        Site,
    )
    from cybercantal.telehealth.perms import coordinated_site_ids
    from cybercantal.telehealth.services.connectivity import recommend, recommendation_sentence

    settings.TELEHEALTH_VIDEO_BASE_URL = VIDEO_SERVER + "/"
    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"].astimezone(dt.UTC))
    w = _world(clock)
    users = w.pop("users")
    sessions = {name: session_cookie(user) for name, user in users.items()}
    expected = _expected_figures()
    sentences = {code: recommendation_sentence(code) for code in ("video", "audio", "telephone")}
    site = f"/telesante/sites/{w['site']}"
    dashboard = f"{site}/modele-economique/"
    practitioner_label = " ".join(PRACTITIONER_NAME)
    audit = PageAudit(live_server.url)
    blocking, too_wide, errors = audit.blocking, audit.too_wide, audit.errors
    seen: dict[str, object] = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:

            def open_page(session: str):
                return audit.open(browser, session)

            inspect = audit.inspect

            def check(page, paths):
                for path in paths:
                    audit.visit(page, path)

            def key_figures(page) -> dict[str, str]:
                pairs = page.eval_on_selector_all(".today-figures li", KEY_FIGURES_JS)
                return {plain(label): plain(value) for value, label in pairs}

            def table(page, caption_id: str) -> list[list[str]]:
                rows = page.eval_on_selector_all(
                    f"table:has(#{caption_id}) tbody tr, table:has(#{caption_id}) tfoot tr",
                    TABLE_ROWS_JS,
                )
                return [[plain(cell) for cell in row] for row in rows]

            def success(page) -> str:
                return plain(page.locator("#messages").inner_text())

            # --- The coordinator, before: February's teleconsultation only -----------------
            coordinator = open_page(sessions["coordinator"])
            check(coordinator, [dashboard])
            seen["before"] = key_figures(coordinator)

            # --- The nurse books, for a resident she registers on the page -----------------
            nurse = open_page(sessions["nurse"])
            check(nurse, ["/telesante/", "/telesante/consultations/"])
            nurse.goto(f"{live_server.url}/telesante/reserver/")
            # One site: the first step is skipped. The specialties, with what each needs.
            expect(nurse.get_by_role("group", name="2. Quelle spécialité ?")).to_be_visible()
            seen["cardiology_hint"] = plain(
                nurse.locator("li", has=nurse.get_by_label("Cardiologie")).inner_text()
            )
            inspect(nurse, "réserver : spécialité")
            nurse.get_by_label("Dermatologie", exact=True).check()
            nurse.get_by_role("button", name="Continuer").click()
            expect(nurse.get_by_role("heading", name="3. Pour quel patient ?")).to_be_visible()
            seen["existing_patients"] = nurse.get_by_role(
                "group", name="Patients du site"
            ).inner_text()
            inspect(nurse, "réserver : patient")
            nurse.get_by_label("Nom d'usage du patient").fill(RESIDENT)
            nurse.get_by_label("Année de naissance").fill("1931")
            seen["resident_ticked"] = nurse.get_by_label("Réside dans l'EHPAD").is_checked()
            nurse.get_by_role("button", name="Enregistrer ce patient").click()
            # The only nurse of the site is chosen for her: straight to the slots.
            expect(nurse.get_by_role("heading", name="5. Le créneau et la demande")).to_be_visible()
            seen["patient_message"] = success(nurse)
            seen["choices"] = plain(nurse.locator("dl.facts").inner_text())
            seen["ambulance_default"] = nurse.get_by_label("Ambulance", exact=True).is_checked()
            inspect(nurse, "réserver : créneau")
            first_slot = nurse.locator("input[name=slot]").first
            seen["first_day"] = plain(nurse.locator(".slot-picker__day legend").first.inner_text())
            seen["first_slot"] = plain(nurse.locator("label.slot-radio").first.inner_text())
            first_slot.check()
            nurse.get_by_role("button", name="Réserver la téléconsultation").click()
            nurse.wait_for_url(re.compile(r"/telesante/consultations/\d+/$"))
            consultation = urlsplit(nurse.url).path
            seen["consultation"] = int(consultation.strip("/").split("/")[-1])
            seen["booked_message"] = success(nurse)
            seen["video_link"] = nurse.get_by_role(
                "link", name=re.compile("Rejoindre la salle vidéo")
            ).get_attribute("href")
            inspect(nurse, "fiche, réservée")

            # --- The checklist sends her to the connectivity test, the script measures -----
            nurse.get_by_role("link", name="Préparer la séance").click()
            expect(nurse.get_by_role("heading", level=1)).to_have_text("Préparer la séance")
            seen["no_recent_test"] = plain(nurse.locator(".notice--warning").first.inner_text())
            inspect(nurse, "préparer, sans test")
            nurse.get_by_role("link", name="Faire le test de connexion du site").click()
            expect(nurse).to_have_url(re.compile(rf"{site}/connexion/$"))
            inspect(nurse, "connexion, avant")
            nurse.get_by_role("button", name="Lancer le test").click()
            # Measured against the live server, posted by the script, then said in words.
            expect(nurse.locator("#messages")).to_contain_text("Votre connexion", timeout=90_000)
            seen["connectivity_message"] = success(nurse)
            seen["latest_result"] = plain(
                nurse.locator("section[aria-labelledby=dernier-resultat]").inner_text()
            )
            inspect(nurse, "connexion, mesurée")
            nurse.goto(f"{live_server.url}{consultation}preparer/")
            seen["test_offered"] = plain(nurse.locator("main").inner_text())
            nurse.get_by_label("Le patient a donné son accord pour la téléconsultation").check()
            nurse.get_by_label("Dermatoscope", exact=True).check()
            nurse.get_by_role("button", name="Enregistrer la liste").click()
            nurse.wait_for_url(re.compile(rf"{consultation}$"))
            seen["checklist_message"] = success(nurse)
            seen["checklist_state"] = plain(
                nurse.locator("section[aria-labelledby=titre-verification]").inner_text()
            )
            inspect(nurse, "fiche, liste complète")
            check(nurse, [f"{consultation}preparer/"])

            # --- Too early to close: refused, nothing changes ------------------------------
            clock["now"] = NOW + dt.timedelta(minutes=30)
            nurse.goto(f"{live_server.url}{consultation}cloturer/")
            inspect(nurse, "clôturer")
            nurse.get_by_label("s'est tenue normalement").check()
            nurse.get_by_label("Vidéo", exact=True).check()
            with nurse.expect_navigation():
                nurse.get_by_role("button", name="Clôturer la séance").click()
            seen["too_early"] = plain(nurse.locator("#erreurs-formulaire").inner_text())
            inspect(nurse, "clôturer, trop tôt")

            # --- Time passes: the session has started; done by video, acts coded ----------
            clock["now"] = STARTED
            nurse.goto(f"{live_server.url}{consultation}cloturer/")
            nurse.get_by_label("s'est tenue normalement").check()
            nurse.get_by_label("Vidéo", exact=True).check()
            nurse.get_by_role("button", name="Clôturer la séance").click()
            nurse.wait_for_url(re.compile(rf"{consultation}$"))
            seen["closed_message"] = success(nurse)
            inspect(nurse, "fiche, réalisée")
            nurse.get_by_role("link", name="Coder les actes de la séance").click()
            expect(nurse.get_by_role("heading", level=1)).to_have_text(
                "Actes de la téléconsultation"
            )
            seen["nurse_codes"] = nurse.get_by_role("radio").evaluate_all(
                "els => els.map(el => el.value)"
            )
            inspect(nurse, "actes, infirmière")
            nurse.get_by_label(re.compile("TLL — ")).check()
            nurse.get_by_role("button", name="Coder l'acte").click()
            expect(nurse.locator("#messages")).to_contain_text("Acte TLL codé")
            seen["nurse_act_message"] = success(nurse)
            inspect(nurse, "actes, TLL codé")
            # Coordinator of nothing: the site's budget is not hers.
            seen["nurse_dashboard_status"] = nurse.goto(live_server.url + dashboard).status

            # --- The practitioner, in a browser of their own, codes the teleconsultation ---
            practitioner = open_page(sessions["practitioner"])
            check(practitioner, [consultation])
            practitioner.goto(f"{live_server.url}{consultation}actes/")
            seen["practitioner_codes"] = practitioner.get_by_role("radio").evaluate_all(
                "els => els.map(el => el.value)"
            )
            inspect(practitioner, "actes, médecin")
            practitioner.get_by_label(re.compile("TCG — ")).check()
            practitioner.get_by_role("button", name="Coder l'acte").click()
            expect(practitioner.locator("#messages")).to_contain_text("Acte TCG codé")
            seen["practitioner_act_message"] = success(practitioner)
            seen["acts_table"] = table(practitioner, "legende-actes")
            inspect(practitioner, "actes, TCG codé")

            # --- The coordinator, after: the dashboard counts it --------------------------
            check(coordinator, [dashboard, f"{site}/couts/", f"{consultation}actes/"])
            coordinator.goto(live_server.url + dashboard)
            seen["after"] = key_figures(coordinator)
            seen["months"] = table(coordinator, "legende-mois")
            seen["acts_by_month"] = table(coordinator, "legende-actes")

            # --- The Département's staff: the network, the tariffs, the same figures ------
            staff = open_page(sessions["staff"])
            check(
                staff,
                [
                    "/telesante/reseau/",
                    "/telesante/tarifs/",
                    "/telesante/reseau/transports/",
                    dashboard,
                    "/telesante/reseau/modele-economique/",
                ],
            )
            seen["network_sites"] = table(staff, "legende-sites")
            staff.goto(f"{live_server.url}/telesante/reseau/")
            seen["network_page"] = plain(staff.locator("main").inner_text())
        finally:
            browser.close()

    assert not errors, errors
    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items() if found}, indent=2
    )
    assert not too_wide, "\n".join(too_wide)

    nurse_user, practitioner_user = users["nurse"], users["practitioner"]
    nurse_name = " ".join(NURSE_NAME)

    # The booking page: the protocol said, the resident registered, the first slot taken.
    assert "Impossible sur ce site" in seen["cardiology_hint"]
    assert "Électrocardiographe" in seen["cardiology_hint"]
    assert "M. Pierre Castanier, né(e) en 1934" in seen["existing_patients"]
    assert seen["resident_ticked"] is True
    assert seen["patient_message"] == f"Patient enregistré : {RESIDENT}."
    assert f"{RESIDENT}, né(e) en 1931" in seen["choices"]
    assert nurse_name in seen["choices"]  # the site's only nurse, chosen for her
    assert seen["ambulance_default"] is True
    assert seen["first_day"] == "Lundi 1 mars 2027"
    assert seen["first_slot"] == f"{FIRST_SLOT:%H:%M} — {practitioner_label}"
    assert seen["booked_message"] == (
        f"Téléconsultation réservée le {FIRST_SLOT:%d/%m/%Y} à {FIRST_SLOT:%H:%M}."
    )

    consultation = Consultation.objects.select_related("booking", "patient", "site").get(
        pk=seen["consultation"]
    )
    site_obj = Site.objects.select_related("resource").get(pk=w["site"])
    assert consultation.site == site_obj and consultation.specialty.code == "dermatologie"
    assert consultation.scheduled_start == FIRST_SLOT
    assert consultation.requested_by == nurse_user
    assert consultation.transport_avoided == "ambulance"
    patient = consultation.patient
    assert (patient.display_name, patient.birth_year, patient.site) == (RESIDENT, 1931, site_obj)
    assert patient.is_care_home_resident and patient.created_by == nurse_user
    assert Patient.objects.filter(site=site_obj).count() == 2

    # One booking holds the practitioner, the site's cart and the nurse, all three.
    booking = consultation.booking
    assert Booking.objects.filter(teleconsultation__isnull=False).count() == 2
    allocations = booking.allocations.filter(is_active=True)
    assert {a.resource_id for a in allocations} == {
        site_obj.resource_id,
        consultation.practitioner.resource_id,
        consultation.assistant.resource_id,
    }
    assert consultation.practitioner.user == practitioner_user
    assert consultation.assistant.user == nurse_user
    assert (booking.start, booking.end) == (FIRST_SLOT, FIRST_SLOT + dt.timedelta(minutes=30))

    # The video room: on the participants' page, random, nothing about the patient.
    assert seen["video_link"] == f"{VIDEO_SERVER}/{consultation.video_room}"
    assert "odette" not in consultation.video_room.lower()
    assert "vidal" not in consultation.video_room.lower()

    # The connectivity test: measured by the script (source "navigateur") against the live
    # server, said in words, and the checklist relies on it.
    assert "Aucun test de connexion depuis 24 heures" in seen["no_recent_test"]
    test = ConnectivityTest.objects.latest("measured_at", "pk")
    assert test.site == site_obj and test.measured_by == nurse_user
    assert test.measured_at == NOW
    assert test.download_mbps > 0 and test.upload_mbps > 0
    assert test.recommendation == recommend(
        download_mbps=test.download_mbps,
        upload_mbps=test.upload_mbps,
        latency_ms=test.latency_ms,
    )
    sentence = sentences[test.recommendation]
    assert seen["connectivity_message"] == sentence
    assert sentence in seen["latest_result"]
    recorded = AuditLog.objects.filter(
        action="telehealth.connectivity_record", target_id=str(test.pk)
    ).get()
    assert recorded.data["source"] == "navigateur" and recorded.actor == nurse_user
    recommended = test.get_recommendation_display().lower()
    assert f"Recommandé : {recommended}" in seen["test_offered"]

    # The checklist, complete.
    assert seen["checklist_message"] == "Liste de vérification complète : la séance peut commencer."
    assert CHECKLIST_DONE in seen["checklist_state"]
    assert f"{recommended} recommandé" in seen["checklist_state"]
    assert consultation.consent_recorded_at == NOW
    assert consultation.devices_ready_at == NOW
    assert consultation.connectivity_test == test

    # Closing: refused before the start, then done by video after it.
    assert (
        f"La séance commence le {FIRST_SLOT:%d/%m/%Y} à {FIRST_SLOT:%H:%M} : elle ne peut pas "
        "être clôturée avant." in seen["too_early"]
    )
    assert seen["closed_message"] == "Séance clôturée : réalisée."
    assert consultation.status == Consultation.Status.DONE
    assert consultation.channel == Consultation.Channel.VIDEO
    assert (consultation.closed_by, consultation.closed_at) == (nurse_user, STARTED)
    assert booking.status == Booking.Status.ATTENDED
    transitions = list(
        BookingTransition.objects.filter(booking=booking)
        .order_by("at", "pk")
        .values_list("to_status", "actor")
    )
    assert transitions[-1] == (Booking.Status.ATTENDED, nurse_user.pk)
    assert [status for status, _actor in transitions].count(Booking.Status.ATTENDED) == 1

    # The acts: each professional codes their own, at the tariff of migration 0002.
    def tariff(code: str) -> Decimal:
        day = FIRST_SLOT.date()
        return (
            ActTariff.objects.filter(code=code, valid_from__lte=day)
            .exclude(valid_until__lt=day)
            .latest("valid_from")
            .amount
        )

    assert sorted(seen["nurse_codes"]) == ["TLD", "TLL", "TLS"]
    assert seen["practitioner_codes"] == ["TCG"]
    assert (
        seen["nurse_act_message"] == f"Acte TLL codé pour {nurse_name} : {_euros(tariff('TLL'))}."
    )
    assert seen["practitioner_act_message"] == (
        f"Acte TCG codé pour {practitioner_label} : {_euros(tariff('TCG'))}."
    )
    acts = {
        (act.code, act.professional_id, act.coded_by_id, act.amount, act.role, act.performed_on)
        for act in Act.objects.filter(consultation=consultation)
    }
    assert acts == {
        ("TLL", nurse_user.pk, nurse_user.pk, tariff("TLL"), "infirmier", FIRST_SLOT.date()),
        (
            "TCG",
            practitioner_user.pk,
            practitioner_user.pk,
            tariff("TCG"),
            "medecin",
            FIRST_SLOT.date(),
        ),
    }
    assert sorted(row[0] for row in seen["acts_table"]) == ["TCG", "TLL"]

    # The dashboard, before and after, with the figures the world implies.
    def key(figures: dict) -> dict[str, str]:
        return {
            "téléconsultations réalisées (dont 0 avec incident)": str(figures["consultations"]),
            "coût net par téléconsultation réalisée": _euros(figures["cost_per_act"]),
            "kilomètres de trajet évités": _number(figures["km"]),
            "de transport évité à l'Assurance Maladie": _euros(figures["transport"]),
            "heures de trajet épargnées aux patients": _number(figures["hours"]),
        }

    for moment in ("before", "after"):
        shown = {label: seen[moment].get(label) for label in key(expected[moment])}
        assert shown == key(expected[moment]), moment
    march = expected["march"]
    march_row = next(row for row in seen["months"] if row[0] == "mars 2027")
    assert march_row == [
        "mars 2027",
        "1",
        "0",
        "2",
        _euros(march["costs"]),
        _euros(march["grants"]),
        _euros(march["net"]),
        _euros(march["net"]),
        _number(march["km"]),
        _euros(march["transport"]),
        _number(march["hours"], 1),
    ]
    acts_march = next(row for row in seen["acts_by_month"] if row[0] == "mars 2027")
    # Columns: the codes in order (TCG, TLL, TLS), then revenue by role (practitioner, nurse).
    assert acts_march == [
        "mars 2027",
        "1",
        "1",
        "0",
        _euros(tariff("TCG")),
        _euros(tariff("TLL")),
    ]
    assert seen["nurse_dashboard_status"] == 403
    assert coordinated_site_ids(nurse_user) == set()

    # The staff's network dashboard: the site's row, the same figures; the other site apart.
    row = next(row for row in seen["network_sites"] if row[0].startswith("EHPAD Les Gentianes"))
    after = expected["after"]
    assert row[1:5] == [
        "2",
        _euros(after["cost_per_act"] * 2),
        _euros(after["cost_per_act"]),
        _number(after["km"]),
    ]
    assert "EHPAD Les Gentianes" in seen["network_page"]

    # Every page that showed the consultation is in the audit log, with who and which page.
    views = {
        (entry.actor_id, entry.data.get("page"))
        for entry in AuditLog.objects.filter(
            action="telehealth.consultation_view",
            target_type="telehealth.consultation",
            target_id=str(consultation.pk),
        )
    }
    assert {
        (nurse_user.pk, "fiche"),
        (nurse_user.pk, "preparer"),
        (nurse_user.pk, "cloturer"),
        (practitioner_user.pk, "fiche"),
    } <= views
    acts_views = set(
        AuditLog.objects.filter(
            action="telehealth.consultation_acts_view", target_id=str(consultation.pk)
        ).values_list("actor_id", flat=True)
    )
    assert acts_views == {nurse_user.pk, practitioner_user.pk, users["coordinator"].pk}
    assert not AuditLog.objects.filter(
        target_id=str(consultation.pk), target_type="telehealth.consultation", ip_address=None
    ).filter(action__in=["telehealth.consultation_view", "telehealth.consultation_acts_view"])
    writes = list(
        AuditLog.objects.filter(
            target_id=str(consultation.pk), target_type="telehealth.consultation"
        )
        .exclude(action__in=["telehealth.consultation_view", "telehealth.consultation_acts_view"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert writes == [
        "telehealth.consultation_book",
        "telehealth.checklist_record",
        "telehealth.consultation_close",
    ]
    assert (
        AuditLog.objects.filter(action="telehealth.act_code", target_type="telehealth.act").count()
        == 4
    )  # two in February, two today
    # The audit log never holds the resident's name.
    assert not AuditLog.objects.filter(target_repr__icontains="Vidal").exists()
