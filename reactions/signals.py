from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from common import changes
from common.builders import Builder
from common.queue import enqueue_on_commit
from reactions.models import InAppActivity, Reaction, Recipient, Share, Visit
from reactions.tasks import expire_preview
from sessions.models import BuildSession, Preview, PublishRequest

# Leave room under the broker's visibility timeout, past which Redis would redeliver an ETA task.
ETA_MARGIN_SECONDS = 300


def schedule_expiry(sender, instance: Preview, created: bool, **kwargs) -> None:
    """Expire a new preview on time; the minute sweep covers anything not scheduled here."""
    ahead = (instance.expires_at - timezone.now()).total_seconds()
    if created and ahead <= settings.CELERY_VISIBILITY_TIMEOUT - ETA_MARGIN_SECONDS:
        enqueue_on_commit(expire_preview, instance.pk, eta=instance.expires_at)


# Change versions (common.changes): every save of what a builder's live pages show replaces
# them (now, and again once it commits). Writes that skip save() (a queryset's update(),
# bulk_create) replace them where they are made. Deletions cascade: a deleted row's receiver
# asks no query (a builder's thousands of links would cost thousands), and the row deleted
# above it replaces its builder's (a person, a session, the builder; `reactions.removal`
# for links and previews). Visits, reactions and in-app activity are deleted only with their
# link: no receiver for them, so Django's fast delete of those rows stays.


def _builder_of_share(share: Share) -> int:
    """The link's builder: from its person as loaded (the writers load it), else one query."""
    if Share.recipient.is_cached(share):
        return share.recipient.builder_id
    return Recipient.objects.values_list("builder_id", flat=True).get(pk=share.recipient_id)


def share_saved(sender, instance: Share, **kwargs) -> None:
    if changes.enabled():
        changes.share_changed(instance.pk, _builder_of_share(instance))


def share_deleted(sender, instance: Share, **kwargs) -> None:
    changes.changed(changes.share_key(instance.pk))
    if Share.recipient.is_cached(instance):
        changes.builder_changed(instance.recipient.builder_id)


def share_activity_written(sender, instance: Visit | InAppActivity, **kwargs) -> None:
    if changes.enabled():
        changes.share_changed(instance.share_id, _builder_of_share(instance.share))


def reaction_written(sender, instance: Reaction, **kwargs) -> None:
    changes.share_changed(instance.share_id, instance.builder_id)


def builders_row_written(sender, instance: Recipient | BuildSession, **kwargs) -> None:
    changes.builder_changed(instance.builder_id)


def builder_written(sender, instance: Builder, **kwargs) -> None:
    changes.builder_changed(instance.pk)


def builder_logged_out(sender, request, user: Builder | None, **kwargs) -> None:
    """The session's memos of live pages go with it (reactions.live)."""
    if user is not None:
        changes.builder_changed(user.pk)


def preview_saved(sender, instance: Preview, **kwargs) -> None:
    if changes.enabled():  # its session is loaded by the writers; else one query
        changes.builder_changed(instance.session.builder_id)


def preview_deleted(sender, instance: Preview, **kwargs) -> None:
    if Preview.session.is_cached(instance):
        changes.builder_changed(instance.session.builder_id)


def publish_request_saved(sender, instance: PublishRequest, **kwargs) -> None:
    preview_saved(Preview, instance.preview)


def connect_change_versions() -> None:
    """Connect the receivers above (ReactionsConfig.ready)."""
    for model, receiver in [
        (Share, share_saved),
        (Visit, share_activity_written),
        (InAppActivity, share_activity_written),
        (Reaction, reaction_written),
        (Recipient, builders_row_written),
        (BuildSession, builders_row_written),
        (Builder, builder_written),
        (Preview, preview_saved),
        (PublishRequest, publish_request_saved),
    ]:
        post_save.connect(receiver, sender=model, dispatch_uid=f"changes-{model.__name__}-save")
    for model, receiver in [
        (Share, share_deleted),
        (Recipient, builders_row_written),
        (BuildSession, builders_row_written),
        (Builder, builder_written),
        (Preview, preview_deleted),
    ]:
        post_delete.connect(receiver, sender=model, dispatch_uid=f"changes-{model.__name__}-del")
    user_logged_out.connect(builder_logged_out, dispatch_uid="changes-logged-out")
