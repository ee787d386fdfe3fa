"""Private servers and the app's own processes, for tests that break things on purpose.

Each fault test starts its own Redis and, where it needs one, its own PostgreSQL cluster, on
free ports, so it can stop, kill and restart them without touching the shared servers the
rest of the suite (and other people) use. The app runs as in production: the production
settings module, in subprocesses (gunicorn, Celery worker, beat), each with its own log.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import time as wall_time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connection

from outerloop.celery import app as celery_app
from tests.factories import BuilderFactory

BASE_DIR = Path(settings.BASE_DIR)
REQUIRE = "OUTERLOOP_REQUIRE_WORKER"
# Ceilings in seconds, only against hanging forever: every wait polls for its event and
# ends as soon as it happens. They are far above what a busy 2-core machine running two
# suites needs, and no test asserts how long anything took.
BOOT = 120  # for a server or process to come up
SHUTDOWN = 60  # for a process to finish a warm shutdown before it is killed
DEADLINE = 180  # for the app's processes to do what a test waits for
POLL = 0.05  # between two looks at what a test waits for


def require(available: bool, message: str) -> None:
    """Skip without `available`, unless OUTERLOOP_REQUIRE_WORKER says the test must run."""
    if available:
        return
    if os.environ.get(REQUIRE):
        pytest.fail(f"{message}; {REQUIRE} is set, so this may not skip")
    pytest.skip(message)


def shared_database_url(why: str) -> str:
    """DATABASE_URL naming the database pytest-django made for this run, so the app's
    processes see the rows the test commits. Needs PostgreSQL (skip, or fail in CI)."""
    url = os.environ.get("DATABASE_URL", "")
    require(
        urlsplit(url).scheme in {"postgres", "postgresql"}, f"{why}: set a PostgreSQL DATABASE_URL"
    )
    return urlunsplit(urlsplit(url)._replace(path="/" + connection.settings_dict["NAME"]))


def use_broker(url: str, *, eager: bool) -> None:
    """Point this process's Celery app at another broker (the suite runs it eagerly), with
    the production transport options for a Redis one."""
    if url == settings.CELERY_BROKER_URL:
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    else:
        options = settings.REDIS_BROKER_OPTIONS if url.startswith("redis") else {}
    celery_app.conf.update(
        broker_url=url, task_always_eager=eager, broker_transport_options=options
    )
    celery_app.close()
    # close() forgets the connection pool but not the producer pool, which holds the old URL.
    celery_app.amqp._producer_pool = None


def seed_beat_schedule(path: Path) -> None:
    """A schedule file as beat leaves it after an hour down: every entry is overdue, so beat
    sends each one as soon as it starts (a fresh file would wait a full interval)."""
    scheduler = PersistentScheduler(app=celery_app, schedule_filename=str(path))
    for entry in scheduler.schedule.values():
        entry.last_run_at = celery_app.now() - timedelta(hours=1)
    scheduler.sync()
    scheduler.close()


def due_builder(name: str):
    """A builder whose nudge is due whenever this runs: UTC, nudge time midnight, nothing sent
    (and no weekly review, which may or may not be due today)."""
    return BuilderFactory(
        name=name,
        email=f"{name.lower()}@example.com",
        time_zone="UTC",
        nudge_time=wall_time(0, 0),
        reviews_enabled=False,
    )


def use_redis_cache(settings, url: str) -> None:
    """The production cache (common.cache.RedisCache, with its timeouts) at `url`, for this
    test (pytest-django's `settings`; the settings signal resets the caches)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], what: str, timeout: float = BOOT) -> float:
    """Poll `check` until it holds; the seconds it took. Fails the test after `timeout`,
    saying it is still `what`."""
    return wait_for(f"still {what}", check, timeout=timeout)


class Process:
    """A subprocess in its own session, its output in a log file."""

    def __init__(self, command: list[str], env: dict, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self) -> str:
        """The end of the log, for a failure message."""
        return self.log()[-6000:]

    def stop(self) -> None:
        """Warm shutdown (SIGTERM to the group), then SIGKILL if it does not exit."""
        if self.alive():
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=SHUTDOWN)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def kill(self) -> None:
        """SIGKILL to the whole group: the process and every child, no cleanup."""
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=SHUTDOWN)
        self._log.close()


def wait_for(
    what: str,
    check: Callable[[], bool],
    *watched: "Process",
    explain: Callable[[], str] = str,
    timeout: float = DEADLINE,
) -> float:
    """Poll `check` until it holds, failing early if a watched process dies; the seconds it
    took. A failure after `timeout` says `explain()` and shows the end of the watched
    processes' logs. The only place a test waits: each pause is the poll's interval, never a
    guess at how long something takes."""
    started = time.monotonic()
    while not check():
        for process in watched:
            if not process.alive():
                pytest.fail(f"a process exited while {what}:\n{process.tail()}")
        if time.monotonic() - started > timeout:
            logs = "\n".join(process.tail() for process in watched)
            said = f"; the processes said:\n{logs}" if watched else ""
            pytest.fail(f"after {timeout} s, {what} {explain()}".rstrip() + said)
        time.sleep(POLL)
    return time.monotonic() - started


