from django.apps import apps
from django.contrib.admin.apps import AdminConfig


class CyberCantalAdminConfig(AdminConfig):
    """django.contrib.admin with our site (platform administrators with a second factor)."""

    default_site = "cybercantal.core.admin_site.CyberCantalAdminSite"

    def ready(self):
        super().ready()  # autodiscovers every app's admin module
        if apps.is_installed("django_tasks_db"):
            _adopt_task_results()


def _adopt_task_results() -> None:
    """django-tasks-db registers a read-only admin of task results that relies on Django's
    per-model permissions, which nobody holds here: show it to platform administrators."""
    from django.contrib import admin
    from django_tasks_db.admin import DBTaskResultAdmin
    from django_tasks_db.models import DBTaskResult

    from .admin_site import PlatformAdminPermissions, ReadOnlyAdminMixin

    class TaskResultAdmin(ReadOnlyAdminMixin, PlatformAdminPermissions, DBTaskResultAdmin):
        pass

    if admin.site.is_registered(DBTaskResult):
        admin.site.unregister(DBTaskResult)
    admin.site.register(DBTaskResult, TaskResultAdmin)
