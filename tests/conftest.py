"""The named actors of the suite.

Alex (`owner`) builds things in Berlin and sends them to Sam (`recipient`); Riley
(`outsider`) is another builder who must never see or touch any of it. Time stands still
at `NOW` for every test that uses a builder; tests move it with `time_machine.move_to`.
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.test.client import ClientHandler

from common import breaker, limits
from reactions.models import Channel, Recipient, Share
from reactions.sharing import share_preview
from sessions.models import BuildSession, Preview
from tests.factories import BuilderFactory
from tests.services import RedisServer, StillClock, use_redis_cache

# Tuesday 10 March 2026, 12:00 UTC: 13:00 in Berlin, well clear of any DST change.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PREVIEW_URL = "https://crag-finder.example.dev/today?build=42"
# Every client in the suite is a phone's browser unless a test says otherwise: an empty
# User-Agent is a robot's, and robots never count.
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

# The settings form as its page posts it, unchanged.
SETTINGS_DEFAULTS = {
    "name": "Alex",
    "time_zone": "Europe/Berlin",
    "day_start_hour": "0",
    "nudges_enabled": "on",
    "nudge_time": "10:00",
    "reviews_enabled": "on",
    "review_weekday": "6",
    "review_time": "18:00",
    "notices_enabled": "on",
}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters live in the cache (and in process memory while it is down), and
    the breakers remember outages: every test starts with none of them."""
    breaker.reset_all()
    limits.forget_local_counts()
    cache.clear()
    yield
    cache.clear()
    breaker.reset_all()
    limits.forget_local_counts()


def assert_headers_are_ascii(response) -> None:
    """Every header value (cookies included) is plain ASCII: HTTP carries nothing else (RFC
    9110 §5.5). Django sends a Latin-1 character as a raw byte and anything beyond as an RFC
    2047 "=?utf-8?b?…?=" word, and a browser drops such a directive or the whole header."""
    headers = [
        *response.items(),
        *(("Set-Cookie", m.OutputString()) for m in response.cookies.values()),
    ]
    for name, value in headers:
        assert value.isascii() and "=?utf-8?" not in value.lower(), (
            f"{name} is not plain ASCII: {value!r}"
        )


@pytest.fixture(autouse=True)
def headers_are_ascii(monkeypatch):
    """Checks every response the test client gets, in every test of the suite."""
    handle = ClientHandler.__call__

    def checked(self, environ):
        response = handle(self, environ)
        assert_headers_are_ascii(response)
        return response

    monkeypatch.setattr(ClientHandler, "__call__", checked)


@pytest.fixture
def private_redis_cache(tmp_path, settings) -> RedisServer:
    """The production cache on a Redis of its own, so every command it sees is the test's."""
    server = RedisServer(tmp_path)
    use_redis_cache(settings, server.url)
    yield server
    server.stop()


@pytest.fixture
def client() -> Client:
    return Client(headers={"User-Agent": PHONE_UA})


@pytest.fixture
def sam() -> Client:
    """Sam's phone: an anonymous browser with a phone's User-Agent."""
    return Client(headers={"User-Agent": PHONE_UA})


@pytest.fixture
def now(time_machine) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture(autouse=True)
def previews_storage(settings, tmp_path) -> Path:
    """Every test's hosted builds in a folder of its own (the "previews" storage), never in
    var/previews; returns that folder. A test of the S3 path sets its own storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "previews": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "previews"},
        },
    }
    return tmp_path / "previews"


@pytest.fixture
def owner(now, db):
    return BuilderFactory(name="Alex", email="alex@example.com", time_zone="Europe/Berlin")


@pytest.fixture
def outsider(now, db):
    return BuilderFactory(name="Riley", email="riley@example.com", time_zone="America/New_York")


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client(headers={"User-Agent": PHONE_UA})
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(outsider) -> Client:
    client = Client(headers={"User-Agent": PHONE_UA})
    client.force_login(outsider)
    return client


@pytest.fixture
def session(owner) -> BuildSession:
    return BuildSession.objects.create(
        builder=owner, title="Crag finder", notes="A first screen with one big button."
    )


@pytest.fixture
def preview(session) -> Preview:
    return session.add_preview(PREVIEW_URL)


@pytest.fixture
def recipient(owner) -> Recipient:
    return Recipient.objects.create(builder=owner, name="Sam")


@pytest.fixture
def share(preview, recipient) -> Share:
    return share_preview(preview, recipient, Channel.DM)


@pytest.fixture
def outbox(db, mailoutbox) -> list:
    """Emails sent during the test (the locmem backend's list).

    Depends on `db` first: Django's test case setup replaces `mail.outbox`, so pytest-django's
    `mailoutbox` requested before the database would hand back a list nothing is sent to.
    """
    return mailoutbox


@pytest.fixture
def breaker_clock(monkeypatch) -> StillClock:
    """The circuit breakers' clock, standing still until the test moves it: a cool-off
    neither ends early nor outlasts the test on a slow machine."""
    still = StillClock()
    monkeypatch.setattr(breaker, "clock", still)
    return still
