"""Two runs of the suite at once on one PostgreSQL and one Redis share nothing: each has its
own test database and its own Redis keys, and clearing its cache leaves the others' keys."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from tests import services

ROOT = Path(__file__).resolve().parent.parent

RUN_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "database": settings.DATABASES["default"]["TEST"]["NAME"],
    "cache": settings.CACHES["default"]["KEY_PREFIX"],
    "broker": settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"],
}))
"""


def a_run(settings_module: str, code: str, **variables: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **variables},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_two_runs_on_one_database_url_get_test_databases_and_redis_keys_of_their_own():
    shared = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/outerloop",
        "REDIS_URL": "redis://127.0.0.1:6379/10",
    }

    first = a_run("tests.settings", RUN_SETTINGS, **shared)
    second = a_run("tests.settings", RUN_SETTINGS, **shared)

    assert first["database"].startswith("test_outerloop_")
    assert first["database"] != second["database"]
    assert first["cache"] != second["cache"]
    assert first["broker"] != second["broker"]


PRODUCTION_REDIS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "cache": settings.CACHES["default"]["KEY_PREFIX"],
    "broker": settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix"),
}))
"""


def test_instances_sharing_a_redis_database_keep_apart_by_their_key_prefix():
    redis_url = {"REDIS_URL": "redis://127.0.0.1:6379/0"}

    assert a_run("outerloop.settings", PRODUCTION_REDIS, **redis_url) == {
        "cache": "",
        "broker": None,
    }
    assert a_run(
        "outerloop.settings", PRODUCTION_REDIS, **redis_url, REDIS_KEY_PREFIX="staging"
    ) == {"cache": "staging", "broker": "staging:"}


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite's test database is in this process's memory: nobody else can share it",
)
@pytest.mark.django_db
def test_this_run_uses_its_own_test_database():
    from django.db import connection

    configured = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")

    assert connection.settings_dict["NAME"] != f"test_{configured}"
    assert connection.settings_dict["NAME"] == settings.DATABASES["default"]["TEST"]["NAME"]


# Keys of another run's cache and of a broker's queue in the same Redis database, named for
# this run so that nothing else's is touched.
ANOTHER_RUNS_KEY = f"outerloop-test-another-{settings.TEST_RUN}:1:limit"
A_QUEUE = f"celery-{settings.TEST_RUN}"


@pytest.fixture
def cache_database():
    """The Redis database this run's cache lives in (shared with other runs)."""
    location = settings.CACHES["default"].get("LOCATION")
    services.require(
        isinstance(location, str) and location.startswith("redis"),
        "clearing a shared Redis needs REDIS_URL",
    )
    client = redis.Redis.from_url(location)
    yield client
    client.delete(ANOTHER_RUNS_KEY, A_QUEUE)
    client.close()


def test_clearing_the_cache_leaves_another_runs_keys_and_the_queue(cache_database):
    cache_database.set(ANOTHER_RUNS_KEY, "3")
    cache_database.rpush(A_QUEUE, "a task of someone else's")
    cache.set("limit", 5)

    cache.clear()

    assert cache.get("limit") is None
    assert cache_database.get(ANOTHER_RUNS_KEY) == b"3"
    assert cache_database.lrange(A_QUEUE, 0, -1) == [b"a task of someone else's"]
