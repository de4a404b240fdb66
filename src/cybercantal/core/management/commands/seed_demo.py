from django.core.management.base import BaseCommand, CommandError

from cybercantal.core.demo import DemoError, demo_seed


class Command(BaseCommand):
    help = (
        "Crée ou met à jour les données de démonstration (structures, lieux et un compte par "
        "rôle, tous fictifs, dans les communes du Cantal ; puis celles des modules, comme les "
        "ressources réservables). Sans effet si elles sont à jour ; refusé en production."
    )

    def handle(self, *args, verbosity: int = 1, **options):
        try:
            report = demo_seed()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        summary = (
            f"Données de démonstration : {report.created.total()} créées, "
            f"{report.updated.total()} mises à jour, {report.unchanged.total()} inchangées"
        )
        if removed := report.removed.total():
            summary += f", {removed} rôle(s) en trop retiré(s)"
        self.stdout.write(f"{summary}. Comptes : manage.py demo_accounts")
        if verbosity >= 2:
            labels = sorted(report.created | report.updated | report.unchanged | report.removed)
            for label in labels:
                self.stdout.write(
                    f"  {label} : {report.created[label]} créées, {report.updated[label]} mises "
                    f"à jour, {report.unchanged[label]} inchangées"
                    + (f", {report.removed[label]} retirées" if report.removed[label] else "")
                )
