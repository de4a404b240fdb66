from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _is_mediator(request) -> bool:
    from .structures import mediator_organisation_ids

    return bool(mediator_organisation_ids(request.user))


def _is_territory_staff(request) -> bool:
    from cybercantal.booking.perms import TERRITORY_STAFF_ROLES

    user = request.user
    return user.is_authenticated and user.has_role(*TERRITORY_STAFF_ROLES)


def _mediation_indicators(*, year: int):
    # Imported when the observatory asks: the coverage selectors stay out of start-up.
    from .indicators import mediation_indicators

    return mediation_indicators(year=year)


def _seed_mediation_demo():
    # Imported when seeding only: demo code stays out of every other process.
    from .demo import seed_mediation_demo

    return seed_mediation_demo()


class MediationConfig(AppConfig):
    name = "cybercantal.mediation"
    label = "mediation"
    verbose_name = _("Médiation numérique")

    def ready(self) -> None:
        from cybercantal.core.registries import (
            DashboardCard,
            DemoSeeder,
            dashboard_cards,
            demo_seeders,
        )

        dashboard_cards.register(
            DashboardCard(
                key="mediation_tours_public",
                title=_("Un médiateur numérique près de chez vous"),
                description=_(
                    "Les prochains passages des médiateurs itinérants dans les communes, "
                    "pour prendre rendez-vous."
                ),
                url_name="mediation:tour_stops_public",
                order=20,
            )
        )
        dashboard_cards.register(
            DashboardCard(
                key="mediation_activities",
                title=_("Mes comptes rendus d'accompagnement"),
                description=_("Noter en quelques clics l'aide apportée, et la retrouver."),
                url_name="mediation:activities",
                order=15,
                is_visible=_is_mediator,
            )
        )
        dashboard_cards.register(
            DashboardCard(
                key="mediation_tours",
                title=_("Mes tournées itinérantes"),
                description=_("Planifier les étapes, les déplacer, prévenir les personnes."),
                url_name="mediation:tour_list",
                order=16,
                is_visible=_is_mediator,
            )
        )
        dashboard_cards.register(
            DashboardCard(
                key="mediation_mandates",
                title=_("Mandats"),
                description=_(
                    "Agir au nom d'une personne pour ses démarches, avec son accord, "
                    "et tenir le journal de chaque utilisation."
                ),
                url_name="mediation:mandates",
                order=17,
                is_visible=_is_mediator,
            )
        )

        dashboard_cards.register(
            DashboardCard(
                key="mediation_dashboard",
                title=_("Tableau de bord de la médiation numérique"),
                description=_(
                    "L'aide apportée par thématique et par mois, les personnes accompagnées, "
                    "leur autonomie, la carte des communes."
                ),
                url_name="mediation:dashboard",
                order=18,
                is_visible=lambda request: _is_mediator(request) or _is_territory_staff(request),
            )
        )
        dashboard_cards.register(
            DashboardCard(
                key="mediation_coverage",
                title=_("Couverture du territoire en médiation numérique"),
                description=_(
                    "Les communes loin de toute aide, et l'effet d'une nouvelle étape de tournée."
                ),
                url_name="mediation:coverage",
                order=19,
                is_visible=_is_territory_staff,
            )
        )

        from cybercantal.core.registries import IndicatorProvider, indicator_providers

        indicator_providers.register(
            IndicatorProvider(
                key="mediation",
                label=_("Médiation numérique"),
                compute=_mediation_indicators,
                order=30,
            )
        )

        demo_seeders.register(
            DemoSeeder(
                key="mediation",
                label=_("Médiation numérique : lieux décrits selon le schéma national"),
                seed=_seed_mediation_demo,
                order=30,
            )
        )

        from .tasks import register_periodic_jobs  # the retention of personal data

        register_periodic_jobs()
