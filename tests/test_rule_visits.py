"""The open / return rule (DESIGN.md "Opens are real opens"): link unfurlers, scanners and
HEAD requests are not opens, an open is confirmed by the page itself, a view 30 minutes after
the last is a return, and the builder's own browser never counts. It is decided in
`reactions.activity` and read through `Visit.objects.by_recipients()`,
`Reaction.objects.by_recipients()` and `recipients_progress` (reactions/models.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse

from outerloop.review import weekly_review
from reactions.activity import classify_page_view, is_person
from reactions.models import DeviceClass, Reaction, Recipient, Share, Visit, VisitKind
from reactions.stats import with_outer_loop
from sessions.models import BuildSession
from tests.conftest import NOW, PHONE_UA, PREVIEW_URL
from tests.factories import ReactionFactory, VisitFactory
from tests.test_recipient import go_url, page_url, text_of, view, visits
from tests.test_recipient_abuse import ROBOTS, phone, react_url, robot, seen_url

# What a page view is ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "kind"),
    [
        (None, VisitKind.OPEN),
        (timedelta(0), None),
        (timedelta(minutes=29, seconds=59), None),
        (timedelta(minutes=30), VisitKind.RETURN),
        (timedelta(days=3), VisitKind.RETURN),
    ],
)
def test_a_view_is_an_open_first_then_a_return_after_thirty_minutes(since, kind):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    assert classify_page_view(None if since is None else now - since, now) == kind


@pytest.mark.parametrize(
    ("user_agent", "person"),
    [(PHONE_UA, True), *((agent, False) for agent in ROBOTS.values())],
    ids=["phone", *ROBOTS],
)
def test_only_a_persons_browser_is_a_person(user_agent, person):
    request = RequestFactory().get("/", headers={"User-Agent": user_agent})

    assert is_person(request) is person


# Opens, returns, taps ----------------------------------------------------------------------


def test_the_server_rendered_get_alone_records_nothing(sam, share):
    sam.get(page_url(share))

    assert not Visit.objects.exists()


def test_a_first_view_records_an_open_from_a_phone(sam, share):
    view(sam, share)

    visit = Visit.objects.get()
    assert (visit.share, visit.kind, visit.at) == (share, VisitKind.OPEN, NOW)
    assert visit.device_class == DeviceClass.PHONE
    assert not visit.by_builder
    assert not visit.via_qr


def test_a_reload_within_thirty_minutes_records_nothing(sam, share, time_machine):
    view(sam, share)
    time_machine.move_to(NOW + timedelta(minutes=29, seconds=59), tick=False)

    view(sam, share)

    assert visits(share) == [VisitKind.OPEN]


def test_coming_back_thirty_minutes_later_records_a_return(sam, share, time_machine):
    view(sam, share)
    time_machine.move_to(NOW + timedelta(minutes=30), tick=False)

    view(sam, share)

    assert visits(share) == [VisitKind.OPEN, VisitKind.RETURN]
    assert share.visits.get(kind=VisitKind.RETURN).at == NOW + timedelta(minutes=30)


def test_the_return_window_counts_from_the_latest_view(sam, share, time_machine):
    view(sam, share)
    time_machine.move_to(NOW + timedelta(minutes=20), tick=False)
    view(sam, share)
    time_machine.move_to(NOW + timedelta(minutes=40), tick=False)
    view(sam, share)

    assert visits(share) == [VisitKind.OPEN]


def test_a_forged_seen_cookie_is_ignored(sam, share):
    sam.cookies["ol_seen"] = "1"

    view(sam, share)

    assert visits(share) == [VisitKind.OPEN]


def test_a_head_request_is_never_a_visit(sam, share):
    assert sam.head(page_url(share)).status_code == 200
    assert sam.head(go_url(share)).status_code == 302

    assert not Visit.objects.exists()
    assert "ol_seen" not in sam.cookies


def test_the_open_button_records_a_tap_and_hands_over_the_preview(sam, share):
    view(sam, share)
    response = sam.get(go_url(share))

    assert response.status_code == 302
    assert response["Location"] == PREVIEW_URL
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert visits(share) == [VisitKind.OPEN, VisitKind.TAP]
    tap = share.visits.get(kind=VisitKind.TAP)
    assert (tap.device_class, tap.by_builder) == (DeviceClass.PHONE, False)


def test_a_tap_without_javascript_is_also_the_open(sam, share):
    sam.get(page_url(share))
    sam.get(go_url(share))

    assert visits(share) == [VisitKind.OPEN, VisitKind.TAP]


def test_a_qr_scan_is_marked_as_in_person(sam, share):
    view(sam, share, via="qr")

    visit = Visit.objects.get()
    assert visit.kind == VisitKind.OPEN
    assert visit.via_qr


def test_the_builders_own_visits_are_marked_and_do_not_count(owner_client, share):
    view(owner_client, share)
    owner_client.get(go_url(share))

    assert set(share.visits.values_list("kind", "by_builder")) == {
        (VisitKind.OPEN, True),
        (VisitKind.TAP, True),
    }
    dashboard = text_of(owner_client.get(reverse("outerloop:dashboard")))
    assert '<li class="">opened</li>' in dashboard
    assert '<li class="">tapped</li>' in dashboard


def test_another_builder_visiting_is_not_the_builder(outsider_client, share):
    view(outsider_client, share)

    assert not Visit.objects.get().by_builder


# Robots record nothing ---------------------------------------------------------------------


@pytest.mark.parametrize("user_agent", ROBOTS.values(), ids=ROBOTS.keys())
def test_a_robot_posting_the_seen_beacon_records_nothing(share, user_agent):
    bot = robot(user_agent)

    opened = bot.post(seen_url(share))
    tapped = bot.post(seen_url(share), {"event": "tap"})

    assert (opened.status_code, tapped.status_code) == (204, 204)
    assert not Visit.objects.exists()
    assert "ol_seen" not in bot.cookies


@pytest.mark.parametrize("user_agent", ROBOTS.values(), ids=ROBOTS.keys())
def test_robots_fetching_the_link_and_the_open_button_record_nothing(share, user_agent):
    bot = robot(user_agent)

    responses = [
        bot.get(page_url(share)),
        bot.head(page_url(share)),
        bot.head(page_url(share)),
        bot.head(page_url(share)),
        bot.get(go_url(share)),
        bot.head(go_url(share)),
        bot.get(page_url(share), {"via": "qr"}),
    ]

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 302, 302, 200]
    assert not Visit.objects.exists()
    assert "ol_seen" not in bot.cookies


def test_a_robot_posting_a_reaction_saves_nothing(share):
    response = robot(ROBOTS["curl"]).post(react_url(share), {"text": "Great product! Buy now"})

    assert response.status_code == 429
    assert not Reaction.objects.exists()


def test_after_the_robots_sams_real_open_is_still_the_first_open(share):
    for user_agent in ROBOTS.values():
        robot(user_agent).get(page_url(share))
        robot(user_agent).post(seen_url(share))
    sam = phone()

    sam.get(page_url(share))
    sam.post(seen_url(share))

    assert list(share.visits.values_list("kind", flat=True)) == [VisitKind.OPEN]


# What people did: never the builder's own --------------------------------------------------------


def everything_on(share: Share, *, by_builder: bool) -> None:
    """An open, a tap, a return and a reaction on `share`, by the builder's own browser or not."""
    for kind in (VisitKind.OPEN, VisitKind.TAP, VisitKind.RETURN):
        VisitFactory(share=share, kind=kind, by_builder=by_builder)
    ReactionFactory(share=share, by_builder=by_builder)


