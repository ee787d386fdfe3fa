"""Every other builder page that shows what people did updates itself too, whole.

The habit page, a day's page (and the day the habit page has open), the people page, the
session list and a session's page each poll their own URL like the dashboard does
(tests/test_live_watch.py): a 304 while nothing they show changed, else every part that
shows it, swapped in out of band; a form the builder may be typing in is never swapped.
"""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from tests.conftest import NOW
from tests.factories import ReactionFactory, ShareFactory, VisitFactory
from tests.test_live_watch import (
    IDLE,
    poll,
    sam_opens,
    sam_reacts,
    swapped_in,
    text_of,
)

HABIT = reverse("outerloop:habit")
PEOPLE = reverse("reactions:people")
SESSIONS = reverse("sessions:session-list")


def day_url(share) -> str:
    return reverse("outerloop:day", args=[share.day.isoformat()])


def session_url(share) -> str:
    return reverse("sessions:session-detail", args=[share.preview.session_id])


def number(fragment: str, element_id: str) -> str:
    return re.search(rf'<strong id="{element_id}">([^<]*)</strong>', fragment)[1]


def pages(share) -> dict[str, str]:
    return {
        "habit": HABIT,
        "day": day_url(share),
        "people": PEOPLE,
        "sessions": SESSIONS,
        "session": session_url(share),
    }


PARTS = {
    "habit": ["score-card", "turns-card", "heatmap", "projects-card"],
    "day": ["day-panel"],
    "people": ["people-list"],
    "sessions": ["all-sessions-card"],
    "session": ["session-stats", "preview-{preview}-outcome"],
}


