"""`manage.py seed_coworking_activity`: a demo year of activity in the tiers-lieux network, after
`manage.py seed_demo` (coworking/demo_activity.py). Running it again changes nothing."""

import time

from django.core.management.base import BaseCommand, CommandError

from cybercantal.core.demo import DemoError

COUNT_LABELS = {
    "members": "membres",
    "passes": "passes",
    "bookings": "réservations",
    "room_bookings": "dont salles de réunion",
    "check_ins": "arrivées",
    "movements": "mouvements de crédit",
    "invoices": "factures",
}


class Command(BaseCommand):
    help = "Crée une année d'activité de démonstration dans le réseau des tiers-lieux."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--members", type=int, default=150, help="Nombre de membres (150).")

    def handle(self, *args, members: int, **options) -> None:
        # Imported here: demo code stays out of every other command's process.
        from cybercantal.coworking.demo_activity import seed_coworking_activity

        if members < 1:
            raise CommandError("Il faut au moins un membre.")
        started = time.perf_counter()
        try:
            report = seed_coworking_activity(members=members)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        if report.already_there:
            self.stdout.write("L'activité de démonstration existe déjà : rien n'a changé.")
            return
        counts = ", ".join(
            f"{COUNT_LABELS.get(key, key)} : {value}" for key, value in report.counts.items()
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Année d'activité créée en {elapsed:.1f} s ({counts}).")
        )
