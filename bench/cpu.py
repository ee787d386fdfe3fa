"""Where the machine's CPU goes while the bench loads one request: milliseconds of CPU a
request, by process (bench/run.py `side_by_side`).

The ratios say how far each request is from the bare view; this says what it spends on the
way: the web workers' Python, PostgreSQL, Redis, the Celery worker the request gives work to,
and the rest of the machine (mostly the loader). On a machine whose CPUs are all busy (the
bench's loads keep them so), a request's rate is the machine's CPU over what it costs in
all, so a goal ratio R needs `all` at most the bare view's `all` over R.

Read from the kernel's counters through psutil (user plus system time, per process and for
the whole machine), so only where psutil reads them: `Meter.available()` says.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil

# The groups a request's CPU is told in, in the order the report shows them.
WEB, DATABASE, REDIS, WORKER, REST = "web", "PostgreSQL", "Redis", "worker", "rest"
GROUPS = (WEB, DATABASE, REDIS, WORKER, REST)
# How long the worker may take to finish what a load queued, and the CPU it may still spend
# in one look (WORKER_QUIET_SECONDS) and count as done.
WORKER_DRAIN_SECONDS, WORKER_QUIET_SECONDS, WORKER_QUIET_CPU = 120, 0.5, 0.02

# A process is known by its id and its start: an id the kernel gave again is another process.
ProcessKey = tuple[int, float]


def _seconds(times) -> float:
    return times.user + times.system


def _machine_busy() -> float:
    """Seconds of CPU the whole machine spent on anything (all CPUs, since boot): every
    field but idle time, waiting for the disk, time the hypervisor gave another machine
    (steal), and the guest fields, which Linux counts in user time already."""
    times = psutil.cpu_times()
    not_ours = {"idle", "iowait", "steal", "guest", "guest_nice"}
    return sum(value for name, value in times._asdict().items() if name not in not_ours)


@dataclass(frozen=True)
class Reading:
    """CPU seconds so far: per process (its group and its seconds) and the machine's."""

    processes: dict[ProcessKey, tuple[str, float]]
    machine: float


class Meter:
    """Reads the CPU of the bench's own web and worker processes (each with its children) and
    of the servers' processes `servers()` names ({pid: group}: the bench database's
    PostgreSQL backends, the Redis server), asked again at each reading."""

    def __init__(
        self,
        web_pid: int | None,
        worker_pid: int | None,
        servers: Callable[[], dict[int, str]] = dict,
    ) -> None:
        self.roots = {WEB: web_pid, WORKER: worker_pid}
        self.servers = servers

    @staticmethod
    def available() -> bool:
        """Whether this system gives psutil the per-process times (Linux, macOS, BSD)."""
        try:
            psutil.Process().cpu_times()
            psutil.cpu_times()
        except (psutil.Error, NotImplementedError):
            return False
        return True

    def _processes(self) -> Iterable[tuple[str, psutil.Process]]:
        for group, pid in self.roots.items():
            if pid is None:
                continue
            try:
                root = psutil.Process(pid)
                yield from ((group, process) for process in [root, *root.children(True)])
            except psutil.NoSuchProcess:
                continue
        for pid, group in self.servers().items():
            try:
                yield group, psutil.Process(pid)
            except psutil.NoSuchProcess:
                continue

    def read(self) -> Reading:
        seen = {}
        for group, process in self._processes():
            try:
                with process.oneshot():
                    key = (process.pid, process.create_time())
                    seen[key] = (group, _seconds(process.cpu_times()))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return Reading(seen, _machine_busy())

    def worker_done(self) -> None:
        """Back once the worker has spent under WORKER_QUIET_CPU seconds in a look of
        WORKER_QUIET_SECONDS (what a load queued is done), or after WORKER_DRAIN_SECONDS."""
        if self.roots[WORKER] is None:
            return
        deadline = time.monotonic() + WORKER_DRAIN_SECONDS
        before = self._worker_seconds()
        while time.monotonic() < deadline:
            time.sleep(WORKER_QUIET_SECONDS)
            now = self._worker_seconds()
            if now - before < WORKER_QUIET_CPU:
                return
            before = now

    def _worker_seconds(self) -> float:
        reading = self.read()
        return sum(seconds for group, seconds in reading.processes.values() if group == WORKER)


def per_request(before: Reading, after: Reading, requests: int) -> dict[str, float]:
    """{group: ms of CPU a request} between two readings, for every group in GROUPS and
    "all" (the whole machine): the rest is the machine's CPU no measured process spent (the
    loader, the kernel, anything else running; below zero only if the counters disagree). A
    process that started between the two counts whole; one that ended counts nothing. Raises
    ValueError for no requests."""
    if requests <= 0:
        raise ValueError("no requests to share the CPU among")
    spent = dict.fromkeys(GROUPS, 0.0)
    for key, (group, seconds) in after.processes.items():
        spent[group] += seconds - before.processes.get(key, (group, 0.0))[1]
    spent["all"] = after.machine - before.machine
    spent[REST] = spent["all"] - sum(spent[group] for group in GROUPS)
    return {group: round(seconds * 1000 / requests, 3) for group, seconds in spent.items()}
