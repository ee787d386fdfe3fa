"""The recipient's side: no account, ever. One page, one button, one box for their words.

An open counts only when a real browser confirms it: the page's own request after load (or,
without JavaScript, a tap on Open or a reaction). The server-rendered GET records nothing, so
link unfurlers, scanners and HEAD requests never look like people (the rule and its parts:
`reactions.activity`).

No cookie is needed anywhere on these pages. The share's token in the URL is the recipient's
capability: they have no account and no session, so the POSTs they make (the reaction, the
page's confirm, the fresh-link request) are exempt from CSRF. CSRF keeps another site from
riding a session cookie; here there is none to ride. A forged request needs the token, and
whoever has the token can post it directly anyway. The one session that could come along
is a logged-in builder's, and their browser's opens, taps and reactions are marked as theirs
and never count (`activity.is_builders_own`); its cookie is SameSite=Lax besides, so another
site's POST doesn't carry it. What guards these endpoints is the rate limits
(reactions/limits.py, counted by common/limits.py) and the robot checks, and those hold for
every request, cookie or not. The cookies the pages set (when seen, the touch screen, what
this browser said) only help; a browser that refuses them can still do everything.
"""

import re
from collections.abc import Callable
from functools import lru_cache, wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from common import changes, limits
from common.compiled import CompiledQuery
from common.queue import enqueue_on_commit
from reactions import kept_link
from reactions.activity import (
    LinkRemoved,
    is_builders_own,
    is_person,
    loaded_page,
    mark_page_loaded,
    mark_seen,
    note_view,
    record_reaction,
    record_visit,
)
from reactions.browser import remember_reaction, remember_touch_points, said_ids
from reactions.forms import ReactionForm
from reactions.limits import (
    BEACONS_PER_CLIENT,
    BEACONS_PER_SHARE,
    REACTIONS_PER_CLIENT,
    REACTIONS_PER_SHARE,
    UNKNOWN_TOKENS_PER_CLIENT,
)
from reactions.live import NOT_KEPT, Kept, placeholder
from reactions.models import (
    REACTION_MAX_LENGTH,
    Chip,
    Reaction,
    RemovedLink,
    Share,
    VisitKind,
    idempotency_key_or_blank,
    new_idempotency_key,
)
from reactions.sharing import page_path, recipient_paths
from reactions.tasks import notify_fresh_link, notify_reaction
from reactions.widget import enter_url, framed_mark
from sessions.hosts import ascii_origin, ascii_url

# The text box's label and limit, as the page writes them (strings: a number in a template
# goes through localisation on every page).
TEXT_LABEL = ReactionForm.base_fields["text"].label
TEXT_MAX_LENGTH = str(REACTION_MAX_LENGTH)
# URL-safe base64, as `new_token` makes them: anything else is not worth a query.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
RecipientView = Callable[..., HttpResponse]  # (request, share, **keywords)


# Every recipient request starts here: compiled once (common.compiled), as the ORM would
# build it each time. No ORDER BY: the token is unique.
_SHARE_BY_TOKEN = CompiledQuery(
    lambda token: (
        Share.objects.select_related("preview__session__builder", "recipient")
        .filter(token=token)
        .order_by()
    )
)


def _share(token: str) -> Share | None:
    """The share whose link is `token`, with its preview, session, builder and person
    (one query), or None."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return _SHARE_BY_TOKEN.first(token)


def _removed(token: str) -> RemovedLink | None:
    """The tombstone of `token` if it was a link its builder deleted (`reactions.removal`),
    with the renewal it forwards to (`forwards_to`, selected), else None."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return RemovedLink.objects.select_related("forwards_to").filter(token=token).first()


