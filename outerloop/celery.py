"""The Celery app. Settings live in Django settings under the CELERY_ namespace."""

import os

from celery import Celery, states
from celery.signals import task_postrun, task_prerun, worker_init
from django.db import close_old_connections, connections

from outerloop.database import use_task_time_limit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outerloop.settings")

app = Celery("outerloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _make_broker_folders() -> None:
    """kombu's filesystem transport expects its folders to exist."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


app.on_after_configure.connect(lambda sender, **kwargs: _make_broker_folders(), weak=False)


worker_init.connect(lambda **kwargs: use_task_time_limit(), weak=False)


def _eager(task) -> bool:
    """A task run in the caller's process (tests, CELERY_TASK_ALWAYS_EAGER): its connections
    are the caller's, inside the caller's transaction, and not the worker's to close."""
    return bool(getattr(task.request, "is_eager", False))


def check_connections(task, **kwargs) -> None:
    """Before a task, what Django does before a request (`close_old_connections`): close a
    connection past CONN_MAX_AGE or left unusable, and health-check the next use of the
    others (CONN_HEALTH_CHECKS). The worker keeps its connections between tasks
    (settings.CELERY_DB_REUSE_MAX)."""
    if not _eager(task):
        close_old_connections()


def drop_connections_after_failure(task, state: str | None = None, **kwargs) -> None:
    """After a task that did not succeed, close every connection: a soft time limit raised in
    the middle of a query leaves one busy, which only the next use's health check would find
    (celery/celery#9824)."""
    if not _eager(task) and state != states.SUCCESS:
        connections.close_all()


task_prerun.connect(check_connections, weak=False)
task_postrun.connect(drop_connections_after_failure, weak=False)
