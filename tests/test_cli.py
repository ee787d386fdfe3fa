"""The `outerloop` command, end to end against a live server: real HTTP, real database."""

import json
import os
import re
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from common.builders import Builder
from outerloop.models import ApiToken
from reactions.models import Recipient, Share
from sessions.models import BuildSession, Preview
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
    assert result.stderr == (
        "outerloop: Can't reach http://127.0.0.1:9: nothing answers at that address "
        "(connection refused). Check your connection and the server's URL (`outerloop login`, "
        "or OUTERLOOP_URL).\n"
    )


def nothing_saved() -> bool:
    return not any(model.objects.exists() for model in (BuildSession, Preview, Recipient, Share))


def test_an_empty_name_is_refused_in_plain_words_and_leaves_nothing_behind(server, tmp_path):
    """Issue 12: `--to ""` printed the raw "Rejected (422): String should have at least 1
    character" and left a session "shown to 0 people" behind."""
    url, token = server

    result = outerloop(
        "share", "https://myapp.vercel.app", "--to", "", home=tmp_path, url=url, token=token
    )

    assert result.returncode == 5
    assert result.stderr == (
        "outerloop: The person's name can't be empty: --to needs a name.\nNothing was saved.\n"
    )
    assert result.stdout == ""
    assert nothing_saved()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["javascript:alert(1)", "--to", "Sam"],
         "Paste the preview's web address, starting with https:// (or http://)."),
        (["https://myapp.vercel.app", "--to", "   "],
         "Name one person, e.g. “Sam — climbing gym”."),
        (["https://myapp.vercel.app", "--to", "Sam", "--ttl", "5"],
         "How long the preview opens is too short: --ttl must be at least 60 seconds."),
        (["https://myapp.vercel.app", "--to", "Sam", "--ttl", "9999999"],
         "How long the preview opens is too long: --ttl must be at most 604800 seconds."),
        (["https://myapp.vercel.app", "--to", "Sam", "--title", "x" * 121],
         "The title is too long: --title takes at most 120 characters."),
        (["https://myapp.vercel.app", "--to", "Sam", "--session", ""],
         "The session can't be empty: --session needs a session's title or #number."),
        (["https://myapp.vercel.app", "--to", "Sam", "--session", "Habit demo"],
         "You have no session called “Habit demo”."),
        (["https://myapp.vercel.app", "--to", "Sam", "--session", "#12"],
         "You have no session numbered #12."),
        (["https://myapp.vercel.app", "--to", "x" * 161],
         "The person's name is too long: --to takes at most 160 characters."),
    ],
)  # fmt: skip
def test_a_refused_share_says_why_and_leaves_nothing_behind(server, tmp_path, options, said):
    url, token = server

    result = outerloop("share", *options, home=tmp_path, url=url, token=token)

    assert result.returncode == 5
    assert result.stderr == f"outerloop: {said}\nNothing was saved.\n"
    assert nothing_saved()


