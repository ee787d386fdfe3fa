"""A hosted preview's files, answered at its own origin as a static host would
(sessions/serving.py): types, encodings, conditional and range requests, the SPA fallback,
a plain 404, the ended page after the TTL, a Cache-Control that never outlives the preview,
and the headers every preview answer carries."""

import gzip
import os
from datetime import timedelta

import brotli
import pytest

from sessions import serving
from sessions.models import Preview
from tests.hosted import write_build

INDEX = b"<!doctype html><title>Crag finder</title><script src=/app.mjs type=module></script>"
BUNDLE = b"export const crags = ['Frankenjura', 'Elbsandstein'];\n" * 40
VIDEO = bytes(range(256)) * 8  # 2 KB of "media"
FILES = {
    "index.html": INDEX,
    "app.mjs": BUNDLE,
    "legacy.js": b"console.log('hi')",
    "app.wasm": b"\x00asm\x01\x00\x00\x00",
    "site.webmanifest": b'{"name": "Crag finder"}',
    "clip.mp4": VIDEO,
    "docs/index.html": b"<!doctype html><title>Docs</title>",
    "static/app.css": b"body{margin:0}",
}


@pytest.fixture
def build(owner):
    return write_build(owner, FILES)


@pytest.fixture
def hosted(session, build) -> Preview:
    # The files exactly as stored: the widget's injection is tests/test_hosted_widget.py's.
    return Preview.hosting(session, build, widget=False)


def get(client, preview, path="/", method="get", **headers):
    host = f"{preview.host}.{serving.settings.OUTERLOOP_PREVIEW_DOMAIN}"
    return getattr(client, method)(path, HTTP_HOST=host, **headers)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/app.mjs", "text/javascript; charset=utf-8"),
        ("/app.wasm", "application/wasm"),
        ("/site.webmanifest", "application/manifest+json"),
        ("/clip.mp4", "video/mp4"),
    ],
)
def test_each_file_has_its_content_type(client, hosted, path, content_type):
    response = get(client, hosted, path)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert body(response) == FILES[path.lstrip("/") or "index.html"]


def test_a_manifest_entry_without_a_type_gets_one_by_its_extension():
    assert serving.guess_type("a/b.mjs") == "text/javascript; charset=utf-8"
    assert serving.guess_type("app.wasm") == "application/wasm"
    assert serving.guess_type("site.webmanifest") == "application/manifest+json"
    assert serving.guess_type("logo.png") == "image/png"


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("identity", None),
        ("", None),
    ],
)
def test_text_comes_compressed_as_the_browser_accepts(client, hosted, accept, encoding):
    response = get(client, hosted, "/app.mjs", HTTP_ACCEPT_ENCODING=accept)
    data = body(response)

    assert response.status_code == 200
    assert response.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response["Vary"]
    assert int(response["Content-Length"]) == len(data)
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](data)
    assert decoded == BUNDLE


def test_media_is_never_compressed(client, hosted):
    response = get(client, hosted, "/clip.mp4", HTTP_ACCEPT_ENCODING="br, gzip")

    assert "Content-Encoding" not in response
    assert response["Accept-Ranges"] == "bytes"


def test_a_file_is_streamed_with_sendfile_never_read_whole(rf, hosted):
    response = serving.serve(rf.get("/clip.mp4", HTTP_RANGE="bytes=1000-1099"), hosted.host)

    # What Django's WSGI handler hands to gunicorn's FileWrapper, which sendfile(2)s
    # Content-Length bytes from the descriptor's position.
    streamed = response.file_to_stream
    assert os.lseek(streamed.fileno(), 0, os.SEEK_CUR) == 1000
    assert response["Content-Length"] == "100"
    assert b"".join(response.streaming_content) == VIDEO[1000:1100]
    response.close()


def test_a_matching_etag_answers_304_and_another_the_file(client, hosted):
    first = get(client, hosted, "/app.mjs", HTTP_ACCEPT_ENCODING="br")
    etag = first["ETag"]

    again = get(client, hosted, "/app.mjs", HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=etag)
    weak = get(
        client, hosted, "/app.mjs", HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=f"W/{etag}"
    )
    plain = get(client, hosted, "/app.mjs", HTTP_IF_NONE_MATCH=etag)
    changed = get(client, hosted, "/app.mjs", HTTP_IF_NONE_MATCH='"something-else"')

    assert etag.startswith('"') and etag.endswith('-br"')
    assert again.status_code == 304 and body(again) == b""
    assert again["ETag"] == etag and again["Cache-Control"] == first["Cache-Control"]
    assert weak.status_code == 304
    # The uncompressed file is other bytes, with an ETag of its own.
    assert plain.status_code == 200 and plain["ETag"] != etag
    assert changed.status_code == 200 and body(changed) == BUNDLE


