"""The outbox for emails a request asks for: a claim row now, the sending later.

A view never sends email. It writes the email's `EmailClaim` (unique on builder, kind,
period) in its own transaction and queues `send` once that commits. If the broker is down
or hung, the claim waits, still "pending", and the beat's `sweep` queues it again a minute
later; the claim's conditional take keeps every email to one send (common.mail). What an
email says is decided when it is sent, by the composer registered for its kind: it sees the
rows as they are then, and may decline (the builder turned that email off meanwhile).
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from celery import shared_task

from common import mail
from common.builders import Builder
from common.mail import ClaimStatus, EmailClaim
from common.queue import enqueue_on_commit

# A claim younger than this may still be on its way through the queue.
GRACE = timedelta(seconds=30)
# Older than this, an email that never went out is no longer worth sending.
HORIZON = timedelta(days=1)

Composer = Callable[[EmailClaim], "mail.Email | None"]
_composers: dict[str, Composer] = {}


def composer(kind: str) -> Callable[[Composer], Composer]:
    """Register the function that writes `kind`'s email from its claim (None: don't send)."""

    def register(function: Composer) -> Composer:
        _composers[kind] = function
        return function

    return register


def queue_email(builder: Builder, kind: str, period: str) -> EmailClaim | None:
    """Claim this email inside the caller's transaction; it is sent after the commit. None
    when it was claimed before (each (builder, kind, period) goes out once)."""
    claim = mail.claim(builder, kind, period)
    if claim is not None:
        enqueue_on_commit(deliver_claimed, claim.pk)
    return claim


# Named for its first home, so messages queued before it moved still find it.
@shared_task(name="outerloop.outbox.deliver_claimed", **mail.EMAIL_TASK)
def deliver_claimed(claim_id: int) -> bool:
    return send(claim_id)


def send(claim_id: int) -> bool:
    """Compose and send one claimed email. True when it went out now; raises
    mail.TransientEmailError for the task to retry."""
    claim = EmailClaim.objects.select_related("builder").filter(pk=claim_id).first()
    if claim is None or claim.status in mail.SETTLED:
        return False
    email = _composers[claim.kind](claim)
    if email is None:
        waiting = [ClaimStatus.PENDING, ClaimStatus.RETRY]
        EmailClaim.objects.filter(pk=claim.pk, status__in=waiting).update(
            status=ClaimStatus.SKIPPED, last_error="no longer wanted when its turn came"
        )
        return False
    return mail.deliver(claim, email)


def lost(now: datetime) -> list[int]:
    """Claims of the outbox's kinds whose queueing was lost: never taken, or taken by a worker
    that died (its lease ran out), within the horizon. At most 1,000, oldest first."""
    return list(
        EmailClaim.objects.filter(
            mail.abandoned(now),
            kind__in=list(_composers),
            created_at__gte=now - HORIZON,
            created_at__lte=now - GRACE,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
