"""When a nudge or a review is due: pure functions of the moment, no database, no clock."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from outerloop.schedule import REVIEW_GRACE, Timing, due_nudge_day, due_review_day, iso_week

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TEN = time(10, 0)
SUNDAY = 6
SIX_PM = time(18, 0)

# 2026's switches: Europe springs forward on 29 March and falls back on 25 October;
# the United States on 8 March and 1 November.
DAYS = [
    (BERLIN, date(2026, 3, 10)),
    (BERLIN, date(2026, 3, 29)),
    (BERLIN, date(2026, 10, 25)),
    (NEW_YORK, date(2026, 3, 10)),
    (NEW_YORK, date(2026, 3, 8)),
    (NEW_YORK, date(2026, 11, 1)),
]


def local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment in `zone`, handed over in UTC the way beat sees it."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def due_windows(
    timing: Timing, nudge_at: time, start: datetime, end: datetime
) -> dict[date, list[datetime]]:
    """Every 5-minute tick from `start` to `end`, grouped by the day that was due at it."""
    windows: dict[date, list[datetime]] = {}
    moment = start
    while moment < end:
        day = due_nudge_day(moment, timing, nudge_at)
        if day is not None:
            windows.setdefault(day, []).append(moment)
        moment += timedelta(minutes=5)
    return windows


# The daily nudge ----------------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "day"), DAYS)
def test_the_nudge_is_not_due_at_nine_fifty_nine_local(zone, day):
    assert due_nudge_day(local(zone, day, 9, 59), Timing(zone), TEN) is None


@pytest.mark.parametrize(("zone", "day"), DAYS)
def test_the_nudge_is_due_at_ten_local_for_that_day(zone, day):
    assert due_nudge_day(local(zone, day, 10, 0), Timing(zone), TEN) == day


@pytest.mark.parametrize(("zone", "day"), DAYS)
def test_the_nudge_stays_due_until_the_local_day_ends(zone, day):
    next_day = day + timedelta(days=1)

    assert due_nudge_day(local(zone, day, 23, 59), Timing(zone), TEN) == day
    assert due_nudge_day(local(zone, next_day, 0, 0), Timing(zone), TEN) is None


@pytest.mark.parametrize(("zone", "day"), DAYS)
def test_each_local_day_has_exactly_one_due_window_starting_at_ten(zone, day):
    """Three local days around the date, ticked every 5 minutes in UTC, as beat does."""
    first, last = day - timedelta(days=1), day + timedelta(days=1)
    start = local(zone, first, 0, 0)
    end = local(zone, last + timedelta(days=1), 0, 0)

    windows = due_windows(Timing(zone), TEN, start, end)

    assert sorted(windows) == [first, day, last]
    for due_day, ticks in windows.items():
        wall = [tick.astimezone(ZoneInfo(zone)) for tick in ticks]
        assert (wall[0].date(), wall[0].time()) == (due_day, TEN)
        assert (wall[-1].date(), wall[-1].time()) == (due_day, time(23, 55))
        # One unbroken stretch: no tick in the middle of it falls outside.
        assert all(b - a == timedelta(minutes=5) for a, b in pairwise(ticks))


def test_the_spring_forward_day_is_an_hour_shorter_and_still_due_once():
    windows = due_windows(
        Timing(BERLIN),
        TEN,
        local(BERLIN, date(2026, 3, 29), 0, 0),
        local(BERLIN, date(2026, 3, 30), 0, 0),
    )

    # 10:00 to midnight is 14 wall-clock hours on any day: 168 ticks.
    assert list(windows) == [date(2026, 3, 29)]
    assert len(windows[date(2026, 3, 29)]) == 14 * 12


def test_the_fall_back_day_is_an_hour_longer_and_still_due_once():
    windows = due_windows(
        Timing(NEW_YORK),
        TEN,
        local(NEW_YORK, date(2026, 11, 1), 0, 0),
        local(NEW_YORK, date(2026, 11, 2), 0, 0),
    )

    assert list(windows) == [date(2026, 11, 1)]
    assert len(windows[date(2026, 11, 1)]) == 14 * 12


def test_a_nudge_time_after_the_day_start_stays_due_into_the_small_hours():
    """Day starts at 4:00: 03:00 on Wednesday is still Tuesday, and Tuesday's nudge."""
    timing = Timing(BERLIN, day_start_hour=4)
    tuesday, wednesday = date(2026, 3, 10), date(2026, 3, 11)

    assert due_nudge_day(local(BERLIN, tuesday, 9, 59), timing, TEN) is None
    assert due_nudge_day(local(BERLIN, tuesday, 10, 0), timing, TEN) == tuesday
    assert due_nudge_day(local(BERLIN, wednesday, 3, 59), timing, TEN) == tuesday
    assert due_nudge_day(local(BERLIN, wednesday, 4, 0), timing, TEN) is None


