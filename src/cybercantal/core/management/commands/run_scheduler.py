import time

from django.core.management.base import BaseCommand

from cybercantal.core.scheduler import periodic_jobs, periodic_jobs_enqueue_due


class Command(BaseCommand):
    help = (
        "Lance les tâches périodiques (purges de rétention, relances des notifications) "
        "quand leur échéance est passée. Tourne en continu, ou une fois avec --once (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Un seul passage, puis sortir.")
        parser.add_argument(
            "--interval", type=int, default=60, help="Secondes entre deux passages (60)."
        )

    def handle(self, *args, once: bool, interval: int, **options):
        keys = ", ".join(job.key for job in periodic_jobs) or "aucune"
        self.stdout.write(f"Tâches périodiques : {keys}")
        while True:
            for key in periodic_jobs_enqueue_due():
                self.stdout.write(f"Tâche périodique mise en file : {key}")
            if once:
                return
            time.sleep(max(interval, 1))
