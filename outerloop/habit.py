"""The habit as the builder sees it: day statuses, streaks and the calendar, read from the ORM.

The rules themselves are pure functions in `streaks.py`; this module only gathers their input.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max
from django.utils import timezone

from common.days import habit_today
from outerloop import streaks
from reactions.live import Pulse, builders_pulse
from reactions.models import Share, is_turn

CALENDAR_WEEKS = 12
HEATMAP_WEEKS = 52


@dataclass(frozen=True)
class CalendarDay:
    day: date
    status: str  # a streaks.DayStatus, or "future" / "before" outside the builder's history
    is_today: bool
    turns: int = 0


@dataclass(frozen=True)
class WeekTurns:
    monday: date
    turns: int


@dataclass(frozen=True)
class Habit:
    today: date  # the habit's today (`common.days.habit_today`): never behind a day already lived
    local_day: date  # the builder's own date by their clock now; before `today` after a move west
    time_zone: str
    start: date
    statuses: dict[date, streaks.DayStatus]
    turns_by_day: dict[date, int]
    today_state: streaks.TodayState
    current_streak: int
    best_streak: int
    score: float

    @property
    def ahead(self) -> bool:
        """Today is a stamped day the builder's clock hasn't reached (they moved west)."""
        return self.today > self.local_day

    @property
    def score_percent(self) -> int:
        return round(self.score * 100)

    @property
    def weeks(self) -> list[list[CalendarDay]]:
        """The dashboard's calendar: the last 12 weeks."""
        return calendar_weeks(self, CALENDAR_WEEKS)

    def heatmap(self) -> list[list[CalendarDay]]:
        return calendar_weeks(self, HEATMAP_WEEKS)

    def turns_per_week(self, weeks: int = CALENDAR_WEEKS) -> list[WeekTurns]:
        this_monday = self.today - timedelta(days=self.today.weekday())
        mondays = [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
        totals = dict.fromkeys(mondays, 0)
        for day, turns in self.turns_by_day.items():
            monday = day - timedelta(days=day.weekday())
            if monday in totals:
                totals[monday] += turns
        return [WeekTurns(monday=monday, turns=totals[monday]) for monday in mondays]


def day_rows(builder) -> list[dict]:
    """One row per day the builder sent anything, with its turns: one aggregate query,
    however many shares. A turn is a share with a counting reaction (`is_turn`)."""
    return list(
        Share.objects.owned_by(builder)
        .order_by()
        .values("day")
        .annotate(last_sent_at=Max("sent_at"), turns=Count("pk", filter=is_turn(builder)))
    )


def _activity(row: dict) -> streaks.DayActivity:
    return streaks.DayActivity(
        day=row["day"], turned=row["turns"] > 0, last_sent_at=row["last_sent_at"]
    )


def habit_for(builder, now: datetime | None = None) -> Habit:
    """The builder's habit at `now`, from the days stamped on their shares: every day from
    their first day (or first share) to their today, with its status, and what follows."""
    now = now or timezone.now()
    local = builder.local_day(now)
    rows = day_rows(builder)
    activities = [_activity(row) for row in rows]
    by_day = {activity.day: activity for activity in activities}
    today = habit_today(local, max(by_day, default=None), builder.day_floor)
    start = min([builder.first_day, today, *by_day])
    statuses = streaks.day_statuses(
        activities, start=start, today=today, now=now, rest=builder.rest_schedule
    )
    return Habit(
        today=today,
        local_day=local,
        time_zone=builder.time_zone,
        start=start,
        statuses=statuses,
        turns_by_day={row["day"]: row["turns"] for row in rows},
        today_state=streaks.today_state(by_day.get(today)),
        current_streak=streaks.current_streak(statuses, today),
        best_streak=streaks.best_streak(statuses),
        score=streaks.habit_score(statuses),
    )


def habit_pulse(builder, now: datetime | None = None, seen: dict[str, str] | None = None) -> Pulse:
    """The live stamp of every page that shows the habit (streaks, score, calendar, today)
    or anything about the builder's links: all their shares and reactions, every share
    crossing the waiting window (a waiting day turns missed), and what `habit_for` reads
    from the builder's row (their local day, day floor, zone, day start, rest days).
    Three queries; `reactions.live.pulse` says what it sees (and what `seen` is)."""
    now = now or timezone.now()
    key = repr(
        (
            builder.local_day(now),
            builder.day_floor,
            builder.time_zone,
            builder.day_start_hour,
            builder.rest_day_history,
            builder.rest_weekdays,
            builder.date_joined,
        )
    )
    return builders_pulse(
        builder, changes_at=now - streaks.WAITING_WINDOW, key=key, now=now, seen=seen
    )


def calendar_weeks(habit: Habit, weeks: int) -> list[list[CalendarDay]]:
    """Monday-first weeks ending with the current one."""
    today, start, statuses = habit.today, habit.start, habit.statuses
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    grid = []
    for week in range(weeks):
        row = []
        for offset in range(7):
            day = first + timedelta(weeks=week, days=offset)
            if day > today:
                status = "future"
            elif day < start:
                status = "before"
            else:
                status = str(statuses[day])
            turns = habit.turns_by_day.get(day, 0)
            row.append(CalendarDay(day=day, status=status, is_today=day == today, turns=turns))
        grid.append(row)
    return grid
