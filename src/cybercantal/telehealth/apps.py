from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelehealthConfig(AppConfig):
    name = "cybercantal.telehealth"
    label = "telehealth"
    verbose_name = _("Téléconsultation")

    def ready(self) -> None:
        # Registries (dashboard cards, indicators, demo seeders, periodic jobs, booking guard)
        # are filled in registrations.py so that this file stays a table of contents.
        from .registrations import register_all

        register_all()
