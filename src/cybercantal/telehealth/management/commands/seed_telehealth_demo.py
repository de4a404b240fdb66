"""`manage.py seed_telehealth_demo`: the demo network of teleconsultation sites and two years
of its activity, after `manage.py seed_demo` (telehealth/demo.py). Running it again changes
nothing, except coding the acts once the tariff table has been filled."""

import time

from django.core.management.base import BaseCommand, CommandError

from cybercantal.core.demo import DemoError

COUNT_LABELS = {
    "patients": "patients",
    "consultations": "téléconsultations",
    "planned": "dont à venir",
    "incidents": "incidents",
    "connectivity_tests": "tests de connexion",
    "expertise_requests": "téléexpertises",
    "costs": "coûts et subventions",
    "acts": "actes codés",
    "not_placed": "séances sans créneau libre (écartées)",
}


def _counts(counts) -> str:
    return ", ".join(f"{COUNT_LABELS.get(key, key)} : {value}" for key, value in counts.items())


class Command(BaseCommand):
    help = (
        "Crée le réseau de téléconsultation de démonstration (sites, médecins, infirmières, "
        "comptes demo-infirmiere, demo-dermatologue, demo-coordinatrice ; demo-medecin devient "
        "médecin généraliste téléconsultant) et deux ans d'activité. Sans effet s'il existe "
        "déjà ; refusé en production."
    )

    def handle(self, *args, **options) -> None:
        # Imported here: demo code stays out of every other command's process.
        from cybercantal.telehealth.demo import seed_telehealth_demo

        started = time.perf_counter()
        try:
            report = seed_telehealth_demo()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        for message in report.messages:
            self.stdout.write(self.style.WARNING(message))
        changed = report.created.total() + report.updated.total()
        if report.already_there:
            detail = f" ; ajouté ou réparé : {changed} ligne(s)" if changed else ""
            if report.counts:
                detail += f" ({_counts(report.counts)})"
            self.stdout.write(
                "La téléconsultation de démonstration existe déjà"
                + (detail or " : rien n'a changé")
                + "."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Téléconsultation de démonstration créée en {elapsed:.1f} s "
                f"({_counts(report.counts)})."
            )
        )
