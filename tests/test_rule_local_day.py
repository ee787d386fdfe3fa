"""The builder's local day and zone (common.days): the one home of "what day is it for them".

A day starts at the builder's day-start hour in their IANA zone; every date the habit stamps
or shows comes from `local_day` (or `Timing`, the same rule for one builder's clock), and the
habit's today never goes back behind a day already lived (`habit_today`).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from common.days import MAX_DAY_START_HOUR, Timing, habit_today, local_day, validate_time_zone

# Tuesday 10 March 2026, noon UTC.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def march(day: int) -> date:
    return date(2026, 3, day)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# local_day ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Spring forward, 29 March: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
        (utc(2026, 3, 28, 22, 59), date(2026, 3, 28)),  # 23:59 CET
        (utc(2026, 3, 28, 23, 0), date(2026, 3, 29)),  # 00:00 CET
        (utc(2026, 3, 29, 0, 59), date(2026, 3, 29)),  # 01:59 CET, just before the gap
        (utc(2026, 3, 29, 1, 0), date(2026, 3, 29)),  # 03:00 CEST, just after the gap
        (utc(2026, 3, 29, 21, 59), date(2026, 3, 29)),  # 23:59 CEST
        (utc(2026, 3, 29, 22, 0), date(2026, 3, 30)),  # 00:00 CEST
        # Fall back, 25 October: 03:00 CEST goes back to 02:00 CET at 01:00 UTC.
        (utc(2026, 10, 24, 21, 59), date(2026, 10, 24)),  # 23:59 CEST
        (utc(2026, 10, 24, 22, 0), date(2026, 10, 25)),  # 00:00 CEST
        (utc(2026, 10, 25, 0, 30), date(2026, 10, 25)),  # 02:30 CEST, first time
        (utc(2026, 10, 25, 1, 30), date(2026, 10, 25)),  # 02:30 CET, repeated
        (utc(2026, 10, 25, 22, 59), date(2026, 10, 25)),  # 23:59 CET
        (utc(2026, 10, 25, 23, 0), date(2026, 10, 26)),  # 00:00 CET
    ],
)
def test_local_day_in_berlin_across_both_dst_switches(moment: datetime, expected: date) -> None:
    assert local_day(moment, "Europe/Berlin") == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Spring forward, 8 March: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
        (utc(2026, 3, 8, 4, 59), date(2026, 3, 7)),  # 23:59 EST
        (utc(2026, 3, 8, 5, 0), date(2026, 3, 8)),  # 00:00 EST
        (utc(2026, 3, 8, 6, 59), date(2026, 3, 8)),  # 01:59 EST, just before the gap
        (utc(2026, 3, 8, 7, 0), date(2026, 3, 8)),  # 03:00 EDT, just after the gap
        (utc(2026, 3, 9, 3, 59), date(2026, 3, 8)),  # 23:59 EDT
        (utc(2026, 3, 9, 4, 0), date(2026, 3, 9)),  # 00:00 EDT
        # Fall back, 1 November: 02:00 EDT goes back to 01:00 EST at 06:00 UTC.
        (utc(2026, 11, 1, 3, 59), date(2026, 10, 31)),  # 23:59 EDT
        (utc(2026, 11, 1, 4, 0), date(2026, 11, 1)),  # 00:00 EDT
        (utc(2026, 11, 1, 5, 30), date(2026, 11, 1)),  # 01:30 EDT, first time
        (utc(2026, 11, 1, 6, 30), date(2026, 11, 1)),  # 01:30 EST, repeated
        (utc(2026, 11, 2, 4, 59), date(2026, 11, 1)),  # 23:59 EST
        (utc(2026, 11, 2, 5, 0), date(2026, 11, 2)),  # 00:00 EST
    ],
)
def test_local_day_in_new_york_across_both_dst_switches(moment: datetime, expected: date) -> None:
    assert local_day(moment, "America/New_York") == expected


def test_local_day_converts_a_moment_given_in_another_zone() -> None:
    # 08:30 in Tokyo (UTC+9) on 10 March is 23:30 UTC, i.e. 19:30 EDT on 9 March.
    moment = datetime(2026, 3, 10, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert local_day(moment, "America/New_York") == date(2026, 3, 9)


def test_local_day_of_a_wall_clock_time_in_the_skipped_hour() -> None:
    # 02:30 on 29 March does not exist in Berlin; zoneinfo reads it with the CET offset,
    # i.e. 01:30 UTC, which is 03:30 CEST.
    moment = datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert local_day(moment, "Europe/Berlin") == date(2026, 3, 29)
    assert local_day(moment, "Europe/Berlin", day_start_hour=4) == date(2026, 3, 28)


@pytest.mark.parametrize("fold", [0, 1])
def test_local_day_of_both_readings_of_the_repeated_hour(fold: int) -> None:
    moment = datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=ZoneInfo("America/New_York"))
    assert local_day(moment, "America/New_York") == date(2026, 11, 1)
    assert local_day(moment, "America/New_York", day_start_hour=4) == date(2026, 10, 31)


@pytest.mark.parametrize(
    ("moment", "time_zone", "expected"),
    [
        # An ordinary night in Berlin (CET, UTC+1).
        (utc(2026, 3, 10, 2, 59), "Europe/Berlin", date(2026, 3, 9)),  # 03:59
        (utc(2026, 3, 10, 3, 0), "Europe/Berlin", date(2026, 3, 10)),  # 04:00
        # Spring-forward night in Berlin: 03:59 and 04:00 are CEST (UTC+2).
        (utc(2026, 3, 29, 0, 30), "Europe/Berlin", date(2026, 3, 28)),  # 01:30 CET
        (utc(2026, 3, 29, 1, 59), "Europe/Berlin", date(2026, 3, 28)),  # 03:59 CEST
        (utc(2026, 3, 29, 2, 0), "Europe/Berlin", date(2026, 3, 29)),  # 04:00 CEST
        # Fall-back night in Berlin: both 02:30s belong to the previous day.
        (utc(2026, 10, 25, 0, 30), "Europe/Berlin", date(2026, 10, 24)),  # 02:30 CEST
        (utc(2026, 10, 25, 1, 30), "Europe/Berlin", date(2026, 10, 24)),  # 02:30 CET
        (utc(2026, 10, 25, 2, 59), "Europe/Berlin", date(2026, 10, 24)),  # 03:59 CET
        (utc(2026, 10, 25, 3, 0), "Europe/Berlin", date(2026, 10, 25)),  # 04:00 CET
        # Spring-forward night in New York.
        (utc(2026, 3, 8, 7, 59), "America/New_York", date(2026, 3, 7)),  # 03:59 EDT
        (utc(2026, 3, 8, 8, 0), "America/New_York", date(2026, 3, 8)),  # 04:00 EDT
        # Fall-back night in New York.
        (utc(2026, 11, 1, 8, 59), "America/New_York", date(2026, 10, 31)),  # 03:59 EST
        (utc(2026, 11, 1, 9, 0), "America/New_York", date(2026, 11, 1)),  # 04:00 EST
    ],
)
def test_local_day_with_day_start_hour_4_gives_the_small_hours_to_yesterday(
    moment: datetime, time_zone: str, expected: date
) -> None:
    assert local_day(moment, time_zone, day_start_hour=4) == expected


def test_local_day_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 3, 10, 12, 0), "Europe/Berlin")  # noqa: DTZ001


@pytest.mark.parametrize("hour", [-1, 7])
def test_local_day_rejects_a_day_start_hour_outside_0_to_6(hour: int) -> None:
    with pytest.raises(ValueError, match="day_start_hour"):
        local_day(NOW, "Europe/Berlin", day_start_hour=hour)


def test_local_day_accepts_day_start_hour_6() -> None:
    # 05:59 CET on 10 March still belongs to 9 March.
    assert local_day(utc(2026, 3, 10, 4, 59), "Europe/Berlin", day_start_hour=6) == march(9)


# Timing: one builder's clock ---------------------------------------------------------------


def test_timing_gives_the_same_day_as_local_day():
    night_owl = Timing("Europe/Berlin", 4)
    moment = utc(2026, 3, 10, 2, 30)  # 03:30 in Berlin: still the 9th for a 4 a.m. day start

    assert night_owl.day_of(moment) == local_day(moment, "Europe/Berlin", 4) == march(9)


def test_a_day_starts_at_its_day_start_hour_in_the_builders_zone():
    starts = Timing("America/New_York", 3).day_starts(march(8))  # the spring-forward day

    assert starts == datetime(2026, 3, 8, 3, tzinfo=ZoneInfo("America/New_York"))
    assert starts.astimezone(UTC) == utc(2026, 3, 8, 7)  # 03:00 EDT, after the skipped hour


def test_a_week_of_days_spans_a_dst_switch_without_a_gap():
    timing = Timing("Europe/Berlin", 0)
    first, after_last = timing.day_starts(march(23)), timing.day_starts(march(30))

    # 29 March loses an hour: the week is 167 hours long.
    assert after_last.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=167)
    assert timing.day_of(first) == march(23)
    assert timing.day_of(after_last - timedelta(microseconds=1)) == march(29)


def test_a_wall_clock_time_before_the_day_start_is_that_days_night():
    timing = Timing("Europe/Berlin", 4)

    assert timing.moment(march(9), time(10)) == datetime(2026, 3, 9, 10, tzinfo=timing.zone)
    assert timing.moment(march(9), time(2)) == datetime(2026, 3, 10, 2, tzinfo=timing.zone)
    assert timing.day_of(timing.moment(march(9), time(2))) == march(9)


# The habit's today ---------------------------------------------------------------------------


def test_today_is_the_local_day_when_nothing_is_later():
    assert habit_today(march(10), march(9), None) == march(10)


def test_today_never_goes_back_behind_a_stamped_day_or_the_floor():
    # Moved west: the clock says the 9th again, but a share was already stamped on the 10th.
    assert habit_today(march(9), march(10), None) == march(10)
    assert habit_today(march(9), None, march(10)) == march(10)


# Zones and day starts a builder may choose ---------------------------------------------------


def test_a_zone_must_be_an_iana_name():
    validate_time_zone("Asia/Kolkata")
    with pytest.raises(ValidationError, match="not a time zone we know"):
        validate_time_zone("CEST")


def test_the_latest_day_start_is_six():
    assert MAX_DAY_START_HOUR == 6
    with pytest.raises(ValueError, match=r"0\.\.6"):
        Timing("UTC", 7).day_of(utc(2026, 3, 10, 12))
