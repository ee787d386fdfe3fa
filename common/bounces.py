"""What the mail provider says about a builder's address, and when that stops our email.

Pure functions, no database: `classify` reads one Anymail tracking event, `observe` folds it
into the address's state, and `holds_back` says whether that state stops an email now.
`outerloop.signals` applies them to the rows; `Builder.may_receive` and
`BuilderQuerySet.mailable()` call `holds_back` and `SOFT_BOUNCE_WAIT`.

The rule:
- A hard bounce (the address does not exist, or the provider refuses it for an earlier one),
  a spam complaint and an unsubscribe at the provider stop our email at once.
- A soft bounce (a full mailbox, a server that is down, a deferral, a block of ours) stops it
  only after `SOFT_BOUNCE_LIMIT` in a row, with no delivery between them, the newest at least
  `SOFT_BOUNCE_SPAN` after the first. Then the habit's emails wait `SOFT_BOUNCE_WAIT` after
  the newest bounce, and the next one tries again: delivered, all is well; bounced, another
  wait. Emails the builder asks for (a password reset, a confirmation link, a reply to a
  publish request) are still tried while soft bounces hold the others back.
- A delivery clears the run of soft bounces and any bounce stop older than it: the mailbox
  works again. It never clears a complaint or an unsubscribe: those are a person's choice.
- Events carry the provider's timestamp and may arrive out of order: a bounce older than a
  delivery already seen changes nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason

# Three soft bounces in a row over at least 72 hours: within the 3 to 7 consecutive soft
# bounces mail tools suppress after (Mailchimp 7, or 15 for engaged subscribers; Emarsys and
# Openmoves let the sender pick; a delivery starts the count over), at the low end because
# we send a builder at most one habit email a day; and 72 hours is how long SendGrid keeps
# retrying a deferred message ("SMTP Errors and Troubleshooting", sendgrid.com docs), longer
# than Mailgun (8 hours) or Postmark retry: a failure that outlasts the providers' own retry
# windows is no passing one. One message's retries within an hour never stop anything alone.
SOFT_BOUNCE_LIMIT = 3
SOFT_BOUNCE_SPAN = timedelta(hours=72)
# After the stop, the habit's emails wait a week, then the next one tries the mailbox again
# (a full mailbox is usually emptied within days; Emarsys resets soft-bounce stops "after a
# defined delay" the same way).
SOFT_BOUNCE_WAIT = timedelta(days=7)


class Stop(StrEnum):
    """Why email to an address stopped (stored in `Builder.email_undeliverable_reason`)."""

    BOUNCED = "bounced"  # a hard bounce: the address does not take mail
    COMPLAINED = "complained"  # marked as spam
    UNSUBSCRIBED = "unsubscribed"  # unsubscribed or suppressed at the provider
    SOFT_BOUNCED = "soft_bounced"  # SOFT_BOUNCE_LIMIT soft bounces over SOFT_BOUNCE_SPAN


# Which stop outranks which: a complaint replaces a bounce stop, never the other way round.
RANK = {Stop.SOFT_BOUNCED: 0, Stop.BOUNCED: 1, Stop.UNSUBSCRIBED: 2, Stop.COMPLAINED: 3}
# Stops that a delivery after them clears: the mailbox took mail again. ("rejected" is the
# reason older code stored for any refusal by the provider.)
CLEARED_BY_DELIVERY = {Stop.BOUNCED, Stop.SOFT_BOUNCED, "rejected"}


class Signal(StrEnum):
    """What one tracking event means for the address."""

    DELIVERED = "delivered"
    SOFT = "soft"
    HARD = "hard"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"


STOP_OF = {
    Signal.HARD: Stop.BOUNCED,
    Signal.COMPLAINED: Stop.COMPLAINED,
    Signal.UNSUBSCRIBED: Stop.UNSUBSCRIBED,
}


def _get(data: Mapping, *path: str):
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


# Bounces Anymail reports as reject_reason "bounced" (or none) that the provider's own event
# marks as temporary, read from `esp_event` (each provider's webhook docs, and Anymail's
# anymail/webhooks/<esp>.py mapping that they feed).
TEMPORARY = {
    # Type "SoftBounce" (and "Transient", "DnsError", which Anymail already calls deferred).
    "Postmark": lambda e: _get(e, "Type") in {"SoftBounce", "Transient", "DnsError"},
    # bounce.bounceType "Transient" or "Undetermined"; only "Permanent" is a hard bounce.
    "Amazon SES": lambda e: _get(e, "bounce", "bounceType") != "Permanent",
    # Resend passes on SES's bounce type in data.bounce.type, and older events say it.
    "Resend": lambda e: (
        _get(e, "data", "bounce", "type") in {"Transient", "Undetermined"}
        or "inbox was full" in str(_get(e, "data", "bounce", "message"))
    ),
    "Brevo": lambda e: _get(e, "event") == "soft_bounce",
    "SendinBlue": lambda e: _get(e, "event") == "soft_bounce",
    # A "bounce" event of type "blocked" is the receiver blocking the sender, not the address.
    "SendGrid": lambda e: _get(e, "type") == "blocked",
    "Mandrill": lambda e: _get(e, "event") == "soft_bounce",
    "MailerSend": lambda e: _get(e, "data", "type") == "soft_bounced",
    "Mailjet": lambda e: _get(e, "hard_bounce") is False,
    # bounce_class 20-24 (soft, DNS, mailbox full, too large, timeout) and 70 (transient).
    "SparkPost": lambda e: str(_get(e, "bounce_class")) in {"20", "21", "22", "23", "24", "70"},
    # Mailgun's "temporary" failures are already deferred; its legacy webhooks say 4xx.
    "Mailgun": lambda e: str(_get(e, "code") or "").startswith("4"),
}


def _temporary(event: AnymailTrackingEvent, esp_name: str) -> bool:
    check = TEMPORARY.get(esp_name)
    esp_event = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    return bool(check and check(esp_event))


def classify(event: AnymailTrackingEvent, esp_name: str) -> Signal | None:
    """What a tracking event says about its recipient's address, or None for nothing.

    `event` is Anymail's normalized event (event_type, reject_reason, esp_event); `esp_name`
    the provider's name as Anymail gives it ("Postmark", "Mailgun", "Amazon SES", …).
    - delivered: DELIVERED.
    - complained: COMPLAINED; unsubscribed (at the provider, or its manual suppression):
      UNSUBSCRIBED.
    - bounced with reject_reason "bounced", "invalid" or none: HARD, unless the provider's
      own event marks it temporary (`TEMPORARY`); then SOFT, like every other bounce
      ("timed_out", "other", "blocked", a receiver's "spam" block).
    - rejected (the provider would not send): for an earlier hard bounce or a bad address
      HARD, an earlier complaint COMPLAINED, an unsubscribe UNSUBSCRIBED; a policy block or
      timeout SOFT; with no reason (the provider's own set-up, e.g. an unconfirmed sender)
      nothing, as it says nothing about the address.
    - deferred: SOFT (the receiver said "later"; a delivery after it clears it).
    - anything else (queued, sent, opened, clicked, failed, autoresponded, …): None.
    """
    kind, reason = event.event_type, event.reject_reason
    if kind == EventType.DELIVERED:
        return Signal.DELIVERED
    if kind == EventType.COMPLAINED:
        return Signal.COMPLAINED
    if kind == EventType.UNSUBSCRIBED:
        return Signal.UNSUBSCRIBED
    if kind == EventType.DEFERRED:
        return Signal.SOFT
    if kind == EventType.BOUNCED:
        hard = reason in {RejectReason.BOUNCED, RejectReason.INVALID, None}
        return Signal.HARD if hard and not _temporary(event, esp_name) else Signal.SOFT
    if kind == EventType.REJECTED:
        return {
            RejectReason.BOUNCED: Signal.HARD,
            RejectReason.INVALID: Signal.HARD,
            RejectReason.SPAM: Signal.COMPLAINED,
            RejectReason.UNSUBSCRIBED: Signal.UNSUBSCRIBED,
            RejectReason.BLOCKED: Signal.SOFT,
            RejectReason.TIMED_OUT: Signal.SOFT,
            RejectReason.OTHER: Signal.SOFT,
        }.get(reason)
    return None


@dataclass(frozen=True)
class Mailbox:
    """One address's delivery state, as `Builder` stores it (all datetimes aware)."""

    stopped_at: datetime | None = None  # email_undeliverable_at
    stop: str = ""  # email_undeliverable_reason: a Stop, or "" while email flows
    soft_bounces: int = 0  # email_soft_bounces: in a row, since the last delivery
    soft_since: datetime | None = None  # email_soft_bounced_since: the first of those
    delivered_at: datetime | None = None  # email_delivered_at: the newest delivery reported


def observe(box: Mailbox, signal: Signal, at: datetime) -> Mailbox:
    """The state after the provider reported `signal` for a message at `at` (its timestamp).

    Idempotent for a repeated delivery; a repeated bounce counts again (providers send one
    event per bounce). See the module docstring for the rule.
    """
    stale = box.delivered_at is not None and at < box.delivered_at
    if signal == Signal.DELIVERED:
        box = replace(box, delivered_at=max(filter(None, [box.delivered_at, at])))
        if box.soft_since is not None and box.soft_since <= at:
            box = replace(box, soft_bounces=0, soft_since=None)
        if box.stop in CLEARED_BY_DELIVERY and box.stopped_at is not None and box.stopped_at <= at:
            box = replace(box, stop="", stopped_at=None)
        return box
    if signal == Signal.SOFT:
        if stale or (box.stop and box.stop != Stop.SOFT_BOUNCED):
            return box
        since = min(filter(None, [box.soft_since, at]))
        box = replace(box, soft_bounces=box.soft_bounces + 1, soft_since=since)
        if box.soft_bounces >= SOFT_BOUNCE_LIMIT and at - since >= SOFT_BOUNCE_SPAN:
            box = replace(box, stop=Stop.SOFT_BOUNCED, stopped_at=at)  # a new wait each time
        return box
    stop = STOP_OF[signal]
    if stale and stop == Stop.BOUNCED:
        return box
    if not box.stop or RANK[stop] > RANK.get(box.stop, RANK[Stop.BOUNCED]):
        box = replace(box, stop=stop, stopped_at=at)
    return box


def holds_back(box: Mailbox, now: datetime) -> bool:
    """Whether the habit's emails (and every email, after a hard stop) are held at `now`.

    A hard stop (bounce, complaint, unsubscribe, or a reason stored by older code) holds
    until a delivery or the builder clears it; a soft-bounce stop holds `SOFT_BOUNCE_WAIT`
    after the newest soft bounce, then lets the next email try the mailbox again.
    """
    if box.stopped_at is None:
        return False
    if box.stop == Stop.SOFT_BOUNCED:
        return now < box.stopped_at + SOFT_BOUNCE_WAIT
    return True
