"""The table `make bench` prints (and the README shows), from bench/results.json's figures.

Run on its own to print the last results again: `.venv/bin/python -m bench.report`.
"""

import json
from pathlib import Path

# Each load target's goal, as a share of the bare view's requests per second (issue 15).
# The recipient page's goal holds for both of its lines: a link's first load, and a load of a
# link loaded before (which a kept render answers: reactions/kept_link.py).
FIRST_LOAD = "recipient page, a link's first load"
RATIO_GOALS = {
    FIRST_LOAD: 0.7,
    "recipient page, loaded again": 0.7,
    "reaction POST": 0.4,
    "live-watch poll, unchanged": 0.8,
    "dashboard, 10 shares": 0.25,
    "dashboard, 10,000 shares": 0.25,
}
# The 10,000-share dashboard's time per request over the 10-share one's (issue 15).
DASHBOARD_TIME_GOAL = 1.2
# A dashboard viewed right after a change, as a share of the bare view's rate (issue 15).
AFTER_CHANGE_GOAL = 0.1
# Hosted previews (bench/hosted.py): each file's req/s as a share of nginx's, and how much the
# web worker may grow while a build uploads.
NGINX_GOALS = {"JS bundle, 200 KB": 0.5, "index.html": 0.3}
UPLOAD_GROWTH_GOAL_MB = 20


NAME = 36  # the width of the table's first column


def _verdict(met: bool, failed: int = 0) -> str:
    if failed:
        return "INVALID"  # some requests didn't do what the target measures
    return "met" if met else "MISSED"


def _mb(values: list[float]) -> str:
    return " / ".join(f"{value:.0f}" for value in values) + " MB"


def table(results: dict) -> str:
    http = results["http"]
    lines = [
        f"Outer Loop bench: {results['stack']}; gunicorn 2 sync workers; "
        f"load by {results['loader']}, {results['rounds']} rounds of "
        f"{results['seconds_per_round']:g} s alternating with the bare view; "
        f"{results['cpus']} CPUs; Python {results['python']}",
        "",
        f"| {'request':{NAME}} | {'req/s':>7} | {'p50 ms':>7} | {'p99 ms':>7} "
        f"| {'bare req/s':>10} | {'ratio':>5} | {'goal':>6} | {'':7} | {'failed':>6} |",
        f"|{'-' * (NAME + 2)}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 12}|{'-' * 7}|{'-' * 8}"
        f"|{'-' * 9}|{'-' * 8}|",
    ]
    for name, run in http.items():
        goal = RATIO_GOALS.get(name)
        lines.append(
            f"| {name:{NAME}} | {run['per_second']:>7,.0f} | {run['p50_ms']:>7.1f} "
            f"| {run['p99_ms']:>7.1f} | {run['bare_per_second']:>10,.0f} | {run['ratio']:>5.2f} "
            f"| {'≥ ' + format(goal, 'g') if goal else '':>6} "
            f"| {_verdict(run['ratio'] >= goal, run['failed']) if goal else '':7} "
            f"| {run['failed']:>6} |"
        )
    small, large = http["dashboard, 10 shares"], http["dashboard, 10,000 shares"]
    time_ratio = small["per_second"] / large["per_second"]
    repeated = [
        f"- {name}: {run['repeated']:,} of its {run['requests']:,} loads asked a link again "
        "(the bench seeds too few links for this machine: bench/run.py FIRST_LOADS)"
        for name, run in http.items()
        if run.get("repeated")
    ]
    dashboard = _verdict(time_ratio <= DASHBOARD_TIME_GOAL, small["failed"] + large["failed"])
    queries = results["dashboard_queries"]
    equal = queries["dashboard_10"] == queries["dashboard_10000"]
    lines += [
        "",
        *repeated,
        f"- dashboard, 10,000 shares vs 10: {time_ratio:.2f}x the time per request (goal ≤ "
        f"{DASHBOARD_TIME_GOAL}: {dashboard}); "
        f"{queries['dashboard_10000']['fresh']} queries vs {queries['dashboard_10']['fresh']} "
        f"for a view after a change, {queries['dashboard_10000']['again']} vs "
        f"{queries['dashboard_10']['again']} for the next (goal equal: {_verdict(equal)})",
    ]
    for name, view in results.get("after_change", {}).items():
        lines.append(
            f"- {name}, the first view after a change (a visit written just before each of "
            f"one client's views): {view['ms']:.1f} ms against the bare view's "
            f"{view['bare_ms']:.1f} ms, {view['ratio']:.3f} of its rate "
            f"(goal ≥ {AFTER_CHANGE_GOAL:g}: {_verdict(view['ratio'] >= AFTER_CHANGE_GOAL)})"
        )
    for name, tick in results["ticks"].items():
        lines.append(
            f"- {name} tick: {tick['queued']:,} builders due, queued in {tick['seconds']:.2f} s "
            f"with {tick['queries']} queries ({tick['queries_per_batch']:g} per batch of "
            f"{tick['batch']:,}); each {name} email {tick['ms_per_email']:.1f} ms and "
            f"{tick['queries_per_email']:g} queries to build and send "
            f"(sample of {tick['email_sample']})"
        )
    expiry = results["expiry"]
    lines.append(
        f"- expiry sweep: {expiry['expired']:,} previews expired in {expiry['seconds']:.2f} s, "
        f"{expiry['queries']} UPDATE (goal one: {_verdict(expiry['queries'] == 1)})"
    )
    memory = results["memory"]
    lines.append(
        f"- peak memory: gunicorn workers {_mb(memory['gunicorn_worker_peak_mb'])}; "
        f"Celery worker {memory['celery_main_peak_mb'] or 0:.0f} MB, its pool processes "
        f"{_mb(memory['celery_pool_child_peak_mb'])}"
    )
    weight = results["page_weight"]
    if weight:
        within = (
            weight["first_response_gzip_bytes"] <= weight["first_response_budget"]
            and weight["whole_page_gzip_bytes"] <= weight["whole_page_budget"]
        )
        lines.append(
            f"- recipient page weight: first response {weight['first_response_gzip_bytes']:,} B "
            f"gzipped (budget {weight['first_response_budget']:,}), whole page "
            f"{weight['whole_page_gzip_bytes']:,} B in {weight['requests']} requests (budget "
            f"{weight['whole_page_budget']:,}), {weight['third_party_requests']} third-party: "
            f"{_verdict(within and not weight['third_party_requests'])}"
        )
    else:
        lines.append(
            "- recipient page weight: not measured (no Chromium: apt-get install chromium)"
        )
    if "scale_out" in results:
        lines.append(scale_out_line(results["scale_out"], results["stack"]))
    if results.get("hosted"):
        lines += ["", *hosted_lines(results["hosted"])]
    lines.append(
        f"- seeding: {results['seed_seconds']:.1f} s for the load data, "
        f"{expiry['seed_seconds']:.1f} s for {expiry['previews_waiting']:,} past previews; "
        f"whole run {results['total_seconds']} s"
    )
    lines += ["", *cpu_lines(http), "", *capacity_lines(results)]
    return "\n".join(lines)


