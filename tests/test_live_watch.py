"""Live watch: Alex's share page and dashboard update themselves, whole, while Sam acts.

Each page polls its own URL (`templates/_live.html`) with the stamp it last got in
If-None-Match: while nothing it shows changed the answer is an empty 304; after anything
changed, the answer is the poller again (with the next stamp) and, out of band, every part
of the page that shows it. The page asks every 2 s while a link is live or something just
happened, and every 30 s otherwise: it never stops, so a late reaction still reaches it.
"""

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import Share, VisitKind
from tests.factories import (
    BuildSessionFactory,
    ReactionFactory,
    RecipientFactory,
    ShareFactory,
    VisitFactory,
)

HTMX = {"HX-Request": "true"}
FAST = 'hx-trigger="every 2s, visibilitychange from:document"'
IDLE = 'hx-trigger="every 30s, visibilitychange from:document"'
DASHBOARD = reverse("outerloop:dashboard")
DASHBOARD_CARDS = ["today-live", "streak-card", "reactions-card", "people-card"]


def detail_url(share: Share) -> str:
    return reverse("reactions:share-detail", args=[share.pk])


def poll(client: Client, url: str, etag: str | None = None):
    """What the page's poller sends: htmx, with the stamp it holds as If-None-Match."""
    headers = {**HTMX, **({"If-None-Match": etag} if etag else {})}
    return client.get(url, headers=headers)


def text_of(response) -> str:
    return unescape(response.content.decode()).strip()


def swapped_in(fragment: str) -> list[str]:
    """The ids of the parts a poll's answer replaces, out of band, in page order."""
    return re.findall(r'<\w+ id="([^"]+)"[^>]*? hx-swap-oob="true"', fragment)


def number(fragment: str, element_id: str) -> str:
    return re.search(rf'<strong id="{element_id}">([^<]*)</strong>', fragment)[1]


def steps_done(fragment: str, name: str) -> list[str]:
    """One person's steps as the dashboard's People card shows them, done ones only."""
    people = fragment.split('id="people-card"', 1)[1]
    block = re.search(rf"<bdi>{re.escape(name)}</bdi>.*?<ol[^>]*>(.*?)</ol>", people, re.S)[1]
    return re.findall(r'<li class="done">✓ ([a-z ]+)</li>', block)


def sam_opens(sam: Client, share: Share, **beacon: str) -> None:
    sam.get(reverse("reactions:recipient-page", args=[share.token]))
    sam.post(reverse("reactions:recipient-seen", args=[share.token]), beacon)


def sam_taps(sam: Client, share: Share) -> None:
    """Open is a button on the page: Sam's browser loaded the page before it."""
    sam.get(reverse("reactions:recipient-page", args=[share.token]))
    sam.get(reverse("reactions:recipient-go", args=[share.token]))


