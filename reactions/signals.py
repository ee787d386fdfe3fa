from django.conf import settings
from django.utils import timezone

from common.queue import enqueue_on_commit
from reactions.tasks import expire_preview
from sessions.models import Preview

# Leave room under the broker's visibility timeout, past which Redis would redeliver an ETA task.
ETA_MARGIN_SECONDS = 300


def schedule_expiry(sender, instance: Preview, created: bool, **kwargs) -> None:
    """Expire a new preview on time; the minute sweep covers anything not scheduled here."""
    ahead = (instance.expires_at - timezone.now()).total_seconds()
    if created and ahead <= settings.CELERY_VISIBILITY_TIMEOUT - ETA_MARGIN_SECONDS:
        enqueue_on_commit(expire_preview, instance.pk, eta=instance.expires_at)
