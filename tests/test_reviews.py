"""The weekly review: once per builder-local week, Sunday 18:00 by default, and what it says."""

import re
from datetime import date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.utils.timezone import now as timezone_now

from common.builders import Builder, EmailKind
from common.mail import ClaimStatus, EmailClaim
from outerloop import emails
from outerloop.tasks import review_tick, send_review
from reactions.models import Recipient, Share, VisitKind
from sessions.models import BuildSession, Preview
from tests.factories import BuilderFactory, ReactionFactory, ShareFactory, VisitFactory

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 3, 9)
SUNDAY = date(2026, 3, 15)  # the review day of ISO week 2026-W11
DASH = "\N{EN DASH}"


def at(zone: ZoneInfo, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def tick(time_machine, moment: datetime) -> None:
    time_machine.move_to(moment, tick=False)
    review_tick()


@pytest.fixture(autouse=True)
def started(owner) -> None:
    """Alex logged a build session in the week they joined (January): every review here has
    something to review, however quiet its week (`review.reviewable`)."""
    BuildSession.objects.create(builder=owner, title="First try", created_at=owner.date_joined)


def review_claims(builder: Builder) -> list[tuple[str, str]]:
    return list(
        EmailClaim.objects.filter(builder=builder, kind=EmailKind.REVIEW)
        .order_by("period")
        .values_list("period", "status")
    )


# When it goes out ----------------------------------------------------------------------------


def test_the_review_goes_out_at_sunday_six_pm_local_and_not_before(owner, time_machine, outbox):
    tick(time_machine, at(BERLIN, SUNDAY, 17, 55))
    assert outbox == []

    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))
    assert [message.to for message in outbox] == [["alex@example.com"]]
    assert review_claims(owner) == [("2026-W11", ClaimStatus.SENT)]


def test_one_review_per_local_week_with_beat_ticking_every_five_minutes(
    owner, outsider, time_machine, outbox
):
    """Alex in Berlin and Riley in New York, two weeks of ticks: one review each Sunday each.

    The ticks start on Wednesday, after the grace window of the previous Sunday's review."""
    BuildSession.objects.create(builder=outsider, title="Map", created_at=outsider.date_joined)
    sent: list[tuple[str, datetime]] = []
    moment = at(BERLIN, MONDAY + timedelta(days=2), 0, 0)
    while moment < at(BERLIN, MONDAY + timedelta(weeks=2), 12, 0):
        before = len(outbox)
        tick(time_machine, moment)
        sent += [(message.to[0], moment) for message in outbox[before:]]
        moment += timedelta(minutes=5)

    assert sent == [
        ("alex@example.com", at(BERLIN, SUNDAY, 18, 0)),
        ("riley@example.com", at(NEW_YORK, SUNDAY, 18, 0)),
        ("alex@example.com", at(BERLIN, SUNDAY + timedelta(weeks=1), 18, 0)),
        ("riley@example.com", at(NEW_YORK, SUNDAY + timedelta(weeks=1), 18, 0)),
    ]
    for builder in (owner, outsider):
        assert review_claims(builder) == [
            ("2026-W11", ClaimStatus.SENT),
            ("2026-W12", ClaimStatus.SENT),
        ]


def test_never_twice_for_the_same_iso_week(owner, time_machine, outbox):
    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))
    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))
    tick(time_machine, at(BERLIN, SUNDAY + timedelta(days=1), 9, 0))  # still in the grace window

    assert emails.send_review(owner.pk, SUNDAY) is False
    assert send_review.apply(args=[owner.pk, SUNDAY.isoformat()], retries=1).get() is False
    assert len(outbox) == 1
    assert EmailClaim.objects.filter(builder=owner, kind=EmailKind.REVIEW).count() == 1


