from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _seed_booking_demo():
    # Imported when seeding only: demo code stays out of every other process.
    from .demo import seed_booking_demo

    return seed_booking_demo()


class BookingConfig(AppConfig):
    name = "cybercantal.booking"
    label = "booking"
    verbose_name = _("Réservations")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import rules_cache
        from .models import AvailabilityRule

        # Cache invalidation only: no business logic hides in signals.
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                rules_cache.on_rule_written,
                sender=AvailabilityRule,
                dispatch_uid=f"booking.rules_cache.rule_{name}",
            )

        from cybercantal.core.registries import DemoSeeder, demo_seeders

        demo_seeders.register(
            DemoSeeder(
                key="booking",
                label=_("Prestations et ressources réservables"),
                seed=_seed_booking_demo,
                order=10,
            )
        )
        from .tasks import register_periodic_jobs  # reminders, waiting list

        register_periodic_jobs()

        from .views import register_home_entries

        register_home_entries()

        from cybercantal.accounts.personal_data import register_personal_data

        from . import ical, personal_data, waitlist

        register_personal_data(
            "booking.bookings",
            export=personal_data.bookings_personal_data_export,
            erase=personal_data.bookings_personal_data_erase,
        )
        register_personal_data(
            "booking.waiting_list",
            export=waitlist.waitlist_personal_data_export,
            erase=waitlist.waitlist_personal_data_erase,
        )
        register_personal_data(
            "booking.calendar_feeds",
            export=ical.calendar_feeds_personal_data_export,
            erase=ical.calendar_feeds_personal_data_erase,
        )
