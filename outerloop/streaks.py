"""Turns, day statuses and streaks, as pure functions over dates.

A share is a *turn* once its recipient reacts; the turn belongs to the builder-local day
stamped on the share when it was sent. Each day then has a *status*: closed (a turn),
waiting (sent, no reaction yet, newest share under 48 hours old), rest (a declared rest
day), missed, or today (still open). A *streak* counts consecutive closed days back from
today; today, waiting days and rest days neither add nor break it, so a late reaction
heals its day and reconnects the streak. Nothing here touches the database.

History is stamped, never rewritten (DESIGN.md, "The rules"): a share keeps its stamped day
whatever the builder's zone or day start becomes, a rest-day change holds from the day of the
change on (`RestSchedule`), and the builder's today never goes back behind a stamped day
(`habit_today`).
"""

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WAITING_WINDOW = timedelta(hours=48)
MAX_DAY_START_HOUR = 6


class DayStatus(StrEnum):
    CLOSED = "closed"
    WAITING = "waiting"
    REST = "rest"
    MISSED = "missed"
    TODAY = "today"


class TodayState(StrEnum):
    CLOSED = "closed"
    WAITING = "waiting"
    NOTHING_SENT = "nothing_sent"


@dataclass(frozen=True)
class DayActivity:
    day: date  # the builder-local day stamped on the shares at send time
    turned: bool  # at least one share of that day has a counting reaction
    last_sent_at: datetime  # aware datetime of the newest share of that day


def local_day(moment: datetime, time_zone: str, day_start_hour: int = 0) -> date:
    """The builder-local date of `moment`; a day starts at `day_start_hour` wall-clock time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"local_day needs an aware datetime, got {moment!r}")
    if not 0 <= day_start_hour <= MAX_DAY_START_HOUR:
        raise ValueError(f"day_start_hour must be 0..{MAX_DAY_START_HOUR}, got {day_start_hour}")
    local = moment.astimezone(ZoneInfo(time_zone))
    if local.hour < day_start_hour:
        return local.date() - timedelta(days=1)
    return local.date()


def habit_today(local: date, latest_stamped: date | None, floor: date | None = None) -> date:
    """The builder's today: their local day (`local_day`), or, when later, the newest day a
    share of theirs is stamped with or the `floor` (their today before a zone or day-start
    change moved the clock back).

    A builder who moves west, or starts their day later, can find their clock back on a day
    they already lived. Their day never goes back: today stays the later day until the clock
    reaches it, new shares are stamped with it, and a turn on it keeps counting and stops the
    nudge; the day before it stays past, so it can't be reopened, sent on or healed."""
    return max(day for day in (local, latest_stamped, floor) if day is not None)


@dataclass(frozen=True)
class RestSchedule:
    """Which weekdays (0 = Monday) were rest days from which day on: each change holds from
    the day it was made, so a past day keeps the status it had and a missed day can't be
    healed by declaring its weekday a rest day afterwards.

    `changes` is ((first day, weekdays), …) in date order; days before the first change have
    no rest days. `day in schedule` asks whether a day is a rest day."""

    changes: tuple[tuple[date, frozenset[int]], ...] = field(default=())

    @classmethod
    def weekly(cls, weekdays: Iterable[int]) -> "RestSchedule":
        """The same rest weekdays on every day."""
        return cls(((date.min, frozenset(weekdays)),))

    @classmethod
    def from_json(cls, rows: list[dict] | None) -> "RestSchedule":
        """From `Builder.rest_day_history`: [{"from": "YYYY-MM-DD", "weekdays": [0-6, …]}]."""
        return cls(
            tuple(
                (date.fromisoformat(row["from"]), frozenset(row["weekdays"])) for row in rows or []
            )
        )

    @classmethod
    def of(cls, history: list[dict] | None, weekdays: Iterable[int]) -> "RestSchedule":
        """A builder's schedule from their `rest_day_history`, or, for a row written without
        one (bulk-created), their rest `weekdays` on every day."""
        return cls.from_json(history) if history else cls.weekly(weekdays)

    def to_json(self) -> list[dict]:
        return [
            {"from": first.isoformat(), "weekdays": sorted(weekdays)}
            for first, weekdays in self.changes
        ]

    def weekdays_on(self, day: date) -> frozenset[int]:
        """The rest weekdays that held on `day`."""
        index = bisect.bisect_right([first for first, _ in self.changes], day) - 1
        return self.changes[index][1] if index >= 0 else frozenset()

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day.weekday() in self.weekdays_on(day)

    def changed(self, today: date, weekdays: frozenset[int]) -> "RestSchedule":
        """This (non-empty) schedule after the builder sets `weekdays` on `today`: a new entry
        from today, or the last entry's weekdays replaced when it starts on or after today (a
        change made on the day an entry starts, or before it after a move west)."""
        last_first, last_weekdays = self.changes[-1]
        if weekdays == last_weekdays:
            return self
        if last_first >= today:
            return RestSchedule((*self.changes[:-1], (last_first, weekdays)))
        return RestSchedule((*self.changes, (today, weekdays)))


