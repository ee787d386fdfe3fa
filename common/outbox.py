"""The outbox: the one way an email goes out once, whatever its kind.

Every email is one `EmailClaim`, unique on (builder, kind, period), and goes the same way:
1. the composer registered for its kind (`composer`) writes it from the rows as they are
   when it is sent, or declines (it is no longer wanted);
2. the one rule for "may this builder get this email now" (`Builder.may_receive`) is applied
   here, to every email addressed to the builder; an email about them to another address
   (the operator's, `mail.Email.to_email`) is not theirs to stop;
3. `mail.deliver` takes the claim with a conditional UPDATE and sends it once; a transient
   provider error raises `mail.TransientEmailError`, for the task to retry;
4. once the email is settled (sent, given up on, or declined), the kind's `settled` hook
   marks the row it was about.

When the claim is written depends on who decides that the email is wanted:
- a request (a sign-up, a password reset, a publish request or decision) claims it in its
  own transaction (`queue_email`); a worker sends it once that commits (`send`), and the
  beat's claims sweep queues it again if that message was lost (`lost`);
- a worker told of one object (a reaction, a fresh-link request) claims it as it starts
  (`claim_and_send`), so a declined notice stays recorded as skipped;
- a tick's suggestion (the nudge, the weekly review) is claimed only once its composer says
  it is still wanted (`send_if_wanted`): a declined one leaves no row, so a later tick may
  ask again.
The kinds a worker claims are found again by their own tick or sweep, not by `lost`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.core.exceptions import ImproperlyConfigured

from common import mail
from common.builders import Builder
from common.mail import EmailClaim
from common.queue import enqueue_on_commit

# A claim younger than this may still be on its way through the queue.
GRACE = timedelta(seconds=30)
# Older than this, an email that never went out is no longer worth sending.
HORIZON = timedelta(days=1)
DECLINED = "no longer wanted when its turn came"
NOT_NOW = "the builder may not get it now: that email is off, or the address is stopped"

# (builder, period, **about) -> the email, or None to decline.
Composer = Callable[..., "mail.Email | None"]
# (period) -> None: marks the row the email was about as done with.
Settled = Callable[[str], None]


@dataclass(frozen=True)
class _Kind:
    compose: Composer
    swept: bool
    settled: Settled | None


_kinds: dict[str, _Kind] = {}


def composer(
    kind: str, *, swept: bool = True, settled: Settled | None = None
) -> Callable[[Composer], Composer]:
    """Register the function that writes `kind`'s email (an EmailKind) when it is sent.

    It is called with the builder, the claim's period and the keyword arguments its sender
    passed (`send_if_wanted`), and returns a `mail.Email`, or None to decline. It states only
    what is particular to its kind: whether the builder may get email now is the outbox's
    question (`Builder.may_receive`). `swept`: the claims sweep (`lost`) queues this kind's
    lost claims again; False for a kind that a tick or sweep of its own finds again.
    `settled(period)` runs once the email is done with: sent, given up on, or declined.

    Raises ImproperlyConfigured when `kind` has a composer already: one per kind."""

    def register(function: Composer) -> Composer:
        if kind in _kinds:
            raise ImproperlyConfigured(
                f"The {kind} email already has a composer: {_kinds[kind].compose.__qualname__}"
            )
        _kinds[kind] = _Kind(compose=function, swept=swept, settled=settled)
        return function

    return register


def composers() -> dict[str, Composer]:
    """The composer registered for each kind, by kind."""
    return {kind: registered.compose for kind, registered in _kinds.items()}


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
    return _send(claim.builder, claim.kind, claim.period, claim)


def claim_and_send(builder: Builder, kind: str, period: str) -> bool:
    """Claim this email now, then compose and send it: a declined one is settled as skipped.
    True when it went out now; False when it was claimed before (sent, or held by another
    worker); raises mail.TransientEmailError for the task to retry."""
    claim = mail.claim(builder, kind, period)
    if claim is None:
        _note_settled(builder, kind, period, sent=False)
        return False
    return _send(builder, kind, period, claim)


def send_if_wanted(builder: Builder, kind: str, period: str, **about) -> bool:
    """Compose this email, and claim and send it only if it is wanted: a declined one writes
    no claim. `about` goes to the composer (the review's last day). True when it went out
    now; raises mail.TransientEmailError for the task to retry.

    Such an email is always the builder's own, so a builder who may not get it, or an email
    already done with, is known before anything is composed (the review reads a week)."""
    if not builder.may_receive(kind) or mail.settled(builder, kind, period):
        return False
    return _send(builder, kind, period, None, about)


def _send(
    builder: Builder, kind: str, period: str, claim: EmailClaim | None, about: dict | None = None
) -> bool:
    """Compose; then settle the claim as skipped (declined), or claim it unless claimed
    already and deliver it; then run the kind's `settled` hook if it is done with."""
    email, reason = _compose(builder, kind, period, about or {})
    sent = False
    if email is None:
        if claim is not None:
            mail.skip(claim, reason)
    else:
        if claim is None:
            claim = mail.claim(builder, kind, period)
        if claim is not None:
            sent = mail.deliver(claim, email)
    _note_settled(builder, kind, period, sent)
    return sent


def _compose(
    builder: Builder, kind: str, period: str, about: dict
) -> tuple[mail.Email | None, str]:
    """The email as the rows are now, or None and why: declined by its composer (DECLINED),
    or addressed to a builder who may not get it now (NOT_NOW). The one place
    `Builder.may_receive` stops an email."""
    email = _kinds[kind].compose(builder, period, **about)
    if email is None:
        return None, DECLINED
    if email.to_email is None and not email.to.may_receive(kind):
        return None, NOT_NOW
    return email, ""


def _note_settled(builder: Builder, kind: str, period: str, sent: bool) -> None:
    """Run the kind's `settled` hook once the email is done with. A claim another worker
    holds is not: that worker may die before it sends, and the kind's sweep must find it."""
    hook = _kinds[kind].settled
    if hook is not None and (sent or mail.settled(builder, kind, period)):
        hook(period)


def lost(now: datetime) -> list[int]:
    """Claims of the swept kinds whose queueing was lost: never taken, or taken by a worker
    that died (its lease ran out), within the horizon. At most 1,000, oldest first."""
    swept = [kind for kind, registered in _kinds.items() if registered.swept]
    return list(
        EmailClaim.objects.filter(
            mail.abandoned(now),
            kind__in=swept,
            created_at__gte=now - HORIZON,
            created_at__lte=now - GRACE,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
