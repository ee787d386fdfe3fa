"""Live watch: what changed on a set of shares, cheaply enough to ask every two seconds.

A builder's page polls itself with htmx (one poll per page, `templates/_live.html`); each
answer carries an ETag stamped from everything about those shares that the page can show,
and a poll after anything happened gets every part of the page that shows it, at once.

A poll when nothing happened touches no database: `UnchangedPollMiddleware` answers it with
an empty 304 from a memo in the cache, written by the last poll this session made of this
page (stamp, change versions read before the stamp's queries, the moment the page changes by
the clock alone). The memo holds while every version is still the cache's
(`common.changes`: every writer replaces them on commit). Anything else (a version replaced,
the moment passed, no memo, the cache down or off) goes to the view: three small aggregate
queries, the owner check, and a fresh memo.

The page never stops polling: it asks every POLL_SECONDS while something is live (a preview
still open, or an event in the last QUIET_AFTER) and every IDLE_POLL_SECONDS otherwise, so a
late reaction to yesterday's link still reaches a page left open.
"""

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.messages import get_messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.http import quote_etag

from common import changes
from common.cache import REFUSALS
from reactions.models import Reaction, Share, Visit
from sessions.models import expired_by

# Poll fast while a preview is live, and for this long after its last event.
QUIET_AFTER = timedelta(minutes=10)
POLL_SECONDS = 2
# Then slowly, for as long as the page is open: nothing a page shows may be missed.
IDLE_POLL_SECONDS = 30
# A memo of "nothing new" lasts this long at most, whatever else holds: what bounds a change
# lost with a cache that failed in a process that then ended (common.changes).
MEMO_SECONDS = 300
MEMO_LIFETIME = timedelta(seconds=MEMO_SECONDS)
# How many memos a process keeps a copy of (`_memos_here`).
MEMOS_HERE = 10_000
# Every zone's offset from UTC is a whole number of quarter hours (IANA tz database since
# 1972), and a builder's day starts on an hour: their day can only turn on one of these.
CLOCK_STEP = timedelta(minutes=15)
# A page's render is reused (`Kept`) for this long at most: how far "3 minutes ago" can lag
# on a reload, and anything else that moves with the clock alone and no stamp sees.
KEPT_SECONDS = 60


@dataclass(frozen=True)
class Pulse:
    etag: str  # unquoted; `watch_response` quotes it
    watching: bool  # something is live: poll every POLL_SECONDS
    # Change versions read before the stamp (common.changes.current); None: not kept.
    versions: dict[str, str] | None = None
    # The stamp holds, if nothing is written, until this moment: a preview expiring, a link
    # crossing the waiting window, the quiet after the last event, a quarter hour.
    until: datetime | None = None

    @property
    def poll_seconds(self) -> int:
        """How long the page waits before it asks again."""
        return POLL_SECONDS if self.watching else IDLE_POLL_SECONDS