def test_a_review_missed_by_an_outage_goes_out_with_the_first_tick_after_it(
    owner, time_machine, outbox
):
    """Beat was down from Sunday 17:00 to Monday 08:00: Monday's first tick sends last week's."""
    tick(time_machine, at(BERLIN, SUNDAY, 16, 55))
    assert outbox == []

    tick(time_machine, at(BERLIN, SUNDAY + timedelta(days=1), 8, 0))

    assert len(outbox) == 1
    assert "15 Mar" in outbox[0].body  # the week that ended on Sunday
    assert review_claims(owner) == [("2026-W11", ClaimStatus.SENT)]


def test_a_review_day_and_time_from_the_settings(owner, time_machine, outbox):
    Builder.objects.filter(pk=owner.pk).update(review_weekday=4, review_time=time(9, 0))
    friday = date(2026, 3, 13)

    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))
    tick(time_machine, at(BERLIN, friday, 8, 55))
    assert outbox == []

    tick(time_machine, at(BERLIN, friday, 9, 0))
    assert len(outbox) == 1
    assert f"your week 7 Mar {DASH} 13 Mar" in outbox[0].body


@pytest.mark.parametrize(
    "change",
    [
        {"reviews_enabled": False},
        {"email_paused": True},
        {"email_undeliverable_at": datetime(2026, 3, 1, tzinfo=BERLIN)},
    ],
    ids=["reviews-off", "paused", "bounced"],
)
def test_no_review_when_reviews_are_off_paused_or_bouncing(owner, time_machine, outbox, change):
    Builder.objects.filter(pk=owner.pk).update(**change)

    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))

    assert outbox == []
    assert review_claims(owner) == []


