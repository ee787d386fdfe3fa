"""The Celery worker's database connections (outerloop.celery): kept between tasks, checked
before each as Django checks them before a request, dropped after a task that failed."""

import time
from types import SimpleNamespace

import pytest
from celery import states
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