def sam_reacts(sam: Client, share: Share, text: str = "The big button is great.") -> None:
    sam.post(reverse("reactions:recipient-react", args=[share.token]), {"text": text})


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """That wall-clock time in Berlin, Alex's zone, on that day of March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo("Europe/Berlin"))


# The share page ----------------------------------------------------------------------------


def test_a_poll_answers_with_the_next_poll_and_the_parts_that_change(owner_client, share):
    response = poll(owner_client, detail_url(share))

    assert response.status_code == 200
    fragment = text_of(response)
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert fragment.startswith('<div id="live-pulse" hidden hx-get="' + detail_url(share) + '"')
    assert f'hx-headers=\'{{"If-None-Match": "\\{etag[:-1]}\\""}}\'' in fragment
    assert swapped_in(fragment) == ["fresh-link-notice", "activity"]
    assert "<html" not in fragment
    assert "The link" not in fragment  # a live link's box, copy button and QR code stay put
    assert "Nothing yet. Opens, taps and reactions appear here as they happen." in fragment


def test_the_full_page_carries_the_poller_with_the_current_stamp(owner_client, share):
    etag = poll(owner_client, detail_url(share))["ETag"]

    page = owner_client.get(detail_url(share)).content.decode()

    assert '<div id="live-pulse" hidden' in page
    assert f'"If-None-Match": "\\{etag[:-1]}\\""' in page


def test_a_poll_varies_on_htmx_and_is_revalidated_every_time(owner_client, share):
    response = poll(owner_client, detail_url(share))

    assert "HX-Request" in response["Vary"]
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "no-cache" in cache_control
    assert "private" in cache_control


def test_the_full_share_page_varies_on_htmx_too(owner_client, share):
    response = owner_client.get(detail_url(share))

    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_a_poll_with_the_current_etag_is_an_empty_304(owner_client, share):
    etag = poll(owner_client, detail_url(share))["ETag"]

    response = poll(owner_client, detail_url(share), etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "HX-Request" in response["Vary"]


def test_a_poll_with_a_stale_etag_gets_the_parts(owner_client, share):
    response = poll(owner_client, detail_url(share), '"not-the-current-one"')

    assert response.status_code == 200
    assert swapped_in(text_of(response)) == ["fresh-link-notice", "activity"]


@pytest.mark.parametrize(
    ("act", "shown"),
    [
        (sam_opens, "Opened on a phone"),
        (sam_taps, "Tapped Open on a phone"),
        (sam_reacts, "Reacted on a phone"),
    ],
    ids=["open", "tap", "reaction"],
)
def test_each_new_event_changes_the_etag_and_shows_in_the_partial(
    owner_client, sam, share, act, shown
):
    before = poll(owner_client, detail_url(share))
    assert shown not in text_of(before)

    act(sam, share)
    after = poll(owner_client, detail_url(share), before["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert shown in text_of(after)


def test_the_whole_path_shows_up_poll_by_poll(owner_client, sam, share):
    etags = [poll(owner_client, detail_url(share))["ETag"]]
    for act in (sam_opens, sam_taps, sam_reacts):
        act(sam, share)
        response = poll(owner_client, detail_url(share), etags[-1])
        assert response.status_code == 200
        etags.append(response["ETag"])
        assert poll(owner_client, detail_url(share), etags[-1]).status_code == 304

    assert len(set(etags)) == 4
    fragment = text_of(response)
    assert fragment.index("Opened on a phone") < fragment.index("Tapped Open on a phone")
    assert fragment.index("Tapped Open on a phone") < fragment.index("Reacted on a phone")
    assert "“<bdi>The big button is great.</bdi>”" in fragment


def test_marking_a_reaction_as_not_counting_changes_the_etag(owner_client, sam, share):
    sam_reacts(sam, share)
    etag = poll(owner_client, detail_url(share))["ETag"]
    reaction = share.reactions.get()

    owner_client.post(reverse("reactions:reaction-counts", args=[reaction.pk]), {"counts": "0"})
    response = poll(owner_client, detail_url(share), etag)

    assert response.status_code == 200
    assert "doesn't count: marked polite or scripted" in text_of(response)


def test_a_fresh_link_request_brings_the_renew_button_to_the_open_page(
    owner_client, sam, share, time_machine
):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=1), tick=False)
    etag = poll(owner_client, detail_url(share))["ETag"]

    sam.post(reverse("reactions:recipient-fresh", args=[share.token]))
    response = poll(owner_client, detail_url(share), etag)

    assert response.status_code == 200
    fragment = text_of(response)
    notice = fragment.split('<div id="fresh-link-notice" hx-swap-oob="true">', 1)[1]
    notice = notice.split('<section id="link-card"', 1)[0]
    assert "<strong><bdi>Sam</bdi> asked for a fresh link</strong> just now" in notice
    assert "Renew and send again</button>" in notice
    assert "<bdi>Sam</bdi> asked for a fresh link." in fragment  # the timeline says it too


def test_the_link_box_turns_into_renew_when_the_preview_expires_on_the_open_page(
    owner_client, share, time_machine
):
    expires_at = share.preview.expires_at
    time_machine.move_to(expires_at - timedelta(seconds=1), tick=False)
    etag = poll(owner_client, detail_url(share))["ETag"]
    assert 'id="link-card"' not in text_of(poll(owner_client, detail_url(share)))

    time_machine.move_to(expires_at, tick=False)
    response = poll(owner_client, detail_url(share), etag)

    assert response.status_code == 200
    fragment = text_of(response)
    assert swapped_in(fragment) == ["fresh-link-notice", "link-card", "activity"]
    card = fragment.split('<section id="link-card"', 1)[1].split("</section>", 1)[0]
    assert "This link's preview expired just now, so it no longer opens it." in card
    assert "Renew and send again</button>" in card
    assert 'id="share-link"' not in card
    assert "<svg" not in card


# How often the share page asks ---------------------------------------------------------------


def test_the_page_polls_every_two_seconds_while_the_preview_is_live(
    owner_client, share, time_machine
):
    time_machine.move_to(share.preview.expires_at - timedelta(seconds=1), tick=False)

    fragment = text_of(poll(owner_client, detail_url(share)))

    assert FAST in fragment
    assert '<span class="tag live">live</span>' in fragment
    assert FAST in owner_client.get(detail_url(share)).content.decode()


def test_once_expired_and_quiet_the_page_polls_slowly_and_never_stops(
    owner_client, share, time_machine
):
    expires_at = share.preview.expires_at
    time_machine.move_to(expires_at - timedelta(minutes=1), tick=False)
    live_etag = poll(owner_client, detail_url(share))["ETag"]
    time_machine.move_to(expires_at + timedelta(minutes=10), tick=False)

    response = poll(owner_client, detail_url(share), live_etag)

    assert response.status_code == 200, "a 304 would keep the two-second poll going"
    fragment = text_of(response)
    assert IDLE in fragment
    assert "live</span>" not in fragment
    assert IDLE in owner_client.get(detail_url(share)).content.decode()
    time_machine.move_to(expires_at + timedelta(days=3), tick=False)
    assert IDLE in owner_client.get(detail_url(share)).content.decode()


def test_a_reaction_days_later_reaches_the_page_left_open_and_it_polls_fast_again(
    owner_client, sam, share, time_machine
):
    time_machine.move_to(share.preview.expires_at + timedelta(days=2), tick=False)
    idle_etag = poll(owner_client, detail_url(share))["ETag"]

    sam_reacts(sam, share, "Sorry, only saw it now. Love it.")
    response = poll(owner_client, detail_url(share), idle_etag)

    assert response.status_code == 200
    fragment = text_of(response)
    assert "Sorry, only saw it now. Love it." in fragment
    assert FAST in fragment


def test_an_event_after_expiry_keeps_polling_fast_for_ten_more_minutes(
    owner_client, sam, share, time_machine
):
    expires_at = share.preview.expires_at
    time_machine.move_to(expires_at + timedelta(minutes=5), tick=False)
    sam_reacts(sam, share, "Missed the preview, but I like the idea.")

    time_machine.move_to(expires_at + timedelta(minutes=14, seconds=59), tick=False)
    still = text_of(poll(owner_client, detail_url(share)))
    time_machine.move_to(expires_at + timedelta(minutes=15), tick=False)
    slowed = text_of(poll(owner_client, detail_url(share)))

    assert FAST in still
    assert "Missed the preview, but I like the idea." in still
    assert IDLE in slowed
    assert "Missed the preview, but I like the idea." in slowed


def test_an_open_just_before_expiry_keeps_polling_fast_past_it(
    owner_client, sam, share, time_machine
):
    expires_at = share.preview.expires_at
    time_machine.move_to(expires_at - timedelta(minutes=2), tick=False)
    sam_opens(sam, share)

    time_machine.move_to(expires_at + timedelta(minutes=7), tick=False)

    assert FAST in text_of(poll(owner_client, detail_url(share)))


# Cost and ownership ------------------------------------------------------------------------


def add_events(share: Share, count: int) -> None:
    kinds = [VisitKind.OPEN, VisitKind.TAP, VisitKind.RETURN]
    for n in range(count):
        VisitFactory(share=share, kind=kinds[n % 3])
        ReactionFactory(share=share)


@pytest.mark.parametrize("events", [1, 50])
def test_a_share_page_poll_costs_the_same_few_queries_however_busy_the_share(
    owner_client, share, events, django_assert_max_num_queries
):
    add_events(share, events)
    etag = poll(owner_client, detail_url(share))["ETag"]  # warm the session, as a page has

    # session, builder, the share; the stamp (links, visits, reactions); the parts (visits,
    # reactions).
    with django_assert_max_num_queries(8):
        changed = poll(owner_client, detail_url(share))
    # session, builder, the share, the stamp: nothing is rendered.
    with django_assert_max_num_queries(6):
        unchanged = poll(owner_client, detail_url(share), etag)

    assert text_of(changed).count("Reacted") == events
    assert unchanged.status_code == 304


def test_another_builders_poll_is_a_404(outsider_client, share):
    response = poll(outsider_client, detail_url(share))

    assert response.status_code == 404
    assert "ETag" not in response
    assert "Crag finder" not in text_of(response)


def test_a_logged_out_poll_is_sent_to_log_in(client, share):
    response = poll(client, detail_url(share))

    assert response.status_code == 200  # htmx loads it whole, not into the page's cards
    assert response["HX-Redirect"] == f"{reverse('outerloop:login')}?next={detail_url(share)}"


# The dashboard, whole ----------------------------------------------------------------------


def test_a_dashboard_poll_answers_with_the_next_poll_and_every_card(owner_client, share):
    response = poll(owner_client, DASHBOARD)

    assert response.status_code == 200
    fragment = text_of(response)
    assert fragment.startswith('<div id="live-pulse" hidden hx-get="/"')
    assert f'"If-None-Match": "\\{response["ETag"][:-1]}\\""' in fragment
    assert swapped_in(fragment) == DASHBOARD_CARDS
    assert "<html" not in fragment
    assert 'name="recipient"' not in fragment, "the turn form is never swapped"
    assert "Sent, waiting for a reaction" in fragment
    assert FAST in fragment
    assert "HX-Request" in response["Vary"]
    assert "no-cache" in response["Cache-Control"]


def test_the_full_dashboard_varies_on_htmx_and_carries_the_poller(owner_client, share):
    response = owner_client.get(DASHBOARD)

    assert "HX-Request" in response["Vary"]
    assert '<div id="live-pulse" hidden hx-get="/"' in response.content.decode()


def test_the_dashboard_poll_is_a_304_while_nothing_changes(owner_client, share):
    etag = poll(owner_client, DASHBOARD)["ETag"]

    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 304
    assert response.content == b""


def test_sams_reaction_changes_every_card_in_one_poll(owner_client, sam, share):
    before = text_of(poll(owner_client, DASHBOARD))
    assert (number(before, "current-streak"), number(before, "best-streak")) == ("0", "0")
    assert number(before, "habit-score") == "0%"
    assert "No reactions yet." in before
    assert steps_done(before, "Sam") == ["sent"]
    etag = poll(owner_client, DASHBOARD)["ETag"]

    sam_opens(sam, share)
    sam_taps(sam, share)
    sam_reacts(sam, share, "Found a crag in two taps!")
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    after = text_of(response)
    assert swapped_in(after) == DASHBOARD_CARDS
    assert re.search(r'id="today-status">\s*Closed: someone reacted\s*</p>', after)
    assert '<li class="done">✓ reacted</li>' in after.split('id="streak-card"')[0]
    assert number(after, "current-streak") == "1"
    assert number(after, "best-streak") == "1"
    assert number(after, "habit-score") == "5%"  # one closed day: 1 - 0.5^(1/14)
    assert '<span class="day closed is-today" title="Tue 10 Mar: today">' in after
    assert "No reactions yet." not in after
    assert "“<bdi>Found a crag in two taps!</bdi>”" in after
    assert steps_done(after, "Sam") == ["sent", "opened", "tapped", "reacted"]


@pytest.mark.parametrize(
    ("act", "done"),
    [(sam_opens, ["sent", "opened"]), (sam_taps, ["sent", "opened", "tapped"])],
    ids=["open", "tap"],
)
def test_a_visit_reaches_people_and_today_in_the_next_poll(owner_client, sam, share, act, done):
    etag = poll(owner_client, DASHBOARD)["ETag"]

    act(sam, share)
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    assert steps_done(text_of(response), "Sam") == done


def test_the_dashboard_says_opened_on_a_phone(owner_client, sam, share):
    sam_opens(sam, share)

    fragment = text_of(poll(owner_client, DASHBOARD))

    assert '<li class="done">✓ opened on a phone</li>' in fragment


def test_the_dashboard_says_a_qr_scan_was_in_person(owner_client, sam, share):
    sam_opens(sam, share, via="qr")

    fragment = text_of(poll(owner_client, DASHBOARD))

    assert '<li class="done">✓ opened in person</li>' in fragment
    assert "on a phone" not in fragment


def test_a_late_reaction_to_yesterdays_link_heals_yesterday_on_the_open_dashboard(
    owner_client, recipient, sam, time_machine
):
    ReactionFactory(share=ShareFactory(recipient=recipient, sent_at=berlin(8, 13)))
    yesterday = ShareFactory(recipient=recipient, sent_at=berlin(9, 13))
    ReactionFactory(share=ShareFactory(recipient=recipient, sent_at=berlin(10, 12)))
    time_machine.move_to(berlin(10, 13), tick=False)
    before = poll(owner_client, DASHBOARD)
    assert number(text_of(before), "current-streak") == "2"  # yesterday is still waiting

    sam_reacts(sam, yesterday, "Sorry, late! Looks great.")
    response = poll(owner_client, DASHBOARD, before["ETag"])

    assert response.status_code == 200
    after = text_of(response)
    assert number(after, "current-streak") == "3"
    assert number(after, "best-streak") == "3"
    assert '<span class="day closed" title="Mon 9 Mar: closed">' in after
    assert "“<bdi>Sorry, late! Looks great.</bdi>”" in after


def test_marking_a_reaction_as_not_counting_reopens_the_day_on_the_open_dashboard(
    owner_client, sam, share
):
    sam_reacts(sam, share)
    before = poll(owner_client, DASHBOARD)
    assert number(text_of(before), "current-streak") == "1"
    reaction = share.reactions.get()

    owner_client.post(reverse("reactions:reaction-counts", args=[reaction.pk]), {"counts": "0"})
    response = poll(owner_client, DASHBOARD, before["ETag"])

    assert response.status_code == 200
    after = text_of(response)
    assert "Sent, waiting for a reaction" in after
    assert number(after, "current-streak") == "0"
    assert number(after, "habit-score") == "0%"
    assert "doesn't count: marked polite or scripted" in after


def test_a_day_turning_from_waiting_to_missed_breaks_the_streak_on_the_open_dashboard(
    owner_client, recipient, time_machine
):
    """No event at all: Monday's link turns 48 hours old, so Monday is missed, not waiting."""
    ReactionFactory(share=ShareFactory(recipient=recipient, sent_at=berlin(8, 13)))
    ShareFactory(recipient=recipient, sent_at=berlin(9, 23, 30))
    ReactionFactory(share=ShareFactory(recipient=recipient, sent_at=berlin(10, 13)))
    time_machine.move_to(berlin(11, 23, 0), tick=False)
    before = poll(owner_client, DASHBOARD)
    assert number(text_of(before), "current-streak") == "2"

    time_machine.move_to(berlin(11, 23, 31), tick=False)  # the same day, 48 h after Monday's
    response = poll(owner_client, DASHBOARD, before["ETag"])

    assert response.status_code == 200
    after = text_of(response)
    assert number(after, "current-streak") == "1"
    assert '<span class="day missed" title="Mon 9 Mar: missed">' in after


