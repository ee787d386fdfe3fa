"""The reaction inside a hosted preview: who the visitor is there, their reaction, and what they
did in the app (DESIGN.md "Hosted previews"; the script and its injection: sessions/widget.py).

The first-party mark. Open on a share's page (`recipient.recipient_go`) leads a person's
browser to `https://<label>.<preview domain>/__outerloop/enter?s=<signed>&to=/` (`enter_url`):
the signed value names the share, the preview's label and whether the browser is the
builder's own (`activity.is_builders_own`, decided on the app's side where the session is),
and lives ENTER_SECONDS. The preview host checks it (`enter`), sets the mark, a signed cookie
of its own origin (HttpOnly, SameSite=Lax, Secure on HTTPS, `__Host-` prefixed there, Path=/,
living as long as the preview), and redirects to the app's path. A cookie set by the server on
a top-level navigation to its own origin is first-party: blocking third-party cookies, and
Safari's tracking prevention (whose 7-day cap is for script-written cookies), leave it alone.
The bare preview URL, opened without a share, has no mark: the button doesn't show and nothing
is recorded. So does a fetcher following /go/ by itself (no mark is made for it).

With the mark, the script on the preview's own origin (never across origins, which the
builder's `connect-src 'self'` would block, nor with a third-party cookie) asks
`/__outerloop/me` whether to show the button, posts the reaction to `/__outerloop/react`
and its activity beacons to `/__outerloop/activity`. Each POST must come from this preview's
own origin (`Origin`, which browsers send on every POST): the app's pages and other previews
are refused, with no CORS allowance. The reaction is the share page's (the same form, rate
limits, robot check and `activity.record_reaction`); the builder's own browser's reaction is
marked theirs, and its activity is not recorded. A beacon holds three keys and nothing else
(`activity_of`): taps, paths (no query), seconds.

Framed mode. A frameable hosted preview shows inside the share page (templates/reactions/
recipient.html), whose iframe loads the preview's own URL. A cookie set there would be a
third-party cookie, which Safari's tracking prevention and Chrome with third-party cookies
blocked refuse, and the frame's storage is refused too (Chromium does whenever cookies are
blocked), so the frame gets its mark from the page around it instead: the share page carries
the carried mark (`framed_mark`: a value signed for this label, holding the share, the
builder's-own flag and the preview's expiry) on its iframe, and its script (static/js/app.js)
posts it to the frame when the widget script there asks (`{type: "outerloop-mark?"}`), only to
the preview's origin and only to the iframe's own window. The widget script keeps it in memory
alone (nothing that outlives the page, nothing a page the frame navigates to could read) and
asks again after each full navigation. It sends it with each request (`X-Outerloop-Mark` on
fetches; a beacon can't carry headers, so a `mark` key in its body) and `mark_of` checks it as
it checks the cookie: the same share, the same label, the same builder's-own flag, plus the
expiry it carries. It lets no more than the cookie does: whoever holds either may speak for
that share on that preview until the preview ends (as whoever holds the share link may).
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone

from common import limits
from common.queue import enqueue_on_commit
from reactions.activity import (
    LinkRemoved,
    is_builders_own,
    is_person,
    record_in_app,
    record_reaction,
)
from reactions.forms import ReactionForm
from reactions.limits import (
    BEACONS_PER_CLIENT,
    BEACONS_PER_SHARE,
    REACTIONS_PER_CLIENT,
    REACTIONS_PER_SHARE,
)
from reactions.models import IN_APP_PATH_MAX_LENGTH, REACTION_MAX_LENGTH, Chip, Share
from reactions.sharing import share_link
from reactions.tasks import notify_reaction
from sessions import widget
from sessions.hosted import host_name
from sessions.models import Preview
from sessions.serving import HostedPreviewMiddleware, serve, with_preview_headers

ENTER_SALT = "outerloop.hosted.enter"
MARK_SALT = "outerloop.hosted.mark"
CARRIED_SALT = "outerloop.hosted.carried"  # the framed mode's mark, carried by the script
MARK_HEADER = "X-Outerloop-Mark"
MARK_FIELD = "mark"  # the carried mark in a POST's JSON body (a beacon can't carry headers)
ENTER_SECONDS = 300  # the signed link from Open to the preview host: followed at once
MARK_COOKIE = "ol_mark"
SECURE_MARK_COOKIE = "__Host-ol_mark"  # on HTTPS: Secure, Path=/, no Domain, by its name
MAX_BODY = 32 * 1024  # bytes: a reaction of REACTION_MAX_LENGTH characters, in JSON, fits
# A beacon: these keys only, each within its bounds (`activity_of`).
MAX_TAPS = 1000  # per beacon (the script sends every 15 s at most)
MAX_SECONDS = 120  # per beacon
MAX_PATHS = 20  # per beacon
SAFE_TO = re.compile(r"/(?![/\\])[\x21-\x7e]*")


@dataclass(frozen=True)
class Mark:
    share: Share
    by_builder: bool


def enter_url(request: HttpRequest, share: Share) -> str:
    """Where Open leads for a hosted preview: its host's `/__outerloop/enter`, carrying the
    share signed (with the preview's label and whether `request` is the builder's own)."""
    own = int(is_builders_own(request, share))
    token = signing.dumps([share.pk, share.preview.host, own], salt=ENTER_SALT, compress=False)
    query = {"s": token, "to": "/"}
    return f"{share.preview.url.rstrip('/')}{widget.PREFIX}enter?{urlencode(query)}"


def mark_cookie(request: HttpRequest) -> str:
    return SECURE_MARK_COOKIE if request.is_secure() else MARK_COOKIE


def enter(request: HttpRequest, label: str) -> HttpResponse:
    """GET /__outerloop/enter?s=…&to=/path: set the mark for a valid, current `s` naming a
    share of this very preview, then redirect to `to` (a path on this origin; "/" otherwise).
    An invalid or old `s` sets nothing: the visitor lands on the app unmarked."""
    to = request.GET.get("to", "/")
    to = to if SAFE_TO.fullmatch(to) else "/"
    response = with_preview_headers(HttpResponseRedirect(to), cache="no-store")
    try:
        share_id, host, own = signing.loads(
            request.GET.get("s", ""), salt=ENTER_SALT, max_age=ENTER_SECONDS
        )
    except (signing.BadSignature, ValueError, TypeError):
        return response
    preview = Preview.objects.filter(host=label, shares__pk=share_id).first()
    if host != label or preview is None or preview.is_expired:
        return response
    left = int((preview.expires_at - timezone.now()).total_seconds())
    response.set_signed_cookie(
        mark_cookie(request),
        f"{share_id}.{int(bool(own))}",
        salt=MARK_SALT + label,
        max_age=left,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def carried_mark(label: str, share_id: int, own: bool, until: datetime) -> str:
    """The framed mode's mark: share, builder's-own flag and the preview's expiry (whole
    seconds since the epoch), signed for this label only."""
    payload = [share_id, int(own), int(until.timestamp())]
    return signing.dumps(payload, salt=CARRIED_SALT + label, compress=False)


def framed_mark(request: HttpRequest, share: Share) -> str:
    """The carried mark the share page hands its frame (a hosted preview's): this share,
    whether `request` is the builder's own, and the preview's expiry (`carried_mark`)."""
    preview = share.preview
    own = is_builders_own(request, share)
    return carried_mark(preview.host, share.pk, own, preview.expires_at)


def carried_of(request: HttpRequest, data: dict | None = None) -> str | None:
    """The carried mark a request holds: the `X-Outerloop-Mark` header, else a POST body's
    `mark` key (taken out of `data`, so the body is checked without it)."""
    body = data.pop(MARK_FIELD, None) if data is not None else None
    carried = request.headers.get(MARK_HEADER) or body
    return carried if isinstance(carried, str) else None


def mark_of(request: HttpRequest, label: str | None, carried: str | None = None) -> Mark | None:
    """The visitor's mark on this preview: the framed mode's `carried` mark when the request
    holds one (`carried_of`; then it alone decides), else the door's cookie (`enter`). Their
    share (with its preview, builder and person) and whether they are its builder; None
    without a valid one: a bad signature, another preview's, or a carried one past its expiry."""
    if not label:
        return None
    try:
        if carried is not None:
            share_id, own, until = signing.loads(carried, salt=CARRIED_SALT + label)
            if not all(type(n) is int for n in (share_id, own, until)):
                return None
            if until <= timezone.now().timestamp():
                return None
        else:
            value = request.get_signed_cookie(mark_cookie(request), salt=MARK_SALT + label)
            share_id, own = (int(part) for part in value.split("."))
    except (KeyError, ValueError, TypeError, signing.BadSignature):
        return None
    share = (
        Share.objects.select_related("preview__session__builder", "recipient")
        .filter(pk=share_id, preview__host=label)
        .first()
    )
    return Mark(share, bool(own)) if share is not None else None


def share_url_of(request: HttpRequest, preview: Preview) -> str | None:
    """The share page the visitor came from (their mark), for the ended page's link."""
    mark = mark_of(request, preview.host)
    return share_link(mark.share) if mark else None


def me(request: HttpRequest, label: str) -> HttpResponse:
    """GET /__outerloop/me: for a marked visitor of a live preview, what the button needs
    (the builder's name, the chips, the longest reaction); 204 for anyone else. A framed
    visitor sends the carried mark as the `X-Outerloop-Mark` header."""
    mark = mark_of(request, label, carried_of(request))
    if request.method != "GET" or mark is None or mark.share.is_expired:
        return with_preview_headers(HttpResponse(status=204), cache="no-store")
    answer = {
        "builder": mark.share.preview.session.builder.name,
        "chips": [[chip.value, chip.label] for chip in Chip],
        "max": REACTION_MAX_LENGTH,
        "version": widget.version(),
    }
    return with_preview_headers(JsonResponse(answer), cache="no-store")


def refused(status: int, message: str) -> HttpResponse:
    return with_preview_headers(JsonResponse({"error": message}, status=status), cache="no-store")


def from_this_origin(request: HttpRequest) -> bool:
    """Whether the browser says `request` comes from a page of the host it is sent to: its
    `Origin` (http or https) names this request's host, or, where the browser serialised the
    origin as "null" (Fetch sends `Origin: null` on a no-CORS POST, such as a text/plain
    beacon, when the page's referrer policy is `no-referrer`: WebKit does), its
    `Sec-Fetch-Site` is "same-origin" (https://w3c.github.io/webappsec-fetch-metadata/). Both
    are headers no page's script can set. Host names are compared without their port, as
    everywhere on a preview host (`hosted.host_name`): a proxy passes nginx's `$host`, which
    has none, while the page's origin keeps a port that isn't 80 or 443."""
    origin = request.headers.get("Origin", "")
    if origin == "null":
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    parts = urlsplit(origin)
    return (
        parts.scheme in ("http", "https")
        and not parts.path
        and bool(parts.hostname)
        and host_name(parts.netloc) == host_name(request.get_host())
    )


def posted(request: HttpRequest, label: str) -> tuple[Mark, dict] | HttpResponse:
    """The mark and JSON object of a POST from this preview's own page, or the refusal: not
    a POST (405), from another origin (403: the app's pages, another preview), too long
    (400), from a robot or without a mark (403), to an ended preview (410), or not one small
    JSON object (400). The object comes without the framed mode's `mark` key (`carried_of`)."""
    if request.method != "POST":
        return refused(405, "POST only.")
    if not from_this_origin(request):
        return refused(403, "Only this preview's own pages may send this.")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return refused(400, "That can't be read.")
    if int(declared) > MAX_BODY:
        return refused(400, "That is too long to send.")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        data = None
    data = data if isinstance(data, dict) else None
    mark = mark_of(request, label, carried_of(request, data))
    if mark is None or not is_person(request):
        return refused(403, "Open the preview from the link you were sent to react here.")
    if mark.share.is_expired:
        return refused(
            410, "This preview has ended: say what you thought on the page you were sent."
        )
    if data is None:
        return refused(400, "Send a JSON object.")
    return mark, data


def react(request: HttpRequest, label: str) -> HttpResponse:
    """POST /__outerloop/react {"text", "chip", "idempotency_key"} (no other key): the share
    page's reaction, from inside the preview. 200 {"thanks"}; 400/429 {"error"} in words."""
    checked = posted(request, label)
    if isinstance(checked, HttpResponse):
        return checked
    mark, data = checked
    fields = {"text", "chip", "idempotency_key"}
    if not set(data) <= fields or not all(isinstance(data[k], str) for k in data):
        return refused(400, "Only words, a chip and the form's key may be sent.")
    form = ReactionForm({**dict.fromkeys(fields, ""), **data})
    if not form.is_valid():
        return refused(400, next(iter(form.errors.values()))[0])
    share, text = mark.share, form.cleaned_data
    builder = share.preview.session.builder.name
    thanks = {"thanks": f"Thank you! {builder} will read it."}
    if not limits.allow_both(request, share.token, REACTIONS_PER_SHARE, REACTIONS_PER_CLIENT):
        key = text["idempotency_key"]
        if key and share.reactions.filter(idempotency_key=key).exists():
            return with_preview_headers(JsonResponse(thanks), cache="no-store")
        return refused(
            429,
            "So many reactions just arrived that we're pausing for a few minutes. "
            "Your words are still here: send them again in a little while.",
        )
    try:
        reaction, new = record_reaction(
            request,
            share,
            text["text"],
            text["chip"],
            idempotency_key=text["idempotency_key"],
            by_builder=mark.by_builder,
        )
    except LinkRemoved:
        return refused(410, "The person who sent you this removed the link.")
    if new and reaction.is_counting:
        enqueue_on_commit(notify_reaction, reaction.pk)
    return with_preview_headers(JsonResponse(thanks), cache="no-store")


def activity_of(data: dict) -> tuple[int, list[str], int] | None:
    """(taps, paths, seconds) of a beacon {"taps": int, "paths": [str], "seconds": int}, or
    None for anything else: another key (no keystrokes, values or text can ride along), a
    number out of bounds, a path that isn't one (each starts with "/"; a query or fragment
    is cut off)."""
    if set(data) - {"taps", "paths", "seconds"}:
        return None
    taps, paths, seconds = data.get("taps", 0), data.get("paths", []), data.get("seconds", 0)
    for number, most in ((taps, MAX_TAPS), (seconds, MAX_SECONDS)):
        if type(number) is not int or not 0 <= number <= most:
            return None
    if not isinstance(paths, list) or len(paths) > MAX_PATHS:
        return None
    clean = []
    for path in paths:
        if not isinstance(path, str) or not path.startswith("/"):
            return None
        clean.append(re.split(r"[?#]", path, maxsplit=1)[0][:IN_APP_PATH_MAX_LENGTH])
    return taps, clean, seconds


def activity(request: HttpRequest, label: str) -> HttpResponse:
    """POST /__outerloop/activity, a beacon (`activity_of`): added to the share's in-app
    activity (`activity.record_in_app`), unless it is the builder's own. 204; 400 for a
    beacon that isn't one; 429 past the beacon limits."""
    checked = posted(request, label)
    if isinstance(checked, HttpResponse):
        return checked
    mark, data = checked
    reported = activity_of(data)
    if reported is None:
        return refused(400, "A beacon holds taps, paths and seconds, nothing else.")
    if mark.by_builder:
        return with_preview_headers(HttpResponse(status=204), cache="no-store")
    if not limits.allow_both(request, mark.share.token, BEACONS_PER_SHARE, BEACONS_PER_CLIENT):
        return refused(429, "Too many beacons.")
    taps, paths, seconds = reported
    record_in_app(mark.share, taps=taps, paths=paths, seconds=seconds)
    return with_preview_headers(HttpResponse(status=204), cache="no-store")


ROUTES = {"enter": enter, "me": me, "react": react, "activity": activity}


class HostedWidgetMiddleware(HostedPreviewMiddleware):
    """sessions.serving's middleware, with the widget's endpoints under `/__outerloop/`
    (ROUTES) and the ended page's link to the visitor's share page (`share_url_of`). It
    takes its place first in MIDDLEWARE."""

    def answer(self, request: HttpRequest, label: str | None) -> HttpResponse:
        if not request.path.startswith(widget.PREFIX):
            return serve(request, label, share_url_of)
        route = ROUTES.get(request.path.removeprefix(widget.PREFIX))
        if route is None:
            return super().answer(request, label)  # the widget's own files, or the plain 404
        if label is None:
            return serve(request, None)  # no such preview: the plain 404
        return route(request, label)