# Every answer the API (or whatever sits at the URL) can give, as the terminal reads it.
ANSWERS = [
    (400, {"error": "error", "detail": "Cannot parse request body"}, None,
     5, "Cannot parse request body\nNothing was saved."),
    (403, {"error": "forbidden", "detail": "This token may only read."}, None,
     5, "This token may only read.\nNothing was saved."),
    (404, {"error": "not_found", "detail": "No such object of yours."}, None,
     5, "No such object of yours.\nNothing was saved."),
    (409, {"error": "conflict", "detail": "That link was just made."}, None,
     5, "That link was just made.\nNothing was saved."),
    (422, {"error": "invalid", "detail": [
        {"type": "missing", "loc": ["body", "payload", "recipient"], "msg": "Field required"},
        {"type": "int_parsing", "loc": ["body", "payload", "ttl_seconds"],
         "msg": "Input should be a valid integer"},
        {"type": "bool_parsing", "loc": ["body", "payload", "lives_with"],
         "msg": "Input should be a valid boolean"},
    ]}, None, 5,
     "The person's name can't be empty: --to needs a name.\n"
     "How long the preview opens (--ttl): Input should be a valid integer\n"
     "lives_with: Input should be a valid boolean\nNothing was saved."),
    (429, {"error": "rate_limited", "detail": "60 requests a minute per token; slow down."},
     {"Retry-After": "42"}, 5,
     "60 requests a minute per token; slow down. Try again in 42 seconds."),
    (429, "<html>Slow down</html>", {"Retry-After": "7"}, 5,
     "Too many requests. Try again in 7 seconds."),
    (401, {"error": "unauthorized", "detail": "Send a valid token"}, None, 3,
     "The server refused the token. Create a new one in Settings → API tokens, then run "
     "`outerloop login`."),
    (500, "<h1>Server Error (500)</h1>", None, 6,
     "The server at {url} failed (HTTP 500 Internal Server Error). Try again in a minute "
     "(your dashboard shows whether the link was made); if it keeps failing, tell whoever "
     "runs it."),
    (502, "<html>Bad gateway</html>", None, 6,
     "The server at {url} failed (HTTP 502 Bad Gateway). Try again in a minute (your "
     "dashboard shows whether the link was made); if it keeps failing, tell whoever runs it."),
    (404, "<html>Not found</html>", None, 5,
     "{url} answered HTTP 404 Not Found without saying why: is it an Outer Loop server? "
     "Check the URL (`outerloop login`, or OUTERLOOP_URL)."),
    (200, "<html>Welcome to nginx</html>", None, 4,
     "{url} answered with something other than JSON: is it an Outer Loop server? Check the "
     "URL (`outerloop login`, or OUTERLOOP_URL)."),
]  # fmt: skip


@pytest.fixture
def stub():
    """A server that gives every request one canned answer: (status, body, headers)."""
    answer: dict = {}

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = answer["body"]
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(answer["status"])
            kind = "text/html" if isinstance(body, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (answer["headers"] or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield answer, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "said"),
    ANSWERS,
    ids=[
        f"{status}-{'json' if isinstance(body, dict) else 'page'}" for status, body, *_ in ANSWERS
    ],
)
def test_every_kind_of_refusal_reads_in_plain_words(stub, tmp_path, status, body, headers,
                                                    code, said):  # fmt: skip
    answer, url = stub
    answer.update(status=status, body=body, headers=headers)

    result = outerloop(
        "share", "https://myapp.vercel.app", "--to", "Sam", home=tmp_path, url=url, token="ol_x"
    )

    assert result.returncode == code
    assert result.stderr == f"outerloop: {said.format(url=url)}\n"
    assert "Traceback" not in result.stderr


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


# One session per URL, from the web and from the terminal -----------------------------------


def web_turn(url: str, to: str, **fields):
    """Alex takes a turn on the dashboard, logged in on the same server."""
    web = Client(headers={"User-Agent": PHONE_UA})
    web.force_login(Builder.objects.get(name="Alex"))
    data = {"url": url, "title": "", "recipient": to, "channel": "dm", **fields}
    web.post(reverse("outerloop:turn"), data)
    return web


def react(share: Share, text: str) -> None:
    Client(headers={"User-Agent": PHONE_UA}).post(
        reverse("reactions:recipient-react", args=[share.token]), {"text": text}
    )


def projects(web) -> list[str]:
    """The habit page's "Projects that earned an outer loop", as the builder reads them."""
    page = unescape(web.get(reverse("outerloop:habit")).content.decode())
    section = page.split("Projects that earned an outer loop", 1)[1].split("</section>", 1)[0]
    return [
        " ".join(item.split())
        for item in re.findall(r"<li>(.*?)</li>", re.sub(r"<(?!/?li>)[^>]+>", "", section), re.S)
    ]


