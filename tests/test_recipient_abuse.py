"""The recipient's side under abuse: robots, floods, guessing, forged posts, huge bodies.

Whatever arrives, Alex's numbers stay true (robots and floods record nothing), Sam never
sees a 500 or loses what they typed, and the page stays safe to render (CSP, noindex).
"""

import re
from datetime import UTC, datetime, timedelta
from html import escape, unescape

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from common import limits as counting
from reactions import limits
from reactions.models import Reaction, Share, Visit, VisitKind
from tests.conftest import NOW, PHONE_UA, PREVIEW_URL
from tests.factories import ShareFactory
from tests.races import needs_postgres, run_at_once
from tests.test_agents import BROWSERS, SCANNERS, SCRIPTS, UNFURLERS

HTMX = {"HX-Request": "true"}
LIMITED = (
    "So many reactions just arrived that we're pausing for a few minutes. "
    "Your words are still here: send them again in a little while."
)
ROBOTS = {
    "Slackbot": UNFURLERS["Slack unfurl"],
    "facebookexternalhit": UNFURLERS["Facebook, Messenger, Instagram"],
    "Twitterbot": UNFURLERS["X"],
    "iMessage": UNFURLERS["iMessage preview"],
    "Outlook": SCANNERS["Outlook desktop"],
    "Googlebot": SCANNERS["Googlebot smartphone"],
    "curl": SCRIPTS["curl"],
    "HeadlessChrome": SCRIPTS["HeadlessChrome"],
    "no User-Agent": "",
}


def phone(ip: str = "198.51.100.7", **options) -> Client:
    """A phone's browser at that address, with no cookies yet."""
    return Client(headers={"User-Agent": PHONE_UA}, REMOTE_ADDR=ip, **options)


def robot(user_agent: str) -> Client:
    return Client(headers={"User-Agent": user_agent}, REMOTE_ADDR="192.0.2.80")


def page_url(share: Share) -> str:
    return reverse("reactions:recipient-page", args=[share.token])


def seen_url(share: Share) -> str:
    return reverse("reactions:recipient-seen", args=[share.token])


def go_url(share: Share) -> str:
    return reverse("reactions:recipient-go", args=[share.token])


def react_url(share: Share) -> str:
    return reverse("reactions:recipient-react", args=[share.token])


def thanks_url(share: Share) -> str:
    return reverse("reactions:recipient-thanks", args=[share.token])


def fresh_url(share: Share) -> str:
    return reverse("reactions:recipient-fresh", args=[share.token])


def text_of(response) -> str:
    return unescape(response.content.decode())


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    policy = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        policy[name] = sources
    return policy


def kept_text(response, typed: str) -> bool:
    return f">\n{escape(typed)}</textarea>" in response.content.decode()


@pytest.fixture
def another_share(share) -> Share:
    """A second link Alex sent Sam, for limits that count per client across links."""
    return ShareFactory(recipient=share.recipient, preview=share.preview)


@pytest.fixture
def framed(session) -> Share:
    """A live share of a preview Alex marked as frameable."""
    preview = session.add_preview(PREVIEW_URL, frameable=True)
    return ShareFactory(recipient__builder=session.builder, preview=preview)


# QR scans ----------------------------------------------------------------------------------


def test_a_page_reached_by_qr_asks_its_beacon_to_say_so(share):
    with_qr = phone().get(page_url(share), {"via": "qr"}).content.decode()
    without = phone("198.51.100.8").get(page_url(share)).content.decode()

    assert """hx-vals='{"via": "qr"}'""" in with_qr
    assert "hx-vals" not in without


def test_the_qr_marker_on_the_beacon_marks_the_open_as_in_person(share, owner_client):
    phone().post(seen_url(share), {"via": "qr"})

    visit = Visit.objects.get()
    assert (visit.kind, visit.via_qr) == (VisitKind.OPEN, True)
    activity = text_of(owner_client.get(reverse("reactions:share-detail", args=[share.pk])))
    assert "Opened on a phone · in person" in activity


def test_a_beacon_without_the_marker_is_not_in_person(share):
    phone().post(seen_url(share))

    assert not Visit.objects.get().via_qr


# Reaction limits ---------------------------------------------------------------------------


