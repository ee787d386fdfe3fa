"""The builder's side of a share: create it, watch it, judge its reactions."""

from itertools import chain

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from common import changes
from common.ownership import owned_or_404
from common.redirects import redirect_next
from reactions.forms import RecipientFields
from reactions.live import Pulse, builders_pulse, live_page, pulse
from reactions.models import Channel, Reaction, Recipient, Share
from reactions.qr import qr_svg
from reactions.sharing import send_link, share_link
from sessions.models import BuildGone, Preview


@login_required
@require_http_methods(["GET", "POST"])
def share_create(request: HttpRequest, preview_id: int) -> HttpResponse:
    preview = owned_or_404(Preview.objects.select_related("session"), request, pk=preview_id)
    form = RecipientFields(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if preview.is_expired:
            messages.info(request, "That preview had expired, so this link is for a fresh one.")
        share = send_link(
            preview,
            form.cleaned_data["recipient"],
            form.cleaned_data["channel"],
            note=form.cleaned_data["recipient_note"],
            lives_with=form.cleaned_data["lives_with"],
        )
        return redirect("reactions:share-detail", share_id=share.pk)
    context = {
        "preview": preview,
        "form": form,
        "recipient_names": Recipient.objects.owned_by(request.user).values_list("name", flat=True),
    }
    return render(
        request, "reactions/share_create.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET"])
def share_detail(request: HttpRequest, share_id: int) -> HttpResponse:
    """The link, its QR code, and what happened. The page polls itself (`templates/_live.html`):
    a poll gets a 304 while nothing changed, else every part that can have: the person's
    request for a fresh link, the link once it expired, and the events and reactions."""
    share = owned_or_404(
        Share.objects.select_related("preview__session", "recipient", "in_app"),
        request,
        pk=share_id,
    )
    live = pulse(
        Share.objects.filter(pk=share.pk),
        versions=(changes.share_key(share.pk), changes.own_rows_key(request.user.pk)),
    )

    def page() -> dict:
        link = share_link(share)
        context = {**activity(share, live), "link": link}
        if not share.is_expired:  # a dead link is never offered to send or scan
            context["qr"] = qr_svg(share_link(share, via_qr=True), label=f"QR code for {link}")
        return context

    return live_page(
        request, "reactions/share_detail.html", live, lambda: activity(share, live), page
    )


def activity(share: Share, live: Pulse) -> dict:
    reactions = list(share.reactions.select_related("share__recipient"))
    events = sorted(
        chain(
            ({"at": v.at, "visit": v} for v in share.visits.all()),
            ({"at": r.created_at, "reaction": r} for r in reactions),
        ),
        key=lambda event: event["at"],
    )
    in_app = getattr(share, "in_app", None)  # selected with the share when it has one
    return {
        "share": share,
        "in_app": in_app.sentence(share.recipient.name) if in_app else "",
        "events": events,
        "reactions": reactions,
        "live": live,
        "forwards_to": share.live_replacement(),  # a renewal took over this expired link
    }


@login_required
@require_http_methods(["GET", "POST"])
def share_renew(request: HttpRequest, share_id: int) -> HttpResponse:
    """Renew and reshare: a fresh preview of the same URL, sent again to the same person,
    whose old link forwards to the new one once it has expired (`send_link`).

    The email's button lands on the GET, which asks once: link scanners follow GETs."""
    share = owned_or_404(
        Share.objects.select_related("preview__session", "recipient"), request, pk=share_id
    )
    if request.method == "GET":
        return render(request, "reactions/share_renew.html", {"share": share})
    try:
        with transaction.atomic():  # the fresh preview and its link, or neither
            fresh = send_link(share.preview.renew(), share.recipient, share.channel)
    except BuildGone as gone:
        messages.error(request, str(gone))
        return redirect("reactions:share-detail", share_id=share.pk)
    messages.success(
        request,
        f"Fresh link for {share.recipient.name}. The link they have now forwards to it, "
        "so there's no need to send it again.",
    )
    return redirect("reactions:share-detail", share_id=fresh.pk)


@login_required
@require_POST
def reaction_counts(request: HttpRequest, reaction_id: int) -> HttpResponse:
    reaction = owned_or_404(
        Reaction.objects.select_related("share__recipient"), request, pk=reaction_id
    )
    reaction.counts = request.POST.get("counts") == "1"
    reaction.save(update_fields=["counts"])
    return redirect_next(request, reverse("reactions:share-detail", args=[reaction.share_id]))


@login_required
@require_http_methods(["GET"])
def people(request: HttpRequest) -> HttpResponse:
    """Everyone the builder has sent to: last sent, last reaction, whether they came back.
    The page polls itself (`templates/_live.html`) and gets the list again once it changed."""
    live = builders_pulse(request.user)
    return live_page(request, "reactions/people.html", live, lambda: people_context(request, live))


def people_context(request: HttpRequest, live: Pulse) -> dict:
    last_reaction = (
        Reaction.objects.by_recipients()
        .filter(share__recipient=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    everyone = (
        Recipient.objects.owned_by(request.user)
        .with_progress()
        .annotate(last_reaction_at=Subquery(last_reaction))
    )
    latest = Preview.objects.latest_of(request.user)
    return {"people": everyone, "latest": latest, "live": live}


@login_required
@require_POST
def share_again(request: HttpRequest, recipient_id: int) -> HttpResponse:
    """One click: the builder's latest preview (fresh if it expired) to this person again."""
    recipient = owned_or_404(Recipient, request, pk=recipient_id)
    latest = Preview.objects.latest_of(request.user)
    if latest is None:
        messages.error(request, "Add a preview first: there is nothing to send yet.")
        return redirect("reactions:people")
    last = recipient.shares.order_by("-sent_at").first()
    try:
        share = send_link(latest, recipient, last.channel if last else Channel.DM)
    except BuildGone as gone:
        messages.error(request, str(gone))
        return redirect("reactions:people")
    return redirect("reactions:share-detail", share_id=share.pk)
