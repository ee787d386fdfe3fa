"""The habit over months: score, 52-week heatmap, turns per week, sessions that earned it.

Both pages poll themselves (`templates/_live.html`): the habit page with the stamp of every
link the builder has (`habit_pulse`), the day page with its own day's links.
"""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from common import changes
from outerloop.habit import habit_for, habit_pulse
from outerloop.kept import builders_kept
from reactions.live import Pulse, kept_response, live_page, pulse
from reactions.models import Reaction, Share
from reactions.stats import earned_an_outer_loop
from sessions.models import BuildSession

CHART_HEIGHT = 60
CHART_BAR = 18
CHART_GAP = 6


@login_required
@require_GET
def habit_page(request: HttpRequest) -> HttpResponse:
    """The habit's picture. A poll (htmx) gets every card that can change, and the day panel
    the page has open (its `day` rides along with the poll). A load while nothing changed
    reuses the last render (`reactions.live.Kept`)."""
    kept = builders_kept(request)
    if kept.html is not None:
        return kept_response(request, kept)
    live = habit_pulse(request.user, seen=kept.versions)
    return live_page(
        request, "outerloop/habit.html", live, lambda: habit_context(request, live), kept=kept
    )


def habit_context(request: HttpRequest, live: Pulse) -> dict:
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
        "live": live,
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
    if request.htmx and (open_day := _day_or_none(request.GET.get("day", ""))):
        context.update(day_context(request, open_day))
    return context


def _day_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@login_required
@require_GET
def day_detail(request: HttpRequest, day: str) -> HttpResponse:
    """One day of the heatmap: what was sent and what came back. The habit page asks for the
    panel (htmx, aimed at #day-panel); the page's own poll gets it again once anything about
    that day's links changed."""
    the_day = _day_or_none(day)
    if the_day is None:
        raise Http404("Not a date")
    if request.htmx and request.htmx.target == "day-panel":
        return render(request, "outerloop/day.html#day-panel", day_context(request, the_day))
    live = pulse(
        Share.objects.owned_by(request.user).filter(day=the_day),
        versions=(changes.builder_key(request.user.pk),),
    )
    return live_page(
        request,
        "outerloop/day.html",
        live,
        lambda: {**day_context(request, the_day), "live": live, "day_page": True},
    )


def day_context(request: HttpRequest, the_day: date) -> dict:
    """One day's links (with each person's progress) and reactions: two queries."""
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
    return {
        "day": the_day,
        "shares": shares,
        "reactions": reactions,
        "time_zone": request.user.time_zone,
    }