def fill_reaction_limit_of(share: Share) -> None:
    """Twenty people, each at their own address, react to one link within the hour."""
    for n in range(limits.REACTIONS_PER_SHARE.count):
        response = phone(f"203.0.113.{n + 1}").post(react_url(share), {"text": f"Thought {n}"})
        assert response.status_code == 302


def test_past_the_per_link_limit_a_plain_post_is_a_friendly_429_that_keeps_the_text(share):
    fill_reaction_limit_of(share)
    typed = "I'd use this every day, but the map is slow."

    response = phone("198.51.100.99").post(react_url(share), {"text": typed, "chip": "would_use"})

    assert response.status_code == 429
    assert LIMITED in text_of(response)
    assert '<div class="errorlist" role="alert">' in response.content.decode()
    assert kept_text(response, typed)
    assert re.search(r'value="would_use" id="id_chip_2"[^>]* checked>', response.content.decode())
    assert "<h1><bdi>Crag finder</bdi></h1>" in text_of(response)
    assert Reaction.objects.count() == limits.REACTIONS_PER_SHARE.count
    assert not Reaction.objects.filter(text=typed).exists()


def test_past_the_limit_an_htmx_post_swaps_in_the_form_with_the_message(share):
    fill_reaction_limit_of(share)
    typed = "Confusing start screen"

    response = phone("198.51.100.99").post(react_url(share), {"text": typed}, headers=HTMX)

    assert response.status_code == 200, "htmx swaps only 2xx answers"
    fragment = text_of(response).strip()
    assert fragment.startswith('<form id="reaction"')
    assert "<html" not in fragment
    assert LIMITED in fragment
    assert kept_text(response, typed)
    assert not Reaction.objects.filter(text=typed).exists()


def test_past_the_per_client_limit_no_link_takes_more_from_that_client(share, another_share):
    sam = phone()
    half = limits.REACTIONS_PER_CLIENT.count // 2
    for n in range(half):
        sam.post(react_url(share), {"text": f"On the first link, {n}"})
        sam.post(react_url(another_share), {"text": f"On the second link, {n}"})
    assert Reaction.objects.count() == limits.REACTIONS_PER_CLIENT.count

    response = sam.post(react_url(share), {"text": "One more"})

    assert response.status_code == 429
    assert LIMITED in text_of(response)
    assert kept_text(response, "One more")
    assert Reaction.objects.count() == limits.REACTIONS_PER_CLIENT.count
    assert phone("198.51.100.200").post(react_url(share), {"text": "Someone else"}).status_code == (
        302
    )


def test_the_reaction_limit_lifts_after_the_hour(share, time_machine):
    fill_reaction_limit_of(share)
    sam = phone("198.51.100.99")
    assert sam.post(react_url(share), {"text": "Too soon"}).status_code == 429

    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    response = sam.post(react_url(share), {"text": "Later, it goes through"})

    assert response.status_code == 302
    assert Reaction.objects.filter(text="Later, it goes through").exists()


# Beacon limits -----------------------------------------------------------------------------


def test_past_the_per_link_beacon_limit_a_new_open_records_nothing_but_still_204(share):
    reloading = phone("203.0.113.1")
    for _ in range(limits.BEACONS_PER_SHARE.count):
        assert reloading.post(seen_url(share)).status_code == 204
    assert list(share.visits.values_list("kind", flat=True)) == [VisitKind.OPEN]

    opened = phone("198.51.100.99").post(seen_url(share))
    tapped = phone("198.51.100.98").post(seen_url(share), {"event": "tap"})

    assert (opened.status_code, tapped.status_code) == (204, 204)
    assert list(share.visits.values_list("kind", flat=True)) == [VisitKind.OPEN]


def test_past_the_per_client_beacon_limit_other_links_record_nothing_from_it(
    share, another_share, recipient
):
    """One address floods two links (each tab its own cookie jar); a third link then opens."""
    third = ShareFactory(recipient=recipient, preview=share.preview)
    per_link = limits.BEACONS_PER_CLIENT.count // 2
    for link in (share, another_share):
        tab = phone()
        for _ in range(per_link):
            tab.post(seen_url(link))
    assert Visit.objects.count() == 2

    response = phone().post(seen_url(third))

    assert response.status_code == 204
    assert not third.visits.exists()
    phone("198.51.100.200").post(seen_url(third))
    assert third.visits.count() == 1


