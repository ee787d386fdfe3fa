"""A real Celery worker with embedded beat, on the real Redis and the test PostgreSQL database.

The worker runs in a subprocess with the production settings module: it sees the rows this
test commits, publishes and consumes through Redis, and writes its email to files. A preview
with a 2-second TTL must come back expired and a due builder's nudge must be in the outbox.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from common.builders import EmailKind
from common.mail import ClaimStatus, EmailClaim
from common.queue import enqueue_on_commit
from outerloop.celery import app as celery_app
from reactions.models import Channel, Reaction, Recipient
from reactions.sharing import share_preview
from reactions.tasks import notify_reaction
from sessions.models import BuildSession, Preview
from tests import services
from tests.mailbox import mailbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker():
    """Publish to Redis for real (the rest of the suite runs Celery eagerly)."""
    services.require(
        bool(os.environ.get("REDIS_URL")), "the worker integration test needs REDIS_URL"
    )
    broker_url = celery_app.conf.broker_url
    services.use_broker(broker_url, eager=False)
    celery_app.control.purge()  # leftovers of an earlier run are not this test's tasks
    yield
    services.use_broker(broker_url, eager=True)
    # Nothing of this run stays in the shared Redis (kombu leaves its queue bindings behind).
    with redis.Redis.from_url(broker_url) as client:
        ours = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*"))
        if ours:
            client.delete(*ours)


def start_worker(tmp_path: Path) -> services.Process:
    """The worker as the Procfile runs it, with beat embedded (its schedule an hour overdue)."""
    database_url = services.shared_database_url("the worker integration test")
    schedule = tmp_path / "celerybeat-schedule"
    services.seed_beat_schedule(schedule)
    env = services.app_env(
        tmp_path,
        tmp_path / "mail",
        database_url,
        os.environ["REDIS_URL"],
        # The queue's keys of this run only, as the test publishes them (tests/settings.py).
        REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
    )
    return services.celery(
        env,
        tmp_path / "worker.log",
        "worker", "--beat", "--schedule", str(schedule), "--pool", "solo", "--loglevel", "INFO",
        "--hostname", f"integration-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
    )  # fmt: skip


def test_a_real_worker_expires_a_preview_and_beat_sends_the_nudge(broker, tmp_path):
    due = services.due_builder("Dee")
    # A preview with a 2-second life; committing it queues its expiry with an ETA on Redis.
    preview = Preview.objects.create(
        session=BuildSession.objects.create(builder=due, title="Two-second demo"),
        url="https://two-seconds.example.dev/",
        expires_at=timezone.now() + timedelta(seconds=2),
    )

    worker = start_worker(tmp_path)
    mail_dir = tmp_path / "mail"
    try:

        def expired() -> bool:
            preview.refresh_from_db()
            return preview.expired_at is not None

        def nudged() -> bool:
            return EmailClaim.objects.filter(
                builder=due, kind=EmailKind.NUDGE, status=ClaimStatus.SENT
            ).exists() and any("To: dee@example.com" in text for text in mailbox(mail_dir))

        services.wait_for("the preview is not expired", expired, worker)
        services.wait_for("no nudge was sent", nudged, worker)
    finally:
        worker.stop()

    assert worker.popen.returncode == 0, worker.tail()
    # The expiry queued on commit went through Redis to the worker (which of it and beat's
    # sweep got there first depends on how fast the worker booted).
    ran = r"Task reactions\.tasks\.expire_preview\[[^]]+\] succeeded"
    assert re.search(ran, worker.log()), worker.tail()
    assert preview.expired_at >= preview.expires_at
    assert (preview.pulse_opens, preview.pulse_taps, preview.pulse_reactions) == (0, 0, 0)
    [nudge] = [text for text in mailbox(mail_dir) if "To: dee@example.com" in text]
    assert "Subject: One outer-loop turn today?" in nudge
    assert "Hi Dee," in nudge
    assert "freshest preview" in nudge
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in nudge
    claim = EmailClaim.objects.get(builder=due, kind=EmailKind.NUDGE)
    assert claim.period == due.local_day().isoformat()
    assert claim.attempts == 1


def worker_backends() -> set[int]:
    """The PostgreSQL backends (their pids) other processes have open on this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return {pid for (pid,) in cursor.fetchall()}


def test_a_real_worker_keeps_its_database_connection_between_tasks(broker, tmp_path):
    """Celery's Django fixup would open a connection (a PostgreSQL backend) for every task:
    settings.CELERY_DB_REUSE_MAX and outerloop.celery keep one, as a web worker does."""
    builder = services.due_builder("Dee")
    preview = Preview.objects.create(
        session=BuildSession.objects.create(builder=builder, title="Crag finder"),
        url="https://crags.example.dev/",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    sam = Recipient.objects.create(builder=builder, name="Sam")
    share = share_preview(preview, sam, Channel.DM)
    worker = start_worker(tmp_path)
    seen = []
    try:
        for text in ("The map is great.", "The back button confused me.", "Love the colours."):
            # Queued on commit, as a recipient's reaction is (the test runs in autocommit).
            reaction = Reaction.objects.create(share=share, builder=builder, text=text)
            enqueue_on_commit(notify_reaction, reaction.pk)
            notified = Reaction.objects.filter(pk=reaction.pk, notified_at__isnull=False)
            services.wait_for(f"{text!r} was not notified", notified.exists, worker)
            seen.append(worker_backends())
    finally:
        worker.stop()

    assert worker.popen.returncode == 0, worker.tail()
    # Each notice was sent over the same backend, still open after the last one.
    assert seen[0] & seen[1] & seen[2], seen
    assert len(mailbox(tmp_path / "mail")) >= 3
