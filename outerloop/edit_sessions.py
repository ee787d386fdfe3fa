"""Renaming, merging and deleting what the builder built: sessions, previews, links.

Each change has a page that says what it does, to the streak too (`outerloop.effects`),
and a POST form that does it; every object and every merge target is fetched through its
owner, so another builder's id is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.ownership import owned_choice_or_404, owned_or_404
from outerloop.effects import effect_of, no_effect
from reactions.models import Share
from reactions.removal import delete_preview, delete_session, delete_share, what_goes
from reactions.stats import with_outer_loop
from sessions.forms import RenameSessionForm
from sessions.models import BuildSession, Preview
from sessions.placement import url_key


def links(n: int) -> str:
    """ "1 link", "3 links"."""
    return f"{n} link" if n == 1 else f"{n} links"


def likely_the_same(session: BuildSession, others: QuerySet[BuildSession]) -> dict[int, str]:
    """Which of `others` look like `session` logged twice, by the rules that place a preview
    in a session (`sessions.placement`): {id: "same address"} for a session holding a preview
    of one of its URLs (`url_key`), {id: "same name"} for one of its title in any letter case
    (`titled`). Three queries."""
    addresses = {url_key(url) for url in session.previews.values_list("url", flat=True)}
    previews = Preview.objects.filter(session__in=others).values_list("session_id", "url")
    alike = dict.fromkeys(others.titled(session.title).values_list("pk", flat=True), "same name")
    alike.update(
        (session_id, "same address") for session_id, url in previews if url_key(url) in addresses
    )
    return alike


@login_required
@require_http_methods(["GET", "POST"])
def session_rename(request: HttpRequest, session_id: int) -> HttpResponse:
    """A new title (GET: the form, saying the streak stays; POST: saved, or 400)."""
    session = owned_or_404(BuildSession, request, pk=session_id)
    title = session.title  # the form writes the new one onto the instance
    form = RenameSessionForm(request.POST if request.method == "POST" else None, instance=session)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Renamed to “{session.title}”.")
        return redirect("sessions:session-detail", session_id=session.pk)
    context = {"session_id": session.pk, "title": title, "form": form}
    context["effect"] = no_effect(request.user)
    status = 400 if form.errors else 200
    return render(request, "sessions/session_rename.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def session_merge(request: HttpRequest, session_id: int) -> HttpResponse:
    """Pick another session (a list of links), then confirm: this one's previews move there."""
    session = owned_or_404(BuildSession, request, pk=session_id)
    others = BuildSession.objects.owned_by(request.user).exclude(pk=session.pk)
    target = owned_choice_or_404(others, request, "into")
    if target is None:
        alike = likely_the_same(session, others)
        choices = [(other, alike.get(other.pk, "")) for other in with_outer_loop(others)]
        choices.sort(key=lambda choice: not choice[1])  # the likely duplicates first
        context = {"session": session, "choices": choices}
        status = 400 if request.method == "POST" else 200
        return render(request, "sessions/session_merge.html", context, status=status)
    if request.method == "POST":
        session.merge_into(target)
        messages.success(request, f"Merged “{session.title}” into “{target.title}”.")
        return redirect("sessions:session-detail", session_id=target.pk)
    context = {
        "session": session,
        "target": target,
        "moving": session.previews.aggregate(
            previews=Count("pk", distinct=True), links=Count("shares", distinct=True)
        ),
        "effect": effect_of(request.user, lambda: session.merge_into(target)),
    }
    return render(request, "sessions/session_merge.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_delete(request: HttpRequest, session_id: int) -> HttpResponse:
    """GET: what goes with the session and what that does to the streak; POST: gone."""
    session = owned_or_404(BuildSession, request, pk=session_id)
    if request.method == "POST":
        removed = delete_session(session)
        messages.success(
            request,
            f"Deleted “{session.title}” and its {links(removed)}."
            if removed
            else f"Deleted “{session.title}”.",
        )
        return redirect("sessions:session-list")
    context = {
        "session": session,
        "counts": session.previews.aggregate(
            previews=Count("pk", distinct=True),
            publish_requests=Count("publish_requests", distinct=True),
        ),
        "goes": what_goes(Share.objects.filter(preview__session=session)),
        "effect": effect_of(request.user, lambda: delete_session(session)),
    }
    return render(request, "sessions/session_delete.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def preview_delete(request: HttpRequest, preview_id: int) -> HttpResponse:
    """GET: what goes with the preview and what that does to the streak; POST: gone (its
    session stays)."""
    preview = owned_or_404(Preview.objects.select_related("session"), request, pk=preview_id)
    if request.method == "POST":
        removed = delete_preview(preview)
        messages.success(
            request,
            f"Deleted the preview and its {links(removed)}." if removed else "Deleted the preview.",
        )
        return redirect("sessions:session-detail", session_id=preview.session_id)
    context = {
        "preview": preview,
        "publish_requests": preview.publish_requests.count(),
        "goes": what_goes(preview.shares.all()),
        "effect": effect_of(request.user, lambda: delete_preview(preview)),
    }
    return render(request, "sessions/preview_delete.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def share_delete(request: HttpRequest, share_id: int) -> HttpResponse:
    """GET: what goes with the link and what that does to the streak; POST: gone."""
    share = owned_or_404(
        Share.objects.select_related("recipient", "preview__session"), request, pk=share_id
    )
    if request.method == "POST":
        delete_share(share)
        messages.success(request, f"Deleted the link for {share.recipient.name}.")
        return redirect("sessions:session-detail", session_id=share.preview.session_id)
    context = {
        "share": share,
        "goes": what_goes(Share.objects.filter(pk=share.pk)),
        "effect": effect_of(request.user, lambda: delete_share(share)),
    }
    return render(request, "reactions/share_delete.html", context)
