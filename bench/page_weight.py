"""The recipient page's weight as a phone fetches it: first response and whole page, gzipped.

Serves the app with gunicorn on a throwaway SQLite database, opens one share's link in
Chromium at an iPhone's size, and records every request the page makes.
Run: `make bench` (or `.venv/bin/python bench/page_weight.py`).
"""

import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402

FIRST_RESPONSE_BUDGET = 14 * 1024
WHOLE_PAGE_BUDGET = 35 * 1024

SEED = """
from reactions.sharing import find_or_add_recipient, share_preview
from outerloop.models import Builder
from sessions.models import BuildSession
builder = Builder.objects.create_user("bench@example.com", "bench-password-1", name="Alex")
session = BuildSession.objects.create(builder=builder, title="Habit tracker, first screen")
preview = session.add_preview("https://habit-demo.example.com/")
share = share_preview(preview, find_or_add_recipient(builder, "Sam"), "dm")
print(share.token)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def serve(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "outerloop.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def measure(link: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows: list[dict] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = browser.new_context(**playwright.devices["iPhone 13"]).new_page()

        def record(response) -> None:
            body = response.body() if response.status not in (204, 304) else b""
            rows.append(
                {
                    "url": response.url,
                    "status": response.status,
                    "raw": len(body),
                    "gzip": len(gzip.compress(body, compresslevel=9)) if body else 0,
                    "third_party": urlsplit(response.url).hostname != "127.0.0.1",
                }
            )

        page.on("response", record)
        page.goto(link, wait_until="networkidle")
        browser.close()
    return rows


def main() -> int:
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with tempfile.TemporaryDirectory() as var:
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "outerloop.settings",
            "OUTERLOOP_VAR_DIR": var,
            "OUTERLOOP_BASE_URL": f"http://127.0.0.1:{port}",
            "DEBUG": "false",
        }
        for name in ("DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        token = manage(env, "shell", "-c", SEED).strip().splitlines()[-1]
        server = serve(env, port)
        try:
            rows = measure(f"http://127.0.0.1:{port}/r/{token}/")
        finally:
            server.terminate()
            server.wait(timeout=10)

    first, total = rows[0], sum(row["gzip"] for row in rows)
    print(f"{'request':60} {'status':>6} {'raw':>8} {'gzip':>8}")
    for row in rows:
        path = urlsplit(row["url"]).path[:60]
        print(f"{path:60} {row['status']:>6} {row['raw']:>8} {row['gzip']:>8}")
    results = {
        "first_response_gzip_bytes": first["gzip"],
        "first_response_budget": FIRST_RESPONSE_BUDGET,
        "whole_page_gzip_bytes": total,
        "whole_page_budget": WHOLE_PAGE_BUDGET,
        "requests": len(rows),
        "third_party_requests": sum(row["third_party"] for row in rows),
    }
    print()
    print(f"first response: {first['gzip']:,} B gzipped (budget {FIRST_RESPONSE_BUDGET:,})")
    print(
        f"whole page:     {total:,} B gzipped, {len(rows)} requests (budget {WHOLE_PAGE_BUDGET:,})"
    )
    print(f"third-party requests: {results['third_party_requests']}")
    (ROOT / "bench" / "page_weight.json").write_text(json.dumps(results, indent=2) + "\n")
    within = first["gzip"] <= FIRST_RESPONSE_BUDGET and total <= WHOLE_PAGE_BUDGET
    return 0 if within and not results["third_party_requests"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
