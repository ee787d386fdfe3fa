"""Live watch: what changed on a set of shares, cheaply enough to ask every two seconds.

A builder's page polls itself with htmx (one poll per page, `templates/_live.html`); each
answer carries an ETag stamped from everything about those shares that the page can show,
so a poll when nothing happened costs three small aggregate queries and an empty 304, and
a poll after anything happened gets every part of the page that shows it, at once.

The page never stops polling: it asks every POLL_SECONDS while something is live (a preview
still open, or an event in the last QUIET_AFTER) and every IDLE_POLL_SECONDS otherwise, so a
late reaction to yesterday's link still reaches a page left open.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import quote_etag

from reactions.models import Reaction, Share, Visit
from sessions.models import expired_by

# Poll fast while a preview is live, and for this long after its last event.
QUIET_AFTER = timedelta(minutes=10)
POLL_SECONDS = 2
# Then slowly, for as long as the page is open: nothing a page shows may be missed.
IDLE_POLL_SECONDS = 30


@dataclass(frozen=True)
class Pulse:
    etag: str  # unquoted; `watch_response` quotes it
    watching: bool  # something is live: poll every POLL_SECONDS

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
) -> Pulse:
    """The state of these shares as a page shows it, in three aggregate queries.

    `shares`: the shares the page shows (e.g. `Share.objects.owned_by(builder)`);
    `reactions`: their reactions, when the caller has a cheaper way to name them (the
    builder's own index) than "reactions to these shares";
    `changes_at`: shares sent before this moment read differently from those sent after
    it (the streak's 48-hour waiting window), so one crossing it changes the stamp;
    `key`: anything else the page shows that changes it (the builder's day, rest days).

    The stamp changes with: a link sent or deleted, moved to another person or session, its
    person marked as someone the builder lives with, its preview expiring, a fresh link asked
    for, a renewal taking it over; a visit; a reaction made, deleted, or marked as (not)
    counting; a beacon of in-app activity from a hosted preview (`InAppActivity.updated_at`).
    It does not see a rename (no row records when one happened): the next change, or a
    reload, shows it.
    """
    now = now or timezone.now()
    crossing = (
        {} if changes_at is None else {"recent": Count("pk", filter=Q(sent_at__gte=changes_at))}
    )
    links = shares.order_by().aggregate(
        **crossing,
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
    stamp = repr((sorted(links.items()), sorted(visits.items()), sorted(said.items()), watching))
    etag = hashlib.sha256(f"{stamp}|{key}".encode()).hexdigest()[:20]
    return Pulse(etag=etag, watching=watching)


def builders_pulse(builder, **stamp) -> Pulse:
    """`pulse` over every link of the builder's (and their reactions, through the builder's
    own index): the stamp of a page that shows something about any of them. `stamp`: the
    rest of `pulse`'s keywords."""
    return pulse(
        Share.objects.owned_by(builder), reactions=Reaction.objects.owned_by(builder), **stamp
    )


def watch_response(
    request: HttpRequest, live: Pulse, render_parts: Callable[[], HttpResponse]
) -> HttpResponse:
    """Answer a page's poll: an empty 304 when its If-None-Match is the current stamp, else
    `render_parts()` (the page's changing parts), with the stamp as the ETag either way."""
    etag = quote_etag(live.etag)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = render_parts()
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["HX-Request"])
    return response


def live_page(
    request: HttpRequest,
    template: str,
    live: Pulse,
    parts: Callable[[], dict],
    page: Callable[[], dict] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """A builder's page that keeps itself up to date (`templates/_live.html`). Its poll (an
    htmx GET) is answered by `watch_response` with the template's `live` partial rendered
    from `parts()`; any other request gets the whole `template` from `page()` (`parts()` when
    the page needs nothing more) with `status`. Both answers vary on HX-Request, so a cache
    never hands the partial to a full load. The context functions run only when rendered."""
    if request.htmx and request.method == "GET":
        return watch_response(request, live, lambda: render(request, f"{template}#live", parts()))
    response = render(request, template, (page or parts)(), status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
