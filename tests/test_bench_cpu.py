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


def spend(meter: cpu.Meter, process: subprocess.Popen, requests: int) -> dict[str, float]:
    """What `process` (started with BUSY) spends once told to go, per request, as `meter`
    tells it."""
    try:
        assert process.stdout.readline() == "ready\n"
        before = meter.read()
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.stdout.readline() == "spent\n"
        return cpu.per_request(before, meter.read(), requests)
    finally:
        process.communicate("")


def busy(*, under_a_shell: bool = False) -> subprocess.Popen:
    command = [sys.executable, "-c", BUSY]
    if under_a_shell:  # the shell stays, its child spends: as gunicorn's or Celery's workers
        command = ["sh", "-c", f"\"{sys.executable}\" -c '{BUSY}'; true"]
    return subprocess.Popen(  # noqa: S603
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def test_a_root_process_is_told_in_its_group_and_the_machine_in_all():
    process = busy()
    meter = cpu.Meter(web_pid=process.pid, worker_pid=None)

    spent = spend(meter, process, requests=2)

    # 0.3 s over two requests (the kernel counts user and system time in ticks of 10 ms).
    assert 130 <= spent[cpu.WEB] < 250
    assert spent["all"] >= spent[cpu.WEB]
    assert spent[cpu.WORKER] == spent[cpu.DATABASE] == 0
    assert set(spent) == {*cpu.GROUPS, "all"}


def test_a_roots_children_are_told_with_it():
    process = busy(under_a_shell=True)
    meter = cpu.Meter(web_pid=None, worker_pid=process.pid)

    spent = spend(meter, process, requests=1)

    assert 280 <= spent[cpu.WORKER] < 500
    assert spent[cpu.WEB] == 0


def test_a_server_is_told_in_the_group_it_is_named_for():
    process = busy()
    meter = cpu.Meter(web_pid=None, worker_pid=None, servers=lambda: {process.pid: cpu.DATABASE})

    spent = spend(meter, process, requests=1)

    assert 280 <= spent[cpu.DATABASE] < 500
    assert spent[cpu.REDIS] == 0


def test_an_id_given_again_is_another_process():
    before = cpu.Reading({(41, 1000.0): (cpu.WEB, 5.0)}, machine=100.0)
    after = cpu.Reading({(41, 2000.0): (cpu.WEB, 0.5)}, machine=101.0)

    spent = cpu.per_request(before, after, requests=1)

    # The new process 41 spent 0.5 s, not 0.5 - 5; the rest of the machine's second is rest.
    assert spent[cpu.WEB] == 500
    assert spent[cpu.REST] == 500
    assert spent["all"] == 1000


def test_no_requests_share_nothing():
    reading = cpu.Reading({}, 0.0)
    with pytest.raises(ValueError, match="no requests"):
        cpu.per_request(reading, reading, 0)
