"""The payment provider in use: the class named by settings.COWORKING_PAYMENT_PROVIDER (a
dotted path, like EMAIL_BACKEND), or none when the setting is empty — the default, since
each operator signs its own contract with a provider (see docs/decisions/0004)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import PaymentProvider


def payment_provider() -> PaymentProvider | None:
    """An instance of the configured provider, or None when online payment is off. Raises
    ImproperlyConfigured for a path that does not name a PaymentProvider."""
    path = (getattr(settings, "COWORKING_PAYMENT_PROVIDER", "") or "").strip()
    if not path:
        return None
    try:
        provider_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"COWORKING_PAYMENT_PROVIDER : « {path} » est introuvable ({exc})."
        ) from exc
    if not (isinstance(provider_class, type) and issubclass(provider_class, PaymentProvider)):
        raise ImproperlyConfigured(
            f"COWORKING_PAYMENT_PROVIDER : « {path} » n'est pas un PaymentProvider."
        )
    provider = provider_class()
    if not provider.key:
        raise ImproperlyConfigured(f"COWORKING_PAYMENT_PROVIDER : « {path} » n'a pas de clé.")
    return provider


def online_payment_enabled() -> bool:
    return bool((getattr(settings, "COWORKING_PAYMENT_PROVIDER", "") or "").strip())
