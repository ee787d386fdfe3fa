"""Every builder page in a real Chromium, at a phone's width (390 px) and a laptop's (1280 px),
with a builder's realistic data: nothing scrolls sideways, axe-core finds no violation, and
the layout facts people noticed hold on every page (a checkbox's label beside its box, touch
targets of 44 px, a header with no orphan item, today's heatmap cell in view, a command that
isn't cut off, a button's words on one line, the first field focused on a form page).

The pages come from the URL conf: `test_every_builder_page_is_visited` fails when a builder
URL pattern is neither visited (PAGES) nor set aside with a reason (NOT_PAGES). A new page is
one line in PAGES.
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from common import mail
from common.builders import Builder
from outerloop.account_emails import confirmation_url
from outerloop.models import ApiToken
from reactions.models import Channel, VisitKind
from reactions.sharing import find_or_add_recipient, share_preview
from sessions.models import BuildSession, PublishRequest
from tests.browser import axe_violations, chromium, require_axe
from tests.factories import PASSWORD, BuilderFactory, ReactionFactory, ShareFactory, VisitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [390, 1280]
EMAIL = "alex@example.com"


# The builder's world --------------------------------------------------------------------------


@dataclass
class World:
    """What the pages are about; `ids` holds the arguments their URLs take, by name (a
    function for one made when the page is visited)."""

    base: str
    builder: Builder
    ids: dict[str, object] = field(default_factory=dict)


def make_world(base: str) -> World:
    """Alex, six weeks in: sessions with live, expired and Wi-Fi-only previews, people who
    reacted and one who asked for a fresh link, rest days on the weekend, a token, a
    publish request."""
    builder = BuilderFactory(
        name="Alex",
        email=EMAIL,
        time_zone="Europe/Berlin",
        rest_weekdays=[5, 6],
        date_joined=timezone.now() - timedelta(days=45),
    )
    crags = BuildSession.objects.create(
        builder=builder, title="Crag finder", notes="The map first, then the grade filter."
    )
    live = crags.add_preview("https://crag-finder.example.dev/today")
    on_wifi = crags.add_preview("http://192.168.1.20:5173/")
    habits = BuildSession.objects.create(builder=builder, title="Habit tracker, first screen")
    expired = habits.add_preview("https://habit-demo.example.com/")
    expired.expires_at = timezone.now() - timedelta(minutes=30)
    expired.save()

    sam = find_or_add_recipient(builder, "Sam", note="climbing gym")
    priya = find_or_add_recipient(builder, "Priya")
    jo = find_or_add_recipient(builder, "Jo", lives_with=True)
    people = [sam, priya, find_or_add_recipient(builder, "Marcus", note="work")]
    for days_ago in range(1, 36):
        if days_ago % 7 in (2, 5):
            continue  # a few missed days
        sent = timezone.now() - timedelta(days=days_ago, hours=2)
        past = ShareFactory(recipient=people[days_ago % 3], preview=live, sent_at=sent)
        VisitFactory(share=past, at=sent + timedelta(minutes=20), device_class="phone")
        ReactionFactory(
            share=past,
            text="The map loads fast, but which crags are open today?",
            device_class="phone",
            created_at=sent + timedelta(hours=1),
        )

    live_share = share_preview(live, sam, Channel.DM)
    VisitFactory(share=live_share, device_class="phone")
    VisitFactory(share=live_share, kind=VisitKind.TAP, device_class="phone")
    ReactionFactory(share=live_share, text="Found a crag in two taps!", device_class="phone")
    ReactionFactory(  # doesn't count: Jo lives with Alex
        share=share_preview(live, jo, Channel.IN_PERSON), text="Love it", device_class="tablet"
    )
    wifi_share = share_preview(on_wifi, priya, Channel.IN_PERSON)
    expired_share = share_preview(expired, priya, Channel.TEXT)
    expired_share.fresh_link_requested_at = timezone.now() - timedelta(minutes=10)
    expired_share.save()

    PublishRequest.objects.create(preview=live, domain="crags.example.com", note="Apex only")
    ApiToken.issue(builder, "laptop CLI")

    def reset_link() -> tuple[str, str]:
        # Made when visited: logging in (as the builder's browser does first) ends older ones.
        fresh = Builder.objects.get(pk=builder.pk)
        uid = urlsafe_base64_encode(force_bytes(fresh.pk))
        return uid, default_token_generator.make_token(fresh)

    return World(
        base=base,
        builder=builder,
        ids={
            "day": live_share.day.isoformat(),
            "session": crags.pk,
            "person": sam.pk,
            "live_preview": live.pk,
            "live_share": live_share.pk,
            "wifi_share": wifi_share.pk,
            "expired_share": expired_share.pk,
            "reset": reset_link,
            "confirm": confirmation_url(builder).rsplit("/", 2)[-2],
            "unsubscribe": mail.unsubscribe_url(builder, "nudges_enabled").rsplit("/", 2)[-2],
        },
    )


# The pages ----------------------------------------------------------------------------------


def at(*args: str) -> Callable[[str, World], str]:
    """The path of the page's URL pattern with these of the world's ids as its arguments."""

    def path(name: str, world: World) -> str:
        values = [world.ids[arg] for arg in args]
        values = [value() if callable(value) else value for value in values]
        flat = [
            part for value in values for part in (value if isinstance(value, tuple) else [value])
        ]
        return reverse(name, args=flat)

    return path


def fill_and_send(field_label: str, value: str, button: str, start: str):
    """Open `start`, type `value` into the field labelled `field_label`, press `button`."""

    def submit(page, world: World) -> None:
        page.goto(world.base + start.format(**world.ids))
        page.get_by_label(field_label, exact=True).fill(value)
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()

    return submit


@dataclass(frozen=True)
class Page:
    """One page to check: the URL pattern `name` it belongs to; how to get there (`path`
    opens it, `submit` sends a form that answers with it); `visitor` for a logged-out
    browser; `focus`, the id of the field a form page puts the cursor in. A form page is one
    there only to be filled in; a page to read before deciding (delete, merge, publish)
    leaves the focus alone, as every other page does."""

    name: str | None
    label: str
    path: Callable[[str, World], str] | None = None
    submit: Callable | None = None
    visitor: bool = False
    focus: str | None = None


REFUSED_TURN = fill_and_send("Preview URL", "http://localhost:3000", "Get the link", "/")
REFUSED_PREVIEW = fill_and_send(
    "Preview URL", "http://127.0.0.1:8000", "Add preview", "/sessions/{session}/"
)
NEW_TOKEN = fill_and_send("Name the new token", "phone CLI", "Create token", "/settings/")

PAGES = [
    Page("outerloop:dashboard", "landing", at(), visitor=True),
    Page("outerloop:dashboard", "dashboard", at()),
    Page("outerloop:turn", "turn refused", submit=REFUSED_TURN),
    Page("outerloop:habit", "habit", at()),
    Page("outerloop:day", "day detail", at("day")),
    Page("outerloop:publish", "publish", at("live_preview")),
    Page("outerloop:settings", "settings", at()),
    Page("outerloop:token-create", "token created", submit=NEW_TOKEN),
    Page("outerloop:delete-account", "delete account", at()),
    Page("outerloop:unsubscribe", "unsubscribe", at("unsubscribe"), visitor=True),
    Page("outerloop:signup", "sign-up", at(), visitor=True, focus="id_name"),
    Page("outerloop:signup-sent", "sign-up sent", at(), visitor=True),
    Page("outerloop:confirm-email", "confirm email", at("confirm")),
    Page("outerloop:login", "log in", at(), visitor=True, focus="id_username"),
    Page("outerloop:password-reset", "password reset", at(), visitor=True, focus="id_email"),
    Page("outerloop:password-reset-sent", "password reset sent", at(), visitor=True),
    Page(
        "outerloop:password-reset-confirm",
        "new password",
        at("reset"),
        visitor=True,
        focus="id_new_password1",
    ),
    Page("outerloop:password-reset-complete", "password saved", at()),
    Page("sessions:session-list", "sessions", at()),
    Page("sessions:session-detail", "session", at("session")),
    Page("sessions:preview-add", "preview refused", submit=REFUSED_PREVIEW),
    Page("reactions:share-create", "new link", at("live_preview"), focus="id_recipient"),
    Page("reactions:share-detail", "share page, live", at("live_share")),
    Page("reactions:share-detail", "share page, Wi-Fi only", at("wifi_share")),
    Page("reactions:share-detail", "share page, expired", at("expired_share")),
    Page("reactions:share-renew", "renew", at("expired_share")),
    Page("reactions:people", "people", at()),
    Page("outerloop:session-rename", "rename a session", at("session"), focus="id_title"),
    Page("outerloop:session-merge", "merge sessions", at("session")),
    Page("outerloop:session-delete", "delete a session", at("session")),
    Page("outerloop:preview-delete", "delete a preview", at("live_preview")),
    Page("outerloop:share-delete", "delete a link", at("live_share")),
    Page("outerloop:person-rename", "rename a person", at("person"), focus="id_name"),
    Page("outerloop:person-merge", "merge people", at("person")),
    Page(None, "not found", lambda name, world: "/no-such-page/"),
]

# Builder URL patterns that are not pages of their own, and why.
NOT_PAGES = {
    "outerloop:email-resume": "a button on the settings page (POST, then back to settings)",
    "outerloop:token-revoke": "a button on the settings page (POST, then back to settings)",
    "outerloop:export-json": "a download",
    "outerloop:export-zip": "a download",
    "outerloop:logout": "the header's button (POST, then the landing page)",
    "outerloop:confirm-email-again": "the banner's button (POST, then back)",
    "sessions:preview-renew": "a button on the session page (POST, then back to it)",
    "reactions:share-again": "a button on the people page (POST, then the new share page)",
    "reactions:reaction-counts": "a button on the share page (POST, then back to it)",
    "reactions:recipient-page": "the recipient's (tests/test_browser_recipient.py)",
    "reactions:recipient-seen": "the recipient page's beacon",
    "reactions:recipient-go": "the recipient page's redirect to the preview",
    "reactions:recipient-react": "the recipient's form (tests/test_browser_recipient.py)",
    "reactions:recipient-thanks": "the recipient's (tests/test_browser_recipient.py)",
    "reactions:recipient-fresh": "the recipient's form (tests/test_browser_recipient.py)",
}
BUILDER_NAMESPACES = ("outerloop", "sessions", "reactions")


def url_names(resolver: URLResolver | None = None, namespace: str = "") -> set[str]:
    """Every named URL pattern in the builder's namespaces, as "namespace:name"."""
    names: set[str] = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            names |= url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and namespace:
            names.add(f"{namespace}:{pattern.name}")
    return {name for name in names if name.split(":")[0] in BUILDER_NAMESPACES}