def test_the_next_day_reaches_the_open_dashboard(owner_client, sam, share, time_machine):
    sam_reacts(sam, share)
    time_machine.move_to(berlin(10, 23, 59), tick=False)
    etag = poll(owner_client, DASHBOARD)["ETag"]

    time_machine.move_to(berlin(11, 0, 1), tick=False)
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    after = text_of(response)
    assert "Wednesday 11 March, your day in Europe/Berlin." in after
    assert "Nothing sent yet" in after
    assert "Your 1-day streak is at stake." in after


def test_a_zone_change_in_another_tab_reaches_the_open_dashboard(owner_client, owner, share):
    etag = poll(owner_client, DASHBOARD)["ETag"]

    owner.time_zone = "Europe/Lisbon"
    owner.save()
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    assert "your day in Europe/Lisbon." in text_of(response)


def test_todays_link_says_expired_once_its_preview_expires(owner_client, share, time_machine):
    time_machine.move_to(share.preview.expires_at - timedelta(seconds=1), tick=False)
    before = poll(owner_client, DASHBOARD)
    assert '<span class="tag live">live</span>' in text_of(before)

    time_machine.move_to(share.preview.expires_at, tick=False)
    response = poll(owner_client, DASHBOARD, before["ETag"])

    assert response.status_code == 200
    assert '<span class="tag">expired</span>' in text_of(response)


