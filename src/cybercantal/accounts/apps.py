from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "cybercantal.accounts"
    label = "accounts"
    verbose_name = _("Comptes et rôles")

    def ready(self) -> None:
        # Register the rules-based permissions (user.has_perm("accounts.…")) at start-up,
        # not only once a view that imports them has been loaded.
        import datetime

        from cybercantal.core.scheduler import PeriodicJob, periodic_jobs

        from . import perms  # noqa: F401
        from .tasks import one_time_logins_purge_task

        periodic_jobs.register(
            PeriodicJob(
                key="accounts.one_time_logins_purge",
                task=one_time_logins_purge_task,
                every=datetime.timedelta(days=1),
            )
        )
