"""The Redis cache backend: Django's, with one client per connection pool and hit counters.

Django's backend builds a new `redis.Redis` client for every cache call, and building one fills
a table of about 80 response callbacks. A client only borrows connections from its pool for each
command and is safe to share between threads, so one per pool serves every call.
"""

from typing import Any

from django.core.cache import BaseCache, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients.setdefault(index, self._client(connection_pool=self._get_connection_pool(write)))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_hit(self, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
        """Add one to the counter `key` and return it with the counter `previous_key`, in one round trip."""
        key = self.make_and_validate_key(key)
        previous_key = self.make_and_validate_key(previous_key)
        with self._cache.get_client(key, write=True).pipeline(transaction=False) as pipeline:
            pipeline.incr(key)
            pipeline.expire(key, timeout)
            pipeline.get(previous_key)
            hits, _expiry_set, previous = pipeline.execute()
        return hits, int(previous or 0)


def count_hit(cache: BaseCache, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
    """Add one to the counter `key` and return it with the counter `previous_key`, on any cache backend."""
    if cache is default_cache:  # a proxy to this thread's instance of the default cache
        cache = caches["default"]
    if isinstance(cache, RedisCache):
        return cache.count_hit(key, previous_key, timeout)
    cache.add(key, 0, timeout)
    try:
        hits = cache.incr(key)
    except ValueError:  # the counter expired between the two calls
        cache.set(key, 1, timeout)
        hits = 1
    return hits, int(cache.get(previous_key) or 0)
