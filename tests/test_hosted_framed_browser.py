"""Framed mode in a real Chromium at a phone's size that blocks every cookie: Sam opens the
share link of a frameable hosted preview, taps through two screens of the fixture app
(tests/fixtures/widget_app) inside the share page's frame, and Alex's share page, open all
along, shows the taps arrive. No cookie is set or needed (reactions/widget.py, "Framed mode")."""

from pathlib import Path

import pytest
from django.urls import reverse

from reactions.models import Channel, InAppActivity, Recipient
from reactions.sharing import share_link, share_preview
from sessions.models import BuildSession, Preview
from tests.browser import chromium, phone_blocking_cookies
from tests.hosted import alex, serve_previews, write_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
APP = Path(__file__).parent / "fixtures" / "widget_app"
DEADLINE = 20_000  # ms: generous, for a busy machine


@pytest.fixture
def world(live_server, settings):
    serve_previews(live_server, settings)
    builder = alex(PASSWORD)
    session = BuildSession.objects.create(builder=builder, title="Crag finder")
    files = {p.relative_to(APP).as_posix(): p.read_bytes() for p in APP.rglob("*") if p.is_file()}
    preview = Preview.hosting(session, write_build(builder, files), frameable=True)
    sam = Recipient.objects.create(builder=builder, name="Sam")
    share = share_preview(preview, sam, Channel.DM)
    with chromium() as (playwright, browser):
        yield {"base": live_server.url, "share": share, "pw": playwright, "browser": browser}


def is_beacon(request) -> bool:
    return request.url.endswith("/__outerloop/activity")


def test_sam_taps_inside_the_frame_with_cookies_blocked_and_alex_sees_the_taps(world):
    share = world["share"]
    alex = world["browser"].new_context(**world["pw"].devices["iPhone 13"]).new_page()
    alex.goto(f"{world['base']}/login/")
    alex.get_by_label("Email").fill("alex@example.com")
    alex.get_by_label("Password").fill(PASSWORD)
    alex.get_by_role("button", name="Log in").click()
    alex.get_by_role("heading", name="Today's turn").wait_for()
    alex.goto(world["base"] + reverse("reactions:share-detail", args=[share.pk]))

    with phone_blocking_cookies(world["pw"]) as phone:
        sam = phone.new_page()
        # The first beacon (the first screen, shortly after load) says the script is tracking.
        with sam.expect_request(is_beacon, timeout=DEADLINE):
            sam.goto(share_link(share))
        app = sam.frame_locator("iframe")
        app.get_by_role("heading", name="Home").wait_for(timeout=DEADLINE)
        assert sam.frames[1].url == share.preview.url  # the door replaced itself with the app

        for screen in ("Crags", "Map"):
            app.get_by_role("link", name=screen, exact=True).click()
            app.get_by_role("heading", name=screen).wait_for()

        alex.get_by_text("Sam tapped 2 times across 3 screens").wait_for(timeout=DEADLINE)
        # The share page around the frame has the reaction form: no button inside it.
        assert app.locator("outerloop-widget").count() == 0
        assert sam.get_by_role("button", name="Send to Alex").is_visible()
        assert phone.cookies() == []
    row = InAppActivity.objects.get(share=share)
    assert row.paths == ["/", "/crags", "/map"]
