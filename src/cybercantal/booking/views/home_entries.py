"""The booking entries of the home page and the main navigation (core.registries),
registered from BookingConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from ._common import _agent_resources


def _is_signed_in(request) -> bool:
    return request.user.is_authenticated


def _is_agent(request) -> bool:
    return _agent_resources(request.user).exists()


def register_home_entries() -> None:
    """The booking cards of the home page: booking for everyone, "my bookings" for signed-in
    people, the agenda for agents."""
    from cybercantal.core.registries import DashboardCard, NavLink, dashboard_cards, main_nav_links

    main_nav_links.register(
        NavLink(
            key="booking.start",
            label=gettext_lazy("Prendre rendez-vous"),
            url_name="booking:start",
            order=10,
        )
    )
    main_nav_links.register(
        NavLink(
            key="booking.agenda",
            label=gettext_lazy("Agenda"),
            url_name="booking:agenda",
            order=20,
            is_visible=_is_agent,
        )
    )

    dashboard_cards.register(
        DashboardCard(
            key="booking.start",
            title=gettext_lazy("Prendre rendez-vous"),
            description=gettext_lazy(
                "Un rendez-vous près de chez vous : aide au numérique, démarches, "
                "téléconsultation, bureau ou salle. Sans compte, avec votre téléphone portable."
            ),
            url_name="booking:start",
            order=10,
        )
    )
    dashboard_cards.register(
        DashboardCard(
            key="booking.mine",
            title=gettext_lazy("Mes réservations"),
            description=gettext_lazy("Voir, déplacer ou annuler vos rendez-vous à venir."),
            url_name="booking:my_bookings",
            order=11,
            is_visible=_is_signed_in,
        )
    )
    dashboard_cards.register(
        DashboardCard(
            key="booking.agenda",
            title=gettext_lazy("Agenda des rendez-vous"),
            description=gettext_lazy(
                "Les rendez-vous de vos lieux, réserver pour une personne au téléphone, "
                "annuler une journée."
            ),
            url_name="booking:agenda",
            order=12,
            is_visible=_is_agent,
        )
    )
