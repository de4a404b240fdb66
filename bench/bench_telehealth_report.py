"""Teleconsultation: the network's yearly techno-economic report after two years of activity at
15 sites (selectors/economics.py, the dashboard page that renders it and its printable PDF).

.venv/bin/python bench/bench_telehealth_report.py       (or `make bench` for every benchmark)
"""

import random
import re
import time
from io import StringIO

from harness import Bench, main

TARGET_P95_MS = 300
SITES = 15
PER_MONTH = 40  # teleconsultations per site and month, on average (20 to 60)
PATIENTS_PER_SITE = 60


def build(bench: Bench) -> dict:
    """15 sites in the Cantal's communes with their nurse, 6 practitioners, two complete years
    of teleconsultations (bulk-written: a Booking and a Consultation each, without the engine's
    allocations, which the report never reads), their acts, a cost ledger per site and for the
    network, and a VSL tariff raised on 1 July of the year measured."""
    import datetime as dt
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    from cybercantal.accounts.models import Membership, Role, User
    from cybercantal.booking.models import Booking
    from cybercantal.telehealth.models import (
        Act,
        ActTariff,
        Consultation,
        CostEntry,
        Patient,
        ReferenceHospital,
        Site,
        Specialty,
        TransportTariff,
    )
    from cybercantal.telehealth.services.costs import cost_record, transport_tariff_save
    from cybercantal.telehealth.services.network import (
        assistant_create,
        practitioner_create,
        site_create,
    )
    from cybercantal.territory.models import Commune, Organisation, Place

    started = time.perf_counter()
    rng = random.Random(15)
    call_command("load_territory", "15", stdout=StringIO())
    department = Organisation.objects.create(name="Département du Cantal", kind="department")
    staff = User.objects.create_user(username="bench-agent", password="x", first_name="Agent")
    Membership.objects.create(user=staff, organisation=department, role=Role.DEPARTMENT_AGENT)
    coordinator = User.objects.create_user(username="bench-coordination", password="x")
    hospital = ReferenceHospital.objects.create(
        name="Centre hospitalier d'Aurillac", latitude=44.9262, longitude=2.4447, is_default=True
    )
    today = timezone.localdate()
    year = today.year - 1  # the last complete year: twelve months
    first_year = year - 1

    communes = list(Commune.objects.exclude(name="Aurillac").order_by("-population")[:SITES])
    kinds = [Site.Kind.CARE_HOME] * 9 + [Site.Kind.HEALTH_CENTRE] * 4 + [Site.Kind.PHARMACY] * 2
    sites = []
    for i, commune in enumerate(communes):
        organisation = Organisation.objects.create(
            name=f"EHPAD de {commune.name}", kind=Organisation.Kind.CARE_HOME
        )
        place = Place.objects.create(
            name=f"Téléconsultation de {commune.name}",
            address="1 rue de l'Hôpital",
            postal_code=commune.postal_code_list[0],
            commune=commune,
            latitude=commune.latitude,
            longitude=commune.longitude,
            organisation=organisation,
        )
        # Three sites open during the first year: they share the network costs from then on.
        opened = dt.date(first_year - 3, 1, 1) if i >= 3 else dt.date(first_year, 3 + 2 * i, 1)
        sites.append(
            site_create(
                actor=staff,
                place=place,
                kind=kinds[i],
                hospital=hospital,
                opened_on=opened,
                coordinators=[coordinator] if i == 0 else (),
            )
        )
    specialty = Specialty.objects.create(
        code="dermatologie", label="Dermatologie", required_devices=[], required_assistant=""
    )
    practitioners = [
        practitioner_create(
            actor=staff,
            user=User.objects.create_user(username=f"bench-medecin-{i}", password="x"),
            kind="specialiste",
            rpps=f"{10_000_000_000 + i}",
            specialties=[specialty],
            organisation=Organisation.objects.create(name=f"Cabinet {i}", kind="company"),
        )
        for i in range(6)
    ]
    nurses = {
        site.pk: assistant_create(
            actor=staff,
            user=User.objects.create_user(username=f"bench-infirmier-{site.pk}", password="x"),
            kind="infirmier",
            sites=[site],
        )
        for site in sites
    }
    patients = {
        site.pk: Patient.objects.bulk_create(
            Patient(
                site=site,
                display_name=f"Patient {site.pk}-{n}",
                birth_year=rng.randint(1925, 2015),
                is_care_home_resident=site.kind == Site.Kind.CARE_HOME,
            )
            for n in range(PATIENTS_PER_SITE)
        )
        for site in sites
    }

    # Two years of teleconsultations, on weekdays during office hours.
    statuses = ["realisee"] * 85 + ["incident"] * 5 + ["non_tenue"] * 7 + ["annulee"] * 3
    modes = ["vsl"] * 70 + ["ambulance"] * 15 + ["personnel"] * 15
    plan = []
    for site in sites:
        for y in (first_year, year):
            for m in range(1, 13):
                if site.opened_on and dt.date(y, m, 28) < site.opened_on:
                    continue
                days = [dt.date(y, m, d) for d in range(1, 29) if dt.date(y, m, d).weekday() < 5]
                for _n in range(rng.randint(PER_MONTH // 2, PER_MONTH * 3 // 2)):
                    day = rng.choice(days)
                    start = timezone.make_aware(
                        dt.datetime.combine(day, dt.time(rng.choice([9, 10, 11, 14, 15, 16])))
                    )
                    plan.append((site, start, rng.choice(statuses), rng.choice(modes)))
    bookings = Booking.objects.bulk_create(
        Booking(
            reference=f"TB{n:010d}",
            start=start,
            end=start + dt.timedelta(minutes=30),
            status="cancelled" if status == "annulee" else "attended",
            place_id=site.place_id,
            person_name="Patient",
            channel=Booking.Channel.DESK,
        )
        for n, (site, start, status, _mode) in enumerate(plan)
    )
    consultations = Consultation.objects.bulk_create(
        Consultation(
            booking=booking,
            site=site,
            practitioner=rng.choice(practitioners),
            assistant=nurses[site.pk],
            specialty=specialty,
            patient=rng.choice(patients[site.pk]),
            requested_at=start - dt.timedelta(days=rng.randint(1, 30)),
            status=status,
            scheduled_start=start,
            transport_avoided=mode,
        )
        for booking, (site, start, status, mode) in zip(bookings, plan, strict=True)
    )
    tariffs = {
        code: ActTariff.objects.filter(code=code).order_by("valid_from").first()
        or ActTariff.objects.create(
            code=code, label=code, role=role, amount=Decimal(amount), valid_from=dt.date(2018, 1, 1)
        )
        for code, role, amount in (("TCG", "medecin", "25"), ("TLL", "infirmier", "12"))
    }
    acts = []
    for consultation in consultations:
        if consultation.status not in ("realisee", "incident"):
            continue
        day = timezone.localdate(consultation.scheduled_start)
        coded = [(tariffs["TCG"], consultation.practitioner.user_id)]
        if rng.random() < 0.8:
            coded.append((tariffs["TLL"], nurses[consultation.site_id].user_id))
        acts += [
            Act(
                consultation=consultation,
                patient_id=consultation.patient_id,
                professional_id=professional,
                tariff=tariff,
                code=tariff.code,
                role=tariff.role,
                amount=tariff.amount,
                performed_on=day,
            )
            for tariff, professional in coded
        ]
    Act.objects.bulk_create(acts, batch_size=2000)

    # The ledger: a cart bought and its grant, connectivity, licence, coordination, maintenance.
    for site in sites:
        bought = site.opened_on or dt.date(first_year, 1, 1)
        for values in (
            {"category": "equipement", "label": "Chariot", "amount": "18000",
             "starts_on": bought, "depreciation_months": 60},
            {"category": "subvention", "label": "FEDER", "funder": "FEDER", "amount": "9000",
             "starts_on": bought, "depreciation_months": 60},
            {"category": "connexion", "label": "Fibre", "amount": "45", "recurrence": "mensuel",
             "starts_on": bought},
            {"category": "licence", "label": "Logiciel", "amount": "1800",
             "recurrence": "annuel", "starts_on": bought},
            {"category": "coordination", "label": "Temps infirmier", "amount": "600",
             "recurrence": "mensuel", "starts_on": bought},
            {"category": "maintenance", "label": "Révision", "amount": "350",
             "starts_on": dt.date(first_year, 9, 15)},
            {"category": "maintenance", "label": "Révision", "amount": "380",
             "starts_on": dt.date(year, 9, 15)},
        ):  # fmt: skip
            cost_record(actor=staff, site=site, **values)
    for values in (
        {"category": "licence", "label": "Plateforme", "amount": "2500", "recurrence": "mensuel",
         "starts_on": dt.date(first_year, 1, 1)},
        {"category": "coordination", "label": "Coordination départementale", "amount": "52000",
         "recurrence": "annuel", "starts_on": dt.date(first_year, 1, 1)},
        {"category": "subvention", "label": "ARS", "funder": "ARS", "amount": "30000",
         "starts_on": dt.date(year, 6, 1)},
    ):  # fmt: skip
        cost_record(actor=staff, site=None, **values)
    vsl = TransportTariff.objects.get(mode="vsl", valid_until__isnull=True)
    transport_tariff_save(
        actor=staff, tariff=vsl, mode="vsl", flat_fee=vsl.flat_fee, per_km=vsl.per_km,
        valid_from=vsl.valid_from, valid_until=dt.date(year, 6, 30), source=vsl.source,
    )  # fmt: skip
    transport_tariff_save(
        actor=staff, mode="vsl", flat_fee=vsl.flat_fee + Decimal("1.50"), per_km=vsl.per_km,
        valid_from=dt.date(year, 7, 1), source="Banc d'essai : revalorisation fictive",
    )  # fmt: skip

    bench.datasets["reseau"] = {
        "sites": len(sites),
        "years": f"{first_year}-{year}",
        "consultations": len(consultations),
        "consultations_in_year": Consultation.objects.filter(scheduled_start__year=year).count(),
        "acts": Act.objects.count(),
        "cost_entries": CostEntry.objects.count(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return {"staff": staff, "coordinator": coordinator, "site": sites[0], "year": year}


def pages(pdf: bytes) -> int:
    """Page objects (fpdf2 leaves object dictionaries uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


def run(bench: Bench) -> None:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from cybercantal.telehealth.report_pdf import economics_report_pdf
    from cybercantal.telehealth.selectors.economics import network_economics, site_economics

    world = build(bench)
    if connection.vendor == "postgresql":
        # As autovacuum does soon after a bulk load: the planner's statistics of the new rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    staff, coordinator, site, year = (
        world["staff"],
        world["coordinator"],
        world["site"],
        world["year"],
    )

    def fresh(*users):
        def forget() -> None:
            for user in users:
                user.__dict__.pop("_role_codes", None)

        return forget

    report = network_economics(actor=staff, year=year)
    today = timezone.localdate()
    network = bench.measure(
        f"network_economics({year})",
        lambda: network_economics(actor=staff, year=year),
        repeat=30,
        setup=fresh(staff),
        results=f"{report.total.consultations} téléconsultations, "
        f"{round(report.total.transport_avoided)} € évités",
    )
    bench.measure(
        f"site_economics(un site, {year}, coordinateur)",
        lambda: site_economics(actor=coordinator, site=site, year=year),
        repeat=30,
        setup=fresh(coordinator),
    )
    client = Client()
    client.force_login(staff)
    page_url = f"/telesante/reseau/modele-economique/?annee={year}"
    assert client.get(page_url).status_code == 200
    page = bench.measure(f"GET {page_url} (page entière)", lambda: client.get(page_url), repeat=20)
    bench.measure(
        "GET …/export.csv (réseau)",
        lambda: client.get(f"/telesante/reseau/modele-economique/export.csv?annee={year}"),
        repeat=20,
    )
    # The printable report alone, from the report the selector returned. The fonts are cut
    # once per process: the first call, as a server's first PDF, pays for it (first_call_ms).
    started = time.perf_counter()
    pages_a4 = pages(economics_report_pdf(report, generated_on=today))
    first_call_ms = round((time.perf_counter() - started) * 1000, 1)
    bench.measure(
        f"economics_report_pdf(réseau, {year})",
        lambda: economics_report_pdf(report, generated_on=today),
        repeat=20,
        results=f"{pages_a4} pages A4",
        first_call_ms=first_call_ms,
    )
    pdf_page = bench.measure(
        "GET …/rapport.pdf (réseau)",
        lambda: client.get(f"/telesante/reseau/modele-economique/rapport.pdf?annee={year}"),
        repeat=20,
    )
    for label, result in (("sélecteur", network), ("page entière", page), ("PDF", pdf_page)):
        p95 = result["p95_ms"]
        bench.targets.append(
            {
                "target": f"rapport annuel du réseau ({label}), p95 ≤ {TARGET_P95_MS} ms",
                "status": "atteint" if p95 <= TARGET_P95_MS else "manqué",
                "detail": f"p95 {p95} ms, {result['queries']} requêtes",
            }
        )


if __name__ == "__main__":
    main(run, "telehealth_report")
