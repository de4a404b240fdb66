"""The telehealth pages of the review, in a real browser (the system's Chromium driven by
Playwright), each used by the person it is for:

- a site's coordinator opens "Patients" from the telehealth menu, searches a resident by name,
  anonymises her on request (the confirmation ticked) and the list shows her anonymised; a
  resident with a teleconsultation planned cannot be anonymised: the page says why, in French,
  and offers no form;
- a requesting doctor withdraws an unanswered téléexpertise, giving a reason: the page says
  when it was withdrawn and no longer offers to withdraw it;
- the Département's telehealth staff record the first zoning (two communes, the date, the
  source) and the list shows them in zone; they take a site out of service and its form keeps
  today as its last day in service.

axe-core audits every page visited (WCAG 2.1 A and AA rules, no "serious" or "critical"
violation) and none scrolls sideways at 320 CSS px.

The clock is frozen (timezone.now, as the other browser tests): Monday 1 March 2027 at 08:00.
Data is prepared before Playwright starts and checked after it ends: the ORM is never called
inside the sync_playwright() block."""

import datetime as dt
import json
import os
import re
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
PLANNED = dt.datetime(2027, 3, 8, 10, 0, tzinfo=PARIS)  # the next Monday, 10:00
ERASED = "Mme Odette Vidal"  # asks to be erased
KEPT = "M. Pierre Castanier"  # has a teleconsultation planned and a téléexpertise open
OTHER = "Mme Jeanne Martin"  # another resident of the site, never touched
# Communes of the territory (the Cantal, département 15) with their real INSEE codes.
COMMUNES = {"15187": "Saint-Flour", "15003": "Allanche", "15138": "Murat"}
SOURCE = "Arrêté ARS Auvergne-Rhône-Alpes du 15/02/2027 relatif au zonage médecins"


def _world() -> dict:
    from cybercantal.telehealth.services.expertise import expertise_create
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

    for insee, name in COMMUNES.items():
        CommuneFactory(insee_code=insee, name=name, department_code="15", postal_codes="15000")
    coordinator = UserFactory(first_name="Paul", last_name="Delort")
    site = make_site(
        place=PlaceFactory(
            name="EHPAD Les Gentianes",
            organisation=OrganisationFactory(name="EHPAD Les Gentianes", kind="care_home"),
        ),
        coordinators=[coordinator],
    )
    # The site the staff take out of service: no consultation, nobody's patients.
    closing = make_site(
        place=PlaceFactory(
            name="Maison de santé de Massiac",
            organisation=OrganisationFactory(name="Maison de santé de Massiac", kind="care_home"),
        ),
        opened_on=dt.date(2025, 6, 1),
    )
    dermatology = make_specialty()
    requester = make_practitioner(
        specialties=[dermatology],
        kind="generaliste",
        user=UserFactory(first_name="Anne", last_name="Requérante"),
    )
    expert = make_practitioner(
        specialties=[dermatology], user=UserFactory(first_name="Marc", last_name="Sollicité")
    )
    nurse = make_assistant(sites=[site])
    erased = make_patient(site, actor=nurse.user, name=ERASED, birth_year=1931)
    kept = make_patient(site, actor=nurse.user, name=KEPT, birth_year=1934)
    other = make_patient(site, actor=nurse.user, name=OTHER, birth_year=1940)
    planned = make_consultation(
        site=site,
        practitioner=requester,
        assistant=nurse,
        specialty=dermatology,
        patient=kept,
        start=PLANNED,
        actor=nurse.user,
    )
    request = expertise_create(
        actor=requester.user,
        expert=expert,
        specialty=dermatology,
        patient=kept,
        question="Lésion pigmentée du dos, évolutive : avis sur la conduite à tenir ?",
        attachments=[],
        now=NOW - dt.timedelta(days=2),
    )
    return {
        "site": site.pk,
        "closing": closing.pk,
        "erased": {"pk": erased.pk, "reference": erased.reference},
        "kept": {"pk": kept.pk, "reference": kept.reference},
        "other": other.pk,
        "planned": planned.pk,
        "request": request.pk,
        "users": {
            "coordinator": coordinator,
            "requester": requester.user,
            "staff": staff_user(),
        },
    }


