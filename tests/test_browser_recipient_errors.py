"""The recipient's page when things go wrong, in a real Chromium at an iPhone's size.

A browser that blocks cookies still reacts. An error answer (403, 429, 500) or a network that
is down gets a plain message beside the form, the words stay in the box, the button works
again, and once the network is back the same words go through. Builder pages' htmx requests
say so too.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reactions.models import Reaction, Share, Visit, VisitKind
from reactions.sharing import find_or_add_recipient, share_preview
from sessions.models import BuildSession
from tests.browser import chromium, phone_blocking_cookies
from tests.factories import BuilderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREVIEW_URL = "https://crag-finder.example.dev/today"
BOX = "What do you think? In your own words."
WORDS = "The grade filter is exactly what I need."
# A ceiling against hanging, far above what a busy machine needs; never a wait in itself.
DEADLINE_MS = 30_000
KEPT = "What you wrote is still here."


@pytest.fixture
def world(live_server, settings):
    settings.OUTERLOOP_BASE_URL = live_server.url
    builder = BuilderFactory(name="Alex", email="alex@example.com", time_zone="Europe/Berlin")
    session = BuildSession.objects.create(builder=builder, title="Crag finder")
    share = share_preview(
        session.add_preview(PREVIEW_URL), find_or_add_recipient(builder, "Sam"), "dm"
    )
    with chromium() as (playwright, browser):
        yield {
            "base": live_server.url,
            "link": f"{live_server.url}/r/{share.token}/",
            "share": share,
            "builder": builder,
            "playwright": playwright,
            "browser": browser,
        }


def phone(world, **options):
    return (
        world["browser"]
        .new_context(**world["playwright"].devices["iPhone 13"], **options)
        .new_page()
    )


def send_button(page):
    return page.get_by_role("button", name="Send to Alex")


# Cookies blocked ---------------------------------------------------------------------------


def test_with_cookies_blocked_the_open_the_tap_and_the_reaction_all_arrive(world):
    with phone_blocking_cookies(world["playwright"]) as context:
        sam = context.new_page()
        with sam.expect_response(lambda r: r.url.endswith("/seen/")) as confirmed:
            sam.goto(world["link"])
        assert confirmed.value.status == 204
        # The browser really keeps nothing: neither the page's own cookie nor the server's.
        assert sam.evaluate("document.cookie = 'probe=1'; document.cookie") == ""

        with (
            context.expect_event("response", lambda r: r.url.endswith("/go/")),
            sam.expect_popup() as popup,
        ):
            sam.get_by_role("link", name="Open Crag finder").click()
        popup.value.close()
        sam.get_by_label(BOX).fill(WORDS)
        send_button(sam).click()
        sam.get_by_role("heading", name="Thank you!").wait_for(timeout=DEADLINE_MS)

        assert sam.get_by_text(f"“{WORDS}”").is_visible()
        assert context.cookies() == []
    reaction = Reaction.objects.get()
    assert (reaction.text, reaction.device_class, reaction.by_builder) == (WORDS, "phone", False)
    assert list(Visit.objects.order_by("at", "id").values_list("kind", flat=True)) == [
        VisitKind.OPEN,
        VisitKind.TAP,
    ]


def test_with_cookies_blocked_and_no_javascript_the_reaction_arrives_too(world):
    with phone_blocking_cookies(world["playwright"], java_script_enabled=False) as context:
        sam = context.new_page()
        sam.goto(world["link"])
        sam.get_by_label(BOX).fill(WORDS)
        send_button(sam).click()
        sam.get_by_role("heading", name="Thank you!").wait_for(timeout=DEADLINE_MS)

        assert context.cookies() == []
    assert Reaction.objects.get().text == WORDS
    assert list(Visit.objects.values_list("kind", flat=True)) == [VisitKind.OPEN]


# Error answers and no network --------------------------------------------------------------


def refuse_with(status: int, headers: dict[str, str]):
    def refuse(route):
        route.fulfill(status=status, headers=headers, content_type="text/html", body="<h1>No</h1>")

    return refuse


def cut_off(route):
    route.abort("internetdisconnected")


FAILURES = {
    "403": (refuse_with(403, {}), "That was refused (error 403)."),
    "429 with Retry-After": (
        refuse_with(429, {"Retry-After": "120"}),
        "Too many tries just now. Please wait 2 minutes, then try again.",
    ),
    "429 without": (refuse_with(429, {}), "Please wait a few minutes, then try again."),
    "500": (refuse_with(500, {}), "Something went wrong on our side (error 500)."),
    "network down": (cut_off, "No connection: this didn't reach the server."),
}


@pytest.mark.parametrize(("failure", "says"), FAILURES.values(), ids=FAILURES.keys())
def test_a_failed_send_says_why_keeps_the_words_and_sends_once_it_can(world, failure, says):
    sam = phone(world)
    sam.goto(world["link"])
    box = sam.get_by_label(BOX)
    box.fill(WORDS)
    sam.route("**/react/", failure)

    send_button(sam).click()

    alert = sam.get_by_role("alert").filter(has_text=says)
    expect(alert).to_contain_text(KEPT, timeout=DEADLINE_MS)
    assert box.input_value() == WORDS
    expect(send_button(sam)).to_be_enabled()
    assert not Reaction.objects.exists()

    sam.unroute("**/react/")
    send_button(sam).click()
    sam.get_by_role("heading", name="Thank you!").wait_for(timeout=DEADLINE_MS)
    assert Reaction.objects.get().text == WORDS


def test_offline_the_form_says_so_and_sends_once_back_online(world):
    sam = phone(world)
    sam.goto(world["link"])
    sam.wait_for_load_state("networkidle")  # the page's confirm has left before going offline
    sam.get_by_label(BOX).fill(WORDS)
    sam.context.set_offline(True)

    send_button(sam).click()

    expect(sam.get_by_role("alert")).to_contain_text("No connection", timeout=DEADLINE_MS)
    assert not Reaction.objects.exists()
    sam.context.set_offline(False)
    send_button(sam).click()
    sam.get_by_role("heading", name="Thank you!").wait_for(timeout=DEADLINE_MS)
    assert Reaction.objects.get().text == WORDS


def test_a_second_failure_replaces_the_first_message_and_success_clears_it(world):
    sam = phone(world)
    sam.goto(world["link"])
    sam.get_by_label(BOX).fill(WORDS)
    sam.route("**/react/", refuse_with(500, {}))
    send_button(sam).click()
    alert = sam.locator("#reaction [role=alert]")
    expect(alert).to_contain_text("error 500", timeout=DEADLINE_MS)

    sam.unroute("**/react/")
    sam.route("**/react/", cut_off)
    send_button(sam).click()

    expect(alert).to_contain_text("No connection", timeout=DEADLINE_MS)
    expect(alert).not_to_contain_text("error 500")
    assert sam.locator(".request-error:not(:empty)").count() == 1


def test_asking_for_a_fresh_link_says_when_it_failed_and_works_after(world):
    preview = world["share"].preview
    preview.expires_at = timezone.now() - timedelta(minutes=1)
    preview.save()
    sam = phone(world)
    sam.goto(world["link"])
    sam.route("**/fresh/", refuse_with(500, {}))
    ask = sam.get_by_role("button", name="Ask for a fresh link")

    ask.click()

    expect(sam.locator("#fresh [role=alert]")).to_contain_text(
        "Something went wrong on our side (error 500).", timeout=DEADLINE_MS
    )
    expect(ask).to_be_enabled()
    assert Share.objects.get().fresh_link_requested_at is None
    sam.unroute("**/fresh/")
    ask.click()
    sam.get_by_text("Alex knows you'd like a fresh link.").wait_for(timeout=DEADLINE_MS)
    assert Share.objects.get().fresh_link_requested_at is not None


# Builder pages -----------------------------------------------------------------------------


def test_a_builder_page_that_polls_says_when_it_is_not_up_to_date_and_clears_it(world):
    world["builder"].set_password("a long enough passphrase")
    world["builder"].save()
    alex = world["browser"].new_context(**world["playwright"].devices["iPhone 13"]).new_page()
    alex.goto(f"{world['base']}/login/")
    alex.get_by_label("Email").fill("alex@example.com")
    alex.get_by_label("Password").fill("a long enough passphrase")
    alex.eval_on_selector("form:has(#id_password)", "form => form.requestSubmit()")
    alex.get_by_role("heading", name="Today's turn").wait_for()
    alex.goto(f"{world['base']}/shares/{world['share'].pk}/")

    def polls_cut_off(route):
        if route.request.headers.get("hx-request"):
            route.abort("internetdisconnected")
        else:
            route.continue_()

    alex.route("**/shares/**", polls_cut_off)
    status = alex.get_by_role("status").filter(has_text="Not up to date (no connection)")
    expect(status).to_be_in_viewport(timeout=DEADLINE_MS)  # on screen, wherever the poller is
    assert alex.get_by_role("heading", name="What happened").is_visible()

    alex.unroute("**/shares/**")
    expect(status).to_have_count(0, timeout=DEADLINE_MS)
