from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cybercantal.territory.age_structure import AgeDataError, commune_ages_load


class Command(BaseCommand):
    help = (
        "Charge la part des 75 ans et plus de chaque commune depuis la base INSEE « Évolution "
        "et structure de la population » (CSV : CODGEO, PAA_POP, PAA_POP75P)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Fichier CSV de l'INSEE (national ou départemental).")
        parser.add_argument(
            "--departement", default=None, help="Ne mettre à jour que ce département (ex. 15)."
        )

    def handle(self, *args, path, departement, **options):
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Lecture impossible de {path} : {exc.strerror}.") from exc
        try:
            report = commune_ages_load(raw=raw, department_code=departement)
        except AgeDataError as exc:
            raise CommandError(str(exc)) from exc
        year = f" (recensement {report.year})" if report.year else ""
        self.stdout.write(
            f"Part des 75 ans et plus{year} : {report.updated} communes mises à jour, "
            f"{report.unchanged} inchangées, {report.skipped_rows} lignes d'autres communes "
            "ignorées."
        )
        if report.missing:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(report.missing)} communes absentes du fichier (part inconnue) : "
                    + ", ".join(report.missing[:20])
                    + (" …" if len(report.missing) > 20 else "")
                )
            )
