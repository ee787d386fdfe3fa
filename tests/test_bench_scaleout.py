"""`make bench`'s scale-out scenario (bench/scaleout.py) run end to end: two gunicorn instances
on one database and one Redis, a reaction posted to each seen by the other's live-watch poll.
What the scenario checks is correctness, so its verdict is asserted; its times are not."""

import os

from bench.report import scale_out_line
from tests import services
from tests.test_bench_hosted import run_alone


def test_a_reaction_on_one_instance_is_seen_by_a_poll_on_the_other(tmp_path):
    services.require(
        bool(os.environ.get("REDIS_URL")),
        "the scale-out scenario needs REDIS_URL (one Redis for both instances)",
    )
    printed, results = run_alone("scaleout.py", tmp_path / "scale.json", set())

    assert results["instances"] == 2
    assert [(d["written_on"], d["polled_on"]) for d in results["directions"]] == [(1, 2), (2, 1)]
    for direction in results["directions"]:
        assert direction["agreed_unchanged"] and direction["seen"]
    assert "(goal: both ways: met)" in printed


def test_the_line_says_missed_when_a_poll_never_showed_the_reaction():
    both = {"written_on": 1, "polled_on": 2, "agreed_unchanged": True, "seen": True,
            "seen_ms": 30.0}  # fmt: skip
    stale = {**both, "written_on": 2, "polled_on": 1, "seen": False, "seen_ms": None}

    line = scale_out_line({"instances": 2, "directions": [both, stale]}, "SQLite + Redis (db 12)")

    assert "1→2 in 30 ms, 2→1 NOT SEEN" in line
    assert line.endswith("(goal: both ways: MISSED)")
    assert "not run, it needs REDIS_URL" in scale_out_line(None, "SQLite")
