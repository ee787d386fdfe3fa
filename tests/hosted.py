"""A hosted build written into storage by the test itself (not through the upload path), for
the serving tests: each file with its gzip and brotli beside it when `compress` says so."""

import gzip
import hashlib
from pathlib import Path

import brotli
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from sessions.models import BuildSession, HostedBuild, Preview

TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "wasm": "application/wasm",
    "webmanifest": "application/manifest+json",
    "mp4": "video/mp4",
    "png": "image/png",
}
TEXT = ("html", "js", "mjs", "css", "webmanifest")
# A small single-page app of our own for the browser journeys (pushState, localStorage,
# `default-src 'self'`, a `<base>`): what a builder's build does that the widget must survive.
WIDGET_APP = Path(__file__).parent / "fixtures" / "widget_app"


def hosted_widget_app(builder, **preview) -> Preview:
    """WIDGET_APP hosted as `builder`'s live preview, in a session "Crag finder"; `preview`:
    Preview.hosting's options (frameable)."""
    session = BuildSession.objects.create(builder=builder, title="Crag finder")
    files = {
        path.relative_to(WIDGET_APP).as_posix(): path.read_bytes()
        for path in WIDGET_APP.rglob("*")
        if path.is_file()
    }
    return Preview.hosting(session, write_build(builder, files), **preview)


def write_build(builder, files: dict[str, bytes]) -> HostedBuild:
    """A saved HostedBuild of `files` ({path: bytes}) in storages["previews"], with a manifest
    like the upload path's: text files get .br and .gz beside them."""
    build = HostedBuild(builder=builder)
    storage = storages["previews"]
    manifest = {}
    for path, data in files.items():
        ext = path.rsplit(".", 1)[-1]
        storage.save(f"{build.key}/{path}", ContentFile(data))
        encodings = []
        if ext in TEXT:
            storage.save(f"{build.key}/{path}.br", ContentFile(brotli.compress(data)))
            storage.save(f"{build.key}/{path}.gz", ContentFile(gzip.compress(data, mtime=0)))
            encodings = ["br", "gzip"]
        manifest[path] = {
            "size": len(data),
            "etag": hashlib.sha256(data).hexdigest()[:16],
            "type": TYPES.get(ext, "application/octet-stream"),
            "encodings": encodings,
        }
    build.manifest = manifest
    build.files = len(files)
    build.size = sum(len(d) for d in files.values())
    build.save()
    return build


def serve_previews(live_server, settings) -> str:
    """The live server as every preview host too: `<label>.preview.localhost:<its port>`,
    which a browser on this machine resolves to it (RFC 6761 §6.3). Returns the port."""
    port = live_server.url.rsplit(":", 1)[1]
    settings.OUTERLOOP_BASE_URL = live_server.url
    settings.OUTERLOOP_PREVIEW_DOMAIN = f"preview.localhost:{port}"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".preview.localhost"]
    return port


def alex(password: str):
    """Alex, confirmed, who logs in with `password`."""
    from django.utils import timezone

    from tests.factories import BuilderFactory

    builder = BuilderFactory(
        name="Alex", email="alex@example.com", email_confirmed_at=timezone.now()
    )
    builder.set_password(password)
    builder.save()
    return builder


def log_in(page, base: str, password: str) -> None:
    """Alex logs in on `page` (the app at `base`) and lands on the dashboard."""
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("alex@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Today's turn").wait_for()
