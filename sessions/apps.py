from django.apps import AppConfig


class BuildSessionsConfig(AppConfig):
    # The label "sessions" belongs to django.contrib.sessions.
    name = "sessions"
    label = "build_sessions"
    verbose_name = "Build sessions"

    def ready(self) -> None:
        # A hosted build's files go with its row (sessions/builds.py's post_delete receiver).
        from sessions import builds  # noqa: F401
