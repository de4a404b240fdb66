"""The public API, /api/v1/. Each app contributes a router from its api.py.

Every answer is JSON, errors included, with a French message under "detail":
- 401 {"detail": "Authentification requise."}, with a WWW-Authenticate header;
- 403 when authenticated but not allowed (or a session call without its CSRF token);
- 404 for an unknown object, an object the caller may not see, or an unknown route;
- 405 for a method the route does not accept;
- 422 {"detail": "Paramètres invalides.", "errors": [{"champ": …, "message": …}]};
- 500 {"detail": …}: a last safety net that logs the exception; no input should reach it.
"""

import functools
import logging

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cybercantal.accounts.api import AUTHENTICATED, PUBLIC, InvalidToken
from cybercantal.accounts.api import router as accounts_router
from cybercantal.booking.api import router as booking_router
from cybercantal.core.api import router as core_router
from cybercantal.territory.api import router as territory_router

logger = logging.getLogger("cybercantal.api")

DESCRIPTION = """
API ouverte des services publics numériques du territoire : communes, EPCI, lieux (tiers-lieux,
médiation numérique, France Services, téléconsultation…).

**Authentification.** Les données publiques se lisent sans authentification. Un jeton d'API
personnel (créé depuis « Mon compte » ou par `manage.py create_api_token`) s'envoie dans
l'en-tête `Authorization: Bearer <jeton>` (la forme `Token <jeton>` est aussi acceptée) ; la
réponse inclut alors ce que ce compte peut voir en plus. Un jeton invalide ou révoqué est
refusé (401), même sur un point d'accès public. Dans le navigateur, la session de la
personne connectée suffit ; une requête qui modifie quelque chose exige alors l'en-tête
`X-CSRFToken`.

**Listes.** Paginées par `limit` (50 par défaut, 250 au plus) et `offset` ; la réponse donne
`items` et `count`, le nombre total de résultats.

**Erreurs.** Toujours du JSON avec un message en français dans `detail` ; un paramètre
invalide répond 422 avec la liste `errors` des champs en cause.
"""

# Messages of pydantic's error types, in French. The values in braces come from the error's
# context (the bound that was crossed, the length allowed).
VALIDATION_MESSAGES = {
    "missing": gettext_noop("Ce paramètre est obligatoire."),
    "int_parsing": gettext_noop("Nombre entier attendu."),
    "int_parsing_size": gettext_noop("Nombre trop grand."),
    "int_from_float": gettext_noop("Nombre entier attendu."),
    "int_type": gettext_noop("Nombre entier attendu."),
    "float_parsing": gettext_noop("Nombre attendu."),
    "float_type": gettext_noop("Nombre attendu."),
    "finite_number": gettext_noop("Nombre fini attendu."),
    "bool_parsing": gettext_noop("Valeur attendue : true ou false."),
    "bool_type": gettext_noop("Valeur attendue : true ou false."),
    "greater_than": gettext_noop("Doit être strictement supérieur à {gt}."),
    "greater_than_equal": gettext_noop("Doit être supérieur ou égal à {ge}."),
    "less_than": gettext_noop("Doit être strictement inférieur à {lt}."),
    "less_than_equal": gettext_noop("Doit être inférieur ou égal à {le}."),
    "string_too_short": gettext_noop("Doit compter au moins {min_length} caractère(s)."),
    "string_too_long": gettext_noop("Doit compter au plus {max_length} caractères."),
    "string_type": gettext_noop("Texte attendu."),
    "string_pattern_mismatch": gettext_noop("Format invalide."),
    "string_unicode": gettext_noop("Texte UTF-8 attendu."),
    "json_invalid": gettext_noop("JSON invalide."),
    "dict_type": gettext_noop("Objet JSON attendu."),
    "model_attributes_type": gettext_noop("Objet JSON attendu."),
    "list_type": gettext_noop("Liste attendue."),
    "enum": gettext_noop("Valeur non reconnue."),
    "literal_error": gettext_noop("Valeur non reconnue."),
}
# Generic messages for ninja's own HttpErrors (parser, throttling), which speak English.
STATUS_MESSAGES = {
    400: gettext_noop("Requête invalide."),
    401: gettext_noop("Authentification requise."),
    403: gettext_noop("Accès refusé."),
    404: gettext_noop("Ressource introuvable."),
    405: gettext_noop("Méthode non autorisée."),
    413: gettext_noop("Requête trop volumineuse."),
    429: gettext_noop("Trop de requêtes : réessayez dans quelques instants."),
}

# The English messages of ninja's own HttpErrors (request body parser, CSRF of its session
# authentication, throttling, bare AuthorizationError).
NINJA_MESSAGES = (
    "Cannot parse request body",
    "CSRF check Failed",
    "Too many requests",
    "Unauthorized",
    "Forbidden",
)