def pulse(
    shares: QuerySet[Share],
    *,
    reactions: QuerySet[Reaction] | None = None,
    changes_at: datetime | None = None,
    key: str = "",
    now: datetime | None = None,
    versions: Iterable[str] = (),
    seen: dict[str, str] | None = None,
) -> Pulse:
    """The state of these shares as a page shows it, in three aggregate queries.

    `shares`: the shares the page shows (e.g. `Share.objects.owned_by(builder)`);
    `reactions`: their reactions, when the caller has a cheaper way to name them (the
    builder's own index) than "reactions to these shares";
    `changes_at`: shares sent before this moment read differently from those sent after
    it (the streak's 48-hour waiting window), so one crossing it changes the stamp;
    `key`: anything else the page shows that changes it (the builder's day, rest days);
    `versions`: the change versions (`common.changes` keys) every writer of what the page
    shows replaces, read first, so that an unchanged poll is answered from them alone;
    `seen`: those versions, when the caller read them already, before any row (`Kept`).

    The stamp changes with: a link sent or deleted, moved to another person or session, its
    person marked as someone the builder lives with, its preview expiring, a fresh link asked
    for, a renewal taking it over; a visit; a reaction made, deleted, or marked as (not)
    counting; a beacon of in-app activity from a hosted preview (`InAppActivity.updated_at`).
    It does not see a rename (no row records when one happened), but a rename replaces the
    versions, so the next poll asks the database again and shows it.
    """
    now = now or timezone.now()
    if seen is None and versions:
        seen = changes.current(versions)  # before the rows, never after
    crossing = (
        {}
        if changes_at is None
        else {
            "recent": Count("pk", filter=Q(sent_at__gte=changes_at)),
            "next_crossing": Min("sent_at", filter=Q(sent_at__gte=changes_at)),
        }
    )
    links = shares.order_by().aggregate(
        **crossing,
        next_expiry=Min("preview__expires_at", filter=~expired_by(now, via="preview__")),
        n=Count("pk"),
        top=Max("pk"),
        people=Sum("recipient_id"),
        sessions=Sum("preview__session_id"),
        housemates=Count("pk", filter=Q(recipient__lives_with=True)),
        expired=Count("pk", filter=expired_by(now, via="preview__")),
        fresh=Max("fresh_link_requested_at"),
        asked=Count("fresh_link_requested_at"),
        renewed=Sum("replaced_by_id"),
        # One row per share at most (one-to-one): joined without multiplying the counts.
        in_app=Max("in_app__updated_at"),
    )
    visits = Visit.objects.filter(share__in=shares.values("pk")).aggregate(
        top=Max("pk"), n=Count("pk"), last=Max("at")
    )
    if reactions is None:
        reactions = Reaction.objects.filter(share__in=shares.values("pk"))
    said = reactions.order_by().aggregate(
        top=Max("pk"),
        n=Count("pk"),
        last=Max("created_at"),
        set_aside=Count("pk", filter=Q(counts=False)),
        set_aside_ids=Sum("pk", filter=Q(counts=False)),
    )
    events = (visits["last"], said["last"], links["in_app"])
    last_event = max((t for t in events if t), default=None)
    some_link_live = links["expired"] < links["n"]
    watching = some_link_live or (last_event is not None and now - last_event < QUIET_AFTER)
    # When the clock alone changes what the page shows; not part of the stamp.
    turns = [links.pop("next_expiry"), _next_step(now)]
    if changes_at is not None and (first := links.pop("next_crossing")):
        turns.append(first + (now - changes_at))
    if last_event is not None and last_event + QUIET_AFTER > now:
        turns.append(last_event + QUIET_AFTER)
    stamp = repr((sorted(links.items()), sorted(visits.items()), sorted(said.items()), watching))
    etag = hashlib.sha256(f"{stamp}|{key}".encode()).hexdigest()[:20]
    return Pulse(etag=etag, watching=watching, versions=seen, until=min(t for t in turns if t))


def _next_step(now: datetime) -> datetime:
    """The first quarter hour (CLOCK_STEP) after `now`."""
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    return start + CLOCK_STEP


def builders_pulse(builder, **stamp) -> Pulse:
    """`pulse` over every link of the builder's (and their reactions, through the builder's
    own index): the stamp of a page that shows something about any of them. `stamp`: the
    rest of `pulse`'s keywords."""
    return pulse(
        Share.objects.owned_by(builder),
        reactions=Reaction.objects.owned_by(builder),
        versions=(changes.builder_key(builder.pk),),
        **stamp,
    )


def watch_response(
    request: HttpRequest, live: Pulse, render_parts: Callable[[], HttpResponse]
) -> HttpResponse:
    """Answer a page's poll: an empty 304 when its If-None-Match is the current stamp, else
    `render_parts()` (the page's changing parts), with the stamp as the ETag either way; and
    leave the memo that lets the next unchanged poll skip the view (`unchanged_poll`)."""
    etag = quote_etag(live.etag)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = render_parts()
    _remember(request, live, etag)
    return _stamped(response, etag)


