"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's Redis cache client builds a new `redis.Redis` for every operation
(`RedisCacheClient.get_client`), and redis-py fills a table of some 170
response callbacks for each: the bearer-token authentication's one cache
read cost a fifth of the trivial API call's CPU in that constructor alone.
A client is thread-safe and holds no connection of its own (the pool does,
and checks for a fork), so one per pool serves every call; a backend is
already one per thread (django.core.cache.caches).
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, Any] = {}  # pool -> its redis.Redis

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own attributes, as its get_client uses them (the stubs
        # leave private names out).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(pool)
        if client is None:
            make = self._client  # type: ignore[attr-defined]  # redis.Redis
            client = self._clients[pool] = make(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """settings.CACHES's backend in production: Django's, with the client above."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
