"""What an edit (a merge, a deletion) does to the builder's habit, said before it is done.

The habit after the edit is not worked out by a second copy of the rules: `effect_of` makes
the edit for real inside a savepoint, reads the habit there with `habit.habit_for` (the one
home of streaks), and rolls the savepoint back. The page thus states exactly what the
button will do, by the code the button runs.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import dateformat, timezone

from outerloop.habit import Habit, habit_for
from outerloop.streaks import DayStatus, TodayState

# How a day reads once it has lost its turns, by its status after.
_AFTER_LOSING = {
    DayStatus.MISSED: " and counts as missed",
    DayStatus.WAITING: " and waits for a reaction again",
    DayStatus.REST: "; it stays a rest day",
    DayStatus.TODAY: " and is open again",
}


def days(n: int) -> str:
    """ "1 day", "6 days"."""
    return f"{n} day" if n == 1 else f"{n} days"


def _day_name(day: date) -> str:
    return dateformat.format(day, "D j M")


@dataclass(frozen=True)
class DayChange:
    """One day whose status or number of turns differs after the edit; `after` is None when
    the day is no longer in the builder's history at all (it came before their first day)."""

    day: date
    is_today: bool
    before: DayStatus
    after: DayStatus | None
    turns_before: int
    turns_after: int

    @property
    def name(self) -> str:
        return "Today" if self.is_today else _day_name(self.day)

    def what(self) -> str:
        """What happens to the day: "loses its only turn and counts as missed", …"""
        closed_before = self.before == DayStatus.CLOSED
        closed_after = self.after == DayStatus.CLOSED
        if closed_before and not closed_after:
            lost = "its only turn" if self.turns_before == 1 else f"its {self.turns_before} turns"
            return f"loses {lost}" + _AFTER_LOSING.get(self.after, "")
        if closed_after and not closed_before:
            gained = "a turn" if self.turns_after == 1 else f"{self.turns_after} turns"
            return f"gains {gained} and is closed"
        if closed_before and closed_after:
            return f"goes from {self.turns_before} to {self.turns_after} turns and stays closed"
        if self.before == DayStatus.WAITING and self.after == DayStatus.MISSED:
            return "no longer waits for a reaction and counts as missed"
        after = "not part of your history" if self.after is None else str(self.after)
        return f"goes from {self.before} to {after}"

    def sentence(self) -> str:
        """ "Tue 3 Nov loses its only turn and counts as missed"."""
        return f"{self.name} {self.what()}"


def _runs(changes: list[DayChange]) -> list[list[DayChange]]:
    """The changes in runs of consecutive days that change alike."""
    runs: list[list[DayChange]] = []
    for change in changes:
        last = runs[-1][-1] if runs else None
        alike = last is not None and last.what() == change.what()
        if alike and change.day - last.day == timedelta(days=1) and not change.is_today:
            runs[-1].append(change)
        else:
            runs.append([change])
    return runs


def _run_sentence(run: list[DayChange]) -> str:
    if len(run) == 1:
        return f"{run[0].sentence()}."
    first, last = _day_name(run[0].day), _day_name(run[-1].day)
    return f"{first} to {last}, {len(run)} days: each {run[0].what()}."


@dataclass(frozen=True)
class StreakEffect:
    """The builder's habit before and after an edit, and how to say the difference."""

    before: Habit
    after: Habit

    @property
    def changes(self) -> list[DayChange]:
        """The days whose status or number of turns differs, oldest first."""
        found = []
        for day, status in sorted(self.before.statuses.items()):
            after = self.after.statuses.get(day)
            turns_before = self.before.turns_by_day.get(day, 0)
            turns_after = self.after.turns_by_day.get(day, 0)
            if after == status and (status != DayStatus.CLOSED or turns_before == turns_after):
                continue
            if after is None and status != DayStatus.CLOSED:
                continue  # a missed day before the first one left: nothing anyone counts
            found.append(
                DayChange(
                    day=day,
                    is_today=day == self.before.today,
                    before=status,
                    after=after,
                    turns_before=turns_before,
                    turns_after=turns_after,
                )
            )
        return found

    @property
    def streak(self) -> str:
        """ "Your streak goes from 6 to 2 days" or "Your streak stays 6 days"."""
        return _goes("Your streak", self.before.current_streak, self.after.current_streak)

    @property
    def best(self) -> str:
        """ "Your best streak goes from 9 to 6 days", or "stays"."""
        return _goes("Your best streak", self.before.best_streak, self.after.best_streak)

    @property
    def score(self) -> str:
        """ "Your habit score goes from 49% to 45%", or "stays"."""
        before, after = self.before.score_percent, self.after.score_percent
        if before == after:
            return f"Your habit score stays {after}%"
        return f"Your habit score goes from {before}% to {after}%"

    @property
    def summary(self) -> str:
        """The streak, and the day that changes when only one does: "Your streak goes from
        6 to 2 days: Tue 3 Nov loses its only turn and counts as missed." """
        changes = self.changes
        if len(changes) == 1:
            return f"{self.streak}: {changes[0].sentence()}."
        return f"{self.streak}."

    @property
    def details(self) -> list[str]:
        """The days that change when more than one does (else the summary says it), a run
        of days changing alike in one sentence; and today left with nothing sent, which
        changes no day's status."""
        changes = self.changes
        lines = [_run_sentence(run) for run in _runs(changes)] if len(changes) > 1 else []
        emptied = (self.before.today_state, self.after.today_state) == (
            TodayState.WAITING,
            TodayState.NOTHING_SENT,
        )
        if emptied and not any(change.is_today for change in changes):
            lines.append("Today has nothing sent any more.")
        return lines


def _goes(what: str, before: int, after: int) -> str:
    if before == after:
        return f"{what} stays {days(after)}"
    return f"{what} goes from {before} to {days(after)}"


def no_effect(builder, now: datetime | None = None) -> StreakEffect:
    """An edit that cannot touch history (a rename): the habit as it is, before and after."""
    habit = habit_for(builder, now)
    return StreakEffect(before=habit, after=habit)


def effect_of(builder, change: Callable[[], object], now: datetime | None = None) -> StreakEffect:
    """The builder's habit now and after `change()`, which is run and rolled back.

    `change` must write only to the database (no email, no files, no cache) and leave the
    objects the page shows as they were in memory: the functions of `reactions.removal`,
    `Recipient.merge_into` and `BuildSession.merge_into` do. Anything it schedules with
    `transaction.on_commit` is discarded with the savepoint. Errors propagate."""
    now = now or timezone.now()
    before = habit_for(builder, now)
    with transaction.atomic():
        change()
        after = habit_for(builder, now)
        transaction.set_rollback(True)
    return StreakEffect(before=before, after=after)
