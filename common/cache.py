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
    counts = client.script(COUNT_HITS)(keys=keys, args=timeouts, client=redis_client)
    return [int(n) for n in counts]


# Returns the values of the first ARGV[1] keys of KEYS, and sets each key after them to its
# value (ARGV[4], ARGV[5], …) for ARGV[2] seconds: when ARGV[3] is "1", only if the first key
# was found. One command, so one round trip, and cheaper for redis-py than a pipeline of the
# same commands (measured: a view making only this got 0.68 of the bare view's rate on the
# bench's machine, 0.55 with a pipeline).
GET_MANY_SETTING = """
local reads = tonumber(ARGV[1])
local found = redis.call('MGET', unpack(KEYS, 1, reads))
if ARGV[3] == '0' or found[1] then
  for i = reads + 1, #KEYS do
    redis.call('SET', KEYS[i], ARGV[i - reads + 3], 'EX', ARGV[2])
  end
end
return found
"""


def _get_many_setting(
    client: RedisCacheClient,
    keys: list[str],
    values: dict[str, object],
    timeout: int,
    if_first_found: bool,
) -> tuple[dict[str, object], bool]:
    """`RedisCache.get_many_setting` on made keys, in one round trip (a Lua script)."""
    redis_client = client.get_client(write=True)
    dumps, loads = client._serializer.dumps, client._serializer.loads
    found = client.script(GET_MANY_SETTING)(
        keys=[*keys, *values],
        args=[len(keys), timeout, int(if_first_found), *(dumps(v) for v in values.values())],
        client=redis_client,
    )
    written = not if_first_found or found[0] is not None
    return {k: loads(v) for k, v in zip(keys, found, strict=True) if v is not None}, written


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
        self._scripts: dict[str, redis.commands.core.Script] = {}

    def script(self, source: str) -> "redis.commands.core.Script":
        """The Lua `source`, registered once for this client (redis-py runs it by its SHA,
        loading it again on a server that lost it)."""
        found = self._scripts.get(source)
        if found is None:
            found = self._scripts[source] = self.get_client(write=True).register_script(source)
        return found

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
    cache: BaseCache,
    keys: list[str],
    values: dict[str, object],
    timeout: int,
    *,
    if_first_found: bool = False,
) -> tuple[dict[str, object], bool]:
    """`cache.get_many(keys)`, and `cache.set_many(values, timeout)` (seconds, more than 0)
    after the reads, only if the first of `keys` was found when `if_first_found`: in one
    round trip on a `RedisCache`, one after the other on any other cache (the suite's
    in-memory one). Returns ({key: value} of the keys found, whether `values` were written).
    A write Redis refuses (a full memory under `noeviction`, a read-only replica) leaves them
    unwritten and the keys read as `get_many` reads them; FAILURES (Redis away) propagate."""
    if not values:
        return cache.get_many(keys), False
    one_round_trip = getattr(cache, "get_many_setting", None)  # (`cache` may be Django's proxy)
    if one_round_trip is not None:
        try:
            return one_round_trip(keys, values, timeout, if_first_found=if_first_found)
        except FAILURES:
            raise
        except REFUSALS:
            return cache.get_many(keys), False
    found = cache.get_many(keys)
    if if_first_found and keys[0] not in found:
        return found, False
    cache.set_many(values, timeout)
    return found, True


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
        self,
        keys: list[str],
        values: dict[str, object],
        timeout: int,
        *,
        if_first_found: bool = False,
    ) -> tuple[dict[str, object], bool]:
        """`get_many(keys)` ({key: value} of the keys found), and `set` each of `values` for
        `timeout` seconds (more than 0) after the reads, only if the first of `keys` was
        found when `if_first_found`, in one round trip: (found, whether `values` were
        written). Raises what the cache raises when Redis is away or refuses the write."""
        made = {self.make_and_validate_key(key): key for key in keys}
        setting = {self.make_and_validate_key(key): value for key, value in values.items()}
        found, written = self._cache.get_many_setting(list(made), setting, timeout, if_first_found)
        return {made[key]: value for key, value in found.items()}, written

    def clear(self) -> None:
        """Delete this cache's keys: those under its KEY_PREFIX, any version (Django's keys
        are `<prefix>:<version>:<key>`). Django's own clear() flushes the whole Redis
        database, and with it the broker's queue or another instance's cache that share it."""
        prefix = re.sub(r"([\\*?\[\]])", r"\\\1", self.key_prefix)
        self._cache.delete_matching(f"{prefix}:[0-9]*")