def test_deleting_a_link_in_another_tab_reaches_the_open_dashboard(owner_client, sam, share):
    sam_reacts(sam, share)
    before = poll(owner_client, DASHBOARD)
    assert number(text_of(before), "current-streak") == "1"

    owner_client.post(reverse("outerloop:share-delete", args=[share.pk]))
    response = poll(owner_client, DASHBOARD, before["ETag"])

    assert response.status_code == 200
    after = text_of(response)
    assert "Nothing sent yet" in after
    assert number(after, "current-streak") == "0"
    assert "No reactions yet." in after


def test_merging_two_people_in_another_tab_reaches_the_open_dashboard(
    owner_client, owner, recipient, share
):
    typo = RecipientFactory(builder=owner, name="sam k")
    ShareFactory(recipient=typo, preview=share.preview)
    before = text_of(poll(owner_client, DASHBOARD))
    assert "<bdi>sam k</bdi>" in before.split('id="people-card"', 1)[1]
    etag = poll(owner_client, DASHBOARD)["ETag"]

    owner_client.post(
        reverse("outerloop:person-merge", args=[typo.pk]), {"into": str(recipient.pk)}
    )
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    people = text_of(response).split('id="people-card"', 1)[1]
    assert "<bdi>sam k</bdi>" not in people
    assert '<strong><bdi>Sam</bdi></strong>\n        <span class="small muted">· 2 links' in people


