"""The whole loop in a real Chromium at phone size: builder and recipient side by side."""

import re

import pytest

from reactions.models import Reaction, Visit, VisitKind
from tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREVIEW_URL = "https://habit-demo.example.com/today"


@pytest.fixture
def browser_pair(live_server, settings):
    settings.OUTERLOOP_BASE_URL = live_server.url
    with chromium() as (playwright, browser):
        builder = browser.new_context(**playwright.devices["Pixel 7"])
        sam = browser.new_context(**playwright.devices["iPhone 13"])
        yield live_server.url, builder.new_page(), sam.new_page()
        builder.close()
        sam.close()


def test_whole_loop_from_signup_to_a_streak_of_one(browser_pair, mailoutbox):
    base, builder, sam = browser_pair

    # The builder signs up; the browser supplies the time zone.
    builder.goto(f"{base}/signup/")
    builder.get_by_label("Your first name").fill("Alex")
    builder.get_by_label("Email").fill("alex@example.com")
    builder.get_by_label("Password", exact=True).fill("a long enough passphrase")
    builder.get_by_label("Password confirmation").fill("a long enough passphrase")
    builder.get_by_role("button", name="Create account").click()
    builder.get_by_role("heading", name="Check your email").wait_for()
    builder.get_by_role("link", name="Take your first turn").click()
    builder.get_by_role("heading", name="Today's turn").wait_for()
    assert "Nothing sent yet" in builder.inner_text("#today-status")
    assert "Confirm your email." in builder.inner_text("main")

    # The confirmation email's link, opened in the same browser: one more tap confirms.
    [confirmation] = mailoutbox
    link = re.search(r"http\S+/email/confirm/\S+/", confirmation.body)[0]
    builder.goto(link)
    builder.get_by_role("button", name="Yes, confirm alex@example.com").click()
    builder.get_by_role("heading", name="Confirmed").wait_for()
    builder.get_by_role("link", name="Go to today's turn").click()
    assert "Confirm your email." not in builder.inner_text("main")

    # Log a session, add its preview, share it to Sam.
    builder.get_by_role("link", name="Sessions").click()
    builder.get_by_label("Title").fill("Habit tracker, first screen")
    builder.get_by_role("button", name="Log it").click()
    builder.get_by_label("Preview URL").fill(PREVIEW_URL)
    builder.get_by_role("button", name="Add preview").click()
    builder.get_by_label("Send it to").fill("Sam")
    builder.get_by_role("button", name="Get a link for this person").click()
    builder.get_by_role("heading", name="Send it to Sam").wait_for()
    link = builder.get_by_label("Link for Sam").input_value()
    assert link.startswith(f"{base}/r/")
    assert builder.locator("svg.qr").count() == 1

    # Sam opens the link on a phone, taps Open, and reacts in their own words.
    sam.goto(link)
    sam.get_by_text("Alex built something and would like your reaction.").wait_for()
    assert PREVIEW_URL not in sam.content()
    with sam.expect_popup() as popup:
        sam.get_by_role("link", name="Open Habit tracker, first screen").click()
    popup.value.close()
    sam.get_by_label("What do you think? In your own words.").fill(
        "The streak made me want to come back tomorrow."
    )
    sam.get_by_text("I'd use this").click()
    sam.get_by_role("button", name="Send to Alex").click()
    sam.get_by_role("heading", name="Thank you!").wait_for()

    # Back on the dashboard: the reaction, a closed day and a streak of one.
    builder.get_by_role("link", name="Today", exact=True).click()
    assert "Closed" in builder.inner_text("#today-status")
    assert builder.inner_text("#current-streak") == "1"
    assert "The streak made me want to come back tomorrow." in builder.content()

    reaction = Reaction.objects.get()
    assert (reaction.chip, reaction.device_class, reaction.by_builder) == (
        "would_use",
        "phone",
        False,
    )
    kinds = list(Visit.objects.filter(by_builder=False).values_list("kind", flat=True))
    assert kinds == [VisitKind.OPEN, VisitKind.TAP]
