from django.conf import settings


def branding(request):
    """Name, colours and logo of the département, for every template."""
    return {"branding": settings.CYBERCANTAL_BRANDING}


def navigation(request):
    """The main menu entries that modules registered (core.registries.main_nav_links)."""
    from .registries import visible_nav_links

    return {"module_nav_links": visible_nav_links(request)}