def test_beacons_count_again_the_next_minute(share, time_machine):
    for _ in range(limits.BEACONS_PER_SHARE.count):
        phone("203.0.113.1").post(seen_url(share))
    phone("198.51.100.98").post(seen_url(share))
    assert share.visits.count() == 1

    time_machine.move_to(NOW + timedelta(seconds=limits.BEACONS_PER_SHARE.seconds), tick=False)
    phone("198.51.100.99").post(seen_url(share))

    assert share.visits.count() == 2


# Guessing links ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_guessing_links_past_the_limit_gets_a_429_with_retry_after(share):
    guesser = phone("192.0.2.13")
    for n in range(limits.UNKNOWN_TOKENS_PER_CLIENT.count):
        assert guesser.get(f"/r/guess-{n}/").status_code == 404

    response = guesser.get("/r/guess-one-more/")

    assert response.status_code == 429
    assert response["Retry-After"] == str(limits.UNKNOWN_TOKENS_PER_CLIENT.seconds)
    assert "<h1>Too many tries</h1>" in text_of(response)
    assert '<meta name="robots" content="noindex, nofollow">' in text_of(response)
    assert guesser.post("/r/guess-by-post/react/", {"text": "x"}).status_code == 429
    assert phone("192.0.2.14").get("/r/guess-elsewhere/").status_code == 404
    assert guesser.get(page_url(share)).status_code == 200, "a real link still opens"


@pytest.mark.django_db
def test_the_guessing_limit_lifts_after_its_window(time_machine):
    time_machine.move_to(NOW, tick=False)
    guesser = phone("192.0.2.13")
    for n in range(limits.UNKNOWN_TOKENS_PER_CLIENT.count):
        guesser.get(f"/r/guess-{n}/")
    assert guesser.get("/r/guess-one-more/").status_code == 429

    time_machine.move_to(
        NOW + timedelta(seconds=limits.UNKNOWN_TOKENS_PER_CLIENT.seconds), tick=False
    )

    assert guesser.get("/r/guess-again/").status_code == 404


# Who a client is ---------------------------------------------------------------------------


def client_id_at(ip: str, when: datetime, time_machine, **headers: str) -> str:
    time_machine.move_to(when, tick=False)
    request = RequestFactory().get("/", REMOTE_ADDR=ip, headers=headers)
    return counting.client_id(request)


def test_the_client_id_is_a_hash_that_does_not_contain_the_address(time_machine):
    client_id = client_id_at("203.0.113.45", NOW, time_machine)

    assert re.fullmatch(r"[0-9a-f]{32}", client_id)
    assert "203.0.113.45" not in client_id
    assert "2030113045" not in client_id


def test_the_client_id_is_stable_through_one_utc_day(time_machine):
    morning = client_id_at("203.0.113.45", datetime(2026, 3, 10, 0, 0, tzinfo=UTC), time_machine)
    night = client_id_at(
        "203.0.113.45", datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC), time_machine
    )

    assert morning == night


def test_the_client_id_changes_with_the_utc_day(time_machine):
    before = client_id_at(
        "203.0.113.45", datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC), time_machine
    )
    after = client_id_at("203.0.113.45", datetime(2026, 3, 11, 0, 0, tzinfo=UTC), time_machine)

    assert before != after


def test_the_client_id_changes_with_the_address(time_machine):
    assert client_id_at("203.0.113.45", NOW, time_machine) != client_id_at(
        "203.0.113.46", NOW, time_machine
    )


def test_a_forged_forwarded_for_header_does_not_make_a_new_client(time_machine):
    plain = client_id_at("203.0.113.45", NOW, time_machine)
    forged = client_id_at("203.0.113.45", NOW, time_machine, **{"X-Forwarded-For": "10.9.8.7"})

    assert plain == forged


def test_behind_our_proxy_the_client_is_the_address_the_proxy_saw(settings, time_machine):
    settings.OUTERLOOP_BEHIND_PROXY = True
    seen = client_id_at("10.0.0.2", NOW, time_machine, **{"X-Forwarded-For": "203.0.113.45"})
    spoofed = client_id_at(
        "10.0.0.2", NOW, time_machine, **{"X-Forwarded-For": "1.2.3.4, 203.0.113.45"}
    )
    other = client_id_at("10.0.0.2", NOW, time_machine, **{"X-Forwarded-For": "203.0.113.46"})

    assert seen == spoofed
    assert seen != other


