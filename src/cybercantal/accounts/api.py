"""Authentication of the API, and the account endpoints (/me).

Two ways in:
- a personal token, `Authorization: Bearer <token>` (or `Token <token>`, the form some
  tools use), for scripts and other services;
- the browser session of a signed-in person, for the platform's own pages. A session request
  that changes something must carry the CSRF token, as any form of the site does; a token
  request needs none (a token is never sent by the browser on its own, so it cannot be forged
  from another site).
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.responses import Status
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from cybercantal.core.http import client_ip

from .models import ApiToken
from .selectors import membership_list
from .tokens import api_token_authenticate, api_token_list, api_token_revoke

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TOKEN_SCHEMES = frozenset({"bearer", "token"})


class InvalidToken(AuthenticationError):
    """A token was presented and refused (unknown, revoked, or its account is inactive)."""


class ApiTokenAuth(HttpBearer):
    """A personal token in the Authorization header.

    No header, or a header of another scheme (`Basic`, sent by a proxy protecting a test
    site): not this method's business, the next one is tried. A Bearer or Token header that
    does not hold a valid token: refused at once (401), never downgraded to anonymous access."""

    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization", "")
        scheme, _space, raw = header.strip().partition(" ")
        if scheme.lower() not in TOKEN_SCHEMES:
            return None
        user = self.authenticate(request, raw.strip())
        if user is None:
            raise InvalidToken()
        return user

    def authenticate(self, request: HttpRequest, token: str):
        return api_token_authenticate(token)


class SessionAuth(APIKeyCookie):
    """The signed-in person's session (Django's session cookie).

    Unlike ninja's django_auth, CSRF is checked only when a session actually authenticates the
    request and the method is unsafe: an anonymous call needs no CSRF token, and a missing one
    is reported in French (403)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if (
            self.csrf
            and request.method not in SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise HttpError(
                403,
                _(
                    "Jeton CSRF manquant ou invalide : rechargez la page, ou utilisez un jeton "
                    "d'API pour les appels hors du navigateur."
                ),
            )
        return user

    def authenticate(self, request: HttpRequest, key: str | None):
        return None  # unused: __call__ reads the user the session middleware already loaded


class AnonymousAccess:
    """Last in the list of a public endpoint: lets the request through as AnonymousUser."""

    def __call__(self, request: HttpRequest):
        return AnonymousUser()


token_auth = ApiTokenAuth()
session_auth = SessionAuth()
# Endpoints reserved to a person (token or session).
AUTHENTICATED = [token_auth, session_auth]
# Public endpoints: the same, then anonymous. The token comes first so that a bad token is
# refused even when a session cookie or nothing else is present.
PUBLIC = [token_auth, session_auth, AnonymousAccess()]


# --- Endpoints --------------------------------------------------------------------------------

router = Router(tags=["Compte"])


class RoleOut(Schema):
    code: str
    label: str
    organisation: str


class MeOut(Schema):
    username: str
    full_name: str
    roles: list[RoleOut]


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@router.get(
    "/me",
    response=MeOut,
    summary="Mon compte",
    description="Le compte authentifié (jeton ou session) : identifiant, nom et rôles tenus "
    "par ses appartenances actives. Sans authentification : 401.",
)
def me(request: HttpRequest):
    user = request.auth
    memberships = membership_list(actor=user)
    return {
        "username": user.username,
        "full_name": user.get_full_name(),
        "roles": [
            {
                "code": membership.role,
                "label": str(membership.get_role_display()),
                "organisation": membership.organisation.name,
            }
            for membership in memberships
        ],
    }


@router.get(
    "/me/tokens",
    response=list[ApiTokenOut],
    summary="Mes jetons d'API",
    description="Les jetons du compte, révoqués compris. Le secret n'est jamais renvoyé : il "
    "n'est affiché qu'une fois, à la création (page « Mon compte » ou commande "
    "`create_api_token`).",
)
def my_tokens(request: HttpRequest):
    return api_token_list(actor=request.auth)


@router.delete(
    "/me/tokens/{int:token_id}",
    response={204: None},
    summary="Révoquer un jeton",
    description="Révoque un jeton du compte (un administrateur de la plateforme peut révoquer "
    "celui de n'importe qui). Le jeton d'un autre compte : 403. Révoquer deux fois ne change "
    "rien. En session, l'en-tête X-CSRFToken est exigé.",
)
def revoke_token(request: HttpRequest, token_id: int):
    try:
        api_token_revoke(actor=request.auth, token_id=token_id, ip_address=client_ip(request))
    except ApiToken.DoesNotExist:
        raise HttpError(404, _("Jeton inconnu : %(id)s.") % {"id": token_id}) from None
    except PermissionDenied as error:
        raise HttpError(403, str(error) or _("Action non autorisée.")) from None
    return Status(204, None)
