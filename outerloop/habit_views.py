"""The habit over months: score, 52-week heatmap, turns per week, sessions that earned it."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from outerloop.habit import habit_for
from reactions.models import Reaction, Share
from reactions.stats import earned_an_outer_loop
from sessions.models import BuildSession

CHART_HEIGHT = 60
CHART_BAR = 18
CHART_GAP = 6


@login_required
@require_GET
def habit_page(request: HttpRequest) -> HttpResponse:
    habit = habit_for(request.user)
    weeks = habit.turns_per_week()
    tallest = max([week.turns for week in weeks] + [1])
    bars = [
        {
            "week": week,
            "x": index * (CHART_BAR + CHART_GAP),
            "height": round(CHART_HEIGHT * week.turns / tallest),
            "y": CHART_HEIGHT - round(CHART_HEIGHT * week.turns / tallest),
            "label_x": index * (CHART_BAR + CHART_GAP) + CHART_BAR / 2,
        }
        for index, week in enumerate(weeks)
    ]
    context = {
        "habit": habit,
        "heatmap": habit.heatmap(),
        "bars": bars,
        "chart": {
            "width": len(bars) * (CHART_BAR + CHART_GAP) - CHART_GAP,
            "height": CHART_HEIGHT,
            "bar": CHART_BAR,
        },
        "projects": earned_an_outer_loop(BuildSession.objects.owned_by(request.user))[:10],
    }
    return render(request, "outerloop/habit.html", context)


@login_required
@require_GET
def day_detail(request: HttpRequest, day: str) -> HttpResponse:
    """One day of the heatmap: what was sent and what came back. htmx asks for the panel."""
    try:
        the_day = date.fromisoformat(day)
    except ValueError:
        raise Http404("Not a date") from None
    shares = (
        Share.objects.owned_by(request.user)
        .filter(day=the_day)
        .select_related("recipient", "preview__session")
        .with_progress()
    )
    reactions = (
        Reaction.objects.owned_by(request.user)
        .filter(share__day=the_day)
        .select_related("share__recipient", "share__preview__session")
    )
    context = {
        "day": the_day,
        "shares": shares,
        "reactions": reactions,
        "time_zone": request.user.time_zone,
    }
    template = "outerloop/day.html#day-panel" if request.htmx else "outerloop/day.html"
    return render(request, template, context)
