"""Django's Redis cache behind a circuit breaker (common.breaker), so a Redis that hangs
costs one request a short wait, not every request.

The socket timeouts (settings.REDIS_CACHE_OPTIONS) bound one call. A request makes several
(rate limits, the open-dedup key), and each would wait out its own timeout against a Redis
that accepts connections but never answers. So the first call that fails opens the breaker,
and until it closes every call fails at once with `CacheUnavailable`: callers take their
fallbacks (the rate limits count in process memory, the open-dedup trusts the cookie).

Two things Django's client does per call are done once here: it builds a `redis.Redis` for
every operation (a tenth of a millisecond each, `make profile`), where one per connection
pool serves every call and thread; and the rate limits' counters are counted in one round
trip (`RedisCache.count_hits`, a Lua script) instead of three commands per counter. Reads
and the writes a request makes beside them go in one round trip too
(`RedisCache.get_many_setting`, a Lua script).
"""

import re
from collections.abc import Callable

import redis
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

from common.breaker import breaker

# What a hung, refused or restarting Redis raises through redis-py.
FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
# Those, and a write Redis refuses (a full memory under `noeviction`, a read-only replica):
# what a write that only saves work later (a kept render) gives up on.
REFUSALS = (redis.exceptions.RedisError, OSError)


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


# Adds one to each of KEYS and returns their new counts; a key it creates gets its window's
# expiry (ARGV, seconds, in the order of KEYS). Atomic: Redis runs a script as one command.
COUNT_HITS = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""


def _count_hits(client: RedisCacheClient, keys: list[str], timeouts: list[int]) -> list[int]:
    """Add one to each counter in `keys` (made keys), each created with its `timeouts`
    (seconds): their counts, this hit included, in one round trip."""
    redis_client = client.get_client(write=True)
    if client._count_hits_script is None:
        client._count_hits_script = redis_client.register_script(COUNT_HITS)
    counts = client._count_hits_script(keys=keys, args=timeouts, client=redis_client)
    return [int(n) for n in counts]


# Sets each key after the first ARGV[1] of KEYS to its value (ARGV[3], ARGV[4], …) for ARGV[2]
# seconds, and returns the values of those first keys: one command, so one round trip, and
# cheaper for redis-py than a pipeline of the same commands (measured: the bench's machine
# answered 0.68 of its bare view's rate with this, 0.55 with a pipeline).
GET_MANY_SETTING = """
local reads = tonumber(ARGV[1])
for i = reads + 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i - reads + 2], 'EX', ARGV[2])
end
return redis.call('MGET', unpack(KEYS, 1, reads))
"""


def _get_many_setting(
    client: RedisCacheClient, keys: list[str], values: dict[str, object], timeout: int
) -> dict[str, object]:
    """`get_many(keys)`, and `set` each of `values` for `timeout` seconds, in one round trip
    (a Lua script)."""
    redis_client = client.get_client(write=True)
    if client._get_many_setting_script is None:
        client._get_many_setting_script = redis_client.register_script(GET_MANY_SETTING)
    dumps, loads = client._serializer.dumps, client._serializer.loads
    found = client._get_many_setting_script(
        keys=[*keys, *values],
        args=[len(keys), timeout, *(dumps(value) for value in values.values())],
        client=redis_client,
    )
    return {k: loads(v) for k, v in zip(keys, found, strict=True) if v is not None}


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
        self._clients: dict[int, redis.Redis] = {}
        self._count_hits_script = None
        self._get_many_setting_script = None

    def get_client(self, key=None, *, write: bool = False) -> redis.Redis:
        """The client of the pool Django picks (`write`: the primary), made once per pool:
        a `redis.Redis` is thread-safe and holds nothing but its pool."""
        pool = self._get_connection_pool(write)  # kept for the process: its id stays its own
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

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
    count_hits = _guard(_count_hits)
    get_many_setting = _guard(_get_many_setting)


def cache_name(servers: list[str]) -> str:
    """The breaker's name for the cache at these locations."""
    return "Cache " + ",".join(servers)


def get_many_setting(
    cache: BaseCache, keys: list[str], values: dict[str, object], timeout: int
) -> dict[str, object]:
    """`cache.get_many(keys)`, then `cache.set_many(values, timeout)`: in one round trip on
    a `RedisCache`, one after the other on any other cache (the suite's in-memory one)."""
    one_round_trip = getattr(cache, "get_many_setting", None)  # (`cache` may be Django's proxy)
    if not values:
        return cache.get_many(keys)
    if one_round_trip is not None:
        return one_round_trip(keys, values, timeout)
    found = cache.get_many(keys)
    cache.set_many(values, timeout)
    return found


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, each call through the breaker."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = GuardedClient

    def count_hits(self, keys: list[str], timeouts: list[int]) -> list[int]:
        """Add one to each counter in `keys` (cache keys, made with this cache's prefix and
        version), creating a missing one with its `timeouts` (seconds, in the order of `keys`):
        the counts, this hit included, in one round trip. Counters read back with `get`.
        Raises what the cache raises when Redis is away (`CacheUnavailable` and the like)."""
        made = [self.make_and_validate_key(key) for key in keys]
        return self._cache.count_hits(made, timeouts)

    def get_many_setting(
        self, keys: list[str], values: dict[str, object], timeout: int
    ) -> dict[str, object]:
        """`get_many(keys)` ({key: value} of the keys found), and `set` each of `values` for
        `timeout` seconds after the reads, in one round trip. Raises what the cache raises
        when Redis is away."""
        made = {self.make_and_validate_key(key): key for key in keys}
        setting = {self.make_and_validate_key(key): value for key, value in values.items()}
        found = self._cache.get_many_setting(list(made), setting, timeout)
        return {made[key]: value for key, value in found.items()}

    def clear(self) -> None:
        """Delete this cache's keys: those under its KEY_PREFIX, any version (Django's keys
        are `<prefix>:<version>:<key>`). Django's own clear() flushes the whole Redis
        database, and with it the broker's queue or another instance's cache that share it."""
        prefix = re.sub(r"([\\*?\[\]])", r"\\\1", self.key_prefix)
        self._cache.delete_matching(f"{prefix}:[0-9]*")
