"""The live pages' unchanged poll comes from the cache, and is never stale.

A poll with the stamp the page holds, when nothing it shows changed, is an empty 304 without
a query (reactions/live.py: a memo of the session's last answer, checked against change
versions in the cache, common/changes.py). Every writer of what a live page shows replaces
the versions, so the next poll asks the database again and shows the change; a flushed or
failing cache, a passing deadline (an expiry), a logout or another builder never get a memo.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common import changes
from common.builders import Builder
from outerloop.publish import decide, request_publish
from reactions.activity import record_in_app
from reactions.expiry import expire_due
from reactions.models import Channel, Reaction, Recipient
from reactions.removal import delete_share
from reactions.sharing import send_link, share_preview
from reactions.tasks import expire_preview
from sessions.models import BuildSession, PublishStatus
from tests import services
from tests.conftest import SETTINGS_DEFAULTS
from tests.test_live_watch import DASHBOARD, detail_url, poll, sam_opens, sam_reacts, sam_taps

PAGES = {
    "dashboard": lambda share: DASHBOARD,
    "share": detail_url,
    "people": lambda share: reverse("reactions:people"),
    "sessions": lambda share: reverse("sessions:session-list"),
    "session": lambda share: reverse("sessions:session-detail", args=[share.preview.session_id]),
    "habit": lambda share: reverse("outerloop:habit"),
    "day": lambda share: reverse("outerloop:day", args=[share.day.isoformat()]),
}


def words(header: str) -> set[str]:
    return {word.strip() for word in header.split(",")}


def polled(client, url, etag=None):
    """The poll's answer and how many queries it made."""
    with CaptureQueriesContext(connection) as queries:
        response = poll(client, url, etag)
    return response, len(queries)


def watched(client, url) -> str:
    """The page's stamp, once a poll of it left its memo; the next unchanged poll with it is
    answered from the cache."""
    etag = poll(client, url)["ETag"]
    response, queries = polled(client, url, etag)
    assert (response.status_code, queries) == (304, 0)
    return etag


@pytest.mark.parametrize("page", list(PAGES))
def test_an_unchanged_poll_of_each_live_page_makes_no_query(owner_client, share, page):
    url = PAGES[page](share)
    etag = poll(owner_client, url)["ETag"]

    response, queries = polled(owner_client, url, etag)

    assert response.status_code == 304
    assert queries == 0
    assert response["ETag"] == etag
    assert words(response["Cache-Control"]) == {"private", "no-cache"}
    assert words(response["Vary"]) == {"HX-Request", "Cookie"}


def test_the_first_poll_and_a_stale_stamp_ask_the_database(owner_client, share):
    url = detail_url(share)
    etag = poll(owner_client, url)["ETag"]

    response, queries = polled(owner_client, url, '"an-older-stamp"')

    assert response.status_code == 200
    assert queries > 0
    assert response["ETag"] == etag


# Every writer replaces the versions: the next poll asks the database and shows it -----------


def assert_next_poll_asks_the_database(client, url, etag):
    response, queries = polled(client, url, etag)
    assert queries > 0, "answered from the cache after a change"
    return response


def sam_is_marked_as_not_counting(owner_client, sam, share):
    sam_reacts(sam, share)
    return Reaction.objects.get()


SHARE_WRITERS = {
    "an open": lambda owner_client, sam, share: sam_opens(sam, share),
    "a tap": lambda owner_client, sam, share: sam_taps(sam, share),
    "a reaction": lambda owner_client, sam, share: sam_reacts(sam, share),
    "in-app activity": lambda owner_client, sam, share: record_in_app(
        share, taps=2, paths=["/"], seconds=5
    ),
}


@pytest.mark.parametrize("writer", list(SHARE_WRITERS))
@pytest.mark.parametrize("page", ["share", "dashboard"])
def test_what_a_recipient_does_reaches_the_open_page(owner_client, sam, share, writer, page):
    url = PAGES[page](share)
    etag = watched(owner_client, url)

    SHARE_WRITERS[writer](owner_client, sam, share)

    response = assert_next_poll_asks_the_database(owner_client, url, etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_marking_a_reaction_as_not_counting_reaches_the_open_page(owner_client, sam, share):
    sam_reacts(sam, share)
    reaction = Reaction.objects.get()
    url = detail_url(share)
    etag = watched(owner_client, url)

    owner_client.post(reverse("reactions:reaction-counts", args=[reaction.pk]), {"counts": "0"})

    assert assert_next_poll_asks_the_database(owner_client, url, etag).status_code == 200


def test_a_fresh_link_request_reaches_the_open_page(owner_client, sam, share, time_machine):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=1), tick=False)
    url = detail_url(share)
    etag = watched(owner_client, url)

    sam.post(reverse("reactions:recipient-fresh", args=[share.token]))

    response = assert_next_poll_asks_the_database(owner_client, url, etag)
    assert response.status_code == 200
    assert "asked for a fresh link" in response.content.decode()


