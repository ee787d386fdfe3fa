"""Enqueueing that never costs the request: the database row is the truth, the queue a hint.

Every task queued from a request has a sweep that finds its row again if the message never
arrives: reaction and fresh-link notices (reactions.tasks.outbox_sweep), claimed emails
(outerloop.tasks.claims_sweep), expiries (reactions.tasks.expire_sweep). So a publish may
fail, and after one fails this process stops trying for a few seconds: against a Redis
that hangs, each attempt would cost its request the broker's socket timeout (a second). The
cool-off is common.breaker's.
"""

import logging

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

from common.breaker import breaker

log = logging.getLogger(__name__)

broker = breaker("Broker")


def enqueue_on_commit(task: Task, *args, **options) -> None:
    """Queue `task` once the transaction commits; if the broker is down, a sweep catches up.

    `options` go to `apply_async` (an `eta`, say)."""

    def send() -> None:
        if broker.is_open():
            log.info("Not queueing %s%r: the broker failed recently; a sweep will", task.name, args)
            return
        try:
            task.apply_async(args=args, retry=False, **options)
        except (OperationalError, OSError) as error:
            broker.trip(error)
            log.warning(
                "Could not queue %s%r (%s); the sweep will pick it up", task.name, args, error
            )

    transaction.on_commit(send)
