"""What the person a link was sent to does with it, recorded as it happened: opens, taps,
returns and reactions. The open / return rule (DESIGN.md "Opens are real opens") lives here.

- Only a person's browser counts (`is_person`): link unfurlers, scanners and scripts
  (`agents.is_bot`) record nothing, and neither does a HEAD request or the server-rendered
  GET. An open is confirmed by the page itself (its request after load, `note_view`), or,
  without JavaScript, by a tap on Open from a browser that loaded the page (`loaded_page`)
  or by a reaction.
- A view is an open the first time, a return 30 minutes or more after the browser's
  previous view (`classify_page_view`, RETURN_AFTER_SECONDS), and nothing in between.
- The builder's own browser is recorded as theirs (`is_builders_own`, `by_builder`) and never
  counts: whatever reads what people did asks `Visit.objects.by_recipients()` (or
  `Reaction.objects.by_recipients()`), and the progress annotations (`recipients_progress`).

tests/test_rule_visits.py holds the rule.
"""

import hashlib
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from reactions.agents import is_bot
from reactions.browser import browser_key, device_of, set_share_cookie
from reactions.models import (
    IN_APP_PATHS_KEPT,
    RETURN_AFTER_SECONDS,
    InAppActivity,
    Reaction,
    Share,
    Visit,
    VisitKind,
)
from reactions.sharing import page_path

SEEN_COOKIE = "ol_seen"
SEEN_SALT = "outerloop.recipient.seen"
# The page's own mark that this browser loaded it (the GET, before any script runs).
PAGE_COOKIE = "ol_page"
PAGE_SALT = "outerloop.recipient.page"
PAGE_MARK_SECONDS = 24 * 3600


def is_person(request: HttpRequest) -> bool:
    """Whether a person's browser sent the request: not a bot by its User-Agent
    (`agents.is_bot`; no User-Agent at all is a bot's)."""
    return not is_bot(request.headers.get("User-Agent", ""))


def is_builders_own(request: HttpRequest, share: Share) -> bool:
    """Whether the request comes from the share's builder, logged in: what they do on their
    own link is marked as theirs and never counts."""
    return is_builder(request, share.recipient.builder_id)


def is_builder(request: HttpRequest, builder_id: int) -> bool:
    """Whether the request comes from the builder `builder_id`, logged in."""
    return request.user.is_authenticated and request.user.pk == builder_id


def record_visit(
    request: HttpRequest,
    share: Share,
    kind: str,
    *,
    via_qr: bool = False,
    device_class: str | None = None,
) -> Visit:
    """Store one visit of `kind` (a `VisitKind`) now, with the browser's device class
    (`device_class` when the caller has it already, else `device_of`) and whether it is the
    builder's own. The caller has decided it is one (`note_view`, a tap)."""
    return Visit.objects.create(
        share=share,
        kind=kind,
        device_class=device_of(request) if device_class is None else device_class,
        by_builder=is_builders_own(request, share),
        via_qr=via_qr,
    )


def classify_page_view(last_seen: datetime | None, now: datetime) -> str | None:
    """First view is an open; a view 30 minutes or more after the previous one is a return."""
    if last_seen is None:
        return VisitKind.OPEN
    if now - last_seen >= timedelta(seconds=RETURN_AFTER_SECONDS):
        return VisitKind.RETURN
    return None


def _last_seen(request: HttpRequest) -> datetime | None:
    try:
        stamp = request.get_signed_cookie(SEEN_COOKIE, salt=SEEN_SALT)
        return datetime.fromtimestamp(int(stamp), tz=UTC)
    except (KeyError, ValueError, signing.BadSignature):
        return None


def _first_view_in_a_while(request: HttpRequest, share: Share, now: datetime) -> bool:
    """Whether this client's last view of this share, by the cache, is 30+ minutes old.

    Backs the cookie up: two requests racing from one page, or a browser that drops cookies,
    still make one open. The key is the hashed client and its User-Agent, never a raw IP."""
    key = f"seen:{share.pk}:{browser_key(request)}"
    stamp = now.timestamp()
    keep = 4 * RETURN_AFTER_SECONDS
    try:
        if cache.add(key, stamp, timeout=keep):  # atomic: the first of racing requests wins
            return True
        previous = cache.get(key)
        cache.set(key, stamp, timeout=keep)
    except Exception:  # no cache: the cookie alone decides
        return True
    return previous is None or stamp - previous >= RETURN_AFTER_SECONDS


def page_mark(request: HttpRequest, token: str) -> str:
    """The cache key that marks this browser (`browser_key`) as having loaded the page of the
    share whose token is `token` (only hashed: a token is a capability), for
    PAGE_MARK_SECONDS (`mark_page_loaded`)."""
    return _page_mark(token, browser_key(request))


def _page_mark(token: str, browser: str) -> str:
    return f"page:{hashlib.sha256(token.encode()).hexdigest()[:16]}:{browser}"


