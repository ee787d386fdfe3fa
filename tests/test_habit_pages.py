"""The habit over months: score, 52-week heatmap, turns per week, rankings, people."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reactions.models import Reaction, Share, Visit, VisitKind
from reactions.sharing import find_or_add_recipient
from sessions.models import BuildSession, Preview
from tests.conftest import NOW
from tests.factories import (
    BuildSessionFactory,
    PreviewFactory,
    ReactionFactory,
    RecipientFactory,
    ShareFactory,
    VisitFactory,
)

HABIT = reverse("outerloop:habit")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_habit_page_shows_score_streaks_and_explains_the_score(owner_client, owner, recipient):
    for days_ago in range(3):
        share = ShareFactory(recipient=recipient, sent_at=NOW - timedelta(days=days_ago))
        ReactionFactory(share=share)

    html = page(owner_client, HABIT)

    assert '<strong id="habit-score">14%</strong>' in html  # 1 - 0.9517³ = 13.8 %
    assert "fading by half over two weeks" in html
    assert '<strong id="current-streak">3</strong> days now' in html


def test_the_heatmap_has_fifty_two_weeks_and_links_each_past_day(owner_client, owner):
    html = page(owner_client, HABIT)
    heatmap = html.split('class="calendar heatmap"', 1)[1].split('id="day-panel"', 1)[0]

    assert heatmap.count('<div class="week">') == 52
    today = owner.local_day()
    assert f'href="/days/{today.isoformat()}/"' in heatmap
    assert f'href="/days/{(today + timedelta(days=1)).isoformat()}/"' not in heatmap
    assert "is-today" in heatmap


def test_turns_per_week_are_drawn_as_an_inline_svg_chart(owner_client, owner, recipient):
    monday = owner.local_day() - timedelta(days=owner.local_day().weekday())
    for offset in range(3):  # three turns in the week before this one
        sent = NOW - timedelta(days=7, hours=offset)
        ReactionFactory(share=ShareFactory(recipient=recipient, sent_at=sent))

    html = page(owner_client, HABIT)

    chart = re.search(r'<svg class="chart".*?</svg>', html, re.S)[0]
    assert chart.count('<rect class="bar') == 12
    last_week = (monday - timedelta(days=7)).strftime("%-d %b")
    assert f"Week of {last_week}: 3 turns." in chart
    assert "http" not in chart.split("xmlns", 1)[0]  # nothing fetched to draw it


@pytest.mark.parametrize("shares", [10, 5000])
def test_the_heatmap_query_count_does_not_grow_with_shares(
    owner_client, owner, shares, django_assert_num_queries
):
    session = BuildSession.objects.create(builder=owner, title="Busy")
    preview = Preview.objects.create(session=session, url="https://busy.example.com/")
    people = [find_or_add_recipient(owner, f"Person {n}") for n in range(20)]
    made = Share.objects.bulk_create(
        Share(
            preview=preview,
            recipient=people[n % 20],
            sent_at=NOW - timedelta(hours=n * 1.7),
            day=owner.local_day(NOW - timedelta(hours=n * 1.7)),
        )
        for n in range(shares)
    )
    Reaction.objects.bulk_create(
        Reaction(share=share, builder=owner, text="Nice one.", created_at=share.sent_at)
        for share in made[::2]
    )

    # session, builder, the builder again once the change versions are read (outerloop.kept);
    # the live stamp the page polls with (links, visits, reactions); the habit's days; the
    # projects. A load again reuses that render: the session and the builder.
    with django_assert_num_queries(8):
        html = page(owner_client, HABIT)

    assert html.count('<div class="week">') == 52
    with django_assert_num_queries(2):
        assert page(owner_client, HABIT).count('<div class="week">') == 52


def test_tapping_a_day_lists_its_shares_and_reactions(owner_client, owner, recipient, outsider):
    share = ShareFactory(recipient=recipient, sent_at=NOW - timedelta(days=2))
    ReactionFactory(share=share, text="The map is gorgeous.")
    ReactionFactory(
        share=ShareFactory(recipient=RecipientFactory(builder=outsider), sent_at=share.sent_at),
        text="Riley's secret.",
    )
    url = reverse("outerloop:day", args=[share.day.isoformat()])

    # What the habit page's day cells ask (hx-target="#day-panel").
    panel = owner_client.get(
        url, headers={"HX-Request": "true", "HX-Target": "day-panel"}
    ).content.decode()
    full = page(owner_client, url)

    assert panel.startswith('\n<div id="day-panel"') or panel.lstrip().startswith(
        '<div id="day-panel"'
    )
    assert "<html" not in panel
    for html in (panel, full):
        assert "Sam" in html
        assert "The map is gorgeous." in html
        assert "Riley's secret." not in html
    assert owner_client.get("/days/not-a-date/").status_code == 404


def test_projects_that_earned_an_outer_loop_are_ranked_by_reactions_then_returns(
    owner_client, owner
):
    quiet = BuildSessionFactory(builder=owner, title="Quiet one")
    loved = BuildSessionFactory(builder=owner, title="Loved one")
    revisited = BuildSessionFactory(builder=owner, title="Revisited one")
    for session, reactions, returns in ((loved, 3, 0), (revisited, 1, 2), (quiet, 0, 0)):
        preview = PreviewFactory(session=session)
        person = RecipientFactory(builder=owner)
        share = ShareFactory(recipient=person, preview=preview)
        for _ in range(reactions):
            ReactionFactory(share=share)
        for _ in range(returns):
            VisitFactory(share=share, kind=VisitKind.RETURN)

    projects = page(owner_client, HABIT).split('id="projects-heading"', 1)[1]

    assert projects.index("Loved one") < projects.index("Revisited one")
    assert "Quiet one" not in projects
    assert "3 reactions, 0 returns" in projects
    assert "1 reaction, 2 returns" in projects


def test_a_session_says_how_often_it_was_built_and_shown(owner_client, owner, session):
    people = [RecipientFactory(builder=owner) for _ in range(3)]
    previews = [PreviewFactory(session=session) for _ in range(14)]
    for n, person in enumerate(people):
        share = ShareFactory(recipient=person, preview=previews[n])
        VisitFactory(share=share, kind=VisitKind.OPEN)
        VisitFactory(share=share, kind=VisitKind.OPEN, by_builder=True)  # never counts
    ReactionFactory(share=Share.objects.first())

    html = page(owner_client, reverse("sessions:session-detail", args=[session.pk]))

    assert "Built 14 times, shown to 3 people: 3 opens, 1 reaction, 0 returns." in html


def test_the_people_page_lists_everyone_and_sends_the_latest_again(owner_client, owner, preview):
    sam = RecipientFactory(builder=owner, name="Sam")
    ReactionFactory(
        share=ShareFactory(recipient=sam, preview=preview, sent_at=NOW - timedelta(days=3))
    )
    VisitFactory(share=Share.objects.get(), kind=VisitKind.RETURN, at=NOW - timedelta(days=1))
    html = page(owner_client, reverse("reactions:people"))
    assert "<strong><bdi>Sam</bdi></strong>" in html
    assert "came back on their own" in html
    assert "last reaction" in html

    Preview.objects.filter(pk=preview.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = owner_client.post(reverse("reactions:share-again", args=[sam.pk]))

    newest = Share.objects.order_by("-sent_at", "-pk").first()
    assert response.status_code == 302
    assert response["Location"] == reverse("reactions:share-detail", args=[newest.pk])
    assert newest.recipient == sam
    assert newest.preview != preview and not newest.preview.is_expired
    assert newest.preview.url == preview.url


def test_sending_again_to_someone_elses_person_is_a_404(outsider_client, recipient):
    response = outsider_client.post(reverse("reactions:share-again", args=[recipient.pk]))

    assert response.status_code == 404
    assert not Share.objects.exists()
    assert not Visit.objects.exists()
