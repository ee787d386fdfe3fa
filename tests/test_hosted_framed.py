"""The reaction inside a hosted preview, framed (reactions/widget.py, "Framed mode"): the share
page's iframe enters through the door's framed variant, which sets no cookie and hands the
widget script a carried mark; the endpoints take that mark as they take the cookie."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from reactions.models import InAppActivity, Reaction
from reactions.sharing import share_preview
from reactions.widget import MARK_COOKIE, SECURE_MARK_COOKIE, carried_mark
from sessions.models import Preview
from tests.hosted import write_build
from tests.test_hosted_widget import INDEX, fresh_injected_pages, host_of, origin_of, post  # noqa: F401

FRAME_SRC = re.compile(r'<iframe src="([^"]+)"')
DATA_MARK = re.compile(r'data-mark="([^"]+)"')


@pytest.fixture
def framed(session, owner) -> Preview:
    return Preview.hosting(session, write_build(owner, {"index.html": INDEX}), frameable=True)


@pytest.fixture
def link(framed, recipient):
    return share_preview(framed, recipient, "dm")


def frame_src(client, share) -> str:
    """What the share page's iframe loads."""
    page = client.get(reverse("reactions:recipient-page", args=[share.token]))
    return unescape(FRAME_SRC.search(page.content.decode()).group(1))


def framed_door(client, share):
    """The share page's iframe, followed to the preview host's framed door: its answer."""
    return client.get(frame_src(client, share), HTTP_HOST=host_of(share.preview))


def mark_in(door) -> str:
    """The carried mark the framed door hands frame.js."""
    return unescape(DATA_MARK.search(door.content.decode()).group(1))


def me(client, preview, mark):
    return client.get("/__outerloop/me", HTTP_HOST=host_of(preview), HTTP_X_OUTERLOOP_MARK=mark)


# The framed door.


def test_the_share_page_frames_the_preview_through_its_framed_door(sam, link):
    src = urlsplit(frame_src(sam, link))
    assert f"{src.scheme}://{src.netloc}" == origin_of(link.preview)
    assert src.path == "/__outerloop/enter"
    assert parse_qs(src.query)["framed"] == ["1"] and parse_qs(src.query)["to"] == ["/"]


def test_a_url_preview_is_still_framed_as_it_is(sam, session, recipient):
    preview = session.add_preview("https://crags.example.com/", frameable=True)
    share = share_preview(preview, recipient, "dm")
    assert frame_src(sam, share) == "https://crags.example.com/"


