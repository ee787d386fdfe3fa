"""Enqueueing that never costs the request: the database row is the truth, the queue a hint.

Every task queued from a request has a sweep that finds its row again if the message never
arrives: reaction and fresh-link notices (reactions.tasks.outbox_sweep), claimed emails
(outerloop.tasks.claims_sweep), expiries (reactions.tasks.expire_sweep). So a publish may
fail, and after one fails this process stops trying for `COOL_OFF` seconds: against a Redis
that hangs, each attempt would cost its request the broker's socket timeout (a second).
"""

import logging
import threading
import time

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

COOL_OFF = 5.0  # seconds without publishing after a publish failed


class _Breaker:
    def __init__(self) -> None:
        self.open_until = 0.0
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self) -> None:
        with self._lock:
            self.open_until = time.monotonic() + COOL_OFF

    def reset(self) -> None:
        self.open_until = 0.0


breaker = _Breaker()


def enqueue_on_commit(task: Task, *args, **options) -> None:
    """Queue `task` once the transaction commits; if the broker is down, a sweep catches up.

    `options` go to `apply_async` (an `eta`, say)."""

    def send() -> None:
        if breaker.is_open():
            log.info("Not queueing %s%r: the broker failed recently; a sweep will", task.name, args)
            return
        try:
            task.apply_async(args=args, retry=False, **options)
        except (OperationalError, OSError) as error:
            breaker.trip()
            log.warning(
                "Could not queue %s%r (%s); the sweep will pick it up", task.name, args, error
            )

    transaction.on_commit(send)
