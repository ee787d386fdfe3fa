"""Mail provider events: what each says about a builder's address (common.bounces)."""

from anymail.signals import AnymailTrackingEvent
from django.db import transaction
from django.utils import timezone

from common import bounces, changes
from common.builders import Builder


def track_mailbox(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """Anymail's tracking signal: fold the event into its recipient's mailbox state.

    Events for addresses that are no builder's, and events that say nothing about the
    address (opens, clicks, sends), change nothing. The row is locked while it is read and
    written, so two webhooks for one address at once both count.
    """
    signal = bounces.classify(event, esp_name)
    if signal is None or not event.recipient:
        return
    at = event.timestamp or timezone.now()
    with transaction.atomic():
        for builder in Builder.objects.select_for_update().filter(email__iexact=event.recipient):
            before = builder.mailbox
            after = bounces.observe(before, signal, at)
            if after != before:
                Builder.objects.filter(pk=builder.pk).update(**Builder.mailbox_columns(after))
                changes.builder_changed(builder.pk)