def test_every_builder_page_is_visited():
    visited = {page.name for page in PAGES if page.name}
    missing = url_names() - visited - set(NOT_PAGES)
    stale = (visited | set(NOT_PAGES)) - url_names()
    assert not missing, f"Builder URLs no page visits (add them to PAGES): {sorted(missing)}"
    assert not stale, f"PAGES or NOT_PAGES name URLs that don't exist: {sorted(stale)}"
    assert not visited & set(NOT_PAGES)


# What is measured on every page ---------------------------------------------------------------

LAYOUT = (Path(__file__).parent / "page_facts.js").read_text(encoding="utf-8")

FOCUSED = "id => document.activeElement && document.activeElement.id === id"
# A ceiling against hanging, far above what a busy machine needs.
FOCUS_MS = 15_000
FOCUS = """() => {
  const el = document.activeElement;
  return el && el !== document.body ? el.id || el.tagName.toLowerCase() : null;
}"""


def log_in(context, base: str):
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    return page


@pytest.fixture
def world(live_server, settings) -> World:
    settings.OUTERLOOP_BASE_URL = live_server.url
    settings.OUTERLOOP_OPERATOR_EMAIL = "ops@example.com"
    return make_world(live_server.url)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_builder_page_is_clean_at_a_phones_and_a_laptops_width(world, width):
    require_axe()  # before the browser starts: a missing axe-core says so at once
    problems: list[str] = []
    with chromium() as (playwright, browser):
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        device = playwright.devices["iPhone 13"] if width < 600 else {}
        # Our own CSP would (rightly) refuse axe's injected script.
        options = {**device, "viewport": {"width": width, "height": 844}, "bypass_csp": True}
        visitor = browser.new_context(**options).new_page()
        builder = log_in(browser.new_context(**options), world.base)
        for spec in PAGES:
            page = visitor if spec.visitor else builder
            if spec.submit:
                spec.submit(page, world)
            else:
                page.goto(world.base + spec.path(spec.name, world))
            page.wait_for_load_state("load")
            where = f"{spec.label} at {width} px"
            problems += [f"{where}: {problem}" for problem in page.evaluate(LAYOUT)]
            if spec.focus:  # the browser moves the focus at its next frame: wait for it
                with contextlib.suppress(PlaywrightTimeout):
                    page.wait_for_function(FOCUSED, arg=spec.focus, timeout=FOCUS_MS)
            focused = page.evaluate(FOCUS)
            if focused != spec.focus:
                problems.append(f"{where}: the focus is on {focused}, not {spec.focus}")
            problems += [f"{where}: {violation}" for violation in axe_violations(page)]
    assert not problems, "\n".join(problems)
