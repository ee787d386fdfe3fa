from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common import changes
from common.ownership import owned_or_404
from reactions.forms import RecipientFields
from reactions.live import Pulse, builders_pulse, live_page, pulse
from reactions.models import Reaction, Recipient, Share
from reactions.stats import with_outer_loop
from sessions.forms import BuildSessionForm, PreviewForm
from sessions.models import BuildSession, Preview


@login_required
@require_http_methods(["GET", "POST"])
def session_list(request: HttpRequest) -> HttpResponse:
    form = BuildSessionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        session = form.save(commit=False)
        session.builder = request.user
        session.save()
        messages.success(request, "Session logged. Now add the URL of what you built.")
        return redirect("sessions:session-detail", session_id=session.pk)
    live = builders_pulse(request.user)
    sessions = with_outer_loop(BuildSession.objects.owned_by(request.user))
    context = {"form": form, "sessions": sessions, "live": live}
    status = 400 if request.method == "POST" else 200
    return live_page(request, "sessions/session_list.html", live, lambda: context, status=status)


def session_pulse(request: HttpRequest, session: BuildSession) -> Pulse:
    """The live stamp of the session's page: every link sent of its previews."""
    return pulse(
        Share.objects.owned_by(request.user).filter(preview__session=session),
        versions=(changes.builder_key(request.user.pk),),
    )


def session_page(
    request: HttpRequest, session: BuildSession, live: Pulse | None = None, **forms
) -> dict:
    """The session, its previews and who each was sent to; `live` is found unless given."""
    live = live or session_pulse(request, session)
    previews = session.previews.annotate(
        has_counting_reaction=Exists(
            Reaction.objects.counting().filter(share__preview=OuterRef("pk"))
        )
    ).prefetch_related(
        Prefetch("shares", queryset=Share.objects.select_related("recipient").with_turn())
    )
    previews = list(previews)
    for preview in previews:
        # One form per live preview, each with ids of its own (a label names one field).
        preview.share_form = RecipientFields(auto_id=f"id_preview{preview.pk}_%s")
    return {
        "live": live,
        "session": session,
        "stats": with_outer_loop(BuildSession.objects.filter(pk=session.pk)).get(),
        "previews": previews,
        "preview_form": forms.get("preview_form") or PreviewForm(),
        "recipient_names": Recipient.objects.owned_by(request.user).values_list("name", flat=True),
    }


@login_required
@require_http_methods(["GET"])
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = owned_or_404(BuildSession, request, pk=session_id)
    live = session_pulse(request, session)
    return live_page(
        request,
        "sessions/session_detail.html",
        live,
        lambda: session_page(request, session, live=live),
    )


@login_required
@require_POST
def preview_add(request: HttpRequest, session_id: int) -> HttpResponse:
    session = owned_or_404(BuildSession, request, pk=session_id)
    form = PreviewForm(request.POST)
    if form.is_valid():
        session.add_preview(form.cleaned_data["url"], frameable=form.cleaned_data["frameable"])
        messages.success(request, "Preview added. Now send it to one person.")
        return redirect("sessions:session-detail", session_id=session.pk)
    context = session_page(request, session, preview_form=form)
    return render(request, "sessions/session_detail.html", context, status=400)


@login_required
@require_POST
def preview_renew(request: HttpRequest, preview_id: int) -> HttpResponse:
    preview = owned_or_404(Preview, request, pk=preview_id)
    fresh = preview.renew()
    until = timezone.localtime(fresh.expires_at)
    messages.success(request, f"Fresh preview, live until {until:%H:%M}. Send it to one person.")
    return redirect("sessions:session-detail", session_id=preview.session_id)
