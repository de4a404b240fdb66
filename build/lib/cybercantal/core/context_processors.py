from django.conf import settings


def branding(request):
    """Name, colours and logo of the département, for every template."""
    return {"branding": settings.CYBERCANTAL_BRANDING}
