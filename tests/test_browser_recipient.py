"""The recipient's ten seconds in a real Chromium at phone size, and the builder watching live."""

import http.server
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from reactions.models import Reaction, Share, Visit, VisitKind
from reactions.sharing import find_or_add_recipient, share_preview
from sessions.models import BuildSession
from tests.browser import axe_violations, chromium
from tests.factories import BuilderFactory
from tests.test_agents import IPAD_AS_A_MAC

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREVIEW_URL = "https://crag-finder.example.dev/today"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
# How long the builder's page may take to show what the recipient did (it polls every
# POLL_SECONDS): a ceiling against hanging, far above what a busy machine needs.
LIVE_UPDATE_MS = 60_000


@pytest.fixture
def world(live_server, settings):
    settings.OUTERLOOP_BASE_URL = live_server.url
    builder = BuilderFactory(name="Alex", email="alex@example.com", time_zone="Europe/Berlin")
    builder.set_password("a long enough passphrase")
    builder.save()
    session = BuildSession.objects.create(builder=builder, title="Crag finder")
    share = share_preview(
        session.add_preview(PREVIEW_URL), find_or_add_recipient(builder, "Sam"), "dm"
    )
    with chromium() as (playwright, browser):
        yield {
            "base": live_server.url,
            "link": f"{live_server.url}/r/{share.token}/",
            "share": share,
            "playwright": playwright,
            "browser": browser,
        }


def phone(world, **options):
    return (
        world["browser"]
        .new_context(**world["playwright"].devices["iPhone 13"], **options)
        .new_page()
    )


def logged_in_builder(world, **options):
    page = world["browser"].new_context(**options).new_page()
    page.goto(f"{world['base']}/login/")
    page.get_by_label("Email").fill("alex@example.com")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Today's turn").wait_for()
    return page


def test_unfurl_bots_and_head_requests_are_not_opens_a_real_browser_is(world):
    bot = world["playwright"].request.new_context(extra_http_headers={"User-Agent": SLACKBOT})
    assert bot.get(world["link"]).status == 200
    assert bot.head(world["link"]).status == 200
    bot.dispose()
    assert not Visit.objects.exists()

    sam = phone(world)
    sam.goto(world["link"])
    sam.wait_for_load_state("networkidle")

    visit = Visit.objects.get()
    assert (visit.kind, visit.device_class, visit.by_builder) == (VisitKind.OPEN, "phone", False)


def test_the_builder_watches_open_tap_and_reaction_arrive_without_reloading(world):
    builder = logged_in_builder(world, viewport={"width": 1280, "height": 900})
    builder.goto(f"{world['base']}/shares/{world['share'].pk}/")
    activity = builder.locator("#activity")
    assert "Nothing yet" in activity.inner_text()

    sam = phone(world)
    sam.goto(world["link"])
    activity.get_by_text("Opened on a phone").wait_for(timeout=LIVE_UPDATE_MS)

    with sam.expect_popup() as popup:
        sam.get_by_role("link", name="Open Crag finder").click()
    popup.value.close()
    activity.get_by_text("Tapped Open on a phone").wait_for(timeout=LIVE_UPDATE_MS)

    sam.get_by_label("What do you think? In your own words.").fill("Found a crag in two taps!")
    sam.get_by_role("button", name="Send to Alex").click()
    sam.get_by_role("heading", name="Thank you!").wait_for()
    activity.get_by_text("Found a crag in two taps!").wait_for(timeout=LIVE_UPDATE_MS)

    builder.goto(f"{world['base']}/")
    builder.get_by_text("✓ reacted").first.wait_for()


def test_the_recipient_page_has_no_accessibility_violations(world):
    sam = phone(world, bypass_csp=True)  # our own CSP would (rightly) refuse axe's injected script
    sam.goto(world["link"])
    sam.wait_for_load_state("networkidle")
    violations = axe_violations(sam)
    assert not violations, "\n".join(violations)


def test_a_chip_starts_the_sentence_in_the_box(world):
    sam = phone(world)
    sam.goto(world["link"])
    box = sam.get_by_label("What do you think? In your own words.")

    sam.get_by_label("Confused").check()
    assert box.input_value() == "Confused — "
    sam.get_by_label("Love it").check()  # another chip swaps the start while nothing else is
    assert box.input_value() == "Love it — "
    box.press_sequentially("the map is so clear")
    sam.get_by_label("I'd use this").check()  # now the words are theirs: the box keeps them
    assert box.input_value() == "Love it — the map is so clear"
    sam.get_by_role("button", name="Send to Alex").click()
    sam.get_by_role("heading", name="Thank you!").wait_for()

    reaction = Reaction.objects.get()
    assert (reaction.text, reaction.chip) == ("Love it — the map is so clear", "would_use")


