"""The recipient's side: no account, ever. One page, one button, one box for their words."""

from datetime import UTC, datetime

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from outerloop.queue import enqueue_on_commit
from reactions.forms import ReactionForm
from reactions.models import Share, VisitKind
from reactions.sharing import classify_page_view, record_reaction, record_visit
from reactions.tasks import notify_fresh_link, notify_reaction

SEEN_COOKIE = "ol_seen"
SEEN_SALT = "outerloop.recipient.seen"
SEEN_MAX_AGE = 365 * 24 * 3600


def _share(token: str) -> Share:
    return get_object_or_404(
        Share.objects.select_related("preview__session__builder", "recipient"), token=token
    )


def _page(request: HttpRequest, share: Share, form: ReactionForm | None = None, **extra) -> dict:
    return {
        "share": share,
        "builder_name": share.preview.session.builder.name,
        "title": share.preview.session.title,
        "expired": share.is_expired,
        "form": form or ReactionForm(),
        **extra,
    }


def _noindex(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _last_seen(request: HttpRequest) -> datetime | None:
    try:
        stamp = request.get_signed_cookie(SEEN_COOKIE, salt=SEEN_SALT)
        return datetime.fromtimestamp(int(stamp), tz=UTC)
    except (KeyError, ValueError, signing.BadSignature):
        return None


@never_cache
@require_safe
def recipient_page(request: HttpRequest, token: str) -> HttpResponse:
    share = _share(token)
    response = render(request, "reactions/recipient.html", _page(request, share))
    if request.method == "GET":  # a HEAD is a link checker, never a visit
        now = timezone.now()
        kind = classify_page_view(_last_seen(request), now)
        if kind is not None:
            record_visit(request, share, kind, via_qr=request.GET.get("via") == "qr")
        response.set_signed_cookie(
            SEEN_COOKIE,
            str(int(now.timestamp())),
            salt=SEEN_SALT,
            max_age=SEEN_MAX_AGE,
            path=request.path,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return _noindex(response)


@never_cache
@require_safe
def recipient_go(request: HttpRequest, token: str) -> HttpResponse:
    """The big Open button: record the tap, then hand over the preview (only while it lives)."""
    share = _share(token)
    if share.is_expired:
        page = render(request, "reactions/recipient.html", _page(request, share), status=410)
        return _noindex(page)
    if request.method == "GET":
        record_visit(request, share, VisitKind.TAP)
    return _noindex(redirect(share.preview.url))


@never_cache
@require_POST
def recipient_react(request: HttpRequest, token: str) -> HttpResponse:
    share = _share(token)
    form = ReactionForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(
                request, "reactions/recipient.html#reaction-form", _page(request, share, form)
            )
        return _noindex(
            render(request, "reactions/recipient.html", _page(request, share, form), status=400)
        )
    reaction = record_reaction(request, share, form.cleaned_data["text"], form.cleaned_data["chip"])
    if reaction.is_counting:
        enqueue_on_commit(notify_reaction, reaction.pk)
    if request.htmx:
        return render(
            request, "reactions/recipient.html#thanks", _page(request, share, reaction=reaction)
        )
    return redirect("reactions:recipient-thanks", token=share.token)


@never_cache
@require_safe
def recipient_thanks(request: HttpRequest, token: str) -> HttpResponse:
    share = _share(token)
    return _noindex(render(request, "reactions/recipient_thanks.html", _page(request, share)))


@never_cache
@require_POST
def recipient_fresh(request: HttpRequest, token: str) -> HttpResponse:
    """An expired link asks for a fresh one: the builder hears about it on the share page."""
    share = _share(token)
    asked = Share.objects.filter(pk=share.pk, fresh_link_requested_at__isnull=True).update(
        fresh_link_requested_at=timezone.now()
    )
    if asked:
        enqueue_on_commit(notify_fresh_link, share.pk)
    share.refresh_from_db(fields=["fresh_link_requested_at"])
    if request.htmx:
        return render(request, "reactions/recipient.html#fresh", _page(request, share))
    return redirect("reactions:recipient-page", token=share.token)
