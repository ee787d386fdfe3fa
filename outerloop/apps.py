from django.apps import AppConfig


class OuterloopConfig(AppConfig):
    name = "outerloop"
    verbose_name = "Outer Loop"
