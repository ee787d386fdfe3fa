"""The reaction inside a hosted preview, framed (reactions/widget.py, "Framed mode"): the share
page's iframe loads the preview's URL and carries a signed mark (`data-mark`) that the page's
script posts to the widget script in the frame when it asks (that hand-over runs in a browser:
tests/test_hosted_framed_browser.py); the endpoints take that mark as they take the cookie."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from reactions.models import InAppActivity, Reaction
from reactions.sharing import share_preview
from reactions.widget import MARK_COOKIE, carried_mark
from sessions import widget
from sessions.models import Preview
from tests.hosted import write_build
from tests.test_hosted_widget import INDEX, fresh_injected_pages, host_of, origin_of, post  # noqa: F401

IFRAME = re.compile(r"<iframe\b[^>]*>")
SRC = re.compile(r'\ssrc="([^"]+)"')
DATA_MARK = re.compile(r'\sdata-mark="([^"]+)"')


@pytest.fixture
def framed(session, owner) -> Preview:
    return Preview.hosting(session, write_build(owner, {"index.html": INDEX}), frameable=True)


@pytest.fixture
def link(framed, recipient):
    return share_preview(framed, recipient, "dm")


def iframe(client, share) -> str:
    """The share page's iframe tag."""
    page = client.get(reverse("reactions:recipient-page", args=[share.token]))
    return IFRAME.search(page.content.decode()).group(0)


def frame_src(client, share) -> str:
    """What the share page's iframe loads."""
    return unescape(SRC.search(iframe(client, share)).group(1))


def mark_in(client, share) -> str:
    """The carried mark the share page hands its frame's widget script."""
    return unescape(DATA_MARK.search(iframe(client, share)).group(1))


def me(client, preview, mark):
    return client.get("/__outerloop/me", HTTP_HOST=host_of(preview), HTTP_X_OUTERLOOP_MARK=mark)


# The share page's frame.


def test_the_share_page_frames_the_preview_at_its_url_with_its_mark(sam, link):
    assert frame_src(sam, link) == link.preview.url
    assert me(sam, link.preview, mark_in(sam, link)).json()["builder"] == "Alex"


def test_a_url_preview_is_still_framed_as_it_is_without_a_mark(sam, session, recipient):
    preview = session.add_preview("https://crags.example.com/", frameable=True)
    share = share_preview(preview, recipient, "dm")
    assert frame_src(sam, share) == "https://crags.example.com/"
    assert "data-mark" not in iframe(sam, share)


def test_the_widget_keeps_the_mark_in_memory_only_and_asks_only_the_app(sam, link, settings):
    """No framed door, no frame.js: nothing writes the mark where a later page could read it
    (`window.name`, storage); the injected tag names the app's origin, the only parent the
    widget asks and the only sender it takes a mark from."""
    host = host_of(link.preview)
    assert sam.get("/__outerloop/frame.js", HTTP_HOST=host).status_code == 404
    script = sam.get("/__outerloop/widget.js", HTTP_HOST=host).getvalue()
    assert b"window.name" not in script and b"Storage" not in script
    assert b'"outerloop-mark?"' in script and b"event.origin !== app" in script
    app = settings.OUTERLOOP_BASE_URL.rstrip("/")
    assert f'data-app="{app}"'.encode() in widget.tag()
    page = sam.get("/", HTTP_HOST=host)
    assert f'data-app="{app}"'.encode() in page.getvalue()


def test_the_door_has_no_framed_variant(sam, link):
    sam.get(reverse("reactions:recipient-page", args=[link.token]))
    go = sam.get(reverse("reactions:recipient-go", args=[link.token]))
    assert "framed" not in go["Location"]
    entered = sam.get(go["Location"], HTTP_HOST=host_of(link.preview))
    assert entered.status_code == 302 and entered.cookies[MARK_COOKIE]["httponly"]


# The carried mark at the endpoints.


def test_activity_with_the_carried_mark_is_stored(sam, link):
    mark = mark_in(sam, link)
    assert me(sam, link.preview, mark).json()["builder"] == "Alex"

    in_body = {"taps": 2, "paths": ["/", "/crags"], "seconds": 20, "mark": mark}
    assert post(sam, link.preview, "activity", in_body).status_code == 204
    as_header = post(
        sam, link.preview, "activity", {"taps": 1, "paths": ["/map"]}, HTTP_X_OUTERLOOP_MARK=mark
    )
    assert as_header.status_code == 204

    row = InAppActivity.objects.get(share=link)
    assert (row.taps, row.paths, row.seconds) == (3, ["/", "/crags", "/map"], 20)


def test_a_reaction_with_the_carried_mark_is_the_share_pages(sam, link):
    mark = mark_in(sam, link)
    body = {"text": "Nice map", "chip": "", "idempotency_key": "f" * 22, "mark": mark}
    assert post(sam, link.preview, "react", body).status_code == 200
    assert Reaction.objects.get().share == link


def test_without_any_mark_the_frame_records_nothing(sam, link):
    mark_in(sam, link)  # the page was handed out; this request doesn't carry its mark
    beacon = post(sam, link.preview, "activity", {"taps": 1, "paths": ["/"]})
    assert beacon.status_code == 403 and not InAppActivity.objects.exists()


def forged(mark: str) -> str:
    value, signature = mark.rsplit(":", 1)
    return f"{value}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize("kind", ["forged", "other preview", "stale", "junk"])
def test_a_bad_carried_mark_is_refused_everywhere(sam, link, session, owner, kind):
    other = Preview.hosting(session, write_build(owner, {"index.html": INDEX}), frameable=True)
    other_link = share_preview(other, link.recipient, "dm")
    good = mark_in(sam, link)
    marks = {
        "forged": forged(good),
        "other preview": mark_in(sam, other_link),
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
    mark = mark_in(sam, link)
    time_machine.shift(3601)
    assert me(sam, link.preview, mark).status_code == 204
    beacon = post(sam, link.preview, "activity", {"taps": 1, "mark": mark})
    assert beacon.status_code in (403, 410) and not InAppActivity.objects.exists()


def test_the_builders_own_framed_view_does_not_count(owner_client, link):
    mark = mark_in(owner_client, link)
    beacon = post(owner_client, link.preview, "activity", {"taps": 4, "mark": mark})
    assert beacon.status_code == 204 and not InAppActivity.objects.exists()
