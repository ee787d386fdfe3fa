"""Where one of the bench's requests spends its time: pyinstrument over many of them, in process.

Seeds the same data as `make bench` (same database choice), then sends the named target's
requests through Django's test client, which runs the same middleware as gunicorn would.
Run: `make profile TARGET="recipient page, loaded again"` (any name from the bench table;
default: all).
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.environment import clean_up, prepare  # noqa: E402

REQUESTS = int(os.environ.get("PROFILE_REQUESTS", "300"))


def main() -> int:
    environment = prepare(Path(tempfile.mkdtemp(prefix="outerloop-profile-")), 8000, "profile")
    try:
        profile(os.environ.get("TARGET", ""))
    finally:
        from django.db import connection

        connection.close()
        clean_up(environment, "profile")
    return 0


def profile(wanted: str) -> None:
    import django
    from django.core.management import call_command
    from pyinstrument import Profiler

    django.setup()
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    data = run.seed_everything()
    for target in run.targets(data):
        if wanted and target.name != wanted:
            continue
        client = Client(HTTP_HOST="127.0.0.1")
        headers = {name.upper().replace("-", "_"): value for name, value in target.headers.items()}
        cookie = headers.pop("COOKIE", "")
        for pair in filter(None, cookie.split("; ")):
            name, value = pair.split("=", 1)
            client.cookies[name] = value
        meta = {f"HTTP_{name}": value for name, value in headers.items()}
        if "HTTP_CONTENT_TYPE" in meta:
            meta["CONTENT_TYPE"] = meta.pop("HTTP_CONTENT_TYPE")

        def send(path: str, client=client, meta=meta, target=target) -> int:
            meta = {
                **meta,
                "HTTP_X_FORWARDED_FOR": f"10.0.{len(path) % 250}.{time.time_ns() % 250}",
            }
            if target.method == "POST":
                return client.generic("POST", path, target.body, **meta).status_code
            return client.get(path, **meta).status_code

        # Warm caches and templates outside the profile (with a path the profile won't ask
        # first), and ask each path it will ask as many times as the bench does first.
        statuses = {send(target.paths[-1])}
        for _ in range(target.asked_before):
            statuses.update(send(path) for path in target.paths[:REQUESTS])
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for n in range(REQUESTS):
                statuses.add(send(target.paths[n % len(target.paths)]))
        took = (time.perf_counter() - started) / REQUESTS * 1000
        print(f"\n=== {target.name}: {took:.2f} ms a request in process; statuses {statuses}")
        print(profiler.output_text(unicode=True, color=False, show_all=False, timeline=False))


if __name__ == "__main__":
    raise SystemExit(main())
