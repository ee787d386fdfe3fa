"""Typed readers for environment variables that fail loudly, naming the variable."""

import ipaddress
import os
import secrets
import socket
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
# Seconds a PostgreSQL connection attempt may take (libpq's connect_timeout).
CONNECT_TIMEOUT = 5
FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return value or default


def env_bool(name: str, default: bool | None) -> bool | None:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}"
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}")
    return number


def env_choice(name: str, default: str, choices: set[str]) -> str:
    """One of `choices` (compared in lower case); anything else stops start-up."""
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name} must be one of {', '.join(sorted(choices))}; got {value!r}"
        )
    return value


def env_required(name: str) -> str:
    """A value that must be set (only asked for when the setting that needs it is on)."""
    value = _raw(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_origin(name: str, default: str) -> str:
    """A public origin such as https://loop.example.com (no path, no trailing slash)."""
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be an http(s) origin like https://example.com; got {value!r}"
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must be an origin without a path; got {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


# gunicorn's port when a bind address names none (its own default, `--bind 127.0.0.1`).
GUNICORN_PORT = 8000
# Addresses of TEST-NET-1 and IPv6's documentation prefix (RFC 5737, RFC 3849): nothing
# answers there, so "connecting" a UDP socket to one only asks the kernel for its route.
_ROUTE_PROBES = {socket.AF_INET: "192.0.2.1", socket.AF_INET6: "2001:db8::1"}


def parse_bind(name: str, value: str) -> tuple[str, int] | None:
    """gunicorn's `--bind` value as (host, port): `HOST`, `HOST:PORT` or `[IPv6]:PORT`; None
    for `unix:PATH` and `fd://N`, which no browser can reach. A bind without a port gets
    gunicorn's 8000. Raises ImproperlyConfigured, naming `name`, for a malformed value."""
    if value.startswith(("unix:", "fd://")):
        return None
    host, port = value, ""
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ImproperlyConfigured(f"{name} must look like [::]:8000; got {value!r}")
        port = rest[1:]
    elif value.count(":") == 1:
        host, port = value.split(":")
    elif ":" in value:
        raise ImproperlyConfigured(f"{name}: put an IPv6 address in brackets, [::1]:8000")
    if not port:
        return host or "0.0.0.0", GUNICORN_PORT  # noqa: S104 - gunicorn's reading of ":8000"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(f"{name} must end in a port from 1 to 65535; got {value!r}")
    return host or "0.0.0.0", int(port)  # noqa: S104


def lan_address(family: socket.AddressFamily = socket.AF_INET) -> str | None:
    """This machine's address on the network its default route leads to (the one a phone on
    the same Wi-Fi reaches it by, e.g. 192.168.1.23), or None without such a route. No packet
    is sent: connecting a UDP socket only picks the outgoing interface."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((_ROUTE_PROBES[family], 9))
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if ipaddress.ip_address(address).is_loopback else address


def base_url_for_bind(name: str, value: str) -> str:
    """The origin a browser reaches gunicorn at when it binds `value` (WEB_BIND).

    A loopback or named host is used as it is (127.0.0.1:8101 gives http://127.0.0.1:8101).
    A wildcard bind (0.0.0.0, [::], or no host) listens on every interface, which a builder
    does so phones on the same network can open links: the origin is this machine's LAN
    address (`lan_address`, IPv4 first as phones' Wi-Fi has it), or 127.0.0.1 when it has
    none. Port 80 is left out. A unix socket or file descriptor (a proxy in front) gives
    http://127.0.0.1:8000: set OUTERLOOP_BASE_URL to the proxy's public origin there."""
    bind = parse_bind(name, value)
    if bind is None:
        return f"http://127.0.0.1:{GUNICORN_PORT}"
    host, port = bind
    if host in {"0.0.0.0", "::"}:  # noqa: S104 - reading a bind address, not binding
        host = lan_address(socket.AF_INET) or lan_address(socket.AF_INET6) or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}" + ("" if port == 80 else f":{port}")


def is_loopback_origin(origin: str) -> bool:
    """Whether an origin's host is this machine only: 127.0.0.0/8, ::1, `localhost` and its
    subdomains (RFC 6761 §6.3), or the unspecified 0.0.0.0 / :: (which browsers send to
    loopback). A phone that opens such a link asks itself, not this computer."""
    host = (urlsplit(origin).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback or address.is_unspecified


def env_base_url(name: str, bind_name: str, default_bind: str) -> str:
    """The public origin from `name` (OUTERLOOP_BASE_URL); unset, the origin gunicorn serves
    at `bind_name`'s address (WEB_BIND, default `default_bind`), as `base_url_for_bind`."""
    derived = base_url_for_bind(bind_name, env_str(bind_name, default_bind))
    return env_origin(name, derived)


def env_redis_url(name: str) -> str | None:
    value = _raw(name)
    if not value:
        return None
    if urlsplit(value).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"{name} must start with redis:// or rediss://; got {value!r}")
    return value


def _sqlite(path: Path | str) -> dict:
    """SQLite shared by web, worker and beat: readers never wait for a writer (WAL), and a
    transaction takes the write lock when it starts, so two writers queue (for up to 20 s)
    instead of failing with "database is locked" when one upgrades a read lock."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


def env_database(name: str, sqlite_path: Path, *, statement_timeout: int = 0) -> dict:
    """DATABASE_URL as a DATABASES entry: postgres(ql)://… or sqlite:///path; SQLite by default.

    On PostgreSQL a connection attempt gives up after CONNECT_TIMEOUT seconds, a statement
    running longer than `statement_timeout` seconds is cancelled by the server (0: never), and
    data the server leaves unacknowledged for 10 s (a cut-off network) drops the connection.
    A server that hangs whole (stopped, swapping) is bounded only by gunicorn's timeout."""
    value = _raw(name)
    if not value:
        return _sqlite(sqlite_path)
    parts = urlsplit(value)
    if parts.scheme == "sqlite":
        return _sqlite(unquote(parts.path[1:]) or sqlite_path)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"{name} must be postgres://user:password@host:port/db; got scheme {parts.scheme!r}"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ImproperlyConfigured(f"{name} must name a database, as in postgres://host/outerloop")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a bad port") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dbname,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "connect_timeout": CONNECT_TIMEOUT,
            # A network that drops the server mid-query fails the request in 10 s (libpq;
            # Linux's own retransmissions would take minutes).
            "tcp_user_timeout": 10_000,
            "options": f"-c statement_timeout={statement_timeout * 1000}",
        },
    }


def secret_key(name: str, fallback_file: Path) -> str:
    """The env value, or a random key kept in a local file so a fresh checkout just runs."""
    value = _raw(name)
    if value:
        if len(value) < 50:
            raise ImproperlyConfigured(f"{name} must be at least 50 characters long")
        return value
    if fallback_file.exists():
        return fallback_file.read_text().strip()
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fallback_file.touch(mode=0o600)
    fallback_file.write_text(key)
    return key


def env_email(name: str) -> str:
    """An email address, or "" when unset."""
    value = env_str(name, "")
    if value:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(value)
        except ValidationError:
            raise ImproperlyConfigured(f"{name} must be an email address; got {value!r}") from None
    return value
