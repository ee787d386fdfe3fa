"""The habit's background work: nudge and review ticks, and the emails they queue."""

from collections.abc import Iterable
from datetime import date

from celery import shared_task
from django.utils import timezone

from common import outbox
from common.mail import EMAIL_TASK
from outerloop import emails, publish
from outerloop.reminders import due_nudges, due_reviews


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


@shared_task(acks_late=True)
def claims_sweep() -> int:
    """Every minute: queue again the outbox's emails whose queueing was lost."""
    lost = outbox.lost(timezone.now())
    for claim_id in lost:
        outbox.deliver_claimed.delay(claim_id)
    return len(lost)


# Messages queued by the code before the outbox (a deploy with messages in flight) still send
# their email: they write the claim the outbox would have written, then send it the same way.
@shared_task(**EMAIL_TASK)
def notify_operator(publish_id: int) -> bool:
    return publish.send_unclaimed(publish_id, "request")


@shared_task(**EMAIL_TASK)
def notify_publish_decision(publish_id: int) -> bool:
    return publish.send_unclaimed(publish_id, "decision")
