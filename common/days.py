"""The builder's clock and calendar: their zone, the day start, their local day and today,
and which days are rest days. The one home of "what day is it for this builder"
(DESIGN.md, "History is stamped, never rewritten"); nothing here touches the database.

A builder lives in an IANA zone (`time_zone`) and may start their day up to
`MAX_DAY_START_HOUR` hours after midnight (night owls): before that hour it is still
yesterday. `Timing` is that pair; `Builder.timing` gives a builder's.
"""

import bisect
import functools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError

MAX_DAY_START_HOUR = 6


@functools.cache
def time_zones() -> frozenset[str]:
    """Every IANA zone name (reading the tz database takes ~10 ms, so once)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """Raises ValidationError unless `value` names an IANA zone (`time_zones`)."""
    if value not in time_zones():
        raise ValidationError(f"“{value}” is not a time zone we know (try Europe/Berlin).")


def local_day(moment: datetime, time_zone: str, day_start_hour: int = 0) -> date:
    """The builder-local date of `moment`; a day starts at `day_start_hour` wall-clock time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"local_day needs an aware datetime, got {moment!r}")
    if not 0 <= day_start_hour <= MAX_DAY_START_HOUR:
        raise ValueError(f"day_start_hour must be 0..{MAX_DAY_START_HOUR}, got {day_start_hour}")
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    if local.hour < day_start_hour:
        return local.date() - timedelta(days=1)
    return local.date()


def habit_today(local: date, latest_stamped: date | None, floor: date | None = None) -> date:
    """The builder's today: their local day (`local_day`), or, when later, the newest day a
    share of theirs is stamped with or the `floor` (their today before a zone or day-start
    change moved the clock back).

    A builder who moves west, or starts their day later, can find their clock back on a day
    they already lived. Their day never goes back: today stays the later day until the clock
    reaches it, new shares are stamped with it, and a turn on it keeps counting and stops the
    nudge; the day before it stays past, so it can't be reopened, sent on or healed."""
    return max(day for day in (local, latest_stamped, floor) if day is not None)


@dataclass(frozen=True)
class Timing:
    """A builder's clock: their IANA zone and the hour (0..MAX_DAY_START_HOUR) their day
    starts at, wall-clock time."""

    time_zone: str
    day_start_hour: int = 0

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def day_of(self, moment: datetime) -> date:
        """The builder-local day of an aware `moment` (`local_day`)."""
        return local_day(moment, self.time_zone, self.day_start_hour)

    def day_starts(self, day: date) -> datetime:
        """The aware moment the builder-local `day` begins: its day-start hour, local time."""
        return datetime.combine(day, time(self.day_start_hour), tzinfo=self.zone)

    def moment(self, day: date, at: time) -> datetime:
        """Wall-clock `at` on the builder-local `day`, aware; hours before the day start are
        that day's night (the next calendar date)."""
        moment = datetime.combine(day, at, tzinfo=self.zone)
        if at.hour < self.day_start_hour:
            moment += timedelta(days=1)
        return moment


@dataclass(frozen=True)
class RestSchedule:
    """Which weekdays (0 = Monday) were rest days from which day on: each change holds from
    the day it was made, so a past day keeps the status it had and a missed day can't be
    healed by declaring its weekday a rest day afterwards.

    `changes` is ((first day, weekdays), …) in date order; days before the first change have
    no rest days. `day in schedule` asks whether a day is a rest day."""

    changes: tuple[tuple[date, frozenset[int]], ...] = field(default=())

    @classmethod
    def weekly(cls, weekdays: Iterable[int]) -> "RestSchedule":
        """The same rest weekdays on every day."""
        return cls(((date.min, frozenset(weekdays)),))

    @classmethod
    def from_json(cls, rows: list[dict] | None) -> "RestSchedule":
        """From `Builder.rest_day_history`: [{"from": "YYYY-MM-DD", "weekdays": [0-6, …]}]."""
        return cls(
            tuple(
                (date.fromisoformat(row["from"]), frozenset(row["weekdays"])) for row in rows or []
            )
        )

    @classmethod
    def of(cls, history: list[dict] | None, weekdays: Iterable[int]) -> "RestSchedule":
        """A builder's schedule from their `rest_day_history`, or, for a row written without
        one (bulk-created), their rest `weekdays` on every day."""
        return cls.from_json(history) if history else cls.weekly(weekdays)

    def to_json(self) -> list[dict]:
        return [
            {"from": first.isoformat(), "weekdays": sorted(weekdays)}
            for first, weekdays in self.changes
        ]

    def weekdays_on(self, day: date) -> frozenset[int]:
        """The rest weekdays that held on `day`."""
        index = bisect.bisect_right([first for first, _ in self.changes], day) - 1
        return self.changes[index][1] if index >= 0 else frozenset()

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day.weekday() in self.weekdays_on(day)

    def changed(self, today: date, weekdays: frozenset[int]) -> "RestSchedule":
        """This (non-empty) schedule after the builder sets `weekdays` on `today`: a new entry
        from today, or the last entry's weekdays replaced when it starts on or after today (a
        change made on the day an entry starts, or before it after a move west)."""
        last_first, last_weekdays = self.changes[-1]
        if weekdays == last_weekdays:
            return self
        if last_first >= today:
            return RestSchedule((*self.changes[:-1], (last_first, weekdays)))
        return RestSchedule((*self.changes, (today, weekdays)))


NO_REST = RestSchedule()
