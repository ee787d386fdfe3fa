"""The reaction inside a hosted preview in WebKit, the engine of every browser on an iPhone
(Safari's; tests/browser.py `webkit`; a 1024 x 768 window, see there), with WebKit's own default of
blocking third-party cookies: Sam opens the share link and taps Open, lands on the hosted
fixture app (client routing, localStorage, `default-src 'self'`, a `<base href>`), taps
through three screens and reacts from the injected button; the reaction and the taps arrive
as they do from Chromium (tests/test_hosted_widget_browser.py). And in framed mode, the taps
inside the share page's frame count (tests/test_hosted_framed_browser.py)."""

import pytest

from reactions.models import Channel, InAppActivity, Reaction, Recipient
from reactions.sharing import share_link, share_preview
from tests.browser import webkit
from tests.hosted import alex, hosted_widget_app, serve_previews

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEADLINE = 30  # seconds: generous, for a busy machine


def until(driver, check, what: str):
    """`check()`'s first truthy value, waited for by Selenium (WebDriverWait) up to DEADLINE;
    a TimeoutException naming `what` after it."""
    from selenium.webdriver.support.wait import WebDriverWait

    return WebDriverWait(driver, DEADLINE, poll_frequency=0.1).until(lambda _: check(), what)


def shared(live_server, settings, frameable: bool):
    """Alex's hosted fixture app, shared with Sam."""
    serve_previews(live_server, settings)
    builder = alex("a long enough passphrase")
    preview = hosted_widget_app(builder, frameable=frameable)
    sam = Recipient.objects.create(builder=builder, name="Sam")
    return share_preview(preview, sam, Channel.DM)


@pytest.fixture
def share(live_server, settings):
    return shared(live_server, settings, frameable=False)


@pytest.fixture
def framed(live_server, settings):
    return shared(live_server, settings, frameable=True)


def test_sam_reacts_from_inside_the_hosted_app_on_webkit(share):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with webkit() as sam:
        sam.get(share_link(share))
        before = set(sam.window_handles)
        sam.find_element(By.LINK_TEXT, "Open Crag finder").click()
        opened = until(sam, lambda: set(sam.window_handles) - before, "Open's new window")
        sam.switch_to.window(opened.pop())
        until(sam, lambda: sam.find_elements(By.CSS_SELECTOR, "body[data-ready='yes']"), "the app")
        assert sam.current_url == share.preview.url  # the door redirected to the app's path
        widget = until(
            sam, lambda: sam.find_elements(By.TAG_NAME, "outerloop-widget"), "the widget"
        )[0]
        until(sam, widget.is_displayed, "the widget's button shown")

        for screen in ("Crags", "Map", "Home"):
            sam.find_element(By.LINK_TEXT, screen).click()
            until(sam, lambda s=screen: sam.find_element(By.ID, "screen").text == s, screen)
        assert sam.execute_script("return localStorage.getItem('visits')") == "4"

        widget.click()  # "Tell Alex what you think", in a closed shadow root
        keys = ActionChains(sam)
        keys.send_keys("Works on the iPhone's engine too").send_keys(Keys.TAB)
        keys.send_keys(Keys.ENTER).perform()

        reaction = until(
            sam,
            lambda: Reaction.objects.filter(share=share).first(),
            "the reaction in the database",
        )
        assert reaction.text == "Works on the iPhone's engine too"
        assert not reaction.by_builder
        activity = until(
            sam,
            lambda: InAppActivity.objects.filter(share=share, taps__gte=3).first(),
            "the taps in the database",
        )
        assert activity.paths == ["/", "/crags", "/map"]
        assert [c["name"] for c in sam.get_cookies()] == ["ol_mark"]  # first-party, its own


def test_sams_taps_inside_the_share_pages_frame_count_on_webkit(framed):
    # The frame is a third party to the share page: WebKit gives it no cookie and no storage
    # of its own, so its mark comes from the page around it (postMessage, reactions/widget.py).
    from selenium.webdriver.common.by import By

    with webkit() as sam:
        sam.get(share_link(framed))
        sam.switch_to.frame(
            until(sam, lambda: sam.find_elements(By.TAG_NAME, "iframe"), "the frame")[0]
        )
        until(sam, lambda: sam.find_elements(By.CSS_SELECTOR, "body[data-ready='yes']"), "the app")
        for screen in ("Crags", "Map"):
            sam.find_element(By.LINK_TEXT, screen).click()
            until(sam, lambda s=screen: sam.find_element(By.ID, "screen").text == s, screen)

        activity = until(
            sam,
            lambda: InAppActivity.objects.filter(share=framed, taps__gte=2).first(),
            "the taps in the database",
        )
        assert activity.paths == ["/", "/crags", "/map"]
        assert not sam.find_elements(By.TAG_NAME, "outerloop-widget")  # the page has the form
