from django.apps import AppConfig


class OuterloopConfig(AppConfig):
    name = "outerloop"
    verbose_name = "Outer Loop"

    def ready(self) -> None:
        from outerloop import checks  # noqa: F401 - registers the system checks
