"""Framed mode in a real Chromium at a phone's size that blocks every cookie: Sam opens the
share link of a frameable hosted preview, taps through two screens of the fixture app
(tests/fixtures/widget_app) inside the share page's frame, and Alex's share page, open all
along, shows the taps arrive. No cookie is set or needed (reactions/widget.py, "Framed mode")."""

import pytest
from django.urls import reverse

from reactions.models import Channel, InAppActivity, Recipient
from reactions.sharing import share_link, share_preview
from tests.browser import chromium, phone_blocking_cookies
from tests.hosted import alex, hosted_widget_app, log_in, serve_previews

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
DEADLINE = 20_000  # ms: generous, for a busy machine


@pytest.fixture
def world(live_server, settings):
    serve_previews(live_server, settings)
    builder = alex(PASSWORD)
    preview = hosted_widget_app(builder, frameable=True)
    sam = Recipient.objects.create(builder=builder, name="Sam")
    share = share_preview(preview, sam, Channel.DM)
    with chromium() as (playwright, browser):
        yield {"base": live_server.url, "share": share, "pw": playwright, "browser": browser}


# Run in the frame: collect in `__got` every mark this frame, or a window inside it (`inner`, of
# the same origin), is sent, and count in `__ends` the end-of-answers marks sent to either.
LISTEN = """() => {
  window.__got = [];
  window.__ends = 0;
  const inner = document.body.appendChild(document.createElement("iframe"));
  const listen = e => {
    if (e.data && e.data.type === "outerloop-mark") __got.push(e.data.mark);
    if (e.data && e.data.type === "end-of-answers") __ends += 1;
  };
  window.addEventListener("message", listen);
  inner.contentWindow.addEventListener("message", listen);
}"""
# Run in the share page: count the asks it receives. Its own handler (static/js/app.js) was
# added at load, before this one, so it has posted any answer by the time an ask is counted.
COUNT_ASKS = """() => {
  window.__asks = 0;
  window.addEventListener("message", e => {
    if (e.data && e.data.type === "outerloop-mark?") __asks += 1;
  });
}"""
# Wait, in a page, until its `window[name]` reaches `least` (no eval: both pages' CSPs refuse
# it). The timer is a ceiling against hanging, never a pace.
UNTIL = """([name, least, ceilingMs]) => new Promise((resolve, reject) => {
  const ceiling = setTimeout(() => reject(new Error(`${name} never reached ${least}`)), ceilingMs);
  const poll = setInterval(() => {
    if (window[name] < least) return;
    clearInterval(poll);
    clearTimeout(ceiling);
    resolve();
  }, 20);
})"""
# Run in the share page: an end-of-answers mark to the frame and to the window inside it, posted
# after any answer, so it arrives after it.
END = """() => {
  const frame = document.querySelector("iframe").contentWindow;
  for (const target of [frame, frame.frames[0]]) target.postMessage({type: "end-of-answers"}, "*");
}"""
ASK = "parent.postMessage({type: 'outerloop-mark?'}, '*')"


def marks_after(share_page, frame, asker, script=ASK) -> list[str]:
    """The marks the frame's windows were sent for `asker` running `script`: once the share
    page has had the ask (and so answered it, if it does), it sends an end-of-answers mark to
    both windows, and what they got before it is the answer."""
    frame.evaluate("window.__got = []; window.__ends = 0")
    asks = share_page.evaluate("window.__asks")
    asker.evaluate(script)
    share_page.evaluate(UNTIL, ["__asks", asks + 1, DEADLINE])
    share_page.evaluate(END)
    frame.evaluate(UNTIL, ["__ends", 2, DEADLINE])
    return frame.evaluate("window.__got")


def is_me(request) -> bool:
    return request.url.endswith("/__outerloop/me")


def is_beacon(request) -> bool:
    return request.url.endswith("/__outerloop/activity")


def test_sam_taps_inside_the_frame_with_cookies_blocked_and_alex_sees_the_taps(world):
    share = world["share"]
    alex = world["browser"].new_context(**world["pw"].devices["iPhone 13"]).new_page()
    log_in(alex, world["base"], PASSWORD)
    alex.goto(world["base"] + reverse("reactions:share-detail", args=[share.pk]))

    with phone_blocking_cookies(world["pw"]) as phone:
        sam = phone.new_page()
        # The first beacon (the first screen, shortly after load) says the script is tracking.
        with sam.expect_request(is_beacon, timeout=DEADLINE):
            sam.goto(share_link(share))
        app = sam.frame_locator("iframe")
        app.get_by_role("heading", name="Home").wait_for(timeout=DEADLINE)
        assert sam.frames[1].url == share.preview.url  # the preview itself, no door between

        for screen in ("Crags", "Map"):
            app.get_by_role("link", name=screen, exact=True).click()
            app.get_by_role("heading", name=screen).wait_for()

        alex.get_by_text("Sam tapped 2 times across 3 screens").wait_for(timeout=DEADLINE)
        # The share page around the frame has the reaction form: no button inside it.
        assert app.locator("outerloop-widget").count() == 0
        assert sam.get_by_role("button", name="Send to Alex").is_visible()
        assert phone.cookies() == []

        # A full navigation in the frame: the widget asks the share page again and still counts.
        frame = sam.frames[1]
        mark = sam.locator("iframe").get_attribute("data-mark")
        counted = sam.expect_response(
            lambda r: is_beacon(r.request) and r.status == 204, timeout=DEADLINE
        )
        with counted, sam.expect_request(is_me, timeout=DEADLINE) as asked:
            frame.evaluate("location.reload()")
        assert mark and asked.value.headers["x-outerloop-mark"] == mark
        # Nothing keeps the mark where a later page in the frame could read it.
        name = frame.evaluate("window.name")
        assert mark not in name and "outerloop" not in name
        # The share page answers the frame's own window at the preview's origin, and no one else:
        # not another window of the preview's origin (a frame inside the frame), nor itself.
        frame.evaluate(LISTEN)
        sam.evaluate(COUNT_ASKS)
        assert marks_after(sam, frame, frame) == [mark]
        inner = frame.child_frames[0]
        assert marks_after(sam, frame, inner, "parent." + ASK) == []
        assert marks_after(sam, frame, sam, ASK.removeprefix("parent.")) == []
    row = InAppActivity.objects.get(share=share)
    assert row.paths == ["/", "/crags", "/map"]
