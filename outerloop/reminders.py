"""Who is due a nudge or a weekly review right now: a few queries per batch of builders."""

from collections.abc import Iterator
from datetime import date, datetime

from outerloop import mail
from outerloop.models import Builder, EmailClaim, EmailKind
from outerloop.review import reviewable
from outerloop.schedule import Timing, due_nudge_day, due_review_day, iso_week
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
    """(builder id, local day) for builders past their nudge time who sent nothing that day."""
    builders = Builder.objects.mailable().filter(nudges_enabled=True)
    fields = ["pk", "time_zone", "day_start_hour", "nudge_time", "rest_weekdays"]
    for rows in _batches(builders, fields):
        due: dict[int, date] = {}
        for row in rows:
            day = due_nudge_day(
                now, Timing(row["time_zone"], row["day_start_hour"]), row["nudge_time"]
            )
            if day is not None and day.weekday() not in (row["rest_weekdays"] or []):
                due[row["pk"]] = day
        if not due:
            continue
        sent = set(
            Share.objects.filter(
                recipient__builder_id__in=due, day__in=set(due.values())
            ).values_list("recipient__builder_id", "day")
        )
        claimed = _claimed(EmailKind.NUDGE, {pk: day.isoformat() for pk, day in due.items()}, now)
        for pk, day in due.items():
            if (pk, day) not in sent and (pk, day.isoformat()) not in claimed:
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
