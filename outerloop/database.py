"""How long a PostgreSQL statement may run, by who runs it.

Requests get `DATABASE_STATEMENT_TIMEOUT` (settings; sent in each connection's start-up
options, so it costs no query). A Celery worker's tasks may legitimately run longer (a sweep
over every expired preview), so its connections take the task's hard time limit instead.
`migrate` takes none: a data migration over a big table must not be cancelled halfway.
"""

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created


def set_statement_timeout(connection, seconds: int) -> None:
    """SET this connection's statement_timeout (PostgreSQL only; SQLite has none)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{seconds}s"])


def _task_time_limit(sender, connection, **kwargs) -> None:
    set_statement_timeout(connection, settings.CELERY_TASK_TIME_LIMIT)


def use_task_time_limit() -> None:
    """From now on, every database connection this process opens allows statements as long
    as the task hard time limit (celery.signals.worker_init calls this)."""
    connection_created.connect(_task_time_limit, dispatch_uid="outerloop-worker-statement-timeout")


def no_limit_for_migrations(sender, using: str = "default", **kwargs) -> None:
    """pre_migrate: the migrating connection runs without a statement timeout..."""
    set_statement_timeout(connections[using], 0)


def limit_again_after_migrations(sender, using: str = "default", **kwargs) -> None:
    """...and post_migrate: with the usual one again."""
    set_statement_timeout(connections[using], settings.DATABASE_STATEMENT_TIMEOUT)
