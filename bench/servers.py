"""The processes a bench run starts (gunicorn, a Celery worker, nginx) and their memory."""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

from bench.environment import Environment, clean_up, prepare

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(arguments: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


WORKERS = 2  # gunicorn's sync workers, as the Procfile runs it by default (WEB_CONCURRENCY)


def gunicorn(port: int, var: Path) -> subprocess.Popen:
    """WORKERS sync workers, as the Procfile runs it; back once it answers."""
    log = var / "gunicorn.log"
    server = _start(
        ["gunicorn", "outerloop.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)],
        log,
    )
    return _answering(server, f"http://127.0.0.1:{port}/bench/bare/", "gunicorn", log, 200)


@contextmanager
def own_app(purpose: str = "bench") -> Iterator[tuple[int, Environment, subprocess.Popen]]:
    """For a part of the bench run on its own: its own database and Redis database
    (bench/environment.py `prepare`, for `purpose`), migrated, and gunicorn serving it as the
    Procfile does: (its port, the Environment, the gunicorn). All of it stopped, dropped and
    flushed afterwards."""
    port = free_port()
    environment = prepare(Path(tempfile.mkdtemp(prefix=f"outerloop-{purpose}-")), port, purpose)
    try:
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        call_command("migrate", verbosity=0)
        connection.close()  # the servers' connections only, while they run
        web = gunicorn(port, environment.var)
        try:
            yield port, environment, web
        finally:
            stop(web)
    finally:
        from django.db import connection

        connection.close()
        clean_up(environment, purpose)


def _answering(server: subprocess.Popen, url: str, name: str, log: Path, tries: int):
    """`server` once `url` answers (polled every 0.1 s, `tries` times at most), with any
    status under 500; stopped, and the run ended with the end of its log, if it exits or
    never answers."""
    for _ in range(tries):
        try:
            urlopen(url, timeout=1)  # noqa: S310 - our own server on the loopback
            return server
        except HTTPError as error:
            if error.code < 500:  # it answered: a 404 is the app's, through nginx
                return server
        except OSError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.1)
    stop(server)
    raise SystemExit(f"{name} did not start:\n{log.read_text()[-3000:]}")


def celery_worker(var: Path) -> subprocess.Popen:
    return _start(
        ["celery", "--app", "outerloop", "worker", "--concurrency", "2", "--loglevel",
         "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        var / "celery.log",
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _peak_mb(pid: int) -> float | None:
    """The process's high-water resident memory (Linux's VmHWM), in MB."""
    return _status_mb(pid, "VmHWM")


def _status_mb(pid: int, field: str) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def peak_memory(web: subprocess.Popen, worker: subprocess.Popen) -> dict:
    """Per process, after the run (Linux only: None elsewhere)."""
    return {
        "gunicorn_worker_peak_mb": [mb for pid in _children(web.pid) if (mb := _peak_mb(pid))],
        "celery_main_peak_mb": _peak_mb(worker.pid),
        "celery_pool_child_peak_mb": [mb for pid in _children(worker.pid) if (mb := _peak_mb(pid))],
    }


NGINX_CONF = """\
{user}worker_processes {workers};
pid {var}/{name}.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;  # as Debian's /etc/nginx/nginx.conf has it
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {var}/{name}-body;
    proxy_temp_path {var}/{name}-proxy;
    fastcgi_temp_path {var}/{name}-fastcgi;
    uwsgi_temp_path {var}/{name}-uwsgi;
    scgi_temp_path {var}/{name}-scgi;
{http}
}}
"""

STATIC_HOST = """\
    server {{
        listen 127.0.0.1:{port};
        root {root};
        gzip_static on;
        location / {{ try_files $uri $uri/ /index.html; }}
    }}"""

PREVIEWS_RECIPE = ROOT / "docs" / "deploy" / "nginx-previews.conf"


def nginx_binary() -> str | None:
    """nginx from the system's packages (Debian: /usr/sbin/nginx, often not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _nginx(name: str, http: str, var: Path, workers: int, url: str) -> subprocess.Popen:
    """nginx with `http` inside its http block (and `workers` worker processes), its files
    under `var` named after `name`; back once `url` answers."""
    binary = nginx_binary()
    if binary is None:
        raise SystemExit(NGINX_MISSING)
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};\n" if os.geteuid() == 0 else ""
    conf = var / f"{name}.conf"
    conf.write_text(NGINX_CONF.format(user=user, workers=workers, var=var, name=name, http=http))
    log = var / f"{name}.log"
    server = subprocess.Popen(  # noqa: S603
        [binary, "-p", str(var), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return _answering(server, url, name, log, 100)


def nginx(port: int, root: Path, var: Path, workers: int = 2) -> subprocess.Popen:
    """nginx serving the folder `root` as a static host does (`gzip_static on`: a file's .gz
    beside it answers Accept-Encoding: gzip; sendfile; unknown paths get index.html), with
    as many worker processes as gunicorn has workers; back once it answers."""
    http = STATIC_HOST.format(port=port, root=root)
    return _nginx("nginx", http, var, workers, f"http://127.0.0.1:{port}/")


def previews_recipe(port: int, app_port: int, cache: Path) -> str:
    """The README's nginx recipe for the preview domain (docs/deploy/nginx-previews.conf) as
    it is, but for four lines: it listens on loopback `port` without TLS (no certificate
    lines), passes to gunicorn on `app_port`, and keeps its cache in `cache`. SystemExit when
    any of those lines is no longer in the recipe, so the bench never measures a config
    other than the one the README gives."""
    text = PREVIEWS_RECIPE.read_text()
    changes = [
        ("listen 443 ssl;", f"listen 127.0.0.1:{port};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("proxy_cache_path /var/cache/nginx/outerloop-previews ", f"proxy_cache_path {cache} "),
    ]
    for old, new in changes:
        if text.count(old) != 1:
            raise SystemExit(f"{PREVIEWS_RECIPE} no longer has {old!r}: update bench/servers.py")
        text = text.replace(old, new)
    lines = [line for line in text.splitlines() if not line.strip().startswith("ssl_certificate")]
    return "\n".join(lines)


def nginx_proxy(port: int, app_port: int, var: Path, workers: int = 2) -> subprocess.Popen:
    """nginx configured by the README's recipe for the preview domain (`previews_recipe`) in
    front of gunicorn on `app_port`, with an empty cache; back once it answers."""
    cache = var / "nginx-proxy-cache"
    shutil.rmtree(cache, ignore_errors=True)
    http = previews_recipe(port, app_port, cache)
    return _nginx("nginx-proxy", http, var, workers, f"http://127.0.0.1:{port}/bench/bare/")


NGINX_MISSING = (
    "make bench compares hosted previews with nginx, which is not installed: "
    "apt-get install -y nginx (Debian's package), then run it again"
)


def rss_mb(pid: int) -> float | None:
    """The process's resident memory now (VmRSS), in MB; None when it is gone or not Linux."""
    return _status_mb(pid, "VmRSS")


def reset_peak(pid: int) -> bool:
    """Start the process's high-water mark (VmHWM) again from its memory now (Linux ≥ 4.0:
    /proc/PID/clear_refs, "5"); False where that isn't possible."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def worker_pids(server: subprocess.Popen) -> list[int]:
    """The processes a server's master started (gunicorn's workers)."""
    return _children(server.pid)
