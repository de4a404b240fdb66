from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _is_mediator(request) -> bool:
    from .structures import mediator_organisation_ids

    return bool(mediator_organisation_ids(request.user))


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

        demo_seeders.register(
            DemoSeeder(
                key="mediation",
                label=_("Médiation numérique : lieux décrits selon le schéma national"),
                seed=_seed_mediation_demo,
                order=30,
            )
        )
