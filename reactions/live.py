"""Live watch: what changed on a set of shares, cheaply enough to ask every two seconds.

Pages poll with htmx; each answer carries an ETag built from the newest visit and reaction,
so a poll when nothing happened costs two small aggregate queries and a 304.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import quote_etag

from reactions.models import Reaction, Share, Visit

# Keep watching while a preview is live, and for this long after its last event.
QUIET_AFTER = timedelta(minutes=10)
POLL_SECONDS = 2


@dataclass(frozen=True)
class Pulse:
    etag: str
    watching: bool


def pulse(shares: QuerySet[Share], *, live_until: datetime | None, key: str = "") -> Pulse:
    """The state of these shares' activity. `live_until`: the latest expiry among them;
    `key`: anything else the watched page shows that changes it (the dashboard's day)."""
    visits = Visit.objects.filter(share__in=shares).aggregate(top=Max("id"), last=Max("at"))
    reactions = Reaction.objects.filter(share__in=shares).aggregate(
        top=Max("id"),
        last=Max("created_at"),
        counting=Count("id", filter=Q(counts=True)),
    )
    fresh = shares.aggregate(fresh=Max("fresh_link_requested_at"), n=Count("id"))
    now = timezone.now()
    last_event = max((t for t in (visits["last"], reactions["last"]) if t), default=None)
    watching = (live_until is not None and now < live_until) or (
        last_event is not None and now - last_event < QUIET_AFTER
    )
    stamp = (
        f"{visits['top']}:{reactions['top']}:{reactions['counting']}:"
        f"{fresh['fresh']}:{fresh['n']}:{watching}:{key}"
    )
    return Pulse(etag=hashlib.sha256(stamp.encode()).hexdigest()[:20], watching=watching)


def watch_response(request: HttpRequest, live: Pulse, render_partial) -> HttpResponse:
    """Answer an htmx poll: 304 when nothing changed, else the fresh partial with its ETag."""
    etag = quote_etag(live.etag)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = render_partial()
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["HX-Request"])
    return response
