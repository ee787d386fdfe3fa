from django.apps import AppConfig


class OuterloopConfig(AppConfig):
    name = "outerloop"
    verbose_name = "Outer Loop"

    def ready(self) -> None:
        from anymail.signals import tracking
        from django.db.models.signals import post_migrate, pre_migrate

        # Imported for what they register: the Celery app, the system checks, and the
        # outbox's composers of the account, habit and publish emails.
        from outerloop import account_emails, celery, checks, emails, publish  # noqa: F401
        from outerloop.database import limit_again_after_migrations, no_limit_for_migrations
        from outerloop.signals import track_mailbox

        tracking.connect(track_mailbox, dispatch_uid="outerloop-track-mailbox")
        # Sent once for this app around every `migrate`, before and after the whole plan.
        pre_migrate.connect(no_limit_for_migrations, sender=self)
        post_migrate.connect(limit_again_after_migrations, sender=self)
