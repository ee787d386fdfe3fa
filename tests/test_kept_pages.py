"""A load of the dashboard or the habit page while nothing it shows changed reuses the last
render, and is never stale.

The page's render is kept whole in the cache under the change versions read before anything
else (reactions.live.Kept, `live_page`): a load finds it only while no writer replaced them
(common.changes), the page's clock moments have not passed (its pulse's, and the ones its
template names with `{% kept_until %}`), KEPT_SECONDS at most, and no message waits to be
shown. Each answer carries its own CSRF token and CSP nonce. A flushed, failing or absent
shared cache renders the page as always.
"""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common import changes
from common.builders import Builder
from reactions.live import KEPT_SECONDS, Kept, placeholder
from reactions.models import Recipient
from tests.conftest import PHONE_UA
from tests.test_live_cache import BUILDER_WRITERS, SHARE_WRITERS, CacheSwitch
from tests.test_live_watch import DASHBOARD, sam_reacts

# A load that reuses the render reads the session and the builder, and nothing else.
KEPT_QUERIES = 2
PAGES = {"dashboard": DASHBOARD, "habit": reverse("outerloop:habit")}
# What each page shows of Alex's link sent today (the habit page: today, not yet closed).
SHOWS = {DASHBOARD: "Crag finder", reverse("outerloop:habit"): "day today is-today"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def load(client: Client, url: str = DASHBOARD) -> tuple[str, int]:
    """The page as the browser gets it, and how many queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


NONCE = re.compile(r'nonce="([^"]+)"')


def without_tokens(page: str) -> str:
    """The page with each CSRF token and CSP nonce blanked: each answer has its own."""
    page = TOKEN.sub('name="csrfmiddlewaretoken" value=""', page)
    page = NONCE.sub('nonce=""', page)
    return re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', page)


def kept(client: Client, url: str = DASHBOARD) -> str:
    """The page, loaded twice: the second time from the kept render."""
    first, _ = load(client, url)
    again, queries = load(client, url)
    assert queries == KEPT_QUERIES
    assert without_tokens(again) == without_tokens(first)
    return again


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_a_second_load_reuses_the_render_and_reads_only_the_session_and_builder(
    owner_client, share, url
):
    page, queries = load(owner_client, url)
    assert queries > KEPT_QUERIES
    assert SHOWS[url] in page

    again = kept(owner_client, url)

    assert SHOWS[url] in again
    assert placeholder() not in again
    # The one nonce is the head's, each answer's own; none is kept with the render.
    assert set(NONCE.findall(page)).isdisjoint(NONCE.findall(again))
    assert "nonce=" not in again.split("</head>", 1)[1]


def test_a_message_is_shown_once_over_a_kept_render_and_never_kept(owner_client, share):
    kept(owner_client)

    shown = owner_client.post(
        reverse("outerloop:confirm-email-again"), {"next": DASHBOARD}, follow=True
    )

    assert "Your address is already confirmed." in shown.content.decode()
    again, queries = load(owner_client)
    assert queries == KEPT_QUERIES
    assert "already confirmed" not in again
    assert SHOWS[DASHBOARD] in again


def test_a_load_with_any_query_string_renders_and_keeps_nothing(owner_client, share):
    kept(owner_client)

    assert load(owner_client, DASHBOARD + "?&")[1] > KEPT_QUERIES  # request.GET is empty
    assert load(owner_client)[1] == KEPT_QUERIES


def test_a_kept_answers_policy_allows_its_own_nonce(owner_client, share):
    kept(owner_client)

    response = owner_client.get(DASHBOARD)

    (nonce,) = set(NONCE.findall(response.content.decode()))
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_each_page_is_kept_with_its_own_place_in_the_menu(owner_client, share):
    habit_url = reverse("outerloop:habit")
    assert f'<a href="{DASHBOARD}" aria-current="page">Today</a>' in kept(owner_client)

    habit, queries = load(owner_client, habit_url)

    assert queries > KEPT_QUERIES
    assert f'<a href="{habit_url}" aria-current="page">Habit</a>' in habit
    assert 'aria-current="page">Today' not in habit


def test_each_answer_carries_its_own_working_csrf_token(owner, owner_client, share):
    phone = Client(enforce_csrf_checks=True, headers={"User-Agent": PHONE_UA})
    phone.force_login(owner)  # a login replaces Alex's versions: before the render is kept
    kept(owner_client)

    page, queries = load(phone)

    assert queries == KEPT_QUERIES  # another session of Alex's reuses the render
    tokens = set(TOKEN.findall(page))
    assert len(tokens) == 1  # one per answer: the logout form's and the turn form's alike
    assert placeholder() not in page
    response = phone.post(
        reverse("outerloop:turn"),
        {"url": "https://crags.example.dev/", "recipient": "Jo", "channel": "dm"},
        headers={"X-CSRFToken": tokens.pop()},
    )
    assert response.status_code == 302
    assert Recipient.objects.filter(builder=owner, name="Jo").exists()


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
@pytest.mark.parametrize("writer", list(SHARE_WRITERS))
def test_what_a_recipient_does_reaches_the_next_load(owner_client, sam, share, writer, url):
    kept(owner_client, url)

    SHARE_WRITERS[writer](owner_client, sam, share)

    assert load(owner_client, url)[1] > KEPT_QUERIES, "the kept render was shown after a change"


@pytest.mark.parametrize("writer", list(SHARE_WRITERS))
def test_what_a_recipient_does_shows_on_the_next_dashboard(owner_client, sam, share, writer):
    before = kept(owner_client)

    SHARE_WRITERS[writer](owner_client, sam, share)

    after, queries = load(owner_client)
    assert queries > KEPT_QUERIES, "the kept render was shown after a change"
    assert without_tokens(after) != without_tokens(before)


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
@pytest.mark.parametrize("writer", list(BUILDER_WRITERS))
def test_a_change_of_the_builders_own_rows_reaches_the_next_load(owner_client, share, writer, url):
    kept(owner_client, url)

    BUILDER_WRITERS[writer](owner_client, share)

    assert load(owner_client, url)[1] > KEPT_QUERIES, "the kept render was shown after a change"


def test_a_reaction_shows_on_the_next_load(owner_client, sam, share):
    kept(owner_client)

    sam_reacts(sam, share, "Loved the map")

    page, _ = load(owner_client)
    assert "Loved the map" in page
    assert "Closed: someone reacted" in page


def test_a_rename_shows_on_the_next_load(owner_client, share):
    kept(owner_client)

    BUILDER_WRITERS["a person renamed"](owner_client, share)

    assert "Samira" in load(owner_client)[0]


def test_a_link_expiring_shows_on_the_first_load_after_its_moment(
    owner_client, share, time_machine
):
    assert '<span class="tag live">live</span>' in kept(owner_client)

    time_machine.move_to(share.preview.expires_at + timedelta(seconds=1), tick=False)

    page, queries = load(owner_client)
    assert queries > KEPT_QUERIES
    assert '<span class="tag">expired</span>' in page


def test_a_preview_of_ones_own_expiring_shows_on_the_next_load(owner_client, session, time_machine):
    """A preview sent to nobody is in no link, so no pulse sees its end: the page names it."""
    preview = session.add_preview("https://mine.example.dev/")
    preview.expires_at = timezone.now() + timedelta(seconds=KEPT_SECONDS // 2)
    preview.save()
    assert "It expired" not in kept(owner_client)

    time_machine.move_to(preview.expires_at + timedelta(seconds=1), tick=False)

    assert "It expired; you'll get a fresh one." in load(owner_client)[0]


def test_a_render_is_kept_for_a_minute_at_most(owner_client, share, time_machine):
    kept(owner_client)

    time_machine.move_to(timezone.now() + timedelta(seconds=KEPT_SECONDS + 1), tick=False)

    assert load(owner_client)[1] > KEPT_QUERIES


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_another_builder_never_gets_alexs_render(owner_client, outsider_client, share, url):
    kept(owner_client, url)

    page, queries = load(outsider_client, url)

    assert queries > KEPT_QUERIES
    assert "Crag finder" not in page


def test_a_refused_turn_is_never_kept(owner_client, share):
    kept(owner_client)

    refused = owner_client.post(reverse("outerloop:turn"), {"url": "ftp://crags.example.dev/"})
    assert refused.status_code == 400

    page, queries = load(owner_client)
    assert queries == KEPT_QUERIES
    assert "ftp://crags.example.dev/" not in page


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_a_flushed_cache_renders_the_page_again(owner_client, sam, share, url):
    kept(owner_client, url)
    cache.clear()

    page, queries = load(owner_client, url)

    assert queries > KEPT_QUERIES
    assert SHOWS[url] in page


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_without_a_shared_cache_every_load_renders(owner_client, share, settings, url):
    settings.OUTERLOOP_LIVE_CACHE = False
    load(owner_client, url)

    page, queries = load(owner_client, url)

    assert queries > KEPT_QUERIES
    assert SHOWS[url] in page


def test_a_cache_that_is_down_renders_the_page_from_the_database(
    owner_client, sam, share, settings
):
    kept(owner_client)
    switch = CacheSwitch(settings)
    switch.down()

    sam_reacts(sam, share, "Said while Redis was down")
    page, queries = load(owner_client)
    assert queries > KEPT_QUERIES
    assert "Said while Redis was down" in page

    switch.up()  # the old versions and render are back; the change it owed outdates them
    assert "Said while Redis was down" in load(owner_client)[0]


def test_a_render_whose_moment_passed_while_it_was_made_is_not_kept(time_machine):
    kept_page = Kept(key="live:page:test").holding_until(timezone.now() + timedelta(seconds=5))
    time_machine.move_to(timezone.now() + timedelta(seconds=6), tick=False)  # a slow render
    kept_page.moments.append(timezone.now() + timedelta(seconds=30))  # as its template names

    kept_page.keep("<p>made before the moment</p>")

    assert cache.get("live:page:test") is None


def test_a_zone_saved_while_the_page_loads_is_never_kept_under_the_new_versions(
    owner, owner_client, share, monkeypatch
):
    """Alex's row is loaded before the versions are read; a zone saved in between must not
    leave a render in the old zone kept under the new versions."""
    read_versions = changes.current_and

    def zone_saved_first(keys, other):
        Builder.objects.filter(pk=owner.pk).update(time_zone="America/New_York")
        changes.builder_changed(owner.pk)
        monkeypatch.setattr(changes, "current_and", read_versions)
        return read_versions(keys, other)

    monkeypatch.setattr(changes, "current_and", zone_saved_first)
    load(owner_client)

    assert "your day in America/New_York" in kept(owner_client)


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_a_page_with_a_query_is_never_kept(owner_client, share, url):
    owner_client.get(url + "?from=email")

    with CaptureQueriesContext(connection) as queries:
        assert owner_client.get(url + "?from=email").status_code == 200
    assert len(queries) > KEPT_QUERIES


def test_a_render_redis_refuses_to_keep_still_answers(
    private_redis_cache, owner, owner_client, share
):
    load(owner_client)  # the builder's version and a render, written
    changes.builder_changed(owner.pk)  # that render outdated: the next load keeps its own
    private_redis_cache.refuse_writes()

    page, _ = load(owner_client)

    assert "Sent, waiting for a reaction" in page
    assert load(owner_client)[1] > KEPT_QUERIES  # nothing was kept
