from datetime import UTC, date, datetime, timedelta

from common.days import RestSchedule
from outerloop.streaks import (
    DayActivity,
    DayStatus,
    TodayState,
    best_streak,
    current_streak,
    day_status,
    day_statuses,
    today_state,
)

C, W, R, M, T = (
    DayStatus.CLOSED,
    DayStatus.WAITING,
    DayStatus.REST,
    DayStatus.MISSED,
    DayStatus.TODAY,
)

# Tuesday 10 March 2026, noon UTC.
TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SATURDAY, SUNDAY = 5, 6
WEEKEND = frozenset({SATURDAY, SUNDAY})


def march(day: int) -> date:
    return date(2026, 3, day)


def run_from(first: date, *statuses: DayStatus) -> dict[date, DayStatus]:
    """A status mapping with one status per consecutive date starting at `first`."""
    return {first + timedelta(days=i): status for i, status in enumerate(statuses)}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# day_status --------------------------------------------------------------------------------


def test_a_turned_past_day_is_closed() -> None:
    activity = DayActivity(day=march(3), turned=True, last_sent_at=utc(2026, 3, 3, 9, 0))
    assert day_status(march(3), activity, today=TODAY, now=NOW) == DayStatus.CLOSED


def test_a_turn_today_closes_today() -> None:
    activity = DayActivity(day=TODAY, turned=True, last_sent_at=utc(2026, 3, 10, 9, 0))
    assert day_status(TODAY, activity, today=TODAY, now=NOW) == DayStatus.CLOSED


def test_a_turn_on_a_rest_day_closes_it() -> None:
    # 7 March 2026 is a Saturday.
    activity = DayActivity(day=march(7), turned=True, last_sent_at=utc(2026, 3, 7, 9, 0))
    status = day_status(march(7), activity, today=TODAY, now=NOW, rest=RestSchedule.weekly(WEEKEND))
    assert status == DayStatus.CLOSED


def test_today_without_a_turn_is_still_open() -> None:
    sent = DayActivity(day=TODAY, turned=False, last_sent_at=utc(2026, 3, 10, 9, 0))
    assert day_status(TODAY, None, today=TODAY, now=NOW) == DayStatus.TODAY
    assert day_status(TODAY, sent, today=TODAY, now=NOW) == DayStatus.TODAY


def test_a_rest_day_today_is_today_not_rest() -> None:
    # 10 March 2026 is a Tuesday.
    status = day_status(TODAY, None, today=TODAY, now=NOW, rest=RestSchedule.weekly({1}))
    assert status == DayStatus.TODAY


def test_an_untouched_rest_day_is_rest() -> None:
    # 8 March 2026 is a Sunday.
    status = day_status(march(8), None, today=TODAY, now=NOW, rest=RestSchedule.weekly(WEEKEND))
    assert status == DayStatus.REST


def test_a_rest_day_with_an_unanswered_share_is_rest_not_waiting() -> None:
    activity = DayActivity(day=march(9), turned=False, last_sent_at=utc(2026, 3, 9, 20, 0))
    monday = frozenset({0})
    status = day_status(march(9), activity, today=TODAY, now=NOW, rest=RestSchedule.weekly(monday))
    assert status == DayStatus.REST


def test_a_day_whose_share_is_47h59m_old_is_waiting() -> None:
    # NOW is 10 March 12:00 UTC; 47h59m earlier is 8 March 12:01 UTC.
    activity = DayActivity(day=march(8), turned=False, last_sent_at=utc(2026, 3, 8, 12, 1))
    assert day_status(march(8), activity, today=TODAY, now=NOW) == DayStatus.WAITING


def test_a_day_whose_share_is_exactly_48h_old_is_missed() -> None:
    activity = DayActivity(day=march(8), turned=False, last_sent_at=utc(2026, 3, 8, 12, 0))
    assert day_status(march(8), activity, today=TODAY, now=NOW) == DayStatus.MISSED


