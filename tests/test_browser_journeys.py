"""Both journeys, whole, in a real Chromium at a phone's width (390 px) and a laptop's (1280 px).

Alex signs up, confirms the address, takes a turn and keeps the dashboard open; Sam, on an
iPhone whose browser blocks every cookie, opens the link, taps Open and reacts; Alex watches
every card change without a reload, renews the link once its hour is over (Sam's old link
takes Sam to the new one), then merges "Sam K." into Sam, renames Sam and the session. Every
builder page on the way must fit the screen and pass axe-core.

`make screenshots` runs this file with OUTERLOOP_SCREENSHOTS=docs/screenshots: the README's
pictures are these pages. The instance is configured as a deployed one is (a public
OUTERLOOP_BASE_URL), so the pages show what a builder sees, not the local-run notice; Sam's
browser opens each link's path on the test server.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from common.builders import Builder
from reactions.models import Reaction, Recipient, Share
from sessions.models import BuildSession, Preview
from tests.browser import ROOT, chromium, looked_at, phone_blocking_cookies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("OUTERLOOP_SCREENSHOTS", ROOT / "var" / "screenshots"))
PUBLIC_BASE = "https://outerloop.example.com"
PASSWORD = "a long enough passphrase"
PREVIEW_URL = "https://crag-finder.example.dev/"
WORDS = "Found a crag in two taps! The grade filter is what I need."
SIZES = {"phone": 390, "desktop": 1280}
# A ceiling against hanging, far above what a busy machine needs; never a pace.
LIVE_MS = 60_000
# The README's pictures: the pages drawn at the size the README shows them.
PICTURES = {
    "signup-phone",
    "share-phone",
    "recipient-phone",
    "dashboard-phone",
    "dashboard-desktop",
    "merge-phone",
    "habit-desktop",
}


@pytest.fixture
def world(live_server, settings, mailoutbox):
    settings.OUTERLOOP_BASE_URL = PUBLIC_BASE
    with chromium() as (playwright, browser):
        yield {"base": live_server.url, "pw": playwright, "browser": browser, "mail": mailoutbox}


def builders_browser(world, size: str):
    """Alex's browser: an iPhone 13 (390 px) or a 1280 px laptop. CSP bypassed for axe only."""
    if size == "phone":
        options = world["pw"].devices["iPhone 13"]
    else:
        options = {"viewport": {"width": 1280, "height": 900}}
    return world["browser"].new_context(
        **options, bypass_csp=True, locale="en-GB", timezone_id="Europe/Berlin"
    )


