"""Live watch: Alex's share page and dashboard update themselves while Sam acts.

htmx polls the page's activity partial every two seconds with the ETag it last got; when
nothing changed the answer is an empty 304, and once the preview has expired and ten quiet
minutes have passed the partial comes back without its trigger, so polling stops.
"""

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import Share, VisitKind
from tests.factories import ReactionFactory, ShareFactory, VisitFactory

HTMX = {"HX-Request": "true"}
TRIGGER = 'hx-trigger="every 2s"'
DASHBOARD = reverse("outerloop:dashboard")


def detail_url(share: Share) -> str:
    return reverse("reactions:share-detail", args=[share.pk])


def poll(client: Client, url: str, etag: str | None = None):
    """What htmx sends every two seconds (the browser adds If-None-Match from its cache)."""
    headers = {**HTMX, **({"If-None-Match": etag} if etag else {})}
    return client.get(url, headers=headers)


def text_of(response) -> str:
    return unescape(response.content.decode()).strip()


def sam_opens(sam: Client, share: Share, **beacon: str) -> None:
    sam.get(reverse("reactions:recipient-page", args=[share.token]))
    sam.post(reverse("reactions:recipient-seen", args=[share.token]), beacon)


def sam_taps(sam: Client, share: Share) -> None:
    """Open is a button on the page: Sam's browser loaded the page before it."""
    sam.get(reverse("reactions:recipient-page", args=[share.token]))
    sam.get(reverse("reactions:recipient-go", args=[share.token]))


def sam_reacts(sam: Client, share: Share, text: str = "The big button is great.") -> None:
    sam.post(reverse("reactions:recipient-react", args=[share.token]), {"text": text})


# The share page ----------------------------------------------------------------------------


def test_a_poll_returns_only_the_activity_partial_with_an_etag(owner_client, share):
    response = poll(owner_client, detail_url(share))

    assert response.status_code == 200
    fragment = text_of(response)
    assert fragment.startswith('<section id="activity"')
    assert fragment.endswith("</section>")
    assert "<html" not in fragment
    assert "The link" not in fragment
    assert "Nothing yet. Opens, taps and reactions appear here as they happen." in fragment
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')


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


def test_a_poll_with_a_stale_etag_gets_the_partial(owner_client, share):
    response = poll(owner_client, detail_url(share), '"not-the-current-one"')

    assert response.status_code == 200
    assert text_of(response).startswith('<section id="activity"')


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


def test_a_fresh_link_request_changes_the_etag_and_shows(owner_client, sam, share, time_machine):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=1), tick=False)
    etag = poll(owner_client, detail_url(share))["ETag"]

    sam.post(reverse("reactions:recipient-fresh", args=[share.token]))
    response = poll(owner_client, detail_url(share), etag)

    assert response.status_code == 200
    assert "<bdi>Sam</bdi> asked for a fresh link." in text_of(response)


# When polling stops ------------------------------------------------------------------------


def test_the_partial_keeps_polling_while_the_preview_is_live(owner_client, share, time_machine):
    time_machine.move_to(share.preview.expires_at - timedelta(seconds=1), tick=False)

    fragment = text_of(poll(owner_client, detail_url(share)))

    assert TRIGGER in fragment
    assert '<span class="tag live">live</span>' in fragment


def test_polling_stops_once_expired_and_quiet_for_ten_minutes(owner_client, share, time_machine):
    expires_at = share.preview.expires_at
    time_machine.move_to(expires_at - timedelta(minutes=1), tick=False)
    live_etag = poll(owner_client, detail_url(share))["ETag"]
    time_machine.move_to(expires_at + timedelta(minutes=10), tick=False)

    response = poll(owner_client, detail_url(share), live_etag)

    assert response.status_code == 200, "a 304 would keep the old trigger polling forever"
    fragment = text_of(response)
    assert fragment.startswith('<section id="activity"')
    assert "hx-trigger" not in fragment
    assert "hx-get" not in fragment
    assert "live</span>" not in fragment
    assert "hx-trigger" not in owner_client.get(detail_url(share)).content.decode()


def test_an_event_after_expiry_keeps_polling_for_ten_more_minutes(
    owner_client, sam, share, time_machine
):
    expires_at = share.preview.expires_at
    time_machine.move_to(expires_at + timedelta(minutes=5), tick=False)
    sam_reacts(sam, share, "Missed the preview, but I like the idea.")

    time_machine.move_to(expires_at + timedelta(minutes=14, seconds=59), tick=False)
    still = text_of(poll(owner_client, detail_url(share)))
    time_machine.move_to(expires_at + timedelta(minutes=15), tick=False)
    stopped = text_of(poll(owner_client, detail_url(share)))

    assert TRIGGER in still
    assert "Missed the preview, but I like the idea." in still
    assert "hx-trigger" not in stopped
    assert "Missed the preview, but I like the idea." in stopped


def test_an_open_just_before_expiry_keeps_polling_past_it(owner_client, sam, share, time_machine):
    expires_at = share.preview.expires_at
    time_machine.move_to(expires_at - timedelta(minutes=2), tick=False)
    sam_opens(sam, share)

    time_machine.move_to(expires_at + timedelta(minutes=7), tick=False)

    assert TRIGGER in text_of(poll(owner_client, detail_url(share)))


