"""The `outerloop` command, end to end against a live server: real HTTP, real database."""

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from outerloop.models import ApiToken
from reactions.models import Share
from tests.conftest import PHONE_UA
from tests.factories import BuilderFactory, ReactionFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
# Seconds a CLI run may take before the test calls it hung (not a speed check).
HANG_GUARD = 120


@pytest.fixture
def server(live_server, settings):
    settings.OUTERLOOP_BASE_URL = live_server.url
    builder = BuilderFactory(name="Alex", time_zone="Europe/Berlin")
    _, raw = ApiToken.issue(builder, "laptop CLI")
    return live_server.url, raw


def outerloop(
    *args: str, home: Path, url: str = "", token: str = "", stdin: str = "", tz: str = "UTC"
):
    """Run the CLI as a builder's terminal would, in the terminal zone `tz`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTERLOOP_")}
    env.update({"XDG_CONFIG_HOME": str(home), "PYTHONPATH": str(ROOT), "TZ": tz})
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if url:
        env["OUTERLOOP_URL"] = url
    if token:
        env["OUTERLOOP_TOKEN"] = token
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "outerloop.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )


def test_share_prints_a_working_link_and_a_scannable_qr(server, tmp_path):
    url, token = server

    result = outerloop(
        "share",
        "habit-demo.example.com",
        "--to",
        "Sam",
        "--title",
        "Habit demo",
        home=tmp_path,
        url=url,
        token=token,
    )

    assert result.returncode == 0, result.stderr
    share = Share.objects.get()
    link = f"{url}/r/{share.token}/"
    assert f"Send this to Sam:\n\n  {link}\n" in result.stdout
    assert "It opens the preview until" in result.stdout
    assert "█" in result.stdout  # the QR code, drawn with block characters
    assert share.preview.url == "https://habit-demo.example.com"
    assert share.preview.session.title == "Habit demo"
    page = Client(headers={"User-Agent": PHONE_UA}).get(
        reverse("reactions:recipient-page", args=[share.token])
    )
    assert "<bdi>Alex</bdi> built something and would like your reaction." in page.content.decode()


def test_a_reaction_shows_up_in_outerloop_reactions_and_today(server, tmp_path):
    url, token = server
    outerloop(
        "share",
        "https://habit-demo.example.com/",
        "--to",
        "Sam",
        "--no-qr",
        home=tmp_path,
        url=url,
        token=token,
    )
    share = Share.objects.get()
    sam = Client(headers={"User-Agent": PHONE_UA})
    sam.post(
        reverse("reactions:recipient-react", args=[share.token]), {"text": "Loved the streak."}
    )

    reactions = outerloop("reactions", home=tmp_path, url=url, token=token)
    today = outerloop("today", home=tmp_path, url=url, token=token)

    assert reactions.returncode == 0, reactions.stderr
    assert "Sam on habit-demo.example.com" in reactions.stdout
    assert "“Loved the streak.”" in reactions.stdout
    assert today.returncode == 0, today.stderr
    assert "closed: someone reacted" in today.stdout
    assert "Streak: 1 (best 1)" in today.stdout


def test_login_stores_the_url_and_token_readable_only_by_the_user(server, tmp_path):
    url, token = server

    result = outerloop("login", "--url", url, "--token", token, home=tmp_path)
    today = outerloop("today", home=tmp_path)

    assert result.returncode == 0, result.stderr
    config = tmp_path / "outerloop" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text()) == {"url": url, "token": token}
    assert today.returncode == 0 and "nothing sent yet" in today.stdout


def test_a_bad_token_is_refused_with_a_clear_message(server, tmp_path):
    url, _ = server

    result = outerloop("today", home=tmp_path, url=url, token="ol_not-a-real-token")

    assert result.returncode == 3
    assert "The server refused the token" in result.stderr
    assert not (tmp_path / "outerloop").exists()


def test_an_unreachable_server_says_so(tmp_path):
    result = outerloop("today", home=tmp_path, url="http://127.0.0.1:9", token="ol_x")

    assert result.returncode == 4
    assert "Can't reach http://127.0.0.1:9" in result.stderr


def test_a_rejected_url_shows_the_servers_reason(server, tmp_path):
    url, token = server

    result = outerloop(
        "share", "javascript:alert(1)", "--to", "Sam", home=tmp_path, url=url, token=token
    )

    assert result.returncode == 5
    assert "Paste the preview's web address, starting with https://" in result.stderr
    assert not Share.objects.exists()


def test_without_configuration_it_explains_how_to_log_in(tmp_path):
    result = outerloop("today", home=tmp_path)

    assert result.returncode == 2
    assert "Not logged in: run `outerloop login`" in result.stderr


def test_the_cli_runs_without_django(tmp_path):
    probe = "import sys, outerloop.cli; print('django' in sys.modules)"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=tmp_path,
    )
    assert result.stdout.strip() == "False"


def test_times_are_the_builders_zone_and_say_so_whatever_the_terminals_zone(server, tmp_path):
    """Alex lives in Berlin; the laptop's terminal is set to Auckland. A reaction at 12:00 UTC
    on 10 March reads 13:00 CET, as the web page shows it, not 01:00 the next day."""
    url, token = server
    outerloop("share", "https://habit-demo.example.com/", "--to", "Sam", "--no-qr",
              home=tmp_path, url=url, token=token)  # fmt: skip
    share = Share.objects.get()
    ReactionFactory(share=share, created_at=datetime(2026, 3, 10, 12, 0, tzinfo=UTC))

    reactions = outerloop("reactions", home=tmp_path, url=url, token=token, tz="Pacific/Auckland")
    today = outerloop("today", home=tmp_path, url=url, token=token, tz="Pacific/Auckland")

    assert reactions.returncode == 0, reactions.stderr
    assert "Times in Europe/Berlin." in reactions.stdout
    assert "Tue 10 Mar 13:00 CET  Sam on habit-demo.example.com" in reactions.stdout
    assert "your day in Europe/Berlin" in today.stdout
