"""The habit engine against a plain day-by-day model, over random histories (hypothesis).

A builder joins, sends links (some answered, some not), and changes their zone (DST zones,
and zones a day apart), their day start and their rest days, at random moments across the
March DST changes of New York, Berlin and Sydney. The engine is the app itself: links sent
through `share_preview`, settings saved through the model, the habit from `habit_for`, the
nudge from the nudge tick's query. The model below is written from the rules in DESIGN.md
alone, one day at a time, and shares no code with the engine.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from outerloop.habit import habit_for
from outerloop.reminders import due_nudges
from reactions.models import Channel, Recipient
from reactions.sharing import share_preview
from sessions.models import BuildSession
from tests.factories import BuilderFactory, ReactionFactory

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # a week before New York's DST, 4 before Berlin's
ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",  # DST ends on 5 April
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Pacific/Kiritimati",  # UTC+14: a day ahead of Los Angeles
    "Pacific/Pago_Pago",  # UTC-11
    "America/St_Johns",
]
NUDGE_AT = time(10, 0)
WAITING = timedelta(hours=48)

# Gaps between events: often minutes or hours (a send, then a move west the same evening),
# sometimes days.
gaps = st.one_of(st.integers(0, 6 * 60), st.integers(0, 3 * 24 * 60))
rest_sets = st.frozensets(st.integers(0, 6), max_size=6)
answers = st.one_of(st.none(), st.integers(1, 4 * 24 * 60))  # minutes until a reaction
events = st.one_of(
    st.tuples(gaps, st.just("send"), answers),
    st.tuples(gaps, st.just("zone"), st.sampled_from(ZONES)),
    st.tuples(gaps, st.just("day_start"), st.integers(0, 6)),
    st.tuples(gaps, st.just("rest"), rest_sets),
)
# The case the rules are most about: a link sent, then within hours a move west or a later
# day start, so the clock shows a date before the one just stamped.
send_then_move = st.tuples(
    st.tuples(gaps, st.just("send"), answers),
    st.one_of(
        st.tuples(st.integers(0, 120), st.just("zone"), st.sampled_from(ZONES)),
        st.tuples(st.integers(0, 120), st.just("day_start"), st.integers(1, 6)),
    ),
).map(list)
histories = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "day_start": st.integers(0, 6),
        "rest": rest_sets,
        "events": st.lists(
            st.one_of(events.map(lambda one: [one]), send_then_move), max_size=25
        ).map(lambda runs: [one for run in runs for one in run]),
        "then": gaps,  # from the last event to the moment the habit is read
    }
)


@dataclass
class Model:
    """The rules, one day at a time."""

    zone: str
    day_start: int
    first_day: date = date.min
    floor: date = date.min  # today before the latest zone or day-start change
    stamps: list[tuple[date, datetime, datetime | None]] = field(default_factory=list)
    rest_from: list[tuple[date, frozenset[int]]] = field(default_factory=list)

    def clock_day(self, moment: datetime) -> date:
        wall = moment.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
        return (wall - timedelta(hours=self.day_start)).date()

    def today(self, moment: datetime) -> date:
        """The clock's day, unless a link is already stamped with a later one, or the clock
        went back behind the day it showed before a zone or day-start change."""
        days = [self.clock_day(moment), self.floor] + [stamp for stamp, _, _ in self.stamps]
        return max(days)

    def move(self, moment: datetime, zone: str, day_start: int) -> None:
        self.floor = max(self.floor, self.clock_day(moment))
        self.zone, self.day_start = zone, day_start

    def set_rest(self, moment: datetime, weekdays: frozenset[int]) -> None:
        """From today on, and never before the day the previous change started."""
        since = max(self.today(moment), self.rest_from[-1][0])
        if since == self.rest_from[-1][0]:
            self.rest_from[-1] = (since, weekdays)
        else:
            self.rest_from.append((since, weekdays))

    def rests(self, day: date) -> bool:
        weekdays: frozenset[int] = frozenset()
        for since, those in self.rest_from:
            if since <= day:
                weekdays = those
        return day.weekday() in weekdays

    def statuses(self, now: datetime) -> dict[date, str]:
        today = self.today(now)
        day = min([self.first_day, today] + [stamp for stamp, _, _ in self.stamps])
        found = {}
        while day <= today:
            sent = [(at, answered) for stamp, at, answered in self.stamps if stamp == day]
            if any(answered is not None and answered <= now for _, answered in sent):
                found[day] = "closed"
            elif day == today:
                found[day] = "today"
            elif self.rests(day):
                found[day] = "rest"
            elif sent and now - max(at for at, _ in sent) < WAITING:
                found[day] = "waiting"
            else:
                found[day] = "missed"
            day += timedelta(days=1)
        return found

    def nudge_due(self, now: datetime) -> bool:
        clock = self.clock_day(now)
        nudge_at = datetime.combine(clock, NUDGE_AT, tzinfo=ZoneInfo(self.zone))
        stamped_since = any(stamp >= clock for stamp, _, _ in self.stamps)
        on_today = clock == self.today(now)
        return now >= nudge_at and on_today and not self.rests(clock) and not stamped_since


def streaks_of(statuses: dict[date, str], today: date) -> tuple[int, int]:
    current = 0
    for day in sorted(statuses, reverse=True):
        if statuses[day] == "missed":
            break
        current += statuses[day] == "closed"
    best = run = 0
    for day in sorted(statuses):
        run = 0 if statuses[day] == "missed" else run + (statuses[day] == "closed")
        best = max(best, run)
    return current, best


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_the_engine_agrees_with_a_day_by_day_model(history):
    moments = []
    moment = START
    for gap, _, _ in history["events"]:
        moment += timedelta(minutes=gap)
        moments.append(moment)
    now = moment + timedelta(minutes=history["then"])
    model = Model(zone=history["zone"], day_start=history["day_start"])
    model.first_day = model.clock_day(START)
    model.rest_from = [(model.first_day, history["rest"])]

    with transaction.atomic():
        with time_machine.travel(START, tick=False):
            builder = BuilderFactory(
                email="prop@example.com",
                time_zone=history["zone"],
                day_start_hour=history["day_start"],
                rest_weekdays=sorted(history["rest"]),
                date_joined=START,
                nudge_time=NUDGE_AT,
            )
            preview = BuildSession.objects.create(builder=builder, title="Map").add_preview(
                "https://map.example.dev/"
            )
            person = Recipient.objects.create(builder=builder, name="Sam")
        for moment, (_, kind, value) in zip(moments, history["events"], strict=True):
            with time_machine.travel(moment, tick=False):
                if kind == "send":
                    answered = None if value is None else moment + timedelta(minutes=value)
                    share = share_preview(preview.fresh(), person, Channel.DM)
                    if answered is not None and answered <= now:
                        ReactionFactory(share=share, created_at=answered)
                    model.stamps.append((model.today(moment), moment, answered))
                    assert share.day == model.stamps[-1][0]
                elif kind == "zone":
                    model.move(moment, value, model.day_start)
                    builder.time_zone = value
                    builder.save()
                elif kind == "day_start":
                    model.move(moment, model.zone, value)
                    builder.day_start_hour = value
                    builder.save()
                else:
                    model.set_rest(moment, value)
                    builder.rest_weekdays = sorted(value)
                    builder.save()
            if model.today(moment) > model.clock_day(moment):
                event("a link stamped ahead of the clock's day")

        with time_machine.travel(now, tick=False):
            habit = habit_for(builder)
            nudged = builder.pk in {pk for pk, _ in due_nudges(now)}
        transaction.set_rollback(True)

    expected = model.statuses(now)
    assert habit.today == model.today(now)
    assert {day: str(status) for day, status in habit.statuses.items()} == expected
    assert (habit.current_streak, habit.best_streak) == streaks_of(expected, habit.today)
    assert nudged == model.nudge_due(now)
