"""Every network call a request makes has a deadline, and a fallback that loses nothing.

The probe stopped Redis with SIGSTOP: it kept accepting connections (the kernel's backlog)
and never answered. Reaction POSTs hung on the broker publish, gunicorn's two workers were
soon all waiting, and /login/ took 44 s. Here the same silence is a socket that listens and
never speaks; tests/test_faults.py does it to a real, stopped redis-server under gunicorn.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import pre_migrate
from django.test import Client

from common import cache as guarded_cache
from common import queue
from common.breaker import breaker
from outerloop import database
from reactions.models import Reaction
from reactions.tasks import notify_reaction
from tests import services
from tests.conftest import PHONE_UA
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


class SilentServer:
    """A port that takes connections and never says a word; counts what it was offered."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)
        self.socket.setblocking(False)
        self.url = f"redis://127.0.0.1:{self.socket.getsockname()[1]}/0"
        self.accepted: list[socket.socket] = []

    def connections(self) -> int:
        """How many connections clients have opened so far."""
        while True:
            try:
                peer, _ = self.socket.accept()
            except BlockingIOError:
                return len(self.accepted)
            self.accepted.append(peer)

    def close(self) -> None:
        for peer in self.accepted:
            peer.close()
        self.socket.close()


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def hung_cache(silent, settings):
    """The production cache settings, pointed at the silent port."""
    services.use_redis_cache(settings, silent.url)
    return silent


@pytest.fixture
def hung_broker(silent):
    """This process publishes to the silent port (the suite otherwise runs Celery eagerly)."""
    broker_url = services.celery_app.conf.broker_url
    services.use_broker(silent.url, eager=False)
    yield silent
    services.use_broker(broker_url, eager=True)


def react(share, text: str, ip: str = "198.51.100.7"):
    client = Client(headers={"User-Agent": PHONE_UA}, REMOTE_ADDR=ip)
    return client.post(f"/r/{share.token}/react/", {"text": text})


# The cache -----------------------------------------------------------------------------------


def test_a_hung_cache_is_asked_once_then_skipped_until_the_cool_off_ends(hung_cache, breaker_clock):
    cache_breaker = breaker(guarded_cache.cache_name([hung_cache.url]))

    with pytest.raises(guarded_cache.FAILURES):
        cache.get("a")
    assert hung_cache.connections() == 1
    for key in "bcdefgh":  # each fails at once: the breaker is open
        with pytest.raises(guarded_cache.CacheUnavailable):
            cache.get(key)
    assert hung_cache.connections() == 1

    breaker_clock.advance(cache_breaker.cool_off - 0.1)
    assert cache_breaker.is_open()
    breaker_clock.advance(0.1)
    assert not cache_breaker.is_open()
    with pytest.raises(guarded_cache.FAILURES):
        cache.get("i")
    assert hung_cache.connections() == 2


def test_reactions_while_the_cache_hangs_are_saved_and_still_rate_limited(
    hung_cache, breaker_clock, share
):
    """The limits count in process memory meanwhile: a flood is still refused."""
    answers = [react(share, f"Thought {n}").status_code for n in range(21)]

    assert answers == [302] * 20 + [429]
    assert Reaction.objects.filter(share=share).count() == 20
    assert hung_cache.connections() == 1


def test_logins_while_the_cache_hangs_are_still_throttled(hung_cache, breaker_clock, owner):
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    data = {"username": owner.email, "password": "wrong-wrong-1"}
    answers = [guesser.post("/login/", data).status_code for _ in range(10)]

    refused = guesser.post("/login/", {**data, "password": PASSWORD})

    assert answers == [200] * 10
    assert refused.status_code == 429
    assert hung_cache.connections() == 1


# The broker ----------------------------------------------------------------------------------


