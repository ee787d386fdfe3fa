"""One session per project, in a real browser: a URL sent before (from the terminal, say)
joins its session from the dashboard, and the pages say so at a phone's width and a laptop's."""

import pytest

from reactions.models import Share
from sessions.models import BuildSession
from tests.browser import axe_violations, chromium, too_wide
from tests.factories import PASSWORD, BuilderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOINED = (
    "Added to your session “My app”, which already has this URL. A new title starts a new session."
)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_url_sent_before_joins_its_session_and_the_share_page_says_so(
    live_server, settings, width
):
    settings.OUTERLOOP_BASE_URL = live_server.url
    alex = BuilderFactory(name="Alex", email="alex@example.com", time_zone="Europe/Berlin")
    mine = BuildSession.objects.create(builder=alex, title="My app")
    mine.add_preview("https://myapp.vercel.app/")  # sent from the terminal earlier

    with chromium() as (_, browser):
        page = browser.new_context(
            viewport={"width": width, "height": 900}, bypass_csp=True
        ).new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Email").fill("alex@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Today's turn").wait_for()

        page.get_by_text("A title you've used goes to that session").wait_for()
        assert page.get_by_label("What is it? (optional)").input_value() == ""
        problems = too_wide(page, page.url, width) + axe_violations(page)
        assert not problems, "\n".join(problems)
        page.get_by_label("Preview URL").fill("myapp.vercel.app")
        page.get_by_label("Send it to").fill("Sam")
        page.get_by_role("button", name="Get the link").click()
        page.get_by_role("heading", name="Send it to Sam").wait_for()

        assert page.get_by_role("status").filter(has_text=JOINED).is_visible()
        problems = too_wide(page, page.url, width) + axe_violations(page)
        assert not problems, "\n".join(problems)

    assert BuildSession.objects.get() == mine
    assert Share.objects.get().preview.session == mine
