"""The daily nudge: beat ticks every 5 minutes in UTC; each builder hears once a local day.

Celery runs eagerly here, so `nudge_tick()` queues and sends in the same call; the clock is
`time_machine`'s, moved tick by tick the way beat would fire.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import signing
from django.urls import reverse

from common import mail
from common.builders import Builder, EmailKind
from common.mail import ClaimStatus, EmailClaim
from outerloop import emails
from outerloop.reminders import due_nudges
from outerloop.tasks import nudge_tick, send_nudge
from reactions.models import Share
from sessions.models import BuildSession
from tests.conftest import NOW
from tests.factories import BuilderFactory, ReactionFactory, RecipientFactory, ShareFactory

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TICK = timedelta(minutes=5)
TODAY = date(2026, 3, 10)  # NOW's date in Berlin, a Tuesday


def local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def tick(time_machine, moment: datetime) -> int:
    """Beat fires at `moment`; how many nudges the tick queued."""
    time_machine.move_to(moment, tick=False)
    return nudge_tick()


def run_beat(
    time_machine, outbox, start: datetime, end: datetime, *, down: Iterable = ()
) -> list[tuple[str, datetime]]:
    """Tick every 5 minutes from `start` to `end` (skipping `down` ranges); who got what when."""
    outages = list(down)
    sent: list[tuple[str, datetime]] = []
    moment = start
    while moment < end:
        if not any(off <= moment < on for off, on in outages):
            before = len(outbox)
            tick(time_machine, moment)
            sent += [(message.to[0], moment) for message in outbox[before:]]
        moment += TICK
    return sent


def recipients(outbox) -> list[str]:
    return [message.to[0] for message in outbox]


def nudge_claims(builder: Builder) -> list[tuple[str, str]]:
    return list(
        EmailClaim.objects.filter(builder=builder, kind=EmailKind.NUDGE)
        .order_by("period")
        .values_list("period", "status")
    )


@pytest.fixture
def kim(now, db) -> Builder:
    """Another builder in Berlin who is due at NOW: proof that the tick ran at all."""
    return BuilderFactory(name="Kim", email="kim@example.com", time_zone=BERLIN)


def closed_day(builder: Builder, sent_at: datetime, title: str = "Old prototype") -> Share:
    """A share sent at `sent_at` that a real person reacted to: a closed day."""
    share = ShareFactory(
        recipient=RecipientFactory(builder=builder),
        sent_at=sent_at,
        preview__created_at=sent_at,
        preview__session__created_at=sent_at,
        preview__session__title=title,
    )
    ReactionFactory(share=share, created_at=sent_at + timedelta(minutes=20))
    return share


# Once a local day, at 10:00, across both DST switches ---------------------------------------


@pytest.mark.parametrize(
    "switch",
    [
        pytest.param(date(2026, 3, 8), id="new-york-springs-forward"),
        pytest.param(date(2026, 3, 29), id="berlin-springs-forward"),
        pytest.param(date(2026, 10, 25), id="berlin-falls-back"),
        pytest.param(date(2026, 11, 1), id="new-york-falls-back"),
    ],
)
def test_exactly_one_nudge_each_local_day_at_ten_across_a_dst_switch(switch, time_machine, outbox):
    berlin = BuilderFactory(email="berlin@example.com", time_zone=BERLIN)
    new_york = BuilderFactory(email="newyork@example.com", time_zone=NEW_YORK)
    days = [switch - timedelta(days=1), switch, switch + timedelta(days=1)]

    # From New York's midnight before the first day to its midnight after the last one:
    # Berlin is 5-6 hours ahead, so both see three whole mornings.
    sent = run_beat(
        time_machine,
        outbox,
        local(NEW_YORK, days[0], 0),
        local(NEW_YORK, days[-1] + timedelta(days=1), 0),
    )

    for builder in (berlin, new_york):
        zone = ZoneInfo(builder.time_zone)
        received = [moment.astimezone(zone) for to, moment in sent if to == builder.email]
        assert [(moment.date(), moment.time()) for moment in received] == [
            (day, time(10, 0)) for day in days
        ]
        assert nudge_claims(builder) == [(day.isoformat(), ClaimStatus.SENT) for day in days]


def test_no_nudge_before_the_nudge_time(owner, time_machine, outbox):
    tick(time_machine, local(BERLIN, TODAY, 9, 55))
    tick(time_machine, local(BERLIN, TODAY, 9, 59))
    assert outbox == []
    assert nudge_claims(owner) == []

    tick(time_machine, local(BERLIN, TODAY, 10, 0))
    assert recipients(outbox) == ["alex@example.com"]


def test_a_later_nudge_time_is_respected(owner, time_machine, outbox):
    Builder.objects.filter(pk=owner.pk).update(nudge_time=time(17, 30))

    tick(time_machine, local(BERLIN, TODAY, 17, 25))
    assert outbox == []
    tick(time_machine, local(BERLIN, TODAY, 17, 30))
    assert recipients(outbox) == ["alex@example.com"]


def test_a_night_owls_nudge_comes_in_the_small_hours_of_the_same_local_day(
    time_machine, outbox, db
):
    owl = BuilderFactory(
        email="owl@example.com", time_zone=BERLIN, day_start_hour=4, nudge_time=time(2, 0)
    )

    sent = run_beat(
        time_machine,
        outbox,
        local(BERLIN, TODAY, 4, 0),
        local(BERLIN, TODAY + timedelta(days=1), 4, 0),
    )

    assert [moment.astimezone(ZoneInfo(BERLIN)) for _, moment in sent] == [
        datetime.combine(TODAY + timedelta(days=1), time(2, 0), tzinfo=ZoneInfo(BERLIN))
    ]
    assert nudge_claims(owl) == [(TODAY.isoformat(), ClaimStatus.SENT)]


def test_beat_catches_up_after_a_three_hour_outage_the_same_local_day(owner, time_machine, outbox):
    down, up = local(BERLIN, TODAY, 8, 0), local(BERLIN, TODAY, 11, 0)

    sent = run_beat(
        time_machine,
        outbox,
        local(BERLIN, TODAY, 6, 0),
        local(BERLIN, TODAY + timedelta(days=1), 0),
        down=[(down, up)],
    )

    assert sent == [("alex@example.com", up)]  # the first tick after the outage
    assert nudge_claims(owner) == [(TODAY.isoformat(), ClaimStatus.SENT)]


def test_an_outage_past_the_end_of_the_local_day_skips_that_day(owner, time_machine, outbox):
    """A nudge belongs to its day: the first tick the next morning does not send yesterday's."""
    sent = run_beat(
        time_machine,
        outbox,
        local(BERLIN, TODAY, 6, 0),
        local(BERLIN, TODAY + timedelta(days=1), 9, 0),
        down=[(local(BERLIN, TODAY, 9, 0), local(BERLIN, TODAY + timedelta(days=1), 1, 0))],
    )

    assert sent == []
    assert nudge_claims(owner) == []


