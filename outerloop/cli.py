"""`outerloop`: end every build session with one outer-loop turn.

    outerloop login                    store the server URL and an API token
    outerloop share URL --to NAME      a link for one named person, with a QR code to scan
                                       (--session NAME|#ID joins a session; --new-session)
    outerloop share ./dist --to NAME   the same for a build folder (or a .zip), hosted by the
                                       server at an origin of its own
    outerloop preview ./dist           host a build folder (or a .zip) without sharing it
    outerloop today                    today's status and streak
    outerloop reactions                what people said, newest first

Standard library only (plus qrcode for the terminal QR): it never imports Django.
Configuration: OUTERLOOP_URL and OUTERLOOP_TOKEN, or the file `outerloop login` writes.
"""

import argparse
import getpass
import http.client
import json
import os
import socket
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from outerloop.cli_upload import PackRefused, pack, post_multipart

EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_REJECTED, EXIT_SERVER = 2, 3, 4, 5, 6
TIMEOUT = 15
# Seconds to wait for an upload's answer: the server unpacks and compresses every file first.
UPLOAD_TIMEOUT = 600
USER_AGENT = "outerloop-cli/1"

# The API's request fields as the terminal names them: what it is, the option that sets it,
# what the option needs, and the unit of its number.
FIELDS = {
    "url": ("The preview URL", "URL", "a web address", ""),
    "recipient": ("The person's name", "--to", "a name", ""),
    "title": ("The title", "--title", "a few words", ""),
    "session": ("The session", "--session", "a session's title or #number", ""),
    "ttl_seconds": ("How long the preview opens", "--ttl", "a number of seconds", " seconds"),
}


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
            "User-Agent": USER_AGENT,
        },
    )
    if not url.startswith(("http://", "https://")):
        raise CliError(f"The server URL must start with http:// or https://: {url}", EXIT_USAGE)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as failure:
        raise api_error(
            url, method, failure.code, failure.reason, failure.headers, _read(failure)
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as failure:
        raise _cant_reach(url, failure) from None
    return _json(url, raw)


def _cant_reach(url: str, failure: Exception) -> CliError:
    return CliError(
        f"Can't reach {url}: {_unreachable(failure)}. Check your connection and the "
        "server's URL (`outerloop login`, or OUTERLOOP_URL).",
        EXIT_UNREACHABLE,
    )


def _json(url: str, raw: bytes) -> dict:
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise CliError(
            _not_outer_loop(url, "answered with something other than JSON"), EXIT_UNREACHABLE
        ) from None


def upload_build(url: str, token: str, path: Path, fields: dict) -> dict:
    """POST /builds with the build at `path`: a folder, packed into a zip in a temporary file
    (`cli_upload.pack`, which warns on stderr about what it skipped and refuses a folder with
    no index.html before anything is sent), or a .zip as it is. `fields` are the form's other
    fields. Streams the zip with a progress bar; returns the API's answer (BuildOut)."""
    with tempfile.TemporaryFile(suffix=".zip") as packed:
        if path.is_dir():
            try:
                contents = pack(path, packed)
            except PackRefused as refused:
                raise CliError(f"{refused}\nNothing was uploaded.", EXIT_REJECTED) from None
            if warning := contents.skipped_warning():
                print(warning, file=sys.stderr)
            upload, file_name = packed, f"{path.resolve().name}.zip"
            # The folder and the one above it: "habit-tracker/dist" titles a new session
            # "habit-tracker" (sessions.placement.title_from_build).
            fields = {"name": "/".join(path.resolve().parts[-2:]), **fields}
        else:
            upload, file_name = path.open("rb"), path.name
        if not url.startswith(("http://", "https://")):
            raise CliError(f"The server URL must start with http:// or https://: {url}", EXIT_USAGE)
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        form = {name: _form_value(value) for name, value in fields.items() if value is not None}
        try:
            with upload:
                answer = post_multipart(
                    f"{url}/api/v1/builds", headers, form, "file", file_name, upload,
                    timeout=UPLOAD_TIMEOUT,
                )  # fmt: skip
        except (http.client.HTTPException, OSError) as failure:
            raise _cant_reach(url, failure) from None
    if answer.status >= 400:
        raise api_error(url, "POST", answer.status, answer.reason, answer.headers, answer.body)
    return _json(url, answer.body)


def _form_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_path(argument: str) -> Path | None:
    """The build `argument` names (a folder, or a .zip file), or None for a URL. Raises
    CliError for a path (starting with ".", "/" or "~") that names neither."""
    path = Path(argument).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip"):
        return path
    if argument.startswith((".", "/", "~")) or path.exists():
        if path.exists():
            raise CliError(
                f"{argument} is neither a folder nor a .zip: give a build folder (with "
                "index.html at its top), a .zip of one, or a URL.",
                EXIT_USAGE,
            )
        raise CliError(f"No such folder: {argument}", EXIT_USAGE)
    return None


def _unreachable(failure: Exception) -> str:
    """Why a request got no answer, in words: refused, timed out, no such host, or as said."""
    reason = getattr(failure, "reason", None) or failure
    if isinstance(reason, ConnectionRefusedError):
        return "nothing answers at that address (connection refused)"
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"no answer within {TIMEOUT} seconds"
    if isinstance(reason, socket.gaierror):
        return "no such host name"
    return str(reason)


def _read(failure: urllib.error.HTTPError) -> bytes:
    try:
        return failure.read()
    except (OSError, http.client.HTTPException):
        return b""


def _not_outer_loop(url: str, what: str) -> str:
    return (
        f"{url} {what}: is it an Outer Loop server? Check the URL (`outerloop login`, "
        "or OUTERLOOP_URL)."
    )


def api_error(
    url: str,
    method: str,
    status: int,
    reason: str,
    headers: http.client.HTTPMessage | None,
    body: bytes,
) -> CliError:
    """The CliError for an API refusal, in plain words for the terminal: a 422's list of
    field errors (django-ninja's) one sentence each, naming the option to fix; a detail
    string as the API wrote it; an answer that isn't the API's JSON (a proxy's page, another
    server) said as such. A refused write (4xx) says that nothing was saved: the API checks
    everything before it writes and writes in one transaction. `headers` is the response's
    (for Retry-After), `body` its raw bytes. Exit codes: 3 for the token, 5 for a refusal,
    6 for a server failure (5xx)."""
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or "detail" not in payload:
        payload = None
    if status == 401:
        return CliError(
            "The server refused the token. Create a new one in Settings → API tokens, "
            "then run `outerloop login`.",
            EXIT_AUTH,
        )
    if status >= 500:
        said = f": {_detail(payload)}" if payload else ""
        check = " (your dashboard shows whether the link was made)" if method != "GET" else ""
        return CliError(
            f"The server at {url} failed (HTTP {status} {reason}){said}. Try again in a "
            f"minute{check}; if it keeps failing, tell whoever runs it.",
            EXIT_SERVER,
        )
    if status == 429:
        message = _detail(payload) if payload else "Too many requests."
        wait = headers.get("Retry-After", "60") if headers is not None else "60"
        if "try again" not in message.lower():
            message = f"{message} Try again in {wait} seconds."
        return CliError(message, EXIT_REJECTED)
    if payload is None:
        return CliError(
            _not_outer_loop(url, f"answered HTTP {status} {reason} without saying why"),
            EXIT_REJECTED,
        )
    message = _detail(payload)
    if method != "GET":
        message = f"{message}\nNothing was saved."
    return CliError(message, EXIT_REJECTED)


def _detail(payload: dict) -> str:
    detail = payload["detail"]
    if isinstance(detail, list):
        return "\n".join(_field_error(item) for item in detail)
    return str(detail)


def _field_error(item) -> str:
    """One of django-ninja's (pydantic's) field errors, `{loc, msg, type, ctx}`, as a
    sentence naming the option: "The person's name can't be empty: --to needs a name." """
    if not isinstance(item, dict):
        return str(item)
    loc = [str(part) for part in item.get("loc", [])]
    field = loc[-1] if loc else ""
    message = str(item.get("msg", "")).removeprefix("Value error, ")
    kind, limits = item.get("type", ""), item.get("ctx") or {}
    if field not in FIELDS:
        where = ".".join(part for part in loc if part not in {"body", "payload", "query"})
        return f"{where}: {message}" if where else message
    what, option, needs, unit = FIELDS[field]
    if kind == "missing" or (
        kind in {"string_too_short", "too_short"} and limits.get("min_length") == 1
    ):
        return f"{what} can't be empty: {option} needs {needs}."
    if kind in {"string_too_long", "too_long"}:
        return f"{what} is too long: {option} takes at most {limits.get('max_length')} characters."
    if kind in {"greater_than_equal", "greater_than"}:
        least = limits.get("ge", limits.get("gt"))
        return f"{what} is too short: {option} must be at least {least}{unit}."
    if kind in {"less_than_equal", "less_than"}:
        most = limits.get("le", limits.get("lt"))
        return f"{what} is too long: {option} must be at most {most}{unit}."
    return f"{what} ({option}): {message}"


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


SESSION_SAID = {
    "url": "Added to your session “{title}” (#{id}), which already has this URL; "
    "--new-session starts a new one.",
    "title": "Added to your session “{title}” (#{id}).",
    "asked": "Added to your session “{title}” (#{id}).",
    "new": "A new session: “{title}” (#{id}).",
}


def _placement_fields(args: argparse.Namespace) -> dict:
    """The request's placement fields from the options, refusing --session with --title or
    --new-session before anything is sent."""
    if args.session is not None and (args.title is not None or args.new_session):
        raise CliError(
            "--session adds to one of your sessions; --title and --new-session are for a new "
            "one. Give one or the other.",
            EXIT_USAGE,
        )
    body: dict = {"new_session": args.new_session}
    for key, value in (("title", args.title), ("session", args.session), ("ttl_seconds", args.ttl)):
        if value is not None:
            body[key] = value
    return body


def _widget_field(args: argparse.Namespace) -> dict:
    """POST /builds' `widget` field: False with --no-widget, else left to its default."""
    return {"widget": False} if args.no_widget else {}


def _no_widget_for_a_url(args: argparse.Namespace, build: Path | None) -> None:
    if build is None and args.no_widget:
        raise CliError(
            "--no-widget is for a build folder Outer Loop hosts; a URL is served by you.",
            EXIT_USAGE,
        )


def cmd_share(args: argparse.Namespace) -> int:
    body = _placement_fields(args)
    build = build_path(args.url)
    _no_widget_for_a_url(args, build)
    url, token = load_config()
    body["recipient"] = args.to
    hosted_at = None
    if build is not None:
        answer = upload_build(url, token, build, {**body, **_widget_field(args)})
        share, hosted_at = answer["share"], answer["preview"]["url"]
    else:
        # One request: the API checks everything before it writes anything.
        share = call(url, token, "POST", "/shares", {"url": args.url, **body})
    print(f"Send this to {_person(share)}:\n\n  {share['url']}\n")
    until = _when(share["expires_at"], builder_zone(url, token))
    print(f"It opens the preview until {until}; reactions come back to you.")
    if hosted_at:
        print(f"The preview itself (for you to check): {hosted_at}")
    said = SESSION_SAID.get(share.get("session_match", ""))
    if said:
        print(said.format(title=share["title"], id=share["session_id"]))
    if not args.no_qr:
        print("\nOr let them scan it:\n")
        print_qr(share["url"] + "?via=qr")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    """A preview without a share: a build hosted (POST /builds), or a URL (POST /previews)."""
    body = _placement_fields(args)
    build = build_path(args.url)
    _no_widget_for_a_url(args, build)
    url, token = load_config()
    if build is not None:
        answer = upload_build(url, token, build, {**body, **_widget_field(args)})
        preview, joined = answer["preview"], answer["session_match"]
    else:
        preview = call(url, token, "POST", "/previews", {"url": args.url, **body})
        joined = ""
    until = _when(preview["expires_at"], builder_zone(url, token))
    print(f"Your preview:\n\n  {preview['url']}\n")
    print(f"It opens until {until}. Nobody has a link yet: send one with")
    print(f"  outerloop share {args.url} --to NAME --session #{preview['session_id']}")
    said = SESSION_SAID.get(joined)
    if said:
        print(said.format(title=preview["title"], id=preview["session_id"]))
    if not args.no_qr:
        print("\nOr open it on your phone:\n")
        print_qr(preview["url"])
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

    share = commands.add_parser("share", help="a link of URL (or a build folder) for one person")
    share.add_argument(
        "url",
        metavar="URL|FOLDER",
        help="the preview's URL (http or https), or a build folder (or a .zip of one) with "
        "index.html at its top, to be hosted by the server",
    )
    share.add_argument("--to", required=True, metavar="NAME", help="who it is for, e.g. Sam")
    _placement_options(share)
    share.set_defaults(run=cmd_share)

    preview = commands.add_parser("preview", help="host a build folder without sharing it")
    preview.add_argument(
        "url",
        metavar="FOLDER|URL",
        help="a build folder (or a .zip of one) with index.html at its top; or a URL",
    )
    _placement_options(preview)
    preview.set_defaults(run=cmd_preview)

    today = commands.add_parser("today", help="today's status and streak")
    today.set_defaults(run=cmd_today)

    reactions = commands.add_parser("reactions", help="recent reactions, newest first")
    reactions.add_argument("--limit", type=int, default=10)
    reactions.set_defaults(run=cmd_reactions)
    return root


def _placement_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--title",
        help="what it is: your session of that title, or a new one so titled (default: the "
        "session that already has this URL, or a new one named after its host or folder)",
    )
    command.add_argument(
        "--session",
        metavar="TITLE|#ID",
        help="add it to one of your sessions, by title or number",
    )
    command.add_argument(
        "--new-session",
        action="store_true",
        help="start a new session even if the URL or the title is already in one",
    )
    command.add_argument("--ttl", type=int, metavar="SECONDS", help="how long the preview opens")
    command.add_argument("--no-qr", action="store_true", help="don't draw the QR code")
    command.add_argument(
        "--no-widget",
        action="store_true",
        help="a build folder only: serve its pages exactly as they are, without the "
        "reaction button and the tap counts inside",
    )


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