STEPS = ("opened", "tapped", "reacted", "came_back")


def progress_everywhere(share: Share) -> dict[str, tuple]:
    """Each way the builder's pages read what people did with `share`."""
    link = Share.objects.with_progress().get(pk=share.pk)
    person = Recipient.objects.with_progress().get(pk=share.recipient_id)
    session = with_outer_loop(BuildSession.objects.filter(pk=share.preview.session_id)).get()
    return {
        "link": tuple(getattr(link, step) for step in STEPS),
        "person": tuple(getattr(person, step) for step in STEPS),
        "session": (session.opens_n, session.returns_n),
        "by_recipients": (
            Visit.objects.by_recipients().count(),
            Reaction.objects.by_recipients().count(),
        ),
    }


def test_the_builders_own_visits_and_reactions_show_as_nothing_anywhere(share):
    everything_on(share, by_builder=True)

    assert progress_everywhere(share) == {
        "link": (False, False, False, False),
        "person": (False, False, False, False),
        "session": (0, 0),
        "by_recipients": (0, 0),
    }


def test_the_persons_visits_and_reactions_show_everywhere(share):
    everything_on(share, by_builder=True)
    everything_on(share, by_builder=False)

    assert progress_everywhere(share) == {
        "link": (True, True, True, True),
        "person": (True, True, True, True),
        "session": (1, 1),
        "by_recipients": (3, 1),
    }


def test_each_step_is_its_own_kind_of_visit(share):
    VisitFactory(share=share, kind=VisitKind.TAP)

    assert progress_everywhere(share)["link"] == (False, True, False, False)


def test_the_link_says_what_the_person_opened_it_on_never_the_builders_device(share):
    VisitFactory(share=share, kind=VisitKind.OPEN, by_builder=True, device_class="desktop")
    VisitFactory(
        share=share,
        kind=VisitKind.OPEN,
        at=NOW + timedelta(minutes=1),
        device_class=DeviceClass.TABLET,
        via_qr=True,
    )

    link = Share.objects.with_progress().get()

    assert (link.opened_on, link.opened_in_person) == (DeviceClass.TABLET, True)


def test_the_weekly_review_never_takes_the_builders_own_visits_for_the_persons(owner, share):
    VisitFactory(share=share, kind=VisitKind.OPEN, by_builder=True)
    VisitFactory(share=share, kind=VisitKind.RETURN, by_builder=True)
    review = weekly_review(owner, share.day, NOW + timedelta(hours=1))
    assert (review.silent, review.came_back) == ([], [])

    VisitFactory(share=share, kind=VisitKind.OPEN)
    VisitFactory(share=share, kind=VisitKind.RETURN)
    review = weekly_review(owner, share.day, NOW + timedelta(hours=1))

    assert (review.silent, review.came_back) == (["Sam"], ["Sam"])