# Who is skipped ----------------------------------------------------------------------------


def test_the_tick_nudges_a_builder_who_is_due(owner, time_machine, outbox):
    tick(time_machine, NOW)

    assert recipients(outbox) == ["alex@example.com"]
    assert nudge_claims(owner) == [(TODAY.isoformat(), ClaimStatus.SENT)]


def test_no_nudge_when_something_was_sent_that_local_day(owner, kim, share, time_machine, outbox):
    assert share.day == TODAY

    assert tick(time_machine, NOW) == 1  # Kim's: the tick does not even queue Alex's

    assert recipients(outbox) == ["kim@example.com"]
    assert nudge_claims(owner) == []


def test_a_share_sent_yesterday_does_not_stop_todays_nudge(owner, time_machine, outbox):
    ShareFactory(recipient=RecipientFactory(builder=owner), sent_at=NOW - timedelta(days=1))

    tick(time_machine, NOW)

    assert recipients(outbox) == ["alex@example.com"]


def test_a_share_sent_after_the_nudge_time_still_counts_as_sent_that_day(
    owner, kim, time_machine, outbox
):
    """Beat was down at 10:00; by the first tick after it, Alex had already sent one."""
    ShareFactory(recipient=RecipientFactory(builder=owner), sent_at=local(BERLIN, TODAY, 10, 30))

    tick(time_machine, local(BERLIN, TODAY, 11, 0))

    assert recipients(outbox) == ["kim@example.com"]


def test_no_nudge_on_a_rest_day(owner, kim, time_machine, outbox):
    owner.rest_weekdays = [TODAY.weekday()]  # set this morning: it holds from today
    owner.save()

    assert tick(time_machine, NOW) == 1  # Kim's: the tick does not even queue Alex's

    assert recipients(outbox) == ["kim@example.com"]
    assert nudge_claims(owner) == []


