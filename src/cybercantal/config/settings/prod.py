"""Production: PostgreSQL, real e-mail and SMS backends, HTTPS behind a reverse proxy.

Refuses to start without DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY, env_bool

if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY est obligatoire en production (au moins 50 caractères aléatoires)."
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS est obligatoire en production (noms d'hôte séparés par des virgules)."
    )

if not os.environ.get("CYBERCANTAL_SITE_URL", "").startswith("https://"):
    raise ImproperlyConfigured(
        "CYBERCANTAL_SITE_URL est obligatoire en production : l'adresse publique du site, en "
        "https (elle sert aux liens envoyés par SMS, courriel et dans les agendas)."
    )

# Messages must really leave the platform: development backends would silently print them.
_DEV_BACKENDS = {
    "EMAIL_BACKEND": (
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    ),
    "SMS_BACKEND": (
        "cybercantal.core.notifications.sms.ConsoleSmsBackend",
        "cybercantal.core.notifications.sms.LocmemSmsBackend",
    ),
}
for _name, _refused in _DEV_BACKENDS.items():
    if os.environ.get(_name, globals()[_name]) in _refused:
        raise ImproperlyConfigured(
            f"{_name} : un envoi de développement n'est pas admis en production "
            "(configurez un vrai fournisseur, voir docs/deploy.md)."
        )

# The simulated payment provider pays without money: never in production.
if (
    os.environ.get("CYBERCANTAL_PAYMENT_PROVIDER", "")
    .strip()
    .endswith("payments.simulated.SimulatedPaymentProvider")
):
    raise ImproperlyConfigured(
        "CYBERCANTAL_PAYMENT_PROVIDER : le paiement simulé est réservé au développement "
        "(configurez un vrai prestataire ou laissez vide, voir docs/decisions/0004)."
    )

DEBUG = False
CYBERCANTAL_DEMO_ALLOWED = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
