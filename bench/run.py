"""`make bench`: Outer Loop served as in production and measured side by side with a bare view.

gunicorn (2 sync workers, persistent database connections) serves the app on PostgreSQL when
DATABASE_URL is set and on a throwaway SQLite file otherwise, never in the configured
database (bench/environment.py). A Celery worker consumes what the requests enqueue.
Each target is loaded in rounds alternating with a view that does nothing behind the same
middleware, so every figure has its ceiling measured minutes apart on the same machine.
Hosted previews' files are measured against nginx serving the same files (bench/hosted.py).

Prints a table and writes bench/results.json. Nothing here is a pass/fail test.
Run: `make bench` (BENCH_SECONDS and BENCH_ROUNDS shorten or lengthen the load).
"""

import dataclasses
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cpu, load, scaleout, servers  # noqa: E402
from bench import hosted as hosted_previews  # noqa: E402
from bench.clients import PHONE_UA, request, session_cookie  # noqa: E402
from bench.environment import Environment, clean_up, prepare  # noqa: E402
from bench.report import table  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DUE_BUILDERS = 10_000
# Live links for the recipient page's first loads, each asked once: more than the fastest
# machine so far answers in the rounds (about 1,500 a second, for 1 + ROUNDS x SECONDS seconds).
FIRST_LOADS = 15_000
PAST_PREVIEWS = 100_000
EMAIL_SAMPLE = 100


# --- the run ---------------------------------------------------------------------------------


def seed_everything() -> dict:
    from django.utils import timezone

    from bench import seed
    from reactions.models import Share
    from sessions.models import Preview

    now = timezone.now()
    rng = random.Random(7)  # noqa: S311
    started = time.perf_counter()
    small = seed.history("small@example.com", 10, 10, now, rng)
    large = seed.history("large@example.com", 10_000, 365, now, rng)
    phones = seed.history("load@example.com", 2_000, 30, now, rng)
    strangers = seed.history("first@example.com", FIRST_LOADS, 30, now, rng)
    for builder in (phones, strangers):
        Preview.objects.owned_by(builder).update(expires_at=now + timedelta(hours=3))
    due = seed.due_builders(DUE_BUILDERS, now)
    seconds = time.perf_counter() - started
    # Everyone else's history, so no query sees only the measured builders' rows; the sweep
    # later finds these previews past their time.
    started = time.perf_counter()
    seed.past_previews(due, PAST_PREVIEWS, now, random.Random(11))  # noqa: S311
    analyze()
    past_seconds = time.perf_counter() - started
    shares = Share.objects.owned_by(phones)
    return {
        "small": small,
        "large": large,
        "phones": phones,
        "due": due,
        "tokens": list(shares.values_list("token", flat=True)),
        "first_tokens": list(Share.objects.owned_by(strangers).values_list("token", flat=True)),
        "watched_share": shares.order_by("pk").values_list("pk", flat=True)[0],
        "seconds": seconds,
        "past_seconds": past_seconds,
        "now": now,
    }


def analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them on a production PostgreSQL: without
    them both databases plan the bulk-loaded tables as if they were empty (SQLite then takes
    seconds over the large dashboard's subqueries)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def dashboard_queries(builder) -> dict[str, int]:
    """The dashboard's queries, {"fresh": n, "again": n}: its first view after a change (the
    builder's versions replaced, as every writer does), and the next, which reuses that
    render when there is Redis (`reactions.live.Kept`)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from common import changes

    client = Client()
    client.force_login(builder)
    client.get("/", HTTP_HOST="127.0.0.1")  # warm: the first request also loads templates
    counts = {}
    for view in ("fresh", "again"):
        if view == "fresh":
            changes.builder_changed(builder.pk)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/", HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, response.status_code  # noqa: S101
        counts[view] = len(queries)
    return counts


def targets(data: dict) -> list[load.Target]:
    from django.test import Client

    tokens = data["tokens"]
    watched = data["watched_share"]
    owner_cookie = session_cookie(data["phones"])
    client = Client()
    client.force_login(data["phones"])
    etag = client.get(f"/shares/{watched}/", HTTP_HOST="127.0.0.1", HTTP_HX_REQUEST="true")["ETag"]
    phone = {"User-Agent": PHONE_UA}
    return [
        load.Target(
            "recipient page, a link's first load",
            [f"/r/{token}/" for token in data["first_tokens"]],
            headers=phone,
            expect_text="would like your reaction",
            in_order=True,
        ),
        load.Target(
            "recipient page, loaded again",
            [f"/r/{token}/" for token in tokens],
            headers=phone,
            expect_text="would like your reaction",
            # Some worker has loaded each link twice, so its second load kept the render
            # (reactions/kept_link.py): one more load than there are workers.
            asked_before=servers.WORKERS + 1,
        ),
        load.Target(
            "live-watch poll, unchanged",
            [f"/shares/{watched}/"],
            headers={"Cookie": owner_cookie, "HX-Request": "true", "If-None-Match": etag},
            expect=304,
        ),
        load.Target(
            "reaction POST",
            [f"/r/{token}/react/" for token in tokens],
            method="POST",
            # The recipient's form needs no CSRF token or cookie (reactions/recipient.py): the
            # share token is the capability, as for a phone that blocks cookies.
            headers={
                **phone,
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body="text=The+first+screen+reads+well.&chip=love",
            expect_text="Thank you!",  # saved: a refused reaction answers 200 with the form
        ),
        load.Target(
            "dashboard, 10 shares", ["/"], headers={"Cookie": session_cookie(data["small"])}
        ),
        load.Target(
            "dashboard, 10,000 shares", ["/"], headers={"Cookie": session_cookie(data["large"])}
        ),
    ]


def side_by_side(target: load.Target, port: int, meter: cpu.Meter | None = None) -> dict:
    """Rounds of the bare view then the target: medians of each, and the median of each
    round's ratio to the bare view run just before it. Each path is first asked
    `target.asked_before` times; an `in_order` target's rounds go on from the path the last
    one stopped at, and `repeated` says how many of its loads were not a path's first. With a
    `meter`, also the median ms of CPU a request of each, by process (bench/cpu.py)."""
    bare = load.Target("bare view", ["/bench/bare/"])
    before_failed = load.ask_each(target, port, target.asked_before)
    used = 0
    spent: dict[str, list[dict[str, float]]] = {"bare": [], "target": []}

    def metered(name: str, load_it: Callable[[], load.Run]) -> load.Run:
        """The run, its CPU read once the worker is done with what it queued: the next round
        neither pays for it nor hides it."""
        before = meter.read() if meter else None
        run = load_it()
        if meter:
            meter.worker_done()
            if run.requests:
                spent[name].append(cpu.per_request(before, meter.read(), run.requests))
        return run

    def loaded(seconds: float) -> load.Run:
        nonlocal used
        paths = (target.paths[used:] or target.paths) if target.in_order else target.paths
        run = load.run(dataclasses.replace(target, paths=paths), port, seconds)
        used += run.requests
        return run

    loaded(1)  # warm both workers up
    pairs = [
        (
            metered("bare", lambda: load.run(bare, port, SECONDS)),
            metered("target", lambda: loaded(SECONDS)),
        )
        for _ in range(ROUNDS)
    ]

    def median(runs: list[load.Run], what: str) -> float:
        return statistics.median(getattr(run, what) for run in runs)

    def median_cpu(readings: list[dict[str, float]]) -> dict[str, float] | None:
        if not readings:
            return None
        return {
            group: round(statistics.median(reading[group] for reading in readings), 2)
            for group in readings[0]
        }

    bares, runs = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    return {
        "cpu_ms": median_cpu(spent["target"]),
        "bare_cpu_ms": median_cpu(spent["bare"]),
        "per_second": round(median(runs, "per_second"), 1),
        "p50_ms": round(median(runs, "p50_ms"), 2),
        "p99_ms": round(median(runs, "p99_ms"), 2),
        "failed": sum(run.failed for run in runs) + before_failed,
        "requests": sum(run.requests for run in runs),
        "bare_per_second": round(median(bares, "per_second"), 1),
        "ratio": round(
            statistics.median(run.per_second / bare.per_second for bare, run in pairs), 2
        ),
        "repeated": max(0, used - len(target.paths)) if target.in_order else None,
    }


LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


def server_pids() -> Callable[[], dict[int, str]]:
    """For `cpu.Meter`: the servers' processes the bench's requests use, where they run on
    this machine: PostgreSQL's backends on the bench database and its own helpers (the WAL
    writer, the checkpointer…), asked at each reading, and the Redis server."""
    import redis
    from django.db import connection

    local_postgres = connection.vendor == "postgresql" and (
        connection.settings_dict["HOST"] in LOCAL_HOSTS
    )
    redis_pid = {}
    url = os.environ.get("REDIS_URL")
    if url and urlsplit(url).hostname in LOCAL_HOSTS:
        with redis.Redis.from_url(url) as client:
            redis_pid[client.info("server")["process_id"]] = cpu.REDIS

    def pids() -> dict[int, str]:
        found = dict(redis_pid)
        if local_postgres:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                    "AND (datname = current_database() OR backend_type <> 'client backend')"
                )
                found.update((pid, cpu.DATABASE) for (pid,) in cursor.fetchall())
        return found

    return pids


def ticks(due: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from outerloop import emails
    from outerloop.celery import app as celery_app
    from outerloop.reminders import BATCH, due_nudges, due_reviews
    from outerloop.tasks import nudge_tick, review_tick

    results = {}
    for name, tick, sender, finder in (
        ("nudge", nudge_tick, emails.send_nudge, due_nudges),
        ("review", review_tick, emails.send_review, due_reviews),
    ):
        sample = list(islice(finder(timezone.now()), EMAIL_SAMPLE))
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            queued = tick()
            seconds = time.perf_counter() - started
        batches = math.ceil(due / BATCH)
        celery_app.control.purge()
        with CaptureQueriesContext(connection) as sent_queries:
            started = time.perf_counter()
            sent = sum(sender(pk, day) for pk, day in sample)
            send_seconds = time.perf_counter() - started
        results[name] = {
            "queued": queued,
            "seconds": round(seconds, 2),
            "queries": len(queries),
            "queries_per_batch": round(len(queries) / batches, 1),
            "batch": BATCH,
            "email_sample": sent,
            "ms_per_email": round(send_seconds * 1000 / max(1, sent), 1),
            "queries_per_email": round(len(sent_queries) / max(1, sent), 1),
        }
    return results


def expiry_sweep(data: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reactions.expiry import expire_due
    from sessions.models import Preview

    waiting = Preview.objects.expired(data["now"]).filter(expired_at__isnull=True).count()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        expired = expire_due()
        seconds = time.perf_counter() - started
    return {
        "previews_waiting": waiting,
        "expired": expired,
        "seconds": round(seconds, 2),
        "queries": len(queries),
        "seed_seconds": round(data["past_seconds"], 1),
    }


def page_weight(port: int, token: str) -> dict | None:
    from bench import page_weight as weight
    from tests.browser import CHROMIUM

    if not CHROMIUM.exists():
        return None
    return weight.summarise(weight.measure(f"http://127.0.0.1:{port}/r/{token}/"))


AFTER_CHANGE_VIEWS = 30  # views of each dashboard, each right after a visit is written


def after_change(port: int, data: dict) -> dict:
    """Each dashboard viewed right after a change, as a builder reloads it once a person opened
    their link: AFTER_CHANGE_VIEWS times, one client, a visit to one of the builder's links
    written (as the app writes it, so every cache keyed by the builder's changes is outdated)
    just before each view; and the bare view as many times, one after another. Per dashboard:
    the median ms of each and their ratio (the bare view's time over the dashboard's: the
    share of the bare view's rate one client gets, as the loads' ratios are; goal at least
    bench.report.AFTER_CHANGE_GOAL)."""
    from django.db import connection

    from reactions.models import Share, Visit, VisitKind

    def timed(path: str, headers: dict) -> float:
        started = time.perf_counter()
        status = request(port, "GET", path, headers)[0]
        seconds = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        return seconds * 1000

    bare = statistics.median(timed("/bench/bare/", {}) for _ in range(AFTER_CHANGE_VIEWS))
    figures = {}
    for name, builder in (("dashboard, 10 shares", data["small"]),
                          ("dashboard, 10,000 shares", data["large"])):  # fmt: skip
        cookie = {"Cookie": session_cookie(builder)}
        share = Share.objects.owned_by(builder).order_by("-pk").first()
        timed("/", cookie)  # warm: templates loaded
        views = []
        for _ in range(AFTER_CHANGE_VIEWS):
            Visit.objects.create(share=share, kind=VisitKind.RETURN, device_class="phone")
            views.append(timed("/", cookie))
        figures[name] = {
            "ms": round(statistics.median(views), 1),
            "bare_ms": round(bare, 2),
            "ratio": round(bare / statistics.median(views), 3),
        }
    connection.close()
    return figures


def main() -> int:
    if servers.nginx_binary() is None:  # before minutes of seeding, not after
        raise SystemExit(servers.NGINX_MISSING)
    started = time.perf_counter()
    port = servers.free_port()
    environment = prepare(Path(tempfile.mkdtemp(prefix="outerloop-bench-")), port)
    try:
        results = measure(environment, port)
    finally:
        from django.db import connection

        connection.close()
        clean_up(environment)
    results["total_seconds"] = round(time.perf_counter() - started)
    print(table(results))
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


def measure(environment: Environment, port: int) -> dict:
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"bench: {environment.described}; seeding…", flush=True)
    data = seed_everything()
    print(f"bench: seeded in {data['seconds']:.1f} s; serving on :{port}", flush=True)
    queries = {
        "dashboard_10": dashboard_queries(data["small"]),
        "dashboard_10000": dashboard_queries(data["large"]),
    }
    connection.close()
    worker = servers.celery_worker(environment.var)
    try:
        web = servers.gunicorn(port, environment.var)
        try:
            loads = {}
            meter = cpu.Meter(web.pid, worker.pid, server_pids()) if cpu.Meter.available() else None
            for target in targets(data):
                print(f"bench: loading {target.name}…", flush=True)
                loads[target.name] = side_by_side(target, port, meter)
            weight = page_weight(port, data["tokens"][-1])
            if meter:
                meter.worker_done()  # each load's notices are sent by now
            else:
                time.sleep(2)  # let the worker finish the notices the reactions queued
            print("bench: dashboards right after a change…", flush=True)
            changed = after_change(port, data)
            memory = servers.peak_memory(web, worker)
            print("bench: scale-out, two instances…", flush=True)
            scale_out = scaleout.measure(port, environment.var)
            # Last: it starts the workers' peak memory again to watch an upload.
            print("bench: hosted previews: uploads…", flush=True)
            hosted = hosted_previews.measure(port, environment.var, web, SECONDS, ROUNDS)
        finally:
            servers.stop(web)
    finally:
        servers.stop(worker)
    print("bench: ticks and the expiry sweep…", flush=True)
    return {
        "stack": environment.described,
        "loader": load.loader(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "seconds_per_round": SECONDS,
        "rounds": ROUNDS,
        "seed_seconds": round(data["seconds"], 1),
        "http": loads,
        "after_change": changed,
        "dashboard_queries": queries,
        "ticks": ticks(len(data["due"])),
        "expiry": expiry_sweep(data),
        "memory": memory,
        "page_weight": weight,
        "scale_out": scale_out,
        "hosted": hosted,
    }


if __name__ == "__main__":
    raise SystemExit(main())