def test_the_expiry_moment_ends_the_memo(owner_client, share, time_machine):
    time_machine.move_to(share.preview.expires_at - timedelta(seconds=1), tick=False)
    url = detail_url(share)
    etag = watched(owner_client, url)

    time_machine.move_to(share.preview.expires_at, tick=False)

    response = assert_next_poll_asks_the_database(owner_client, url, etag)
    assert response.status_code == 200
    assert "expired just now" in response.content.decode()


def test_the_quiet_after_the_last_event_ends_the_memo(owner_client, sam, share, time_machine):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=1), tick=False)
    sam_opens(sam, share)
    url = detail_url(share)
    etag = watched(owner_client, url)

    time_machine.move_to(share.preview.expires_at + timedelta(minutes=12), tick=False)

    response = assert_next_poll_asks_the_database(owner_client, url, etag)
    assert 'hx-trigger="every 30s' in response.content.decode()  # polling slowly now


def test_the_waiting_window_ending_ends_the_dashboards_memo(owner_client, share, time_machine):
    time_machine.move_to(share.sent_at + timedelta(hours=47, minutes=59), tick=False)
    etag = watched(owner_client, DASHBOARD)

    time_machine.move_to(share.sent_at + timedelta(hours=48, seconds=1), tick=False)

    assert assert_next_poll_asks_the_database(owner_client, DASHBOARD, etag)["ETag"] != etag


@pytest.mark.parametrize("how", ["the sweep", "its own task"])
def test_an_expiry_recorded_reaches_the_open_session_page(owner_client, share, time_machine, how):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=1), tick=False)
    url = PAGES["session"](share)
    etag = watched(owner_client, url)

    if how == "the sweep":
        assert expire_due() == 1
    else:
        assert expire_preview(share.preview_id) == 1

    assert_next_poll_asks_the_database(owner_client, url, etag)
    assert "While it was live: 0 opens" in owner_client.get(url).content.decode()


# The writers that post follow the redirect, as a browser does: the message each leaves is
# shown on the page it goes to, not on the page a test loads next.


def renamed_person(owner_client, share):
    owner_client.post(
        reverse("outerloop:person-rename", args=[share.recipient_id]),
        {"name": "Samira"},
        follow=True,
    )
    assert Recipient.objects.get(pk=share.recipient_id).name == "Samira"


def renamed_session(owner_client, share):
    session_id = share.preview.session_id
    owner_client.post(
        reverse("outerloop:session-rename", args=[session_id]), {"title": "Crags"}, follow=True
    )
    assert BuildSession.objects.get(pk=session_id).title == "Crags"


def merged_person(owner_client, share):
    other = Recipient.objects.create(builder=share.recipient.builder, name="Sam K")
    share.recipient.merge_into(other)


def merged_session(owner_client, share):
    other = BuildSession.objects.create(builder=share.recipient.builder, title="Other")
    share.preview.session.merge_into(other)


def renewed(owner_client, share):
    send_link(share.preview.renew(), share.recipient, share.channel)


def lives_with(owner_client, share):
    share.recipient.lives_with = True
    share.recipient.save()


def new_preview(owner_client, share):
    share.preview.session.add_preview("https://other.example.dev/")


def new_link(owner_client, share):
    share_preview(
        share.preview,
        Recipient.objects.create(builder=share.recipient.builder, name="Jo"),
        Channel.DM,
    )


def new_zone(owner_client, share):
    owner_client.post(
        reverse("outerloop:settings"),
        {**SETTINGS_DEFAULTS, "time_zone": "America/New_York"},
        follow=True,
    )
    assert Builder.objects.get(pk=share.recipient.builder_id).time_zone == "America/New_York"


def publish_asked(owner_client, share):
    request_publish(share.preview, "crags.example.com", "")


def publish_decided(owner_client, share):
    decide(request_publish(share.preview, "crags.example.com", ""), PublishStatus.DECLINED)


def email_resumed(owner_client, share):
    owner_client.post(reverse("outerloop:email-resume"), follow=True)


BUILDER_WRITERS = {
    "a person renamed": renamed_person,
    "a session renamed": renamed_session,
    "a person merged": merged_person,
    "a session merged": merged_session,
    "a renewal": renewed,
    "a person marked as living with the builder": lives_with,
    "a preview added": new_preview,
    "a link sent": new_link,
    "a time zone changed": new_zone,
    "email resumed": email_resumed,
    "a publish request": publish_asked,
    "the operator's answer": publish_decided,
}


@pytest.mark.parametrize("writer", list(BUILDER_WRITERS))
@pytest.mark.parametrize("page", ["share", "dashboard", "session"])
def test_a_change_of_the_builders_own_rows_reaches_every_open_page(
    owner_client, share, writer, page
):
    url = PAGES[page](share)
    etag = watched(owner_client, url)

    BUILDER_WRITERS[writer](owner_client, share)

    assert_next_poll_asks_the_database(owner_client, url, etag)


def test_a_deleted_link_reaches_its_open_page(owner_client, share):
    url = detail_url(share)
    etag = watched(owner_client, url)

    delete_share(share)

    assert assert_next_poll_asks_the_database(owner_client, url, etag).status_code == 404


