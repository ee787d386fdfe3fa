"""The processes a bench run starts (gunicorn, a Celery worker) and their peak memory."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(arguments: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def gunicorn(port: int, var: Path) -> subprocess.Popen:
    """Two sync workers, as the Procfile runs it; back once it answers."""
    log = var / "gunicorn.log"
    server = _start(
        ["gunicorn", "outerloop.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"], log
    )
    for _ in range(200):
        try:
            urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    stop(server)
    raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")


def celery_worker(var: Path) -> subprocess.Popen:
    return _start(
        ["celery", "--app", "outerloop", "worker", "--concurrency", "2", "--loglevel",
         "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        var / "celery.log",
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _peak_mb(pid: int) -> float | None:
    """The process's high-water resident memory (Linux's VmHWM), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def peak_memory(web: subprocess.Popen, worker: subprocess.Popen) -> dict:
    """Per process, after the run (Linux only: None elsewhere)."""
    return {
        "gunicorn_worker_peak_mb": [mb for pid in _children(web.pid) if (mb := _peak_mb(pid))],
        "celery_main_peak_mb": _peak_mb(worker.pid),
        "celery_pool_child_peak_mb": [mb for pid in _children(worker.pid) if (mb := _peak_mb(pid))],
    }
