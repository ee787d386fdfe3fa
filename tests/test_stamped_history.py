"""History is stamped, never rewritten: a zone, day-start or rest-day change never moves,
drops or heals a past day, and a turn stamped ahead of the builder's new "today" still counts.

Each builder here changes their settings the way a builder does, through the settings page.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from outerloop.habit import habit_for
from outerloop.reminders import due_nudges
from outerloop.streaks import SCORE_DECAY
from reactions.models import Share
from tests.conftest import PHONE_UA, SETTINGS_DEFAULTS
from tests.factories import BuilderFactory, ReactionFactory, RecipientFactory, ShareFactory
from tests.test_api import bearer_client
from tests.test_live_watch import text_of

TOKYO = "Asia/Tokyo"
LOS_ANGELES = "America/Los_Angeles"
BERLIN = "Europe/Berlin"
# Tuesday 10 March 2026, 20:00 UTC: Wednesday 05:00 in Tokyo, Tuesday 13:00 in Los Angeles.
TOKYO_AHEAD = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


def logged_in(builder) -> Client:
    client = Client(headers={"User-Agent": PHONE_UA})
    client.force_login(builder)
    return client


def change_settings(client: Client, builder, **changes) -> None:
    """Post the settings page with the builder's current values and `changes`."""
    data = {
        **SETTINGS_DEFAULTS,
        "name": builder.name,
        "time_zone": builder.time_zone,
        "day_start_hour": str(builder.day_start_hour),
        "rest_weekdays": [str(day) for day in builder.rest_weekdays],
        **changes,
    }
    response = client.post(reverse("outerloop:settings"), data, follow=True)
    assert "Settings saved." in text_of(response)
    builder.refresh_from_db()


def turn_at(builder, moment: datetime) -> Share:
    """A link sent at `moment`, stamped then, and a counting reaction ten minutes later."""
    share = ShareFactory(recipient=RecipientFactory(builder=builder), sent_at=moment)
    ReactionFactory(share=share, created_at=moment + timedelta(minutes=10))
    return share


def today_api(builder) -> dict:
    from outerloop.models import ApiToken

    _, raw = ApiToken.issue(builder, "laptop")
    return bearer_client(raw).get("/api/v1/today").json()


def nudged(builder, moment: datetime) -> bool:
    return builder.pk in {pk for pk, _ in due_nudges(moment)}


@pytest.fixture
def tokyo(time_machine, db):
    time_machine.move_to(TOKYO_AHEAD, tick=False)
    return BuilderFactory(name="Kenji", email="kenji@example.com", time_zone=TOKYO)


def test_a_turn_taken_before_moving_west_is_never_lost(tokyo, time_machine):
    share = turn_at(tokyo, TOKYO_AHEAD)
    assert share.day == date(2026, 3, 11)  # Wednesday in Tokyo
    client = logged_in(tokyo)

    time_machine.move_to(TOKYO_AHEAD + timedelta(minutes=30), tick=False)
    change_settings(client, tokyo, time_zone=LOS_ANGELES)  # Tuesday 13:30 there

    assert today_api(tokyo) == {
        "day": "2026-03-11",
        "local_day": "2026-03-10",
        "time_zone": LOS_ANGELES,
        "status": "closed",
        "current_streak": 1,
        "best_streak": 1,
        "habit_score": round(1 - SCORE_DECAY, 4),
    }
    dashboard = text_of(client.get(reverse("outerloop:dashboard")))
    assert "Closed: someone reacted" in dashboard
    assert "today stays Wednesday 11 March until your clock reaches it" in dashboard
    assert not nudged(tokyo, TOKYO_AHEAD + timedelta(minutes=30))  # 13:30, past the 10:00 nudge

    # A link sent on the clock's Tuesday belongs to today, Wednesday: no day is lived twice.
    client.post(
        reverse("outerloop:turn"),
        {"url": "https://crag.example.dev/", "recipient": "Noor", "channel": "dm"},
    )
    assert Share.objects.get(recipient__name="Noor").day == date(2026, 3, 11)

    # Wednesday 13:30 in Los Angeles: the clock has caught up; still closed, still no nudge.
    wednesday = TOKYO_AHEAD + timedelta(days=1, minutes=30)
    time_machine.move_to(wednesday, tick=False)
    habit = habit_for(tokyo)
    assert (habit.today, habit.local_day, habit.today_state) == (
        date(2026, 3, 11),
        date(2026, 3, 11),
        "closed",
    )
    assert not nudged(tokyo, wednesday)

    # Thursday: an ordinary new day, and the streak it carries is still 1.
    thursday = wednesday + timedelta(days=1)
    time_machine.move_to(thursday, tick=False)
    assert (habit_for(tokyo).current_streak, habit_for(tokyo).today_state) == (1, "nothing_sent")
    assert nudged(tokyo, thursday)