# Cost and ownership ------------------------------------------------------------------------


def add_events(share: Share, count: int) -> None:
    kinds = [VisitKind.OPEN, VisitKind.TAP, VisitKind.RETURN]
    for n in range(count):
        VisitFactory(share=share, kind=kinds[n % 3])
        ReactionFactory(share=share)


@pytest.mark.parametrize("events", [1, 50])
def test_a_poll_costs_the_same_few_queries_however_busy_the_share(
    owner_client, share, events, django_assert_num_queries
):
    add_events(share, events)
    poll(owner_client, detail_url(share))  # warm the session, as a polling page has

    with django_assert_num_queries(8):
        response = poll(owner_client, detail_url(share))

    assert text_of(response).count("Reacted") == events


@pytest.mark.parametrize("events", [1, 50])
def test_an_unchanged_poll_costs_fewer_queries_still(
    owner_client, share, events, django_assert_num_queries
):
    add_events(share, events)
    etag = poll(owner_client, detail_url(share))["ETag"]

    with django_assert_num_queries(6):
        response = poll(owner_client, detail_url(share), etag)

    assert response.status_code == 304


def test_another_builders_poll_is_a_404(outsider_client, share):
    response = poll(outsider_client, detail_url(share))

    assert response.status_code == 404
    assert "ETag" not in response
    assert "Crag finder" not in text_of(response)


def test_a_logged_out_poll_is_sent_to_log_in(client, share):
    response = poll(client, detail_url(share))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("outerloop:login"))


# The dashboard's "today" card --------------------------------------------------------------


def test_the_dashboard_poll_returns_only_todays_card_with_an_etag(owner_client, share):
    response = poll(owner_client, DASHBOARD)

    assert response.status_code == 200
    fragment = text_of(response)
    assert fragment.startswith('<div id="today-live"')
    assert "<html" not in fragment
    assert "Streak" not in fragment
    assert "Sent, waiting for a reaction" in fragment
    assert TRIGGER in fragment
    assert response["ETag"]
    assert "HX-Request" in response["Vary"]
    assert "no-cache" in response["Cache-Control"]


def test_the_full_dashboard_varies_on_htmx(owner_client, share):
    assert "HX-Request" in owner_client.get(DASHBOARD)["Vary"]


def test_the_dashboard_poll_is_a_304_while_nothing_changes(owner_client, share):
    etag = poll(owner_client, DASHBOARD)["ETag"]

    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 304
    assert response.content == b""


def test_the_dashboard_card_changes_when_sam_reacts(owner_client, sam, share):
    etag = poll(owner_client, DASHBOARD)["ETag"]

    sam_reacts(sam, share)
    response = poll(owner_client, DASHBOARD, etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    fragment = text_of(response)
    assert "Closed: someone reacted" in fragment
    assert '<li class="done">✓ reacted</li>' in fragment


def test_the_dashboard_card_says_opened_on_a_phone(owner_client, sam, share):
    sam_opens(sam, share)

    fragment = text_of(poll(owner_client, DASHBOARD))

    assert '<li class="done">✓ opened on a phone</li>' in fragment


def test_the_dashboard_card_says_a_qr_scan_was_in_person(owner_client, sam, share):
    sam_opens(sam, share, via="qr")

    fragment = text_of(poll(owner_client, DASHBOARD))

    assert '<li class="done">✓ opened in person</li>' in fragment
    assert "on a phone" not in fragment


@pytest.mark.parametrize("shares", [1, 20])
def test_a_dashboard_poll_costs_the_same_few_queries_however_many_links_today(
    owner_client, recipient, share, shares, django_assert_num_queries
):
    for _ in range(shares - 1):
        add_events(ShareFactory(recipient=recipient, preview=share.preview), 3)
    etag = poll(owner_client, DASHBOARD)["ETag"]

    with django_assert_num_queries(8):
        changed = poll(owner_client, DASHBOARD)
    with django_assert_num_queries(6):  # a 304 never computes the habit
        unchanged = poll(owner_client, DASHBOARD, etag)

    assert text_of(changed).count("✓ sent") == shares
    assert unchanged.status_code == 304


def test_the_dashboard_card_stops_polling_once_todays_links_are_quiet(
    owner_client, share, time_machine
):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=10), tick=False)

    fragment = text_of(poll(owner_client, DASHBOARD))

    assert fragment.startswith('<div id="today-live"')
    assert "hx-trigger" not in fragment


def test_the_dashboard_with_nothing_sent_does_not_poll(owner_client):
    fragment = text_of(poll(owner_client, DASHBOARD))

    assert "Nothing sent yet" in fragment
    assert "hx-trigger" not in fragment


def test_another_builders_dashboard_poll_shows_nothing_of_alexs(outsider_client, sam, share):
    sam_reacts(sam, share)

    fragment = text_of(poll(outsider_client, DASHBOARD))

    assert "Nothing sent yet" in fragment
    assert "Sam" not in fragment
