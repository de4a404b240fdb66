from django.core.management.base import BaseCommand, CommandError

from cybercantal.territory.services import TerritoryDataError, territory_load


class Command(BaseCommand):
    help = "Charge (ou met à jour) les communes et EPCI d'un département depuis data/territories/."

    def add_arguments(self, parser):
        parser.add_argument("code", help="Code du département, par exemple 15 pour le Cantal.")

    def handle(self, *args, code, **options):
        try:
            report = territory_load(code=code)
        except TerritoryDataError as exc:
            raise CommandError(str(exc)) from exc
        population = f"{report.total_population:,}".replace(",", "\u202f")
        self.stdout.write(
            f"Département {code} : {report.total_communes} communes, {population} habitants — "
            f"{report.communes_created} créées, {report.communes_updated} mises à jour, "
            f"{report.communes_unchanged} inchangées, {report.communes_removed} supprimées."
        )
        if report.communes_kept_in_use:
            self.stdout.write(
                self.style.WARNING(
                    "Communes absentes de la source mais encore utilisées (conservées) : "
                    + ", ".join(report.communes_kept_in_use)
                )
            )