def test_the_review_carries_its_own_one_click_unsubscribe(owner, client, time_machine, outbox):
    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))
    message = outbox[0]

    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    client.post(
        link.removeprefix("http://127.0.0.1:8000"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    owner.refresh_from_db()
    assert (owner.reviews_enabled, owner.nudges_enabled) == (False, True)


# What it says --------------------------------------------------------------------------------


def session(builder: Builder, title: str, created_at: datetime) -> Preview:
    built = BuildSession.objects.create(builder=builder, title=title, created_at=created_at)
    return Preview.objects.create(
        session=built, url=f"https://{built.pk}.example.dev/", created_at=created_at
    )


def person(builder: Builder, name: str, *, lives_with: bool = False) -> Recipient:
    return Recipient.objects.create(builder=builder, name=name, lives_with=lives_with)


def send(preview: Preview, recipient: Recipient, sent_at: datetime) -> Share:
    return ShareFactory(preview=preview, recipient=recipient, sent_at=sent_at)


def react(share: Share, text: str, created_at: datetime, **fields) -> None:
    ReactionFactory(share=share, text=text, created_at=created_at, **fields)


@pytest.fixture
def week(owner):
    """Alex's week of 9-15 March, Wednesday a rest day (set on Tuesday the 10th), after a
    five-day run the week before."""
    owner.rest_weekdays = [2]
    owner.save()
    day = {
        name: MONDAY + timedelta(days=i)
        for i, name in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    }

    # The week before: Thursday to Sunday closed with Noor, who also came back once.
    old = session(owner, "Old map", at(BERLIN, date(2026, 3, 5), 8))
    noor = person(owner, "Noor")
    for offset in range(4):
        sent = at(BERLIN, date(2026, 3, 5) + timedelta(days=offset), 20)
        react(send(old, noor, sent), f"Last week's words {offset}", sent + timedelta(minutes=30))
    VisitFactory(
        share=noor.shares.first(), kind=VisitKind.RETURN, at=at(BERLIN, date(2026, 3, 6), 9)
    )

    crag = session(owner, "Crag finder", at(BERLIN, day["mon"], 9))
    crag2 = session(owner, "Crag finder v2", at(BERLIN, day["thu"], 8))
    route = session(owner, "Route log", at(BERLIN, day["sat"], 9))
    session(owner, "Sketch, never sent", at(BERLIN, day["wed"], 22))

    sam, kim, jo, lee, ana, ben = (
        person(owner, name) for name in ("Sam", "Kim", "Jo", "Lee", "Ana", "Ben")
    )
    robin = person(owner, "Robin", lives_with=True)

    # Monday: Sam reacts. Closed.
    monday = send(crag, sam, at(BERLIN, day["mon"], 10))
    react(monday, "The big button made sense straight away.", at(BERLIN, day["mon"], 10, 30))
    # Tuesday: Kim opens and says nothing. Missed by Sunday.
    tuesday = send(crag, kim, at(BERLIN, day["tue"], 11))
    VisitFactory(share=tuesday, kind=VisitKind.OPEN, at=at(BERLIN, day["tue"], 11, 10))
    VisitFactory(
        share=tuesday, kind=VisitKind.RETURN, at=at(BERLIN, day["tue"], 13), by_builder=True
    )
    # Wednesday: rest. Thursday: Jo reacts (closed); Robin, who lives here, does not count.
    react(
        send(crag2, jo, at(BERLIN, day["thu"], 9)),
        "Why does it ask for my location?",
        at(BERLIN, day["thu"], 9, 30),
    )
    react(
        send(crag2, robin, at(BERLIN, day["thu"], 9, 5)),
        "Looks great, love!",
        at(BERLIN, day["thu"], 19),
    )
    # Friday evening: Lee's only reaction is marked polite. Still waiting on Sunday.
    react(
        send(crag2, lee, at(BERLIN, day["fri"], 20)),
        "Nice.",
        at(BERLIN, day["fri"], 21),
        counts=False,
    )
    # Saturday: Sam and Ben react twice each; Ana opens and stays silent; Sam comes back.
    saturday_sam = send(route, sam, at(BERLIN, day["sat"], 10))
    react(saturday_sam, "I logged two climbs with it.", at(BERLIN, day["sat"], 12))
    react(saturday_sam, "The grade picker is too small.", at(BERLIN, day["sat"], 12, 5))
    VisitFactory(share=saturday_sam, kind=VisitKind.RETURN, at=at(BERLIN, day["sat"], 16))
    saturday_ben = send(route, ben, at(BERLIN, day["sat"], 10, 15))
    react(saturday_ben, "Can it export to a spreadsheet?", at(BERLIN, day["sat"], 13))
    react(saturday_ben, "Dark mode please.", at(BERLIN, day["sat"], 13, 1))
    saturday_ana = send(route, ana, at(BERLIN, day["sat"], 10, 20))
    VisitFactory(share=saturday_ana, kind=VisitKind.OPEN, at=at(BERLIN, day["sat"], 14))
    return owner


@pytest.fixture
def review(week, time_machine, outbox):
    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))
    assert len(outbox) == 1
    return outbox[0]


def html_of(message) -> str:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return unescape(html)


def test_the_subject_counts_closed_days_and_the_streak(review):
    assert review.subject == "Your week: 3 of 7 days closed, streak 2"


def test_the_review_lists_the_seven_days_with_their_statuses(review):
    assert f"your week 9 Mar {DASH} 15 Mar:" in review.body
    assert (
        "Mon closed\nTue missed\nWed rest\nThu closed\nFri waiting\nSat closed\nSun today\n"
    ) in review.body
    html = html_of(review)
    assert re.findall(r'<td align="center" title="(\w+)"', html) == [
        "closed",
        "missed",
        "rest",
        "closed",
        "waiting",
        "closed",
        "today",
    ]


def test_the_review_gives_current_and_best_streak(review):
    assert "Streak: 2 now, 5 best." in review.body
    assert "<strong>Streak:</strong> 2 now, 5 best." in html_of(review)


def test_the_review_counts_turns_sessions_and_links(review):
    # Turns: Monday Sam, Thursday Jo, Saturday Sam and Ben. Sessions: four built this week
    # (one never sent). Links: eight sent, the housemate's included.
    assert "Turns: 4. Built 4 sessions, sent 8 links." in review.body
    assert "<strong>Turns:</strong> 4. Built 4 sessions, sent 8 links." in html_of(review)


