"""Rename, merge and delete in a real Chromium, at a phone's width and a desktop's: every
page fits the screen, has no accessibility violation, and the delete button reads on one line.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from reactions.models import Recipient, Share
from reactions.sharing import find_or_add_recipient, share_preview
from sessions.models import BuildSession
from tests.browser import chromium, looked_at, too_wide
from tests.factories import PASSWORD, BuilderFactory, ReactionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": 390, "desktop": 1280}


@pytest.fixture
def alex(live_server, settings):
    """Alex sent "Crag finder" to Sam today (Sam reacted: a one-day streak), and the same
    thing, logged twice, to "Sam K." yesterday."""
    settings.OUTERLOOP_BASE_URL = live_server.url
    builder = BuilderFactory(
        name="Alex", email="alex@example.com", time_zone="Europe/Berlin", password=PASSWORD
    )
    crag = BuildSession.objects.create(builder=builder, title="Crag finder")
    twice = BuildSession.objects.create(builder=builder, title="crag-finder.example.dev")
    share = share_preview(
        crag.add_preview("https://crag-finder.example.dev/"),
        find_or_add_recipient(builder, "Sam"),
        "dm",
    )
    ReactionFactory(share=share, text="Found a crag in two taps!")
    earlier = share_preview(
        twice.add_preview("https://crag-finder.example.dev/"),
        find_or_add_recipient(builder, "Sam K.", note="climbing gym"),
        "text",
    )
    Share.objects.filter(pk=earlier.pk).update(
        sent_at=timezone.now() - timedelta(days=1), day=earlier.day - timedelta(days=1)
    )
    return {"base": live_server.url, "crag": crag, "twice": twice, "share": share}


def lines_of(button) -> int:
    """How many lines the button's label takes: one box per line of its text."""
    return button.evaluate(
        """(el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
        }"""
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_builder_renames_merges_and_deletes_on_a_phone_and_a_desktop(alex, viewport):
    width = VIEWPORTS[viewport]
    base, problems = alex["base"], []
    with chromium() as (playwright, browser):
        device = playwright.devices["iPhone 13"] if viewport == "phone" else {}
        size = {"viewport": {"width": width, "height": 800}}
        page = browser.new_context(**{**device, **size}, bypass_csp=True).new_page()
        page.goto(f"{base}/login/")
        page.get_by_label("Email").fill("alex@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Today's turn").wait_for()

        # The session logged twice: merged into the first.
        page.goto(f"{base}/sessions/{alex['twice'].pk}/")
        problems += looked_at(page, width)
        page.get_by_role("link", name="Merge into another").click()
        problems += looked_at(page, width)
        page.get_by_role("link", name="Crag finder").click()
        page.get_by_text("Your streak stays 1 day.").wait_for()
        problems += looked_at(page, width)
        page.get_by_role("button", name="Merge sessions").click()
        page.get_by_text("Merged “crag-finder.example.dev” into “Crag finder”.").wait_for()

        # Renamed.
        page.get_by_role("link", name="Rename").click()
        problems += looked_at(page, width)
        page.get_by_label("New name").fill("Crag finder, first screen")
        page.get_by_role("button", name="Rename").click()
        page.get_by_role("heading", name="Crag finder, first screen").wait_for()
        assert BuildSession.objects.get().title == "Crag finder, first screen"

        # Sam typed two ways: merged.
        page.goto(f"{base}/people/")
        problems += looked_at(page, width)
        page.get_by_role("link", name="Merge Sam K.").click()
        problems += looked_at(page, width)
        page.get_by_role("link", name="Sam same first name").click()
        page.get_by_text("Sam keeps their name and takes the note “climbing gym”").wait_for()
        problems += looked_at(page, width)
        page.get_by_role("button", name="Merge people").click()
        page.get_by_text("Sam K. is now part of Sam.").wait_for()
        assert list(Recipient.objects.values_list("name", "note")) == [("Sam", "climbing gym")]

        # Today's only turn: deleted, and the page said what it would cost.
        page.goto(f"{base}/shares/{alex['share'].pk}/")
        problems += looked_at(page, width)
        page.get_by_role("link", name="Delete this link").click()
        page.get_by_text(
            "Your streak goes from 1 to 0 days: Today loses its only turn and is open again."
        ).wait_for()
        problems += looked_at(page, width)
        delete = page.get_by_role("button", name="Delete link")
        assert lines_of(delete) == 1
        delete.click()
        page.get_by_text("Deleted the link for Sam.").wait_for()
        assert not Share.objects.filter(pk=alex["share"].pk).exists()

        # Sam, holding the link.
        sam = browser.new_context(**playwright.devices["iPhone 13"]).new_page()
        response = sam.goto(f"{base}/r/{alex['share'].token}/")
        assert response.status == 410
        sam.get_by_text("This link was removed by the person who sent it.").wait_for()
        problems += too_wide(sam, "removed link", 390)

    assert not problems, "\n".join(problems)


def test_deleting_works_without_javascript(alex):
    with chromium() as (playwright, browser):
        page = browser.new_context(
            **playwright.devices["iPhone 13"], java_script_enabled=False
        ).new_page()
        page.goto(f"{alex['base']}/login/")
        page.get_by_label("Email").fill("alex@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Today's turn").wait_for()

        page.goto(f"{alex['base']}/sessions/{alex['crag'].pk}/")
        page.get_by_role("link", name="Delete", exact=True).click()
        page.get_by_text("Your streak goes from 1 to 0 days").wait_for()
        page.get_by_role("button", name="Delete session").click()
        page.get_by_text("Deleted “Crag finder” and its 1 link.").wait_for()

    assert list(BuildSession.objects.values_list("title", flat=True)) == ["crag-finder.example.dev"]
