"""Who is due a nudge or a weekly review right now: a few queries per batch of builders."""

from collections.abc import Iterator
from datetime import date, datetime

from django.db.models import Max

from common import mail
from common.builders import Builder, EmailKind
from common.days import RestSchedule, Timing
from common.mail import EmailClaim
from outerloop.review import reviewable
from outerloop.schedule import due_nudge_day, due_review_day, iso_week
from outerloop.streaks import needs_nudge
from reactions.models import Share

BATCH = 1000


def _batches(queryset, fields: list[str]) -> Iterator[list[dict]]:
    """Builders in primary-key batches: bounded memory, a constant number of queries each."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values(*fields)[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1]["pk"]


def _claimed(kind: str, due: dict[int, str], now: datetime) -> set[tuple[int, str]]:
    """Emails already in hand; one a dead worker abandoned is due again."""
    return set(
        EmailClaim.objects.filter(kind=kind, builder_id__in=due, period__in=set(due.values()))
        .exclude(mail.abandoned(now))
        .values_list("builder_id", "period")
    )


def due_nudges(now: datetime) -> Iterator[tuple[int, date]]:
    """(builder id, local day) for builders past their nudge time whose day still wants a
    nudge (`streaks.needs_nudge`): their today, nothing stamped on it, not a rest day."""
    builders = Builder.objects.mailable().filter(nudges_enabled=True)
    fields = [
        "pk",
        "time_zone",
        "day_start_hour",
        "nudge_time",
        "rest_weekdays",
        "rest_day_history",
        "day_floor",
    ]
    for rows in _batches(builders, fields):
        due: dict[int, date] = {}
        rest: dict[int, RestSchedule] = {}
        floor: dict[int, date | None] = {}
        for row in rows:
            day = due_nudge_day(
                now, Timing(row["time_zone"], row["day_start_hour"]), row["nudge_time"]
            )
            if day is not None:
                due[row["pk"]] = day
                rest[row["pk"]] = RestSchedule.of(row["rest_day_history"], row["rest_weekdays"])
                floor[row["pk"]] = row["day_floor"]
        if not due:
            continue
        latest = dict(
            Share.objects.filter(recipient__builder_id__in=due, day__gte=min(due.values()))
            .order_by()
            .values("recipient__builder_id")
            .annotate(latest=Max("day"))
            .values_list("recipient__builder_id", "latest")
        )
        claimed = _claimed(EmailKind.NUDGE, {pk: day.isoformat() for pk, day in due.items()}, now)
        for pk, day in due.items():
            wanted = needs_nudge(day, latest_stamped=latest.get(pk), floor=floor[pk], rest=rest[pk])
            if wanted and (pk, day.isoformat()) not in claimed:
                yield pk, day


def due_reviews(now: datetime) -> Iterator[tuple[int, date]]:
    """(builder id, review day) for builders whose weekly review is due, who have something
    to review (`review.reviewable`), and whose review is not yet claimed."""
    builders = Builder.objects.mailable().filter(reviews_enabled=True)
    fields = ["pk", "time_zone", "day_start_hour", "review_weekday", "review_time"]
    for rows in _batches(builders, fields):
        due: dict[int, date] = {}
        for row in rows:
            timing = Timing(row["time_zone"], row["day_start_hour"])
            day = due_review_day(now, timing, row["review_weekday"], row["review_time"])
            if day is not None:
                due[row["pk"]] = day
        due = reviewable(due)
        if not due:
            continue
        claimed = _claimed(EmailKind.REVIEW, {pk: iso_week(day) for pk, day in due.items()}, now)
        for pk, day in due.items():
            if (pk, iso_week(day)) not in claimed:
                yield pk, day
