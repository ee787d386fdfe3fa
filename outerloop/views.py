"""The dashboard and today's turn, the one-click unsubscribe from an email, and the 404 page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from common import mail
from common.builders import SWITCH_LABELS, Builder
from outerloop.forms import TurnForm
from outerloop.habit import habit_for, habit_pulse
from outerloop.turns import latest_preview, take_turn
from reactions.live import Pulse, live_page
from reactions.models import Reaction, Recipient, Share
from sessions.hosts import display_url
from sessions.models import BuildGone
from sessions.placement import Joined, Placement, place_preview


def home(request: HttpRequest) -> HttpResponse:
    """The landing page, or the builder's dashboard. The dashboard polls itself (one poll,
    `templates/_live.html`): a poll gets a 304 while nothing it shows changed, else every
    card that can change (today, streak and calendar, recent reactions, people) at once."""
    if not request.user.is_authenticated:
        if request.htmx:  # the dashboard's poll after logging out: the whole page goes
            return HttpResponseClientRedirect(reverse("outerloop:login"))
        return render(request, "outerloop/landing.html")
    live = habit_pulse(request.user)
    return live_page(
        request,
        "outerloop/dashboard.html",
        live,
        lambda: live_context(request.user, live),
        lambda: dashboard_context(request, live),
    )


def live_context(builder, live: Pulse) -> dict:
    """What the dashboard's changing cards show: each query's cost is fixed, however many
    links, people and reactions the builder has."""
    habit = habit_for(builder)
    return {
        "habit": habit,
        "live": live,
        "todays_shares": Share.objects.owned_by(builder)
        .filter(day=habit.today)
        .select_related("recipient", "preview__session")
        .with_progress(),
        "recent_reactions": Reaction.objects.owned_by(builder).select_related(
            "share__recipient", "share__preview__session"
        )[:8],
        "people": Recipient.objects.owned_by(builder).sent_to_lately(12).with_progress(),
    }


def dashboard_context(
    request: HttpRequest, live: Pulse | None = None, turn_form: TurnForm | None = None
) -> dict:
    builder = request.user
    latest = latest_preview(builder)
    if turn_form is None:
        # The title stays empty: left so, the URL finds its own session (sessions.placement).
        initial = {"url": display_url(latest.url)} if latest else {}
        turn_form = TurnForm(initial=initial)
    return {
        **live_context(builder, live or habit_pulse(builder)),
        "latest": latest,
        "turn_form": turn_form,
        "recipient_names": Recipient.objects.owned_by(builder).values_list("name", flat=True),
    }


def joined_message(placement: Placement) -> str:
    """What the share page says when a turn joined a session the builder already had."""
    title = placement.session_title
    if placement.joined is Joined.URL:
        return (
            f"Added to your session “{title}”, which already has this URL. "
            "A new title starts a new session."
        )
    return f"Added to your session “{title}”."


@login_required
@require_http_methods(["GET", "POST"])
def turn(request: HttpRequest) -> HttpResponse:
    form = TurnForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        placement = place_preview(request.user, data["url"], title=data["title"])
        try:
            share = take_turn(
                request.user,
                placement,
                recipient_name=data["recipient"],
                recipient_note=data["recipient_note"],
                lives_with=data["lives_with"],
                channel=data["channel"],
                frameable=data["frameable"],
            )
        except BuildGone as gone:
            form.add_error("url", str(gone))
        else:
            if placement.joined is not Joined.NEW:
                messages.info(request, joined_message(placement))
            return redirect("reactions:share-detail", share_id=share.pk)
    if request.method == "GET":
        return redirect("outerloop:dashboard")
    context = dashboard_context(request, turn_form=form)
    return render(request, "outerloop/dashboard.html", context, status=400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One POST, no login: the signed token names the builder and the email to stop."""
    try:
        builder_id, switch = mail.read_unsubscribe_token(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return render(request, "outerloop/unsubscribe.html", {"invalid": True}, status=400)
    if switch not in SWITCH_LABELS:
        return render(request, "outerloop/unsubscribe.html", {"invalid": True}, status=400)
    builder = get_object_or_404(Builder, pk=builder_id)
    done = request.method == "POST"
    if done:
        Builder.objects.filter(pk=builder.pk).update(**{switch: False})
    context = {"builder": builder, "what": SWITCH_LABELS[switch], "done": done}
    return render(request, "outerloop/unsubscribe.html", context)
