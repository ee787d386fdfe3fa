"""Background work of the outer loop. Tasks take primary keys and call tested domain code."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from common.mail import EMAIL_TASK
from reactions import emails
from reactions.expiry import expire_due
from reactions.models import Reaction, Share

# Notices older than this that never went out are picked up by the sweep.
OUTBOX_GRACE = timedelta(seconds=30)
OUTBOX_HORIZON = timedelta(days=3)


@shared_task(acks_late=True)
def expire_preview(preview_id: int) -> int:
    return expire_due(pk=preview_id)


@shared_task(acks_late=True)
def expire_sweep() -> int:
    return expire_due()


@shared_task(**EMAIL_TASK)
def notify_reaction(reaction_id: int) -> bool:
    return emails.send_reaction_notice(reaction_id)


@shared_task(**EMAIL_TASK)
def notify_fresh_link(share_id: int) -> bool:
    return emails.send_fresh_link_notice(share_id)


@shared_task(acks_late=True)
def outbox_sweep() -> int:
    """Queue the notices whose enqueue was lost (broker down when the reaction was saved)."""
    now = timezone.now()
    window = {"gte": now - OUTBOX_HORIZON, "lte": now - OUTBOX_GRACE}
    reactions = Reaction.objects.counting().filter(
        notified_at__isnull=True,
        created_at__gte=window["gte"],
        created_at__lte=window["lte"],
    )
    shares = Share.objects.filter(
        fresh_link_notified_at__isnull=True,
        fresh_link_requested_at__gte=window["gte"],
        fresh_link_requested_at__lte=window["lte"],
    )
    queued = 0
    for reaction_id in reactions.values_list("pk", flat=True)[:1000]:
        notify_reaction.delay(reaction_id)
        queued += 1
    for share_id in shares.values_list("pk", flat=True)[:1000]:
        notify_fresh_link.delay(share_id)
        queued += 1
    return queued