def test_a_deleted_session_reaches_the_open_sessions_page(owner_client, share):
    url = PAGES["sessions"](share)
    etag = watched(owner_client, url)

    owner_client.post(reverse("outerloop:session-delete", args=[share.preview.session_id]))

    assert assert_next_poll_asks_the_database(owner_client, url, etag).status_code == 200


def test_another_links_events_leave_a_share_pages_memo(owner_client, sam, share, recipient):
    other = share_preview(
        share.preview, Recipient.objects.create(builder=recipient.builder, name="Jo"), Channel.DM
    )
    url = detail_url(share)
    etag = watched(owner_client, url)

    sam_reacts(sam, other)

    response, queries = polled(owner_client, url, etag)
    assert (response.status_code, queries) == (304, 0)


# Sessions, owners, outages -------------------------------------------------------------------


def test_a_logged_out_session_gets_no_memo(owner_client, share):
    url = detail_url(share)
    etag = watched(owner_client, url)
    session_cookie = owner_client.cookies["sessionid"].value

    owner_client.post(reverse("outerloop:logout"))
    owner_client.cookies["sessionid"] = session_cookie  # a tab still holding the old cookie

    response = poll(owner_client, url, etag)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("outerloop:login"))


def test_a_password_change_ends_the_other_sessions_memos(owner_client, owner, share):
    url = detail_url(share)
    etag = watched(owner_client, url)

    owner.set_password("a whole new passphrase")
    owner.save()

    response = poll(owner_client, url, etag)
    assert response["HX-Redirect"].startswith(reverse("outerloop:login"))


def test_another_builder_never_gets_alexs_memo(owner_client, outsider_client, share):
    url = detail_url(share)
    etag = watched(owner_client, url)

    response, queries = polled(outsider_client, url, etag)

    assert response.status_code == 404
    assert queries > 0
    assert polled(outsider_client, url, etag)[0].status_code == 404


def test_without_a_shared_cache_every_poll_asks_the_database(owner_client, share, settings):
    settings.OUTERLOOP_LIVE_CACHE = False
    url = detail_url(share)
    etag = poll(owner_client, url)["ETag"]

    response, queries = polled(owner_client, url, etag)

    assert response.status_code == 304
    assert queries > 0


class CacheSwitch:
    """Takes the suite's cache away (a Redis nobody answers at: connection refused) and
    gives it back with its keys as they were (the in-memory cache keeps them by location)."""

    def __init__(self, settings) -> None:
        self.settings, self.working = settings, settings.CACHES

    def down(self) -> None:
        services.use_redis_cache(self.settings, f"redis://127.0.0.1:{services.free_port()}/0")

    def up(self) -> None:
        self.settings.CACHES = self.working


@pytest.fixture
def cache_switch(settings) -> CacheSwitch:
    return CacheSwitch(settings)


def flushed(cache_switch: CacheSwitch) -> None:
    cache.clear()


def down(cache_switch: CacheSwitch) -> None:
    cache_switch.down()


@pytest.mark.parametrize("lose_the_cache", [flushed, down], ids=["flushed", "down"])
def test_a_lost_cache_falls_back_to_the_database(
    owner_client, sam, share, cache_switch, lose_the_cache
):
    url = detail_url(share)
    etag = watched(owner_client, url)
    lose_the_cache(cache_switch)

    response, queries = polled(owner_client, url, etag)
    assert (response.status_code, queries > 0) == (304, True)  # correct, slower

    sam_reacts(sam, share)
    lose_the_cache(cache_switch)
    response = poll(owner_client, url, etag)
    assert response.status_code == 200
    assert "The big button is great." in response.content.decode()


def test_a_change_made_while_the_cache_was_down_reaches_the_page_once_it_is_back(
    owner_client, sam, share, cache_switch
):
    url = detail_url(share)
    etag = watched(owner_client, url)
    cache_switch.down()
    sam_reacts(sam, share)  # its versions can't be replaced now
    cache_switch.up()  # the memo and the old versions are back

    response = poll(owner_client, url, etag)

    assert response.status_code == 200
    assert "The big button is great." in response.content.decode()


def test_a_change_whose_writer_died_owing_it_reaches_the_page_once_the_cache_is_back(
    owner_client, outsider_client, sam, share, cache_switch
):
    url = detail_url(share)
    etag = watched(owner_client, url)
    cache_switch.down()
    sam_reacts(sam, share)
    changes._owed = False  # the process that wrote it died before the cache came back
    poll(outsider_client, DASHBOARD, "x")  # any poll during the outage: another builder's
    cache_switch.up()

    response = poll(owner_client, url, etag)

    assert response.status_code == 200
    assert "The big button is great." in response.content.decode()


def test_a_deleted_preview_without_links_reaches_the_open_session_page(owner_client, share):
    other = share.preview.session.add_preview("https://other.example.dev/")
    url = PAGES["session"](share)
    etag = watched(owner_client, url)

    owner_client.post(reverse("outerloop:preview-delete", args=[other.pk]))

    response = assert_next_poll_asks_the_database(owner_client, url, etag)
    assert "other.example.dev" not in owner_client.get(url).content.decode()
    assert response.status_code in {200, 304}
