"""The reaction inside a hosted preview, in a real Chromium at a phone's size: Sam opens the
share link and taps Open, lands on the hosted fixture app (tests/fixtures/widget_app: client
routing with pushState, localStorage, its own `default-src 'self'` policy and a `<base href>`),
taps through three screens, and reacts from the injected button; Alex's share page, open all
along, shows the taps, the screens and the reaction arrive without a reload."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from reactions.models import Channel, InAppActivity, Recipient
from reactions.sharing import share_link, share_preview
from tests.browser import ROOT, chromium
from tests.hosted import alex, hosted_widget_app, log_in, serve_previews

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
DEADLINE = 20_000  # ms: generous, for a busy machine
# `make screenshots` saves the README's pictures of this journey in docs/screenshots.
SCREENSHOTS = Path(os.environ.get("OUTERLOOP_SCREENSHOTS", ROOT / "var" / "screenshots"))


@pytest.fixture
def world(live_server, settings):
    serve_previews(live_server, settings)
    builder = alex(PASSWORD)
    preview = hosted_widget_app(builder)
    sam = Recipient.objects.create(builder=builder, name="Sam")
    share = share_preview(preview, sam, Channel.DM)
    with chromium() as (playwright, browser):
        yield {"base": live_server.url, "share": share, "pw": playwright, "browser": browser}


def test_sam_taps_through_the_hosted_app_and_reacts_inside_it_alex_sees_it_live(world):
    share = world["share"]
    alex = world["browser"].new_context(**world["pw"].devices["iPhone 13"]).new_page()
    log_in(alex, world["base"], PASSWORD)
    alex.goto(world["base"] + reverse("reactions:share-detail", args=[share.pk]))

    # Sam's phone, which keeps no third-party cookies (none are needed).
    phone = world["browser"].new_context(**world["pw"].devices["iPhone 13"])
    sam = phone.new_page()
    sam.goto(share_link(share))
    with sam.expect_popup() as opened:
        sam.get_by_role("link", name="Open Crag finder").click()
    app = opened.value
    # A selector, not wait_for_function: that polls through eval(), which the app's own CSP
    # (default-src 'self') refuses whenever the page isn't ready at the first look.
    app.locator("body[data-ready='yes']").wait_for(state="attached", timeout=DEADLINE)
    assert app.url == share.preview.url  # the door redirected to the app's own path
    app.locator("outerloop-widget").wait_for(state="visible", timeout=DEADLINE)

    for screen in ("Crags", "Map", "Home"):
        app.get_by_role("link", name=screen, exact=True).click()
        app.get_by_role("heading", name=screen).wait_for()
    assert app.evaluate("localStorage.getItem('visits')") == "4"  # the app's own storage works

    app.locator("outerloop-widget").click()  # "Tell Alex what you think", in a closed shadow
    app.keyboard.type("The map screen is the one I'd use")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.screenshot(path=SCREENSHOTS / "hosted-widget-phone.png")
    app.keyboard.press("Tab")  # to Send
    app.keyboard.press("Enter")

    alex.get_by_text("The map screen is the one I'd use").wait_for(timeout=DEADLINE)
    alex.get_by_text("Sam tapped 3 times across 3 screens").wait_for(timeout=DEADLINE)
    alex.screenshot(path=SCREENSHOTS / "share-activity-phone.png", full_page=True)
    row = InAppActivity.objects.get(share=share)
    assert row.paths == ["/", "/crags", "/map"]  # the tap on the button itself isn't the app's
    assert phone.cookies(share.preview.url)[0]["httpOnly"]
    phone.close()