class CyberCantalApi(NinjaAPI):
    """NinjaAPI whose every answer under /api/v1/ is JSON: an unknown route gets a JSON 404
    (not the site's HTML page), a wrong method a JSON 405, the root a pointer to the docs."""

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_method_not_allowed(pattern.callback, self)
        # ninja's root view (last) raises a bare Http404; replaced, keeping its name, which
        # ninja reverses to build the paths of the OpenAPI document.
        urls[-1] = path("", functools.partial(_api_root, api=self), name="api-root")
        # Last of all: whatever no route above matched.
        urls.append(re_path(r"^[\s\S]+$", csrf_exempt(functools.partial(_unknown_route, api=self))))
        return urls


def _json_method_not_allowed(view, api: NinjaAPI):
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = api.create_response(
                request, {"detail": _("Méthode non autorisée.")}, status=405
            )
            response["Allow"] = allowed
        return response

    return wrapper


def _api_root(request: HttpRequest, api: NinjaAPI) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": _("API CyberCantal, version %(version)s.") % {"version": api.version},
            "documentation": request.build_absolute_uri(request.path + "docs"),
            "openapi": request.build_absolute_uri(request.path + "openapi.json"),
        },
        status=200,
    )


def _unknown_route(request: HttpRequest, api: NinjaAPI) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": _("Adresse inconnue dans l'API. Voir la documentation : /api/v1/docs.")},
        status=404,
    )


api = CyberCantalApi(
    title="API CyberCantal",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
)


# --- Errors ---------------------------------------------------------------------------------


def _field_name(loc) -> str:
    # loc is ("query", "radius_km") or ("body", "payload", "name"): the source is dropped.
    parts = [str(part) for part in loc[1:]] if len(loc) > 1 else [str(part) for part in loc]
    return ".".join(parts)


def _number(value):
    """200.0 reads 200, 0.5 reads 0,5: bounds as a French reader writes them."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value).replace(".", ",")
    return value


def _french_message(error: dict) -> str:
    context = error.get("ctx") or {}
    if error.get("type") == "value_error" and context.get("error"):
        # Our own validators raise ValueError with a French message.
        return str(context["error"])
    template = VALIDATION_MESSAGES.get(error.get("type", ""))
    if template is None:
        return _("Valeur invalide.")
    try:
        return _(template).format(**{key: _number(value) for key, value in context.items()})
    except (KeyError, IndexError, ValueError):
        return _(template)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"champ": _field_name(error.get("loc", ())), "message": _french_message(error)}
        for error in exc.errors
        if isinstance(error, dict)
    ]
    return api.create_response(
        request, {"detail": _("Paramètres invalides."), "errors": errors}, status=422
    )


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    # A service refusing its input (ValidationError with French messages) is a 422 too.
    if hasattr(exc, "error_dict"):
        errors = [
            {"champ": field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"champ": "", "message": message} for message in exc.messages]
    return api.create_response(
        request, {"detail": _("Paramètres invalides."), "errors": errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": _("Authentification requise.")}, status=401)
    # RFC 6750: tells a client whether to send a token or to replace the one it sent.
    if isinstance(exc, InvalidToken):
        response["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
    else:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Our handlers raise HttpError with a French message; ninja's internals raise English
    # ones, replaced by a French message of the same status.
    message = str(exc)
    if not message or message.startswith(NINJA_MESSAGES):
        message = _(STATUS_MESSAGES.get(exc.status_code, gettext_noop("Requête refusée.")))
    return api.create_response(request, {"detail": message}, status=exc.status_code)


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or _("Action non autorisée.")}, status=403
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Django's own 404 messages are English and may name a model: not shown.
    return api.create_response(request, {"detail": _("Ressource introuvable.")}, status=404)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The last safety net: every input is validated before it reaches this point, so getting
    # here is a bug, logged with its traceback for the team to fix.
    logger.exception("Erreur inattendue dans l'API : %s %s", request.method, request.path)
    return api.create_response(
        request,
        {"detail": _("Erreur interne du serveur. L'équipe technique a été prévenue.")},
        status=500,
    )


api.add_router("", territory_router, auth=PUBLIC)
api.add_router("", accounts_router, auth=AUTHENTICATED)
api.add_router("", booking_router, auth=PUBLIC)
api.add_router("", core_router, auth=PUBLIC)
if apps.is_installed("cybercantal.coworking"):
    from cybercantal.coworking.api import router as coworking_router

    api.add_router("", coworking_router, auth=PUBLIC)
if apps.is_installed("cybercantal.mediation"):
    from cybercantal.mediation.api import router as mediation_router

    api.add_router("", mediation_router, auth=PUBLIC)
if apps.is_installed("cybercantal.telehealth"):
    from cybercantal.telehealth.api import router as telehealth_router

    api.add_router("", telehealth_router, auth=AUTHENTICATED)
