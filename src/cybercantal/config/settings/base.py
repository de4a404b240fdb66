"""Settings shared by every environment.

Everything that differs between machines comes from environment variables; the defaults are
safe for development (SQLite, console e-mail and SMS). prod.py refuses to start without secrets.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # src/cybercantal
BASE_DIR = PACKAGE_DIR.parents[1]  # repository root
VAR_DIR = Path(os.environ.get("CYBERCANTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "cybercantal.core.admin_config.CyberCantalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    # Our apps, lowest layer first (dependencies flow one way: see ARCHITECTURE.md).
    "cybercantal.core",
    "cybercantal.territory",
    "cybercantal.accounts",
    "cybercantal.booking",
    "cybercantal.coworking",
    "cybercantal.mediation",
    "cybercantal.telehealth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cybercantal.accounts.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cybercantal.config.urls"
WSGI_APPLICATION = "cybercantal.config.wsgi.application"
ASGI_APPLICATION = "cybercantal.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "cybercantal.core.context_processors.branding",
                "cybercantal.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default; DATABASE_URL selects PostgreSQL. On SQLite every write transaction starts
# with BEGIN IMMEDIATE so that concurrent writers are serialised instead of failing half-way.
SQLITE_PATH = VAR_DIR / "cybercantal.sqlite3"
# On PostgreSQL each process keeps its connection between requests (DATABASE_CONN_MAX_AGE
# seconds, 60 by default; 0 closes it after every request): opening one costs a server process
# and several milliseconds of every page. Health checks drop a connection the server closed.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a file: nothing to keep open
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (Django's tasks API through the django-tasks backport) ----------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "notifications"],
    }
}

# --- Cache (rate limiting needs a cache shared by every process) -----------------------------
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cybercantal_cache",
            # Rate-limit counters must not be culled under load (the default keeps 300).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "cybercantal.accounts.backends.OneTimeLoginBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "core:home"
# Never show TOTP secrets in the admin, even to platform administrators.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_TOTP_ISSUER = os.environ.get("CYBERCANTAL_OTP_ISSUER", "CyberCantal")
# One-time login links and SMS codes.
ONE_TIME_LINK_MINUTES = 15
ONE_TIME_CODE_MINUTES = 10
ONE_TIME_CODE_MAX_ATTEMPTS = 5
# Login attempts allowed per window, per account identifier and per client address.
LOGIN_RATE_LIMIT = int(os.environ.get("CYBERCANTAL_LOGIN_RATE_LIMIT", "5"))
LOGIN_RATE_WINDOW_SECONDS = 15 * 60
# Per client address: a France Services desk or a library puts many people behind one address.
LOGIN_RATE_LIMIT_PER_IP = int(os.environ.get("CYBERCANTAL_LOGIN_RATE_LIMIT_PER_IP", "30"))
# How many reverse proxies append to X-Forwarded-For (0: ignore the header, it can be forged).
TRUSTED_PROXY_COUNT = int(os.environ.get("CYBERCANTAL_TRUSTED_PROXY_COUNT", "0"))

# --- Notifications ----------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# A slow mail server must not hold a worker (and, on SQLite, the write lock) for long.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CyberCantal <ne-pas-repondre@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# SMS: a dotted path to a class implementing cybercantal.core.notifications.sms.SmsBackend.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "cybercantal.core.notifications.sms.ConsoleSmsBackend")
SMS_SENDER = os.environ.get("SMS_SENDER", "CYBERCANTAL")
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
SMS_HTTP_TIMEOUT = int(os.environ.get("SMS_HTTP_TIMEOUT", "10"))

# --- Territory and branding -----------------------------------------------------------------
# Each département sets its own name, colours and logo; the State's DSFR brand is not used.
CYBERCANTAL_TERRITORY_CODE = os.environ.get("CYBERCANTAL_TERRITORY_CODE", "15")
TERRITORY_DATA_DIR = BASE_DIR / "data" / "territories"
CYBERCANTAL_BRANDING = {
    "department_name": os.environ.get("CYBERCANTAL_DEPARTMENT_NAME", "Cantal"),
    "platform_name": os.environ.get("CYBERCANTAL_PLATFORM_NAME", "CyberCantal"),
    # Primary colour: white text on it passes WCAG AA (contrast >= 4.5:1).
    "primary_color": os.environ.get("CYBERCANTAL_PRIMARY_COLOR", "#1d4f91"),
    "accent_color": os.environ.get("CYBERCANTAL_ACCENT_COLOR", "#a3301b"),
    "logo": os.environ.get("CYBERCANTAL_LOGO", "core/img/logo.svg"),
    # Map centre and zoom of the home page.
    "map_center": (45.05, 2.65),
    "map_zoom": 9,
}
# Map tiles: OpenStreetMap's standard tiles by default. Their usage policy asks for this
# attribution and a Referer header (core/static/core/js/map.js sends the site's origin).
CYBERCANTAL_MAP_TILES_URL = os.environ.get(
    "CYBERCANTAL_MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
CYBERCANTAL_MAP_TILES_ATTRIBUTION = os.environ.get(
    "CYBERCANTAL_MAP_TILES_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">'
    "les contributeurs d’OpenStreetMap</a>",
)
# The public address of the platform, for links sent by SMS, e-mail and in calendars (no
# request is at hand in a background task). prod.py refuses to start without it.
CYBERCANTAL_SITE_URL = os.environ.get("CYBERCANTAL_SITE_URL", "http://127.0.0.1:8000")
# Booking engine: how long a freed slot offered to the waiting list is held for the person;
# anonymous bookings through the API per client address (each one sends an SMS).
BOOKING_WAITLIST_HOLD_MINUTES = int(os.environ.get("CYBERCANTAL_WAITLIST_HOLD_MINUTES", "30"))
CYBERCANTAL_BOOKING_ANONYMOUS_RATE = os.environ.get("CYBERCANTAL_BOOKING_ANONYMOUS_RATE", "20/h")
# Public holidays: metropolitan France; a département with local ones sets its subdivision
# (e.g. "57" for Moselle), as the `holidays` package names it.
CYBERCANTAL_HOLIDAYS_SUBDIVISION = os.environ.get("CYBERCANTAL_HOLIDAYS_SUBDIVISION") or None
# Demo data is never loaded in production (prod.py sets this to False).
CYBERCANTAL_DEMO_ALLOWED = True

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "fr"
# French only until a translation exists: offering "en" made English browsers get French text
# with English number formats. Every string goes through gettext, so adding one is a .po file.
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security defaults (hardened further in prod.py) -------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # fpdf2 subsets fonts with fontTools, which logs every glyph table at INFO.
        "fontTools": {"level": "WARNING"},
    },
}

# Tiers-lieux figures: g CO₂e per km and per person by usual commuting mode, for the CO₂ a day
# at a tiers-lieu avoids. Orders of magnitude from ADEME (Base Carbone, impactCO2), to be
# checked and adjusted: docs/coworking-figures.md.
CYBERCANTAL_COWORKING_CO2_G_PER_KM = {
    "car": 218,
    "carpool": 109,
    "train": 25,
    "bus": 30,
    "other": 0,
}

# Tiers-lieux online payment of invoices: a dotted path to a class implementing
# cybercantal.coworking.payments.base.PaymentProvider, or "" (the default) for none — payments
# are then recorded at the desk only. COWORKING_PAYMENT_SECRET is the provider's secret that
# signs its notifications (HMAC-SHA256). For development only, without real money:
# "cybercantal.coworking.payments.simulated.SimulatedPaymentProvider" (refused in production).
COWORKING_PAYMENT_PROVIDER = os.environ.get("CYBERCANTAL_PAYMENT_PROVIDER", "")
COWORKING_PAYMENT_SECRET = os.environ.get("CYBERCANTAL_PAYMENT_SECRET", "")

# Teleconsultation video rooms: base URL of a Jitsi-like server (link = base + "/" + room), ""
# for none (sessions then go by phone).
TELEHEALTH_VIDEO_BASE_URL = os.environ.get("CYBERCANTAL_TELEHEALTH_VIDEO_BASE_URL", "")
