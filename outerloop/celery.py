"""The Celery app. Settings live in Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import worker_init

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