def test_without_javascript_the_reaction_is_saved(world):
    sam = phone(world, java_script_enabled=False)
    sam.goto(world["link"])
    sam.get_by_label("What do you think? In your own words.").fill("Works without scripts too.")
    sam.get_by_role("button", name="Send to Alex").click()
    sam.get_by_role("heading", name="Thank you!").wait_for()

    reaction = Reaction.objects.get()
    assert (reaction.text, reaction.device_class) == ("Works without scripts too.", "phone")
    assert list(Visit.objects.values_list("kind", flat=True)) == [VisitKind.OPEN]


def test_an_expired_link_hides_the_preview_takes_a_reaction_and_asks_for_a_fresh_one(world):
    preview = world["share"].preview
    preview.expires_at = timezone.now() - timedelta(minutes=1)
    preview.save()

    sam = phone(world)
    sam.goto(world["link"])
    sam.get_by_text("This preview has expired.").wait_for()
    assert "crag-finder.example.dev" not in sam.content()
    assert sam.get_by_role("link", name="Open Crag finder").count() == 0

    sam.get_by_role("button", name="Ask for a fresh link").click()
    sam.get_by_text("Alex knows you'd like a fresh link.").wait_for()
    sam.get_by_label("What do you think? In your own words.").fill(
        "Missed it, but the idea is good."
    )
    sam.get_by_role("button", name="Send to Alex").click()
    sam.get_by_role("heading", name="Thank you!").wait_for()

    share = Share.objects.get()
    assert share.fresh_link_requested_at is not None
    assert share.reactions.get().text == "Missed it, but the idea is good."


def test_the_page_works_under_its_content_security_policy(world):
    errors: list[str] = []
    sam = phone(world)
    sam.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    sam.goto(world["link"])
    sam.wait_for_load_state("networkidle")
    sam.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    assert sam.evaluate("window.pwned") is None
    assert Visit.objects.filter(kind=VisitKind.OPEN).count() == 1
    assert any("Content Security Policy" in error for error in errors)


@pytest.mark.parametrize(("has_touch", "device"), [(True, "tablet"), (False, "desktop")])
def test_an_ipad_sending_a_macs_user_agent_is_a_tablet_by_its_touch_points(
    world, has_touch, device
):
    ipad = (
        world["browser"]
        .new_context(
            user_agent=IPAD_AS_A_MAC, has_touch=has_touch, viewport={"width": 820, "height": 1180}
        )
        .new_page()
    )
    ipad.goto(world["link"])
    ipad.wait_for_load_state("networkidle")  # the page's confirm has told the touch points
    with ipad.expect_popup() as popup:
        ipad.get_by_role("link", name="Open Crag finder").click()
    popup.value.close()
    ipad.get_by_label("What do you think? In your own words.").fill("Roomy on the big screen.")
    ipad.get_by_role("button", name="Send to Alex").click()
    ipad.get_by_role("heading", name="Thank you!").wait_for()

    opened = Visit.objects.filter(kind=VisitKind.OPEN).values_list("device_class", flat=True)
    tapped = Visit.objects.filter(kind=VisitKind.TAP).values_list("device_class", flat=True)
    assert (list(opened), list(tapped)) == ([device], [device])
    assert Reaction.objects.get().device_class == device


class _Preview(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>Shelf</title><h1>The bookshelf preview</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def preview_server():
    """A preview on its own origin: Chromium resolves every *.localhost name to loopback."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Preview)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["bücher.localhost", "пример.localhost"])
def test_a_framed_preview_on_an_idn_host_shows_and_the_policy_still_holds(
    world, preview_server, host
):
    share = world["share"]
    # Straight to the table: the preview form refuses a loopback host, rightly.
    framed = share.preview.session.previews.create(
        url=f"http://{host}:{preview_server}/", frameable=True, expires_at=share.preview.expires_at
    )
    link = f"{world['base']}/r/{share_preview(framed, share.recipient, 'dm').token}/"
    errors: list[str] = []
    sam = phone(world)
    sam.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    sam.goto(link)

    frame = sam.frame_locator("iframe")
    frame.get_by_role("heading", name="The bookshelf preview").wait_for()
    sam.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    assert sam.evaluate("window.pwned") is None
    assert any("Content Security Policy" in error for error in errors)
