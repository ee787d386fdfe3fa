"""Where a bench run writes: its own database and Redis database, never the configured ones.

With DATABASE_URL on PostgreSQL the run creates `<name>_<purpose>` beside the configured
database and drops it afterwards; otherwise SQLite in a temporary directory. With REDIS_URL the
cache and queue use one numbered database of that server, flushed before and after: 14 for
`make bench` and 13 for `make profile`, or BENCH_REDIS_DB and PROFILE_REDIS_DB, so two runs on
one Redis server can keep apart.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

REDIS_DBS = {
    "bench": int(os.environ.get("BENCH_REDIS_DB", "14")),
    "profile": int(os.environ.get("PROFILE_REDIS_DB", "13")),
    "scale": 12,  # bench/scaleout.py run on its own
}


@dataclass(frozen=True)
class Environment:
    var: Path
    database: str | None  # the PostgreSQL database this run created, to drop afterwards
    described: str


def prepare(var: Path, port: int, purpose: str = "bench") -> Environment:
    """Point this process (and the servers it starts) at the run's own database and queue."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        OUTERLOOP_VAR_DIR=str(var),
        OUTERLOOP_BASE_URL=f"http://127.0.0.1:{port}",
        OUTERLOOP_BEHIND_PROXY="true",
        DEBUG="false",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    database = None
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    if parts.scheme in {"postgres", "postgresql"}:
        database = f"{unquote(parts.path.lstrip('/'))}_{purpose}"
        _postgres(database, create=True)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + database, query=""))
        described = f"PostgreSQL ({database})"
    else:
        os.environ.pop("DATABASE_URL", None)
        described = "SQLite"
    if os.environ.get("REDIS_URL"):
        number = REDIS_DBS[purpose]
        parts = urlsplit(os.environ["REDIS_URL"])
        # The path names the database; a ?db= query would win over it, so none is kept.
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{number}", query=""))
        _flush_redis(number)
        described += f" + Redis (db {number})"
    else:
        described += " + local-memory cache and filesystem broker"
    return Environment(var=var, database=database, described=described)


def clean_up(environment: Environment, purpose: str = "bench") -> None:
    if environment.database:
        _postgres(environment.database, create=False)
    if os.environ.get("REDIS_URL"):
        _flush_redis(REDIS_DBS[purpose])
    shutil.rmtree(environment.var, ignore_errors=True)


def _postgres(name: str, *, create: bool) -> None:
    """Drop (and create) one of the bench's own databases: its name must say so."""
    import psycopg
    from psycopg import sql

    if not name.endswith(tuple(f"_{purpose}" for purpose in REDIS_DBS)):
        raise ValueError(f"{name!r} is not a bench database; refusing to drop it")
    parts = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or "") or None,
        password=unquote(parts.password or "") or None,
        dbname="postgres",
        autocommit=True,
    ) as server:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _flush_redis(number: int) -> None:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    if client.connection_pool.connection_kwargs.get("db") != number:
        raise ValueError(f"REDIS_URL does not point at database {number}; refusing to flush it")
    client.flushdb()
