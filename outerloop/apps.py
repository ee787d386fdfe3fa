from django.apps import AppConfig


class OuterloopConfig(AppConfig):
    name = "outerloop"
    verbose_name = "Outer Loop"

    def ready(self) -> None:
        from anymail.signals import tracking

        from outerloop import celery, checks  # noqa: F401 - the Celery app; the system checks
        from outerloop.signals import mark_undeliverable

        tracking.connect(mark_undeliverable, dispatch_uid="outerloop-mark-undeliverable")
