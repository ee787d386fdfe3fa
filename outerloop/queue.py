"""Enqueueing that never costs the request: the database row is the truth, the queue a hint."""

import logging

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args, **options) -> None:
    """Queue `task` once the transaction commits; if the broker is down, a sweep catches up.

    `options` go to `apply_async` (an `eta`, say)."""

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False, **options)
        except (OperationalError, OSError) as error:
            log.warning(
                "Could not queue %s%r (%s); the sweep will pick it up", task.name, args, error
            )

    transaction.on_commit(send)