class StillClock:
    """A monotonic clock in seconds that moves only when told (`advance`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def manage(env: dict, log_path: Path, *args: str) -> None:
    """Run a management command to its end; a failure fails the test with its output."""
    with log_path.open("ab") as log:
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            python("manage.py", *args),
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=DEADLINE,
            check=False,
        )
    if done.returncode:
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{log_path.read_text()[-6000:]}")


def app_env(var_dir: Path, mail_dir: Path, database_url: str, redis_url: str, **extra: str) -> dict:
    """The environment of a production deploy, pointed at the given database and Redis."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outerloop.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OUTERLOOP_VAR_DIR": str(var_dir),
        "EMAIL_BACKEND": "tests.mailbox.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def proxied_env(
    var_dir: Path, mail_dir: Path, database_url: str, redis_url: str
) -> tuple[dict, int]:
    """`app_env` for a deploy behind a proxy (each client its own X-Forwarded-For) whose web
    server answers on the free port returned with it."""
    port = free_port()
    env = app_env(
        var_dir,
        mail_dir,
        database_url,
        redis_url,
        OUTERLOOP_BEHIND_PROXY="true",
        OUTERLOOP_BASE_URL=f"http://127.0.0.1:{port}",
    )
    return env, port


def gunicorn(env: dict, log_path: Path, port: int, workers: int = 2) -> Process:
    """The web server as the Procfile runs it (sync workers), answering on `port`."""
    server = Process(
        python(
            "-m", "gunicorn", "outerloop.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--graceful-timeout", "5",
        ),
        env,
        log_path,
    )  # fmt: skip

    def listening() -> bool:
        if not server.alive():
            pytest.fail(f"gunicorn exited:\n{server.tail()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    wait_until(listening, "gunicorn is not listening")
    return server


def celery(env: dict, log_path: Path, *args: str) -> Process:
    return Process(python("-m", "celery", "--app", "outerloop", *args), env, log_path)


class RedisServer:
    """A throwaway redis-server that keeps nothing on disk (like a restart that loses it all)."""

    binary = shutil.which("redis-server")

    def __init__(self, directory: Path) -> None:
        require(self.binary is not None, "the fault tests need redis-server on PATH")
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a binary found on PATH, our arguments
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                "--logfile", str(self.directory / f"redis-{self.port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.ping, f"no answer from Redis on port {self.port}")

    def ping(self) -> bool:
        try:
            with redis.Redis.from_url(self.url, socket_timeout=1) as client:
                return client.ping()
        except redis.ConnectionError:
            return False

    def pause(self) -> None:
        """SIGSTOP: the kernel still accepts connections, and nothing ever answers them (a
        hung host, a partition, a process stuck in swap)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def refuse_writes(self) -> None:
        """Its memory full (`maxmemory` with the `noeviction` policy): it answers every read
        and refuses every write."""
        client = redis.Redis.from_url(self.url)
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", 1)

    def commands_sent(self, action) -> list[str]:
        """The commands clients sent this server while `action()` ran (what a script runs
        inside Redis is not sent: MONITOR marks those "lua"), each as "NAME key…"."""
        marker = "end-of-what-the-test-watches"
        marking = redis.Redis.from_url(self.url)
        marking.ping()  # connected before the watch starts: its handshake is not watched
        watcher = redis.Redis.from_url(self.url, decode_responses=True)
        with watcher.monitor() as monitor:
            action()
            marking.echo(marker)
            sent = []
            while (command := monitor.next_command())["command"] != f"ECHO {marker}":
                if command["client_type"] != "lua":
                    sent.append(command["command"])
        return sent

    def stop(self) -> None:
        """Stopped the hard way: whatever it held (queued tasks included) is gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server dies only once resumed
            self.process.kill()
            self.process.wait(timeout=SHUTDOWN)


def postgres_bindir() -> Path | None:
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"],  # noqa: S607 - whichever pg_config is on PATH
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        candidates = [Path(found)]
    except (OSError, subprocess.CalledProcessError):
        candidates = []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((path for path in candidates if (path / "initdb").exists()), None)


class PostgresCluster:
    """A PostgreSQL cluster of its own in a temporary directory: trust auth, a free port.

    PostgreSQL refuses to run as root, so as root the cluster belongs to `postgres`."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        require(self.bindir is not None, "the fault tests need PostgreSQL's initdb and pg_ctl")
        self.as_user = []
        if os.geteuid() == 0:
            require(shutil.which("runuser") is not None, "as root, PostgreSQL needs runuser")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.directory = Path(tempfile.mkdtemp(prefix="outerloop-pg-"))
        if self.as_user:
            shutil.chown(self.directory, user="postgres")
        self.data = self.directory / "data"
        self.port = free_port()
        self._run(
            "initdb", "--pgdata", str(self.data), "--auth", "trust", "--username", "postgres",
            "--encoding", "UTF8", "--no-sync",
        )  # fmt: skip
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, our arguments
            [*self.as_user, str(self.bindir / tool), *args],
            cwd=self.directory,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "start", "--wait", "--pgdata", str(self.data),
            "--log", str(self.directory / "server.log"), "--options", options,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session at once (what a restart does); `immediate` is a crash."""
        self._run("pg_ctl", "stop", "--wait", "--pgdata", str(self.data), "--mode", mode)

    def createdb(self, name: str) -> None:
        self._run(
            "createdb", "--host", "127.0.0.1", "--port", str(self.port), "-U", "postgres", name
        )

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