def test_the_waiting_window_counts_from_the_newest_share_of_the_day() -> None:
    # Sent at 23:30 UTC on 8 March: 36h30m before NOW, even though the day is older.
    activity = DayActivity(day=march(8), turned=False, last_sent_at=utc(2026, 3, 8, 23, 30))
    assert day_status(march(8), activity, today=TODAY, now=NOW) == DayStatus.WAITING


def test_a_past_day_with_nothing_sent_is_missed() -> None:
    assert day_status(march(9), None, today=TODAY, now=NOW) == DayStatus.MISSED


def test_a_late_reaction_heals_a_missed_day() -> None:
    sent = utc(2026, 3, 4, 9, 0)
    before = DayActivity(day=march(4), turned=False, last_sent_at=sent)
    after = DayActivity(day=march(4), turned=True, last_sent_at=sent)
    assert day_status(march(4), before, today=TODAY, now=NOW) == DayStatus.MISSED
    assert day_status(march(4), after, today=TODAY, now=NOW) == DayStatus.CLOSED


# day_statuses ------------------------------------------------------------------------------


def test_day_statuses_covers_every_date_from_start_to_today_in_order() -> None:
    activities = [
        DayActivity(day=march(6), turned=True, last_sent_at=utc(2026, 3, 6, 10, 0)),
        DayActivity(day=march(9), turned=False, last_sent_at=utc(2026, 3, 9, 18, 0)),
    ]
    statuses = day_statuses(
        activities, start=march(5), today=TODAY, now=NOW, rest=RestSchedule.weekly(WEEKEND)
    )
    assert list(statuses.items()) == [
        (march(5), M),  # Thursday, nothing sent
        (march(6), C),  # Friday, turned
        (march(7), R),  # Saturday
        (march(8), R),  # Sunday
        (march(9), W),  # Monday, sent 18h before NOW
        (march(10), T),  # today
    ]


def test_day_statuses_is_empty_when_start_is_after_today() -> None:
    assert day_statuses([], start=march(11), today=TODAY, now=NOW) == {}


def test_day_statuses_of_a_single_day_is_just_today() -> None:
    assert day_statuses([], start=TODAY, today=TODAY, now=NOW) == {TODAY: T}


def test_day_statuses_ignores_activities_outside_the_range() -> None:
    activities = [
        DayActivity(day=march(1), turned=True, last_sent_at=utc(2026, 3, 1, 10, 0)),
        DayActivity(day=march(11), turned=True, last_sent_at=utc(2026, 3, 11, 10, 0)),
    ]
    statuses = day_statuses(activities, start=march(8), today=TODAY, now=NOW)
    assert statuses == {march(8): M, march(9): M, march(10): T}


def test_day_statuses_merges_two_activities_of_the_same_day() -> None:
    activities = [
        DayActivity(day=march(9), turned=True, last_sent_at=utc(2026, 3, 9, 8, 0)),
        DayActivity(day=march(9), turned=False, last_sent_at=utc(2026, 3, 9, 20, 0)),
    ]
    statuses = day_statuses(activities, start=march(9), today=TODAY, now=NOW)
    assert statuses == {march(9): C, march(10): T}


# current_streak ----------------------------------------------------------------------------


def test_an_open_today_neither_adds_nor_breaks_the_streak() -> None:
    statuses = run_from(march(7), C, C, C, T)
    assert current_streak(statuses, TODAY) == 3


def test_a_closed_today_adds_one_to_the_streak() -> None:
    statuses = run_from(march(7), C, C, C, C)
    assert current_streak(statuses, TODAY) == 4


def test_waiting_day_neither_adds_nor_breaks() -> None:
    statuses = run_from(march(6), C, C, W, W, T)
    assert current_streak(statuses, TODAY) == 2


def test_rest_days_neither_add_nor_break() -> None:
    statuses = run_from(march(5), C, C, R, R, C, C)
    assert current_streak(statuses, TODAY) == 4