def test_the_review_quotes_the_five_newest_counting_reactions(review):
    quoted = [
        '- "Dark mode please." (Ben, Route log)',
        '- "Can it export to a spreadsheet?" (Ben, Route log)',
        '- "The grade picker is too small." (Sam, Route log)',
        '- "I logged two climbs with it." (Sam, Route log)',
        '- "Why does it ask for my location?" (Jo, Crag finder v2)',
    ]
    assert "In their words:\n" + "\n".join(quoted) + "\n" in review.body
    for left_out in (
        "The big button made sense straight away.",  # the sixth: only five are quoted
        "Looks great, love!",  # a housemate
        "Nice.",  # marked polite
        "Last week's words",  # last week
    ):
        assert left_out not in review.body
        assert left_out not in html_of(review)
    assert "“<bdi>Dark mode please.</bdi>”" in html_of(review)


def test_the_review_names_who_opened_and_stayed_silent(review):
    assert "Opened and stayed silent: Ana, Kim." in review.body
    assert "<strong>Opened and stayed silent:</strong> <bdi>Ana</bdi>, <bdi>Kim</bdi>." in html_of(
        review
    )


def test_the_review_names_who_came_back_this_week(review):
    # Sam came back on Saturday; Noor came back last week; Alex's own return to Kim's link is Alex.
    assert "Came back on their own: Sam.\n" in review.body
    assert "<strong>Came back on their own:</strong> <bdi>Sam</bdi>." in html_of(review)


def test_a_quiet_week_says_so_without_empty_sections(owner, time_machine, outbox):
    tick(time_machine, at(BERLIN, SUNDAY, 18, 0))
    message = outbox[0]

    assert message.subject == "Your week: 0 of 7 days closed, streak 0"
    assert "Turns: 0. Built 0 sessions, sent 0 links." in message.body
    for section in ("In their words", "stayed silent", "Came back"):
        assert section not in message.body
    assert f"Hi <bdi>Alex</bdi>, your week 9 Mar {DASH} 15 Mar" in html_of(message)


# The first review ----------------------------------------------------------------------------


def newcomer(joined: datetime, **fields) -> Builder:
    """Noa signs up at `joined` in Berlin and confirms the address at once."""
    return BuilderFactory(
        name="Noa",
        email="noa@example.com",
        time_zone="Europe/Berlin",
        date_joined=joined,
        email_confirmed_at=joined,
        **fields,
    )


def noas(outbox) -> list:
    return [message for message in outbox if message.to == ["noa@example.com"]]


def test_the_first_review_comes_at_todays_review_time_and_covers_a_partial_week(
    db, time_machine, outbox
):
    """Noa signs up on Tuesday morning, sets the review for Tuesday 18:00 and sends a link."""
    tuesday = date(2026, 3, 10)
    time_machine.move_to(at(BERLIN, tuesday, 9, 0), tick=False)
    noa = newcomer(at(BERLIN, tuesday, 9, 0), review_weekday=1, review_time=time(18, 0))
    time_machine.move_to(at(BERLIN, tuesday, 9, 30), tick=False)
    send(
        session(noa, "Plant diary", at(BERLIN, tuesday, 9, 20)), person(noa, "Ida"), timezone_now()
    )

    tick(time_machine, at(BERLIN, tuesday, 17, 55))
    assert noas(outbox) == []
    tick(time_machine, at(BERLIN, tuesday, 18, 0))

    (review,) = noas(outbox)
    assert review.subject == "Your first week: 0 of 1 days closed, streak 0"
    assert f"Hi Noa, your week 4 Mar {DASH} 10 Mar:\n" in review.body
    assert "Your first review covers a partial week: from Tue 10 Mar, the day you joined.\n" in (
        review.body
    )
    assert "Mon (before you joined)\nTue today\n" in review.body
    assert "Turns: 0. Built 1 session, sent 1 link." in review.body
    assert "covers a partial week: from Tue 10 Mar, the day you joined." in html_of(review)