def test_head_says_what_get_would_without_the_body(client, hosted):
    got = get(client, hosted, "/clip.mp4")
    head = get(client, hosted, "/clip.mp4", method="head")

    assert head.status_code == 200
    assert body(head) == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Accept-Ranges"):
        assert head[name] == got[name]
    assert head["Content-Length"] == str(len(VIDEO))


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, len(VIDEO) - 1), ("bytes=-10", 2038, 2047)],
)
def test_a_single_range_answers_206_with_those_bytes(client, hosted, header, first, last):
    response = get(client, hosted, "/clip.mp4", HTTP_RANGE=header, HTTP_ACCEPT_ENCODING="br")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(VIDEO)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert body(response) == VIDEO[first : last + 1]


def test_a_range_of_text_is_of_the_uncompressed_file(client, hosted):
    response = get(client, hosted, "/app.mjs", HTTP_RANGE="bytes=7-11", HTTP_ACCEPT_ENCODING="br")

    assert response.status_code == 206
    assert "Content-Encoding" not in response
    assert body(response) == BUNDLE[7:12]


def test_a_range_past_the_end_answers_416(client, hosted):
    response = get(client, hosted, "/clip.mp4", HTTP_RANGE=f"bytes={len(VIDEO)}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(VIDEO)}"


def test_a_range_with_a_huge_number_is_ignored_not_a_server_error(client, hosted):
    # Python's int() refuses strings over 4300 digits (a ValueError: a 500).
    response = get(client, hosted, "/clip.mp4", HTTP_RANGE="bytes=0-" + "9" * 4301)

    assert response.status_code == 200 and body(response) == VIDEO


def test_any_range_of_an_empty_file_answers_416(client, session, owner):
    build = write_build(owner, {"index.html": INDEX, "empty.mp4": b""})
    preview = Preview.hosting(session, build, widget=False)

    for header in ("bytes=-5", "bytes=0-", "bytes=0-0"):
        response = get(client, preview, "/empty.mp4", HTTP_RANGE=header)
        assert response.status_code == 416
        assert response["Content-Range"] == "bytes */0"


def test_several_ranges_or_a_stale_if_range_get_the_whole_file(client, hosted):
    several = get(client, hosted, "/clip.mp4", HTTP_RANGE="bytes=0-1, 5-6")
    stale = get(client, hosted, "/clip.mp4", HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"old"')

    assert several.status_code == 200 and body(several) == VIDEO
    assert stale.status_code == 200 and body(stale) == VIDEO


@pytest.mark.parametrize("path", ["/crags", "/crags/frankenjura", "/settings/profile/"])
def test_a_client_route_answers_the_apps_index(client, hosted, path):
    response = get(client, hosted, path)

    assert response.status_code == 200
    assert body(response) == INDEX


def test_a_directory_answers_its_index_and_gets_its_slash(client, hosted):
    page = get(client, hosted, "/docs/")
    bare = get(client, hosted, "/docs?from=home")

    assert page.status_code == 200 and b"<title>Docs</title>" in body(page)
    assert bare.status_code == 301 and bare["Location"] == "/docs/?from=home"


@pytest.mark.parametrize("path", ["//evil.example", "///evil.example"])
def test_the_slash_redirect_never_leaves_the_origin(client, session, owner, path):
    # A build with a folder named like a host: "//evil.example" names it, and a Location of
    # "//evil.example/" would be protocol-relative, another origin.
    build = write_build(owner, {"index.html": INDEX, "evil.example/index.html": INDEX})
    preview = Preview.hosting(session, build, widget=False)

    response = get(client, preview, "/x", PATH_INFO=path)

    assert response.status_code == 301
    assert response["Location"] == "/evil.example/"


@pytest.mark.parametrize("path", ["/missing.js", "/docs/missing.png", "/../index.html"])
def test_a_missing_file_is_a_plain_404(client, hosted, path):
    response = get(client, hosted, path)

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"There is nothing at this address." in response.content
    assert b"<script" not in response.content and b"/static/" not in response.content


def test_an_unknown_label_is_a_plain_404(client, db, settings):
    response = client.get("/", HTTP_HOST=f"nosuchpreview.{settings.OUTERLOOP_PREVIEW_DOMAIN}")

    assert response.status_code == 404
    assert b"There is nothing at this address." in response.content


def test_other_methods_are_refused(client, hosted):
    response = get(client, hosted, "/", method="post")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_html_is_revalidated_and_files_cached_at_most_five_minutes(client, hosted):
    assert get(client, hosted, "/")["Cache-Control"] == "no-cache"
    assert get(client, hosted, "/app.mjs")["Cache-Control"] == "public, max-age=300"


def test_no_cache_keeps_a_file_past_the_previews_end(client, hosted, time_machine):
    time_machine.move_to(hosted.expires_at - timedelta(seconds=42), tick=False)

    assert get(client, hosted, "/app.mjs")["Cache-Control"] == "public, max-age=42"


def test_a_shared_cache_may_keep_a_builds_answers_ten_seconds_and_nothing_else(client, hosted):
    for path in ("/", "/app.mjs", "/crags", "/clip.mp4"):
        assert get(client, hosted, path)["X-Accel-Expires"] == "10", path
    assert get(client, hosted, "/app.mjs", HTTP_RANGE="bytes=0-9")["X-Accel-Expires"] == "10"
    for path in ("/missing.js", "/docs", "/__outerloop/nothing"):  # a 404, a redirect
        assert get(client, hosted, path)["X-Accel-Expires"] == "0", path
    assert get(client, hosted, "/", method="post")["X-Accel-Expires"] == "0"


@pytest.mark.parametrize(("left", "shared"), [(42, "10"), (11.5, "10"), (3.9, "2"), (1.9, "0")])
def test_no_shared_cache_keeps_an_answer_past_the_previews_end(
    client, hosted, time_machine, left, shared
):
    # nginx counts whole seconds: N given at 12.1 s last until 12 + N + 0.999 s, so it gets
    # one second less than the whole seconds left.
    time_machine.move_to(hosted.expires_at - timedelta(seconds=left), tick=False)

    assert get(client, hosted, "/app.mjs")["X-Accel-Expires"] == shared


def test_after_its_ttl_the_preview_says_it_has_ended(client, hosted, time_machine):
    time_machine.move_to(hosted.expires_at, tick=False)

    for path in ("/", "/app.mjs", "/crags"):
        response = get(client, hosted, path)
        assert response.status_code == 410
        page = response.content.decode()
        assert "This preview has ended" in page
        assert "can send you a fresh one" in page
        assert "open the link you were sent" in page
        assert response["Cache-Control"] == "no-cache"
        assert response["X-Accel-Expires"] == "0"


def test_the_ended_page_links_the_share_page_when_the_visitor_is_known(rf, hosted, now):
    hosted.expires_at = now
    hosted.save()
    request = rf.get("/")

    response = serving.serve(request, hosted.host, lambda request, preview: "/r/tok/")

    assert response.status_code == 410
    assert b'<a href="/r/tok/">' in response.content


def test_a_build_whose_files_are_gone_shows_the_ended_page(client, hosted, build, now):
    build.deleted_at = now
    build.save()

    assert get(client, hosted, "/").status_code == 410


def test_a_renewed_preview_serves_at_its_new_origin_and_the_old_one_has_ended(
    client, hosted, time_machine
):
    time_machine.move_to(hosted.expires_at, tick=False)
    renewed = hosted.renew()

    assert get(client, hosted, "/").status_code == 410
    assert body(get(client, renewed, "/")) == INDEX


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {}),
        ("/app.mjs", {"HTTP_ACCEPT_ENCODING": "br"}),
        ("/clip.mp4", {"HTTP_RANGE": "bytes=0-1"}),
        ("/missing.js", {}),
        ("/docs", {}),
    ],
)
def test_every_answer_carries_the_preview_headers(client, hosted, settings, path, headers):
    settings.OUTERLOOP_BASE_URL = "https://outerloop.example.com"

    response = get(client, hosted, path, **headers)

    assert response["X-Robots-Tag"] == "noindex"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Content-Security-Policy"] == "frame-ancestors https://outerloop.example.com"
    assert "X-Frame-Options" not in response
    assert not response.cookies
    assert not [name for name in response.headers if name.lower().startswith("access-control")]