def _unindexed(response: HttpResponse) -> HttpResponse:
    """`response`, marked for no search engine to index or follow."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _removed_page(request: HttpRequest) -> HttpResponse:
    """410 Gone, plainly: the sender removed this link. Nothing of what it was is shown."""
    return _unindexed(render(request, "reactions/recipient_removed.html", status=410))


def recipient_view(view: RecipientView) -> Callable[..., HttpResponse]:
    """Look the share up by token (guessing is rate-limited), never cache, never index. Any
    keyword arguments go on to `view`."""

    @wraps(view)
    @never_cache
    def wrapped(request: HttpRequest, token: str, **kwargs) -> HttpResponse:
        share = _share(token)
        if share is None:
            if removed := _removed(token):
                if removed.forwards_to is not None and request.method in ("GET", "HEAD"):
                    # The same person's renewal stayed: this path on that link.
                    new_path = request.get_full_path().replace(token, removed.forwards_to.token, 1)
                    return redirect(new_path)
                return _removed_page(request)
            if not limits.allow(UNKNOWN_TOKENS_PER_CLIENT, limits.client_id(request)):
                response = render(request, "reactions/recipient_limited.html", status=429)
                response["Retry-After"] = str(UNKNOWN_TOKENS_PER_CLIENT.seconds)
                return response
            raise Http404("No such link")
        return _unindexed(view(request, share, **kwargs))

    return wrapped


def _form_key(form: ReactionForm | None) -> str:
    """The key of the form being shown again (its text kept), else a new form's."""
    posted = form.data.get("idempotency_key", "") if form is not None else ""
    return idempotency_key_or_blank(posted) or new_idempotency_key()


@lru_cache(maxsize=len(Chip) + 1)
def _chip_inputs(checked: str) -> SafeString:
    chips = [
        {"value": value, "label": label, "id": f"id_chip_{n}"}
        for n, (value, label) in enumerate(Chip.choices)
    ]
    return render_to_string("reactions/_chips.html", {"chips": chips, "checked": checked})


def chip_inputs(form: ReactionForm | None) -> SafeString:
    """The reaction form's chips as radio buttons, the one `form` was sent with checked
    (none for a new form): the same HTML on every page, so rendered once per choice
    (templates/reactions/_chips.html; afresh each time under DEBUG, where templates change)."""
    checked = form["chip"].value() if form is not None else ""
    checked = checked if checked in Chip.values else ""
    return _chip_inputs.__wrapped__(checked) if settings.DEBUG else _chip_inputs(checked)


def _page(request: HttpRequest, share: Share, form: ReactionForm | None = None, **extra) -> dict:
    """What every recipient page and partial shows. A new form is no `ReactionForm` at all:
    the template writes its fields out, and only a posted one has values or errors."""
    expired = share.is_expired
    return {
        "idempotency_key": _form_key(form),
        "share": share,
        "paths": recipient_paths(share),
        "builder_name": share.preview.session.builder.name,
        "title": share.preview.session.title,
        "expired": expired,
        "framed": share.preview.frameable and not expired,
        "form": form,
        "chip_inputs": chip_inputs(form),
        "text_label": TEXT_LABEL,
        "text_max_length": TEXT_MAX_LENGTH,
        "via_qr": request.GET.get("via") == "qr",
        **extra,
    }


def _said(request: HttpRequest, share: Share) -> list[Reaction]:
    """What this browser said on this link, oldest first (`browser.said_ids`); one query
    when it said anything, none otherwise."""
    ids = said_ids(request)
    if not ids:
        return []
    return list(share.reactions.filter(pk__in=ids).order_by("created_at", "id"))


def _whole_page(request: HttpRequest, share: Share) -> dict:
    """What a whole page shows beyond the form: what this browser said, whether it is the
    builder's own (whose opens, taps and reactions never count: they're told so), and what
    the framed mode's iframe loads (the preview's URL) with, for a hosted preview, the mark
    the page hands the frame's script when it asks (`widget.framed_mark`)."""
    preview = share.preview
    framed = preview.frameable
    return {
        "said": _said(request, share),
        "builders_own": is_builders_own(request, share),
        "frame_url": preview.url if framed else None,
        "frame_mark": framed_mark(request, share) if framed and preview.is_hosted else None,
    }


def _csp_for_frame(response: HttpResponse, origin: str) -> HttpResponse:
    """A framed preview may load its own `origin` in a frame on this page, nothing else."""
    response._csp_replace = {"frame-src": [origin]}
    return response