def test_rest_days_are_the_builders_local_weekday(time_machine, outbox, db):
    """Tuesday 01:00 in Berlin is still Monday in New York: Monday's rest holds there."""
    new_york = BuilderFactory(
        email="ny@example.com", time_zone=NEW_YORK, nudge_time=time(0, 0), rest_weekdays=[0]
    )

    tick(time_machine, local(BERLIN, TODAY, 1, 0))
    assert outbox == []

    tick(time_machine, local(NEW_YORK, TODAY, 0, 0))  # Tuesday in New York too
    assert recipients(outbox) == [new_york.email]


def test_no_nudge_when_nudges_are_off(owner, kim, time_machine, outbox):
    Builder.objects.filter(pk=owner.pk).update(nudges_enabled=False)

    assert tick(time_machine, NOW) == 1  # Kim's: the tick does not even queue Alex's

    assert recipients(outbox) == ["kim@example.com"]
    assert nudge_claims(owner) == []


def test_no_nudge_when_all_email_is_paused(owner, kim, time_machine, outbox):
    Builder.objects.filter(pk=owner.pk).update(email_paused=True)

    assert tick(time_machine, NOW) == 1  # Kim's: the tick does not even queue Alex's

    assert recipients(outbox) == ["kim@example.com"]
    assert nudge_claims(owner) == []


def test_no_nudge_when_the_address_bounced(owner, kim, time_machine, outbox):
    Builder.objects.filter(pk=owner.pk).update(
        email_undeliverable_at=NOW - timedelta(days=2), email_undeliverable_reason="bounced"
    )

    assert tick(time_machine, NOW) == 1  # Kim's: the tick does not even queue Alex's

    assert recipients(outbox) == ["kim@example.com"]
    assert nudge_claims(owner) == []


def test_no_nudge_for_an_inactive_account(owner, kim, time_machine, outbox):
    Builder.objects.filter(pk=owner.pk).update(is_active=False)

    assert tick(time_machine, NOW) == 1  # Kim's: the tick does not even queue Alex's

    assert recipients(outbox) == ["kim@example.com"]


def test_a_queued_nudge_checks_again_when_it_runs(owner, time_machine, outbox):
    """Queued at 10:00, run after Alex sent a link (or switched nudges off): nothing goes out."""
    ShareFactory(recipient=RecipientFactory(builder=owner), sent_at=NOW)

    assert emails.send_nudge(owner.pk, TODAY) is False
    assert outbox == []


def test_a_queued_nudge_for_a_day_made_a_rest_day_since_is_not_sent(owner, time_machine, outbox):
    """The tick queued it at 10:00; before a worker ran it, Alex made Tuesdays rest days (from
    today on): the nudge asks `streaks.needs_nudge` again when it is sent, and stays unsent."""
    time_machine.move_to(NOW, tick=False)
    assert list(due_nudges(NOW)) == [(owner.pk, TODAY)]
    owner.rest_weekdays = [TODAY.weekday()]
    owner.save()

    assert send_nudge.delay(owner.pk, TODAY.isoformat()).get() is False
    assert outbox == []
    assert nudge_claims(owner) == []


def test_a_nudge_for_a_day_that_has_ended_is_not_sent(owner, time_machine, outbox):
    """A message redelivered the next day is stale: its day is over."""
    time_machine.move_to(local(BERLIN, TODAY + timedelta(days=1), 10, 0), tick=False)

    assert send_nudge.delay(owner.pk, TODAY.isoformat()).get() is False
    assert outbox == []
    assert nudge_claims(owner) == []


# Never twice -------------------------------------------------------------------------------


def test_a_second_tick_the_same_day_sends_nothing(owner, time_machine, outbox):
    tick(time_machine, NOW)
    tick(time_machine, NOW)
    tick(time_machine, NOW + timedelta(hours=3))

    assert recipients(outbox) == ["alex@example.com"]
    assert EmailClaim.objects.filter(builder=owner, kind=EmailKind.NUDGE).count() == 1


def test_a_redelivered_send_nudge_task_sends_nothing(owner, time_machine, outbox):
    time_machine.move_to(NOW, tick=False)
    first = send_nudge.delay(owner.pk, TODAY.isoformat()).get()
    again = send_nudge.apply(args=[owner.pk, TODAY.isoformat()], retries=1).get()

    assert (first, again) == (True, False)
    assert recipients(outbox) == ["alex@example.com"]
    claim = EmailClaim.objects.get(builder=owner, kind=EmailKind.NUDGE)
    assert (claim.status, claim.attempts) == (ClaimStatus.SENT, 1)