def test_merging_sessions_in_another_tab_renames_todays_link_on_the_open_dashboard(
    owner_client, owner, recipient, share
):
    second = BuildSessionFactory(builder=owner, title="Crag finder, take two")
    ShareFactory(recipient=recipient, preview__session=second)
    etag = poll(owner_client, DASHBOARD)["ETag"]

    owner_client.post(
        reverse("outerloop:session-merge", args=[second.pk]),
        {"into": str(share.preview.session_id)},
    )
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    today = text_of(response).split('id="streak-card"', 1)[0]
    assert "take two" not in today
    assert today.count("· <bdi>Crag finder</bdi></a>") == 2


# How often the dashboard asks --------------------------------------------------------------


def test_the_dashboard_polls_slowly_once_todays_links_are_quiet(owner_client, share, time_machine):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=10), tick=False)

    fragment = text_of(poll(owner_client, DASHBOARD))

    assert IDLE in fragment


def test_the_dashboard_with_nothing_sent_still_polls_slowly(owner_client):
    """A link sent from the command line, or from the phone, shows up on the open page."""
    assert IDLE in owner_client.get(DASHBOARD).content.decode()


def test_a_link_sent_elsewhere_reaches_the_open_dashboard_and_it_polls_fast(
    owner_client, owner, recipient
):
    etag = poll(owner_client, DASHBOARD)["ETag"]

    ShareFactory(recipient=recipient, preview__session__builder=owner)
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    fragment = text_of(response)
    assert "Sent, waiting for a reaction" in fragment
    assert FAST in fragment