@pytest.mark.parametrize("name", list(PARTS))
def test_each_page_polls_itself_and_is_a_304_while_nothing_changes(owner_client, share, name):
    url = pages(share)[name]

    full = owner_client.get(url)
    changed = poll(owner_client, url)
    unchanged = poll(owner_client, url, changed["ETag"])

    assert f'<div id="live-pulse" hidden hx-get="{url}"' in full.content.decode()
    assert "HX-Request" in full["Vary"]
    fragment = text_of(changed)
    assert fragment.startswith(f'<div id="live-pulse" hidden hx-get="{url}"')
    assert swapped_in(fragment) == [part.format(preview=share.preview_id) for part in PARTS[name]]
    assert "<html" not in fragment
    assert not re.search(r'<input(?![^>]*type="hidden")|<textarea|<select', fragment), (
        "a field the builder may be typing in is never swapped"
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""


@pytest.mark.parametrize("name", list(PARTS))
def test_a_reaction_reaches_each_open_page(owner_client, sam, share, name):
    url = pages(share)[name]
    etag = poll(owner_client, url)["ETag"]

    sam_reacts(sam, share, "Found a crag in two taps!")
    response = poll(owner_client, url, etag)

    assert response.status_code == 200
    fragment = text_of(response)
    shown = {
        "habit": '<strong id="current-streak">1</strong> day now',
        "day": "“<bdi>Found a crag in two taps!</bdi>”",
        "people": '<li class="done">✓ reacted</li>',
        "sessions": "shown to 1 person, 1 reaction",
        "session": "1 reaction, 0 returns.",
    }
    assert shown[name] in fragment


def test_the_habit_page_shows_the_closed_day_score_chart_and_project(owner_client, sam, share):
    etag = poll(owner_client, HABIT)["ETag"]

    sam_reacts(sam, share)
    fragment = text_of(poll(owner_client, HABIT, etag))

    assert number(fragment, "habit-score") == "5%"
    assert number(fragment, "best-streak") == "1"
    assert "Week of 9 Mar: 1 turn." in fragment
    assert re.search(r'<a class="day closed is-today" href="/days/2026-03-10/"', fragment)
    projects = fragment.split('id="projects-card"', 1)[1]
    assert "<bdi>Crag finder</bdi>" in projects


def test_the_day_the_habit_page_has_open_comes_along_with_its_poll(owner_client, sam, share):
    etag = poll(owner_client, HABIT)["ETag"]
    panel = owner_client.get(
        day_url(share), headers={"HX-Request": "true", "HX-Target": "day-panel"}
    )
    assert f'<input type="hidden" name="day" value="{share.day.isoformat()}">' in text_of(panel)

    sam_reacts(sam, share, "Lovely map.")
    # hx-include="#day-panel": the open day's hidden input rides along with the poll.
    response = owner_client.get(
        HABIT, {"day": share.day.isoformat()}, headers={"HX-Request": "true", "If-None-Match": etag}
    )

    fragment = text_of(response)
    assert 'hx-include="#day-panel"' in fragment
    assert swapped_in(fragment)[-1] == "day-panel"
    assert "“<bdi>Lovely map.</bdi>”" in fragment
    assert poll(owner_client, HABIT, response["ETag"]).status_code == 304


def test_a_habit_poll_without_an_open_day_or_with_a_bad_one_brings_no_panel(owner_client, share):
    for query in ({}, {"day": "not-a-day"}):
        response = owner_client.get(HABIT, query, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert "day-panel" not in swapped_in(text_of(response))


def test_a_late_reaction_reaches_an_open_day_page_days_later(
    owner_client, sam, share, time_machine
):
    time_machine.move_to(NOW + timedelta(days=3), tick=False)
    before = poll(owner_client, day_url(share))
    assert IDLE in text_of(before)

    sam_reacts(sam, share, "Sorry, only saw it now.")
    response = poll(owner_client, day_url(share), before["ETag"])

    assert response.status_code == 200
    assert "“<bdi>Sorry, only saw it now.</bdi>”" in text_of(response)


def test_another_days_link_does_not_disturb_an_open_day_page(owner_client, sam, share, recipient):
    yesterday = ShareFactory(recipient=recipient, sent_at=NOW - timedelta(days=1))
    etag = poll(owner_client, day_url(yesterday))["ETag"]

    sam_reacts(sam, share)

    assert poll(owner_client, day_url(yesterday), etag).status_code == 304


def test_the_people_page_shows_who_opened_without_a_reload(owner_client, sam, share):
    etag = poll(owner_client, PEOPLE)["ETag"]

    sam_opens(sam, share)
    fragment = text_of(poll(owner_client, PEOPLE, etag))

    assert '<li class="done">✓ opened</li>' in fragment
    assert "no reaction yet" in fragment


def test_the_session_page_shows_the_turn_and_offers_publishing_without_a_reload(
    owner_client, sam, share
):
    etag = poll(owner_client, session_url(share))["ETag"]

    sam_opens(sam, share)
    sam_reacts(sam, share)
    fragment = text_of(poll(owner_client, session_url(share), etag))

    assert "shown to 1 person: 1 open, 1 reaction, 0 returns." in fragment
    outcome = fragment.split(f'id="preview-{share.preview_id}-outcome"', 1)[1]
    assert "Keep it on your domain →" in outcome
    assert "<bdi>Sam</bdi></a>" in outcome
    assert "· reacted" in outcome


def test_another_sessions_link_does_not_disturb_an_open_session_page(
    owner_client, sam, share, recipient
):
    other = ShareFactory(recipient=recipient)
    etag = poll(owner_client, session_url(share))["ETag"]

    sam_reacts(sam, other)

    assert poll(owner_client, session_url(share), etag).status_code == 304


def test_pages_of_another_builder_poll_nothing_of_alexs(outsider_client, sam, share):
    sam_reacts(sam, share)

    for url in (HABIT, PEOPLE, SESSIONS, day_url(share)):
        fragment = unescape(poll(outsider_client, url).content.decode())
        assert "Sam" not in fragment
        assert "Crag finder" not in fragment
    assert poll(outsider_client, session_url(share)).status_code == 404


@pytest.mark.parametrize("shares", [1, 20])
@pytest.mark.parametrize(
    ("name", "changed_at_most"),
    [("habit", 9), ("day", 7), ("people", 7), ("sessions", 6), ("session", 9)],
)
def test_each_pages_poll_costs_the_same_few_queries_however_many_links(
    owner_client, share, recipient, shares, name, changed_at_most, django_assert_max_num_queries
):
    for _ in range(shares - 1):
        more = ShareFactory(recipient=recipient, preview=share.preview)
        VisitFactory(share=more)
        ReactionFactory(share=more)
    url = pages(share)[name]
    etag = poll(owner_client, url)["ETag"]

    with django_assert_max_num_queries(changed_at_most):
        changed = owner_client.get(
            url, {"day": share.day.isoformat()}, headers={"HX-Request": "true"}
        )
    # session, builder (and the session for its page); the stamp: links, visits, reactions.
    with django_assert_max_num_queries(6 if name == "session" else 5):
        unchanged = poll(owner_client, url, etag)

    assert changed.status_code == 200
    assert unchanged.status_code == 304


@pytest.mark.parametrize(
    "url",
    [
        reverse("outerloop:dashboard"),
        reverse("outerloop:habit"),
        reverse("reactions:people"),
        reverse("sessions:session-list"),
    ],
)
def test_a_page_left_open_after_logging_out_goes_to_the_login_page_whole(client, url):
    """Its next poll must not swap the landing page or the login form into a card."""
    response = client.get(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"].split("?", 1)[0] == reverse("outerloop:login")
    assert response.content == b""
