"""Turns, day statuses and streaks, as pure functions over dates.

A share is a *turn* once its recipient reacts; the turn belongs to the builder-local day
stamped on the share when it was sent. Each day then has a *status*: closed (a turn),
waiting (sent, no reaction yet, newest share under 48 hours old), rest (a declared rest
day), missed, or today (still open). A *streak* counts consecutive closed days back from
today; today, waiting days and rest days neither add nor break it, so a late reaction
heals its day and reconnects the streak. Nothing here touches the database.

History is stamped, never rewritten (DESIGN.md, "The rules"): a share keeps its stamped day
whatever the builder's zone or day start becomes, a rest-day change holds from the day of the
change on (`common.days.RestSchedule`), and the builder's today never goes back behind a
stamped day (`common.days.habit_today`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from common.days import NO_REST, RestSchedule, habit_today

WAITING_WINDOW = timedelta(hours=48)


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
