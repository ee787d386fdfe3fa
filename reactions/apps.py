from django.apps import AppConfig


class ReactionsConfig(AppConfig):
    name = "reactions"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        # Imported for what it registers: the outbox's composers of the notices.
        from reactions import emails  # noqa: F401
        from reactions.signals import connect_change_versions, schedule_expiry
        from sessions.models import Preview

        post_save.connect(schedule_expiry, sender=Preview, dispatch_uid="schedule-preview-expiry")
        connect_change_versions()
