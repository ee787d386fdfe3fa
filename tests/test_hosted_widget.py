"""The reaction inside a hosted preview (reactions/widget.py, sessions/widget.py): the
first-party mark set by Open, the injected script, the reaction and in-app activity posted
to the preview's own origin, and the share page showing them."""

import gzip
import json

import brotli
import pytest
from django.test import Client
from django.urls import reverse

from outerloop.models import ApiToken
from reactions.models import InAppActivity, Reaction, duration
from reactions.sharing import share_preview
from reactions.widget import MARK_COOKIE, SECURE_MARK_COOKIE, activity_of
from sessions import serving, widget
from sessions.hosted import preview_domain_name
from sessions.models import Preview
from tests.hosted import write_build
from tests.test_cli import outerloop, server  # noqa: F401 - the fixture
from tests.test_hosted_uploads import zipped

INDEX = b"<!doctype html><html><head><title>Crags</title></head><body><h1>Crags</h1></body></html>"
TAG = b'<script src="/__outerloop/widget.js?v='


@pytest.fixture(autouse=True)
def fresh_injected_pages():
    """Each test's pages injected afresh, whatever an earlier test cached."""
    serving.INJECTED.clear()


@pytest.fixture
def hosted(session, owner) -> Preview:
    return Preview.hosting(session, write_build(owner, {"index.html": INDEX, "a.css": b"p{}"}))


@pytest.fixture
def link(hosted, recipient):
    return share_preview(hosted, recipient, "dm")


def host_of(preview: Preview) -> str:
    return f"{preview.host}.{serving.settings.OUTERLOOP_PREVIEW_DOMAIN}"


def origin_of(preview: Preview) -> str:
    return f"http://{host_of(preview)}"


def open_link(client, share):
    """Load the share's page, tap Open: the response of /go/."""
    client.get(reverse("reactions:recipient-page", args=[share.token]))
    return client.get(reverse("reactions:recipient-go", args=[share.token]))


def enter(client, share):
    """Open, then follow the preview host's door: the response of /__outerloop/enter."""
    go = open_link(client, share)
    assert go.status_code == 302
    return client.get(go["Location"], HTTP_HOST=host_of(share.preview))


def post(client, preview, name, body, origin=None, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/__outerloop/{name}",
        data,
        content_type="text/plain",
        HTTP_HOST=host_of(preview),
        HTTP_ORIGIN=origin or origin_of(preview),
        **headers,
    )


# The mark.


def test_open_leads_through_the_preview_hosts_door_and_sets_a_first_party_mark(sam, link):
    go = open_link(sam, link)
    assert go["Location"].startswith(f"{origin_of(link.preview)}/__outerloop/enter?s=")

    entered = sam.get(go["Location"], HTTP_HOST=host_of(link.preview))

    assert entered.status_code == 302 and entered["Location"] == "/"
    mark = entered.cookies[MARK_COOKIE]
    assert mark["httponly"] and mark["samesite"] == "Lax" and mark["path"] == "/"
    assert not mark["secure"] and not mark["domain"]
    assert 3590 <= int(mark["max-age"]) <= 3600  # the preview's hour, no longer
    me = sam.get("/__outerloop/me", HTTP_HOST=host_of(link.preview))
    assert me.json()["builder"] == "Alex"
    assert ["love", "Love it"] in me.json()["chips"]