def test_a_direct_second_call_to_send_nudge_sends_nothing(owner, time_machine, outbox):
    time_machine.move_to(NOW, tick=False)

    assert emails.send_nudge(owner.pk, TODAY) is True
    assert emails.send_nudge(owner.pk, TODAY) is False
    assert recipients(outbox) == ["alex@example.com"]


def test_tomorrow_is_a_new_day_with_its_own_nudge(owner, time_machine, outbox):
    tick(time_machine, NOW)
    tick(time_machine, NOW + timedelta(days=1))

    assert recipients(outbox) == ["alex@example.com", "alex@example.com"]
    assert [period for period, _ in nudge_claims(owner)] == ["2026-03-10", "2026-03-11"]


# What the nudge says ---------------------------------------------------------------------------


@pytest.fixture
def nudge(owner, time_machine, outbox):
    """Alex's nudge at NOW, after three closed days and with a fresh preview to share."""

    def send():
        tick(time_machine, NOW)
        assert len(outbox) == 1
        return outbox[0]

    return send


def html_of(message) -> str:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return unescape(html)


def test_the_nudge_names_the_streak_at_stake(owner, nudge):
    for days_ago in (3, 2, 1):
        closed_day(owner, NOW - timedelta(days=days_ago))

    message = nudge()

    assert message.subject == "Your 3-day streak: one turn today"
    assert "Your 3-day streak is at stake." in message.body
    assert "Your 3-day streak is at stake." in html_of(message)


def test_without_a_streak_the_nudge_just_asks_for_one_turn(owner, nudge):
    message = nudge()

    assert message.subject == "One outer-loop turn today?"
    assert "streak" not in message.body
    assert "Nothing sent yet today (Tuesday 10 March)." in message.body


def test_the_nudge_offers_the_freshest_preview_with_a_link_to_share_it(owner, nudge):
    closed_day(owner, NOW - timedelta(days=1), title="Yesterday's map")
    fresh = BuildSession.objects.create(
        builder=owner, title="Crag finder v2", created_at=NOW
    ).previews.create(url="https://crag-v2.example.dev/", created_at=NOW)

    message = nudge()
    share_link = settings.OUTERLOOP_BASE_URL + reverse("reactions:share-create", args=[fresh.pk])

    assert 'Your freshest preview is "Crag finder v2":' in message.body
    assert "https://crag-v2.example.dev/" in message.body
    assert f"Share it with one person:\n{share_link}" in message.body
    assert "Yesterday's map" not in message.body
    html = html_of(message)
    assert "<strong><bdi>Crag finder v2</bdi></strong>" in html
    assert f'href="{share_link}"' in html
    assert "Make a URL exist" not in message.body


def test_without_any_preview_the_nudge_says_make_a_url_exist(owner, nudge):
    message = nudge()
    dashboard = settings.OUTERLOOP_BASE_URL + reverse("outerloop:dashboard")

    assert "Make a URL exist, even half done" in message.body
    assert f"{dashboard}" in message.body
    assert "Make a URL exist, even half done" in html_of(message)
    assert "freshest preview" not in message.body


def test_the_nudge_carries_one_click_unsubscribe_headers(owner, nudge):
    message = nudge()

    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{settings.OUTERLOOP_BASE_URL}/email/unsubscribe/")
    assert unsubscribe.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = unsubscribe.removeprefix(f"<{settings.OUTERLOOP_BASE_URL}/email/unsubscribe/")
    assert mail.read_unsubscribe_token(token.removesuffix("/>")) == (owner.pk, "nudges_enabled")
    assert unsubscribe[1:-1] in message.body  # the same link, for people who read the text


def test_the_unsubscribe_token_is_signed(owner, nudge):
    message = nudge()
    token = message.extra_headers["List-Unsubscribe"].rsplit("/", 2)[-2]

    with pytest.raises(signing.BadSignature):
        mail.read_unsubscribe_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


def test_the_nudge_has_an_html_alternative_addressed_to_the_builder(owner, nudge):
    message = nudge()

    assert message.to == ["alex@example.com"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    html = html_of(message)
    assert html.startswith("<!doctype html>")
    assert "Hi <bdi>Alex</bdi>," in html
    assert 'name="viewport"' in html
    assert "max-width:480px" in html  # narrow enough for a phone's mail client
