"""Sending a claimed email now, as the worker would (common.outbox)."""

from common import mail, outbox
from common.builders import Builder, EmailKind
from sessions.models import PublishRequest


def send_now(builder: Builder, kind: str, period: str) -> bool:
    """Claim the email and let the outbox compose and send it; True when it went out."""
    claim = mail.claim(builder, kind, period)
    return claim is not None and outbox.send(claim.pk)


def send_publish_email(publish: PublishRequest, which: str = "request") -> bool:
    """The operator's email ("request") or the builder's ("decision") for this request."""
    builder = publish.preview.session.builder
    period = f"request:{publish.pk}" if which == "request" else f"decision:{publish.pk}:x"
    return send_now(builder, EmailKind.PUBLISH, period)