def test_a_nudge_time_before_the_day_start_falls_in_that_days_night():
    """Day starts at 4:00, nudge at 2:00: Tuesday's nudge comes at 2:00 on Wednesday."""
    timing = Timing(BERLIN, day_start_hour=4)
    two = time(2, 0)
    tuesday, wednesday = date(2026, 3, 10), date(2026, 3, 11)

    monday = tuesday - timedelta(days=1)

    assert due_nudge_day(local(BERLIN, tuesday, 2, 0), timing, two) == monday  # Monday's night
    assert due_nudge_day(local(BERLIN, tuesday, 10, 0), timing, two) is None
    assert due_nudge_day(local(BERLIN, tuesday, 23, 0), timing, two) is None
    assert due_nudge_day(local(BERLIN, wednesday, 1, 59), timing, two) is None
    assert due_nudge_day(local(BERLIN, wednesday, 2, 0), timing, two) == tuesday
    assert due_nudge_day(local(BERLIN, wednesday, 3, 59), timing, two) == tuesday
    assert due_nudge_day(local(BERLIN, wednesday, 4, 0), timing, two) is None


def test_a_night_owls_day_has_exactly_one_due_window():
    timing = Timing(NEW_YORK, day_start_hour=4)
    windows = due_windows(
        timing,
        time(2, 0),
        local(NEW_YORK, date(2026, 3, 9), 4, 0),
        local(NEW_YORK, date(2026, 3, 12), 4, 0),
    )

    assert sorted(windows) == [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]
    for day, ticks in windows.items():
        first = ticks[0].astimezone(ZoneInfo(NEW_YORK))
        assert first == datetime.combine(
            day + timedelta(days=1), time(2, 0), tzinfo=ZoneInfo(NEW_YORK)
        )
        assert len(ticks) == 2 * 12  # 02:00 to 04:00


# The weekly review --------------------------------------------------------------------------


def test_the_review_is_not_due_before_sunday_six_pm():
    sunday = date(2026, 3, 15)

    assert due_review_day(local(BERLIN, sunday, 17, 59), Timing(BERLIN), SUNDAY, SIX_PM) is None


def test_the_review_is_due_at_sunday_six_pm_local_for_that_sunday():
    sunday = date(2026, 3, 15)

    assert due_review_day(local(BERLIN, sunday, 18, 0), Timing(BERLIN), SUNDAY, SIX_PM) == sunday
    assert (
        due_review_day(local(NEW_YORK, sunday, 18, 0), Timing(NEW_YORK), SUNDAY, SIX_PM) == sunday
    )


def test_six_pm_in_berlin_is_not_yet_six_pm_in_new_york():
    berlin_six = local(BERLIN, date(2026, 3, 15), 18, 0)

    assert due_review_day(berlin_six, Timing(NEW_YORK), SUNDAY, SIX_PM) is None


def test_the_review_stays_due_for_two_days_then_stops():
    sunday = date(2026, 3, 15)
    timing = Timing(BERLIN)
    tuesday = sunday + timedelta(days=2)

    assert timedelta(days=2) == REVIEW_GRACE
    assert due_review_day(local(BERLIN, sunday, 23, 59), timing, SUNDAY, SIX_PM) == sunday
    assert due_review_day(
        local(BERLIN, sunday + timedelta(days=1), 12), timing, SUNDAY, SIX_PM
    ) == (sunday)
    assert due_review_day(local(BERLIN, tuesday, 17, 59), timing, SUNDAY, SIX_PM) == sunday
    assert due_review_day(local(BERLIN, tuesday, 18, 0), timing, SUNDAY, SIX_PM) is None


def test_the_review_is_due_on_the_spring_forward_sunday():
    sunday = date(2026, 3, 29)

    assert due_review_day(local(BERLIN, sunday, 17, 59), Timing(BERLIN), SUNDAY, SIX_PM) is None
    assert due_review_day(local(BERLIN, sunday, 18, 0), Timing(BERLIN), SUNDAY, SIX_PM) == sunday


def test_a_review_on_another_weekday_and_time_follows_the_settings():
    """Friday 09:00 in New York."""
    friday = date(2026, 3, 13)
    timing = Timing(NEW_YORK)

    assert due_review_day(local(NEW_YORK, friday, 8, 59), timing, 4, time(9)) is None
    assert due_review_day(local(NEW_YORK, friday, 9, 0), timing, 4, time(9)) == friday


def test_every_week_has_exactly_one_due_review_window():
    timing = Timing(BERLIN)
    start = local(BERLIN, date(2026, 3, 4), 0, 0)  # a Wednesday: March 1st's review is over
    due: dict[date, int] = {}
    moment = start
    while moment < start + timedelta(weeks=4):
        day = due_review_day(moment, timing, SUNDAY, SIX_PM)
        if day is not None:
            due[day] = due.get(day, 0) + 1
        moment += timedelta(minutes=5)

    # Four Sundays (the last one the spring-forward day), each due for 48 hours of ticks.
    assert sorted(due) == [
        date(2026, 3, 8),
        date(2026, 3, 15),
        date(2026, 3, 22),
        date(2026, 3, 29),
    ]
    assert list(due.values()) == [48 * 12] * 4


# ISO weeks: the review's period ------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2026, 3, 15), "2026-W11"),
        (date(2025, 12, 29), "2026-W01"),  # a Monday in December already in next year's week 1
        (date(2026, 1, 1), "2026-W01"),
        (date(2026, 12, 31), "2026-W53"),
        (date(2027, 1, 3), "2026-W53"),  # a Sunday in January still in last year's week 53
        (date(2027, 1, 4), "2027-W01"),
        (date(2021, 1, 3), "2020-W53"),
        (date(2024, 12, 30), "2025-W01"),
    ],
)
def test_iso_week_at_year_boundaries(day, week):
    assert iso_week(day) == week
