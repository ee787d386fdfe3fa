"""The habit's emails: the daily nudge and the weekly review, each a composer for the outbox
(common.outbox), which claims, checks `Builder.may_receive` and sends.

Both are a tick's suggestion (outerloop.reminders finds who is due): each is claimed only if
its composer still wants it when a worker sends it, and a lost one is found by the next tick.
"""

from datetime import date

from django.utils import timezone

from common import mail, outbox
from common.builders import Builder, EmailKind
from outerloop.habit import habit_for
from outerloop.review import reviewable, weekly_review
from outerloop.schedule import iso_week, review_day
from outerloop.streaks import needs_nudge
from outerloop.turns import latest_preview
from reactions.models import Share


def send_nudge(builder_id: int, day: date) -> bool:
    """Send the builder's nudge for their local `day` now, if it is still wanted; once a day.
    True when it went out now; raises mail.TransientEmailError for the task to retry."""
    builder = Builder.objects.filter(pk=builder_id).first()
    return builder is not None and outbox.send_if_wanted(builder, EmailKind.NUDGE, day.isoformat())


def send_review(builder_id: int, last_day: date) -> bool:
    """Send the weekly review of the seven days that end on `last_day` now, if there is
    something to review; once an ISO week. True when it went out now; raises
    mail.TransientEmailError for the task to retry."""
    builder = Builder.objects.filter(pk=builder_id).first()
    return builder is not None and outbox.send_if_wanted(
        builder, EmailKind.REVIEW, iso_week(last_day), last_day=last_day
    )


@outbox.composer(EmailKind.NUDGE, swept=False)
def nudge_email(builder: Builder, period: str) -> mail.Email | None:
    """The once-a-day "one outer-loop turn" email for the builder-local day `period` (ISO
    date), unless that day no longer wants it when it is sent: it is over, or
    `streaks.needs_nudge`, the rule the tick applied, now says no (a link was sent on it,
    or it was made a rest day, since the tick)."""
    day = date.fromisoformat(period)
    if day != builder.local_day():
        return None
    latest = Share.objects.owned_by(builder).latest_day()
    if not needs_nudge(
        day, latest_stamped=latest, floor=builder.day_floor, rest=builder.rest_schedule
    ):
        return None
    return mail.Email(
        kind="nudge",
        to=builder,
        context={"habit": habit_for(builder), "day": day, "preview": latest_preview(builder)},
        unsubscribe="nudges_enabled",
    )


@outbox.composer(EmailKind.REVIEW, swept=False)
def review_email(
    builder: Builder, period: str, *, last_day: date | None = None
) -> mail.Email | None:
    """The weekly review of the seven days that end on `last_day` (period: its ISO week), or,
    the first time, of the days since the builder joined; None while there is nothing to
    review yet (`review.reviewable`). Without `last_day` (a claim sent by its id), it is the
    builder's review day in the period's week (`schedule.review_day`)."""
    if last_day is None:
        year, week = (int(part) for part in period.split("-W"))
        last_day = review_day(date.fromisocalendar(year, week, 1), builder.review_weekday)
    if not reviewable({builder.pk: last_day}):
        return None
    context = {"review": weekly_review(builder, last_day, timezone.now())}
    return mail.Email(kind="review", to=builder, context=context, unsubscribe="reviews_enabled")
