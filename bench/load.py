"""Load from a second process on loopback: wrk when it is installed, a Python loader otherwise.

A target is one kind of request; each request picks one of its paths at random (or the next
one, `in_order`) and comes from a random client address (X-Forwarded-For, which the app reads
behind its proxy), so per-client rate limits see many phones rather than one.
"""

import concurrent.futures
import dataclasses
import http.client
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CONNECTIONS = 4


@dataclass(frozen=True)
class Target:
    name: str
    paths: list[str]
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    expect: int = 200
    expect_text: str = ""  # in the body of every answer that did what the target measures
    expect_bytes: int = 0  # when set, the exact length of every such answer's body (as sent)
    # Each request takes the next path, from the first (again from the first past the last):
    # no path is asked twice while there are paths left.
    in_order: bool = False
    # How many times each path is asked before the target is measured (`ask_each`): loads
    # that find what earlier loads of the same path left (the recipient page's kept render).
    asked_before: int = 0


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # socket errors, and answers with another status or without the expected text

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def ask_each(target: Target, port: int, times: int) -> int:
    """Ask every path of `target` `times` times (each once before any twice), four requests
    at a time, each from a random client address: how many did not do what it measures."""

    def ask(path: str) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            return _one(dataclasses.replace(target, paths=[path], in_order=False), connection)[0]
        finally:
            connection.close()

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(times):
            failed += sum(not good for good in pool.map(ask, target.paths))
    return failed


def loader() -> str:
    """wrk when installed (BENCH_LOADER=python picks the Python loader anyway)."""
    return os.environ.get("BENCH_LOADER") or ("wrk" if shutil.which("wrk") else "python")


def run(target: Target, port: int, seconds: float) -> Run:
    if loader() == "wrk":
        return _wrk(target, port, seconds)
    return _python(target, port, seconds)


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def _wrk_script(target: Target) -> str:
    paths = ",\n".join(_lua_string(path) for path in target.paths)
    headers = "\n".join(
        f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
        for name, value in target.headers.items()
    )
    # Each wrk thread has its own Lua state: `unexpected` is read from each in done().
    return f"""
local paths = {{
{paths}
}}
local expect, expect_text = {target.expect}, {_lua_string(target.expect_text)}
local expect_bytes = {target.expect_bytes}
local threads = {{}}
wrk.method = {_lua_string(target.method)}
wrk.body = {_lua_string(target.body)}
{headers}
setup = function(thread)
  table.insert(threads, thread)
end
local in_order, asked = {"true" if target.in_order else "false"}, 0
init = function(args)
  unexpected = 0
  math.randomseed(os.time())
end
request = function()
  wrk.headers["X-Forwarded-For"] = string.format(
    "10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  if in_order then
    asked = asked + 1
    return wrk.format(nil, paths[(asked - 1) % #paths + 1])
  end
  return wrk.format(nil, paths[math.random(#paths)])
end
response = function(status, headers, body)
  if status ~= expect or (expect_text ~= "" and not string.find(body, expect_text, 1, true))
      or (expect_bytes > 0 and #body ~= expect_bytes) then
    unexpected = unexpected + 1
  end
end
done = function(summary, latency, requests)
  local errors = summary.errors
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + thread:get("unexpected") end
  io.write(string.format(
    '{{"requests": %d, "micros": %d, "failed": %d, "p50": %d, "p99": %d}}\\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout + wrong,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk(target: Target, port: int, seconds: float) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(target))
    try:
        output = subprocess.run(  # noqa: S603
            [
                shutil.which("wrk") or "wrk",
                "--threads",
                "1",
                "--connections",
                str(CONNECTIONS),
                "--duration",
                f"{seconds:g}s",
                "--script",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    summary = json.loads(output.strip().splitlines()[-1])
    return Run(
        requests=summary["requests"],
        seconds=summary["micros"] / 1e6,
        p50_ms=summary["p50"] / 1000,
        p99_ms=summary["p99"] / 1000,
        failed=summary["failed"],
    )


def _path(target: Target, asked) -> str:
    """The path of the target's next request: the next in order (`asked`, a count every
    process of the loader shares), else one at random."""
    if not target.in_order:
        return random.choice(target.paths)  # noqa: S311
    with asked.get_lock():
        n, asked.value = asked.value, asked.value + 1
    return target.paths[n % len(target.paths)]


def _one(target: Target, connection: http.client.HTTPConnection, asked=None) -> tuple[bool, float]:
    """One request on a kept-alive connection: whether it did what the target measures."""
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"  # noqa: S311
    path = _path(target, asked)
    started = time.perf_counter()
    connection.request(
        target.method,
        path,
        body=target.body.encode() or None,
        headers={**target.headers, "X-Forwarded-For": address},
    )
    response = connection.getresponse()
    body = response.read()
    took = time.perf_counter() - started
    good = response.status == target.expect and target.expect_text.encode() in body
    return good and (not target.expect_bytes or len(body) == target.expect_bytes), took


def _python_worker(target: Target, port: int, seconds: float, threads: int, asked, out) -> None:
    latencies: list[float] = []
    failed = 0
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds

    def loop() -> None:
        nonlocal failed
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.perf_counter() < deadline:
            try:
                good, took = _one(target, connection, asked)
            except (OSError, http.client.HTTPException):
                connection.close()
                bad += 1
                continue
            mine.append(took)
            bad += not good
        connection.close()
        with lock:
            latencies.extend(mine)
            failed += bad

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put((latencies, failed, time.perf_counter() - started))


def _python(target: Target, port: int, seconds: float) -> Run:
    """Two processes of two keep-alive connections each: slower than wrk, the same shape."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    asked = multiprocessing.Value("q", 0)
    processes = [
        multiprocessing.Process(
            target=_python_worker, args=(target, port, seconds, 2, asked, queue)
        )
        for _ in range(CONNECTIONS // 2)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(latency for batch, _, _ in results for latency in batch)
    if len(latencies) < 2:
        raise SystemExit(f"{target.name}: the server answered {len(latencies)} requests")
    cuts = statistics.quantiles(latencies, n=100)
    return Run(
        requests=len(latencies),
        seconds=max(took for _, _, took in results),
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        failed=sum(bad for _, bad, _ in results),
    )
