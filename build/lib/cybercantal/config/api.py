"""The public API, /api/v1/. Each app contributes a router from its api.py."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="CyberCantal API",
    version="1",
    description="API des services publics numériques du territoire.",
    urls_namespace="api",
)
