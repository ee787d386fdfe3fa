"""A real Celery worker with embedded beat, on the real Redis and the test PostgreSQL database.

The worker runs in a subprocess with the production settings module: it sees the rows this
test commits, publishes and consumes through Redis, and writes its email to files. A preview
with a 2-second TTL must come back expired and a due builder's nudge must be in the outbox.
"""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connection
from django.utils import timezone

from outerloop.celery import app as celery_app
from outerloop.models import ClaimStatus, EmailClaim, EmailKind
from sessions.models import BuildSession, Preview
from tests.factories import BuilderFactory

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)
DEADLINE = 60  # seconds for the worker to boot, beat to tick and the tasks to run
SHUTDOWN = 20


def require_services() -> None:
    """Skip without Redis and PostgreSQL, unless OUTERLOOP_REQUIRE_WORKER says it must run."""
    missing = []
    if not os.environ.get("REDIS_URL"):
        missing.append("REDIS_URL")
    if urlsplit(os.environ.get("DATABASE_URL", "")).scheme not in {"postgres", "postgresql"}:
        missing.append("a PostgreSQL DATABASE_URL")
    if not missing:
        return
    message = f"the worker integration test needs {' and '.join(missing)}"
    if os.environ.get("OUTERLOOP_REQUIRE_WORKER"):
        pytest.fail(message + "; OUTERLOOP_REQUIRE_WORKER is set, so this may not skip")
    pytest.skip(message)


def worker_database_url() -> str:
    """DATABASE_URL with the database name pytest-django created for this run."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def seed_beat_schedule(path: Path, last_run: datetime) -> None:
    """The schedule file as beat leaves it when it went down at `last_run`.

    Beat keeps when each entry last ran in this file; on a fresh file it waits one full
    interval (5 minutes for the nudge tick) before the first run. A beat coming back after an
    outage finds every entry overdue and sends it at once: that is the tick this test needs.
    """
    scheduler = PersistentScheduler(app=celery_app, schedule_filename=str(path))
    for entry in scheduler.schedule.values():
        entry.last_run_at = last_run
    scheduler.sync()
    scheduler.close()


class Worker:
    def __init__(self, tmp_path: Path) -> None:
        schedule = tmp_path / "celerybeat-schedule"
        seed_beat_schedule(schedule, celery_app.now() - timedelta(hours=1))
        self.mail_dir = tmp_path / "mail"
        self.log_path = tmp_path / "worker.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "outerloop.settings",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "OUTERLOOP_VAR_DIR": str(tmp_path),
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "outerloop",
            "worker",
            "--beat",
            "--schedule",
            str(schedule),
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            f"integration-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        self.log = self.log_path.open("wb")
        # Its own session, so the embedded beat process can be stopped with it if need be.
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def output(self) -> str:
        """The end of the worker's log, for a failure message."""
        return self.log_text()[-6000:]

    def emails(self) -> list[str]:
        if not self.mail_dir.exists():
            return []
        return [path.read_text(errors="replace") for path in sorted(self.mail_dir.iterdir())]

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then the whole process group if it does not exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=SHUTDOWN)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=SHUTDOWN)
        self.log.close()


@pytest.fixture
def broker():
    """Publish to Redis for real (the rest of the suite runs Celery eagerly)."""
    require_services()
    celery_app.close()
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()  # leftovers of an earlier run are not this test's tasks
    yield
    celery_app.conf.task_always_eager = True
    celery_app.close()


def wait_for(conditions: dict, worker: Worker) -> None:
    """Poll until every condition holds, for at most DEADLINE seconds in all."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if all(check() for check in conditions.values()):
            return
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.output()}")
        time.sleep(0.5)
    missing = [what for what, check in conditions.items() if not check()]
    pytest.fail(f"after {DEADLINE} s, {' and '.join(missing)}; the worker said:\n{worker.output()}")


def test_a_real_worker_expires_a_preview_and_beat_sends_the_nudge(broker, tmp_path):
    # A builder whose nudge is due whenever this runs: UTC, nudge time midnight, nothing sent
    # (and no weekly review, which may or may not be due today).
    due = BuilderFactory(
        name="Dee",
        email="dee@example.com",
        time_zone="UTC",
        nudge_time=wall_time(0, 0),
        reviews_enabled=False,
    )
    # A preview with a 2-second life; committing it queues its expiry with an ETA on Redis.
    preview = Preview.objects.create(
        session=BuildSession.objects.create(builder=due, title="Two-second demo"),
        url="https://two-seconds.example.dev/",
        expires_at=timezone.now() + timedelta(seconds=2),
    )

    worker = Worker(tmp_path)
    try:

        def expired() -> bool:
            preview.refresh_from_db()
            return preview.expired_at is not None

        def nudged() -> bool:
            return EmailClaim.objects.filter(
                builder=due, kind=EmailKind.NUDGE, status=ClaimStatus.SENT
            ).exists() and any("To: dee@example.com" in text for text in worker.emails())

        wait_for({"the preview is not expired": expired, "no nudge was sent": nudged}, worker)
    finally:
        worker.stop()

    assert worker.process.returncode == 0, worker.output()
    # The expiry queued on commit went through Redis to the worker (which of it and beat's
    # sweep got there first depends on how fast the worker booted).
    ran = r"Task reactions\.tasks\.expire_preview\[[^]]+\] succeeded"
    assert re.search(ran, worker.log_text()), worker.output()
    assert preview.expired_at >= preview.expires_at
    assert (preview.pulse_opens, preview.pulse_taps, preview.pulse_reactions) == (0, 0, 0)
    [nudge] = [text for text in worker.emails() if "To: dee@example.com" in text]
    assert "Subject: One outer-loop turn today?" in nudge
    assert "Hi Dee," in nudge
    assert "freshest preview" in nudge
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in nudge
    claim = EmailClaim.objects.get(builder=due, kind=EmailKind.NUDGE)
    assert claim.period == due.local_day().isoformat()
    assert claim.attempts == 1
