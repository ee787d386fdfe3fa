"""`make bench`'s hosted previews (bench/hosted.py) run end to end, briefly: both servers answer
every request with the stored bytes, and the upload's figures come out. No timing is asserted:
the figures are the bench's to print, not a test's to judge."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import servers
from bench.report import hosted_lines

ROOT = Path(__file__).resolve().parent.parent


def require_nginx() -> None:
    """Skip where nginx is missing, except where OUTERLOOP_REQUIRE_NGINX says it must run."""
    if servers.nginx_binary():
        return
    message = "nginx not found (apt-get install nginx)"
    if os.environ.get("OUTERLOOP_REQUIRE_NGINX"):
        pytest.fail(message + "; OUTERLOOP_REQUIRE_NGINX is set, so this may not skip")
    pytest.skip(message)


def run_alone(script: str, output: Path, drop: set[str], **env: str) -> tuple[str, dict]:
    """`python bench/<script> --json output` as a user runs it, with this environment less the
    variables in `drop` and plus `env`: (what it printed, the figures it wrote). Fails the
    test, with the end of its output, if it exits with an error."""
    environment = {
        k: v for k, v in os.environ.items() if k not in drop | {"DJANGO_SETTINGS_MODULE"}
    }
    run = subprocess.run(  # noqa: S603
        [sys.executable, f"bench/{script}", "--json", str(output)],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout, json.loads(output.read_text())


def test_the_scenario_serves_both_files_from_both_servers_and_uploads_a_build(tmp_path):
    require_nginx()

    printed, results = run_alone(
        "hosted.py", tmp_path / "hosted.json", {"DATABASE_URL", "REDIS_URL"},
        BENCH_SECONDS="1", BENCH_ROUNDS="1", BENCH_UPLOAD_MB="1",
    )  # fmt: skip  # its own SQLite database, whatever the suite runs on

    assert set(results["serving"]) == {"JS bundle, 200 KB", "index.html"}
    for figures in results["serving"].values():
        # Every answer, from every server, was a 200 with exactly the expected bytes: nginx's
        # the stored .gz, the app's the same (the HTML with the widget in), alone or behind
        # the README's nginx recipe.
        assert figures["nginx_failed"] == 0 and figures["nginx_per_second"] > 0
        assert set(figures["served_by"]) == {"gunicorn", "nginx recipe → gunicorn"}
        for served in figures["served_by"].values():
            assert served["failed"] == 0
            assert served["per_second"] > 0 and served["p99_ms"] > 0
    assert (
        results["serving"]["JS bundle, 200 KB"]["bytes"] > results["serving"]["index.html"]["bytes"]
    )
    upload = results["upload"]
    assert upload["bytes"] >= 1024 * 1024
    assert upload["seconds"] > 0
    assert upload["rss_idle_mb"] > 0 and upload["rss_growth_mb"] >= 0
    assert "| JS bundle, 200 KB  | nginx recipe → gunicorn  |" in printed
    assert "| index.html         | gunicorn                 |" in printed
    assert "- upload of a 1.0 MB build" in printed


def test_the_lines_say_which_goals_were_met_and_missed():
    def served(ratio: float, failed: int = 0) -> dict:
        way = {"per_second": 500, "p99_ms": 9.0, "failed": failed, "ratio": ratio, "p99_ratio": 3.0}
        return {
            "bytes": 1000, "nginx_per_second": 1000, "nginx_p99_ms": 3.0, "nginx_failed": 0,
            "bare_per_second": 800,
            "served_by": {"gunicorn": {**way, "ratio": 0.01},
                          "nginx recipe → gunicorn": way},
        }  # fmt: skip

    hosted = {
        "nginx": "1.22.1",
        "accept_encoding": "gzip",
        "serving": {"JS bundle, 200 KB": served(0.55), "index.html": served(0.2)},
        "upload": {"bytes": 20 * 1024**2, "seconds": 2.5, "rss_growth_mb": 25.0,
                   "rss_idle_mb": 80.0, "measured_by": "VmHWM", "small_bytes": 70_000,
                   "small_seconds": 0.1, "small_rss_growth_mb": 24.0},
    }  # fmt: skip

    printed = "\n".join(hosted_lines(hosted))

    assert "0.55 |  ≥ 0.5 | met" in printed
    assert "0.20 |  ≥ 0.3 | MISSED" in printed
    assert "0.01 |        |         |" in printed  # gunicorn alone: shown, no goal
    assert "bare view (a Django answer that does nothing) gets 0.80 of nginx's" in printed
    assert "upload of a 20.0 MB build" in printed
    assert "grew 25.0 MB over its idle 80 MB (VmHWM; goal ≤ 20 MB whatever" in printed
    hosted["serving"]["index.html"] = served(0.9, failed=3)
    assert "0.90 |  ≥ 0.3 | INVALID" in "\n".join(hosted_lines(hosted))
