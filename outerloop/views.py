"""The dashboard and today's turn, the one-click unsubscribe from an email, and the 404 page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from common import changes, limits, mail
from common.builders import SWITCH_LABELS, Builder
from outerloop import throttles
from outerloop.forms import TurnForm
from outerloop.habit import habit_for, habit_pulse
from outerloop.kept import builders_kept
from outerloop.turns import host_build, latest_preview, take_turn
from outerloop.uploads import largest_upload, spool_to_disk, too_large
from reactions.live import Pulse, kept_response, live_page
from reactions.models import Reaction, Recipient, Share
from sessions.builds import BuildRefused, upload_entries, zip_entries
from sessions.hosts import display_url
from sessions.models import BuildGone
from sessions.placement import Joined, Placement, place_build, place_preview


def home(request: HttpRequest) -> HttpResponse:
    """The landing page, or the builder's dashboard. The dashboard polls itself (one poll,
    `templates/_live.html`): a poll gets a 304 while nothing it shows changed, else every
    card that can change (today, streak and calendar, recent reactions, people) at once. A
    load while nothing changed reuses the last render (`reactions.live.Kept`)."""
    if not request.user.is_authenticated:
        if request.htmx:  # the dashboard's poll after logging out: the whole page goes
            return HttpResponseClientRedirect(reverse("outerloop:login"))
        return render(request, "outerloop/landing.html")
    kept = builders_kept(request)
    if kept.html is not None:
        return kept_response(request, kept)
    live = habit_pulse(request.user, seen=kept.versions)
    return live_page(
        request,
        "outerloop/dashboard.html",
        live,
        lambda: live_context(request.user, live),
        lambda: dashboard_context(request, live),
        kept=kept,
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
        "upload_limits": {
            "bytes": settings.OUTERLOOP_HOSTED_MAX_UPLOAD,
            "files": settings.OUTERLOOP_HOSTED_MAX_FILES,
            "shown": largest_upload(),
        },
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


@csrf_exempt  # an upload is spooled to disk before the body is read: CSRF is checked in _turn
@login_required
@require_http_methods(["GET", "POST"])
def turn(request: HttpRequest) -> HttpResponse:
    """Today's turn from the dashboard's form: a URL, or an uploaded build ("or upload a
    build"), sent to a person. The body streams to temporary files (`spool_to_disk`, with a
    folder's many files allowed here only) and one larger than a build may be is refused
    before it is read (413).

    The page's script sends the form with XMLHttpRequest for its upload progress, asking
    for JSON (`Accept: application/json`): it gets {"location": the page to go to} or, on a
    refusal, {"message": what was wrong, "errors": {field: [messages]}} with the status a
    plain form post gets (400, 413). Without the script it is a plain form post."""
    if request.method == "POST":
        max_files = settings.OUTERLOOP_HOSTED_MAX_FILES
        if too_large(request, files=max_files):
            return _too_large(request)
        spool_to_disk(request, folder=True)
    return _turn(request)


@csrf_protect
def _turn(request: HttpRequest) -> HttpResponse:
    form = TurnForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is None:
        return redirect("outerloop:dashboard")
    if form.is_valid():
        data = form.cleaned_data
        if data["upload"] is not None:
            done = _host_upload(request, form)
            if done is not None:
                return done
        else:
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
            except BuildGone as gone:  # the URL of a hosted preview whose files are gone
                form.add_error("url", str(gone))
            else:
                if placement.joined is not Joined.NEW:
                    messages.info(request, joined_message(placement))
                return _go(request, reverse("reactions:share-detail", args=[share.pk]))
    if _wants_json(request):
        return JsonResponse({"message": _form_message(form), "errors": form.errors}, status=400)
    context = dashboard_context(request, turn_form=form)
    return render(request, "outerloop/dashboard.html", context, status=400)


def _host_upload(request: HttpRequest, form: TurnForm) -> HttpResponse | None:
    """The turn from an uploaded build (`host_build`, placed by `place_build` as the URL
    path is placed by `place_preview`): the share's page, or with no person the session's
    page with the new hosted preview. None when the build is refused (the form says why);
    429 past the builder's uploads for the hour (`throttles.upload_refused`)."""
    data = form.cleaned_data
    kind, *upload = data["upload"]
    builder = request.user
    limit = throttles.upload_refused(builder)
    if limit is not None:
        return _too_many_uploads(request, form, limit, "build" if kind == "zip" else "build_folder")
    entries = zip_entries(upload[0]) if kind == "zip" else upload_entries(*upload)
    placement = place_build(builder, data["build_name"], title=data["title"])
    try:
        hosted = host_build(
            builder,
            placement,
            entries,
            recipient_name=data["recipient"],
            recipient_note=data["recipient_note"],
            lives_with=data["lives_with"],
            channel=data["channel"],
            frameable=data["frameable"],
        )
    except BuildRefused as refused:
        form.add_error("build" if kind == "zip" else "build_folder", refused.message)
        return None
    if placement.joined is not Joined.NEW:
        messages.info(request, joined_message(placement))
    if hosted.share is not None:
        return _go(request, reverse("reactions:share-detail", args=[hosted.share.pk]))
    messages.success(
        request, "Your build is live at its own address. Send it to someone when you're ready."
    )
    return _go(request, reverse("sessions:session-detail", args=[hosted.preview.session_id]))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _go(request: HttpRequest, location: str) -> HttpResponse:
    """The page after a turn: a redirect, or for the page's script {"location": …}."""
    if _wants_json(request):
        return JsonResponse({"location": location})
    return redirect(location)


def _form_message(form: TurnForm) -> str:
    """The form's errors in one plain paragraph: each field's label, then what's wrong."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = f"{field.label}: " if field is not None and name in LABELLED_ERRORS else ""
        parts.extend(label + error for error in errors)
    return " ".join(parts)


# Errors whose words don't say which field they are about by themselves.
LABELLED_ERRORS = {"title", "channel"}


def _too_large(request: HttpRequest) -> HttpResponse:
    """413 for a body larger than any build may be, before a byte of it is read."""
    message = f"That upload is too large: a build can be at most {largest_upload()}."
    if _wants_json(request):
        return JsonResponse({"message": message, "errors": {"build": [message]}}, status=413)
    context = dashboard_context(request) | {"turn_refused": message}
    return render(request, "outerloop/dashboard.html", context, status=413)


def _too_many_uploads(
    request: HttpRequest, form: TurnForm, limit: limits.Limit, field: str
) -> HttpResponse:
    """429, with Retry-After, for an upload past the builder's limit, said beside the form
    (what was typed stays)."""
    message = throttles.message(throttles.UPLOAD_MESSAGE, limit)
    if _wants_json(request):
        response = JsonResponse({"message": message, "errors": {field: [message]}}, status=429)
    else:
        context = dashboard_context(request, turn_form=form) | {"turn_refused": message}
        response = render(request, "outerloop/dashboard.html", context, status=429)
    response["Retry-After"] = str(limits.retry_after(limit))
    return response


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
        changes.builder_changed(builder.pk)
    context = {"builder": builder, "what": SWITCH_LABELS[switch], "done": done}
    return render(request, "outerloop/unsubscribe.html", context)