def test_the_ended_page_and_a_304_carry_them_too(client, hosted, time_machine):
    etag = get(client, hosted, "/")["ETag"]
    not_modified = get(client, hosted, "/", HTTP_IF_NONE_MATCH=etag)
    time_machine.move_to(hosted.expires_at, tick=False)
    ended = get(client, hosted, "/")

    for response in (not_modified, ended):
        assert response["X-Robots-Tag"] == "noindex"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("frame-ancestors ")
        assert not response.cookies


def test_an_https_deploy_redirects_plain_http_to_https(client, hosted, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = get(client, hosted, "/crags?x=1")

    assert response.status_code == 301
    assert response["Location"] == (
        f"https://{hosted.host}.{settings.OUTERLOOP_PREVIEW_DOMAIN}/crags?x=1"
    )


@pytest.mark.parametrize(
    ("header", "size", "bounds"),
    [
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=5-100", 10, (5, 9)),
        ("bytes=-100", 10, (0, 9)),
        ("bytes=-0", 10, "unsatisfiable"),
        ("bytes=10-", 10, "unsatisfiable"),
        ("bytes=0-", 0, "unsatisfiable"),
        ("bytes=-5", 0, "unsatisfiable"),
        ("bytes=0-" + "9" * 20, 10, None),
        ("bytes=0-" + "9" * 19, 10, (0, 9)),
        ("bytes=4-2", 10, None),
        ("bytes=-", 10, None),
        ("items=0-1", 10, None),
        ("bytes=0-1,3-4", 10, None),
    ],
)
def test_byte_ranges_read_as_rfc_9110_says(header, size, bounds):
    assert serving.byte_range(header, size) == bounds