# Honeypot, CSRF, huge bodies ---------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_filled_honeypot_looks_accepted_but_saves_nothing(share, htmx):
    response = phone().post(
        react_url(share),
        {"text": "Great product, visit my site", "website": "https://spam.example"},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 302
    assert response["Location"] == thanks_url(share)
    assert not Reaction.objects.exists()
    assert not Visit.objects.exists()


def cookieless(ip: str = "198.51.100.7") -> Client:
    """A phone's browser that keeps no cookies, against a server that checks CSRF as a real
    one does (the test client skips the check unless told)."""
    browser = phone(ip, enforce_csrf_checks=True)

    def refuse_cookies(response, *args, **kwargs):
        browser.cookies.clear()
        return response

    browser.request = lambda **request: refuse_cookies(Client.request(browser, **request))
    return browser


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_reaction_from_a_browser_that_keeps_no_cookies_is_saved(share, htmx):
    sam = cookieless()
    sam.get(page_url(share))

    response = sam.post(
        react_url(share), {"text": "Works with cookies off"}, headers=HTMX if htmx else {}
    )

    assert response.status_code == (200 if htmx else 302)
    assert Reaction.objects.get().text == "Works with cookies off"
    assert list(share.visits.values_list("kind", flat=True)) == [VisitKind.OPEN]


def test_the_confirm_and_the_tap_from_a_browser_that_keeps_no_cookies_are_recorded(share):
    sam = cookieless()
    sam.get(page_url(share))

    opened = sam.post(seen_url(share), {"touch": "5"}, headers=HTMX)
    tapped = sam.get(go_url(share))

    assert (opened.status_code, tapped.status_code) == (204, 302)
    assert list(share.visits.values_list("kind", "device_class")) == [
        (VisitKind.OPEN, "phone"),
        (VisitKind.TAP, "phone"),
    ]


def test_a_fresh_link_asked_for_by_a_browser_that_keeps_no_cookies_is_recorded(share, time_machine):
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    sam = cookieless()
    sam.get(page_url(share))

    response = sam.post(fresh_url(share), headers=HTMX)

    assert response.status_code == 200
    share.refresh_from_db()
    assert share.fresh_link_requested_at is not None


def test_the_recipients_pages_ask_for_no_csrf_cookie(share):
    sam = phone()

    pages = [sam.get(page_url(share)), sam.post(react_url(share), {"text": "Hi"}, follow=True)]

    for page in pages:
        assert "csrftoken" not in sam.cookies
        assert "csrfmiddlewaretoken" not in page.content.decode()
        assert "X-CSRFToken" not in page.content.decode()


def test_the_reaction_limit_holds_for_browsers_that_keep_no_cookies(share):
    for n in range(limits.REACTIONS_PER_SHARE.count):
        cookieless(f"203.0.113.{n}").post(react_url(share), {"text": f"Reaction {n}"})

    refused = cookieless("203.0.113.250").post(react_url(share), {"text": "One too many"})

    assert refused.status_code == 429
    assert Reaction.objects.count() == limits.REACTIONS_PER_SHARE.count


@pytest.mark.parametrize(
    "route",
    ["reactions:share-renew", "reactions:reaction-counts", "reactions:share-again"],
)
def test_the_builders_own_posts_still_need_the_csrf_token(share, owner, route):
    alex = Client(headers={"User-Agent": PHONE_UA}, enforce_csrf_checks=True)
    alex.force_login(owner)
    reaction = Reaction.objects.create(share=share, builder=owner, text="Nice")
    ids = {
        "reactions:share-renew": share.pk,
        "reactions:reaction-counts": reaction.pk,
        "reactions:share-again": share.recipient.pk,
    }

    response = alex.post(reverse(route, args=[ids[route]]), {"counts": "0"})

    assert response.status_code == 403
    assert Share.objects.count() == 1
    assert Reaction.objects.get().counts


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_body_over_the_upload_limit_is_a_clean_400_and_saves_nothing(share, settings, htmx):
    sam = cookieless()
    sam.get(page_url(share))
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = sam.post(react_url(share), {"text": huge}, headers=HTMX if htmx else {})

    assert response.status_code == 400
    assert huge not in response.content.decode()
    assert not Reaction.objects.exists()


# Content-Security-Policy -------------------------------------------------------------------


def test_the_recipient_page_has_a_strict_script_policy_with_a_nonce(share):
    response = phone().get(page_url(share))

    policy = csp(response)
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9+/=]+)'", policy["script-src"][1])[1]
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_every_inline_style_and_script_on_the_page_carries_the_nonce(share):
    response = phone().get(page_url(share))
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]
    page = response.content.decode()

    styles = re.findall(r"<style([^>]*)>", page)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert styles == [f' nonce="{nonce}"']
    assert scripts, "the page loads its scripts from /static/"
    for attributes in scripts:
        src = re.search(r'src="([^"]+)"', attributes)
        assert src and src[1].startswith("/static/"), f"inline or foreign script: {attributes}"
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler would be blocked"
    assert not re.search(r'\sstyle="', page), "a style attribute would be blocked"


