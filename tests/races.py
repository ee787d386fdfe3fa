"""Racing requests or ticks for real: threads released at one instant, each with its own
database connection. SQLite's shared in-memory test database locks whole tables between
threads, so these tests run on PostgreSQL (CI) and skip on SQLite."""

import threading

import pytest
from django.db import connection

needs_postgres = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database locks whole tables between threads "
    "('database table is locked'); run with DATABASE_URL=postgres://… to race for real",
)


def run_at_once(*targets) -> tuple[list, list[BaseException]]:
    """Start every target at the same instant, each in a thread with its own connection;
    what they returned and what they raised."""
    start = threading.Barrier(len(targets))
    results: list = []
    errors: list[BaseException] = []

    def run(target) -> None:
        try:
            start.wait(timeout=120)
            results.append(target())
        except BaseException as error:  # surfaced by the caller's assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=[target]) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors
