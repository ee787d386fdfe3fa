"""The habit's background work: nudge and review ticks, and the emails they queue."""

from collections.abc import Iterable
from datetime import date

from celery import shared_task
from django.utils import timezone

from outerloop import emails, publish
from outerloop.mail import TransientEmailError
from outerloop.reminders import due_nudges, due_reviews

# Every email task: acknowledged after it ran (a crashed worker's message is redelivered),
# retried with exponential backoff on transient provider errors; the claim makes reruns no-ops.
EMAIL_TASK = {
    "acks_late": True,
    "autoretry_for": (TransientEmailError,),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**EMAIL_TASK)
def send_nudge(builder_id: int, day: str) -> bool:
    return emails.send_nudge(builder_id, date.fromisoformat(day))


@shared_task(**EMAIL_TASK)
def send_review(builder_id: int, last_day: str) -> bool:
    return emails.send_review(builder_id, date.fromisoformat(last_day))


def _queue_each(due: Iterable[tuple[int, date]], task) -> int:
    queued = 0
    for builder_id, day in due:
        task.delay(builder_id, day.isoformat())
        queued += 1
    return queued


@shared_task(acks_late=True)
def nudge_tick() -> int:
    """Every few minutes: queue a nudge for each builder now due one (catches up after downtime)."""
    return _queue_each(due_nudges(timezone.now()), send_nudge)


@shared_task(acks_late=True)
def review_tick() -> int:
    return _queue_each(due_reviews(timezone.now()), send_review)


@shared_task(**EMAIL_TASK)
def notify_operator(publish_id: int) -> bool:
    return publish.send_operator_email(publish_id)


@shared_task(**EMAIL_TASK)
def notify_publish_decision(publish_id: int) -> bool:
    return publish.send_decision_email(publish_id)
