"""A hosted preview's files, answered at its own origin like a static host would.

`HostedPreviewMiddleware` comes first in MIDDLEWARE: a request whose Host is under
OUTERLOOP_PREVIEW_DOMAIN is answered here and returns at once, so no session, CSRF, messages,
auth or CSP middleware ever runs for it: no app cookie is read or set on a preview host, and
the app's URLs (/, /login/, /admin/, /static/…) don't exist there (DESIGN.md, "Hosted
previews"). Every other host goes on to the app untouched.

`serve` answers from the build's manifest ({path: {"size", "etag", "type", "encodings"}},
sessions.models.HostedBuild) and its files in storages["previews"] at f"{build.key}/{path}"
(and "….br" / "….gz" precompressed beside it). Files are streamed with `FileResponse`, so
gunicorn sends a filesystem file with sendfile(2); from S3 (OUTERLOOP_PREVIEW_STORAGE=s3) one
GetObject, with the request's Range passed on, is streamed as it arrives (`s3_body`). Nothing
reads a whole file into Python.

What a preview answer carries, and why:
- `X-Robots-Tag: noindex`: a preview is a draft for one person, never a search result.
- `X-Content-Type-Options: nosniff`: the manifest gives each file its exact type, so no
  browser guesses another (a text or JSON file read as HTML or script), defence in depth.
- `Referrer-Policy: same-origin`: the origin itself is the preview's capability (an
  unguessable label), so it must not leak to every third party the build loads or links to,
  as the browser's default (strict-origin-when-cross-origin) would send it; only the
  preview's own requests carry it. Not `no-referrer`: under it, Fetch sends `Origin: null`
  on every no-CORS POST, the preview's own beacons included, which WebKit does (Fetch,
  "serializing a request origin"), and the widget's endpoints check the origin. CORS
  requests carry `Origin` either way, so the builder's own APIs work; a page may change it
  with its own `<meta name="referrer">`.
- `Content-Security-Policy: frame-ancestors <the app's origin>` and nothing else: the
  recipient page may frame it (its framed mode), no other site may, and the builder's code
  runs unchanged under its own policy, if it has one.
- No `Set-Cookie`, no `Access-Control-*`: the preview can't be given the app's cookies nor
  read the app (the app sends it no CORS allowance either).
- A service worker the build registers is scoped to the preview's own origin, as every
  service worker is (https://w3c.github.io/ServiceWorker/#register-algorithm): it can't
  intercept the app or another preview, and it dies with the origin's label at renewal.
  No `Service-Worker-Allowed` header is sent; none is needed within one origin.

Caching: HTML is `no-cache` (revalidated with its ETag on every load, so an ended preview shows
its ended page); other files `public, max-age=min(seconds left, 300)`, so no cache ever keeps
one past the preview's expiry. A shared cache in front of the app (nginx's proxy_cache in the
deploy recipe, docs/deploy/nginx-previews.conf, which takes its orders from `X-Accel-Expires`
alone) may keep a build's file or page, the same for every visitor, for SHARED_MAX_AGE seconds
and never past the expiry (`shared_seconds`); every other answer of a preview host (the ended
page, a 404, the door's redirect and cookie, the widget's endpoints) says 0: not at all.
"""

import gzip
import io
import mimetypes
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import BinaryIO
from urllib.parse import urlsplit

import brotli
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.files.storage import Storage, storages
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.utils import timezone
from storages.utils import clean_name

from sessions import widget
from sessions.hosted import host_name, label_of, preview_domain_name
from sessions.models import Preview

MAX_AGE = 300  # seconds: the longest any cache keeps a preview's non-HTML file
# Seconds: the longest a shared cache in front of the app keeps a build's answer (X-Accel-Expires).
# Short, so a preview the builder deleted leaves the cache within seconds, while a preview opened by
# many at once (a class, a launch) is answered by the proxy, not by a gunicorn worker each time.
SHARED_MAX_AGE = 10
STREAM_BLOCK = 64 * 1024  # bytes per read when a file is streamed without sendfile
# Files stored precompressed beside the original: (Content-Encoding, file suffix), preferred first.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
# What the manifest's type falls back to when it has none (it normally has it).
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# At most 19 digits a side (a 64-bit offset, far past any file): a longer number is no range
# we serve, and int() of thousands of digits is refused by Python (a 500).
RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


