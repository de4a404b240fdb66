from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoryConfig(AppConfig):
    name = "cybercantal.territory"
    label = "territory"
    verbose_name = _("Territoire")

    def ready(self) -> None:
        from cybercantal.core.registries import HomeSection, home_sections

        from . import views

        # The map and list of places on the home page (core renders registered sections).
        home_sections.register(
            HomeSection(
                key="territory.places_map",
                template_name="territory/includes/home_places.html",
                get_context=views.home_map_section,
                order=50,
            )
        )
