"""Pages of the platform shell: the home page and the static information pages.

The home page never imports the apps above core: the territory's map, the modules' cards and
sections reach it through core.registries, filled in each app's AppConfig.ready()."""

from django.shortcuts import render

from .registries import visible_dashboard_cards, visible_home_sections


def home(request):
    sections = visible_home_sections(request)
    return render(
        request,
        "core/home.html",
        {
            "sections": sections,
            "cards": visible_dashboard_cards(request),
            "has_demo_data": any(context.get("has_demo_data") for _, context in sections),
        },
    )


def accessibility(request):
    return render(request, "core/accessibility.html")


def data_sources(request):
    return render(request, "core/data_sources.html")