def test_each_response_gets_its_own_nonce(share):
    first = csp(phone().get(page_url(share)))["script-src"]
    second = csp(phone().get(page_url(share)))["script-src"]

    assert first != second


@pytest.mark.parametrize(
    "url",
    [
        lambda share: page_url(share),
        lambda share: thanks_url(share),
        lambda share: "/r/no-such-token/",
        lambda share: reverse("outerloop:dashboard"),
        lambda share: reverse("reactions:share-detail", args=[share.pk]),
    ],
    ids=["recipient", "thanks", "not-found", "dashboard", "share-detail"],
)
def test_every_page_carries_the_policy(owner_client, share, url):
    response = owner_client.get(url(share))

    policy = csp(response)
    assert policy["script-src"][0] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == ["'none'"]


# What unfurlers and search engines read ----------------------------------------------------


def test_the_link_unfurls_as_the_builder_asking_for_a_reaction(share):
    page = text_of(robot(ROBOTS["Slackbot"]).get(page_url(share)))

    for tag in ('property="og:title"', 'name="twitter:title"'):
        assert f'<meta {tag} content="Alex would like your reaction to Crag finder">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    assert PREVIEW_URL not in page


def test_a_title_with_markup_cannot_break_out_of_the_meta_tags(share):
    share.preview.session.title = '"><script>alert(1)</script>'
    share.preview.session.save()

    page = phone().get(page_url(share)).content.decode()

    assert "<script>alert(1)</script>" not in page
    expected = 'content="Alex would like your reaction to &quot;&gt;&lt;script&gt;alert(1)'
    assert f'<meta property="og:title" {expected}' in page


def test_every_recipient_response_says_noindex(share, time_machine):
    sam = phone()
    responses = {
        "page": sam.get(page_url(share)),
        "page, HEAD": sam.head(page_url(share)),
        "beacon": sam.post(seen_url(share)),
        "open button": sam.get(go_url(share)),
        "reaction": sam.post(react_url(share), {"text": "Nice"}),
        "htmx reaction": sam.post(react_url(share), {"text": "Nice"}, headers=HTMX),
        "refused reaction": sam.post(react_url(share), {"text": ""}),
        "thanks": sam.get(thanks_url(share)),
    }
    time_machine.move_to(share.preview.expires_at, tick=False)
    responses["expired open button"] = sam.get(go_url(share))
    responses["fresh link"] = sam.post(fresh_url(share))
    responses["htmx fresh link"] = sam.post(fresh_url(share), headers=HTMX)

    for name, response in responses.items():
        assert response.get("X-Robots-Tag") == "noindex, nofollow", name
    for name in ("page", "refused reaction", "thanks", "expired open button"):
        page = responses[name].content.decode()
        assert '<meta name="robots" content="noindex, nofollow">' in page, name


def test_a_rate_limited_reaction_page_says_noindex_too(share):
    fill_reaction_limit_of(share)

    response = phone("198.51.100.99").post(react_url(share), {"text": "One too many"})

    assert response.status_code == 429
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


# Framed mode -------------------------------------------------------------------------------