def test_a_later_day_start_never_moves_a_turn_back(time_machine, db):
    half_past_midnight = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # 00:30 Wednesday in Berlin
    time_machine.move_to(half_past_midnight, tick=False)
    owl = BuilderFactory(name="Owl", email="owl@example.com", time_zone=BERLIN)
    assert turn_at(owl, half_past_midnight).day == date(2026, 3, 11)

    time_machine.move_to(half_past_midnight + timedelta(minutes=15), tick=False)
    change_settings(logged_in(owl), owl, day_start_hour="1")

    today = today_api(owl)
    assert (today["day"], today["local_day"], today["status"]) == (
        "2026-03-11",
        "2026-03-10",
        "closed",
    )
    assert (today["current_streak"], today["best_streak"]) == (1, 1)
    assert not nudged(owl, datetime(2026, 3, 10, 23, 50, tzinfo=UTC))


@pytest.fixture
def sunday_rester(time_machine, db):
    """Mia rests on Sundays from the day she joined (Monday 3 November 2025) and takes a
    turn every other day of the week up to Tuesday 10 March 2026."""
    joined = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)
    time_machine.move_to(joined, tick=False)
    mia = BuilderFactory(
        name="Mia", email="mia@example.com", time_zone=BERLIN, date_joined=joined, rest_weekdays=[6]
    )
    day = date(2025, 11, 3)
    while day <= date(2026, 3, 10):
        if day.weekday() != 6:
            turn_at(mia, datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC))
        day += timedelta(days=1)
    time_machine.move_to(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False)
    return mia


def test_unticking_a_rest_day_keeps_the_past_sundays_at_rest(sunday_rester):
    before = habit_for(sunday_rester)
    assert before.current_streak == 110  # every Monday-Saturday from 3 November

    change_settings(logged_in(sunday_rester), sunday_rester, rest_weekdays=[])

    after = habit_for(sunday_rester)
    assert (after.current_streak, after.best_streak) == (110, 110)
    assert after.score == before.score
    assert after.statuses[date(2026, 3, 8)] == "rest"  # last Sunday keeps what it was
    assert date(2026, 3, 15) not in sunday_rester.rest_schedule  # next Sunday counts


def test_a_missed_day_cant_be_healed_by_declaring_it_a_rest_day(owner, time_machine):
    for day in (2, 3, 4, 5):  # Monday to Thursday; Friday the 6th is missed
        turn_at(owner, datetime(2026, 3, day, 11, 0, tzinfo=UTC))
    time_machine.move_to(datetime(2026, 3, 7, 8, 0, tzinfo=UTC), tick=False)  # Saturday morning
    assert habit_for(owner).current_streak == 0

    change_settings(logged_in(owner), owner, rest_weekdays=["4"])  # Fridays from now on

    habit = habit_for(owner)
    assert habit.statuses[date(2026, 3, 6)] == "missed"
    assert habit.current_streak == 0
    assert date(2026, 3, 13) in owner.rest_schedule  # next Friday rests


def test_a_rest_day_set_today_rests_today(owner):
    change_settings(logged_in(owner), owner, rest_weekdays=["1"])  # Tuesday, today

    assert habit_for(owner).statuses[date(2026, 3, 10)] == "today"
    assert date(2026, 3, 10) in owner.rest_schedule
    assert date(2026, 3, 3) not in owner.rest_schedule


