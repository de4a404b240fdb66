"""`manage.py seed_mediation_activity`: a demo year of digital mediation after
`manage.py seed_demo` (mediation/demo_activity.py). Running it again writes no second year; it
only adds the demo tours' stops missing in the coming weeks."""

import time

from django.core.management.base import BaseCommand, CommandError

from cybercantal.core.demo import DemoError

COUNT_LABELS = {
    "mediators": "médiateurs",
    "beneficiaries": "personnes accompagnées",
    "activities": "comptes rendus",
    "workshops": "dont ateliers",
    "links": "liens personne–compte rendu",
    "tours": "tournées",
    "stops": "étapes de tournée",
}


def _counts(counts) -> str:
    return ", ".join(f"{COUNT_LABELS.get(key, key)} : {value}" for key, value in counts.items())


class Command(BaseCommand):
    help = "Crée une année d'activité de démonstration de la médiation numérique."

    def handle(self, *args, **options) -> None:
        # Imported here: demo code stays out of every other command's process.
        from cybercantal.mediation.demo_activity import seed_mediation_activity

        started = time.perf_counter()
        try:
            report = seed_mediation_activity()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        if report.already_there:
            extra = f" ; ajouté : {_counts(report.counts)}" if report.counts else ""
            self.stdout.write(
                f"L'activité de médiation de démonstration existe déjà : rien n'a changé{extra}."
                if not extra
                else f"L'activité de médiation de démonstration existe déjà{extra}."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Année de médiation créée en {elapsed:.1f} s ({_counts(report.counts)})."
            )
        )