def in_preview_domain(host: str) -> bool:
    """Whether a Host header's NAME (`hosted.host_name`: port and trailing dot ignored) is the
    preview domain's name or anything under it: such a request is never the app's, whether or
    not it names a preview (`label_of`). The app's own host name never is, even under a
    preview domain set too wide (check_preview_domain)."""
    name = host_name(host)
    domain = preview_domain_name()
    if not name or name == urlsplit(settings.OUTERLOOP_BASE_URL).hostname:
        return False
    return name == domain or name.endswith("." + domain)


class HostedPreviewMiddleware:
    """Answers every request to a preview host (`in_preview_domain`) and returns at once,
    before any middleware that could read or set a cookie. Put it first in MIDDLEWARE.

    A request is a preview host's when its Host header's name is under the preview domain,
    whether it comes as the raw `Host` or, with USE_X_FORWARDED_HOST (OUTERLOOP_BEHIND_PROXY),
    as `X-Forwarded-Host` (`request.get_host()`): either way the app never answers it. The
    build is served only when both name the same host (port aside): when they differ, as when
    a client sends X-Forwarded-Host itself to the app's host, the answer is the plain 404,
    never a build on the app's origin. Other hosts go on to the app exactly as before (a host
    Django refuses is refused by the app's own middleware, as before)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("HTTP_HOST", "")
        try:
            host = request.get_host()
        except DisallowedHost:
            if in_preview_domain(raw):  # e.g. a forwarded host Django refuses
                return not_found()
            return self.get_response(request)
        if not (in_preview_domain(host) or in_preview_domain(raw)):
            return self.get_response(request)
        if host_name(raw) != host_name(host):
            # X-Forwarded-Host names another host than the one the request reached: sent by
            # the client itself (a proxy sets it to the Host it got). No build, no app.
            return not_found()
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            # SecurityMiddleware never runs here: the same redirect it would make.
            url = f"https://{host}{request.get_full_path()}"
            return with_preview_headers(HttpResponsePermanentRedirect(url))
        response = self.answer(request, label_of(host))
        if request.is_secure() and settings.SECURE_HSTS_SECONDS:
            response["Strict-Transport-Security"] = f"max-age={settings.SECURE_HSTS_SECONDS}"
        return response

    def answer(self, request: HttpRequest, label: str | None) -> HttpResponse:
        """The preview's answer: its files (`serve`), or under the reserved `/__outerloop/`
        the widget's own files (`widget_asset`). A subclass in a higher layer answers the rest
        of `/__outerloop/` and names the share page (reactions.widget)."""
        if request.path.startswith(widget.PREFIX):
            return widget_asset(request, request.path.removeprefix(widget.PREFIX))
        return serve(request, label)


def serve(
    request: HttpRequest,
    label: str | None,
    share_url_of: Callable[[HttpRequest, Preview], str | None] | None = None,
) -> HttpResponse:
    """The answer of the preview named `label` (None: no preview) to a GET or HEAD of
    `request.path`: the file, a 304, a 206 range, the SPA fallback, a plain 404, or the
    ended page once the preview expired (checked now, on every request) or its build's
    files are gone. `share_url_of(request, preview)` names the app's share page the visitor
    came from (the widget's first-party mark), or None when the host can't know it."""
    preview = Preview.objects.select_related("build").filter(host=label).first() if label else None
    if preview is None or preview.build is None:
        return not_found()
    if preview.is_expired or preview.build.deleted_at is not None:
        share_url = share_url_of(request, preview) if share_url_of else None
        return ended(share_url)
    if request.method not in ("GET", "HEAD"):
        response = with_preview_headers(HttpResponse(status=405))
        response["Allow"] = "GET, HEAD"
        return response
    manifest = preview.build.manifest
    path = file_path(request.path, manifest)
    if path is None:
        if trailing_slash_needed(request.path, manifest):
            # Built from the path's segments, never request.path itself: a path starting
            # "//" would make the Location protocol-relative, another origin.
            slashed = "/" + request.path.strip("/") + "/"
            return with_preview_headers(HttpResponsePermanentRedirect(slashed + query_of(request)))
        return not_found()
    return file_response(request, preview, path, manifest[path])


def file_path(url_path: str, manifest: dict) -> str | None:
    """The manifest path that answers a request path (percent-decoded, as `request.path`):
    the file itself; a directory's index.html; for an extensionless path that isn't there,
    the root index.html (an SPA's client routes); otherwise None (a plain 404)."""
    path = url_path.lstrip("/")
    if "\\" in path or "\x00" in path or ".." in path.split("/"):
        return None
    extensionless = "." not in path.rstrip("/").rsplit("/", 1)[-1]
    if path == "" or path.endswith("/"):
        path += "index.html"
    if path in manifest:
        return path
    if extensionless and f"{path}/index.html" not in manifest and "index.html" in manifest:
        return "index.html"
    return None


def trailing_slash_needed(url_path: str, manifest: dict) -> bool:
    """Whether the path names a directory of the build without its final "/" (so it is
    redirected there, as static hosts do, and the page's relative links resolve)."""
    path = url_path.strip("/")
    return bool(path) and not url_path.endswith("/") and f"{path}/index.html" in manifest


def query_of(request: HttpRequest) -> str:
    query = request.META.get("QUERY_STRING", "")
    return f"?{query}" if query else ""


def file_response(request: HttpRequest, preview: Preview, path: str, entry: dict) -> HttpResponse:
    """One file of the build: the best encoding the client accepts (identity when it asks for a
    Range), a 304 when its ETag matches If-None-Match, a 206/416 for a single byte range."""
    content_type = entry.get("type") or guess_type(path)
    if (
        preview.widget
        and content_type.startswith("text/html")
        and entry["size"] <= widget.MAX_INJECTED
    ):
        return injected_response(request, preview, path, entry, content_type)
    wanted = None if "HTTP_RANGE" in request.META else accepted_encoding(request, entry)
    suffix = dict(ENCODINGS)[wanted] if wanted else ""
    etag = entity_tag(entry.get("etag") or f"{entry['size']:x}", wanted)
    cache, shared = lifetimes(preview, content_type)

    def headed(response: HttpResponse) -> HttpResponse:
        if not wanted:
            response["Accept-Ranges"] = "bytes"
        return representation(response, etag, wanted, cache, shared)

    if etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
        return headed(HttpResponse(status=304))

    storage = storages["previews"]
    name = f"{preview.build.key}/{path}{suffix}"
    try:
        size = storage.size(name) if wanted else entry["size"]
    except OSError:  # listed in the manifest, gone from storage: nothing to serve
        return not_found()
    start, end = 0, size - 1
    status = 200
    if not wanted and request.META.get("HTTP_RANGE"):
        if_range = request.META.get("HTTP_IF_RANGE")
        if if_range is None or if_range == etag:
            bounds = byte_range(request.META["HTTP_RANGE"], size)
            if bounds == "unsatisfiable":
                response = headed(HttpResponse(status=416, content_type=content_type))
                response["Content-Range"] = f"bytes */{size}"
                return response
            if bounds is not None:
                start, end = bounds
                status = 206

    length = max(end - start + 1, 0)
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
    elif in_s3(storage):
        try:
            body = s3_body(storage, name, (start, end) if status == 206 else None)
        except FileNotFoundError:
            return not_found()
        response = FileResponse(Slice(body, 0, length), status=status, content_type=content_type)
        response.block_size = STREAM_BLOCK
    else:
        try:
            file = storage.open(name, "rb")
        except OSError:
            return not_found()
        response = FileResponse(
            Slice(file, start, length),
            status=status,
            content_type=content_type,
        )
        response.block_size = STREAM_BLOCK
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return headed(response)


def representation(
    response: HttpResponse, etag: str, encoding: str | None, cache: str, shared: int
) -> HttpResponse:
    """`response` with the headers of the representation it carries (or, a 304, stands for):
    its ETag, its content coding, `Vary: Accept-Encoding` and the preview headers, with
    `cache` as its Cache-Control and `shared` seconds for a shared cache (`shared_seconds`)."""
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding"
    if encoding:
        response["Content-Encoding"] = encoding
    return with_preview_headers(response, cache=cache, shared=shared)


def injected_response(
    request: HttpRequest, preview: Preview, path: str, entry: dict, content_type: str
) -> HttpResponse:
    """An HTML file with the widget's tag in it (`widget.inject`): read from the original
    (never the precompressed copies, which hold the page without it), compressed now for the
    client (br or gzip, `accepted_encoding`), and kept compressed in memory (`injected_body`).
    Its ETag adds the widget's version; Range is ignored (the whole page, 200), as for any
    representation made per request; HEAD has the same headers, with no body."""
    wanted = accepted_encoding(request, {"encodings": [coding for coding, _ in ENCODINGS]})
    tag = entry.get("etag") or f"{entry['size']:x}"
    etag = entity_tag(f"{tag.strip(chr(34))}-w{widget.version()}", wanted)
    cache, shared = lifetimes(preview, content_type)

    def headed(response: HttpResponse) -> HttpResponse:
        return representation(response, etag, wanted, cache, shared)

    if etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
        return headed(HttpResponse(status=304))
    try:
        body = injected_body(preview.build.key, path, etag, wanted)
    except OSError:  # listed in the manifest, gone from storage: nothing to serve
        return not_found()
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=content_type)
    response["Content-Length"] = str(len(body))
    return headed(response)


class InjectedCache:
    """A least-recently-used cache of injected pages bounded by their total bytes (not their
    count): at most `limit` bytes of bodies per worker process, the least recently used
    dropped first, whatever the pages' count or how well they compress. A body over `limit`
    is not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self.lock:
            body = self.entries.get(key)
            if body is not None:
                self.entries.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        if len(body) > self.limit:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            self.size -= len(old) if old is not None else 0
            self.entries[key] = body
            self.size += len(body)
            while self.size > self.limit:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


INJECTED_CACHE_BYTES = 32 * 1024 * 1024  # per worker process, all encodings together
INJECTED = InjectedCache(INJECTED_CACHE_BYTES)


def injected_body(key: str, path: str, etag: str, encoding: str | None) -> bytes:
    """The bytes of build `key`'s HTML file `path` with the widget in, in `encoding` (None:
    identity). A build's files never change, and `etag` names the file and the widget's
    version, so an answer kept in INJECTED stays right: at most INJECTED_CACHE_BYTES of them
    per worker, each page under widget.MAX_INJECTED. OSError when the file is gone."""
    cache_key = (key, path, etag, encoding)
    body = INJECTED.get(cache_key)
    if body is not None:
        return body
    with storages["previews"].open(f"{key}/{path}", "rb") as file:
        html = widget.inject(file.read(widget.MAX_INJECTED + 1))
    if encoding == "br":
        body = brotli.compress(html, quality=5)
    elif encoding == "gzip":
        body = gzip.compress(html, compresslevel=6, mtime=0)
    else:
        body = html
    INJECTED.put(cache_key, body)
    return body


def widget_asset(request: HttpRequest, name: str) -> HttpResponse:
    """The widget's script or stylesheet (`widget.asset`) at `/__outerloop/<name>`, the same on
    every preview: cached for MAX_AGE, revalidated with its ETag; 404 for any other name."""
    if name not in widget.ASSET_TYPES:
        return not_found()
    if request.method not in ("GET", "HEAD"):
        response = with_preview_headers(HttpResponse(status=405))
        response["Allow"] = "GET, HEAD"
        return response
    etag = f'"{widget.version()}"'
    cache = f"public, max-age={MAX_AGE}"
    if etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
        response = HttpResponse(status=304)
    else:
        body = widget.asset(name)
        response = HttpResponse(
            b"" if request.method == "HEAD" else body, content_type=widget.ASSET_TYPES[name]
        )
        response["Content-Length"] = str(len(body))
    response["ETag"] = etag
    return with_preview_headers(response, cache=cache, shared=SHARED_MAX_AGE)


def in_s3(storage: Storage) -> bool:
    """Whether `storage` keeps its files in an S3 bucket (django-storages' S3Storage, the
    "previews" storage under OUTERLOOP_PREVIEW_STORAGE=s3): its class has the `bucket`."""
    return hasattr(type(storage), "bucket")


def s3_body(storage: Storage, name: str, bounds: tuple[int, int] | None) -> BinaryIO:
    """The bytes of file `name` in S3 storage `storage` as a stream from one GetObject: only
    bytes first..last of it (both inclusive, the Range sent to S3) when `bounds` is given,
    else the whole object. Nothing is downloaded ahead: each read takes the next bytes off
    the connection (botocore's StreamingBody), so a 1-byte Range costs one byte, however big
    the object, where `storage.open` would download it whole first. FileNotFoundError when
    the object is missing (as S3Storage.size raises); any other refusal of S3, its ClientError."""
    key = storage._normalize_name(clean_name(name))  # as S3Storage itself names its keys
    ranged = {"Range": f"bytes={bounds[0]}-{bounds[1]}"} if bounds else {}
    try:
        return storage.bucket.Object(key).get(**ranged)["Body"]
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            raise FileNotFoundError(f"No object {key} in the bucket") from error
        raise


class Slice:
    """`length` bytes of an open file from `start`, for FileResponse: `read` stops at the end
    of the slice, and `fileno` is the file's own (positioned at `start`), so gunicorn's
    sendfile(2) sends exactly Content-Length bytes from there. It has no `name` or `tell`, so
    FileResponse adds no Content-Disposition and leaves Content-Length to the caller."""

    def __init__(self, file: BinaryIO, start: int, length: int) -> None:
        self.file = file
        self.left = length
        if start:
            file.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.file.read(size)
        self.left -= len(data)
        return data

    def fileno(self) -> int:
        fileno = getattr(self.file, "fileno", None)
        if fileno is None:
            raise io.UnsupportedOperation("fileno")  # S3 and other remote storages
        return fileno()

    def close(self) -> None:
        self.file.close()


def accepted_encoding(request: HttpRequest, entry: dict) -> str | None:
    """The stored encoding to send ("br", "gzip") by the request's Accept-Encoding, br first
    when both are acceptable (RFC 9110 §12.5.3: a coding with q=0 is refused), or None."""
    accepted = {}
    for part in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        accepted[coding.strip().lower()] = q
    stored = entry.get("encodings") or []
    for coding, _ in ENCODINGS:
        if coding in stored and accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def entity_tag(tag: str, encoding: str | None) -> str:
    """A strong ETag for the representation sent: the manifest's tag, quoted, with the content
    coding added, since each encoding is different bytes (RFC 9110 §8.8.3)."""
    tag = tag.strip('"')
    return f'"{tag}-{encoding}"' if encoding else f'"{tag}"'


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 §13.1.2): "*" or any listed tag, W/ or not."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags


def byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) byte of a single `bytes=` range within `size` bytes, "unsatisfiable"
    (416: also any range of an empty file), or None for a header to ignore (several ranges,
    not a byte range, or a number over 19 digits: the whole file is sent, as RFC 9110 §14.2
    allows)."""
    match = RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    if size == 0:  # no byte of an empty file can be named (RFC 9110 §14.1.1)
        return "unsatisfiable"
    first, last = match.groups()
    if first == "":  # the last N bytes
        if int(last) == 0:
            return "unsatisfiable"
        return max(size - int(last), 0), size - 1
    if int(first) >= size:
        return "unsatisfiable"
    end = size - 1 if last == "" else min(int(last), size - 1)
    if end < int(first):
        return None
    return int(first), end


def guess_type(path: str) -> str:
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix in TYPES:
        return TYPES[suffix]
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def cache_control(expires_at: datetime, content_type: str, now: datetime) -> str:
    """HTML: "no-cache" (revalidate every load); anything else: "public, max-age=N" with N the
    seconds the preview has left, at most MAX_AGE, so no cache outlives the preview."""
    if content_type.startswith("text/html"):
        return "no-cache"
    left = int((expires_at - now).total_seconds())
    return f"public, max-age={max(min(left, MAX_AGE), 0)}"


def lifetimes(preview: Preview, content_type: str) -> tuple[str, int]:
    """A build's answer's Cache-Control (`cache_control`) and its seconds for a shared cache
    (`shared_seconds`), both from the preview's time left now."""
    now = timezone.now()
    return cache_control(preview.expires_at, content_type, now), shared_seconds(
        preview.expires_at, now
    )


def shared_seconds(expires_at: datetime, now: datetime) -> int:
    """The seconds a shared cache in front of the app may keep a build's answer, sent as
    `X-Accel-Expires` (nginx's proxy_cache reads it: https://nginx.org/r/proxy_cache_valid):
    SHARED_MAX_AGE, or fewer as the preview's end nears, and 0 (not at all) in its last two
    seconds. nginx counts whole seconds of its clock (an entry given N seconds at 12.1 s
    lasts until 12 + N + 0.999 s), so it is given one second less than the whole seconds
    left: its copy ends before the preview does (to within the time the answer takes to
    reach it), and the TTL holds for every request, whichever of the two answers it."""
    left = int((expires_at - now).total_seconds())
    return max(min(left - 1, SHARED_MAX_AGE), 0)


def with_preview_headers(
    response: HttpResponse, cache: str = "no-cache", shared: int = 0
) -> HttpResponse:
    """The headers every answer from a preview host carries (see the module's docstring):
    `cache` as Cache-Control, and `shared` seconds as X-Accel-Expires (0, the default: a
    shared cache must not keep it at all)."""
    response["X-Robots-Tag"] = "noindex"
    # The manifest gives every file its exact type: no browser should guess another (an
    # uploaded .txt or .json read as HTML or script).
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "same-origin"
    response["Content-Security-Policy"] = f"frame-ancestors {widget.app_origin()}"
    response["Cache-Control"] = cache
    response["X-Accel-Expires"] = str(shared)
    return response


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font:1.0625rem/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;
padding:0 1.25rem;color:#1d1d1f;background:#fff}}h1{{font-size:1.5rem;margin:0 0 .75rem}}
a{{color:#0b57d0}}</style></head>
<body><main><h1>{title}</h1>{body}</main></body></html>
"""


def page(status: int, title: str, body: str) -> HttpResponse:
    """A small self-contained page (no app chrome, no script, no cookie)."""
    html = PAGE.format(title=escape(title), body=body)
    response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    return with_preview_headers(response)


def not_found() -> HttpResponse:
    """The plain 404 of a preview host: no such preview, or no such file in it."""
    return page(404, "Not found", "<p>There is nothing at this address.</p>")


def ended(share_url: str | None) -> HttpResponse:
    """The page of a preview whose time is up (or whose files are gone). 410 Gone: this origin
    will never serve again (a renewal gets a new one), which tells caches and crawlers to
    drop it, and a browser shows the page as it would a 200. The share page is where a
    reaction is still welcome: linked when the visitor's share is known, else the link they
    were sent leads there."""
    if share_url:
        welcome = (
            f'<p><a href="{escape(share_url)}">Go back to the page you were sent</a>: '
            "you can still say what you thought.</p>"
        )
    else:
        welcome = (
            "<p>You can still say what you thought: open the link you were sent "
            "(not this preview's address).</p>"
        )
    body = "<p>The person who built it can send you a fresh one whenever they like.</p>" + welcome
    return page(410, "This preview has ended", body)
