"""Configuration: production settings pass Django's deploy checks; bad values fail loudly."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "OUTERLOOP_BASE_URL": "https://loop.example.com",
    "DATABASE_URL": "postgres://outerloop:pw@127.0.0.1:5432/outerloop",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
    "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
    "OUTERLOOP_OPERATOR_EMAIL": "operator@example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DJANGO_SETTINGS_MODULE"
    }
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "outerloop.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_deploy_check_warns_when_email_would_only_print():
    env = {**PRODUCTION, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "outerloop.W001" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://root@localhost/db", "DATABASE_URL must be postgres://"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must start with redis://"),
        ("OUTERLOOP_PREVIEW_TTL", "an hour", "OUTERLOOP_PREVIEW_TTL must be a whole number"),
        ("OUTERLOOP_PREVIEW_TTL", "5", "OUTERLOOP_PREVIEW_TTL must be at least 60"),
        ("OUTERLOOP_BASE_URL", "loop.example.com", "OUTERLOOP_BASE_URL must be an http(s) origin"),
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 50 characters"),
        ("OUTERLOOP_OPERATOR_EMAIL", "ops at example", "OUTERLOOP_OPERATOR_EMAIL must be an email"),
    ],
)
def test_a_bad_variable_stops_start_up_naming_it(name, value, message):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert message in result.stderr
