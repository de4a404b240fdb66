"""Tests: same database selection as base (SQLite unless DATABASE_URL), fast and offline.

On SQLite the test database is in memory (one per test process); Django shares it with the
live server thread used by the browser tests."""

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105 - tests only
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "cybercantal.core.notifications.sms.LocmemSmsBackend"
# Tasks run in-process at enqueue time, i.e. after commit, exactly as the worker would run them.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "notifications"],
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = VAR_DIR / "static-test"
# WhiteNoise warns (and warnings are errors) when STATIC_ROOT does not exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
