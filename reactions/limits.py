"""Rate limits on the recipient's side, per share and per client, kept in the cache (Redis in prod).

A client is its IP address hashed with a secret that changes every UTC day: counters can tell
two clients apart for a day, and nothing anywhere holds the raw address.
"""

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


REACTIONS_PER_SHARE = Limit("reactions-share", 20, 3600)
REACTIONS_PER_CLIENT = Limit("reactions-client", 30, 3600)
BEACONS_PER_SHARE = Limit("beacons-share", 60, 60)
BEACONS_PER_CLIENT = Limit("beacons-client", 120, 60)
UNKNOWN_TOKENS_PER_CLIENT = Limit("unknown-tokens", 30, 600)


def client_ip(request: HttpRequest) -> str:
    if settings.OUTERLOOP_BEHIND_PROXY:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the hop our own proxy added
    return request.META.get("REMOTE_ADDR", "")


def client_id(request: HttpRequest) -> str:
    """The client's IP, hashed with today's secret; never stored or logged raw."""
    day = datetime.now(UTC).date().isoformat()
    daily_secret = hmac.new(settings.SECRET_KEY.encode(), day.encode(), hashlib.sha256).digest()
    return hmac.new(daily_secret, client_ip(request).encode(), hashlib.sha256).hexdigest()[:32]


def allow(limit: Limit, key: str) -> bool:
    """Count one hit in the current window; False once the window is full."""
    window = int(time.time() // limit.seconds)
    cache_key = f"rl:{limit.name}:{key}:{window}"
    try:
        cache.add(cache_key, 0, timeout=limit.seconds + 5)
        return cache.incr(cache_key) <= limit.count
    except Exception:  # the cache is down: serve the recipient rather than fail them
        log.warning("Rate-limit cache unavailable; allowing %s", limit.name, exc_info=True)
        return True


def allow_both(request: HttpRequest, share_key: str, per_share: Limit, per_client: Limit) -> bool:
    """One hit against a share's limit and the client's; False when either is full."""
    share_ok = allow(per_share, share_key)
    client_ok = allow(per_client, client_id(request))
    return share_ok and client_ok
