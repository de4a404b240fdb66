"""Platform administrators must use two-factor authentication."""

from django.shortcuts import redirect
from django.urls import reverse

from .models import ROLES_REQUIRING_TWO_FACTOR


class RequireTwoFactorMiddleware:
    """A signed-in platform administrator who has not verified a TOTP device in this session
    can only reach the two-factor pages and log out; everything else redirects there."""

    allowed_url_names = {"two_factor_setup", "two_factor_verify", "logout"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.has_role(*ROLES_REQUIRING_TWO_FACTOR)
            and not user.is_verified()
        ):
            match = request.resolver_match or _resolve(request.path_info)
            name = match.url_name if match else None
            if name not in self.allowed_url_names and not request.path_info.startswith("/static/"):
                return redirect(reverse("accounts:two_factor_verify") + f"?next={request.path}")
        return self.get_response(request)


def _resolve(path):
    from django.urls import Resolver404, resolve

    try:
        return resolve(path)
    except Resolver404:
        return None
