"""The Celery worker's database connections (outerloop.celery): kept between tasks, checked
before each as Django checks them before a request, dropped after a task that failed."""

import time
import uuid
from types import SimpleNamespace

import pytest
from celery import states
from celery.app.trace import build_tracer
from django.db import connection

from outerloop.celery import app, check_connections, drop_connections_after_failure

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction to keep open


def task(*, eager: bool = False) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def opened():
    """The connection's driver object, opened if it was not."""
    connection.ensure_connection()
    return connection.connection


def test_the_fixup_reuses_connections():
    assert app.conf.get("CELERY_DB_REUSE_MAX") == 1000


def test_a_task_that_succeeded_leaves_the_connection_open():
    before = opened()
    drop_connections_after_failure(task=task(), state=states.SUCCESS)
    assert connection.connection is before


@pytest.mark.parametrize("state", [states.FAILURE, states.RETRY])
def test_a_task_that_did_not_succeed_closes_it(state):
    opened()
    drop_connections_after_failure(task=task(), state=state)
    assert connection.connection is None


def test_an_eager_task_never_closes_the_callers_connection():
    before = opened()
    drop_connections_after_failure(task=task(eager=True), state=states.FAILURE)
    check_connections(task=task(eager=True))
    assert connection.connection is before


def test_before_a_task_a_connection_past_its_age_is_closed():
    before = opened()
    connection.close_at = time.monotonic() + 60  # as CONN_MAX_AGE sets it on connecting
    check_connections(task=task())
    assert connection.connection is before  # young: kept

    connection.close_at = time.monotonic() - 1  # as CONN_MAX_AGE would have it by now
    check_connections(task=task())
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
