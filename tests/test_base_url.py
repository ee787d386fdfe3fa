"""Links tell the truth about where the app answers: the base URL follows WEB_BIND, and a
loopback base URL is called out at start-up and on the dashboard."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from outerloop import env

ROOT = Path(__file__).resolve().parent.parent
LOCAL_ONLY = "Links from here open only on this computer."


def production(*args: str, **variables: str) -> subprocess.CompletedProcess:
    """Run `args` with the production settings and exactly these deploy variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "OUTERLOOP_BASE_URL", "WEB_BIND", "REDIS_URL"}
        and not k.startswith("DATABASE_")
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "outerloop.settings", **variables},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SHARE_LINKS = """
import json, django
django.setup()
from django.conf import settings
from reactions.models import Share
from reactions.sharing import share_link
share = Share(token="tok3n")
print(json.dumps({
    "base": settings.OUTERLOOP_BASE_URL,
    "link": share_link(share),
    "qr": share_link(share, via_qr=True),
    "hosts": settings.ALLOWED_HOSTS,
    "csrf": settings.CSRF_TRUSTED_ORIGINS,
}))
"""


def test_another_port_in_web_bind_moves_every_link_with_it(tmp_path):
    """`WEB_BIND=127.0.0.1:8101 make run`: gunicorn answers on 8101, and so must the links."""
    done = production("-c", SHARE_LINKS, WEB_BIND="127.0.0.1:8101", OUTERLOOP_VAR_DIR=str(tmp_path))

    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["base"] == "http://127.0.0.1:8101"
    assert found["link"] == "http://127.0.0.1:8101/r/tok3n/"
    assert found["qr"] == "http://127.0.0.1:8101/r/tok3n/?via=qr"
    assert found["csrf"] == ["http://127.0.0.1:8101"]


def test_a_set_base_url_wins_over_web_bind(tmp_path):
    done = production(
        "-c",
        SHARE_LINKS,
        WEB_BIND="0.0.0.0:8000",
        OUTERLOOP_BASE_URL="https://loop.example.com",
        OUTERLOOP_VAR_DIR=str(tmp_path),
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["link"] == "https://loop.example.com/r/tok3n/"


@pytest.mark.parametrize(
    ("bind", "origin"),
    [
        ("127.0.0.1:8101", "http://127.0.0.1:8101"),
        ("localhost:9000", "http://localhost:9000"),
        ("[::1]:8101", "http://[::1]:8101"),
        ("loop.lan:8000", "http://loop.lan:8000"),
        ("192.168.1.23:80", "http://192.168.1.23"),
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("unix:/run/outerloop.sock", "http://127.0.0.1:8000"),
    ],
)
def test_the_base_url_is_where_gunicorn_listens(bind, origin):
    assert env.base_url_for_bind("WEB_BIND", bind) == origin


@pytest.mark.parametrize("bind", ["0.0.0.0:8000", "[::]:8000", ":8000"])
def test_a_bind_to_every_interface_links_to_the_lan_address(bind, monkeypatch):
    """A builder who binds every interface wants the phones on their Wi-Fi to open links."""
    lan = {socket.AF_INET: "192.168.1.23", socket.AF_INET6: "fd00::23"}
    monkeypatch.setattr(env, "lan_address", lambda family=socket.AF_INET: lan[family])

    assert env.base_url_for_bind("WEB_BIND", bind) == "http://192.168.1.23:8000"


def test_a_bind_to_every_interface_without_a_network_links_to_this_computer(monkeypatch):
    monkeypatch.setattr(env, "lan_address", lambda family=socket.AF_INET: None)

    assert env.base_url_for_bind("WEB_BIND", "0.0.0.0:8000") == "http://127.0.0.1:8000"


def test_the_lan_address_is_a_routable_address_of_this_machine_or_none():
    found = env.lan_address()

    assert found is None or not env.is_loopback_origin(f"http://{found}")


@pytest.mark.parametrize("bind", ["127.0.0.1:http", "127.0.0.1:70000", "::1:8000", "[::1:8000"])
def test_a_malformed_web_bind_fails_loudly(bind):
    with pytest.raises(ImproperlyConfigured, match="WEB_BIND"):
        env.base_url_for_bind("WEB_BIND", bind)


@pytest.mark.parametrize(
    ("origin", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.5.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://app.localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://[::ffff:127.0.0.1]:8000", True),
        ("http://0.0.0.0:8000", True),
        ("http://192.168.1.23:8000", False),
        ("https://loop.example.com", False),
        ("https://localhost.example.com", False),
    ],
)
def test_loopback_origins(origin, loopback):
    assert env.is_loopback_origin(origin) is loopback


def test_start_up_says_a_loopback_base_url_cannot_open_on_a_phone(tmp_path):
    """`make run` runs `manage.py check` just before it starts the processes."""
    done = production(
        "manage.py", "check", WEB_BIND="127.0.0.1:8101", OUTERLOOP_VAR_DIR=str(tmp_path)
    )

    assert done.returncode == 0, done.stderr
    assert "outerloop.W006" in done.stderr
    assert "OUTERLOOP_BASE_URL is http://127.0.0.1:8101, a loopback address" in done.stderr
    assert "can't open on the recipient's phone" in done.stderr
    assert "WEB_BIND=0.0.0.0:8000" in done.stderr
    assert "http://192.168.x.y:8000" in done.stderr
    assert "public URL" in done.stderr


def test_start_up_is_quiet_about_a_reachable_base_url(tmp_path):
    done = production(
        "manage.py",
        "check",
        OUTERLOOP_BASE_URL="http://192.168.1.23:8000",
        OUTERLOOP_VAR_DIR=str(tmp_path),
    )

    assert done.returncode == 0, done.stderr
    assert "outerloop.W006" not in done.stderr


def test_the_makefile_checks_the_configuration_right_before_it_starts():
    recipe = subprocess.run(
        ["make", "-n", "run"],  # noqa: S607 - make on PATH, as the README says
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    commands = [line for line in recipe if "manage.py" in line or "honcho" in line]

    assert "manage.py check" in commands[-2]
    assert "honcho start" in commands[-1]


def test_the_dashboard_tells_any_builder_that_loopback_links_open_nowhere_else(
    owner_client, settings
):
    settings.OUTERLOOP_BASE_URL = "http://127.0.0.1:8101"

    page = owner_client.get("/").content.decode()

    assert LOCAL_ONLY in page
    assert "<code>http://127.0.0.1:8101</code>" in page
    assert "http://192.168.x.y:8000" in page
    assert "public URL or tunnel" in page


def test_the_dashboard_says_nothing_when_links_reach_phones(owner_client, settings):
    settings.OUTERLOOP_BASE_URL = "http://192.168.1.23:8000"

    page = owner_client.get("/").content.decode()

    assert LOCAL_ONLY not in page
