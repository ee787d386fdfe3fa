"""Claim, render and send: the mechanics under the outbox (common.outbox), the one way every
email goes out once.

A send is claimed first by an `EmailClaim` row unique on (builder, kind, period); a worker
then takes the claim with a conditional UPDATE, so two workers never send the same email.
Transient provider errors leave the claim for a retry; permanent ones mark it failed. Who
may get an email is the outbox's question (`Builder.may_receive`), not this module's.
"""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.builders import Builder, EmailKind


class ClaimStatus(models.TextChoices):
    PENDING = "pending", "Claimed, not sent yet"
    SENDING = "sending", "Sending"
    RETRY = "retry", "Waiting to retry"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class EmailClaim(models.Model):
    """One row per email that should go out once: unique on (builder, kind, period).

    The period is the builder-local date for nudges, the ISO week for reviews and the
    object's id for notices. A second tick, a retried task or a redelivered message finds
    the row and sends nothing.
    """

    builder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_claims"
    )
    kind = models.CharField(max_length=16, choices=EmailKind.choices)
    period = models.CharField(max_length=32)
    status = models.CharField(
        max_length=8, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "outerloop"
        constraints = [
            models.UniqueConstraint(
                fields=["builder", "kind", "period"], name="one_email_per_period"
            )
        ]
        indexes = [models.Index(fields=["kind", "period"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} → {self.builder_id}"


log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# The worker kills a task at its hard time limit, so a claim still "sending" after twice that
# belongs to a dead worker (killed, or lost with its machine): another may take it over.
LEASE = timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
SETTLED = [ClaimStatus.SENT, ClaimStatus.FAILED, ClaimStatus.SKIPPED]
UNSUBSCRIBE_SALT = "outerloop.unsubscribe"


class TransientEmailError(Exception):
    """The provider may accept this email later: retry with backoff."""


# Celery's retry comes within retry_backoff_max (below); a claim still waiting for it after
# twice that lost its message, and the next tick or sweep sends it.
RETRY_BACKOFF_MAX = 1800  # seconds
RETRY_LEASE = timedelta(seconds=2 * RETRY_BACKOFF_MAX)

# Every email task: acknowledged after it ran (a crashed worker's message is redelivered),
# retried with exponential backoff on transient provider errors; the claim makes reruns no-ops.
EMAIL_TASK = {
    "acks_late": True,
    "autoretry_for": (TransientEmailError,),
    "retry_backoff": 30,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": 8,
}


@dataclass
class Email:
    kind: str  # names the templates emails/<kind>-subject.txt, -body.txt, -body.html
    to: Builder
    context: dict = field(default_factory=dict)
    unsubscribe: str | None = None  # the Builder field that the List-Unsubscribe link turns off
    # Another address (the operator's) for an email about `to`; the builder's address state
    # (`Builder.may_receive`) does not stop it.
    to_email: str | None = None


def claim(builder: Builder, kind: str, period: str) -> EmailClaim | None:
    """The claim for this email if it may be ours to send: new, waiting for a retry, or left
    "sending" by a dead worker (lease expired). `deliver` still takes it conditionally."""
    try:
        with transaction.atomic():
            return EmailClaim.objects.create(builder=builder, kind=kind, period=period)
    except IntegrityError:
        existing = EmailClaim.objects.get(builder=builder, kind=kind, period=period)
        dead_sender = (
            existing.status == ClaimStatus.SENDING
            and existing.lease_until is not None
            and existing.lease_until < timezone.now()
        )
        if existing.status in {ClaimStatus.PENDING, ClaimStatus.RETRY} or dead_sender:
            return existing
        return None


def settled(builder: Builder, kind: str, period: str) -> bool:
    """Whether this email is done with: sent, given up on or skipped. A claim another worker
    is sending, or one waiting for a retry, is not: it may yet need this caller."""
    return EmailClaim.objects.filter(
        builder=builder, kind=kind, period=period, status__in=SETTLED
    ).exists()


def abandoned(now: datetime) -> Q:
    """Claims nobody will finish unless a tick or a sweep queues them again: never taken,
    left "sending" by a worker that died, or waiting for a retry whose message was lost (a
    Redis restart without persistence), each past its lease."""
    return Q(status=ClaimStatus.PENDING) | Q(
        status__in=[ClaimStatus.SENDING, ClaimStatus.RETRY], lease_until__lt=now
    )


def _free(now: datetime) -> Q:
    """Claims nobody holds: waiting to be sent, or left "sending" by a dead worker."""
    return Q(status__in=[ClaimStatus.PENDING, ClaimStatus.RETRY]) | Q(
        status=ClaimStatus.SENDING, lease_until__lt=now
    )


def skip(claim_row: EmailClaim, reason: str) -> bool:
    """Settle a claim nobody holds as never to be sent, so no sweep queues it again. False
    when another worker holds it or it is settled already: a conditional UPDATE."""
    skipped = EmailClaim.objects.filter(_free(timezone.now()), pk=claim_row.pk).update(
        status=ClaimStatus.SKIPPED, last_error=reason, lease_until=None
    )
    return skipped == 1


def _take(claim_row: EmailClaim) -> bool:
    """Move the claim to "sending" unless another worker holds it: a conditional UPDATE."""
    now = timezone.now()
    taken = EmailClaim.objects.filter(_free(now), pk=claim_row.pk).update(
        status=ClaimStatus.SENDING, attempts=F("attempts") + 1, lease_until=now + LEASE
    )
    return taken == 1


def _is_transient(error: Exception) -> bool:
    if isinstance(error, SoftTimeLimitExceeded):  # the provider hung: it may answer later
        return True
    if isinstance(error, (AnymailRecipientsRefused, smtplib.SMTPRecipientsRefused)):
        return False
    if isinstance(error, smtplib.SMTPResponseException):  # 4xx: try later; 5xx: never
        return error.smtp_code < 500
    if isinstance(error, AnymailAPIError):
        status = getattr(error, "status_code", None)
        return status is None or status >= 500 or status == 429
    return isinstance(error, (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError))


def unsubscribe_url(builder: Builder, switch: str) -> str:
    token = signing.dumps({"b": builder.pk, "s": switch}, salt=UNSUBSCRIBE_SALT)
    return settings.OUTERLOOP_BASE_URL + reverse("outerloop:unsubscribe", args=[token])


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    return int(data["b"]), str(data["s"])


def render(email: Email) -> EmailMultiAlternatives:
    context = {"builder": email.to, "base_url": settings.OUTERLOOP_BASE_URL, **email.context}
    headers = {}
    if email.unsubscribe:
        url = unsubscribe_url(email.to, email.unsubscribe)
        context["unsubscribe_url"] = url
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject = " ".join(render_to_string(f"emails/{email.kind}-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{email.kind}-body.txt", context),
        to=[email.to_email or email.to.email],
        headers=headers,
    )
    message.attach_alternative(
        render_to_string(f"emails/{email.kind}-body.html", context), "text/html"
    )
    return message


def deliver(claim_row: EmailClaim, email: Email) -> bool:
    """Send a claimed email once. True when sent now; raises TransientEmailError to retry."""
    if not _take(claim_row):
        return False
    claim_row.refresh_from_db(fields=["attempts"])
    try:
        render(email).send()
    except Exception as error:
        transient = _is_transient(error) and claim_row.attempts < MAX_ATTEMPTS
        EmailClaim.objects.filter(pk=claim_row.pk).update(
            status=ClaimStatus.RETRY if transient else ClaimStatus.FAILED,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            lease_until=timezone.now() + RETRY_LEASE if transient else None,
        )
        if transient:
            raise TransientEmailError(str(error)) from error
        log.warning("Giving up on %s email %s: %s", claim_row.kind, claim_row.pk, error)
        return False
    EmailClaim.objects.filter(pk=claim_row.pk).update(
        status=ClaimStatus.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return True
