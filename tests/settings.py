"""Test settings: the real settings, with fast hashing, eager Celery and plain static files."""

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from outerloop.settings import *  # noqa: F403
from outerloop.settings import ALLOWED_HOSTS, DATABASES, STORAGES

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when it's missing
# The live server's threads must not keep connections open past the test (PostgreSQL would
# refuse to drop the test database).
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Every run of the suite has a name of its own, so two runs at once on one PostgreSQL and one
# Redis (two clones, CI beside a laptop) never share a test database or a Redis key.
# pytest-django creates the database and drops it at the end (unless --reuse-db).
TEST_RUN = f"{os.getpid()}-{secrets.token_hex(3)}"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _name = f"test_{DATABASES['default']['NAME']}_{TEST_RUN.replace('-', '_')}"
    DATABASES["default"]["TEST"] = {"NAME": _name[:63]}  # PostgreSQL's identifier limit
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not SQLite's shared-cache memory
    # database: there the live server's threads and the browser's requests fail with
    # "database table is locked" instead of waiting their turn (WAL and the busy timeout
    # don't apply to a shared cache). Django deletes the file when the run ends.
    _file = Path(tempfile.gettempdir()) / f"outerloop-test-{TEST_RUN}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(_file)}
# One process (the live server's threads included) shares even the in-memory cache, so the
# live pages' poll from the cache is on in every test.
OUTERLOOP_LIVE_CACHE = True
if REDIS_URL:  # noqa: F405
    # The suite clears the cache between tests; keep that away from the broker's database.
    _redis = urlsplit(REDIS_URL)  # noqa: F405
    _db = int(_redis.path.strip("/") or 0)
    CACHES = {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": _redis._replace(path=f"/{_db + 1}").geturl(),
            "KEY_PREFIX": f"outerloop-test-{TEST_RUN}",
            "OPTIONS": REDIS_CACHE_OPTIONS,  # noqa: F405
        }
    }
    # The real worker of tests/test_worker_integration.py gets the same prefix.
    REDIS_KEY_PREFIX = f"outerloop-test-{TEST_RUN}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
    }
