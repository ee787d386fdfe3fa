"""The bench's CPU a request, by process (bench/cpu.py), read from the kernel's counters."""

import subprocess
import sys

import pytest

from bench import cpu

pytestmark = pytest.mark.skipif(not cpu.Meter.available(), reason="no per-process CPU times")

# Once told to go, spends 0.3 s of its own CPU, says so, then waits (alive, spending nothing)
# for the end of its stdin.
BUSY = """
import sys, time
print("ready", flush=True)
sys.stdin.readline()
started = time.process_time()
while time.process_time() - started < 0.3:
    pass
print("spent", flush=True)
sys.stdin.read()
"""


def test_a_process_is_told_in_its_group_and_the_machine_in_all():
    meter = cpu.Meter(web_pid=None, worker_pid=None)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", BUSY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        meter.roots[cpu.WEB] = process.pid
        assert process.stdout.readline() == "ready\n"
        before = meter.read()
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.stdout.readline() == "spent\n"
        spent = cpu.per_request(before, meter.read(), requests=2)
    finally:
        process.communicate("")

    # 0.3 s over two requests (the kernel counts in ticks of 10 ms).
    assert 140 <= spent[cpu.WEB] < 250
    assert spent["all"] >= spent[cpu.WEB]
    assert spent[cpu.WORKER] == 0
    assert set(spent) == {*cpu.GROUPS, "all"}


def test_the_servers_are_found_by_name():
    seen = cpu.Meter(web_pid=None, worker_pid=None).read()

    # This machine's suite talks to PostgreSQL or SQLite, and maybe Redis: whichever runs
    # is found; the bench's own processes (none here) are not.
    groups = {group for group, _ in seen.processes.values()}
    assert cpu.WEB not in groups
    assert groups <= {cpu.DATABASE, cpu.REDIS}


def test_no_requests_share_nothing():
    reading = cpu.Reading({}, 0.0)
    with pytest.raises(ValueError, match="no requests"):
        cpu.per_request(reading, reading, 0)
