"""The habit's emails: the daily nudge and the weekly review. One function per kind."""

from datetime import date

from django.utils import timezone

from common import mail
from common.builders import Builder, EmailKind
from outerloop.habit import habit_for
from outerloop.review import reviewable, weekly_review
from outerloop.schedule import iso_week
from outerloop.streaks import needs_nudge
from outerloop.turns import latest_preview
from reactions.models import Share


def send_nudge(builder_id: int, day: date) -> bool:
    """The once-a-day "one outer-loop turn" email, unless the day no longer needs it."""
    builder = Builder.objects.filter(pk=builder_id).first()
    if builder is None or not builder.may_receive(EmailKind.NUDGE):
        return False
    if day != builder.local_day():
        return False
    latest = Share.objects.owned_by(builder).latest_day()
    if not needs_nudge(
        day, latest_stamped=latest, floor=builder.day_floor, rest=builder.rest_schedule
    ):
        return False
    claim = mail.claim(builder, EmailKind.NUDGE, day.isoformat())
    if claim is None:
        return False
    habit = habit_for(builder)
    email = mail.Email(
        kind="nudge",
        to=builder,
        context={"habit": habit, "day": day, "preview": latest_preview(builder)},
        unsubscribe="nudges_enabled",
    )
    return mail.deliver(claim, email)


def send_review(builder_id: int, last_day: date) -> bool:
    """The weekly review covering the seven days that end on `last_day` (or, the first
    time, the days since the builder joined), unless there is nothing to review yet."""
    builder = Builder.objects.filter(pk=builder_id).first()
    if builder is None or not builder.may_receive(EmailKind.REVIEW):
        return False
    if not reviewable({builder.pk: last_day}):
        return False
    claim = mail.claim(builder, EmailKind.REVIEW, iso_week(last_day))
    if claim is None:
        return False
    review = weekly_review(builder, last_day, timezone.now())
    email = mail.Email(
        kind="review", to=builder, context={"review": review}, unsubscribe="reviews_enabled"
    )
    return mail.deliver(claim, email)