NO_REST = RestSchedule()


def needs_nudge(
    day: date,
    *,
    latest_stamped: date | None,
    floor: date | None = None,
    rest: RestSchedule = NO_REST,
) -> bool:
    """Whether the builder-local `day` still wants its nudge (DESIGN.md, "Nudge"): it is the
    builder's today (`habit_today`: not behind a stamped day or the `floor`), not a rest day,
    and nothing is stamped on it. The time of day is `schedule.due_nudge_day`'s."""
    return (
        habit_today(day, latest_stamped, floor) == day
        and day not in rest
        and (latest_stamped is None or latest_stamped < day)
    )


def day_status(
    day: date,
    activity: DayActivity | None,
    *,
    today: date,
    now: datetime,
    rest: RestSchedule = NO_REST,
) -> DayStatus:
    """The status of one day; a turn closes any day, even today or a rest day."""
    if activity is not None and activity.turned:
        return DayStatus.CLOSED
    if day == today:
        return DayStatus.TODAY
    if day in rest:
        return DayStatus.REST
    if activity is not None and now - activity.last_sent_at < WAITING_WINDOW:
        return DayStatus.WAITING
    return DayStatus.MISSED


def day_statuses(
    activities: Iterable[DayActivity],
    *,
    start: date,
    today: date,
    now: datetime,
    rest: RestSchedule = NO_REST,
) -> dict[date, DayStatus]:
    """The status of every date from `start` to `today` inclusive, in date order.

    Activities outside that range are ignored; two activities for the same day are merged.
    """
    by_day: dict[date, DayActivity] = {}
    for activity in activities:
        if not start <= activity.day <= today:
            continue
        seen = by_day.get(activity.day)
        by_day[activity.day] = (
            activity
            if seen is None
            else DayActivity(
                day=activity.day,
                turned=seen.turned or activity.turned,
                last_sent_at=max(seen.last_sent_at, activity.last_sent_at),
            )
        )

    statuses: dict[date, DayStatus] = {}
    day = start
    while day <= today:
        statuses[day] = day_status(day, by_day.get(day), today=today, now=now, rest=rest)
        day += timedelta(days=1)
    return statuses


def current_streak(statuses: Mapping[date, DayStatus], today: date) -> int:
    """Consecutive closed days counting back from `today`, until a missed or unknown day."""
    streak = 0
    day = today
    while day in statuses and statuses[day] != DayStatus.MISSED:
        if statuses[day] == DayStatus.CLOSED:
            streak += 1
        day -= timedelta(days=1)
    return streak


def best_streak(statuses: Mapping[date, DayStatus]) -> int:
    """The longest streak anywhere in `statuses`; a missed day or a gap in the dates breaks it."""
    best = run = 0
    previous: date | None = None
    for day in sorted(statuses):
        if statuses[day] == DayStatus.MISSED or (
            previous is not None and day - previous > timedelta(days=1)
        ):
            run = 0
        if statuses[day] == DayStatus.CLOSED:
            run += 1
            best = max(best, run)
        previous = day
    return best


def today_state(activity: DayActivity | None) -> TodayState:
    """What the builder's own today looks like: closed, waiting for a reaction, or empty."""
    if activity is None:
        return TodayState.NOTHING_SENT
    if activity.turned:
        return TodayState.CLOSED
    return TodayState.WAITING


# The habit score: an exponential moving average of closed days (Loop Habit Tracker's idea).
SCORE_HALF_LIFE_DAYS = 14
SCORE_DECAY = 0.5 ** (1 / SCORE_HALF_LIFE_DAYS)


def habit_score(statuses: Mapping[date, DayStatus]) -> float:
    """0..1: each closed day pulls the score up and each missed day lets it decay, with a
    two-week half-life; rest days, waiting days and an open today leave it where it is."""
    score = 0.0
    for day in sorted(statuses):
        status = statuses[day]
        if status == DayStatus.CLOSED:
            score = score * SCORE_DECAY + (1 - SCORE_DECAY)
        elif status == DayStatus.MISSED:
            score = score * SCORE_DECAY
    return score
