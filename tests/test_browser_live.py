"""The builder's pages update live, whole, in a real Chromium at 1280 px and at 390 px.

Alex keeps the dashboard (or the link's page) open and types nothing but a name; Sam, on an
iPhone in a second browser context, opens the link, taps Open and reacts through the real
recipient page. Every card must change without a reload, while Alex's typing is untouched.
Each wait is for the change itself, with a deadline far above what a busy machine needs.
"""

import re

import pytest
from django.utils import timezone

from reactions.models import Visit, VisitKind
from reactions.sharing import find_or_add_recipient, share_preview
from sessions.models import BuildSession, Preview
from tests.browser import axe_violations, chromium, too_wide
from tests.factories import BuilderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
PREVIEW_URL = "https://crag-finder.example.dev/today"
# The pages poll every 2 s while a link is live: a ceiling against hanging, not a pace.
LIVE_MS = 60_000
SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"device": "iPhone 13"},
}
WORDS = "Found a crag in two taps!"


@pytest.fixture
def world(live_server, settings):
    settings.OUTERLOOP_BASE_URL = live_server.url
    builder = BuilderFactory(
        name="Alex",
        email="alex@example.com",
        time_zone="Europe/Berlin",
        email_confirmed_at=timezone.now(),
    )
    builder.set_password(PASSWORD)
    builder.save()
    session = BuildSession.objects.create(builder=builder, title="Crag finder")
    share = share_preview(
        session.add_preview(PREVIEW_URL), find_or_add_recipient(builder, "Sam"), "dm"
    )
    with chromium() as (playwright, browser):
        yield {"base": live_server.url, "share": share, "pw": playwright, "browser": browser}


def alex(world, size: str):
    """Alex's browser at that size, logged in. CSP bypassed only so axe can be injected."""
    options = SIZES[size]
    if "device" in options:
        options = world["pw"].devices[options["device"]]
    page = world["browser"].new_context(**options, bypass_csp=True).new_page()
    page.goto(f"{world['base']}/login/")
    page.get_by_label("Email").fill("alex@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Today's turn").wait_for()
    return page


def sams_phone(world):
    return world["browser"].new_context(**world["pw"].devices["iPhone 13"]).new_page()


def link(world) -> str:
    return f"{world['base']}/r/{world['share'].token}/"


def mark_as_loaded_once(page) -> None:
    """A flag that only a reload would clear."""
    page.evaluate("window.__loadedOnce = true")


def assert_never_reloaded(page) -> None:
    assert page.evaluate("window.__loadedOnce === true"), "the page was reloaded"


def assert_fits_and_passes_axe(page) -> None:
    """Nothing scrolls sideways at the page's own width, and axe-core finds nothing."""
    problems = too_wide(page, page.url, page.viewport_size["width"]) + axe_violations(page)
    assert not problems, "\n".join(problems)


