"""The dashboard: today's status, streaks, the calendar, reactions and each person's progress."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import Channel, Share, VisitKind
from tests.conftest import NOW, PHONE_UA
from tests.factories import ReactionFactory, RecipientFactory, ShareFactory, VisitFactory

DASHBOARD = reverse("outerloop:dashboard")


def dashboard(client) -> str:
    return unescape(client.get(DASHBOARD).content.decode())


def today_status(client) -> str:
    page = dashboard(client)
    return re.search(r'id="today-status">\s*(.*?)\s*</p>', page)[1]


def streaks(client) -> tuple[int, int]:
    """(current, best), as the streak card shows them."""
    page = dashboard(client)
    current = re.search(r'<strong id="current-streak">(\d+)</strong> days? now', page)[1]
    best = re.search(r'<strong id="best-streak">(\d+)</strong> best', page)[1]
    return int(current), int(best)


def progress(client, name: str) -> dict[str, bool]:
    """One person's steps on the dashboard: {"sent": True, "opened": False, ...}."""
    page = dashboard(client).split('id="people-heading"', 1)[1]
    block = re.search(
        rf"<strong><bdi>{re.escape(name)}</bdi></strong>.*?<ol class=\"steps\"[^>]*>(.*?)</ol>",
        page,
        re.S,
    )
    steps = re.findall(r'<li class="(done)?">(?:✓ )?([a-z ]+)</li>', block[1])
    return {label: done == "done" for done, label in steps}


def at_berlin_afternoon(day: int) -> datetime:
    """13:00 in Berlin on that day of March 2026."""
    return datetime(2026, 3, day, 12, 0, tzinfo=UTC)


def react_as_sam(share: Share, text: str = "Nice.") -> None:
    Client(headers={"User-Agent": PHONE_UA}).post(
        reverse("reactions:recipient-react", args=[share.token]), {"text": text}
    )


def send_to_sam(owner_client, time_machine, day: int, *, react: bool = True) -> Share:
    """On that March day, Alex takes a turn with Sam, and Sam reacts unless told not to."""
    time_machine.move_to(at_berlin_afternoon(day), tick=False)
    owner_client.post(
        reverse("outerloop:turn"),
        {"url": f"https://build-{day}.example.dev/", "recipient": "Sam", "channel": Channel.DM},
    )
    share = Share.objects.latest("sent_at")
    if react:
        react_as_sam(share)
    return share


# Today's status ----------------------------------------------------------------------------


def test_today_says_nothing_sent_yet(owner_client):
    assert today_status(owner_client) == "Nothing sent yet"


def test_today_is_waiting_once_sent(owner_client, share):
    assert today_status(owner_client) == "Sent, waiting for a reaction"


def test_today_closes_when_the_person_reacts(owner_client, share):
    react_as_sam(share, "Love it")

    assert today_status(owner_client) == "Closed: someone reacted"
    assert streaks(owner_client) == (1, 1)


def test_a_share_sent_yesterday_is_not_todays_turn(owner_client, recipient):
    ShareFactory(recipient=recipient, sent_at=NOW - timedelta(days=1))

    assert today_status(owner_client) == "Nothing sent yet"


def test_the_landing_page_is_shown_to_anonymous_visitors(client):
    page = unescape(client.get(DASHBOARD).content.decode())

    assert "Start your streak" in page
    assert "Today's turn" not in page


# Streaks -----------------------------------------------------------------------------------


def test_reactions_on_consecutive_days_build_a_streak(owner_client, time_machine):
    for day in (7, 8, 9, 10):
        send_to_sam(owner_client, time_machine, day)

    assert streaks(owner_client) == (4, 4)
    assert today_status(owner_client) == "Closed: someone reacted"


def test_a_missed_day_breaks_the_streak_but_not_the_best(owner_client, time_machine):
    for day in (2, 3, 4, 5, 9, 10):
        send_to_sam(owner_client, time_machine, day)

    assert streaks(owner_client) == (2, 4)


def test_today_still_open_keeps_yesterdays_streak(owner_client, time_machine):
    for day in (8, 9):
        send_to_sam(owner_client, time_machine, day)
    time_machine.move_to(at_berlin_afternoon(10), tick=False)

    assert today_status(owner_client) == "Nothing sent yet"
    assert streaks(owner_client) == (2, 2)
    assert "Your 2-day streak is at stake." in dashboard(owner_client)


def test_a_day_still_waiting_neither_adds_nor_breaks(owner_client, time_machine):
    send_to_sam(owner_client, time_machine, 8)
    send_to_sam(owner_client, time_machine, 9, react=False)
    send_to_sam(owner_client, time_machine, 10)

    assert streaks(owner_client) == (2, 2)


def test_a_late_reaction_heals_its_day(owner_client, time_machine):
    send_to_sam(owner_client, time_machine, 7)
    silent = send_to_sam(owner_client, time_machine, 8, react=False)
    send_to_sam(owner_client, time_machine, 9)
    send_to_sam(owner_client, time_machine, 10)
    assert streaks(owner_client) == (2, 2)  # 8 March is 48 hours old: missed

    react_as_sam(silent, "Sorry, late!")

    assert streaks(owner_client) == (4, 4)


def test_marking_a_reaction_never_redirects_off_site(owner_client, share):
    reaction = ReactionFactory(share=share)

    response = owner_client.post(
        reverse("reactions:reaction-counts", args=[reaction.pk]),
        {"counts": "0", "next": "https://evil.example.com/"},
    )

    assert response.url == reverse("reactions:share-detail", args=[share.pk])


# The calendar ------------------------------------------------------------------------------