def test_the_framed_door_sets_no_cookie_and_answers_a_page_with_no_inline_script(
    sam, link, settings
):
    door = framed_door(sam, link)

    assert door.status_code == 200 and door["Content-Type"].startswith("text/html")
    assert not door.cookies and MARK_COOKIE not in door.cookies
    assert SECURE_MARK_COOKIE not in door.cookies
    assert door["Cache-Control"] == "no-store"
    policy = door["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert policy.endswith(f"frame-ancestors {settings.OUTERLOOP_BASE_URL.rstrip('/')}")
    scripts = re.findall(r"<script\b[^>]*>", door.content.decode())
    assert len(scripts) == 1 and 'src="/__outerloop/frame.js?v=' in scripts[0]
    assert 'data-to="/"' in scripts[0] and mark_in(door)
    frame_js = sam.get("/__outerloop/frame.js", HTTP_HOST=host_of(link.preview))
    assert frame_js.status_code == 200 and b"sessionStorage" in frame_js.content


def test_a_forged_or_stale_framed_door_hands_out_no_mark(sam, link, time_machine):
    src = frame_src(sam, link)
    forged = sam.get(src.replace("s=", "s=x"), HTTP_HOST=host_of(link.preview))
    assert forged.status_code == 302 and forged["Location"] == "/"
    time_machine.shift(301)
    stale = sam.get(src, HTTP_HOST=host_of(link.preview))
    assert stale.status_code == 302 and not stale.cookies


def test_the_top_level_door_is_unchanged_by_framed_mode(sam, link):
    sam.get(reverse("reactions:recipient-page", args=[link.token]))
    go = sam.get(reverse("reactions:recipient-go", args=[link.token]))
    assert "framed" not in go["Location"]
    entered = sam.get(go["Location"], HTTP_HOST=host_of(link.preview))
    assert entered.status_code == 302 and entered.cookies[MARK_COOKIE]["httponly"]


# The carried mark at the endpoints.


def test_activity_with_the_carried_mark_is_stored(sam, link):
    mark = mark_in(framed_door(sam, link))
    assert me(sam, link.preview, mark).json()["builder"] == "Alex"

    in_body = {"taps": 2, "paths": ["/", "/crags"], "seconds": 20, "mark": mark}
    assert post(sam, link.preview, "activity", in_body).status_code == 204
    as_header = sam.post(
        "/__outerloop/activity",
        '{"taps": 1, "paths": ["/map"]}',
        content_type="text/plain",
        HTTP_HOST=host_of(link.preview),
        HTTP_ORIGIN=origin_of(link.preview),
        HTTP_X_OUTERLOOP_MARK=mark,
    )
    assert as_header.status_code == 204

    row = InAppActivity.objects.get(share=link)
    assert (row.taps, row.paths, row.seconds) == (3, ["/", "/crags", "/map"], 20)


def test_a_reaction_with_the_carried_mark_is_the_share_pages(sam, link):
    mark = mark_in(framed_door(sam, link))
    body = {"text": "Nice map", "chip": "", "idempotency_key": "f" * 22, "mark": mark}
    assert post(sam, link.preview, "react", body).status_code == 200
    assert Reaction.objects.get().share == link


def test_without_any_mark_the_frame_records_nothing(sam, link):
    framed_door(sam, link)  # the page was handed out; this request doesn't carry its mark
    beacon = post(sam, link.preview, "activity", {"taps": 1, "paths": ["/"]})
    assert beacon.status_code == 403 and not InAppActivity.objects.exists()


def forged(mark: str) -> str:
    value, signature = mark.rsplit(":", 1)
    return f"{value}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize("kind", ["forged", "other preview", "stale", "junk"])
def test_a_bad_carried_mark_is_refused_everywhere(sam, link, session, owner, kind):
    other = Preview.hosting(session, write_build(owner, {"index.html": INDEX}), frameable=True)
    other_link = share_preview(other, link.recipient, "dm")
    good = mark_in(framed_door(sam, link))
    marks = {
        "forged": forged(good),
        "other preview": mark_in(framed_door(sam, other_link)),
        # signed for this preview and share, but past the expiry it carries
        "stale": carried_mark(
            link.preview.host, link.pk, False, timezone.now() - timedelta(seconds=1)
        ),
        "junk": "not a mark",
    }
    mark = marks[kind]

    assert me(sam, link.preview, mark).status_code == 204
    beacon = post(sam, link.preview, "activity", {"taps": 5, "paths": ["/"], "mark": mark})
    react = post(sam, link.preview, "react", {"text": "Hi there", "mark": mark})
    assert beacon.status_code == react.status_code == 403
    assert not InAppActivity.objects.exists() and not Reaction.objects.exists()


def test_a_carried_mark_ends_with_its_preview(sam, link, time_machine):
    mark = mark_in(framed_door(sam, link))
    time_machine.shift(3601)
    assert me(sam, link.preview, mark).status_code == 204
    beacon = post(sam, link.preview, "activity", {"taps": 1, "mark": mark})
    assert beacon.status_code in (403, 410) and not InAppActivity.objects.exists()


def test_the_builders_own_framed_view_does_not_count(owner_client, link):
    mark = mark_in(framed_door(owner_client, link))
    beacon = post(owner_client, link.preview, "activity", {"taps": 4, "mark": mark})
    assert beacon.status_code == 204 and not InAppActivity.objects.exists()
