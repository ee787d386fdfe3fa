from django.apps import AppConfig


class BuildSessionsConfig(AppConfig):
    # The label "sessions" belongs to django.contrib.sessions.
    name = "sessions"
    label = "build_sessions"
    verbose_name = "Build sessions"
