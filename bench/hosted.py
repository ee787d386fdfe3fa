"""`make bench`'s hosted previews (issue 14): a build's files served by the app as in production
against nginx serving the same files, and a 20 MB build uploaded while the worker's memory is
watched.

- Serving: a typical build (index.html, a 200 KB JS bundle, its CSS) is uploaded through
  POST /api/v1/builds, then its bundle and its index.html are loaded from gunicorn (by the
  preview's Host, answered by sessions/serving.py with FileResponse, so sendfile) and from
  nginx (Debian's package, `gzip_static on`, as many workers as gunicorn) whose root is the
  build's own folder in storage: the same bytes from the same disk. Both are asked with
  `Accept-Encoding: gzip` (nginx has no brotli module), so both send the stored .gz, and
  every answer's length is checked against it. Rounds alternate nginx and gunicorn, as the
  other targets alternate with the bare view.
- Upload: a build zipped to BENCH_UPLOAD_MB (20) MB, mostly images, is streamed to POST
  /api/v1/builds; the time is the client's, from the first byte sent to the answer read,
  and the memory is each gunicorn worker's peak resident memory during the upload (VmHWM,
  started again from its idle size just before) over that idle size.

Run on its own (its own SQLite database, gunicorn, nginx; no seeding): `python bench/hosted.py
[--json FILE]`; `make bench` runs it after its other loads.
"""

import http.client
import json
import os
import random
import secrets
import statistics
import sys
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, servers  # noqa: E402
from bench.clients import request  # noqa: E402

BUNDLE_BYTES = 200 * 1024
UPLOAD_BYTES = int(float(os.environ.get("BENCH_UPLOAD_MB", "20")) * 1024 * 1024)
IMAGE_BYTES = 1024 * 1024  # each image of the large build (random bytes: compress like a JPEG)
SEND_BLOCK = 256 * 1024  # bytes per write of the upload
WARM_UPLOADS = 4  # small uploads first, so each worker has imported what an upload needs
ACCEPT_ENCODING = "gzip"
BUNDLE_PATH = "assets/index-5f3a9c1e.js"
CSS_PATH = "assets/index-b81d2e07.css"

INDEX = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <link rel="icon" type="image/svg+xml" href="/favicon.svg">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <meta name="description" content="Track the habits you care about, one tap a day.">
    <meta name="theme-color" content="#0b57d0">
    <title>Habit tracker</title>
    <script type="module" crossorigin src="/{bundle}"></script>
    <link rel="stylesheet" crossorigin href="/{css}">
  </head>
  <body>
    <div id="root"></div>
    <noscript>This app needs JavaScript: turn it on and reload the page.</noscript>
  </body>
</html>
"""
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<circle cx="16" cy="16" r="14" fill="#0b57d0"/></svg>\n'
)
WORDS = (  # noqa: SIM905
    "const let var function return if else for while switch case break new this null "
    "undefined true false typeof instanceof async await export import from default class "
    "extends super try catch finally throw yield delete void in of"
).split()
NAMES = (  # noqa: SIM905
    "state props children key ref value onClick onChange useState useEffect useMemo "
    "createElement render habit habits today streak count date items filter map reduce push "
    "length then resolve reject Promise Object Array String Number JSON document window "
    "addEventListener removeEventListener querySelector className style setAttribute"
).split()


def minified_js(size: int, rng: random.Random) -> bytes:
    """`size` bytes of text shaped like a minified bundle: short names used again and again,
    keywords, a library's words and literals, in phrases that recur, so gzip shrinks it
    about as much as a real one (to about a third)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$"
    local = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 2))) for _ in range(400)]
    punctuation = ["(", ")", "{", "}", ",", ";", "=", "=>", ".", "?", ":", "&&", "||", "!", "["]

    def token() -> str:
        roll = rng.random()
        if roll < 0.25:
            return rng.choice(WORDS) + " "
        if roll < 0.5:
            return rng.choice(NAMES)
        if roll < 0.7:
            return rng.choice(local)
        if roll < 0.76:
            return str(rng.randint(0, 99999))
        if roll < 0.8:
            return '"' + "".join(rng.choice("abcdefghijklmnop -") for _ in range(8)) + '"'
        return rng.choice(punctuation)

    phrases = ["".join(token() for _ in range(rng.randint(3, 12))) for _ in range(2000)]
    parts, length = [], 0
    while length < size:
        part = rng.choice(phrases) if rng.random() < 0.8 else token()
        parts.append(part)
        length += len(part)
    return "".join(parts).encode()[:size]