def sessions_listed(web) -> list[str]:
    page = unescape(web.get(reverse("sessions:session-list")).content.decode())
    section = page.split("Your sessions", 1)[1].split("</section>", 1)[0]
    return re.findall(r"<bdi>(.*?)</bdi>", section)


def test_the_same_url_from_the_terminal_and_the_web_is_one_session(server, tmp_path):
    """Issue 12: "Projects that earned an outer loop" listed myapp.vercel.app twice."""
    url, token = server

    first = outerloop("share", "myapp.vercel.app", "--to", "Sam", "--no-qr",
                      home=tmp_path, url=url, token=token)  # fmt: skip
    web = web_turn("https://myapp.vercel.app/", "Kim")
    again = outerloop("share", "https://MyApp.vercel.app", "--to", "Lee", "--no-qr",
                      home=tmp_path, url=url, token=token)  # fmt: skip

    session = BuildSession.objects.get()
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert f"A new session: “myapp.vercel.app” (#{session.pk})." in first.stdout
    assert (
        f"Added to your session “myapp.vercel.app” (#{session.pk}), which already has this "
        "URL; --new-session starts a new one." in again.stdout
    )
    assert Preview.objects.count() == 1  # still live: one preview, three links
    for share, text in zip(Share.objects.order_by("pk"), ["Fun", "Neat", "Huh"], strict=True):
        react(share, text)
    assert projects(web) == [
        "myapp.vercel.app · built 1 time, shown to 3 people · 3 reactions, 0 returns"
    ]
    assert sessions_listed(web) == ["myapp.vercel.app"]


def test_the_web_joins_the_session_the_terminal_named(server, tmp_path):
    url, token = server
    outerloop("share", "https://myapp.vercel.app", "--to", "Sam", "--title", "My app", "--no-qr",
              home=tmp_path, url=url, token=token)  # fmt: skip

    web = web_turn("myapp.vercel.app", "Kim")

    assert sessions_listed(web) == ["My app"]
    assert Share.objects.filter(preview__session__title="My app").count() == 2


@pytest.mark.parametrize("pick", ["my app", "#{id}", "{id}"])
def test_session_adds_the_link_to_the_session_named_by_title_or_number(server, tmp_path, pick):
    url, token = server
    web_turn("https://myapp.vercel.app", "Sam", title="My app")
    mine = BuildSession.objects.get()

    result = outerloop("share", "https://myapp-git-streaks.vercel.app", "--to", "Kim", "--no-qr",
                       "--session", pick.format(id=mine.pk),
                       home=tmp_path, url=url, token=token)  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert f"Added to your session “My app” (#{mine.pk})." in result.stdout
    assert BuildSession.objects.get() == mine
    assert sorted(mine.previews.values_list("url", flat=True)) == [
        "https://myapp-git-streaks.vercel.app",
        "https://myapp.vercel.app",
    ]


def test_new_session_starts_another_for_the_same_url(server, tmp_path):
    url, token = server
    web = web_turn("https://myapp.vercel.app", "Sam", title="My app")

    result = outerloop("share", "https://myapp.vercel.app", "--to", "Kim", "--no-qr",
                       "--new-session", "--title", "My app, streak screen",
                       home=tmp_path, url=url, token=token)  # fmt: skip

    assert result.returncode == 0, result.stderr
    newer = BuildSession.objects.get(title="My app, streak screen")
    assert f"A new session: “My app, streak screen” (#{newer.pk})." in result.stdout
    assert sessions_listed(web) == ["My app, streak screen", "My app"]


def test_session_with_a_title_or_new_session_is_a_usage_error(server, tmp_path):
    url, token = server

    result = outerloop("share", "https://myapp.vercel.app", "--to", "Kim",
                       "--session", "My app", "--new-session",
                       home=tmp_path, url=url, token=token)  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == (
        "outerloop: --session adds to one of your sessions; --title and --new-session are for "
        "a new one. Give one or the other.\n"
    )
    assert nothing_saved()
