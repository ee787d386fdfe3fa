"""Django's Redis cache with a circuit breaker, so a Redis that hangs costs one request a short
wait, not every request.

The socket timeouts (settings.REDIS_CACHE_OPTIONS) bound one call. A request makes several
(rate limits, the open-dedup key), and each would wait out its own timeout against a Redis
that accepts connections but never answers (a stopped process, a partitioned host). So the
first call that fails opens the breaker: for `COOL_OFF` seconds every call in this process
fails at once with `CacheUnavailable`, and callers take their fallbacks (the rate limits count
in process memory, the open-dedup trusts the cookie). The next call after the cool-off tries
Redis again ("half-open"), and a success closes the breaker. The pattern is Nygard's circuit
breaker ("Release It!", 2nd ed., ch. 5).
"""

import logging
import threading
import time
from collections.abc import Callable

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

log = logging.getLogger(__name__)

COOL_OFF = 5.0  # seconds a process stops asking Redis after a failed call
# What a hung, refused or restarting Redis raises through redis-py.
FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class CacheUnavailable(redis.exceptions.ConnectionError):
    """The breaker is open: Redis failed within the last COOL_OFF seconds."""


class Breaker:
    """Shared by every thread of a process for one Redis location."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.open_until = 0.0
        self._lock = threading.Lock()

    def check(self) -> None:
        if time.monotonic() < self.open_until:
            raise CacheUnavailable(f"{self.location} failed recently; not asking again yet")

    def trip(self, error: Exception) -> None:
        with self._lock:
            was_closed = time.monotonic() >= self.open_until
            self.open_until = time.monotonic() + COOL_OFF
        if was_closed:
            log.warning(
                "Cache %s failed (%s); skipping it for %s s", self.location, error, COOL_OFF
            )

    def reset(self) -> None:
        self.open_until = 0.0


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def reset_all() -> None:
    """Close every breaker (for tests, which break and mend caches on purpose)."""
    for breaker in _breakers.values():
        breaker.reset()


def breaker_for(location: str) -> Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, Breaker(location))


def _guarded(name: str) -> Callable:
    unguarded = getattr(RedisCacheClient, name)

    def call(self: "GuardedClient", *args, **kwargs):
        self.breaker.check()
        try:
            return unguarded(self, *args, **kwargs)
        except FAILURES as error:
            self.breaker.trip(error)
            raise

    call.__name__ = name
    return call


class GuardedClient(RedisCacheClient):
    """RedisCacheClient whose every operation passes the location's breaker first."""

    def __init__(self, servers, **options) -> None:
        super().__init__(servers, **options)
        self.breaker = breaker_for(",".join(servers))

    add = _guarded("add")
    get = _guarded("get")
    set = _guarded("set")
    touch = _guarded("touch")
    delete = _guarded("delete")
    get_many = _guarded("get_many")
    has_key = _guarded("has_key")
    incr = _guarded("incr")
    set_many = _guarded("set_many")
    delete_many = _guarded("delete_many")
    clear = _guarded("clear")


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, each call through the breaker."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = GuardedClient
