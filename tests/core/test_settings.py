"""Production settings refuse to start without their secrets, and pass `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh interpreter with only `env` (plus PATH): the test's own
    settings and variables (DATABASE_URL, DJANGO_*) do not leak in."""
    clean = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **env}
    return subprocess.run(  # noqa: S603 - fixed command, our own interpreter
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def prod_env(tmp_path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "cybercantal.config.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "services.cantal.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "CYBERCANTAL_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "SMS_BACKEND": "cybercantal.core.notifications.sms.HttpSmsBackend",
        "SMS_HTTP_URL": "https://sms.example.org/v1/messages",
        "SMS_HTTP_TOKEN": secrets.token_urlsafe(20),
        "CYBERCANTAL_TRUSTED_PROXY_COUNT": "1",
        "CYBERCANTAL_SITE_URL": "https://services.cantal.example",
    }


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY est obligatoire en production"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS est obligatoire en production"),
        ("CYBERCANTAL_SITE_URL", "CYBERCANTAL_SITE_URL est obligatoire en production"),
    ],
)
def test_production_refuses_to_start_without(prod_env, missing, message):
    del prod_env[missing]
    result = manage("check", env=prod_env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_a_short_secret_key(prod_env):
    prod_env["DJANGO_SECRET_KEY"] = "trop-court"
    result = manage("check", env=prod_env)
    assert result.returncode != 0
    assert "au moins 50 caractères" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMS_BACKEND", "cybercantal.core.notifications.sms.ConsoleSmsBackend"),
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
    ],
)
def test_production_refuses_development_backends(prod_env, name, value):
    prod_env[name] = value
    result = manage("check", env=prod_env)
    assert result.returncode != 0
    assert f"{name} : un envoi de développement n'est pas admis" in result.stderr


def test_production_passes_the_deployment_checklist(prod_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=prod_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_demo_data(prod_env):
    result = manage("seed_demo", env=prod_env)
    assert result.returncode != 0
    assert "interdites" in result.stderr


def test_the_deployment_checklist_warns_when_the_proxy_is_not_trusted(prod_env):
    prod_env["CYBERCANTAL_TRUSTED_PROXY_COUNT"] = "0"
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=prod_env)
    assert result.returncode != 0
    assert "cybercantal.W001" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("postgres://u@127.0.0.1:5432/db", {}, "60 True"),
        ("postgres://u@127.0.0.1:5432/db", {"DATABASE_CONN_MAX_AGE": "0"}, "0 True"),
        ("sqlite:///x.sqlite3", {}, "0 True"),
    ],
)
def test_postgresql_connections_are_kept_between_requests(prod_env, url, env, expected):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
        env=prod_env | {"DATABASE_URL": url} | env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