def test_a_hung_broker_costs_one_reaction_a_second_and_the_rest_nothing(
    hung_broker, breaker_clock, share, django_capture_on_commit_callbacks
):
    """Each reaction is saved; none is queued; the outbox sweep sends them later."""
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        assert react(share, "Thought 0").status_code == 302
    first = time.monotonic() - started
    for n in range(1, 4):
        with django_capture_on_commit_callbacks(execute=True):
            assert react(share, f"Thought {n}").status_code == 302

    assert Reaction.objects.filter(share=share, notified_at__isnull=True).count() == 4
    # The first publish waited out the broker's socket timeout (a lower bound, which a slow
    # machine only exceeds by more); the breaker skipped the rest, so the silent broker was
    # offered one connection, not four.
    assert hung_broker.connections() == 1
    assert queue.broker.is_open()
    assert settings.REDIS_BROKER_OPTIONS["socket_timeout"] <= first


def test_after_the_cool_off_the_broker_is_tried_again(
    monkeypatch, breaker_clock, share, django_capture_on_commit_callbacks
):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise queue.OperationalError("Connection refused.")

    monkeypatch.setattr(notify_reaction, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            queue.enqueue_on_commit(notify_reaction, 1)
    assert len(calls) == 1

    breaker_clock.advance(queue.broker.cool_off)
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue_on_commit(notify_reaction, 1)
    assert len(calls) == 2


# The settings: each call on the request path has its deadline --------------------------------


def production_settings(**env: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'cache': s.REDIS_CACHE_OPTIONS, "
        "'broker': s.CELERY_BROKER_TRANSPORT_OPTIONS, 'email': s.EMAIL_TIMEOUT, "
        "'db': s.DATABASES['default'].get('OPTIONS', {})}))"
    )
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "outerloop.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_production_settings_give_every_network_call_a_deadline():
    found = production_settings(
        REDIS_URL="redis://127.0.0.1:6379/0",
        DATABASE_URL="postgres://outerloop@127.0.0.1:5432/outerloop",
    )

    assert found["cache"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    assert found["broker"]["socket_timeout"] == 1
    assert found["broker"]["socket_connect_timeout"] == 1
    assert found["broker"]["max_retries"] == 0
    assert found["email"] == 10
    assert found["db"] == {
        "connect_timeout": 5,
        "tcp_user_timeout": 10_000,
        "options": "-c statement_timeout=5000",
    }


def test_the_statement_timeout_can_be_changed_or_turned_off():
    postgres = {"DATABASE_URL": "postgres://outerloop@127.0.0.1:5432/outerloop"}

    assert production_settings(**postgres, DATABASE_STATEMENT_TIMEOUT="12")["db"]["options"] == (
        "-c statement_timeout=12000"
    )
    assert production_settings(**postgres, DATABASE_STATEMENT_TIMEOUT="0")["db"]["options"] == (
        "-c statement_timeout=0"
    )


# The database --------------------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's"
)


def statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_request_connection_carries_the_statement_timeout():
    connection.close()  # a new connection, as a request opens it

    assert statement_timeout() == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_connection_allows_the_task_time_limit():
    connection.close()
    database.use_task_time_limit()
    try:
        assert statement_timeout() == f"{settings.CELERY_TASK_TIME_LIMIT}s"
    finally:
        database.connection_created.disconnect(dispatch_uid="outerloop-worker-statement-timeout")
        connection.close()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_migrate_runs_without_a_statement_timeout_and_restores_it():
    """What the migrations' connection allows while `migrate` runs them, seen by a receiver
    of the last app's pre_migrate (after outerloop's), and after."""
    seen = []

    def probe(sender, **kwargs) -> None:
        seen.append(statement_timeout())

    pre_migrate.connect(probe, sender=apps.get_app_config("reactions"))
    try:
        call_command("migrate", verbosity=0)
    finally:
        pre_migrate.disconnect(probe, sender=apps.get_app_config("reactions"))

    assert seen == ["0"]
    assert statement_timeout() == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"
