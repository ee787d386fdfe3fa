"""GET /today: the habit's day, status and streaks (`outerloop.habit.habit_for`)."""

from ninja import Router, Schema
from pydantic import Field

from outerloop.api.errors import ERRORS
from outerloop.habit import habit_for

router = Router()


class TodayOut(Schema):
    day: str = Field(
        description="The habit's today: the builder's local date, or the newest day a share is "
        "stamped with if that is later (after a move west or a later day start)."
    )
    local_day: str = Field(description="The builder's local date by the clock, in `time_zone`.")
    time_zone: str = Field(description="The builder's IANA zone; API times are UTC.")
    status: str
    current_streak: int
    best_streak: int
    habit_score: float


@router.get("/today", response={200: TodayOut, **ERRORS}, summary="Today's status and streak")
def today(request):
    habit = habit_for(request.user)
    return {
        "day": habit.today.isoformat(),
        "local_day": habit.local_day.isoformat(),
        "time_zone": habit.time_zone,
        "status": str(habit.today_state),
        "current_streak": habit.current_streak,
        "best_streak": habit.best_streak,
        "habit_score": round(habit.score, 4),
    }
