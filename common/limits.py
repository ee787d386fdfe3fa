"""Rate limits: fixed windows per share, per client, per account, kept in the cache (Redis in
prod), and in this process's memory while the cache is down.

A client is its IP address hashed with a secret that changes every UTC day: counters can tell
two clients apart for a day, and nothing anywhere holds the raw address.
"""

import hashlib
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per fixed window of `seconds`, counted under `name`."""

    name: str
    count: int
    seconds: int


def client_ip(request: HttpRequest) -> str:
    if settings.OUTERLOOP_BEHIND_PROXY:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the hop our own proxy added
    return request.META.get("REMOTE_ADDR", "")


def hashed(value: str) -> str:
    """`value` (an IP, an email address) hashed with today's secret: a counter's key that
    tells two values apart for a day and never holds the value itself."""
    day = datetime.now(UTC).date().isoformat()
    daily_secret = hmac.new(settings.SECRET_KEY.encode(), day.encode(), hashlib.sha256).digest()
    return hmac.new(daily_secret, value.encode(), hashlib.sha256).hexdigest()[:32]


def client_network(ip: str) -> str:
    """What one client is: its IPv4 address, or its IPv6 /64. One subscriber or device gets a
    whole /64 (RFC 6177 and common ISP practice), so counting single IPv6 addresses would let
    a client start afresh from each of its 2^64 addresses."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def client_id(request: HttpRequest) -> str:
    """The client (its IPv4 address or IPv6 /64), hashed with today's secret; never stored or
    logged raw."""
    return hashed(client_network(client_ip(request)))


def retry_after(limit: Limit) -> int:
    """Seconds until `limit`'s current window ends (for a Retry-After header)."""
    return limit.seconds - int(time.time()) % limit.seconds


# Counters for when the cache is down: this process's own, so the limits still hold (per
# process rather than across them) instead of failing open while Redis is away.
_local = LocMemCache("outerloop-rate-limits", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def forget_local_counts() -> None:
    """Drop this process's own counters (for tests)."""
    _local.clear()


def _window_key(limit: Limit, key: str) -> str:
    return f"rl:{limit.name}:{key}:{int(time.time() // limit.seconds)}"


def hits(counted: list[tuple[Limit, str]]) -> list[int]:
    """Count one hit on each (limit, key) in its current window: each window's count, this hit
    included, in the order given. On Redis one round trip counts them all
    (`common.cache.RedisCache.count_hits`); another cache counts each with add and incr.
    While the cache is down, this process counts them instead."""
    cache_keys = [_window_key(limit, key) for limit, key in counted]
    timeouts = [limit.seconds + 5 for limit, _ in counted]
    try:
        count_hits = getattr(cache, "count_hits", None)
        if count_hits is not None:
            return count_hits(cache_keys, timeouts)
        counts = []
        for cache_key, timeout in zip(cache_keys, timeouts, strict=True):
            cache.add(cache_key, 0, timeout=timeout)
            counts.append(cache.incr(cache_key))
        return counts
    except Exception as error:  # the cache is down: count in this process instead
        # (the cache's breaker has logged the outage once; this is per request)
        log.debug("Rate-limit cache unavailable (%s); counting locally", error)
    counts = []
    for cache_key, timeout in zip(cache_keys, timeouts, strict=True):
        _local.add(cache_key, 0, timeout=timeout)
        counts.append(_local.incr(cache_key))
    return counts


def hit(limit: Limit, key: str) -> int:
    """Count one hit in the current window; the window's count, this hit included."""
    return hits([(limit, key)])[0]


def count(limit: Limit, key: str) -> int:
    """The current window's count, without adding to it."""
    cache_key = _window_key(limit, key)
    try:
        return max(int(cache.get(cache_key) or 0), int(_local.get(cache_key) or 0))
    except Exception:
        return int(_local.get(cache_key) or 0)


def forget(limit: Limit, key: str) -> None:
    """Start the current window's count over (cache and this process's own)."""
    cache_key = _window_key(limit, key)
    _local.delete(cache_key)
    try:
        cache.delete(cache_key)
    except Exception as error:
        log.debug("Rate-limit cache unavailable (%s); could not reset %s", error, limit.name)


def allow(limit: Limit, key: str) -> bool:
    """Count one hit in the current window; False once the window is full."""
    return hit(limit, key) <= limit.count


def exhausted(limit: Limit, key: str) -> bool:
    """Whether the window is already full (nothing is counted)."""
    return count(limit, key) >= limit.count


def allow_both(request: HttpRequest, share_key: str, per_share: Limit, per_client: Limit) -> bool:
    """One hit against a share's limit and the client's (both counted, one round trip);
    False when either is full."""
    share_count, client_count = hits([(per_share, share_key), (per_client, client_id(request))])
    return share_count <= per_share.count and client_count <= per_client.count
