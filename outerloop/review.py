"""The weekly review: the seven days ending on the review day, read from the database.

A builder's first review comes at the first review time once they have done something
(sent a link, logged a build session) and covers the days since they joined: a partial
week. A builder who has done nothing yet gets no review (`reviewable`).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, Min, OuterRef

from common.builders import Builder
from outerloop.habit import habit_for
from reactions.models import Reaction, Recipient, Share, Visit
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
    # The builder-local day they joined, when that falls inside the week after its first day:
    # their first review, covering a partial week. None for a whole week.
    joined_on: date | None = None

    @property
    def closed_days(self) -> int:
        return sum(1 for _, status in self.days if status == "closed")

    @property
    def days_counted(self) -> int:
        """The days the review speaks for: 7, or those since the builder joined."""
        return 7 if self.joined_on is None else (self.last_day - self.joined_on).days + 1


def reviewable(due: dict[int, date]) -> dict[int, date]:
    """The reviews of `due` ({builder id: review day}) worth sending: those whose builder
    has done something on or before the review day (a share stamped with that day or an
    earlier one, or a build session started by the end of it, in the builder's day).
    A review before a builder's first activity would be empty, so it is not sent; the first
    one after it comes at the builder's next review time. Three queries for any batch."""
    if not due:
        return {}
    first_share = dict(
        Share.objects.filter(recipient__builder_id__in=due)
        .order_by()
        .values_list("recipient__builder_id")
        .annotate(Min("day"))
    )
    first_session = dict(
        BuildSession.objects.filter(builder_id__in=due)
        .order_by()
        .values_list("builder_id")
        .annotate(Min("created_at"))
    )
    kept = {}
    for builder in Builder.objects.filter(pk__in=due).only("time_zone", "day_start_hour"):
        started = [first_share.get(builder.pk)]
        if builder.pk in first_session:
            started.append(builder.local_day(first_session[builder.pk]))
        started = [day for day in started if day is not None]
        if started and min(started) <= due[builder.pk]:
            kept[builder.pk] = due[builder.pk]
    return kept


def weekly_review(builder, last_day: date, now: datetime) -> WeeklyReview:
    """The review of the seven builder-local days ending on `last_day`, as of `now`."""
    first_day = last_day - timedelta(days=6)
    joined_on = builder.first_day if first_day < builder.first_day <= last_day else None
    start, end = (
        builder.timing.day_starts(first_day),
        builder.timing.day_starts(last_day + timedelta(days=1)),
    )
    habit = habit_for(builder, now)
    days = [
        (day, str(habit.statuses.get(day, "before")))
        for day in (first_day + timedelta(days=offset) for offset in range(7))
    ]
    shares = Share.objects.owned_by(builder).filter(day__range=(first_day, last_day))
    counting = Reaction.objects.counting().owned_by(builder)
    week_recipients = Recipient.objects.owned_by(builder).filter(shares__in=shares).distinct()
    visits = Visit.objects.by_recipients().filter(share__recipient=OuterRef("pk"))
    opened = visits.opens().filter(share__in=shares)
    reacted = Reaction.objects.by_recipients().filter(
        share__in=shares, share__recipient=OuterRef("pk")
    )
    returned = visits.returns().filter(at__range=(start, end))
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
        joined_on=joined_on,
    )
