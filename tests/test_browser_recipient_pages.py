"""Every state of the recipient's pages at a phone's width (390 px) and a desktop's (1280 px):
nothing scrolls sideways, every button and link is at least 44 px each way, and axe-core
finds nothing. The states: the page, what they said after a reload, the thank-you card and
page, a failed send, an expired link before and after asking for a fresh one, a framed
preview, and the builder on their own link.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from reactions.sharing import find_or_add_recipient, share_preview
from sessions.models import BuildSession
from tests.browser import axe_violations, chromium, require_axe, too_wide
from tests.factories import PASSWORD, BuilderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREVIEW_URL = "https://crag-finder.example.dev/today"
BOX = "What do you think? In your own words."
DEADLINE_MS = 30_000
TARGET_PX = 44
# Buttons, links and the chips' labels (each chip's label is what a thumb taps) that are
# smaller than a thumb. A link inside a sentence is exempt (WCAG 2.5.8): none here.
SMALL_TARGETS = """(least) => [...document.querySelectorAll('a, button, .chips label')]
    .filter(el => el.offsetParent !== null)
    .map(el => [el.textContent.trim().slice(0, 40), el.getBoundingClientRect()])
    .filter(([, box]) => box.width < least || box.height < least)
    .map(([name, box]) => `${name} (${Math.round(box.width)}x${Math.round(box.height)})`)"""


def devices(playwright) -> dict[int, dict]:
    """An iPhone at 390 px and a desktop Chrome at 1280 (its own User-Agent: a headless
    browser's is a robot's, and robots' reactions are refused)."""
    return {
        390: {**playwright.devices["iPhone 13"], "bypass_csp": True},
        1280: {
            **playwright.devices["Desktop Chrome"],
            "viewport": {"width": 1280, "height": 900},
            "bypass_csp": True,  # our own CSP would (rightly) refuse axe's injected script
        },
    }


def problems_on(page, state: str, width: int) -> list[str]:
    """Sideways scroll, targets smaller than a thumb, then axe-core: one line each."""
    page.wait_for_load_state("networkidle")
    where = f"{state} at {width} px"
    found = too_wide(page, state, width)
    found += [f"{where}: {small}" for small in page.evaluate(SMALL_TARGETS, TARGET_PX)]
    found += [f"{where}: {violation}" for violation in axe_violations(page)]
    return found


@pytest.fixture
def alex(live_server, settings):
    settings.OUTERLOOP_BASE_URL = live_server.url
    builder = BuilderFactory(name="Alex", email="alex@example.com", time_zone="Europe/Berlin")
    return builder, BuildSession.objects.create(builder=builder, title="Crag finder")


def test_every_state_of_the_recipients_pages_fits_a_phone_and_a_desktop(alex, live_server):
    require_axe()  # before the browser starts: a missing axe-core says so at once
    builder, session = alex
    base = live_server.url
    problems: list[str] = []
    with chromium() as (playwright, browser):
        for width, device in devices(playwright).items():
            person = find_or_add_recipient(builder, f"Sam {width}")
            # Three URLs: a newer preview of the same one would renew the expired link.
            live = share_preview(session.add_preview(PREVIEW_URL), person, "dm")
            expired = share_preview(session.add_preview(PREVIEW_URL + "?v=1"), person, "dm")
            expired.preview.expires_at = timezone.now() - timedelta(minutes=5)
            expired.preview.save()
            framed_preview = session.add_preview(PREVIEW_URL + "?v=2", frameable=True)
            framed = share_preview(framed_preview, person, "dm")

            page = browser.new_context(**device).new_page()
            page.goto(f"{base}/r/{live.token}/")
            problems += problems_on(page, "page", width)
            page.get_by_label("Love it").check()
            page.get_by_label(BOX).press_sequentially("the map is clear")
            page.get_by_role("button", name="Send to Alex").click()
            page.get_by_role("heading", name="Thank you!").wait_for(timeout=DEADLINE_MS)
            problems += problems_on(page, "thank-you card", width)
            page.goto(f"{base}/r/{live.token}/")
            page.get_by_role("heading", name="You said").wait_for()
            problems += problems_on(page, "what they said", width)
            page.goto(f"{base}/r/{live.token}/thanks/")
            problems += problems_on(page, "thank-you page", width)

            page.goto(f"{base}/r/{live.token}/")
            page.route("**/react/", lambda route: route.fulfill(status=500, body="No"))
            page.get_by_label(BOX).fill("More to say")
            page.get_by_role("button", name="Send to Alex").click()
            page.get_by_role("alert").filter(has_text="error 500").wait_for(timeout=DEADLINE_MS)
            problems += problems_on(page, "failed send", width)

            page.goto(f"{base}/r/{expired.token}/")
            problems += problems_on(page, "expired", width)
            page.get_by_role("button", name="Ask for a fresh link").click()
            page.get_by_text("knows you'd like a fresh link").wait_for(timeout=DEADLINE_MS)
            problems += problems_on(page, "expired, fresh link asked", width)

            page.goto(f"{base}/r/{framed.token}/")
            problems += problems_on(page, "framed", width)
            page.context.close()

            own = browser.new_context(**device).new_page()
            own.goto(f"{base}/login/")
            own.get_by_label("Email").fill("alex@example.com")
            own.get_by_label("Password").fill(PASSWORD)
            own.eval_on_selector("form:has(#id_password)", "form => form.requestSubmit()")
            own.get_by_role("heading", name="Today's turn").wait_for()
            own.goto(f"{base}/r/{live.token}/")
            own.get_by_text(f"This is your link to Sam {width}.").wait_for()
            problems += problems_on(own, "the builder's own link", width)
            own.context.close()

    assert not problems, "\n".join(problems)
