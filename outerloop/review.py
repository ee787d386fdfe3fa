"""The weekly review: the seven days ending on the review day, read from the database."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef

from outerloop.habit import habit_for
from reactions.models import Reaction, Recipient, Share, Visit, VisitKind
from sessions.models import BuildSession

QUOTES = 5


@dataclass(frozen=True)
class WeeklyReview:
    first_day: date
    last_day: date
    days: list[tuple[date, str]]
    current_streak: int
    best_streak: int
    turns: int
    quotes: list[Reaction]
    silent: list[str]
    came_back: list[str]
    sessions_logged: int
    links_sent: int

    @property
    def closed_days(self) -> int:
        return sum(1 for _, status in self.days if status == "closed")


def _local_start(day: date, builder) -> datetime:
    return datetime.combine(day, time(builder.day_start_hour), tzinfo=ZoneInfo(builder.time_zone))


def weekly_review(builder, last_day: date, now: datetime) -> WeeklyReview:
    first_day = last_day - timedelta(days=6)
    start, end = (
        _local_start(first_day, builder),
        _local_start(last_day + timedelta(days=1), builder),
    )
    habit = habit_for(builder, now)
    days = [
        (day, str(habit.statuses.get(day, "before")))
        for day in (first_day + timedelta(days=offset) for offset in range(7))
    ]
    shares = Share.objects.owned_by(builder).filter(day__range=(first_day, last_day))
    counting = Reaction.objects.counting().owned_by(builder)
    week_recipients = Recipient.objects.owned_by(builder).filter(shares__in=shares).distinct()
    opened = Visit.objects.filter(
        share__in=shares, share__recipient=OuterRef("pk"), kind=VisitKind.OPEN, by_builder=False
    )
    reacted = Reaction.objects.filter(
        share__in=shares, share__recipient=OuterRef("pk"), by_builder=False
    )
    returned = Visit.objects.filter(
        share__recipient=OuterRef("pk"),
        kind=VisitKind.RETURN,
        by_builder=False,
        at__range=(start, end),
    )
    return WeeklyReview(
        first_day=first_day,
        last_day=last_day,
        days=days,
        current_streak=habit.current_streak,
        best_streak=habit.best_streak,
        turns=shares.filter(Exists(counting.filter(share=OuterRef("pk")))).count(),
        quotes=list(
            counting.filter(share__day__range=(first_day, last_day)).select_related(
                "share__recipient", "share__preview__session"
            )[:QUOTES]
        ),
        silent=list(
            week_recipients.filter(Exists(opened), ~Exists(reacted)).values_list("name", flat=True)
        ),
        came_back=list(
            Recipient.objects.owned_by(builder)
            .filter(Exists(returned))
            .values_list("name", flat=True)
        ),
        sessions_logged=BuildSession.objects.owned_by(builder)
        .filter(created_at__range=(start, end))
        .count(),
        links_sent=shares.count(),
    )