def test_the_chart_and_the_calendar_keep_a_turn_in_its_stamped_week(tokyo, time_machine):
    """Sunday 8 March 20:00 UTC is Monday the 9th in Tokyo: the turn is Monday's, in the week
    of 9 March, before and after a move to Los Angeles (where that moment was Sunday)."""
    turn_at(tokyo, datetime(2026, 3, 8, 20, 0, tzinfo=UTC))
    client = logged_in(tokyo)
    change_settings(client, tokyo, time_zone=LOS_ANGELES)

    habit = habit_for(tokyo)
    weeks = {week.monday: week.turns for week in habit.turns_per_week()}
    assert (weeks[date(2026, 3, 2)], weeks[date(2026, 3, 9)]) == (0, 1)
    assert habit.statuses[date(2026, 3, 9)] == "closed"
    page = client.get(reverse("outerloop:habit")).content.decode()
    assert "Week of 9 Mar: 1 turn." in page
    assert 'title="Mon 9 Mar 2026: closed, 1 turn"' in page


def test_the_day_detail_says_which_zone_its_times_are_in(tokyo, time_machine):
    turn_at(tokyo, TOKYO_AHEAD)  # 05:00 Wednesday 11 March in Tokyo
    client = logged_in(tokyo)
    change_settings(client, tokyo, time_zone=LOS_ANGELES)

    panel = text_of(client.get(reverse("outerloop:day", args=["2026-03-11"])))

    assert "Wednesday 11 March 2026" in panel
    assert "Times are in America/Los_Angeles." in panel
    assert "Tue 10 Mar 13:00" in panel  # sent: the evening before, by the clock it has now
    assert "Tue 10 Mar 13:10" in panel  # the reaction


@pytest.fixture
def missed_friday(owner, time_machine):
    """Alex took turns Monday to Thursday (2-5 March) and missed Friday the 6th; it is 00:30
    on Saturday in Berlin, still Friday 18:30 in New York."""
    for day in (2, 3, 4, 5):
        turn_at(owner, datetime(2026, 3, day, 11, 0, tzinfo=UTC))
    time_machine.move_to(datetime(2026, 3, 6, 23, 30, tzinfo=UTC), tick=False)
    assert habit_for(owner).statuses[date(2026, 3, 6)] == "missed"
    return owner


def test_moving_west_doesnt_reopen_a_missed_day_for_a_rest_day(missed_friday):
    change_settings(
        logged_in(missed_friday), missed_friday, time_zone="America/New_York", rest_weekdays=["4"]
    )

    habit = habit_for(missed_friday)
    assert (habit.today, habit.local_day) == (date(2026, 3, 7), date(2026, 3, 6))
    assert habit.statuses[date(2026, 3, 6)] == "missed"
    assert date(2026, 3, 6) not in missed_friday.rest_schedule
    assert date(2026, 3, 13) in missed_friday.rest_schedule
    assert not nudged(missed_friday, datetime(2026, 3, 6, 23, 45, tzinfo=UTC))  # Friday's


def test_moving_west_doesnt_reopen_a_missed_day_for_a_link(missed_friday):
    client = logged_in(missed_friday)
    change_settings(client, missed_friday, time_zone="America/New_York")

    client.post(
        reverse("outerloop:turn"),
        {"url": "https://crag.example.dev/", "recipient": "Noor", "channel": "dm"},
    )
    share = Share.objects.get(recipient__name="Noor")
    ReactionFactory(share=share)

    assert share.day == date(2026, 3, 7)  # Saturday, the day it already was
    habit = habit_for(missed_friday)
    assert habit.statuses[date(2026, 3, 6)] == "missed"
    assert (habit.today_state, habit.current_streak) == ("closed", 1)


def test_a_save_that_changes_no_rest_day_reads_nothing_first(owner, django_assert_num_queries):
    """Every login saves the builder: the rest-day stamp must not cost a query each time."""
    owner.last_login = owner.date_joined
    with django_assert_num_queries(1):
        owner.save(update_fields=["last_login"])
