"""`make bench`'s scale-out scenario (issue 15): two gunicorn instances on one database and one
Redis, as several web machines behind a load balancer run, and the live watch correct across
them. A builder's page polls one instance while a person's reaction lands on the other: the
poll must see it, each way, and both instances must agree on "nothing new" before it.

Each direction: the builder's share page is polled on the reading instance until it answers
304 to its own ETag (and the writing instance answers the same 304 to it); a reaction with a
text of its own is posted to the writing instance; then the reading instance is polled every
POLL_EVERY seconds until its answer is a 200 that shows that text, for DEADLINE seconds at
most. The time is the client's, from the reaction's answer to the first poll that shows it.

It needs REDIS_URL: with the local-memory cache each instance would keep its own, which is
no deployment of more than one machine. Run on its own: `python bench/scaleout.py [--json
FILE]` (its own database, two gunicorns; no seeding); `make bench` runs it after its loads.
"""

import json
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import clients, servers  # noqa: E402

DEADLINE = 10.0  # seconds a poll may take to see a reaction before the scenario says MISSED
POLL_EVERY = 0.05  # seconds between polls (a page polls every 2 s; this measures finer)


def request(*asked) -> tuple[int, dict[str, str], str]:
    """`clients.request`, its body as text."""
    status, headers, body = clients.request(*asked)
    return status, headers, body.decode()


def watched_share() -> tuple[str, int, str]:
    """A builder of the scenario's own, with a live preview shared with one person: (the
    builder's session cookie, the share's id, its token). Made in this process's database,
    which the instances share."""
    from django.db import connection
    from django.utils import timezone

    from common.builders import Builder
    from reactions.models import Channel, Recipient
    from reactions.sharing import share_preview
    from sessions.models import BuildSession

    builder = Builder.objects.create_user(
        email=f"scale-{secrets.token_hex(4)}@example.com",
        password=secrets.token_urlsafe(16),
        name="Alex",
        email_confirmed_at=timezone.now(),
    )
    session = BuildSession.objects.create(builder=builder, title="Crag finder")
    preview = session.add_preview("https://crags.example.com/")
    share = share_preview(
        preview, Recipient.objects.create(builder=builder, name="Sam"), Channel.DM
    )
    cookie = clients.session_cookie(builder)
    connection.close()
    return cookie, share.pk, share.token


def scenario(ports: tuple[int, int], cookie: str, share_id: int, token: str) -> dict:
    """Both directions between the instances on `ports` (module docstring): for each, whether
    the instances agreed on the unchanged poll, whether the reading one showed the reaction,
    and after how many ms."""
    poll_path = f"/shares/{share_id}/"
    poll = {"Cookie": cookie, "HX-Request": "true"}
    directions = []
    for writer, reader in (ports, ports[::-1]):
        status, headers, _ = request(reader, "GET", poll_path, poll)
        if status != 200:
            raise SystemExit(f"the live-watch poll answered {status}")
        unchanged = {**poll, "If-None-Match": headers["ETag"]}
        agreed = all(request(port, "GET", poll_path, unchanged)[0] == 304 for port in ports)
        text = f"Seen on the other machine ({secrets.token_hex(4)})"
        status, _, body = request(
            writer,
            "POST",
            f"/r/{token}/react/",
            {
                "User-Agent": clients.PHONE_UA,
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Forwarded-For": f"10.9.{len(directions)}.1",
            },
            f"text={text.replace(' ', '+')}",
        )
        if status != 200 or "Thank you!" not in body:
            raise SystemExit(f"the reaction was not saved ({status}): {body[:300]}")
        posted = time.perf_counter()
        seen_ms = None
        while time.perf_counter() - posted < DEADLINE:
            status, _, body = request(reader, "GET", poll_path, unchanged)
            if status == 200 and text in body:
                seen_ms = round((time.perf_counter() - posted) * 1000, 1)
                break
            time.sleep(POLL_EVERY)
        directions.append(
            {
                "written_on": ports.index(writer) + 1,
                "polled_on": ports.index(reader) + 1,
                "agreed_unchanged": agreed,
                "seen": seen_ms is not None,
                "seen_ms": seen_ms,
            }
        )
    return {"instances": len(ports), "directions": directions}


def measure(port: int, var: Path) -> dict | None:
    """The scenario with the gunicorn already serving on `port` and a second one started
    here on the same database and Redis; None without REDIS_URL."""
    if not os.environ.get("REDIS_URL"):
        return None
    cookie, share_id, token = watched_share()
    second_var = var / "second"
    second_var.mkdir(exist_ok=True)
    other = servers.free_port()
    second = servers.gunicorn(other, second_var)
    try:
        return scenario((port, other), cookie, share_id, token)
    finally:
        servers.stop(second)


def main(argv: list[str]) -> int:
    """The scenario alone: its own database (bench/environment.py) and two gunicorns."""
    from bench.report import scale_out_line

    if not os.environ.get("REDIS_URL"):
        raise SystemExit("the scale-out scenario needs REDIS_URL: one cache for both instances")
    with servers.own_app("scale") as (port, environment, _):
        results = measure(port, environment.var)
    print(scale_out_line(results, environment.described))
    if len(argv) == 2 and argv[0] == "--json":
        Path(argv[1]).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
