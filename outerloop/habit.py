"""The habit as the builder sees it: day statuses, streaks and the calendar, read from the ORM.

The rules themselves are pure functions in `streaks.py`; this module only gathers their input.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from outerloop import streaks
from reactions.models import Share

CALENDAR_WEEKS = 12


@dataclass(frozen=True)
class CalendarDay:
    day: date
    status: str  # a streaks.DayStatus, or "future" / "before" outside the builder's history
    is_today: bool


@dataclass(frozen=True)
class Habit:
    today: date
    statuses: dict[date, streaks.DayStatus]
    today_state: streaks.TodayState
    current_streak: int
    best_streak: int
    weeks: list[list[CalendarDay]]


def day_activities(builder) -> list[streaks.DayActivity]:
    """One row per day the builder sent anything: one query, however many shares."""
    counting = Q(
        reactions__counts=True,
        reactions__by_builder=False,
        recipient__lives_with=False,
    )
    rows = (
        Share.objects.owned_by(builder)
        .order_by()
        .values("day")
        .annotate(last_sent_at=Max("sent_at"), turns=Count("reactions", filter=counting))
    )
    return [
        streaks.DayActivity(
            day=row["day"], turned=row["turns"] > 0, last_sent_at=row["last_sent_at"]
        )
        for row in rows
    ]


def habit_for(builder, now: datetime | None = None) -> Habit:
    now = now or timezone.now()
    today = builder.local_day(now)
    activities = day_activities(builder)
    by_day = {activity.day: activity for activity in activities}
    start = min([builder.local_day(builder.date_joined), today, *by_day])
    statuses = streaks.day_statuses(
        activities, start=start, today=today, now=now, rest_weekdays=builder.rest_days
    )
    return Habit(
        today=today,
        statuses=statuses,
        today_state=streaks.today_state(by_day.get(today)),
        current_streak=streaks.current_streak(statuses, today),
        best_streak=streaks.best_streak(statuses),
        weeks=calendar_weeks(statuses, today, start),
    )


def calendar_weeks(
    statuses: dict[date, streaks.DayStatus], today: date, start: date, weeks: int = CALENDAR_WEEKS
) -> list[list[CalendarDay]]:
    """Monday-first weeks ending with the current one."""
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
            row.append(CalendarDay(day=day, status=status, is_today=day == today))
        grid.append(row)
    return grid
