"""Deployment checks of our own (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_reverse_proxy(app_configs, **kwargs):
    """Behind the reverse proxy of docs/deploy.md, every request comes from the proxy's address:
    unless X-Forwarded-For is trusted, all visitors share one rate-limit counter (30 failed
    logins from anyone would lock everyone out) and the audit log records the proxy."""
    behind_proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
    if behind_proxy and settings.TRUSTED_PROXY_COUNT == 0:
        return [
            Warning(
                "CYBERCANTAL_TRUSTED_PROXY_COUNT vaut 0 alors que le site est derrière un "
                "mandataire inverse : tous les visiteurs partageraient la même adresse.",
                hint="Indiquez le nombre de mandataires qui ajoutent X-Forwarded-For "
                "(1 pour un nginx ou un Caddy, voir docs/deploy.md).",
                id="cybercantal.W001",
            )
        ]
    return []