@pytest.mark.browser
def test_patients_withdrawal_zoning_and_site_closing_in_the_browser(live_server, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from cybercantal.core.models import AuditLog
    from cybercantal.telehealth.models import (
        Consultation,
        ExpertiseRequest,
        Patient,
        PriorityZoneCommune,
        Site,
    )
    from cybercantal.telehealth.retention import ANONYMISED_NAME

    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))
    w = _world()
    users = w.pop("users")
    sessions = {name: session_cookie(user) for name, user in users.items()}
    expertise = f"/telesante/teleexpertises/{w['request']}/"
    site_form = f"/telesante/reseau/sites/{w['closing']}/"
    audit = PageAudit(live_server.url)
    blocking, too_wide, errors = audit.blocking, audit.too_wide, audit.errors
    seen: dict[str, object] = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:

            def open_page(session: str):
                return audit.open(browser, session)

            inspect = audit.inspect
            visit = audit.visit

            def success(page) -> str:
                return plain(page.locator("#messages").inner_text())

            def table_rows(page) -> list[list[str]]:
                rows = page.eval_on_selector_all(
                    "main table.manage-table tbody tr",
                    "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))",
                )
                return [[plain(cell) for cell in row] for row in rows]

            # --- The coordinator: "Patients" from the menu, a search, an anonymisation ------
            coordinator = open_page(sessions["coordinator"])
            visit(coordinator, "/telesante/")
            coordinator.get_by_role("navigation", name="Téléconsultation").get_by_role(
                "link", name="Patients", exact=True
            ).click()
            expect(coordinator.get_by_role("heading", level=1)).to_have_text("Patients")
            assert urlsplit(coordinator.url).path == "/telesante/patients/"
            seen["all_rows"] = table_rows(coordinator)
            inspect(coordinator, "patients")
            coordinator.get_by_label("Nom ou référence").fill("vidal")
            coordinator.get_by_role("button", name="Rechercher").click()
            coordinator.wait_for_url(re.compile(r"/telesante/patients/\?q=vidal"))
            seen["found_rows"] = table_rows(coordinator)
            inspect(coordinator, "patients : recherche")
            coordinator.get_by_role(
                "link", name=f"Anonymiser le patient {w['erased']['reference']}"
            ).click()
            expect(coordinator.get_by_role("heading", level=1)).to_have_text(
                "Anonymiser un patient"
            )
            inspect(coordinator, "anonymiser")
            # Not ticked: refused, said in the error summary, nothing written.
            with coordinator.expect_navigation():
                coordinator.get_by_role("button", name="Anonymiser ce patient").click()
            seen["unticked"] = plain(coordinator.locator("#erreurs-formulaire").inner_text())
            inspect(coordinator, "anonymiser : non confirmé")
            coordinator.get_by_label(re.compile("^Je confirme que le patient")).check()
            coordinator.get_by_role("button", name="Anonymiser ce patient").click()
            coordinator.wait_for_url(re.compile(r"/telesante/patients/\?q="))
            seen["anonymised_message"] = success(coordinator)
            seen["anonymised_rows"] = table_rows(coordinator)
            inspect(coordinator, "patients : anonymisé")

            # The resident with a teleconsultation planned: the page says why not, no form.
            coordinator.goto(f"{live_server.url}/telesante/patients/")
            coordinator.get_by_role(
                "link", name=f"Anonymiser le patient {w['kept']['reference']}"
            ).click()
            expect(coordinator.get_by_role("heading", level=1)).to_have_text(
                "Anonymiser un patient"
            )
            seen["refusal"] = plain(coordinator.locator("main .notice--warning").inner_text())
            seen["refusal_form"] = coordinator.get_by_role("checkbox").count()
            seen["refusal_buttons"] = coordinator.get_by_role(
                "button", name="Anonymiser ce patient"
            ).count()
            seen["cancel_link"] = coordinator.get_by_role(
                "link", name="Annuler cette téléconsultation"
            ).get_attribute("href")
            inspect(coordinator, "anonymiser : refusé")

            # --- The requesting doctor withdraws the unanswered téléexpertise ---------------
            requester = open_page(sessions["requester"])
            visit(requester, expertise)
            seen["state_before"] = plain(requester.locator("main dl").inner_text())
            requester.get_by_label("Plus nécessaire").check()
            requester.get_by_role("button", name="Retirer la demande").click()
            requester.wait_for_load_state()
            expect(requester.locator("#messages")).to_contain_text("Demande retirée")
            assert urlsplit(requester.url).path == expertise
            seen["withdrawn_message"] = success(requester)
            seen["state_after"] = plain(requester.locator("main dl").inner_text())
            seen["withdrawn_notice"] = plain(requester.locator("main .notice").inner_text())
            seen["withdraw_buttons"] = requester.get_by_role(
                "button", name="Retirer la demande"
            ).count()
            inspect(requester, "téléexpertise retirée")

            # --- The staff record the first zoning ------------------------------------------
            staff = open_page(sessions["staff"])
            visit(staff, "/telesante/reseau/zones-prioritaires/")
            seen["no_zoning"] = plain(staff.locator("main .notice").inner_text())
            staff.get_by_role("link", name="Enregistrer le zonage").click()
            expect(staff.get_by_role("heading", level=1)).to_have_text("Enregistrer un zonage")
            inspect(staff, "zonage : formulaire")
            # A name (accents optional) and a code with its name, one per line.
            staff.get_by_label("Communes en zone d'intervention prioritaire").fill(
                "Saint-Flour\nAllanche (15003)"
            )
            staff.get_by_label("Prend effet le").fill(NOW.date().isoformat())
            staff.get_by_label(re.compile(r"^Source\b")).fill(SOURCE)
            staff.get_by_role("button", name="Enregistrer le zonage").click()
            staff.wait_for_url(re.compile(r"/telesante/reseau/zones-prioritaires/$"))
            seen["zoning_message"] = success(staff)
            seen["zone_caption"] = plain(staff.locator("#legende-en-zone").inner_text())
            seen["zone_rows"] = table_rows(staff)
            seen["zone_history"] = plain(
                staff.locator("section[aria-labelledby=titre-historique]").inner_text()
            )
            inspect(staff, "zonage : enregistré")

            # --- The staff take a site out of service ---------------------------------------
            visit(staff, site_form)
            seen["active_before"] = staff.get_by_label(re.compile("^Site en service")).is_checked()
            staff.get_by_label(re.compile("^Site en service")).uncheck()
            staff.get_by_role("button", name="Enregistrer le site").click()
            staff.wait_for_url(re.compile(r"/telesante/reseau/$"))  # the list of sites
            seen["site_message"] = success(staff)
            inspect(staff, "sites : site hors service")
            visit(staff, site_form)
            seen["active_after"] = staff.get_by_label(re.compile("^Site en service")).is_checked()
            seen["last_day"] = staff.get_by_label(
                re.compile("^Dernier jour en service")
            ).input_value()
        finally:
            browser.close()

    assert not errors, errors
    assert not any(blocking.values()), json.dumps(
        {name: [v["id"] for v in found] for name, found in blocking.items() if found}, indent=2
    )
    assert not too_wide, "\n".join(too_wide)

    # The coordinator: the site's three residents, then the one searched, then anonymised.
    erased_ref = w["erased"]["reference"]
    assert sorted(row[1] for row in seen["all_rows"]) == sorted([ERASED, KEPT, OTHER])
    assert [row[:2] for row in seen["found_rows"]] == [[erased_ref, ERASED]]
    assert seen["found_rows"][0][-1] == f"Anonymiser le patient {erased_ref}"
    assert "Cochez la case pour confirmer l'anonymisation." in seen["unticked"]
    assert seen["anonymised_message"] == (
        f"Patient {erased_ref} anonymisé : son nom a été effacé de la plateforme."
    )
    assert [(row[0], row[1], row[2], row[-1]) for row in seen["anonymised_rows"]] == [
        (erased_ref, ANONYMISED_NAME, "1931", "Déjà anonymisé")
    ]
    erased = Patient.objects.get(pk=w["erased"]["pk"])
    assert erased.display_name == ANONYMISED_NAME
    assert erased.reference == erased_ref and erased.birth_year == 1931
    assert (
        AuditLog.objects.filter(
            action="telehealth.patient_anonymise", target_id=str(erased.pk)
        ).count()
        == 1
    )
    assert not AuditLog.objects.filter(target_repr__icontains="Vidal").exists()

    # The refusal: said in French on the page, no form, nothing changed.
    assert "Ce patient ne peut pas être anonymisé pour l'instant" in seen["refusal"]
    planned = "une téléconsultation est prévue le 08/03/2027 à 10:00 : annulez-la d'abord"
    assert planned in seen["refusal"], seen["refusal"]
    assert seen["refusal_form"] == 0 and seen["refusal_buttons"] == 0
    assert seen["cancel_link"] == f"/telesante/consultations/{w['planned']}/annuler/"
    assert Patient.objects.get(pk=w["kept"]["pk"]).display_name == KEPT
    assert Patient.objects.get(pk=w["other"]).display_name == OTHER
    assert Consultation.objects.get(pk=w["planned"]).status == Consultation.Status.PLANNED
    assert not AuditLog.objects.filter(
        action="telehealth.patient_anonymise", target_id=str(w["kept"]["pk"])
    ).exists()

    # The requesting doctor: withdrawn now, with the reason; nothing left to withdraw.
    assert "En attente de réponse" in seen["state_before"], seen["state_before"]
    assert "Retirée le lundi 1 mars 2027, 08:00" in seen["state_after"]
    assert seen["withdrawn_message"] == (
        "Demande retirée. La question et les pièces jointes ont été effacées."
    )
    assert "Demande retirée par le médecin requérant." in seen["withdrawn_notice"]
    assert seen["withdraw_buttons"] == 0
    request = ExpertiseRequest.objects.get(pk=w["request"])
    assert request.status == ExpertiseRequest.Status.WITHDRAWN
    assert request.withdrawn_at == NOW and request.question == ""
    withdrawal = AuditLog.objects.get(
        action="telehealth.expertise_withdraw", target_id=str(request.pk)
    )
    assert withdrawal.data["reason"] == "plus_necessaire"

    # The staff: no zoning, then the two communes in zone from today, with the source.
    assert "Aucun zonage n'est enregistré" in seen["no_zoning"]
    # French grammar: 0 takes the singular.
    assert seen["zoning_message"].startswith(
        "Zonage enregistré à partir du 01/03/2027 : 2 communes entrent, 0 sort, 0 reste."
    ), seen["zoning_message"]
    assert seen["zone_caption"] == "2 communes en zone prioritaire"
    assert seen["zone_rows"] == [
        ["Allanche", "15003", "01/03/2027", "—", SOURCE],
        ["Saint-Flour", "15187", "01/03/2027", "—", SOURCE],
    ]
    assert "À partir du 01/03/2027" in seen["zone_history"]
    assert sorted(
        PriorityZoneCommune.objects.values_list(
            "commune__insee_code", "valid_from", "valid_until", "source"
        )
    ) == [
        ("15003", NOW.date(), None, SOURCE),
        ("15187", NOW.date(), None, SOURCE),
    ]

    # The site out of service since today, the form keeping that day.
    assert seen["active_before"] is True and seen["active_after"] is False
    assert seen["site_message"] == "Le site « Maison de santé de Massiac » est enregistré."
    assert seen["last_day"] == NOW.date().isoformat()
    closed = Site.objects.get(pk=w["closing"])
    assert closed.is_active is False and closed.closed_on == NOW.date()
    assert Site.objects.get(pk=w["site"]).is_active is True