def _full_page(
    request: HttpRequest,
    share: Share,
    form: ReactionForm | None = None,
    status: int = 200,
    *,
    kept: Kept = NOT_KEPT,
) -> HttpResponse:
    """The whole recipient page; framed, its policy lets the preview's origin (its host in
    ASCII: a header carries no other characters) in the frame. A new form's page is kept in
    `kept` (`reactions.kept_link`) unless it shows what one browser sees (what it said, the
    builder's own notice) or an expired preview."""
    context = _page(request, share, form, **_whole_page(request, share))
    keeping = (
        kept.key is not None
        and status == 200
        and form is None
        and not (context["said"] or context["builders_own"] or context["expired"])
    )
    origin = ascii_origin(share.preview.url) if context["framed"] else ""
    if keeping:  # rendered with placeholders, kept, and answered as a kept render is
        kept = kept.holding_until(share.preview.expires_at)
        context.update(csp_nonce=placeholder("nonce"), idempotency_key=placeholder("form_key"))
        html = render_to_string("reactions/recipient.html", context, request)
        kept_link.keep(kept, share, html, origin)
        response = HttpResponse(kept_link.kept_html(request, html))
    else:
        response = render(request, "reactions/recipient.html", context, status=status)
    return _csp_for_frame(response, origin) if origin else response


def _forward(request: HttpRequest, share: Share) -> HttpResponse | None:
    """A renewed link whose preview has expired: to the page of the live link that renewed
    it for the same person (`Share.live_replacement`), a QR scan still marked as one. None
    for any other link."""
    replacement = share.live_replacement()
    if replacement is None:
        return None
    url = page_path(replacement) + ("?via=qr" if request.GET.get("via") == "qr" else "")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_safe
def recipient_page(request: HttpRequest, token: str) -> HttpResponse:
    """The link's page: its last render while that holds (`reactions.kept_link`: no query),
    else rendered. Either way a person's browser is marked as having loaded it."""
    marking = request.method == "GET" and is_person(request)
    kept, marked = kept_link.kept_link(request, token, marking=marking)
    if kept.html is None:
        return _rendered_page(request, token, kept=kept, marking=marking, marked=marked)
    facts = kept.facts
    response = HttpResponse(kept_link.kept_html(request, kept.html))
    if facts["frame_origin"]:
        _csp_for_frame(response, facts["frame_origin"])
    if marking:
        mark_page_loaded(request, response, token, request.path, cached=marked)
    add_never_cache_headers(response)  # as `recipient_view` does for the rendered page
    return _unindexed(response)


@recipient_view
def _rendered_page(
    request: HttpRequest, share: Share, kept: Kept, marking: bool, marked: bool
) -> HttpResponse:
    """The link's page rendered (kept in `kept` when it may be), or where a renewal forwards
    it; a person's browser marked as having loaded it (`marking`) unless that is done
    (`marked`)."""
    if forward := _forward(request, share):
        return forward
    kept_link.learn(share)
    response = _full_page(request, share, kept=kept)
    if marking:
        mark_page_loaded(request, response, share.token, page_path(share), cached=marked)
    return response


@csrf_exempt  # the token is the capability: see the module's docstring
@require_POST
@recipient_view
def recipient_seen(request: HttpRequest, share: Share) -> HttpResponse:
    """The page confirms a real browser has it open (htmx, after load); framed taps too."""
    response = HttpResponse(status=204)
    if not is_person(request):
        return response
    if not limits.allow_both(request, share.token, BEACONS_PER_SHARE, BEACONS_PER_CLIENT):
        return response
    if request.POST.get("event") == "tap":
        if not share.is_expired:  # an expired preview isn't on the page: nothing to tap
            record_visit(request, share, VisitKind.TAP)
    else:
        note_view(request, share, response, via_qr=request.POST.get("via") == "qr")
    remember_touch_points(request, response, page_path(share))
    return response


@require_safe
@recipient_view
def recipient_go(request: HttpRequest, share: Share) -> HttpResponse:
    """The big Open button: record the tap, then hand over the preview (only while it lives),
    a hosted one through its host's door with the share's mark (`reactions.widget`).

    Only a browser that loaded the share's page (`activity.loaded_page`) taps: a fetcher
    that follows the /go/ link by itself is sent on and recorded nowhere. A renewed link goes
    to its live replacement's page, where the person taps Open again."""
    if forward := _forward(request, share):
        return forward
    if share.is_expired:
        return _full_page(request, share, status=410)
    if request.method == "GET" and is_person(request) and loaded_page(request, share):
        # A hosted preview is entered with the share's first-party mark (`widget.enter_url`).
        url = enter_url(request, share) if share.preview.is_hosted else share.preview.url
        response = redirect(ascii_url(url))
        note_view(request, share, response, via_qr=False)
        record_visit(request, share, VisitKind.TAP)
        return response
    return redirect(ascii_url(share.preview.url))