def on_this_server(world, link: str) -> str:
    """A link as the app printed it (the public origin), opened on the test server."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_BASE, link
    return world["base"] + parts.path


def picture(page, name: str, size: str) -> None:
    """Save the whole page as `<name>-<size>.png` if the README shows it (`PICTURES`)."""
    if f"{name}-{size}" in PICTURES:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", full_page=True)


@pytest.mark.parametrize("size", list(SIZES))
def test_both_journeys_from_sign_up_to_a_merged_renamed_history(world, size):
    from playwright.sync_api import expect

    width, base = SIZES[size], world["base"]
    problems: list[str] = []
    alex = builders_browser(world, size).new_page()

    # Alex signs up: the cursor waits in the first field.
    alex.goto(f"{base}/signup/")
    expect(alex.get_by_label("Your first name")).to_be_focused()
    problems += looked_at(alex, width)
    picture(alex, "signup", size)
    alex.get_by_label("Your first name").fill("Alex")
    alex.get_by_label("Email").fill("alex@example.com")
    alex.get_by_label("Password", exact=True).fill(PASSWORD)
    alex.get_by_label("Password confirmation").fill(PASSWORD)
    alex.get_by_role("button", name="Create account").click()
    alex.get_by_role("heading", name="Check your email").wait_for()
    problems += looked_at(alex, width)
    [confirmation] = world["mail"]
    alex.goto(on_this_server(world, re.search(r"http\S+/email/confirm/\S+/", confirmation.body)[0]))
    problems += looked_at(alex, width)
    alex.get_by_role("button", name="Yes, confirm alex@example.com").click()
    alex.get_by_role("heading", name="Confirmed").wait_for()
    alex.get_by_role("link", name="Go to today's turn").click()

    # A turn: the preview's URL, a title, one person.
    alex.get_by_role("heading", name="Today's turn").wait_for()
    expect(alex.locator("#today-status")).to_have_text("Nothing sent yet")
    problems += looked_at(alex, width)
    alex.get_by_label("Preview URL").fill(PREVIEW_URL)
    alex.get_by_label("What is it? (optional)").fill("Crag finder")
    alex.get_by_label("Send it to").fill("Sam — climbing gym")
    alex.get_by_role("button", name="Get the link").click()
    alex.get_by_role("heading", name="Send it to Sam").wait_for()
    problems += looked_at(alex, width)
    picture(alex, "share", size)
    first_link = alex.get_by_label("Link for Sam").input_value()

    # The dashboard stays open while Sam, whose browser keeps no cookie, reacts.
    alex.goto(f"{base}/")
    alex.evaluate("window.__loadedOnce = true")
    expect(alex.locator("#today-status")).to_have_text("Sent, waiting for a reaction")
    expect(alex.locator("#current-streak")).to_have_text("0")
    with phone_blocking_cookies(world["pw"]) as sams_phone:
        sam = sams_phone.new_page()
        sam.goto(on_this_server(world, first_link))
        with sam.expect_popup() as popup:
            sam.get_by_role("link", name="Open Crag finder").click()
        popup.value.close()
        sam.get_by_label("What do you think? In your own words.").fill(WORDS)
        picture(sam, "recipient", size)
        sam.get_by_role("button", name="Send to Alex").click()
        sam.get_by_role("heading", name="Thank you!").wait_for()
        assert sams_phone.cookies() == []

        expect(alex.locator("#today-status")).to_have_text(
            "Closed: someone reacted", timeout=LIVE_MS
        )
        expect(alex.locator("#current-streak")).to_have_text("1", timeout=LIVE_MS)
        expect(alex.locator("#best-streak")).to_have_text("1", timeout=LIVE_MS)
        expect(alex.locator("#streak-card .calendar .day.is-today")).to_have_class(
            "day closed is-today", timeout=LIVE_MS
        )
        expect(alex.locator("#reactions-card .quote")).to_have_text([f"“{WORDS}”"], timeout=LIVE_MS)
        expect(alex.locator("#people-card")).to_contain_text("✓ reacted", timeout=LIVE_MS)
        assert alex.evaluate("window.__loadedOnce === true"), "the dashboard was reloaded"
        problems += looked_at(alex, width)
        picture(alex, "dashboard", size)

        # The link's hour ends; Alex renews it, and Sam's old link takes Sam to the new one.
        first = Share.objects.get()
        Preview.objects.filter(pk=first.preview_id).update(expires_at=timezone.now())
        alex.goto(f"{base}/shares/{first.pk}/")
        expect(alex.locator("#link-card")).to_contain_text("This link's preview expired")
        problems += looked_at(alex, width)
        alex.get_by_role("button", name="Renew and send again").first.click()
        alex.get_by_text("The link they have now forwards to it").wait_for()
        problems += looked_at(alex, width)
        renewed = Share.objects.exclude(pk=first.pk).get()
        sam.goto(on_this_server(world, first_link))
        expect(sam).to_have_url(f"{base}/r/{renewed.token}/")
        sam.get_by_role("link", name="Open Crag finder").wait_for()

    # Sam typed another way, then merged and renamed; the session renamed.
    alex.goto(f"{base}/")
    alex.get_by_label("Preview URL").fill(PREVIEW_URL)
    alex.get_by_label("Send it to").fill("Sam K.")
    alex.get_by_role("button", name="Get the link").click()
    alex.get_by_role("heading", name="Send it to Sam K.").wait_for()
    alex.goto(f"{base}/people/")
    problems += looked_at(alex, width)
    alex.get_by_role("link", name="Merge Sam K.").click()
    problems += looked_at(alex, width)
    alex.get_by_role("link", name="Sam · climbing gym same first name").click()
    alex.get_by_text("Your streak stays 1 day").first.wait_for()
    problems += looked_at(alex, width)
    picture(alex, "merge", size)
    alex.get_by_role("button", name="Merge people").click()
    alex.get_by_text("Sam K. is now part of Sam.").wait_for()
    alex.get_by_role("link", name="Rename Sam").click()
    problems += looked_at(alex, width)
    alex.get_by_label("Name", exact=True).fill("Sam Rivera")
    alex.get_by_role("button", name="Rename").click()
    alex.get_by_text("Renamed Sam to Sam Rivera.").wait_for()

    alex.get_by_role("link", name="Sessions").first.click()
    problems += looked_at(alex, width)
    alex.get_by_role("link", name="Crag finder").first.click()
    problems += looked_at(alex, width)
    alex.get_by_role("link", name="Rename").click()
    alex.get_by_label("New name").fill("Crag finder, first screen")
    alex.get_by_role("button", name="Rename").click()
    alex.get_by_role("heading", name="Crag finder, first screen").wait_for()
    problems += looked_at(alex, width)

    alex.goto(f"{base}/habit/")
    problems += looked_at(alex, width)
    picture(alex, "habit", size)

    assert problems == []
    builder = Builder.objects.get()
    assert builder.email_confirmed_at is not None
    assert list(BuildSession.objects.values_list("title", flat=True)) == [
        "Crag finder, first screen"
    ]
    assert list(Recipient.objects.values_list("name", "note")) == [("Sam Rivera", "climbing gym")]
    assert Share.objects.filter(recipient__name="Sam Rivera").count() == 3
    [reaction] = Reaction.objects.all()
    assert (reaction.text, reaction.counts, reaction.device_class) == (WORDS, True, "phone")
