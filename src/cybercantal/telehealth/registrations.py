"""What telehealth plugs into the registries of core and booking (ARCHITECTURE.md)."""

from django.utils.translation import gettext_lazy as _


def _works_in_telehealth(user) -> bool:
    """A site's team, a practitioner or staff: they see patients' names."""
    from .perms import sites_for

    return user.is_authenticated and (
        sites_for(user).exists() or hasattr(user, "telehealth_practitioner")
    )


def _may_use_telehealth(request) -> bool:
    return _works_in_telehealth(request.user)


def _seed_reference():
    # Imported when seeding only: demo code stays out of every other process.
    from .demo import seed_telehealth_reference

    return seed_telehealth_reference()


def register_all() -> None:
    from cybercantal.booking.hooks import (
        BookingAuthoriser,
        BookingChangeGuard,
        BookingGuard,
        BookingVisibilityFilter,
        booking_authorisers,
        booking_change_guards,
        booking_guards,
        booking_visibility_filters,
    )
    from cybercantal.core.registries import (
        DashboardCard,
        PersonalDataHandler,
        dashboard_cards,
        personal_data_handlers,
    )

    from .booking_guard import (
        hidden_teleconsultations,
        refuse_change_outside_flow,
        refuse_outside_flow,
        vouch_inside_flow,
    )

    booking_guards.register(BookingGuard(key="telehealth", check=refuse_outside_flow))
    booking_change_guards.register(
        BookingChangeGuard(key="telehealth", check=refuse_change_outside_flow)
    )
    booking_visibility_filters.register(
        BookingVisibilityFilter(key="telehealth", hidden=hidden_teleconsultations)
    )
    # Rights on the site's cart come from telehealth's own checks, never from a membership of
    # the organisation running the site (which would open all its other bookings).
    booking_authorisers.register(BookingAuthoriser(key="telehealth", authorises=vouch_inside_flow))
    # No role either: their two-factor authentication is offered through this.
    personal_data_handlers.register(
        PersonalDataHandler(key="telehealth", handles=_works_in_telehealth)
    )

    from .tasks import register as register_tasks  # the retention of data

    register_tasks()

    from .indicators import register as register_indicators  # for the observatory

    register_indicators()

    from cybercantal.core.registries import DemoSeeder, demo_seeders

    # `make demo` seeds the reference (hospital, specialties) here and the network with its
    # two years of activity through `manage.py seed_telehealth_demo`, as mediation does.
    demo_seeders.register(
        DemoSeeder(
            key="telehealth",
            label=_("Téléconsultation : hôpital de référence et spécialités"),
            seed=_seed_reference,
            order=40,
        )
    )
    dashboard_cards.register(
        DashboardCard(
            key="telehealth",
            title=_("Téléconsultation"),
            description=_(
                "Réserver une téléconsultation, préparer la séance, coder les actes, suivre "
                "le modèle économique des sites."
            ),
            url_name="telehealth:home",
            order=25,
            is_visible=_may_use_telehealth,
        )
    )