def cpu_lines(http: dict) -> list[str]:
    """Each load's ms of CPU a request by process (bench/cpu.py), beside the bare view's, and
    the most a request may cost in all to meet its goal: the bare view's `all` over the goal
    ratio (the CPUs are all busy during a load). No lines when it was not measured."""
    measured = {
        name: run for name, run in http.items() if run.get("cpu_ms") and run.get("bare_cpu_ms")
    }
    if not measured:
        return []
    groups = [group for group in next(iter(measured.values()))["cpu_ms"] if group != "all"]
    width = 10
    lines = [
        "CPU a request, ms, of all the machine's CPUs, while each was loaded (median round; "
        "rest: the loader, the kernel, anything else):",
        "",
        f"| {'request':{NAME}} | "
        + " | ".join(f"{group:>{width}}" for group in [*groups, "all", "bare all", "goal all"])
        + " |",
        f"|{'-' * (NAME + 2)}|" + f"{'-' * (width + 2)}|" * (len(groups) + 3),
    ]
    for name, run in measured.items():
        spent, bare = run["cpu_ms"], run["bare_cpu_ms"]["all"]
        goal = RATIO_GOALS.get(name)
        most = f"≤ {bare / goal:.2f}" if goal else ""
        lines.append(
            f"| {name:{NAME}} | "
            + " | ".join(f"{spent[group]:>{width}.2f}" for group in [*groups, "all"])
            + f" | {bare:>{width}.2f} | {most:>{width}} |"
        )
    return lines


LIVE_POLL_SECONDS, IDLE_POLL_SECONDS = 2, 30  # reactions.live: a page's poll while live, idle
CELERY_PROCESSES = 2  # the Procfile's worker, one per core


def capacity_lines(results: dict) -> list[str]:
    """What the measured machine holds, if it did nothing but each thing (README "Capacity"):
    builders with a live page open, from the unchanged poll's req/s and the pages' poll
    intervals (reactions/live.py); recipients a minute, each a link's first page load and a
    reaction;
    emails an hour, from a nudge's and a review's measured time to build and send with the
    Procfile's two worker processes (the provider's API time not included: the bench sends
    to a dummy backend)."""
    http = results["http"]
    poll = http["live-watch poll, unchanged"]["per_second"]
    page, react = http[FIRST_LOAD]["per_second"], http["reaction POST"]["per_second"]
    recipients = 60 / (1 / page + 1 / react)
    hourly = {
        name: 3600 * 1000 / tick["ms_per_email"] * CELERY_PROCESSES
        for name, tick in results["ticks"].items()
    }
    return [
        f"Capacity of this machine ({results['cpus']} CPUs), from the figures above, each as if "
        f"it did nothing else:",
        f"- builders with a live page open: {poll * LIVE_POLL_SECONDS:,.0f} while something is "
        f"live (a poll every {LIVE_POLL_SECONDS} s), {poll * IDLE_POLL_SECONDS:,.0f} when "
        f"nothing is (every {IDLE_POLL_SECONDS} s)",
        f"- recipients a minute, each opening the page and reacting once: {recipients:,.0f}",
        "- emails an hour, built and handed to the provider by two worker processes: "
        + ", ".join(f"{count:,.0f} {name}s" for name, count in hourly.items()),
    ]


