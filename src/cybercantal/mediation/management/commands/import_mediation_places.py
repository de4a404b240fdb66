"""`manage.py import_mediation_places fichier.csv`: creates or updates mediation places from a
CSV file of the national schema (mediation/services/places.py). All or nothing: a single bad
line and nothing is written; the command lists the lines to correct."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cybercantal.mediation.services.places import mediation_places_import


class Command(BaseCommand):
    help = (
        "Importe des lieux de médiation numérique depuis un fichier CSV du schéma national "
        "(standard-mediation-num v1.0.2)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Chemin du fichier CSV (UTF-8, séparé par des virgules).")

    def handle(self, *args, file: str, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {file}")
        with path.open("rb") as handle:
            report = mediation_places_import(actor=None, csv_file=handle)
        for message in report.messages:
            self.stderr.write(message)
        if not report.applied:
            raise CommandError(report.summary())
        for row in report.created:
            self.stdout.write(f"Ligne {row.row} : créé — {row.name}")
        for row in report.updated:
            self.stdout.write(f"Ligne {row.row} : mis à jour — {row.name}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