# Today's links, told apart -----------------------------------------------------------------


def test_todays_links_say_what_each_one_is_and_when_it_was_sent(
    owner_client, owner, recipient, time_machine
):
    titles = ["Crag finder", "Crag finder v2", "Grade filter", "Approach times", "Crag finder"]
    for minute, title in enumerate(titles):
        time_machine.move_to(berlin(10, 13, minute * 7), tick=False)
        session = BuildSessionFactory(builder=owner, title=title)
        ShareFactory(recipient=recipient, preview__session=session)

    fragment = text_of(poll(owner_client, DASHBOARD))

    today = fragment.split('id="today-live"', 1)[1].split('id="streak-card"', 1)[0]
    rows = re.findall(
        r"<strong><bdi>Sam</bdi></strong> · <bdi>([^<]+)</bdi></a>\s*"
        r'<span class="small muted">· sent (\d\d:\d\d)</span>',
        today,
    )
    assert rows == [
        ("Crag finder", "13:28"),
        ("Approach times", "13:21"),
        ("Grade filter", "13:14"),
        ("Crag finder v2", "13:07"),
        ("Crag finder", "13:00"),
    ]


@pytest.mark.parametrize("shares", [1, 20])
def test_a_dashboard_poll_costs_the_same_few_queries_however_many_links_today(
    owner_client, owner, recipient, share, shares, django_assert_max_num_queries
):
    for n in range(shares - 1):
        session = BuildSessionFactory(builder=owner, title=f"Build {n}")
        add_events(ShareFactory(recipient=recipient, preview__session=session), 3)
    etag = poll(owner_client, DASHBOARD)["ETag"]

    # session, builder; the stamp (links, visits, reactions); the cards (the habit's days,
    # today's links with their sessions and progress, recent reactions, people).
    with django_assert_max_num_queries(9):
        changed = poll(owner_client, DASHBOARD)
    with django_assert_max_num_queries(5):  # a 304 renders nothing, computes no habit
        unchanged = poll(owner_client, DASHBOARD, etag)

    assert text_of(changed).count("✓ sent") == shares + 1  # today's rows, and Sam in People
    assert unchanged.status_code == 304


def test_another_builders_dashboard_poll_shows_nothing_of_alexs(outsider_client, sam, share):
    sam_reacts(sam, share)

    fragment = text_of(poll(outsider_client, DASHBOARD))

    assert "Nothing sent yet" in fragment
    assert "Sam" not in fragment
    assert "The big button is great." not in fragment


def test_a_renewal_made_in_another_tab_reaches_the_old_links_open_page(
    owner_client, share, time_machine
):
    """The old link's page stops offering a second renewal and says where it forwards."""
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=1), tick=False)
    etag = poll(owner_client, detail_url(share))["ETag"]

    owner_client.post(reverse("reactions:share-renew", args=[share.pk]))  # the other tab
    response = poll(owner_client, detail_url(share), etag)

    assert response.status_code == 200
    fragment = text_of(response)
    assert "It forwards to the fresh link you sent <bdi>Sam</bdi> just now" in fragment
    assert "Renew and send again</button>" not in fragment