def test_on_https_the_mark_is_secure_and_host_prefixed(sam, link, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    go = open_link(sam, link)
    entered = sam.get(go["Location"], HTTP_HOST=host_of(link.preview), secure=True)
    assert entered.cookies[SECURE_MARK_COOKIE]["secure"]


def test_the_bare_preview_url_has_no_mark_and_records_nothing(sam, link):
    page = sam.get("/", HTTP_HOST=host_of(link.preview))
    assert TAG in page.content  # the script is there, and finds nobody to speak for
    assert sam.get("/__outerloop/me", HTTP_HOST=host_of(link.preview)).status_code == 204
    refused = post(sam, link.preview, "react", {"text": "Nice"})
    beacon = post(sam, link.preview, "activity", {"taps": 3, "paths": ["/"], "seconds": 15})
    assert refused.status_code == beacon.status_code == 403
    assert not Reaction.objects.exists() and not InAppActivity.objects.exists()


def test_a_forged_or_stale_door_sets_no_mark(sam, link, time_machine):
    go = open_link(sam, link)
    forged = sam.get(go["Location"].replace("s=", "s=x"), HTTP_HOST=host_of(link.preview))
    assert MARK_COOKIE not in forged.cookies
    time_machine.shift(301)
    stale = sam.get(go["Location"], HTTP_HOST=host_of(link.preview))
    assert stale.status_code == 302 and MARK_COOKIE not in stale.cookies


def test_the_door_of_one_preview_marks_nobody_on_another(sam, link, session, owner, recipient):
    other = Preview.hosting(session, write_build(owner, {"index.html": INDEX}))
    go = open_link(sam, link)
    entered = sam.get(go["Location"], HTTP_HOST=host_of(other))
    assert MARK_COOKIE not in entered.cookies


def test_the_door_redirects_only_within_its_origin(sam, link):
    go = open_link(sam, link)
    for to in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        url = go["Location"].replace("to=%2F", f"to={to}")
        assert sam.get(url, HTTP_HOST=host_of(link.preview))["Location"] == "/"


def test_the_builders_own_visit_is_marked_theirs(owner_client, link):
    enter(owner_client, link)
    post(owner_client, link.preview, "react", {"text": "Testing my own button"})
    beacon = post(owner_client, link.preview, "activity", {"taps": 2, "paths": ["/"]})
    assert beacon.status_code == 204
    assert Reaction.objects.get().by_builder
    assert not InAppActivity.objects.exists()


def test_the_ended_page_links_to_the_share_page_the_visitor_came_from(sam, link, time_machine):
    enter(sam, link)
    time_machine.shift(3601)
    ended = sam.get("/", HTTP_HOST=host_of(link.preview))
    assert ended.status_code == 410
    assert reverse("reactions:recipient-page", args=[link.token]).encode() in ended.content


# The injection.


def test_html_gets_one_script_tag_before_its_body_ends_and_files_stay_as_they_are(sam, hosted):
    page = sam.get("/", HTTP_HOST=host_of(hosted))
    assert page.content.count(TAG) == 1
    assert page.content.index(TAG) < page.content.index(b"</body>")
    assert int(page["Content-Length"]) == len(page.content)
    assert widget.version() in page["ETag"]
    assert "Accept-Ranges" not in page
    assert sam.get("/a.css", HTTP_HOST=host_of(hosted)).getvalue() == b"p{}"


def test_injected_html_is_compressed_now_never_the_stored_copy(sam, hosted):
    br = sam.get("/", HTTP_HOST=host_of(hosted), HTTP_ACCEPT_ENCODING="br")
    gz = sam.get("/", HTTP_HOST=host_of(hosted), HTTP_ACCEPT_ENCODING="gzip")
    assert br["Content-Encoding"] == "br" and TAG in brotli.decompress(br.content)
    assert gz["Content-Encoding"] == "gzip" and TAG in gzip.decompress(gz.content)
    assert len({br["ETag"], gz["ETag"]}) == 2


def test_injected_html_ignores_range_answers_head_alike_and_revalidates(sam, hosted):
    get = sam.get("/", HTTP_HOST=host_of(hosted), HTTP_RANGE="bytes=0-9")
    head = sam.head("/", HTTP_HOST=host_of(hosted))
    assert get.status_code == 200 and TAG in get.content
    assert head["Content-Length"] == get["Content-Length"] and head["ETag"] == get["ETag"]
    again = sam.get("/", HTTP_HOST=host_of(hosted), HTTP_IF_NONE_MATCH=get["ETag"])
    assert again.status_code == 304


def test_no_widget_serves_the_html_as_stored(sam, session, owner):
    plain = Preview.hosting(session, write_build(owner, {"index.html": INDEX}), widget=False)
    assert sam.get("/", HTTP_HOST=host_of(plain)).getvalue() == INDEX


def test_a_page_without_body_and_a_page_with_nonces():
    assert widget.inject(b"<p>hi").startswith(b"<p>hi" + TAG)
    nonced = widget.inject(b'<script nonce="abcdefgh12">x()</script></BODY>')
    assert b' nonce="abcdefgh12"></script></BODY>' in nonced


@pytest.mark.parametrize(
    "html",
    [
        b"<body><div id=app></div><script>document.write('<p>bye</p></body>');go()</script>",
        b"<body><script>const t = `</body>`;</script><p>end",
        b"<body><style>p::after{content:'</body>'}</style><p>end",
        b"<body><p>end<!-- old footer </body> -->",
        b"<body><p>end<!-- never closed </body>",
        b"<body><script>never closed </body>",
    ],
)
def test_a_body_end_inside_a_script_style_or_comment_is_left_alone(html):
    injected = widget.inject(html)

    assert injected.startswith(html)  # the builder's page unchanged, the tag after it
    assert injected.endswith(b"></script>") and injected.count(TAG) == 1


def test_the_tag_goes_before_the_real_body_end_after_those():
    html = b"<body><script>x('</body>')</script><!-- </body> --><p>end</BODY >\n<!--</body>-->"

    injected = widget.inject(html)

    at = html.index(b"</BODY >")
    assert injected[:at] == html[:at] and injected[at:].startswith(TAG)
    assert injected.endswith(b"</BODY >\n<!--</body>-->")


def test_an_html_page_over_the_injection_limit_is_served_as_stored(sam, session, owner):
    big = b"<body>" + b"x" * widget.MAX_INJECTED + b"</body>"
    preview = Preview.hosting(session, write_build(owner, {"index.html": big}))

    assert widget.MAX_INJECTED <= 512 * 1024
    assert sam.get("/", HTTP_HOST=host_of(preview)).getvalue() == big


def test_the_injected_page_cache_is_bounded_by_bytes(sam, session, owner, settings, monkeypatch):
    # Pages just under the injection limit, in every encoding: the cache keeps
    # no more than its byte bound, dropping the least recently used first.
    monkeypatch.setattr(serving, "INJECTED", serving.InjectedCache(3 * widget.MAX_INJECTED))
    page = b"<body>" + bytes(range(65, 91)) * (widget.MAX_INJECTED // 26 - 1) + b"</body>"
    pages = {f"p{n}.html": page.replace(b"<body>", b"<body>%d" % n) for n in range(4)}
    preview = Preview.hosting(session, write_build(owner, {"index.html": INDEX, **pages}))

    for name in pages:
        for encoding in ("identity", "gzip", "br"):
            answer = sam.get(f"/{name}", HTTP_HOST=host_of(preview), HTTP_ACCEPT_ENCODING=encoding)
            assert answer.status_code == 200
            assert serving.INJECTED.size <= 3 * widget.MAX_INJECTED
    assert serving.INJECTED.size == sum(len(b) for b in serving.INJECTED.entries.values())
    assert (preview.build.key, "p0.html") not in {key[:2] for key in serving.INJECTED.entries}
    assert serving.INJECTED_CACHE_BYTES <= 32 * 1024 * 1024


def test_the_widgets_files_are_served_same_origin(sam, hosted):
    script = sam.get("/__outerloop/widget.js", HTTP_HOST=host_of(hosted))
    assert script["Content-Type"].startswith("text/javascript")
    assert b"sendBeacon" in script.content and len(script.content) < 10_000
    assert sam.get("/__outerloop/nope.js", HTTP_HOST=host_of(hosted)).status_code == 404


# Reactions and beacons, from the preview's own origin only.


def test_the_reaction_from_inside_is_stored_as_the_share_pages(sam, link):
    enter(sam, link)
    body = {"text": "Love it — the map", "chip": "love", "idempotency_key": "k" * 22}
    sent = post(sam, link.preview, "react", body)
    again = post(sam, link.preview, "react", body)
    assert sent.status_code == again.status_code == 200
    assert "Alex" in sent.json()["thanks"]
    reaction = Reaction.objects.get()
    assert (reaction.share, reaction.chip, reaction.by_builder) == (link, "love", False)
    assert "Access-Control-Allow-Origin" not in sent


def test_an_empty_reaction_is_refused_in_words(sam, link):
    enter(sam, link)
    refused = post(sam, link.preview, "react", {"text": ""})
    assert refused.status_code == 400 and "Write a few words" in refused.json()["error"]


@pytest.mark.parametrize("origin", ["app", "other preview", "none", "a lookalike", "a path"])
def test_posts_from_any_other_origin_are_refused(sam, link, session, owner, origin, settings):
    enter(sam, link)
    other = Preview.hosting(session, write_build(owner, {"index.html": INDEX}))
    origins = {
        "app": settings.OUTERLOOP_BASE_URL,
        "other preview": origin_of(other),
        "none": "null",
        "a lookalike": f"http://{host_of(link.preview)}.example.com",
        "a path": f"{origin_of(link.preview)}/x",
    }
    for name in ("react", "activity"):
        refused = post(sam, link.preview, name, {"text": "hi"}, origin=origins[origin])
        assert refused.status_code == 403
        assert "Access-Control-Allow-Origin" not in refused
    assert not Reaction.objects.exists()


def test_a_post_whose_origin_keeps_a_port_the_proxy_dropped_counts(sam, link):
    # nginx passes `$host`, which has no port; a page served at :8443 says it in its Origin.
    enter(sam, link)

    at_8443 = f"http://{link.preview.host}.{preview_domain_name()}:8443"

    sent = post(sam, link.preview, "activity", {"taps": 2}, origin=at_8443)

    assert sent.status_code == 204
    assert InAppActivity.objects.get(share=link).taps == 2


@pytest.mark.parametrize(
    ("fetch_site", "status"),
    [("same-origin", 204), ("same-site", 403), ("cross-site", 403), (None, 403)],
)
def test_a_beacon_whose_origin_the_browser_wrote_as_null_counts_only_from_the_same_origin(
    sam, link, fetch_site, status
):
    # WebKit's beacon from a page under `Referrer-Policy: no-referrer` (a builder's own meta
    # tag may say it): Origin "null", Sec-Fetch-Site saying where it came from.
    enter(sam, link)
    where = {"HTTP_SEC_FETCH_SITE": fetch_site} if fetch_site else {}

    sent = post(sam, link.preview, "activity", {"taps": 3}, origin="null", **where)

    assert sent.status_code == status
    assert InAppActivity.objects.filter(share=link, taps=3).exists() == (status == 204)


def test_beacons_add_up_into_the_shares_in_app_activity(sam, link):
    enter(sam, link)
    post(sam, link.preview, "activity", {"taps": 4, "paths": ["/", "/crags?q=secret"]})
    post(sam, link.preview, "activity", {"taps": 10, "paths": ["/crags", "/map#x"], "seconds": 100})
    post(sam, link.preview, "activity", {"seconds": 60})
    row = InAppActivity.objects.get(share=link)
    assert (row.taps, row.paths, row.seconds) == (14, ["/", "/crags", "/map"], 160)
    assert row.first_tap_at is not None
    assert row.sentence("Sam") == "Sam tapped 14 times across 3 screens in 2 min 40 s"


@pytest.mark.parametrize(
    "beacon",
    [
        {"taps": 1, "keys": "hunter2"},
        {"taps": 1, "text": "Buy now"},
        {"value": "sam@example.com"},
        {"taps": -1},
        {"taps": 1.5},
        {"taps": True},
        {"seconds": 10_000},
        {"paths": ["crags"]},
        {"paths": [{"text": "x"}]},
        {"paths": ["/"] * 21},
    ],
)
def test_a_beacon_holds_taps_paths_and_seconds_and_nothing_else(sam, link, beacon):
    assert activity_of(beacon) is None
    enter(sam, link)
    assert post(sam, link.preview, "activity", beacon).status_code == 400
    assert not InAppActivity.objects.exists()


@pytest.mark.parametrize("declared", ["many", "-1", "1e9"])
def test_a_body_length_that_is_no_number_is_refused_not_a_server_error(sam, link, declared):
    enter(sam, link)
    response = post(sam, link.preview, "activity", {"taps": 1}, CONTENT_LENGTH=declared)
    assert response.status_code == 400
    assert not InAppActivity.objects.exists()


def test_a_robot_records_nothing(link, sam, client):
    enter(sam, link)
    sam.defaults["HTTP_USER_AGENT"] = "curl/8.0"
    beacon = post(sam, link.preview, "activity", {"taps": 1})
    assert beacon.status_code == 403 and not InAppActivity.objects.exists()


def test_the_share_page_shows_it_and_its_poll_sees_it_change(owner_client, sam, link):
    enter(sam, link)
    page = reverse("reactions:share-detail", args=[link.pk])
    first = owner_client.get(page, headers={"HX-Request": "true"})
    post(sam, link.preview, "activity", {"taps": 1, "paths": ["/"], "seconds": 40})
    poll = owner_client.get(page, headers={"HX-Request": "true", "If-None-Match": first["ETag"]})
    assert poll.status_code == 200
    assert "Sam tapped once across 1 screen in 40 s" in poll.content.decode()


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (0, 40, 60, 160, 3600, 3900)] == [
        "0 s",
        "40 s",
        "1 min",
        "2 min 40 s",
        "1 h",
        "1 h 5 min",
    ]


# Turning it off: the CLI's --no-widget, the API's `widget`.


@pytest.mark.django_db(transaction=True)
def test_no_widget_from_the_cli_hosts_the_build_without_the_button(server, tmp_path):  # noqa: F811
    url, token = server
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "index.html").write_bytes(INDEX)

    result = outerloop(
        "preview", str(folder), "--no-qr", "--no-widget", home=tmp_path, url=url, token=token
    )

    assert result.returncode == 0, result.stderr
    assert Preview.objects.get().widget is False


def test_no_widget_is_refused_for_a_url(tmp_path):
    result = outerloop("preview", "https://example.com/", "--no-widget", home=tmp_path)
    assert result.returncode != 0 and "--no-widget is for a build folder" in result.stderr


@pytest.mark.parametrize(("fields", "on"), [({}, True), ({"widget": "false"}, False)])
def test_the_api_takes_widget_and_keeps_it_on_by_default(owner, fields, on):
    _, raw = ApiToken.issue(owner, "laptop CLI")
    api = Client(headers={"User-Agent": "outerloop-cli/1", "Authorization": f"Bearer {raw}"})
    response = api.post("/api/v1/builds", {"file": zipped({"index.html": INDEX}), **fields})
    assert response.status_code == 201, response.content
    assert Preview.objects.get().widget is on
