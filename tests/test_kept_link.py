"""A load of a recipient's page while nothing it shows changed is answered from the page's
last render: no query, no template, and never stale (reactions/kept_link.py).

The first load of a link renders and learns the link's ids; the second reads the change
versions before the row and keeps its render; the ones after are answered from it while the
link's and its builder's versions hold, until the preview expires, KEPT_SECONDS at most.
Each answer has its own CSP nonce and form key, and marks the browser as having loaded the
page. What one browser sees alone (what it said, the builder's own notice) is never kept
nor served from a render, and a flushed, failing or absent shared cache renders the page.
"""

import re
from datetime import timedelta

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reactions import kept_link
from reactions.activity import page_mark
from reactions.live import KEPT_SECONDS, placeholder
from reactions.models import Reaction, Visit, VisitKind
from reactions.removal import delete_share
from tests.conftest import PHONE_UA
from tests.factories import ShareFactory
from tests.test_live_cache import BUILDER_WRITERS, SHARE_WRITERS, CacheSwitch

NONCE = re.compile(r'nonce="([^"]+)"')
FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
BOT_UA = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


def page_url(share, query: str = "") -> str:
    return reverse("reactions:recipient-page", args=[share.token]) + query


def load(client: Client, share, query: str = "", status: int = 200):
    """The page's response as the browser gets it, and how many queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url(share, query))
    assert response.status_code == status
    return response, len(queries)


def without_tokens(page: str) -> str:
    """The page with its CSP nonces and its form key blanked: each answer has its own."""
    return FORM_KEY.sub('name="idempotency_key" value=""', NONCE.sub('nonce=""', page))


def kept(client: Client, share, query: str = "", session_queries: int = 0):
    """The page loaded three times: rendered, rendered and kept, then from the render (with
    the queries of a signed-in browser's session, `session_queries`, and no others)."""
    first, queries = load(client, share, query)
    assert queries > session_queries
    _, queries = load(client, share, query)
    assert queries > session_queries, "a render was kept without its versions read first"
    third = from_the_render(client, share, query, session_queries)
    assert without_tokens(third.content.decode()) == without_tokens(first.content.decode())
    return third


def from_the_render(client: Client, share, query: str = "", session_queries: int = 0):
    response, queries = load(client, share, query)
    assert queries == session_queries
    return response


def asks_the_database(client: Client, share, status: int = 200) -> str:
    response, queries = load(client, share, status=status)
    assert queries > 0, "the kept render was shown after a change"
    return response.content.decode()


def test_a_third_load_is_answered_from_the_render_without_a_query(sam, share):
    response = kept(sam, share)

    page = response.content.decode()
    assert "Alex</bdi> built something and would like your reaction." in page
    assert "<h1><bdi>Crag finder</bdi></h1>" in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert placeholder("nonce") not in page and placeholder("form_key") not in page


def test_each_kept_answer_has_its_own_nonce_in_the_page_and_the_policy(sam, share):
    first, second = kept(sam, share), load(sam, share)[0]

    nonces = [set(NONCE.findall(r.content.decode())) for r in (first, second)]
    assert all(len(n) == 1 for n in nonces)
    assert nonces[0] != nonces[1]
    for response, nonce in zip((first, second), nonces, strict=True):
        assert f"'nonce-{next(iter(nonce))}'" in response["Content-Security-Policy"]


def test_each_kept_answer_has_its_own_form_key_and_the_form_saves(sam, share):
    first, second = kept(sam, share), load(sam, share)[0]
    keys = [FORM_KEY.search(r.content.decode()).group(1) for r in (first, second)]
    assert keys[0] != keys[1]

    sam.post(
        reverse("reactions:recipient-react", args=[share.token]),
        {"text": "Sent from a kept page", "idempotency_key": keys[1]},
    )

    assert Reaction.objects.get(share=share).idempotency_key == keys[1]


def test_a_kept_answer_marks_the_browser_so_its_tap_on_open_counts(sam, share):
    kept(sam, share)
    phone = Client(headers={"User-Agent": PHONE_UA}, REMOTE_ADDR="198.51.100.7")
    from_the_render(phone, share)
    phone.cookies.clear()  # a browser that keeps no cookies: only the cache's mark is left

    phone.get(reverse("reactions:recipient-go", args=[share.token]))

    assert Visit.objects.filter(share=share, kind=VisitKind.TAP).count() == 1


def test_a_kept_answer_is_one_redis_round_trip_that_also_marks_the_page(
    private_redis_cache,
    sam,
    share,
):
    kept(sam, share)
    phone = Client(headers={"User-Agent": PHONE_UA}, REMOTE_ADDR="198.51.100.9")

    sent = private_redis_cache.commands_sent(lambda: from_the_render(phone, share))

    assert [command.split()[0] for command in sent] == ["EVALSHA"], sent
    assert ":page:" in sent[0]  # the mark, written by the script
    assert sum(":changes:" in part for part in sent[0].split()) == 3  # link, builder, all


def test_a_kept_answer_sets_the_page_cookie(sam, share):
    response = kept(sam, share)

    cookie = response.cookies["ol_page"]
    assert cookie["path"] == page_url(share)
    assert cookie["httponly"]


def marked(user_agent: str, share) -> bool:
    """Whether the cache marks the browser with `user_agent` on the test client's address as
    having loaded `share`'s page."""
    request = RequestFactory().get(page_url(share), HTTP_USER_AGENT=user_agent)
    return cache.get(page_mark(request, share.token)) is not None


def test_a_robot_gets_the_kept_page_and_marks_nothing(share):
    robot = Client(headers={"User-Agent": BOT_UA})
    response = kept(robot, share)

    assert "ol_page" not in response.cookies
    assert not marked(BOT_UA, share)
    kept_link._links_here.clear()  # a worker that learns the link from the kept render
    from_the_render(robot, share)
    assert not marked(BOT_UA, share)


def test_a_person_is_marked_by_a_worker_that_learns_the_link_from_the_render(
    private_redis_cache, sam, share
):
    kept(Client(headers={"User-Agent": BOT_UA}), share)
    kept_link._links_here.clear()

    sent = private_redis_cache.commands_sent(lambda: from_the_render(sam, share))

    # The render read by the script, the mark written beside it as it was found; then the
    # versions. Nothing else writes the mark.
    assert next(command for command in sent if ":page:" in command).startswith("EVALSHA")
    assert {command.split()[0] for command in sent} <= {"EVALSHA", "SCRIPT", "MGET"}, sent
    assert marked(PHONE_UA, share)


@pytest.mark.parametrize("writer", list(SHARE_WRITERS))
def test_what_a_recipient_does_reaches_the_next_load(owner_client, sam, share, writer):
    kept(sam, share)

    SHARE_WRITERS[writer](owner_client, Client(headers={"User-Agent": PHONE_UA}), share)

    asks_the_database(sam, share)


@pytest.mark.parametrize("writer", list(BUILDER_WRITERS))
def test_a_change_of_the_builders_own_rows_reaches_the_next_load(owner_client, sam, share, writer):
    kept(sam, share)

    BUILDER_WRITERS[writer](owner_client, share)

    asks_the_database(sam, share)


def test_a_renamed_session_shows_on_the_next_load(owner_client, sam, share):
    kept(sam, share)

    BUILDER_WRITERS["a session renamed"](owner_client, share)

    assert "<h1><bdi>Crags</bdi></h1>" in asks_the_database(sam, share)


def test_a_renamed_builder_shows_on_the_next_load(owner, sam, share):
    kept(sam, share)

    owner.name = "Alexandra"
    owner.save()

    assert "Alexandra</bdi> built something" in asks_the_database(sam, share)


def test_a_deleted_link_is_gone_on_the_next_load(sam, share):
    kept(sam, share)

    delete_share(share)

    assert "removed" in asks_the_database(sam, share, status=410)


def test_a_deleted_account_takes_its_links_pages_at_once(owner, sam, share):
    kept(sam, share)

    owner.delete()

    asks_the_database(sam, share, status=404)


def test_an_expired_preview_shows_on_the_first_load_after_its_moment(sam, share, time_machine):
    kept(sam, share)

    time_machine.move_to(share.preview.expires_at + timedelta(seconds=1), tick=False)

    assert "This preview has expired." in asks_the_database(sam, share)
    assert "This preview has expired." in asks_the_database(sam, share)  # never kept


def test_a_render_is_kept_for_a_minute_at_most(sam, share, time_machine):
    kept(sam, share)

    time_machine.move_to(timezone.now() + timedelta(seconds=KEPT_SECONDS + 1), tick=False)

    asks_the_database(sam, share)


def test_a_qr_scan_and_a_plain_load_each_get_their_own_render(sam, share):
    scanned = kept(sam, share, "?via=qr").content.decode()
    assert load(sam, share)[1] > 0  # the plain page's render, kept
    plain = from_the_render(sam, share).content.decode()

    assert """hx-vals='{"via": "qr"}'""" in scanned
    assert "hx-vals" not in plain


def test_any_other_query_renders_every_time(sam, share):
    kept(sam, share)

    for _ in range(3):
        assert load(sam, share, "?utm_source=chat")[1] > 0


def test_a_browser_that_said_something_sees_it_and_never_the_kept_page(sam, share):
    kept(sam, share)
    sam.post(reverse("reactions:recipient-react", args=[share.token]), {"text": "Loved the map"})

    for _ in range(3):
        page = asks_the_database(sam, share)
        assert "Loved the map" in page
    phone = Client(headers={"User-Agent": PHONE_UA})
    assert load(phone, share)[1] > 0  # the reaction changed the link: rendered, kept
    assert "Loved the map" not in from_the_render(phone, share).content.decode()


def test_the_builder_sees_their_own_notice_and_never_the_kept_page(owner_client, sam, share):
    kept(sam, share)

    for _ in range(3):
        page = load(owner_client, share)[0].content.decode()
        assert "your own link" in page.lower()
    assert "your own link" not in load(sam, share)[0].content.decode().lower()


def test_another_builder_signed_in_gets_the_kept_page(outsider_client, share):
    response = kept(outsider_client, share, session_queries=2)  # their session and account

    assert "your own link" not in response.content.decode().lower()


def test_a_framed_preview_kept_lets_its_origin_into_the_frame(session, sam):
    framed = ShareFactory(
        recipient__builder=session.builder,
        preview=session.add_preview("https://crag-finder.example.dev/", frameable=True),
    )

    response = kept(sam, framed)

    assert "frame-src https://crag-finder.example.dev" in response["Content-Security-Policy"]
    assert '<iframe src="https://crag-finder.example.dev/"' in response.content.decode()


def test_a_head_request_is_answered_from_the_render(sam, share):
    kept(sam, share)

    with CaptureQueriesContext(connection) as queries:
        response = sam.head(page_url(share))

    assert response.status_code == 200
    assert len(queries) == 0


def test_an_unknown_token_leaves_nothing_in_the_cache(private_redis_cache, sam, db):
    for n in range(5):
        assert sam.get(f"/r/madeUpTokenNumber{n:04d}/").status_code == 404

    server = redis.Redis.from_url(private_redis_cache.url)
    assert [key for key in server.scan_iter() if b":page:" in key] == []


def test_a_redis_that_refuses_writes_still_answers_every_load(
    private_redis_cache,
    sam,
    share,
    session,
):
    kept(sam, share)
    never_loaded = ShareFactory(recipient=share.recipient, preview=share.preview)
    private_redis_cache.refuse_writes()
    kept_link._links_here.clear()

    for link in (share, share, never_loaded, never_loaded):
        response = Client(headers={"User-Agent": PHONE_UA}).get(page_url(link))
        assert response.status_code == 200
        assert "Crag finder" in response.content.decode()
        assert "ol_page" in response.cookies  # the cookie marks the page loaded


def test_a_flushed_cache_renders_the_page_again(sam, share):
    kept(sam, share)
    cache.clear()

    assert "Crag finder" in asks_the_database(sam, share)


def test_a_cache_that_is_down_renders_the_page_from_the_database(sam, share, settings):
    kept(sam, share)
    switch = CacheSwitch(settings)
    switch.down()

    for _ in range(2):
        assert "Crag finder" in asks_the_database(sam, share)


def test_without_a_shared_cache_every_load_renders(sam, share, settings):
    settings.OUTERLOOP_LIVE_CACHE = False

    for _ in range(3):
        assert "Crag finder" in asks_the_database(sam, share)


def test_a_process_that_never_rendered_the_link_answers_from_anothers_render(sam, share):
    kept(sam, share)
    kept_link._links_here.clear()  # a worker that never rendered this link

    response, queries = load(sam, share)

    assert queries == 0
    assert "Crag finder" in response.content.decode()