def test_signing_up_after_todays_review_time_the_first_review_comes_once_there_is_activity(
    db, time_machine, outbox
):
    """Noa signs up on Sunday at 19:00, after the default review time (Sunday 18:00), and
    logs a build session at 19:20: the review of that Sunday comes with the next tick, not a
    week later."""
    time_machine.move_to(at(BERLIN, SUNDAY, 19, 0), tick=False)
    noa = newcomer(at(BERLIN, SUNDAY, 19, 0))
    tick(time_machine, at(BERLIN, SUNDAY, 19, 5))
    assert noas(outbox) == []

    session(noa, "Plant diary", at(BERLIN, SUNDAY, 19, 20))
    tick(time_machine, at(BERLIN, SUNDAY, 19, 25))

    (review,) = noas(outbox)
    assert review.subject == "Your first week: 0 of 1 days closed, streak 0"
    assert "from Sun 15 Mar, the day you joined" in review.body
    assert "Built 1 session, sent 0 links." in review.body
    assert review_claims(noa) == [("2026-W11", ClaimStatus.SENT)]


def test_no_review_for_a_newcomer_who_did_nothing(db, time_machine, outbox):
    """Noa signs up on Wednesday and does nothing: no review that Sunday, nor the next."""
    wednesday = MONDAY + timedelta(days=2)
    time_machine.move_to(at(BERLIN, wednesday, 9, 0), tick=False)
    noa = newcomer(at(BERLIN, wednesday, 9, 0))

    for week in (0, 1):
        tick(time_machine, at(BERLIN, SUNDAY + timedelta(weeks=week), 18, 0))
        tick(time_machine, at(BERLIN, SUNDAY + timedelta(weeks=week, days=1), 18, 0))

    assert noas(outbox) == []
    assert review_claims(noa) == []


def test_after_a_first_week_of_nothing_the_first_review_is_a_whole_week(db, time_machine, outbox):
    """Noa signs up on Wednesday, does nothing that week, and sends a link on Monday
    morning (inside the window of Sunday's review, which still covers nothing of theirs)."""
    wednesday = MONDAY + timedelta(days=2)
    time_machine.move_to(at(BERLIN, wednesday, 9, 0), tick=False)
    noa = newcomer(at(BERLIN, wednesday, 9, 0))
    monday = SUNDAY + timedelta(days=1)
    time_machine.move_to(at(BERLIN, monday, 9, 0), tick=False)
    send(session(noa, "Plant diary", at(BERLIN, monday, 8, 50)), person(noa, "Ida"), timezone_now())

    tick(time_machine, at(BERLIN, monday, 9, 5))
    assert noas(outbox) == []
    tick(time_machine, at(BERLIN, SUNDAY + timedelta(weeks=1), 18, 0))

    (review,) = noas(outbox)
    assert review.subject == "Your week: 0 of 7 days closed, streak 0"
    assert "partial week" not in review.body
    assert review_claims(noa) == [("2026-W12", ClaimStatus.SENT)]


def test_a_review_claim_sent_by_its_id_covers_its_own_week(owner, time_machine, outbox):
    """The outbox can send any claim by its id (a message queued again by hand, or a future
    sweep): the review finds its week's review day from the claim's period."""
    from common import outbox as email_outbox

    time_machine.move_to(at(BERLIN, SUNDAY, 18, 5), tick=False)
    claim = EmailClaim.objects.create(builder=owner, kind=EmailKind.REVIEW, period="2026-W11")

    assert email_outbox.send(claim.pk) is True
    assert [message.to for message in outbox] == [["alex@example.com"]]
    assert f"your week 9 Mar {DASH} 15 Mar:" in outbox[0].body
    assert review_claims(owner) == [("2026-W11", ClaimStatus.SENT)]
