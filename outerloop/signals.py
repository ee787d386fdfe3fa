"""Mail provider events: a bounce or a complaint stops our email to that address."""

from anymail.signals import AnymailTrackingEvent
from django.utils import timezone

from outerloop.models import Builder

UNDELIVERABLE = {"bounced", "complained", "rejected"}
# Anymail's normalized reasons for a bounce that may clear up by itself (a full mailbox).
SOFT_REASONS = {"timed_out", "other"}


def mark_undeliverable(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    if event.event_type not in UNDELIVERABLE or not event.recipient:
        return
    if event.event_type != "complained" and event.reject_reason in SOFT_REASONS:
        return
    Builder.objects.filter(
        email__iexact=event.recipient, email_undeliverable_at__isnull=True
    ).update(
        email_undeliverable_at=event.timestamp or timezone.now(),
        email_undeliverable_reason=event.event_type,
    )