def calendar(client) -> list[list[tuple[str, str]]]:
    """The calendar's weeks, each a list of (status, title) for its seven days."""
    weeks = re.findall(r'<div class="week">(.*?)</div>', dashboard(client), re.S)
    return [
        [
            (classes.split()[0], title)
            for classes, title in re.findall(r'<span class="day ([^"]+)" title="([^"]+)">', week)
        ]
        for week in weeks
    ]


def test_the_calendar_shows_twelve_monday_first_weeks_ending_this_week(owner_client, time_machine):
    send_to_sam(owner_client, time_machine, 9)
    send_to_sam(owner_client, time_machine, 10, react=False)

    weeks = calendar(owner_client)

    assert len(weeks) == 12
    assert all(len(week) == 7 for week in weeks)
    # Monday 22 December 2025, before Alex joined on 5 January; Sunday 15 March, to come.
    assert weeks[0][0] == ("before", "Mon 22 Dec: before")
    assert weeks[-1][-1] == ("future", "Sun 15 Mar: future")
    assert weeks[-1][:3] == [
        ("closed", "Mon 9 Mar: closed"),
        ("today", "Tue 10 Mar: today"),
        ("future", "Wed 11 Mar: future"),
    ]
    statuses = [status for week in weeks for status, _ in week]
    assert statuses.count("closed") == 1
    assert statuses.count("before") == 14
    # From Monday 5 January to Sunday 8 March nothing was sent: nine weeks missed.
    assert statuses.count("missed") == 63


def test_today_on_the_calendar_closes_with_a_reaction(owner_client, time_machine):
    send_to_sam(owner_client, time_machine, 10)

    assert ("closed", "Tue 10 Mar: today") in calendar(owner_client)[-1]


# Recent reactions and people ---------------------------------------------------------------


def test_recent_reactions_show_the_words_who_and_what(owner_client, share, outsider):
    ReactionFactory(share=share, text="The streak counter made me smile", chip="love")
    ReactionFactory(share=ShareFactory(recipient__builder=outsider), text="Riley's feedback")

    page = dashboard(owner_client)

    assert "“<bdi>The streak counter made me smile</bdi>”" in page
    assert "<bdi>Sam</bdi> · Love it" in page
    assert (
        f'<a href="{reverse("reactions:share-detail", args=[share.pk])}"><bdi>Crag finder</bdi></a>'
        in page
    )
    assert "Riley's feedback" not in page


def test_recent_reactions_are_the_newest_eight(owner_client, share):
    for minute in range(10):
        ReactionFactory(
            share=share, text=f"thought {minute}", created_at=NOW + timedelta(minutes=minute)
        )

    quotes = re.findall(r'<p class="quote">“<bdi>(.*?)</bdi>”</p>', dashboard(owner_client))

    assert quotes == [f"thought {minute}" for minute in range(9, 1, -1)]


def test_without_reactions_the_dashboard_says_where_they_will_appear(owner_client, share):
    assert "No reactions yet." in dashboard(owner_client)


def test_each_person_moves_from_sent_to_came_back(owner_client, share, recipient, time_machine):
    RecipientFactory(builder=recipient.builder, name="Kim")
    ShareFactory(recipient__builder=recipient.builder, recipient__name="Jo")
    sam = Client(headers={"User-Agent": PHONE_UA})
    steps = ["sent", "opened", "tapped", "reacted", "came back"]

    def done() -> list[str]:
        return [label for label, ok in progress(owner_client, "Sam").items() if ok]

    assert list(progress(owner_client, "Sam")) == steps
    assert done() == ["sent"]
    sam.get(reverse("reactions:recipient-page", args=[share.token]))
    assert done() == ["sent"]  # the server-rendered page alone is no open
    sam.post(reverse("reactions:recipient-seen", args=[share.token]))
    assert done() == ["sent", "opened"]
    sam.get(reverse("reactions:recipient-go", args=[share.token]))
    assert done() == ["sent", "opened", "tapped"]
    sam.post(reverse("reactions:recipient-react", args=[share.token]), {"text": "Fun"})
    assert done() == ["sent", "opened", "tapped", "reacted"]
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    sam.post(reverse("reactions:recipient-seen", args=[share.token]))
    assert done() == steps

    page = dashboard(owner_client)
    assert "<strong>Kim</strong>" not in page  # never sent anything
    assert progress(owner_client, "Jo") == dict.fromkeys(steps, False) | {"sent": True}


# Query count -------------------------------------------------------------------------------


def a_busy_history(owner, shares: int) -> None:
    """`shares` shares to as many people over as many days, each opened, tapped and answered."""
    for n in range(shares):
        share = ShareFactory(recipient__builder=owner, sent_at=NOW - timedelta(days=n))
        VisitFactory(share=share, kind=VisitKind.OPEN, at=share.sent_at)
        VisitFactory(share=share, kind=VisitKind.TAP, at=share.sent_at)
        VisitFactory(share=share, kind=VisitKind.RETURN, at=share.sent_at + timedelta(hours=1))
        ReactionFactory(share=share, created_at=share.sent_at, counts=n % 3 != 1)


@pytest.mark.parametrize("shares", [3, 30])
def test_the_dashboard_query_count_does_not_grow_with_shares(
    owner_client, owner, shares, django_assert_num_queries
):
    a_busy_history(owner, shares)

    # session, builder, the builder again once the change versions are read (so a render kept
    # under them never shows an older row: reactions.live.Kept); the live stamp (links,
    # visits, reactions); the habit's days, today's links, recent reactions, people; the
    # latest preview (two), the names for the form. A load again reads only the first two.
    with django_assert_num_queries(12):
        response = owner_client.get(DASHBOARD)

    assert response.status_code == 200
    assert response.content.decode().count('<p class="quote">') == min(shares, 8)
    with django_assert_num_queries(2):
        assert owner_client.get(DASHBOARD).status_code == 200
