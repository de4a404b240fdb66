from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _coworking_indicators(*, year: int):
    # Imported when the observatory asks: the figures selectors stay out of start-up.
    from .indicators import coworking_indicators

    return coworking_indicators(year=year)


def _seed_coworking_demo():
    # Imported when seeding only: demo code stays out of every other process.
    from .demo import seed_coworking_demo

    return seed_coworking_demo()


class CoworkingConfig(AppConfig):
    name = "cybercantal.coworking"
    label = "coworking"
    verbose_name = _("Tiers-lieux")

    def ready(self) -> None:
        from cybercantal.booking.hooks import StatusListener, status_listeners
        from cybercantal.core.registries import (
            DemoSeeder,
            IndicatorProvider,
            demo_seeders,
            indicator_providers,
        )

        demo_seeders.register(
            DemoSeeder(
                key="coworking",
                label=_("Réseau des tiers-lieux : équipements et offres"),
                seed=_seed_coworking_demo,
                order=20,  # after the booking engine's desk pools and rooms
            )
        )

        indicator_providers.register(
            IndicatorProvider(
                key="coworking",
                label=_("Réseau des tiers-lieux"),
                compute=_coworking_indicators,
                order=20,
            )
        )

        from .credits import on_booking_status
        from .views.figures import register_figures_entries
        from .views.network import register_home_entries

        register_home_entries()
        register_figures_entries()

        # Credits follow desk bookings: consumed when confirmed, given back when cancelled in
        # time (coworking/credits.py).
        # An issued invoice never changes (coworking/invoicing/guards.py): armed at start-up,
        # not when the invoice services happen to be imported.
        from .invoicing import guards  # noqa: F401

        status_listeners.register(
            StatusListener(key="coworking.credits", on_status=on_booking_status)
        )

        from .tasks import register_periodic_jobs  # the public hours of the day

        register_periodic_jobs()