def typical_build() -> dict[str, bytes]:
    """A typical single-page app's build, as Vite writes it: {path: bytes}."""
    rng = random.Random(14)  # noqa: S311
    css = b"".join(
        b".c%d{display:flex;margin:%dpx;padding:%dpx %dpx;color:#%06x}"
        % (n, n % 24, n % 16, n % 12, rng.randrange(1 << 24))
        for n in range(400)
    )
    return {
        "index.html": INDEX.format(bundle=BUNDLE_PATH, css=CSS_PATH).encode(),
        BUNDLE_PATH: minified_js(BUNDLE_BYTES, rng),
        CSS_PATH: css,
        "favicon.svg": FAVICON.encode(),
    }


def write_zip(path: Path, files: dict[str, bytes], at_least: int = 0) -> int:
    """The build zipped at `path` (text deflated), with random "images" stored after it until
    the zip is `at_least` bytes; its size in bytes."""
    rng = random.Random(20)  # noqa: S311
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        number = 0
        while path.stat().st_size < at_least:
            archive.writestr(
                f"assets/photo-{number:03d}.jpg",
                rng.randbytes(min(IMAGE_BYTES, at_least - path.stat().st_size)),
                compress_type=zipfile.ZIP_STORED,
            )
            archive.fp.flush()
            number += 1
    return path.stat().st_size


def api_token() -> str:
    """A builder of the bench's own and a raw API token of theirs (in this process's database,
    which the servers share)."""
    from django.utils import timezone

    from common.builders import Builder
    from outerloop.models import ApiToken

    builder = Builder.objects.create_user(
        email=f"hosted-{secrets.token_hex(4)}@example.com",
        password=secrets.token_urlsafe(16),
        name="Alex",
        email_confirmed_at=timezone.now(),
    )
    return ApiToken.issue(builder, "bench")[1]


def body_length(port: int, path: str, headers: dict[str, str]) -> int:
    """The length of the body gunicorn sends for `path` with `headers`: for index.html, the
    page with the widget injected and compressed on the fly, which no stored file holds."""
    status, _, body = request(port, "GET", path, headers)
    if status != 200:
        raise SystemExit(f"GET {path} answered {status}")
    return len(body)


def post_build(port: int, token: str, archive: Path) -> tuple[int, dict, float]:
    """POST /api/v1/builds with `archive` as its file, streamed from disk in blocks: the
    status, the JSON answer and the seconds from the first byte sent to the answer read."""
    boundary = secrets.token_hex(16)
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{archive.name}"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with archive.open("rb") as file:
            while block := file.read(SEND_BLOCK):
                yield block
        yield tail

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request(
        "POST",
        "/api/v1/builds",
        body=body(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + archive.stat().st_size + len(tail)),
            "User-Agent": "outerloop-bench",
            "X-Forwarded-For": "10.1.2.3",
        },
    )
    response = connection.getresponse()
    answer = response.read()
    seconds = time.perf_counter() - started
    connection.close()
    try:
        parsed = json.loads(answer)
    except ValueError:
        parsed = {"body": answer[:500].decode(errors="replace")}
    return response.status, parsed, seconds


