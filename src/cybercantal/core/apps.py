from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cybercantal.core"
    label = "core"
    verbose_name = _("Noyau")

    def ready(self) -> None:
        import datetime

        from . import checks  # noqa: F401  (registers the deployment checks)
        from .notifications.tasks import notifications_retry_task
        from .scheduler import PeriodicJob, periodic_jobs

        periodic_jobs.register(
            PeriodicJob(
                key="core.notifications_retry",
                task=notifications_retry_task,
                every=datetime.timedelta(minutes=5),
            )
        )