def steps_done(card, name: str):
    """The done steps of the row that names `name` in a card."""
    return card.locator("li", has=card.page.locator(f"strong:has-text('{name}')")).locator(
        "ol.steps li.done"
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_every_dashboard_card_changes_as_sam_acts_without_a_reload(world, size):
    from playwright.sync_api import expect

    page = alex(world, size)
    mark_as_loaded_once(page)
    today, people = page.locator("#today-live"), page.locator("#people-card")
    today_cell = page.locator("#streak-card .calendar .day.is-today")
    expect(page.locator("#today-status")).to_have_text("Sent, waiting for a reaction")
    expect(page.locator("#current-streak")).to_have_text("0")
    expect(page.locator("#best-streak")).to_have_text("0")
    expect(page.locator("#habit-score")).to_have_text("0%")
    expect(today_cell).to_have_class("day today is-today")
    expect(page.locator("#reactions-card")).to_contain_text("No reactions yet.")
    expect(steps_done(people, "Sam")).to_have_text(["✓ sent"])
    # While nothing happens the page's poll is answered 304, and the page stays as it is.
    with page.expect_response(
        lambda r: r.url == f"{world['base']}/" and r.status == 304, timeout=LIVE_MS
    ):
        pass
    # Alex starts the next turn; nothing that follows may touch the field.
    name = page.get_by_label("Send it to")
    name.click()
    name.press_sequentially("Jo — clim")

    sam = sams_phone(world)
    sam.goto(link(world))
    expect(today.locator("ol.steps li.done")).to_have_text(
        ["✓ sent", "✓ opened on a phone"], timeout=LIVE_MS
    )
    expect(steps_done(people, "Sam")).to_have_text(["✓ sent", "✓ opened"], timeout=LIVE_MS)

    with sam.expect_popup() as popup:
        sam.get_by_role("link", name="Open Crag finder").click()
    popup.value.close()
    expect(steps_done(people, "Sam")).to_have_text(
        ["✓ sent", "✓ opened", "✓ tapped"], timeout=LIVE_MS
    )

    sam.get_by_label("What do you think? In your own words.").fill(WORDS)
    sam.get_by_role("button", name="Send to Alex").click()
    sam.get_by_role("heading", name="Thank you!").wait_for()
    expect(page.locator("#today-status")).to_have_text("Closed: someone reacted", timeout=LIVE_MS)
    expect(page.locator("#current-streak")).to_have_text("1", timeout=LIVE_MS)
    expect(page.locator("#best-streak")).to_have_text("1", timeout=LIVE_MS)
    expect(page.locator("#habit-score")).to_have_text("5%", timeout=LIVE_MS)
    expect(today_cell).to_have_class("day closed is-today", timeout=LIVE_MS)
    expect(page.locator("#reactions-card .quote")).to_have_text([f"“{WORDS}”"], timeout=LIVE_MS)
    expect(steps_done(people, "Sam")).to_have_text(
        ["✓ sent", "✓ opened", "✓ tapped", "✓ reacted"], timeout=LIVE_MS
    )
    expect(today.locator("ol.steps li.done")).to_have_count(4)

    expect(name).to_be_focused()
    expect(name).to_have_value("Jo — clim")
    assert_never_reloaded(page)
    assert_fits_and_passes_axe(page)
    kinds = list(Visit.objects.filter(by_builder=False).values_list("kind", flat=True))
    assert kinds == [VisitKind.OPEN, VisitKind.TAP]


@pytest.mark.parametrize("size", list(SIZES))
def test_the_link_page_shows_events_expiry_and_a_fresh_link_request_without_a_reload(world, size):
    from playwright.sync_api import expect

    page = alex(world, size)
    page.goto(f"{world['base']}/shares/{world['share'].pk}/")
    mark_as_loaded_once(page)
    activity = page.locator("#activity")
    expect(activity).to_contain_text("Nothing yet.")
    expect(page.get_by_label("Link for Sam")).to_have_value(link(world))

    sam = sams_phone(world)
    sam.goto(link(world))
    expect(activity).to_contain_text("Opened on a phone", timeout=LIVE_MS)
    with sam.expect_popup() as popup:
        sam.get_by_role("link", name="Open Crag finder").click()
    popup.value.close()
    expect(activity).to_contain_text("Tapped Open on a phone", timeout=LIVE_MS)
    sam.get_by_label("What do you think? In your own words.").fill(WORDS)
    sam.get_by_role("button", name="Send to Alex").click()
    sam.get_by_role("heading", name="Thank you!").wait_for()
    expect(activity.locator(".quote")).to_have_text([f"“{WORDS}”"], timeout=LIVE_MS)
    expect(activity).to_contain_text("Reacted on a phone")

    # The preview's hour ends while the page is open: the link box turns into Renew.
    # (Saved, as every writer saves a preview: the open page's poll is answered from the cache
    # until a writer replaces its versions or the old expiry passes, reactions/live.py.)
    preview = Preview.objects.get(pk=world["share"].preview_id)
    preview.expires_at = timezone.now()
    preview.save(update_fields=["expires_at"])
    link_card = page.locator("#link-card")
    expect(link_card).to_contain_text("This link's preview expired", timeout=LIVE_MS)
    expect(page.get_by_label("Link for Sam")).to_have_count(0)
    expect(link_card.locator("svg")).to_have_count(0)

    # Sam comes back to the dead link and asks for a fresh one.
    sam.goto(link(world))
    sam.get_by_role("button", name="Ask for a fresh link").click()
    sam.get_by_text("Alex knows you'd like a fresh link.").wait_for()
    notice = page.locator("#fresh-link-notice")
    expect(notice).to_contain_text(
        re.compile(r"Sam asked for a fresh link\s+just now"), timeout=LIVE_MS
    )
    expect(notice.get_by_role("button", name="Renew and send again")).to_be_visible()
    expect(link_card.get_by_role("button", name="Renew and send again")).to_have_count(0)
    assert_never_reloaded(page)
    assert_fits_and_passes_axe(page)
