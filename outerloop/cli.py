"""`outerloop`: end every build session with one outer-loop turn.

    outerloop login                    store the server URL and an API token
    outerloop share URL --to NAME      a link for one named person, with a QR code to scan
    outerloop today                    today's status and streak
    outerloop reactions                what people said, newest first

Standard library only (plus qrcode for the terminal QR): it never imports Django.
Configuration: OUTERLOOP_URL and OUTERLOOP_TOKEN, or the file `outerloop login` writes.
"""

import argparse
import getpass
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_REJECTED = 2, 3, 4, 5
TIMEOUT = 15


class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "outerloop" / "config.json"


def load_config() -> tuple[str, str]:
    stored: dict = {}
    path = config_path()
    if path.exists():
        stored = json.loads(path.read_text())
    url = os.environ.get("OUTERLOOP_URL") or stored.get("url", "")
    token = os.environ.get("OUTERLOOP_TOKEN") or stored.get("token", "")
    if not url or not token:
        raise CliError(
            "Not logged in: run `outerloop login` (or set OUTERLOOP_URL and OUTERLOOP_TOKEN).",
            EXIT_USAGE,
        )
    return url.rstrip("/"), token


def save_config(url: str, token: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    os.chmod(path, 0o600)
    return path


def call(url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the builder's own server, http(s) only
        f"{url}/api/v1{path}",
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "outerloop-cli/1",
        },
    )
    if not url.startswith(("http://", "https://")):
        raise CliError(f"The server URL must start with http:// or https://: {url}", EXIT_USAGE)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as failure:
        raise _api_error(failure) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as failure:
        reason = getattr(failure, "reason", failure)
        raise CliError(f"Can't reach {url}: {reason}", EXIT_UNREACHABLE) from None


def _api_error(failure: urllib.error.HTTPError) -> CliError:
    try:
        payload = json.loads(failure.read() or b"{}")
    except ValueError:
        payload = {}
    detail = payload.get("detail", failure.reason)
    if failure.code == 401:
        return CliError(
            "The server refused the token. Create a new one in Settings → API tokens, "
            "then run `outerloop login`.",
            EXIT_AUTH,
        )
    if failure.code == 429:
        wait = failure.headers.get("Retry-After", "60")
        return CliError(f"Too many requests; try again in {wait} seconds.", EXIT_REJECTED)
    if isinstance(detail, list):
        detail = "; ".join(str(item.get("msg", item)) for item in detail)
    return CliError(f"Rejected ({failure.code}): {detail}", EXIT_REJECTED)


def builder_zone(url: str, token: str) -> str:
    """The builder's own zone (as the web pages show times), from /today; UTC from a
    server too old to say."""
    return call(url, token, "GET", "/today").get("time_zone", "UTC")


def _when(stamp: str, zone: str) -> str:
    """An API time (ISO 8601) as the builder's web pages show it: their zone, labelled."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return moment.strftime("%a %d %b %H:%M %Z")


def _person(item: dict) -> str:
    """ "Sam (climbing gym)" from the API's `recipient` and `recipient_note`; the name alone
    without a note (or from a server older than the note)."""
    note = item.get("recipient_note") or ""
    return f"{item['recipient']} ({note})" if note else item["recipient"]


def print_qr(link: str) -> None:
    import qrcode

    code = qrcode.QRCode(border=2)
    code.add_data(link)
    code.print_ascii(invert=True)


def cmd_login(args: argparse.Namespace) -> int:
    url = (
        (args.url or input("Outer Loop URL (e.g. https://loop.example.com): ")).strip().rstrip("/")
    )
    token = (args.token or getpass.getpass("API token (Settings → API tokens): ")).strip()
    today = call(url, token, "GET", "/today")
    path = save_config(url, token)
    print(f"Logged in to {url}. Streak: {today['current_streak']}. Saved to {path} (0600).")
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    url, token = load_config()
    body: dict = {"url": args.url}
    if args.title:
        body["title"] = args.title
    if args.ttl:
        body["ttl_seconds"] = args.ttl
    preview = call(url, token, "POST", "/previews", body)
    share = call(url, token, "POST", f"/previews/{preview['id']}/shares", {"recipient": args.to})
    print(f"Send this to {_person(share)}:\n\n  {share['url']}\n")
    until = _when(share["expires_at"], builder_zone(url, token))
    print(f"It opens the preview until {until}; reactions come back to you.")
    if not args.no_qr:
        print("\nOr let them scan it:\n")
        print_qr(share["url"] + "?via=qr")
    return 0


def cmd_today(args: argparse.Namespace) -> int:
    url, token = load_config()
    today = call(url, token, "GET", "/today")
    status = {
        "closed": "closed: someone reacted",
        "waiting": "sent, waiting for a reaction",
        "nothing_sent": "nothing sent yet",
    }.get(today["status"], today["status"])
    print(f"Today ({today['day']}, your day in {today.get('time_zone', 'UTC')}): {status}")
    if today.get("local_day", today["day"]) < today["day"]:
        print(
            f"  Your last link was stamped {today['day']} before you changed your zone or day "
            f"start; today stays {today['day']} until your clock (now {today['local_day']}) "
            "reaches it."
        )
    print(
        f"Streak: {today['current_streak']} (best {today['best_streak']}), "
        f"habit score {round(today['habit_score'] * 100)}%"
    )
    return 0


def cmd_reactions(args: argparse.Namespace) -> int:
    url, token = load_config()
    query = f"/reactions?limit={args.limit}"
    page = call(url, token, "GET", query)
    if not page["items"]:
        print("No reactions yet. Send a link: outerloop share URL --to NAME")
        return 0
    zone = builder_zone(url, token)
    print(f"Times in {zone}.")
    for item in page["items"]:
        counts = "" if item["counts"] else "  (doesn't count)"
        when = _when(item["created_at"], zone)
        print(f"{when}  {_person(item)} on {item['title']}{counts}")
        print(f"    “{item['text']}”")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="outerloop", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="store the server URL and an API token")
    login.add_argument("--url", help="the Outer Loop server, e.g. https://loop.example.com")
    login.add_argument("--token", help="an API token (asked for when left out)")
    login.set_defaults(run=cmd_login)

    share = commands.add_parser("share", help="a link of URL for one named person")
    share.add_argument("url", help="the preview's URL (http or https)")
    share.add_argument("--to", required=True, metavar="NAME", help="who it is for, e.g. Sam")
    share.add_argument("--title", help="what it is (default: the URL's host)")
    share.add_argument("--ttl", type=int, metavar="SECONDS", help="how long the preview opens")
    share.add_argument("--no-qr", action="store_true", help="don't draw the QR code")
    share.set_defaults(run=cmd_share)

    today = commands.add_parser("today", help="today's status and streak")
    today.set_defaults(run=cmd_today)

    reactions = commands.add_parser("reactions", help="recent reactions, newest first")
    reactions.add_argument("--limit", type=int, default=10)
    reactions.set_defaults(run=cmd_reactions)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CliError as failure:
        print(f"outerloop: {failure}", file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