@csrf_exempt  # the token is the capability: see the module's docstring
@require_POST
@recipient_view
def recipient_react(request: HttpRequest, share: Share) -> HttpResponse:
    form = ReactionForm(request.POST)
    if not form.is_valid():
        return _reaction_form(request, share, form, status=400)
    if form.cleaned_data["website"]:  # the honeypot: only robots fill a field nobody sees
        return redirect("reactions:recipient-thanks", token=share.token)
    data = form.cleaned_data
    if not is_person(request) or not limits.allow_both(
        request, share.token, REACTIONS_PER_SHARE, REACTIONS_PER_CLIENT
    ):
        stored = data["idempotency_key"] and (
            share.reactions.filter(idempotency_key=data["idempotency_key"]).first()
        )
        if stored:  # this form, sent again: its reaction is saved, so thank, don't refuse
            return _thanks(request, share, stored, new=False)
        form.add_error(
            None,
            "So many reactions just arrived that we're pausing for a few minutes. "
            "Your words are still here: send them again in a little while.",
        )
        return _reaction_form(request, share, form, status=429)
    try:
        reaction, new = record_reaction(
            request,
            share,
            data["text"],
            data["chip"],
            idempotency_key=data["idempotency_key"],
            confirms_view=True,
        )
    except LinkRemoved:
        return _removed_page(request)
    if new and reaction.is_counting:
        enqueue_on_commit(notify_reaction, reaction.pk)
    return _thanks(request, share, reaction, new=new)


def _thanks(request: HttpRequest, share: Share, reaction: Reaction, *, new: bool) -> HttpResponse:
    """The thank-you (htmx: in place of the form); a new reaction also confirmed the open
    (`record_reaction`), so the browser is marked as having seen the page. The browser
    remembers what it said, and its pages show it again ("You said: …")."""
    if request.htmx:
        context = _page(request, share, reaction=reaction)
        response = render(request, "reactions/recipient.html#thanks", context)
    else:
        response = redirect("reactions:recipient-thanks", token=share.token)
    remember_reaction(request, response, page_path(share), reaction.pk)
    if new:
        mark_seen(request, share, response)
    return response


def _reaction_form(
    request: HttpRequest, share: Share, form: ReactionForm, status: int
) -> HttpResponse:
    """The form again with its message and the typed text; htmx swaps only 2xx, so 200 there."""
    if request.htmx:
        return render(
            request, "reactions/recipient.html#reaction-form", _page(request, share, form)
        )
    return _full_page(request, share, form, status=status)


@require_safe
@recipient_view
def recipient_thanks(request: HttpRequest, share: Share) -> HttpResponse:
    context = _page(request, share, **_whole_page(request, share))
    return render(request, "reactions/recipient_thanks.html", context)


@csrf_exempt  # the token is the capability: see the module's docstring
@require_POST
@recipient_view
def recipient_fresh(request: HttpRequest, share: Share) -> HttpResponse:
    """An expired link asks for a fresh one: the builder hears about it. A link that still
    works needs none: 409 and the working page, nothing recorded, nobody emailed. A link
    already renewed for this person is taken to the fresh one instead (nothing recorded)."""
    if forward := _forward(request, share):
        return forward
    if not share.is_expired:
        return _full_page(request, share, status=409)
    if is_person(request):
        asked = Share.objects.filter(pk=share.pk, fresh_link_requested_at__isnull=True).update(
            fresh_link_requested_at=timezone.now()
        )
        if asked:
            enqueue_on_commit(notify_fresh_link, share.pk)
            changes.share_changed(share.pk, share.recipient.builder_id)
        share.refresh_from_db(fields=["fresh_link_requested_at"])
    if request.htmx:
        return render(request, "reactions/recipient.html#fresh", _page(request, share))
    return redirect("reactions:recipient-page", token=share.token)
