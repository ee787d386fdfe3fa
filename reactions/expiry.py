"""Expiring previews: mark them expired and record the pulse of their hour, in one UPDATE.

The request path never waits for this: `Preview.is_expired` compares `expires_at` with the
clock on every request, so a dead worker cannot keep a link alive. Both follow the one rule
in `sessions.models.expired_by`.
"""

from datetime import datetime

from django.db.models import OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from common import changes
from reactions.models import Reaction, Visit
from reactions.stats import count_of
from sessions.models import Preview


def _pulse(queryset, moment_field: str) -> Coalesce:
    """What recipients (not the builder) did on the preview while it was live: `queryset`
    is visits or reactions, `moment_field` when each happened."""
    live = queryset.by_recipients().filter(**{f"{moment_field}__lte": OuterRef("expires_at")})
    return count_of(live, "share__preview")


def expire_due(now: datetime | None = None, **filters) -> int:
    """Expire every preview past its time (or just those matching `filters`); returns how many."""
    now = now or timezone.now()
    due = Preview.objects.expired(now).filter(expired_at__isnull=True, **filters)
    expired = due.update(
        expired_at=now,
        pulse_opens=_pulse(Visit.objects.opens(), "at"),
        pulse_taps=_pulse(Visit.objects.taps(), "at"),
        pulse_reactions=_pulse(Reaction.objects.all(), "created_at"),
    )
    # A session page shows the pulse once it is recorded (common.changes). One preview's own
    # task (on time) replaces its builder's versions, found in one more query; the sweep
    # (catching up on any number, in its one UPDATE) replaces everyone's.
    if expired and filters:
        swept = Preview.objects.filter(expired_at=now, **filters).order_by()
        changes.builder_changed(*swept.values_list("session__builder_id", flat=True).distinct())
    elif expired:
        changes.changed(changes.EVERYTHING)
    return expired
