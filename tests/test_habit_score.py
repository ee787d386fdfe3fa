"""The habit score: an exponential moving average of closed days, two-week half-life."""

from datetime import date, timedelta

import pytest

from outerloop.streaks import SCORE_DECAY, DayStatus, habit_score

C, M, R, W, T = (
    DayStatus.CLOSED,
    DayStatus.MISSED,
    DayStatus.REST,
    DayStatus.WAITING,
    DayStatus.TODAY,
)
START = date(2026, 3, 2)


def days(*statuses: DayStatus) -> dict[date, DayStatus]:
    return {START + timedelta(days=i): status for i, status in enumerate(statuses)}


def test_the_decay_halves_the_score_in_fourteen_days():
    decay, two_weeks = SCORE_DECAY, SCORE_DECAY**14
    assert round(decay, 6) == 0.951695
    assert round(two_weeks, 9) == 0.5


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ((), 0.0),
        ((C,), 0.048305),  # 1 - 0.951695
        ((C, C), 0.094277),  # 0.048305 * 0.951695 + 0.048305
        ((C, M), 0.045972),  # 0.048305 * 0.951695
        ((C, R, W, T), 0.048305),  # rest, waiting and an open today leave it alone
        ((M, M, M), 0.0),
        ((C,) * 14, 0.5),  # two weeks of turns from zero: halfway to 100 %
        ((C,) * 28, 0.75),
    ],
)
def test_the_score_against_hand_computed_values(history, expected):
    assert habit_score(days(*history)) == pytest.approx(expected, abs=1e-6)


def test_one_missed_day_dents_a_long_habit_and_does_not_zero_it():
    steady = habit_score(days(*(C,) * 60))
    dented = habit_score(days(*(C,) * 60, M))

    assert steady == pytest.approx(1 - SCORE_DECAY**60)
    assert dented == pytest.approx(steady * SCORE_DECAY)
    assert dented > 0.9


def test_order_is_by_date_not_by_insertion():
    forward = days(C, M, C)
    backward = dict(reversed(list(forward.items())))

    assert habit_score(backward) == habit_score(forward)
