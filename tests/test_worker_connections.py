"""The Celery worker's database connections (outerloop.celery): kept between tasks, checked
before each as Django checks them before a request, dropped after a task that failed."""

import time
import uuid
from types import SimpleNamespace

import pytest
from celery import states
from celery.app.trace import build_tracer
from django.db import connection

from outerloop.celery import app, drop_connections_after_failure

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction to keep open


def task(*, eager: bool = False) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def opened():
    """The connection's driver object, opened if it was not."""
    connection.ensure_connection()
    return connection.connection


def test_a_task_to_be_retried_closes_it():
    opened()
    drop_connections_after_failure(task=task(), state=states.RETRY)
    assert connection.connection is None


# Tasks of this module's own, run as the worker runs them (its tracer, signals included).
@app.task(name="tests.worker_connections.succeeds")
def succeeds() -> bool:
    return True


@app.task(name="tests.worker_connections.fails")
def fails() -> None:
    raise RuntimeError("cut off in the middle of a query")


def run_as_the_worker(task) -> None:
    build_tracer(task.name, task, app=app, eager=False, propagate=False)(str(uuid.uuid4()), [], {})


def test_the_worker_keeps_a_young_connection_through_a_task_that_succeeds():
    before = opened()
    connection.close_at = time.monotonic() + 60
    run_as_the_worker(succeeds)
    assert connection.connection is before


def test_the_worker_closes_an_old_connection_before_a_task():
    opened()
    connection.close_at = time.monotonic() - 1
    run_as_the_worker(succeeds)
    assert connection.connection is None


def test_the_worker_closes_the_connection_after_a_task_that_failed():
    opened()
    connection.close_at = time.monotonic() + 60
    run_as_the_worker(fails)
    assert connection.connection is None


def test_an_eager_task_never_closes_the_callers_connection():
    before = opened()
    connection.close_at = time.monotonic() - 1  # old: a worker's task would close it
    succeeds.apply()
    with pytest.raises(RuntimeError):  # eager tasks raise here (CELERY_TASK_EAGER_PROPAGATES)
        fails.apply()
    assert connection.connection is before