class PeakMemory:
    """Each process's peak resident memory over its size when the block began, in MB: VmHWM
    started again at entry (/proc/PID/clear_refs) and, where that can't be done, VmRSS sampled
    every few milliseconds."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.idle: dict[int, float] = {}
        self.sampled: dict[int, float] = {}
        self.reset = False
        self._done = threading.Event()

    def __enter__(self) -> "PeakMemory":
        self.idle = {pid: servers.rss_mb(pid) or 0.0 for pid in self.pids}
        self.reset = all(servers.reset_peak(pid) for pid in self.pids)
        self.sampled = dict(self.idle)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            for pid in self.pids:
                self.sampled[pid] = max(self.sampled[pid], servers.rss_mb(pid) or 0.0)

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        if self.reset:
            for pid in self.pids:
                self.sampled[pid] = max(self.sampled[pid], servers._peak_mb(pid) or 0.0)

    def growth(self) -> tuple[float, float]:
        """(the largest growth over idle, that process's idle size), in MB."""
        pid = max(self.pids, key=lambda pid: self.sampled[pid] - self.idle[pid])
        return round(self.sampled[pid] - self.idle[pid], 1), self.idle[pid]


SERVED_BY = ("gunicorn", "nginx recipe → gunicorn")  # how the app's answers reach the client


def against_nginx(
    apps: dict[str, tuple[load.Target, int]], nginx: load.Target, nginx_port: int,
    bare_port: int, seconds: float, rounds: int,
) -> dict:  # fmt: skip
    """Rounds of nginx's static host then each way the app is served (`apps`: {name:
    (target, port)}, SERVED_BY): for each way, the medians of its req/s and latencies, of
    each round's req/s ratio to nginx's (goal: at least bench.report.NGINX_GOALS) and of its
    p99 ratio (how many times nginx's); nginx's own medians; and, each round, the app's bare
    view, the most any Django answer gets here."""
    bare = load.Target("bare view", ["/bench/bare/"])  # the app's ceiling, for comparison
    load.run(nginx, nginx_port, 1)  # warm all up
    for target, port in apps.values():
        load.run(target, port, 1)
    theirs, ours, bares = [], {name: [] for name in apps}, []
    for _ in range(rounds):
        theirs.append(load.run(nginx, nginx_port, seconds))
        for name, (target, port) in apps.items():
            ours[name].append(load.run(target, port, seconds))
        bares.append(load.run(bare, bare_port, seconds))

    def median(runs: list[load.Run], what: str) -> float:
        return statistics.median(getattr(run, what) for run in runs)

    def figures(runs: list[load.Run]) -> dict:
        return {
            "per_second": round(median(runs, "per_second"), 1),
            "p50_ms": round(median(runs, "p50_ms"), 2),
            "p99_ms": round(median(runs, "p99_ms"), 2),
            "failed": sum(run.failed for run in runs),
            "ratio": round(
                statistics.median(
                    a.per_second / b.per_second for b, a in zip(theirs, runs, strict=True)
                ),
                2,
            ),
            "p99_ratio": round(
                statistics.median(
                    a.p99_ms / max(b.p99_ms, 0.001) for b, a in zip(theirs, runs, strict=True)
                ),
                1,
            ),
        }

    return {
        "bytes": next(iter(apps.values()))[0].expect_bytes,
        "nginx_per_second": round(median(theirs, "per_second"), 1),
        "nginx_p99_ms": round(median(theirs, "p99_ms"), 2),
        "nginx_failed": sum(run.failed for run in theirs),
        "bare_per_second": round(median(bares, "per_second"), 1),
        "served_by": {name: figures(runs) for name, runs in ours.items()},
    }


def measure(port: int, var: Path, web, seconds: float, rounds: int) -> dict:
    """The scenario against the gunicorn `web` already serving on `port` (its database is this
    process's): uploads, nginx started and stopped here."""
    from urllib.parse import urlsplit

    from django.core.files.storage import storages
    from django.db import connection

    from sessions.hosted import label_of
    from sessions.models import Preview

    token = api_token()
    files = typical_build()
    small = var / "dist.zip"
    write_zip(small, files)
    label = None
    for _ in range(WARM_UPLOADS):
        with PeakMemory(servers.worker_pids(web)) as small_memory:
            status, answer, small_seconds = post_build(port, token, small)
        if status != 201:
            raise SystemExit(f"POST /api/v1/builds answered {status}: {answer}")
        label = label_of(urlsplit(answer["preview"]["url"]).netloc)
    build = Preview.objects.select_related("build").get(host=label).build
    folder = Path(storages["previews"].path(build.key))
    connection.close()

    large = var / "large.zip"
    upload_bytes = write_zip(large, files, at_least=UPLOAD_BYTES)
    with PeakMemory(servers.worker_pids(web)) as memory:
        status, answer, upload_seconds = post_build(port, token, large)
    if status != 201:
        raise SystemExit(f"POST /api/v1/builds of {upload_bytes:,} B answered {status}: {answer}")
    growth, idle = memory.growth()
    large.unlink()

    from django.conf import settings

    host = f"{label}.{settings.OUTERLOOP_PREVIEW_DOMAIN}"
    nginx_port, proxy_port = servers.free_port(), servers.free_port()
    nginx = servers.nginx(nginx_port, folder, var)
    proxy = servers.nginx_proxy(proxy_port, port, var)
    try:
        serving = {}
        for name, path in (("JS bundle, 200 KB", BUNDLE_PATH), ("index.html", "index.html")):
            # Under 1 KB a file has no .gz (sessions.builds.COMPRESS_MIN): both send it as is.
            gz = folder / f"{path}.gz"
            stored = len((gz if gz.exists() else folder / path).read_bytes())
            url = "/" if path == "index.html" else f"/{path}"
            headers = {"Accept-Encoding": ACCEPT_ENCODING}
            app_headers = {**headers, "Host": host}
            sent = body_length(port, url, app_headers)  # HTML: with the widget injected
            if body_length(proxy_port, url, app_headers) != sent:
                raise SystemExit(f"nginx's recipe sent other bytes than gunicorn for {url}")
            print(f"bench: loading {name}: nginx, the app, the app behind nginx…", flush=True)
            serving[name] = against_nginx(
                {
                    way: (load.Target(name, [url], headers=app_headers, expect_bytes=sent), at)
                    for way, at in zip(SERVED_BY, (port, proxy_port), strict=True)
                },
                load.Target(name, [url], headers=headers, expect_bytes=stored),
                nginx_port,
                port,
                seconds,
                rounds,
            )
    finally:
        servers.stop(proxy)
        servers.stop(nginx)
    return {
        "nginx": nginx_version(),
        "accept_encoding": ACCEPT_ENCODING,
        "serving": serving,
        "upload": {
            "bytes": upload_bytes,
            "seconds": round(upload_seconds, 2),
            "rss_growth_mb": growth,
            "rss_idle_mb": idle,
            "small_bytes": small.stat().st_size,
            "small_seconds": round(small_seconds, 2),
            "small_rss_growth_mb": small_memory.growth()[0],
            "measured_by": "VmHWM" if memory.reset else "VmRSS sampled every 5 ms",
        },
    }


def nginx_version() -> str:
    import subprocess

    binary = servers.nginx_binary()
    if binary is None:
        return "none"
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    return result.stderr.strip().removeprefix("nginx version: nginx/")


def main(argv: list[str]) -> int:
    """The scenario alone: its own database (bench/environment.py), gunicorn and nginx."""
    if servers.nginx_binary() is None:
        raise SystemExit(servers.NGINX_MISSING)
    from bench.report import hosted_lines

    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    with servers.own_app() as (port, environment, web):
        results = measure(port, environment.var, web, seconds, rounds)
    results["loader"] = load.loader()
    print("\n".join(hosted_lines(results)))
    if len(argv) == 2 and argv[0] == "--json":
        Path(argv[1]).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
