"""The README's nginx recipe for the preview domain (docs/deploy/nginx-previews.conf), run as
written in front of the app: its cache gives a build's pages and files for the seconds the
app allows (X-Accel-Expires), never past the preview's end, never one preview's or one
encoding's answer for another, and never the door that sets a visitor's mark."""

import gzip
import http.client
import math
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine as time_machine_module
from django.core import signing
from django.utils import timezone

from bench import servers
from reactions.models import InAppActivity
from reactions.sharing import share_preview
from reactions.widget import ENTER_SALT
from sessions.models import Preview
from tests import services
from tests.hosted import serve_previews, write_build
from tests.test_bench_hosted import require_nginx

BUNDLE = b"export const crags = ['Frankenjura', 'Elbsandstein'];\n" * 40
INDEX = b"<!doctype html><html><head><title>Crags</title></head><body>Crags</body></html>"


@pytest.fixture
def proxy(live_server, settings, tmp_path):
    """nginx by the recipe in front of the live server: its port."""
    require_nginx()
    app_port = int(serve_previews(live_server, settings))
    port = servers.free_port()
    nginx = servers.nginx_proxy(port, app_port, tmp_path, workers=1)
    yield port
    servers.stop(nginx)


def fetch(
    port: int, preview: Preview, path: str, method: str = "GET", body: str = "", **headers: str
) -> http.client.HTTPResponse:
    """`method` `path` of `preview` through nginx (read; the body is on `.body`)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    host = {"Host": f"{preview.host}.preview.localhost:{port}"}
    connection.request(method, path, body=body or None, headers={**host, **headers})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def hosted(session, owner, files: dict[str, bytes], **fields) -> Preview:
    preview = Preview.hosting(session, write_build(owner, files))
    Preview.objects.filter(pk=preview.pk).update(**fields)
    preview.refresh_from_db()
    return preview


@pytest.mark.django_db(transaction=True)
def test_a_builds_page_and_files_are_kept_and_the_door_never_is(proxy, session, owner, recipient):
    preview = hosted(session, owner, {"index.html": INDEX, "app.js": BUNDLE})

    for path in ("/", "/app.js"):
        first, again = fetch(proxy, preview, path), fetch(proxy, preview, path)
        assert (first.status, first.getheader("X-Cache-Status")) == (200, "MISS")
        assert (again.status, again.getheader("X-Cache-Status")) == (200, "HIT")
        assert again.body == first.body
    assert b"/__outerloop/widget.js" in fetch(proxy, preview, "/").body

    share = share_preview(preview, recipient, "dm")
    signed = signing.dumps([share.pk, preview.host, 0], salt=ENTER_SALT, compress=False)
    door = f"/__outerloop/enter?s={signed}&to=/"
    for _ in range(2):  # the same URL: each visitor gets a mark of their own
        response = fetch(proxy, preview, door)
        assert response.status == 302
        assert response.getheader("X-Cache-Status") == "MISS"
        assert "ol_mark=" in response.getheader("Set-Cookie")
    # The page's own beacon, through the proxy: its Origin keeps the port nginx's $host drops.
    beacon = fetch(
        proxy, preview, "/__outerloop/activity", "POST", '{"taps": 2}',
        Cookie=response.getheader("Set-Cookie").split(";")[0],
        Origin=f"http://{preview.host}.preview.localhost:{proxy}",
        **{"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (iPhone) Safari/604.1"},
    )  # fmt: skip
    assert beacon.status == 204, beacon.body
    assert InAppActivity.objects.get(share=share).taps == 2
    for _ in range(2):
        assert fetch(proxy, preview, "/missing.js").getheader("X-Cache-Status") == "MISS"


@pytest.mark.django_db(transaction=True)
def test_no_preview_or_encoding_gets_anothers_answer(proxy, session, owner):
    crags = hosted(session, owner, {"index.html": INDEX, "app.js": BUNDLE})
    other = hosted(session, owner, {"index.html": INDEX, "app.js": b"let other = 1;\n" * 200})

    zipped = fetch(proxy, crags, "/app.js", **{"Accept-Encoding": "gzip"})
    assert (
        fetch(proxy, crags, "/app.js", **{"Accept-Encoding": "gzip"}).getheader("X-Cache-Status")
        == "HIT"
    )
    plain = fetch(proxy, crags, "/app.js")
    elsewhere = fetch(proxy, other, "/app.js", **{"Accept-Encoding": "gzip"})

    assert gzip.decompress(zipped.body) == BUNDLE
    assert plain.getheader("Content-Encoding") is None and plain.body == BUNDLE
    assert gzip.decompress(elsewhere.body) == b"let other = 1;\n" * 200


@pytest.mark.django_db(transaction=True)
def test_the_cache_never_answers_for_a_preview_past_its_end(proxy, session, owner, time_machine):
    # Loads one after another, from before the preview's end to past it. nginx counts whole
    # seconds of its clock: each copy it fetches again just after a whole second would, given
    # the whole seconds left, outlive the preview by up to a second; given one less, it ends
    # first. Whatever the machine's speed, no load asked after the end (and the time a fetch
    # took) may get a 200.
    real = time_machine_module.escape_hatch.time.time()
    time_machine.move_to(datetime.fromtimestamp(real, UTC), tick=True)  # the app's clock is nginx's
    # The first load early in a whole second, the end half a second into one: the first copy,
    # given the whole seconds left, would outlive the preview too.
    services.wait_until(lambda: time.time() % 1 < 0.2, "waiting for a whole second", timeout=2)
    ends = math.floor(time.time()) + 4.5
    preview = hosted(
        session, owner, {"index.html": INDEX, "app.js": BUNDLE},
        expires_at=timezone.now() + timedelta(seconds=ends - time.time()),
    )  # fmt: skip

    # The app promises the copy ends before the preview does to within the time its answer
    # takes to reach nginx (`shared_seconds`): no longer than the slowest load nginx had to
    # fetch from the app took, as this machine ran it. The loads go on past that.
    answers, slowest_fetch = [], 0.0
    while time.time() < ends + slowest_fetch + 1.2:
        sent = time.time()
        response = fetch(proxy, preview, "/app.js")
        cache = response.getheader("X-Cache-Status")
        answers.append((sent, response.status, cache))
        if response.status == 200 and cache != "HIT":
            slowest_fetch = max(slowest_fetch, time.time() - sent)

    assert "HIT" in {cache for _, _, cache in answers}  # the cache was in the way
    assert 200 in {status for sent, status, _ in answers if sent < ends}
    after = {status for sent, status, _ in answers if sent >= ends + slowest_fetch}
    assert after == {410}