def test_a_frameable_live_preview_fills_the_page_with_a_bar_to_react(framed):
    response = phone().get(page_url(framed))

    page = response.content.decode()
    assert f'<iframe src="{PREVIEW_URL}" title="Crag finder, by Alex"' in page
    assert '<a class="btn small" href="#reaction">React</a>' in page
    assert (
        f'<a class="btn small secondary" href="{go_url(framed)}" target="_blank" '
        f'rel="noopener noreferrer">Open in a new tab</a>'
    ) in page
    assert 'class="btn open-btn"' not in page
    assert "Open Crag finder" not in page
    assert '<form id="reaction"' in page


def test_a_framed_page_may_frame_exactly_the_previews_origin(framed):
    policy = csp(phone().get(page_url(framed)))

    assert policy["frame-src"] == ["https://crag-finder.example.dev"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]


def test_a_framed_preview_on_its_own_port_allows_that_port_only(session):
    preview = session.add_preview("https://preview.example.dev:8443/app?x=1", frameable=True)
    share = ShareFactory(recipient__builder=session.builder, preview=preview)

    policy = csp(phone().get(page_url(share)))

    assert policy["frame-src"] == ["https://preview.example.dev:8443"]


def test_a_framed_page_shown_again_after_a_refused_reaction_still_allows_its_frame(framed):
    response = phone().post(react_url(framed), {"text": ""})

    assert response.status_code == 400
    assert f'<iframe src="{PREVIEW_URL}"' in response.content.decode()
    assert csp(response)["frame-src"] == ["https://crag-finder.example.dev"]


def test_an_expired_frameable_preview_shows_no_frame_and_no_url(framed, time_machine):
    time_machine.move_to(framed.preview.expires_at, tick=False)

    response = phone().get(page_url(framed))

    page = unescape(response.content.decode())
    assert "<iframe" not in page
    assert "crag-finder.example.dev" not in page
    assert "This preview has expired." in page
    assert csp(response)["frame-src"] == ["'none'"]


def test_a_page_that_is_not_framed_may_frame_nothing(share):
    response = phone().get(page_url(share))

    assert "<iframe" not in response.content.decode()
    assert csp(response)["frame-src"] == ["'none'"]


def test_the_builders_own_pages_may_frame_nothing(owner_client, framed):
    response = owner_client.get(reverse("reactions:share-detail", args=[framed.pk]))

    assert csp(response)["frame-src"] == ["'none'"]


# One browser, one open ---------------------------------------------------------------------


def test_two_racing_views_from_one_phone_without_a_cookie_make_one_open(share):
    """The page's GET and its beacon race, or the browser drops cookies: still one open."""
    first, second = phone("203.0.113.45"), phone("203.0.113.45")

    first.get(page_url(share))
    second.get(page_url(share))
    first.post(seen_url(share))
    second.post(seen_url(share))

    assert list(share.visits.values_list("kind", flat=True)) == [VisitKind.OPEN]


def test_two_phones_behind_one_address_are_two_opens(share):
    pixel, _ = BROWSERS["Chrome, Pixel 8"]
    android = Client(headers={"User-Agent": pixel}, REMOTE_ADDR="203.0.113.45")

    phone("203.0.113.45").post(seen_url(share))
    android.post(seen_url(share))

    assert list(share.visits.values_list("kind", flat=True)) == [VisitKind.OPEN, VisitKind.OPEN]


@pytest.mark.django_db(transaction=True)
@needs_postgres
def test_beacons_at_the_same_instant_from_one_phone_make_one_open(share):
    def beacon() -> int:
        return phone("203.0.113.45").post(seen_url(share)).status_code

    statuses, errors = run_at_once(*[beacon] * 4)

    assert errors == []
    assert statuses == [204] * 4
    assert list(share.visits.values_list("kind", flat=True)) == [VisitKind.OPEN]


@pytest.mark.parametrize("path", ["/r/abc%00def/", "/r/%ED%A0%80/", "/r/" + "a" * 65 + "/"])
def test_a_malformed_token_is_a_plain_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", True),  # one /64: one client
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("203.0.113.5", "203.0.113.6", False),
        ("::ffff:203.0.113.5", "203.0.113.5", True),
    ],
)
def test_a_client_is_its_ipv4_address_or_its_ipv6_64(one, other, same):
    """Rotating through the 2^64 addresses of one IPv6 /64 doesn't make a new client."""
    ids = [counting.client_id(RequestFactory().get("/", REMOTE_ADDR=ip)) for ip in (one, other)]

    assert (ids[0] == ids[1]) is same
