"""Platform administrators must use two-factor authentication."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .models import ROLES_REQUIRING_TWO_FACTOR


class RequireTwoFactorMiddleware:
    """A signed-in platform administrator who has not verified a TOTP device in this session
    can only reach the two-factor pages and log out; everything else redirects there: to the
    setup page if they have no device yet, to the verification page otherwise. API calls made
    with the session get a 403 in JSON instead of a redirect."""

    allowed_view_names = {
        "accounts:two_factor_setup",
        "accounts:two_factor_verify",
        "accounts:logout",
    }
    # Static files are served by WhiteNoise before this middleware; this covers runserver.
    allowed_path_prefixes = ("/static/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.has_role(*ROLES_REQUIRING_TWO_FACTOR)
            and not user.is_verified()
            and not self._is_allowed(request)
        ):
            return self._refuse(request, user)
        return self.get_response(request)

    def _is_allowed(self, request) -> bool:
        if request.path_info.startswith(self.allowed_path_prefixes):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        # Compared with the namespace: another app's "logout" is not an exit.
        return match.view_name in self.allowed_view_names

    def _refuse(self, request, user):
        from django_otp import user_has_device

        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Double authentification requise : vérifiez-vous sur le site.")},
                status=403,
            )
        target = (
            "accounts:two_factor_verify" if user_has_device(user) else "accounts:two_factor_setup"
        )
        # Only a GET can be replayed after the check; the full path keeps its query string,
        # and urlencode keeps it whole inside `next` ("&", "#", spaces…).
        next_path = request.get_full_path() if request.method == "GET" else request.path
        return redirect(f"{reverse(target)}?{urlencode({'next': next_path})}")
