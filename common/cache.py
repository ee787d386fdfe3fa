"""Django's Redis cache behind a circuit breaker (common.breaker), so a Redis that hangs
costs one request a short wait, not every request.

The socket timeouts (settings.REDIS_CACHE_OPTIONS) bound one call. A request makes several
(rate limits, the open-dedup key), and each would wait out its own timeout against a Redis
that accepts connections but never answers. So the first call that fails opens the breaker,
and until it closes every call fails at once with `CacheUnavailable`: callers take their
fallbacks (the rate limits count in process memory, the open-dedup trusts the cookie).
"""

import re
from collections.abc import Callable

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

from common.breaker import breaker

# What a hung, refused or restarting Redis raises through redis-py.
FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class CacheUnavailable(redis.exceptions.ConnectionError):
    """The breaker is open: Redis failed a moment ago."""


def _guarded(name: str) -> Callable:
    return _guard(getattr(RedisCacheClient, name))


def _delete_matching(client: RedisCacheClient, pattern: str) -> int:
    """Delete the keys matching a Redis glob `pattern`; how many there were."""
    redis_client = client.get_client(write=True)
    deleted, batch = 0, []
    for key in redis_client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) == 1000:
            deleted += redis_client.delete(*batch)
            batch = []
    if batch:
        deleted += redis_client.delete(*batch)
    return deleted


def _guard(unguarded: Callable) -> Callable:
    name = unguarded.__name__

    def call(self: "GuardedClient", *args, **kwargs):
        if self.breaker.is_open():
            raise CacheUnavailable(f"{self.breaker.name} failed recently; not asking yet")
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
        self.breaker = breaker(cache_name(servers))

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
    delete_matching = _guard(_delete_matching)


def cache_name(servers: list[str]) -> str:
    """The breaker's name for the cache at these locations."""
    return "Cache " + ",".join(servers)


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, each call through the breaker."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = GuardedClient

    def clear(self) -> None:
        """Delete this cache's keys: those under its KEY_PREFIX, any version (Django's keys
        are `<prefix>:<version>:<key>`). Django's own clear() flushes the whole Redis
        database, and with it the broker's queue or another instance's cache that share it."""
        prefix = re.sub(r"([\\*?\[\]])", r"\\\1", self.key_prefix)
        self._cache.delete_matching(f"{prefix}:[0-9]*")
