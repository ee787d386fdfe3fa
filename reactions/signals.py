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
# them once it commits. Writes that skip save() (a queryset's update(), bulk_create) replace
# them where they are made. Visits, reactions and in-app activity are deleted only with their
# link (or above), whose deletion replaces the versions: no receiver for them, so Django's
# fast delete of those rows stays.


def _builder_of_share(share: Share) -> int | None:
    """The link's builder: from its person as loaded (the writers load it), else one query;
    None when the person is gone already (a cascade deleting them)."""
    if Share.recipient.is_cached(share):
        return share.recipient.builder_id
    found = Recipient.objects.filter(pk=share.recipient_id).values_list("builder_id").first()
    return found[0] if found else None


def _builder_of_preview(preview: Preview) -> int | None:
    if Preview.session.is_cached(preview):
        return preview.session.builder_id
    found = BuildSession.objects.filter(pk=preview.session_id).values_list("builder_id").first()
    return found[0] if found else None


def share_written(sender, instance: Share, **kwargs) -> None:
    builder_id = _builder_of_share(instance)
    if builder_id is None:
        changes.changed(changes.share_key(instance.pk))
    else:
        changes.share_changed(instance.pk, builder_id)


def share_activity_written(sender, instance: Visit | InAppActivity, **kwargs) -> None:
    share_written(Share, instance.share)


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


def preview_written(sender, instance: Preview, **kwargs) -> None:
    if (builder_id := _builder_of_preview(instance)) is not None:
        changes.builder_changed(builder_id)


def publish_request_written(sender, instance: PublishRequest, **kwargs) -> None:
    preview_written(Preview, instance.preview)


def connect_change_versions() -> None:
    """Connect the receivers above (ReactionsConfig.ready)."""
    for model, receiver in [
        (Share, share_written),
        (Visit, share_activity_written),
        (InAppActivity, share_activity_written),
        (Reaction, reaction_written),
        (Recipient, builders_row_written),
        (BuildSession, builders_row_written),
        (Builder, builder_written),
        (Preview, preview_written),
        (PublishRequest, publish_request_written),
    ]:
        post_save.connect(receiver, sender=model, dispatch_uid=f"changes-{model.__name__}-save")
    for model, receiver in [
        (Share, share_written),
        (Recipient, builders_row_written),
        (BuildSession, builders_row_written),
        (Builder, builder_written),
        (Preview, preview_written),
    ]:
        post_delete.connect(receiver, sender=model, dispatch_uid=f"changes-{model.__name__}-del")
    user_logged_out.connect(builder_logged_out, dispatch_uid="changes-logged-out")
