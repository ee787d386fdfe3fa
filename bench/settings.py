"""Production settings, plus the bare view the benchmark uses as its ceiling."""

from outerloop.settings import *  # noqa: F403
from outerloop.settings import DATABASES

ROOT_URLCONF = "bench.urls"
# Persistent connections on SQLite too (production's PostgreSQL entry already keeps them).
DATABASES["default"]["CONN_MAX_AGE"] = 60
