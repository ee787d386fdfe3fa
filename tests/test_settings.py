"""Configuration: production settings pass Django's deploy checks and send the security headers;
bad values fail loudly."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "OUTERLOOP_BASE_URL": "https://loop.example.com",
    "ALLOWED_HOSTS": "loop.example.com",
    "DATABASE_URL": "postgres://outerloop:pw@127.0.0.1:5432/outerloop",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
    "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
    "OUTERLOOP_OPERATOR_EMAIL": "operator@example.com",
    "OUTERLOOP_BEHIND_PROXY": "true",
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
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize("command", [("check",), ("check", "--deploy"), ("migrate", "--plan")])
def test_an_https_deploy_that_never_said_whether_a_proxy_terminates_tls_is_warned(command):
    """A proxy that terminates TLS sends plain http: without OUTERLOOP_BEHIND_PROXY the app
    redirects every request to https, which the proxy sends on as http again."""
    env = {name: value for name, value in PRODUCTION.items() if name != "OUTERLOOP_BEHIND_PROXY"}

    result = manage(*command, **env)

    assert "outerloop.W004" in result.stderr
    assert "set OUTERLOOP_BEHIND_PROXY=true" in result.stderr


def test_a_deploy_that_never_said_whether_a_proxy_is_in_front_is_warned():
    """Behind a proxy, every client would share its address in the rate limits."""
    env = {name: value for name, value in PRODUCTION.items() if name != "OUTERLOOP_BEHIND_PROXY"}

    result = manage("check", "--deploy", **env, SECURE_SSL_REDIRECT="false")

    assert "outerloop.W005" in result.stderr
    assert "outerloop.W004" not in result.stderr


@pytest.mark.parametrize("value", ["true", "false"])
def test_saying_whether_a_proxy_terminates_tls_silences_the_warning(value):
    result = manage("check", "--deploy", **{**PRODUCTION, "OUTERLOOP_BEHIND_PROXY": value})

    assert "outerloop.W004" not in result.stderr
    assert "outerloop.W005" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "warnings"),
    [
        ("DEBUG", "true", ["security.W018"]),
        ("SECURE_HSTS_SECONDS", "0", ["security.W004"]),
        (
            "OUTERLOOP_BASE_URL",
            "http://loop.example.com",
            ["security.W004", "security.W008", "security.W012", "security.W016"],
        ),
    ],
)
def test_deploy_check_catches_an_unsafe_production_value(name, value, warnings):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, name: value})

    assert result.returncode != 0
    for warning in warnings:
        assert warning in result.stderr


# What a browser gets from the production settings: the real settings module in a process of
# its own (no test overrides), a throwaway SQLite database, collected static files.
RESPONSES = """
import json

import django

django.setup()
from django.core.management import call_command
from django.test import Client

from common.builders import Builder

call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
Builder.objects.create_user("alex@example.com", "a long enough password", name="Alex")


def seen(response):
    return {
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": response.content.decode(),
        "cookies": {
            name: {key: morsel[key] for key in ("secure", "httponly", "samesite")}
            for name, morsel in response.cookies.items()
        },
    }


browser = Client(HTTP_HOST="loop.example.com")
print(json.dumps({
    "http": seen(browser.get("/login/")),
    "login": seen(browser.get("/login/", secure=True)),
    "logged_in": seen(browser.post(
        "/login/",
        {"username": "alex@example.com", "password": "a long enough password"},
        secure=True,
    )),
    "dashboard": seen(browser.get("/", secure=True)),
    "api": seen(Client(HTTP_HOST="loop.example.com").get("/api/v1/today", secure=True)),
}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict:
    var = tmp_path_factory.mktemp("production")
    env = {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"}  # no shared Redis db 0
    env |= {"DATABASE_URL": f"sqlite:///{var}/db.sqlite3", "OUTERLOOP_VAR_DIR": str(var)}
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and k not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL"}
    }
    result = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", RESPONSES],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "outerloop.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_plain_http_to_https(production):
    assert production["http"]["status"] == 301
    assert production["http"]["headers"]["Location"] == "https://loop.example.com/login/"


@pytest.mark.parametrize("page", ["login", "dashboard", "api"])
def test_production_responses_carry_the_security_headers(production, page):
    response = production[page]
    headers = response["headers"]

    assert response["status"] == (401 if page == "api" else 200)
    if page == "dashboard":
        assert '<h1 id="today-heading">Today\'s turn</h1>' in response["body"]
    hsts = headers["Strict-Transport-Security"]
    assert int(re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts)[1]) >= 31_536_000
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("page", ["login", "dashboard"])
def test_production_pages_allow_only_their_own_scripts(production, page):
    response = production[page]
    header = response["headers"]["Content-Security-Policy"]
    policy = {name: value for name, _, value in (d.partition(" ") for d in header.split("; "))}
    nonce = re.fullmatch(r"'self' 'nonce-([\w+/=-]+)'", policy["script-src"])[1]

    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "unsafe" not in header
    # Every script on the page is our own file or carries this response's nonce.
    scripts = re.findall(r"<script\b([^>]*)>", response["body"])
    assert scripts
    for attributes in scripts:
        assert f'nonce="{nonce}"' in attributes or 'src="/static/' in attributes, attributes


def test_production_cookies_are_secure(production):
    session = production["logged_in"]["cookies"]["sessionid"]
    csrf = production["login"]["cookies"]["csrftoken"]

    assert production["logged_in"]["status"] == 302
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    # The CSRF token reaches htmx through the page, and Django's docs explain why HttpOnly adds
    # nothing to it: Secure and SameSite are what matter.
    assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")


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


def test_the_embedded_sqlite_lets_web_and_worker_read_while_one_writes(
    tmp_path, monkeypatch, django_db_blocker
):
    from django.db.utils import ConnectionHandler

    from outerloop.env import env_database

    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env_database("DATABASE_URL", tmp_path / "db.sqlite3")
    handler = ConnectionHandler({"default": config, "web": config, "worker": config})
    web, worker = handler["web"], handler["worker"]
    with django_db_blocker.unblock():
        try:
            with web.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode")
                assert cursor.fetchone()[0] == "wal"
                cursor.execute("CREATE TABLE notes (text TEXT)")
            web.set_autocommit(False)  # as in atomic(): BEGIN IMMEDIATE takes the write lock
            with web.cursor() as cursor:
                cursor.execute("INSERT INTO notes VALUES ('not yet committed')")
            with worker.cursor() as cursor:  # a reader is not blocked by the open write
                cursor.execute("SELECT count(*) FROM notes")
                assert cursor.fetchone()[0] == 0
            web.commit()
            with worker.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM notes")
                assert cursor.fetchone()[0] == 1
        finally:
            handler.close_all()