def _stamped(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _memo_key(session_key: str, request: HttpRequest) -> str:
    """One memo per session, page (path and query: the habit page's open day) and htmx
    target; the session key only hashed, so the cache never holds one readable."""
    page = f"{session_key}|{request.get_full_path()}|{request.headers.get('HX-Target', '')}"
    return "live:poll:" + hashlib.sha256(page.encode()).hexdigest()[:40]


def _remember(request: HttpRequest, live: Pulse, etag: str) -> None:
    """Leave the memo of this poll's answer for its session, once the view has checked the
    builder and that the page is theirs: the stamp, its versions, and until when it holds
    (the pulse's moment, the session's expiry, MEMO_SECONDS)."""
    session_key = request.session.session_key
    if live.versions is None or live.until is None or not session_key:
        return
    until = min(live.until, request.session.get_expiry_date(), timezone.now() + MEMO_LIFETIME)
    memo = {"etag": etag, "versions": live.versions, "until": until.timestamp()}
    key = _memo_key(session_key, request)
    _memos_here.keep(key, memo)
    with contextlib.suppress(REFUSALS):  # then the next poll asks the database again
        cache.set(key, memo, MEMO_SECONDS)


class Here(dict):
    """A process's own copy of what it read from the shared cache, at most `most` entries:
    all forgotten at once when it is full (crude, and rare: a worker is asked for far
    fewer)."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most

    def keep(self, key, value) -> None:
        if len(self) >= self.most:
            self.clear()
        self[key] = value


# This process's own copy of the memos it wrote or read (the last MEMOS_HERE), so that a
# poll landing on the same worker again costs one cache read (the versions), not two. A
# copy is never trusted more than the shared one: it holds only while its versions do.
_memos_here = Here(MEMOS_HERE)


def unchanged_poll(request: HttpRequest) -> HttpResponse | None:
    """An empty 304 for a live page's poll (htmx GET with If-None-Match) when this
    session's memo of the page says nothing changed: same stamp, every version unreplaced,
    its moment not passed. One cache read (two when the memo was written by another
    process, and not read here before), no database and no session store; None
    otherwise (the view answers). The session is trusted from the memo: only the view, after
    the login and owner checks, writes one, and a logout, a password change or anything
    else about the builder replaces their versions (common.changes)."""
    etag = request.headers.get("If-None-Match")
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not (
        etag
        and session_key
        and request.method == "GET"
        and request.headers.get("HX-Request") == "true"
        and changes.enabled()
    ):
        return None
    key = _memo_key(session_key, request)
    try:
        memo = _memos_here.get(key)
        if memo is None and (memo := cache.get(key)):
            _memos_here.keep(key, memo)
        if not (
            memo
            and memo["etag"] == etag
            and time.time() < memo["until"]
            and changes.unchanged(memo["versions"])
        ):
            return None
    except REFUSALS:  # away, or refusing the owed write: the view answers
        return None
    response = HttpResponseNotModified()
    # The view's headers (`_stamped`), and Cookie as its answer varies on the session.
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache, private"
    response["Vary"] = "HX-Request, Cookie"
    return response


class UnchangedPollMiddleware:
    """Answers an unchanged poll (`unchanged_poll`) before the user is loaded; every other
    request goes on. Sits after CommonMiddleware (the Host is checked first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return unchanged_poll(request) or self.get_response(request)


@dataclass(frozen=True)
class Kept:
    """Where a page keeps its last render (a builder's page, `live_page`; the recipient's
    page, `reactions.kept_link`), and that render while it still holds.

    A render is kept with the change versions read before anything else on the load that
    made it: a writer of anything the page shows replaces one (`common.changes`), so a render
    is used only while its versions are still the cache's. It also holds only until `until`:
    the page's moment (a builder's: a preview expiring, a link crossing the waiting window,
    the quarter hour, `Pulse.until`; the recipient's: its preview expiring), KEPT_SECONDS at
    most. What differs per answer is never kept (`placeholder`): the CSRF token, the CSP
    nonce, a form's idempotency key.
    """

    key: str | None  # None: nothing is kept (no shared cache, it failed, not a page load)
    versions: dict[str, str] | None = None  # read before the page's rows
    html: str | None = None  # the render found, still good; None: render the page
    facts: dict | None = None  # what the answer needs beside the render (kept with it)
    # More moments the render changes by the clock alone, as its template names them while
    # it renders (`{% kept_until %}`, outerloop_tags).
    moments: list[datetime | None] = field(default_factory=list)
    # Set as the page starts to render (`holding_until`): when, and until when it holds.
    rendered_at: datetime | None = None
    until: datetime | None = None

    def holding_until(self, moment: datetime | None) -> "Kept":
        """This, as a render starts now: it holds until `moment` (None: no moment of its
        own), KEPT_SECONDS at most."""
        now = timezone.now()
        latest = now + timedelta(seconds=KEPT_SECONDS)
        until = min(t for t in (moment, latest) if t)
        return dataclasses.replace(self, rendered_at=now, until=until)

    def keep(self, html: str, facts: dict | None = None) -> None:
        """Keep `html` (rendered with `placeholder`s for what differs per answer), and the
        answer's `facts`, until `self.until` or the first of `self.moments` after the render
        started (what else the page shows by the clock); not at all once that moment has
        passed, during the render too."""
        if self.key is None or self.rendered_at is None:
            return
        moments = [t for t in (self.until, *self.moments) if t and t > self.rendered_at]
        now = timezone.now()
        until = min(moments, default=now)
        if until <= now:
            return
        seconds = max(1, min(KEPT_SECONDS, int((until - now).total_seconds())))
        kept = {"versions": self.versions, "html": html, "until": until.timestamp()}
        if facts is not None:
            kept["facts"] = facts
        with contextlib.suppress(REFUSALS):  # then the next load renders it again
            cache.set(self.key, kept, seconds)


NOT_KEPT = Kept(key=None)


def kept_render(request: HttpRequest, version_keys: Iterable[str]) -> Kept:
    """The page's `Kept` for a full page load (a GET, not htmx, with no query: a query would
    make a render to keep for each, and no message waiting to be shown once) of a builder's
    page whose writers replace `version_keys` (one of them the builder's own): with the render
    kept earlier when it still holds. One cache read, the versions and the render together;
    nothing kept when the versions are off or the cache fails (the page renders as always)."""
    query = request.META.get("QUERY_STRING")
    if request.method != "GET" or request.htmx or query or len(get_messages(request)):
        return NOT_KEPT
    version_keys = list(version_keys)
    key = kept_key(request.path, sorted(version_keys))
    versions, found = changes.current_and(version_keys, key)
    return kept_under(key, versions, found)


def kept_key(*names: object) -> str:
    """Where the cache keeps the render of the page `names` pick: under a hash (a recipient's
    page is named by its token, a capability), with the placeholders' digest, so a render
    made under another SECRET_KEY (whose placeholders this process would not replace) is
    never found, and the static files' manifest digest, so a release whose files changed
    never serves a render naming the old ones."""
    release = getattr(staticfiles_storage, "manifest_hash", "")
    named = repr((*names, placeholder(), release))
    return "live:page:" + hashlib.sha256(named.encode()).hexdigest()[:40]


def kept_under(key: str, versions: dict[str, str] | None, found: object) -> Kept:
    """The `Kept` at `key` for a load that read `versions` (None: the cache failed, nothing is
    kept) and found `found` there: with its render while that was kept under the same
    versions and its moment has not passed."""
    if versions is None:
        return NOT_KEPT
    if (
        isinstance(found, dict)
        and found.get("versions") == versions
        and time.time() < found.get("until", 0)
    ):
        return Kept(key=key, versions=versions, html=found["html"], facts=found.get("facts"))
    return Kept(key=key, versions=versions)


def placeholder(what: str = "csrf") -> str:
    """What stands for `what` (the CSRF token, by default) in a kept render; each answer puts
    its own in its place. Derived from SECRET_KEY, so nothing a person writes on the page
    can be it."""
    return _placeholder(what, settings.SECRET_KEY)


@lru_cache(maxsize=16)
def _placeholder(what: str, secret: str) -> str:
    return what + salted_hmac("outerloop.kept-page", what, secret=secret).hexdigest()[:32]


def filled(html: str, request: HttpRequest, **values: str) -> str:
    """`html`, rendered with `placeholder`s, with this answer's CSP nonce in
    `placeholder("nonce")` and each of `values` in `placeholder(name)`."""
    html = html.replace(placeholder("nonce"), str(request.csp_nonce))
    for what, value in values.items():
        html = html.replace(placeholder(what), value)
    return html


def kept_response(request: HttpRequest, kept: Kept) -> HttpResponse:
    """The page from `kept.html`: no pulse, no context and no template."""
    response = HttpResponse(_answered(request, kept.html))
    patch_vary_headers(response, ["HX-Request"])
    return response


def _answered(request: HttpRequest, html: str) -> str:
    """A builder's page rendered with `placeholder`s, `filled` with this answer's CSRF token
    (the CSRF cookie set as any render sets it) too."""
    return filled(html, request, csrf=str(get_token(request)))


def live_page(
    request: HttpRequest,
    template: str,
    live: Pulse,
    parts: Callable[[], dict],
    page: Callable[[], dict] | None = None,
    *,
    status: int = 200,
    kept: Kept = NOT_KEPT,
) -> HttpResponse:
    """A builder's page that keeps itself up to date (`templates/_live.html`). Its poll (an
    htmx GET) is answered by `watch_response` with the template's `live` partial rendered
    from `parts()`; any other request gets the whole `template` from `page()` (`parts()` when
    the page needs nothing more) with `status`, kept whole in `kept` (from `kept_render`)
    until `live` changes or a moment its template names (`{% kept_until %}`). Both answers
    vary on HX-Request, so a cache never hands the partial to a full load. The context
    functions run only when rendered."""
    if request.htmx and request.method == "GET":
        return watch_response(request, live, lambda: render(request, f"{template}#live", parts()))
    context = (page or parts)()
    if kept.key is None or status != 200:
        response = render(request, template, context, status=status)
    else:  # rendered with placeholders, kept, and answered as a kept render is
        kept = context["kept"] = kept.holding_until(live.until)
        context.update(csrf_token=placeholder(), csp_nonce=placeholder("nonce"))
        html = render_to_string(template, context, request)
        kept.keep(html)
        response = HttpResponse(_answered(request, html))
    patch_vary_headers(response, ["HX-Request"])
    return response