def mark_page_loaded(
    request: HttpRequest, response: HttpResponse, token: str, path: str, *, cached: bool
) -> None:
    """Note that this browser loaded the page of the share whose token is `token`, at `path`
    (a signed cookie on its pages, and the cache's `page_mark` for browsers without cookies,
    unless the caller has `cached` it already): only such a browser's tap on Open can count
    (`loaded_page`)."""
    set_share_cookie(request, response, path, PAGE_COOKIE, "1", PAGE_SALT)
    if cached:
        return
    try:
        cache.set(page_mark(request, token), 1, timeout=PAGE_MARK_SECONDS)
    except Exception:  # no cache: the cookie alone marks it
        return


def loaded_page(request: HttpRequest, share: Share) -> bool:
    """Whether this browser loaded the share's page before: the page's cookie or the seen
    cookie, or a cached page load or view from its hashed client and User-Agent. A link
    fetcher that requests /go/ straight away has none of them."""
    if _last_seen(request) is not None:
        return True
    try:
        request.get_signed_cookie(PAGE_COOKIE, salt=PAGE_SALT)
        return True
    except (KeyError, signing.BadSignature):
        pass
    browser = browser_key(request)
    try:
        marks = [_page_mark(share.token, browser), f"seen:{share.pk}:{browser}"]
        return bool(cache.get_many(marks))
    except Exception:  # no cache: without a cookie, nothing shows the page was loaded
        return False


def _view_kind(request: HttpRequest, share: Share, now: datetime) -> str | None:
    """The visit this view makes (`classify_page_view`, by the seen cookie, backed by the
    cache), or None."""
    kind = classify_page_view(_last_seen(request), now)
    return kind if _first_view_in_a_while(request, share, now) and kind is not None else None


def mark_seen(request: HttpRequest, share: Share, response: HttpResponse) -> None:
    """Set the seen cookie on `response`: this browser viewed the share now."""
    stamp = str(int(timezone.now().timestamp()))
    set_share_cookie(request, response, page_path(share), SEEN_COOKIE, stamp, SEEN_SALT)


def note_view(request: HttpRequest, share: Share, response: HttpResponse, *, via_qr: bool) -> None:
    """First view from this browser is an open; one 30+ minutes after the last, a return
    (`classify_page_view`, by its seen cookie, backed by the cache). Sets the seen cookie on
    `response`. The caller has checked that a person's browser confirmed the view."""
    kind = _view_kind(request, share, timezone.now())
    if kind is not None:
        record_visit(request, share, kind, via_qr=via_qr)
    mark_seen(request, share, response)


class LinkRemoved(Exception):
    """The link was deleted (`reactions.removal`) while a request was writing to it."""


def record_reaction(
    request: HttpRequest,
    share: Share,
    text: str,
    chip: str = "",
    idempotency_key: str = "",
    *,
    by_builder: bool | None = None,
    confirms_view: bool = False,
) -> tuple[Reaction, bool]:
    """The reaction, and whether it is new: a form posted again with its `idempotency_key`
    (a retry, a resend) gets the reaction it already made, even when both posts race.
    `by_builder`: whether it is the builder's own, when the request can't say by its session
    (a hosted preview's widget: its mark says, `reactions.widget`); None asks
    `is_builders_own`. `confirms_view`: a new reaction is also a view of the share's page
    (`note_view`'s rule: an open, or a return after 30 minutes), its visit written in the
    reaction's transaction; the caller then sets the seen cookie (`mark_seen`). Raises
    `LinkRemoved` when the builder deleted the link after the request found it."""
    device = device_of(request)
    fields = {
        "builder_id": share.recipient.builder_id,
        "text": text,
        "chip": chip,
        "device_class": device,
        "by_builder": is_builders_own(request, share) if by_builder is None else by_builder,
    }
    try:
        with transaction.atomic():  # one transaction for the reaction and its visit
            reaction = Reaction.objects.create(
                share=share, idempotency_key=idempotency_key, **fields
            )
            if confirms_view and (kind := _view_kind(request, share, reaction.created_at)):
                record_visit(request, share, kind, device_class=device)
            return reaction, True
    except IntegrityError:
        if not Share.objects.filter(pk=share.pk).exists():
            raise LinkRemoved from None  # deleted since the request found it
        if not idempotency_key:
            raise
        return Reaction.objects.get(share=share, idempotency_key=idempotency_key), False


def record_in_app(share: Share, *, taps: int, paths: list[str], seconds: int) -> InAppActivity:
    """Add what a hosted preview's script reported since its last beacon to the share's
    `InAppActivity`: `taps` more taps (the first one stamps `first_tap_at`), the `paths` not
    seen before (kept to IN_APP_PATHS_KEPT, first seen first), `seconds` more of visible
    time. The caller has checked the beacon (`reactions.widget.activity_of`) and that it is
    a person's and not the builder's own. Concurrent beacons of one share add up (the row
    is locked)."""
    now = timezone.now()
    with transaction.atomic():
        InAppActivity.objects.get_or_create(share=share)
        row = InAppActivity.objects.select_for_update().get(share=share)
        row.share = share  # as loaded: saving it replaces the link's versions with no query
        row.taps += taps
        if taps and row.first_tap_at is None:
            row.first_tap_at = now
        row.paths += [p for p in dict.fromkeys(paths) if p not in row.paths]
        row.paths = row.paths[:IN_APP_PATHS_KEPT]
        row.seconds += seconds
        row.updated_at = now
        row.save()
    return row
