"""When a builder's nudge and weekly review are due, as pure functions of the current moment.

Beat ticks in UTC; each builder lives in their own zone with their own day start. A nudge is
due from the nudge time of the builder-local day until that day ends; a review is due from its
weekday and time until two days later, so a tick after an outage still catches up, once.
"""

from datetime import date, datetime, time, timedelta

from common.days import Timing

REVIEW_GRACE = timedelta(days=2)


def due_nudge_day(now: datetime, timing: Timing, nudge_at: time) -> date | None:
    """The builder-local day whose nudge is due at `now`, or None before the nudge time."""
    today = timing.day_of(now)
    return today if now >= timing.moment(today, nudge_at) else None


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def review_day(today: date, weekday: int) -> date:
    """The review's day in the ISO week of `today` (weekday 0 = Monday … 6 = Sunday)."""
    return today - timedelta(days=today.weekday()) + timedelta(days=weekday)


def due_review_day(now: datetime, timing: Timing, weekday: int, review_at: time) -> date | None:
    """The review day (last of the seven days it covers) due at `now`, or None.

    This week's review is due once its moment passes; last week's stays due for two days
    after its moment, so an outage over the review time only delays it. Whether a builder
    has anything to review yet (a new builder's first week) is `review.reviewable`'s call.
    """
    today = timing.day_of(now)
    for day in (review_day(today, weekday), review_day(today, weekday) - timedelta(weeks=1)):
        moment = timing.moment(day, review_at)
        if moment <= now < moment + REVIEW_GRACE:
            return day
    return None