def test_the_streak_runs_across_waiting_and_rest_days_together() -> None:
    statuses = run_from(march(5), C, R, C, R, W, T)
    assert current_streak(statuses, TODAY) == 2


def test_a_missed_day_stops_the_streak() -> None:
    statuses = run_from(march(4), C, C, C, M, C, C, T)
    assert current_streak(statuses, TODAY) == 2


def test_a_missed_yesterday_leaves_no_streak() -> None:
    statuses = run_from(march(7), C, C, M, T)
    assert current_streak(statuses, TODAY) == 0


def test_the_start_of_the_mapping_stops_the_streak() -> None:
    statuses = run_from(march(8), C, C, C)
    assert current_streak(statuses, TODAY) == 3


def test_no_streak_when_today_is_not_in_the_mapping() -> None:
    statuses = run_from(march(6), C, C, C)  # ends on 8 March
    assert current_streak(statuses, TODAY) == 0


def test_a_late_reaction_reconnects_the_streak() -> None:
    first_sent = utc(2026, 3, 4, 9, 0)
    activities = [
        DayActivity(day=march(day), turned=True, last_sent_at=utc(2026, 3, day, 9, 0))
        for day in (3, 5, 6, 9)
    ]
    unanswered = DayActivity(day=march(4), turned=False, last_sent_at=first_sent)
    answered = DayActivity(day=march(4), turned=True, last_sent_at=first_sent)

    def statuses_with(fourth: DayActivity) -> dict[date, DayStatus]:
        return day_statuses(
            [*activities, fourth],
            start=march(3),
            today=TODAY,
            now=NOW,
            rest=RestSchedule.weekly(WEEKEND),
        )

    before = statuses_with(unanswered)
    after = statuses_with(answered)

    # 3 C, 4 M/C, 5 C, 6 C, 7 R, 8 R, 9 C, 10 T
    assert current_streak(before, TODAY) == 3
    assert current_streak(after, TODAY) == 5


# best_streak -------------------------------------------------------------------------------


def test_best_streak_can_be_longer_than_the_current_one() -> None:
    statuses = run_from(march(3), C, C, R, C, C, M, C, T)
    assert best_streak(statuses) == 4
    assert current_streak(statuses, TODAY) == 1


def test_best_streak_is_the_current_one_when_nothing_was_missed() -> None:
    statuses = run_from(march(5), C, C, W, R, C, C)
    assert best_streak(statuses) == 4
    assert current_streak(statuses, TODAY) == 4


def test_best_streak_is_broken_by_a_gap_in_the_dates() -> None:
    statuses = {march(2): C, march(3): C, march(5): C, march(6): C, march(7): C}
    assert best_streak(statuses) == 3


def test_best_streak_does_not_depend_on_the_order_of_the_mapping() -> None:
    statuses = {march(5): C, march(3): C, march(4): M, march(6): C, march(2): C}
    assert best_streak(statuses) == 2


def test_best_streak_of_nothing_closed_is_zero() -> None:
    assert best_streak({}) == 0
    assert best_streak(run_from(march(7), M, R, W, T)) == 0


# today_state -------------------------------------------------------------------------------


def test_today_state_is_nothing_sent_without_activity() -> None:
    assert today_state(None) == TodayState.NOTHING_SENT


def test_today_state_is_waiting_after_a_send_without_a_turn() -> None:
    activity = DayActivity(day=TODAY, turned=False, last_sent_at=utc(2026, 3, 10, 9, 0))
    assert today_state(activity) == TodayState.WAITING


def test_today_state_is_closed_after_a_turn() -> None:
    activity = DayActivity(day=TODAY, turned=True, last_sent_at=utc(2026, 3, 10, 9, 0))
    assert today_state(activity) == TodayState.CLOSED


def test_statuses_are_plain_strings_for_templates() -> None:
    assert [str(status) for status in (C, W, R, M, T)] == [
        "closed",
        "waiting",
        "rest",
        "missed",
        "today",
    ]
    assert TodayState.NOTHING_SENT == "nothing_sent"