def scale_out_line(scale_out: dict | None, stack: str) -> str:
    """The scale-out scenario (bench/scaleout.py): a reaction posted to one instance seen by a
    live-watch poll answered by the other, each way (goal: both, and the instances agreeing
    on "nothing new" before it)."""
    if scale_out is None:
        return (
            "- scale-out (two gunicorn instances, one database, one Redis): not run, it needs "
            "REDIS_URL (the instances share nothing else)"
        )
    directions = scale_out["directions"]
    met = all(d["seen"] and d["agreed_unchanged"] for d in directions)
    seen = ", ".join(
        f"{d['written_on']}→{d['polled_on']} in {d['seen_ms']:.0f} ms"
        if d["seen"]
        else f"{d['written_on']}→{d['polled_on']} NOT SEEN"
        for d in directions
    )
    return (
        f"- scale-out: {scale_out['instances']} gunicorn instances on {stack}: a reaction posted "
        f"to one was shown by the other's live-watch poll ({seen}; polled every 50 ms), the "
        f'two agreeing on "nothing new" before it (goal: both ways: {_verdict(met)})'
    )


def hosted_lines(hosted: dict) -> list[str]:
    """Hosted previews: each file from gunicorn alone and from the README's nginx recipe in
    front of it, against nginx serving the same files as a static host; the goals are judged
    as deployed (the recipe); and the upload of a large build."""
    lines = [
        f"Hosted previews: a build's files from the app against nginx {hosted['nginx']} "
        f"(gzip_static on, 2 workers) serving the same files, rounds alternating; "
        f'Accept-Encoding: {hosted["accept_encoding"]}. "gunicorn": sessions/serving.py '
        f'alone (FileResponse, sendfile); "nginx recipe": docs/deploy/nginx-previews.conf in '
        f"front of it, as deployed (its cache keeps what X-Accel-Expires allows, ≤ 10 s); the "
        f"goals are the deployed figures'",
        "",
        f"| {'file':18} | {'served by':24} | {'bytes':>6} | {'req/s':>6} | {'p99 ms':>6} "
        f"| {'nginx req/s':>11} | {'nginx p99':>9} | {'ratio':>5} | {'goal':>6} | {'':7} "
        f"| {'p99 vs nginx':>12} | {'failed':>6} |",
        f"|{'-' * 20}|{'-' * 26}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 13}|{'-' * 11}|{'-' * 7}"
        f"|{'-' * 8}|{'-' * 9}|{'-' * 14}|{'-' * 8}|",
    ]
    ceilings = []
    for name, file in hosted["serving"].items():
        for way, run in file["served_by"].items():
            goal = NGINX_GOALS.get(name) if way != "gunicorn" else None
            failed = run["failed"] + file["nginx_failed"]
            lines.append(
                f"| {name:18} | {way:24} | {file['bytes']:>6,} | {run['per_second']:>6,.0f} "
                f"| {run['p99_ms']:>6.1f} | {file['nginx_per_second']:>11,.0f} "
                f"| {file['nginx_p99_ms']:>9.1f} | {run['ratio']:>5.2f} "
                f"| {'≥ ' + format(goal, 'g') if goal else '':>6} "
                f"| {_verdict(run['ratio'] >= goal, failed) if goal else '':7} "
                f"| {format(run['p99_ratio'], 'g') + 'x':>12} | {failed:>6} |"
            )
        ceiling = file["bare_per_second"] / file["nginx_per_second"]
        ceilings.append(f"{ceiling:.2f} of nginx's {name}")
    lines += [
        "",
        f"- the app's bare view (a Django answer that does nothing) gets {', '.join(ceilings)}: "
        f"the most gunicorn alone could reach",
    ]
    upload = hosted["upload"]
    growth = upload["rss_growth_mb"]
    lines += [
        f"- upload of a {upload['bytes'] / 1024**2:.1f} MB build (POST /api/v1/builds, "
        f"streamed): {upload['seconds']:.2f} s; the web worker's peak memory grew "
        f"{growth:.1f} MB over its idle {upload['rss_idle_mb']:.0f} MB "
        f"({upload['measured_by']}; goal ≤ {UPLOAD_GROWTH_GOAL_MB} MB whatever the build's "
        f"size: {_verdict(growth <= UPLOAD_GROWTH_GOAL_MB)}); a {upload['small_bytes'] / 1024:.0f} "
        f"KB build: {upload['small_seconds']:.2f} s, {upload['small_rss_growth_mb']:.1f} MB",
    ]
    return lines


if __name__ == "__main__":
    print(table(json.loads((Path(__file__).parent / "results.json").read_text())))
